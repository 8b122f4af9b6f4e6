//! [`TlsError`].

use std::io;

/// What went wrong setting up TLS or during a TLS handshake.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rustls rejected the configuration or the handshake: for example the peer's
    /// certificate does not verify, or is not valid for the requested name
    /// (`rustls::Error::InvalidCertificate`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[error("TLS: {0}")]
    Rustls(rustls::Error),
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
    #[error("I/O during the TLS handshake: {0}")]
    Io(#[from] io::Error),
    /// TLS was asked for but the crate was built without the `tls` feature.
    #[error("TLS requested but the `tls` feature is disabled")]
    NotEnabled,
}

#[cfg(feature = "tls")]
impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> Self {
        Self::Rustls(e)
    }
}

impl TlsError {
    /// Turns a handshake's I/O error back into the rustls error it carries, if any
    /// (futures-rustls wraps rustls errors in `io::ErrorKind::InvalidData`).
    #[cfg(feature = "tls")]
    pub(crate) fn from_handshake(e: io::Error) -> Self {
        if let Some(tls) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Self::Rustls(tls.clone());
        }
        Self::Io(e)
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
