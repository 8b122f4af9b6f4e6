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
//!
//! `docs/http.md` describes the design: the allocation-free request path, poisoning,
//! keep-alive rules, limits and defaults.
//!
//! # Examples
//!
//! ```no_run
//! use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader, RestError};
//! use std::time::Duration;
//!
//! async fn ticker() -> Result<Vec<u8>, RestError> {
//!     let mut conn = HttpConnectionBuilder::new()
//!         .disable_nagle()
//!         .connect_timeout(Duration::from_secs(3))
//!         .read_timeout(Duration::from_secs(5))
//!         .connect("http://127.0.0.1:8080")
//!         .await?;
//!     let mut writer = RequestWriter::for_url("http://127.0.0.1:8080/api/v3")?;
//!     let mut reader = ResponseReader::default();
//!     let req = writer.get("/ticker").query("symbol", "BTCUSDT").finish()?;
//!     let resp = conn.send(req, &mut reader).await?;
//!     Ok(resp.body().to_vec())
//! }
//! ```
//!
//! `examples/rest_client.rs` runs the same against a server it starts itself.

mod connection;
mod error;
mod request;
mod response;

pub use crate::proto::http::{Limits, Method, ParseError};
pub use connection::{ClientConnection, HttpConnection, HttpConnectionBuilder};
pub use error::RestError;
pub use request::{DEFAULT_WRITE_BUFFER_CAPACITY, Request, RequestBuilder, RequestWriter};
pub use response::{
    DEFAULT_RESPONSE_BUFFER_CAPACITY, Progress, Response, ResponseReader, RestResponse,
};
