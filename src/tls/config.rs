//! [`TlsConfig`] and its builder.

use std::fmt;
use std::sync::{Arc, OnceLock};

use futures_io::{AsyncRead, AsyncWrite};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::error::{Roots, Side};
use super::{MaybeTls, TlsError};

/// TLS settings shared by every connection: a client side, and optionally a server side.
///
/// `Clone` is cheap (two `Arc`s). Build it once at start-up and pass `&tls` to builders.
#[derive(Clone)]
pub struct TlsConfig {
    client: Arc<ClientConfig>,
    server: Option<Arc<ServerConfig>>,
    /// Which roots the client side trusts, for the error text of an unknown issuer.
    roots: Roots,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("alpn", &self.client.alpn_protocols)
            .field("server", &self.server.is_some())
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Built-in Mozilla roots (webpki-roots), TLS 1.2 and 1.3, no client certificate.
    ///
    /// Built once per process and shared afterwards.
    ///
    /// # Errors
    ///
    /// [`TlsError::Config`] if the crypto provider rejects the settings (it does not for
    /// ring or aws-lc-rs).
    pub fn new() -> Result<Self, TlsError> {
        static DEFAULT: OnceLock<TlsConfig> = OnceLock::new();
        if let Some(cfg) = DEFAULT.get() {
            return Ok(cfg.clone());
        }
        let cfg = Self::builder().build()?;
        Ok(DEFAULT.get_or_init(|| cfg).clone())
    }

    /// A builder for custom roots, ALPN, TLS 1.3 only, client certificates.
    pub fn builder() -> TlsConfigBuilder {
        TlsConfigBuilder {
            roots: RootCertStore::empty(),
            default_roots: true,
            alpn: Vec::new(),
            tls13_only: false,
            no_verify: false,
            client_auth: None,
        }
    }

    /// Wraps a caller-built rustls client config (custom verifier, ALPN, session cache…).
    pub fn from_client_config(cfg: Arc<ClientConfig>) -> Self {
        Self {
            client: cfg,
            server: None,
            roots: Roots::Custom,
        }
    }

    /// A server-side config from a PEM certificate chain (leaf first) and a PEM private
    /// key (PKCS#8, PKCS#1 or SEC1). The client side gets the defaults of [`TlsConfig::new`].
    ///
    /// # Errors
    ///
    /// [`TlsError::Pem`] when either input holds nothing usable; [`TlsError::Config`] when
    /// the key does not fit the certificate.
    pub fn server_from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        let chain = certs_from_pem(cert_chain_pem)?;
        let key = key_from_pem(key_pem)?;
        let server = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(VERSIONS_ALL)?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        Ok(Self::new()?.with_server_config(Arc::new(server)))
    }

    /// Wraps a caller-built rustls server config; the client side gets the defaults of
    /// [`TlsConfig::new`].
    ///
    /// # Errors
    ///
    /// As [`TlsConfig::new`].
    pub fn from_server_config(cfg: Arc<ServerConfig>) -> Result<Self, TlsError> {
        Ok(Self::new()?.with_server_config(cfg))
    }

    /// This config with `cfg` as its server side (one value for both directions).
    #[must_use]
    pub fn with_server_config(mut self, cfg: Arc<ServerConfig>) -> Self {
        self.server = Some(cfg);
        self
    }

    /// The rustls client config.
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.client
    }

    /// The rustls server config, if any.
    pub fn server_config(&self) -> Option<&Arc<ServerConfig>> {
        self.server.as_ref()
    }

    /// Runs the client handshake over `stream`. `server_name` is the host to verify (and
    /// send as SNI): a DNS name or an IP literal; IPv6 brackets are stripped.
    ///
    /// # Errors
    ///
    /// [`TlsError::InvalidServerName`] for a malformed name; [`TlsError::Handshake`] when
    /// the peer's certificate or handshake is rejected (its text says what to check); [`TlsError::Io`] when the transport
    /// fails or closes.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a cancelled handshake leaves `stream` unusable (it is dropped).
    pub async fn connect<S>(&self, server_name: &str, stream: S) -> Result<MaybeTls<S>, TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = crate::rt::strip_brackets(server_name);
        let name = ServerName::try_from(name)
            .map_err(|_| TlsError::InvalidServerName(server_name.to_owned()))?
            .to_owned();
        let tls = futures_rustls::TlsConnector::from(self.client.clone())
            .connect(name, stream)
            .await
            .map_err(|e| {
                TlsError::from_handshake(
                    e,
                    Side::Client {
                        host: server_name.into(),
                        roots: self.roots,
                        client_cert: self.client.client_auth_cert_resolver.has_certs(),
                    },
                )
            })?;
        Ok(MaybeTls::Client(Box::new(tls)))
    }

    /// Runs the server handshake over `stream`.
    ///
    /// # Errors
    ///
    /// [`TlsError::NoServerConfig`] when this config has no server side; otherwise as
    /// [`TlsConfig::connect`].
    pub async fn accept<S>(&self, stream: S) -> Result<MaybeTls<S>, TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let server = self.server.clone().ok_or(TlsError::NoServerConfig)?;
        let tls = futures_rustls::TlsAcceptor::from(server)
            .accept(stream)
            .await
            .map_err(|e| TlsError::from_handshake(e, Side::Server))?;
        Ok(MaybeTls::Server(Box::new(tls)))
    }
}

/// Builds a [`TlsConfig`]; see [`TlsConfig::builder`].
#[must_use]
pub struct TlsConfigBuilder {
    roots: RootCertStore,
    default_roots: bool,
    alpn: Vec<Vec<u8>>,
    tls13_only: bool,
    no_verify: bool,
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl fmt::Debug for TlsConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfigBuilder")
            .field("extra_roots", &self.roots.len())
            .field("default_roots", &self.default_roots)
            .field("alpn", &self.alpn)
            .field("tls13_only", &self.tls13_only)
            .field("no_verify", &self.no_verify)
            .field("client_auth", &self.client_auth.is_some())
            .finish()
    }
}

impl TlsConfigBuilder {
    /// Trusts every certificate in `pem` as a root (a private CA), in addition to the
    /// built-in roots unless [`no_default_roots`](Self::no_default_roots) is set.
    ///
    /// # Errors
    ///
    /// [`TlsError::Pem`] when `pem` holds no certificate or a malformed one;
    /// [`TlsError::Config`] when a certificate is not a usable trust anchor.
    pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, TlsError> {
        for cert in certs_from_pem(pem)? {
            self.roots.add(cert)?;
        }
        Ok(self)
    }

    /// Trusts one DER certificate as a root.
    ///
    /// # Errors
    ///
    /// [`TlsError::Config`] when it is not a usable trust anchor.
    pub fn add_root_der(
        mut self,
        der: impl Into<CertificateDer<'static>>,
    ) -> Result<Self, TlsError> {
        self.roots.add(der.into())?;
        Ok(self)
    }

    /// Leaves out the built-in Mozilla roots: only added roots are trusted.
    pub fn no_default_roots(mut self) -> Self {
        self.default_roots = false;
        self
    }

    /// ALPN protocols to offer, most preferred first (for example `b"http/1.1".to_vec()`).
    pub fn alpn(mut self, protocols: Vec<Vec<u8>>) -> Self {
        self.alpn = protocols;
        self
    }

    /// Refuses TLS 1.2: only TLS 1.3 is negotiated.
    pub fn tls13_only(mut self) -> Self {
        self.tls13_only = true;
        self
    }

    /// **Dangerous**: accepts any server certificate for any name. The handshake still
    /// checks that the server holds the key of the certificate it sent, but anyone on the
    /// path can present their own: the connection is encrypted, not authenticated. For tests
    /// against self-signed servers only; never in production.
    pub fn dangerous_no_verify(mut self) -> Self {
        self.no_verify = true;
        self
    }

    /// Presents a client certificate (mutual TLS): a PEM chain (leaf first) and its PEM
    /// private key.
    ///
    /// # Errors
    ///
    /// [`TlsError::Pem`] when either input holds nothing usable.
    pub fn client_auth_pem(
        mut self,
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, TlsError> {
        self.client_auth = Some((certs_from_pem(cert_chain_pem)?, key_from_pem(key_pem)?));
        Ok(self)
    }

    /// Builds the config.
    ///
    /// # Errors
    ///
    /// [`TlsError::NoRootCerts`] when default roots are off, no root was added and
    /// verification is on; [`TlsError::Config`] when rustls rejects the settings (for
    /// example a client key that does not fit its certificate).
    pub fn build(self) -> Result<TlsConfig, TlsError> {
        let provider = provider();
        let versions = if self.tls13_only {
            VERSIONS_13
        } else {
            VERSIONS_ALL
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)?;
        let mut roots_info = Roots::Custom;
        let builder = if self.no_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(super::verify::NoVerify::new(provider)))
        } else {
            let mut roots = self.roots;
            roots_info = if self.default_roots {
                Roots::BuiltIn { added: roots.len() }
            } else {
                Roots::Only { added: roots.len() }
            };
            if self.default_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            if roots.is_empty() {
                return Err(TlsError::NoRootCerts);
            }
            builder.with_root_certificates(roots)
        };
        let mut client = match self.client_auth {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
            None => builder.with_no_client_auth(),
        };
        client.alpn_protocols = self.alpn;
        let mut config = TlsConfig::from_client_config(Arc::new(client));
        config.roots = roots_info;
        Ok(config)
    }
}

static VERSIONS_ALL: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
static VERSIONS_13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// The crypto provider: the process default when the application installed one
/// (`CryptoProvider::install_default`, say for a FIPS build), otherwise the one this
/// crate's features pick: aws-lc-rs with the `aws-lc-rs` feature (post-quantum hybrid key
/// exchange included), else ring. Never installs a process default itself: that choice
/// belongs to the application, and a library that makes it breaks every other library
/// in the process that wants another one.
pub(super) fn provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return installed.clone();
    }
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(feature_provider()))
        .clone()
}

#[cfg(feature = "aws-lc-rs")]
fn feature_provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// ring's provider. rustls 0.23.48 deprecated `ring::default_provider` only because ring
/// has no post-quantum key exchange, and offers no other way to build a ring provider in
/// 0.23, so the one call is allowed here and nowhere else; the `aws-lc-rs` feature is the
/// way to post-quantum key exchange.
#[cfg(not(feature = "aws-lc-rs"))]
#[allow(deprecated)]
fn feature_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

pub(super) fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem("no CERTIFICATE section found".to_owned()));
    }
    Ok(certs)
}

pub(super) fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| TlsError::Pem(e.to_string()))
}
