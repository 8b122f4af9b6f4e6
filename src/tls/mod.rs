//! TLS through rustls and futures-rustls, over any futures-io transport.
//!
//! `TlsConfig` (feature `tls`) is built once and shared (`Clone` is an `Arc` clone) by every connection.
//! It carries a client side — built-in Mozilla roots (webpki-roots), a custom CA, or your
//! own `rustls::ClientConfig` — and optionally a server side for `accept`. The crypto
//! provider is always passed explicitly (ring, or aws-lc-rs with the `aws-lc-rs`
//! feature), never taken from the process default, so having both providers in the
//! dependency graph cannot panic.
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

pub use error::TlsError;
pub use stream::MaybeTls;

#[cfg(feature = "tls")]
pub use config::{TlsConfig, TlsConfigBuilder};

#[cfg(feature = "tls")]
mod config;

#[cfg(all(test, feature = "tls"))]
mod tests;
