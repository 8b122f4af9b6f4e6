//! [`WsError`]: everything a WebSocket operation can fail with.

use std::io;

use crate::proto::ws::handshake::HandshakeError;
use crate::proto::ws::{CloseCode, CloseFrame, EncodeError, ProtocolError};
use crate::tls::TlsError;

/// Errors returned by [`WsStream`](super::WsStream), its halves and
/// [`WsStreamBuilder`](super::WsStreamBuilder).
///
/// Whose fault it was is in the variant: the peer broke the protocol
/// ([`Protocol`](Self::Protocol), [`Handshake`](Self::Handshake)), the transport failed
/// ([`Io`](Self::Io), [`Tls`](Self::Tls), [`Timeout`](Self::Timeout)) or the caller asked for
/// something impossible ([`InvalidUrl`](Self::InvalidUrl), [`Closed`](Self::Closed)).
/// The `Display` text is not stable API; match on variants or use the `is_*` helpers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// The transport failed (including a peer that reset the connection).
    #[error("websocket I/O error: {0}")]
    Io(io::Error),
    /// The peer broke RFC 6455. The connection was closed with
    /// [`ProtocolError::close_code`] and the stream has ended.
    #[error("websocket protocol error: {0}")]
    Protocol(Box<ProtocolError>),
    /// The opening handshake failed.
    #[error("websocket handshake failed: {0}")]
    Handshake(Box<HandshakeError>),
    /// The TLS layer failed (bad certificate, bad server name, handshake failure).
    #[error("{0}")]
    Tls(Box<TlsError>),
    /// The proxy refused the tunnel or broke its handshake (a 407, a SOCKS5 refusal);
    /// its `status()` and `kind()` say which.
    #[error("{0}")]
    Proxy(Box<crate::connect::ProxyError>),
    /// The URL could not be used (`ws://` or `wss://` expected).
    #[error("invalid websocket URL: {0}")]
    InvalidUrl(Box<str>),
    /// `wss://` was requested but the crate was built without the `tls` feature.
    #[error("wss:// needs the `tls` feature")]
    TlsNotEnabled,
    /// A deadline passed: `connect_timeout` (DNS, TCP, TLS and upgrade together), the
    /// server-side handshake timeout, or a heartbeat pong/idle deadline.
    #[error("websocket {0} timed out")]
    Timeout(&'static str),
    /// The connection is closed (a Close frame was sent or the stream ended); nothing more
    /// can be sent on it.
    #[error("websocket connection is closed")]
    Closed,
    /// A send failed because the peer closed the connection, and this is the Close it
    /// sent first (`None`: a Close without a status code). The connection is over.
    #[error("{}", closed_by_peer(.0.as_deref()))]
    ClosedByPeer(Option<Box<CloseFrame>>),
    /// What the caller asked to send cannot be encoded: a control payload over 125 bytes,
    /// a close reason over 123 bytes, or a close code that may not be sent.
    #[error("cannot encode: {0}")]
    Encode(EncodeError),
}

pub(crate) fn closed_by_peer(frame: Option<&CloseFrame>) -> String {
    let Some(frame) = frame else {
        return "the peer closed the connection (Close without a status code)".to_owned();
    };
    let meaning = match frame.code {
        CloseCode::Normal => " (normal closure)",
        CloseCode::GoingAway => " (going away)",
        CloseCode::ProtocolError => " (protocol error)",
        CloseCode::Unsupported => " (unsupported data)",
        CloseCode::InvalidPayload => " (invalid payload)",
        CloseCode::PolicyViolation => " (policy violation)",
        CloseCode::MessageTooBig => " (message too big)",
        CloseCode::MandatoryExtension => " (extension required)",
        CloseCode::InternalError => " (internal error)",
        CloseCode::ServiceRestart => " (service restart)",
        CloseCode::TryAgainLater => " (try again later)",
        CloseCode::BadGateway => " (bad gateway)",
        CloseCode::Other(_) => "",
    };
    let mut text = format!(
        "the peer closed the connection with {}{meaning}",
        frame.code
    );
    if !frame.reason().is_empty() {
        text.push_str(": ");
        text.push_str(frame.reason());
    }
    text
}

impl WsError {
    /// True when the peer violated the protocol (the connection was closed with 1002,
    /// 1007 or 1009).
    pub fn is_protocol(&self) -> bool {
        matches!(self, Self::Protocol(_))
    }

    /// True for transport failures (I/O, TLS, timeouts): reconnecting may help.
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Io(_) | Self::Tls(_) | Self::Timeout(_))
    }

    /// True when the operation failed because the connection is already closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed | Self::ClosedByPeer(_))
    }
}

impl From<ProtocolError> for WsError {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(Box::new(e))
    }
}

impl From<EncodeError> for WsError {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::AfterClose => Self::Closed,
            other => Self::Encode(other),
        }
    }
}

impl From<HandshakeError> for WsError {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(Box::new(e))
    }
}

impl From<TlsError> for WsError {
    fn from(e: TlsError) -> Self {
        Self::Tls(Box::new(e))
    }
}

/// A TLS error travelling inside an I/O error (an alert the peer sent after the
/// handshake, say) becomes [`WsError::Tls`]; every other I/O error stays [`WsError::Io`].
impl From<io::Error> for WsError {
    fn from(e: io::Error) -> Self {
        match TlsError::from_session_io(e) {
            Ok(tls) => tls.into(),
            Err(e) => Self::Io(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_error_is_small_and_thread_safe() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<WsError>();
        assert!(std::mem::size_of::<WsError>() <= 24);
    }
}
