//! [`TlsError`], and the sentences that explain a failed handshake.

use std::io;

/// What went wrong setting up TLS or during a TLS session.
///
/// Whose fault it was: the caller's configuration ([`Config`](Self::Config),
/// [`InvalidServerName`](Self::InvalidServerName), [`Pem`](Self::Pem),
/// [`NoRootCerts`](Self::NoRootCerts), [`NoServerConfig`](Self::NoServerConfig)), the
/// peer or the path to it ([`Handshake`](Self::Handshake), [`Io`](Self::Io)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls rejected the configuration (caller's fault): a root that is not a usable
    /// trust anchor, a key that does not fit its certificate.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[error("invalid TLS configuration: {0}")]
    Config(rustls::Error),
    /// The handshake, or the session after it, failed: the peer's certificate did not
    /// verify, the peer refused ours or sent an alert, or it does not speak TLS. The
    /// `Display` text says what failed and what to check.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[error("{0}")]
    Handshake(Box<HandshakeFailure>),
    /// The host name is not a valid DNS name or IP address (caller's fault).
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    /// A PEM input held no usable certificate or key (caller's fault).
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// Default roots were turned off and no root was added, so no certificate could ever
    /// verify (caller's fault).
    #[error("no root certificates configured")]
    NoRootCerts,
    /// `accept` was called on a config without a server side (caller's fault).
    #[error("this TlsConfig has no server configuration")]
    NoServerConfig,
    /// The transport failed, or closed, during the handshake.
    #[error("{}", io_text(.0))]
    Io(#[from] io::Error),
    /// TLS was asked for but the crate was built without the `tls` feature.
    #[error("TLS requested but the `tls` feature is disabled")]
    NotEnabled,
}

fn io_text(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "the peer closed the connection during the TLS handshake (does it speak TLS on \
         this port?)"
            .to_owned()
    } else {
        format!("I/O error during the TLS handshake: {e}")
    }
}

impl From<TlsError> for io::Error {
    fn from(e: TlsError) -> Self {
        match e {
            TlsError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

impl TlsError {
    /// The TLS error an I/O error of a TLS session carries, if it carries one (rustls
    /// errors travel inside `io::ErrorKind::InvalidData`); the I/O error otherwise.
    ///
    /// This is how an alert the server sends after the handshake (TLS 1.3 servers check
    /// a client certificate only then) becomes a TLS error at the first read or write.
    pub(crate) fn from_session_io(e: io::Error) -> Result<Self, io::Error> {
        if e.get_ref().is_some_and(|inner| inner.is::<TlsError>()) {
            let inner = e.into_inner().and_then(|b| b.downcast::<TlsError>().ok());
            return inner
                .map(|b| *b)
                .ok_or_else(|| io::ErrorKind::InvalidData.into());
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Ok(HandshakeFailure::new(tls.clone(), Side::Session).into());
        }
        Err(e)
    }
}

#[cfg(feature = "tls")]
pub use handshake::HandshakeFailure;
#[cfg(feature = "tls")]
pub(crate) use handshake::{Roots, Side};

#[cfg(feature = "tls")]
mod handshake {
    use super::{TlsError, io};
    use rustls::{AlertDescription, CertificateError};
    use std::fmt;

    /// Which roots a client trusted, for the "unknown issuer" sentence.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Roots {
        /// The built-in Mozilla roots, plus `added` roots of the caller.
        BuiltIn { added: usize },
        /// Only the caller's `added` roots (`no_default_roots`).
        Only { added: usize },
        /// A caller-built rustls config: its roots are unknown to us.
        Custom,
    }

    impl fmt::Display for Roots {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match *self {
                Self::BuiltIn { added: 0 } => write!(
                    f,
                    "the {} built-in Mozilla roots",
                    webpki_roots::TLS_SERVER_ROOTS.len()
                ),
                Self::BuiltIn { added } => write!(
                    f,
                    "the {} built-in Mozilla roots and {added} added with add_root_pem/add_root_der",
                    webpki_roots::TLS_SERVER_ROOTS.len()
                ),
                Self::Only { added } => write!(
                    f,
                    "only the {added} root(s) added with add_root_pem/add_root_der; the built-in roots are off"
                ),
                Self::Custom => write!(f, "the roots of the caller's own rustls ClientConfig"),
            }
        }
    }

    /// Where a TLS failure happened.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Side {
        /// Our client handshake with `host`, trusting `roots`, with or without a client
        /// certificate of our own.
        Client {
            host: Box<str>,
            roots: Roots,
            client_cert: bool,
        },
        /// Our server handshake with a client.
        Server,
        /// After the handshake (an alert read or written later).
        Session,
    }

    /// A failed TLS handshake or session: the rustls error and where it happened. Its
    /// `Display` says what failed and what to check.
    #[derive(Debug, Clone)]
    pub struct HandshakeFailure {
        error: rustls::Error,
        side: Side,
    }

    impl HandshakeFailure {
        pub(crate) fn new(error: rustls::Error, side: Side) -> Self {
            Self { error, side }
        }

        /// The rustls error underneath (match on it for the details).
        pub fn rustls_error(&self) -> &rustls::Error {
            &self.error
        }

        /// The host the client asked for, when this was a client handshake.
        pub fn host(&self) -> Option<&str> {
            match &self.side {
                Side::Client { host, .. } => Some(host),
                _ => None,
            }
        }

        /// True when the peer's certificate was rejected (by us).
        pub fn is_certificate(&self) -> bool {
            matches!(self.error, rustls::Error::InvalidCertificate(_))
        }
    }

    impl From<HandshakeFailure> for TlsError {
        fn from(f: HandshakeFailure) -> Self {
            Self::Handshake(Box::new(f))
        }
    }

    impl std::error::Error for HandshakeFailure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.error)
        }
    }

    impl fmt::Display for HandshakeFailure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match &self.side {
                Side::Client { host, .. } => write!(f, "TLS handshake with {host} failed: ")?,
                Side::Server => write!(f, "TLS handshake with a client failed: ")?,
                Side::Session => write!(f, "TLS session failed: ")?,
            }
            explain(&self.error, &self.side, f)
        }
    }

    /// The sentence for `error`: what failed, and what to check.
    fn explain(error: &rustls::Error, side: &Side, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rustls::Error as E;
        let peer = if matches!(side, Side::Server) {
            "client"
        } else {
            "server"
        };
        match error {
            E::InvalidCertificate(cert) => explain_certificate(cert, side, peer, f),
            E::InvalidMessage(_) | E::InappropriateMessage { .. }
                if !matches!(side, Side::Session) =>
            {
                write!(
                    f,
                    "the {peer} did not answer in TLS (what it sent is not a TLS record): it \
                 probably speaks plain HTTP or WebSocket on this port; use ws:// or \
                 http://, or check the port"
                )
            }
            E::AlertReceived(alert) => explain_alert(*alert, side, peer, f),
            E::NoCertificatesPresented => {
                write!(f, "the {peer} sent no certificate, and one is required")
            }
            E::PeerIncompatible(why) => write!(
                f,
                "the {peer}'s TLS is incompatible with ours ({why:?}): it may only offer \
                 versions or cipher suites this client refuses (TLS 1.2 and 1.3 with \
                 modern suites are supported)"
            ),
            other => write!(f, "{other}"),
        }
    }

    fn explain_certificate(
        cert: &CertificateError,
        side: &Side,
        peer: &str,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        use CertificateError as C;
        match cert {
            C::UnknownIssuer => {
                write!(
                    f,
                    "the {peer}'s certificate is not signed by a trusted root"
                )?;
                if let Side::Client { roots, .. } = side {
                    write!(f, " (trusted: {roots})")?;
                }
                write!(
                    f,
                    "; for a private CA, trust it with TlsConfigBuilder::add_root_pem; a \
                     public server may be leaving out its intermediate certificates"
                )
            }
            C::NotValidForNameContext {
                expected,
                presented,
            } => {
                let expected = expected.to_str();
                write!(
                    f,
                    "the {peer}'s certificate is not valid for {expected}: it "
                )?;
                if presented.is_empty() {
                    write!(
                        f,
                        "names no host (it has no subjectAltName; a CN alone is not enough)"
                    )?;
                } else {
                    let names: Vec<&str> = presented.iter().map(|n| bare_name(n)).collect();
                    write!(f, "is for {}", names.join(", "))?;
                }
                write!(
                    f,
                    "; connect with a name it holds, or fix its subjectAltName"
                )
            }
            C::NotValidForName => {
                write!(f, "the {peer}'s certificate is not valid for ")?;
                match side {
                    Side::Client { host, .. } => write!(f, "{host}")?,
                    _ => write!(f, "the name asked for")?,
                }
                write!(
                    f,
                    "; connect with a name it holds, or fix its subjectAltName"
                )
            }
            C::Expired | C::ExpiredContext { .. } => write!(
                f,
                "the {peer}'s certificate has expired (or this machine's clock is wrong)"
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => write!(
                f,
                "the {peer}'s certificate is not valid yet (check this machine's clock)"
            ),
            C::Revoked => write!(f, "the {peer}'s certificate has been revoked"),
            C::BadSignature => write!(
                f,
                "the {peer}'s certificate names a trusted issuer but its signature does not \
                 verify with that issuer's key (a different CA with the same name?)"
            ),
            C::Other(other) if is_ca_used_as_end_entity(other) => write!(
                f,
                "the {peer} presented a CA certificate (basicConstraints CA:TRUE) as its \
                 own, which is not allowed; a plain `openssl req -x509` makes such a \
                 certificate. Make a leaf certificate instead (CA:FALSE, with a \
                 subjectAltName; see the `tls` module docs) and trust it, or the CA that \
                 signed it, with TlsConfigBuilder::add_root_pem"
            ),
            other => write!(f, "the {peer}'s certificate was rejected: {other}"),
        }
    }

    /// `localhost` out of rustls' `DnsName("localhost")` (its names are `Debug` texts).
    fn bare_name(name: &str) -> &str {
        name.strip_prefix("DnsName(\"")
            .and_then(|n| n.strip_suffix("\")"))
            .unwrap_or(name)
    }

    fn is_ca_used_as_end_entity(other: &rustls::OtherError) -> bool {
        other
            .0
            .downcast_ref::<webpki::Error>()
            .is_some_and(|e| matches!(e, webpki::Error::CaUsedAsEndEntity))
    }

    fn explain_alert(
        alert: AlertDescription,
        side: &Side,
        peer: &str,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        use AlertDescription as A;
        let sent_cert = matches!(
            side,
            Side::Client {
                client_cert: true,
                ..
            }
        );
        match alert {
            A::CertificateRequired => write!(
                f,
                "the {peer} requires a client certificate and none was sent (alert \
                 certificate_required); configure one with TlsConfigBuilder::client_auth_pem"
            ),
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateUnknown
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::UnknownCA
            | A::AccessDenied => {
                write!(f, "the {peer} refused ")?;
                if sent_cert || matches!(side, Side::Session) {
                    write!(f, "our client certificate (alert {alert:?})")?;
                } else {
                    write!(f, "the connection (alert {alert:?})")?;
                }
                write!(
                    f,
                    "; check the certificate given to TlsConfigBuilder::client_auth_pem \
                     and that the {peer} trusts its issuer"
                )
            }
            A::HandshakeFailure | A::ProtocolVersion | A::InsufficientSecurity => {
                write!(
                    f,
                    "the {peer} refused the handshake (alert {alert:?}): no TLS version or \
                     cipher suite in common"
                )?;
                if !sent_cert && matches!(side, Side::Client { .. }) {
                    write!(
                        f,
                        ", or it wants a client certificate (TlsConfigBuilder::client_auth_pem)"
                    )?;
                }
                Ok(())
            }
            other => write!(f, "the {peer} sent TLS alert {other:?}"),
        }
    }

    impl TlsError {
        /// The error of a failed handshake on `side`: a rustls error inside the I/O
        /// error (futures-rustls wraps them in `io::ErrorKind::InvalidData`) becomes
        /// [`TlsError::Handshake`]; anything else stays [`TlsError::Io`].
        pub(crate) fn from_handshake(e: io::Error, side: Side) -> Self {
            if let Some(tls) = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                return HandshakeFailure::new(tls.clone(), side).into();
            }
            Self::Io(e)
        }
    }

    impl From<rustls::Error> for TlsError {
        fn from(e: rustls::Error) -> Self {
            Self::Config(e)
        }
    }
}
