//! TLS through rustls and futures-rustls, over any futures-io transport.
//!
//! `TlsConfig` (feature `tls`) is built once and shared (`Clone` is an `Arc` clone) by every connection.
//! It carries a client side — built-in Mozilla roots (webpki-roots), a custom CA, or your
//! own `rustls::ClientConfig` — and optionally a server side for `accept`. The crypto
//! provider is the process default when the application installed one, otherwise ring
//! (or aws-lc-rs with the `aws-lc-rs` feature), passed explicitly: this crate never
//! installs a process default, so having both providers in the dependency graph cannot
//! panic.
//!
//! # A test certificate that works
//!
//! A plain `openssl req -x509` makes a CA certificate (CA:TRUE) without a
//! subjectAltName; rustls refuses it as a server's own certificate (the error says so).
//! Make a self-signed leaf instead and trust it with
//! [`TlsConfigBuilder::add_root_pem`]:
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
//!   -keyout key.pem -out cert.pem -subj /CN=localhost \
//!   -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
//!   -addext basicConstraints=critical,CA:FALSE
//! ```
//!
//! The server loads `cert.pem` and `key.pem` with `TlsConfig::server_from_pem`; the
//! client trusts `cert.pem` with `TlsConfig::builder().add_root_pem(...)`.
//!
//! # Errors that say what to check
//!
//! A failed handshake is [`TlsError::Handshake`], whose text names the host and the
//! cause: an unknown issuer lists the roots that were trusted, a name mismatch lists the
//! names in the certificate, a server that answers in plain text is called out as not
//! speaking TLS, and an alert such as `certificate_required` (sent by TLS 1.3 servers
//! after the handshake, so it surfaces at the first read) names the builder option.
//!
//! [`MaybeTls`] is the resulting stream. It and [`TlsError`] exist without the `tls`
//! feature too (plain only), so code that names them builds either way.
//!
//! # Examples
//!
//! ```
//! # #[cfg(feature = "tls")] {
//! use nexus_async_net::tls::TlsConfig;
//!
//! let tls = TlsConfig::new()?; // built-in roots, TLS 1.2 and 1.3
//! let shared = tls.clone();    // cheap: every connection shares one rustls config
//! # let _ = shared;
//! # }
//! # Ok::<(), nexus_async_net::tls::TlsError>(())
//! ```

mod error;
mod stream;
#[cfg(feature = "tls")]
mod verify;

#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use error::HandshakeFailure;
pub use error::TlsError;
pub use stream::MaybeTls;

#[cfg(feature = "tls")]
pub use config::{TlsConfig, TlsConfigBuilder};

#[cfg(feature = "tls")]
mod config;

#[cfg(all(test, feature = "tls"))]
mod tests;
