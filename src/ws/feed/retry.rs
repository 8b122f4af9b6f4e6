//! Which failed attempts a [`Feed`](super::Feed) repeats.

use std::time::Duration;

use crate::proto::ws::handshake::HandshakeError;
use crate::ws::WsError;

/// Whether a failed attempt is worth repeating, and the server's `Retry-After`.
pub(super) enum Retry {
    Never,
    After(Option<Duration>),
}

pub(super) fn classify(error: &WsError) -> Retry {
    match error {
        WsError::Handshake(h) => match **h {
            HandshakeError::UnexpectedStatus {
                status,
                retry_after,
            } => {
                let after = retry_after.map(|s| Duration::from_secs(u64::from(s)));
                if status == 429 || !(400..500).contains(&status) {
                    Retry::After(after)
                } else {
                    Retry::Never
                }
            }
            HandshakeError::InvalidHeader(_)
            | HandshakeError::ReservedHeader(_)
            | HandshakeError::InvalidPath
            | HandshakeError::InvalidSubprotocol => Retry::Never,
            _ => Retry::After(None),
        },
        #[cfg(feature = "tls")]
        WsError::Tls(t) => match &**t {
            crate::tls::TlsError::Handshake(f) if !f.is_certificate() => Retry::After(None),
            _ => Retry::Never,
        },
        WsError::Proxy(p) => match p.kind() {
            crate::connect::ProxyErrorKind::HttpStatus { status: 407, .. }
            | crate::connect::ProxyErrorKind::SocksAuthRejected(_)
            | crate::connect::ProxyErrorKind::SocksCredentialsRequired
            | crate::connect::ProxyErrorKind::InvalidUrl(_) => Retry::Never,
            _ => Retry::After(None),
        },
        WsError::InvalidUrl(_) | WsError::TlsNotEnabled | WsError::Encode(_) => Retry::Never,
        _ => Retry::After(None),
    }
}
