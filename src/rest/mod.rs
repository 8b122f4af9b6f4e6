//! Async REST over HTTP/1.1: a keep-alive client connection that allocates nothing per
//! request once warm, on any runtime.
//!
//! - [`RequestWriter`] builds requests (host, default headers, base path; `get`, `post`,
//!   `put`, `delete`, `patch`, `head`; percent-encoded queries; header injection refused).
//!   A finished [`Request`] owns its bytes and does not borrow the writer; its buffer
//!   returns to the writer when it is dropped.
//! - [`ResponseReader`] holds one response at a time (sans-IO, growable up to its
//!   limits); [`Response`] borrows it: status, reason, headers, body.
//! - [`HttpConnection`] sends a request and reads the response over any
//!   `futures_io::AsyncRead + AsyncWrite + Unpin` transport, keeps the connection alive,
//!   retires it when the server says so, and poisons it when a request fails or is
//!   cancelled midway. [`HttpConnectionBuilder`] connects by URL over TCP or TLS.
//! - [`ClientPool`] (one thread) and [`AtomicClientPool`] (any number) keep `connections`
//!   keep-alive [`ClientSlot`]s and lend them as [`PooledSlot`] / [`AtomicPooledSlot`];
//!   dead connections heal in the background with [`Backoff`]. Built with
//!   [`ClientPoolBuilder`] / [`AtomicClientPoolBuilder`]; `docs/client-pool.md` and
//!   `docs/reconnect.md` describe them.
//!
//! `docs/http.md` describes the design: the allocation-free request path, poisoning,
//! keep-alive rules, limits and defaults.
//!
//! # Examples
//!
//! ```
//! use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader, RestError};
//! use std::io::{Read, Write};
//! use std::time::Duration;
//!
//! async fn ticker(base: &str) -> Result<String, RestError> {
//!     let mut conn = HttpConnectionBuilder::new()
//!         .disable_nagle()
//!         .connect_timeout(Duration::from_secs(3))
//!         .read_timeout(Duration::from_secs(5))
//!         .connect(base)
//!         .await?;
//!     let mut writer = RequestWriter::for_url(&format!("{base}/api/v3"))?;
//!     let mut reader = ResponseReader::default();
//!     let req = writer.get("/ticker").query("symbol", "BTCUSDT").finish()?;
//!     let resp = conn.send(req, &mut reader).await?;
//!     Ok(format!("{} {}", resp.status(), resp.body_str().unwrap_or("")))
//! }
//!
//! // A one-shot server on loopback, so the example runs offline.
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let base = format!("http://{}", listener.local_addr()?);
//! std::thread::spawn(move || {
//!     let (mut sock, _) = listener.accept()?;
//!     let mut buf = [0u8; 1024];
//!     let _ = sock.read(&mut buf)?;
//!     sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
//! });
//! let got = futures::executor::block_on(ticker(&base))?;
//! assert_eq!(got, "200 {}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/rest_client.rs` runs the same against a server it starts itself.

mod connection;
mod error;
mod pool;
mod request;

pub use crate::proto::http::{Limits, Method, ParseError};
pub use connection::{ClientConnection, HttpConnection, HttpConnectionBuilder};
pub use error::RestError;
pub use pool::{
    AtomicClientPool, AtomicClientPoolBuilder, AtomicPooledSlot, Backoff, ClientPool,
    ClientPoolBuilder, ClientSlot, DEFAULT_ACQUIRE_TIMEOUT, HealingMode, PoolStats, PooledSlot,
};
// The sans-IO request writer and response reader live in `proto::http`; this is their one
// public path.
pub use crate::proto::http::reader::{
    DEFAULT_RESPONSE_BUFFER_CAPACITY, Progress, Response, ResponseReader, RestResponse,
};
pub use crate::proto::http::writer::{
    DEFAULT_WRITE_BUFFER_CAPACITY, Request, RequestBuilder, RequestWriter,
};
