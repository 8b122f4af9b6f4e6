//! The sans-IO HTTP/1.1 client core.
//!
//! Pure functions and byte-state machines; the transport-driving layer is
//! [`rest`](crate::rest). Nothing here reads a clock or a socket.
//!
//! - [`request`]: request head encoding: methods, header validation (CR, LF and NUL are
//!   rejected, so a caller's value can never inject a header), percent-encoding for query
//!   strings, decimal lengths.
//! - [`response`]: response head parsing with `httparse` into caller-sized header slots,
//!   and the framing decision ([`response::Framing`]): no body, `Content-Length`,
//!   chunked or read-until-close (RFC 9112 §6.3).
//! - [`body`]: [`BodyDecoder`], the body decoder as an explicit byte-state machine with
//!   the body size limit enforced as bytes arrive.
//! - [`conn`]: the keep-alive decision: `Connection: close`, HTTP/1.0 without
//!   `keep-alive`, and close-delimited bodies retire the connection.
//! - [`error`]: [`ParseError`], everything a peer can get wrong.
//! - The request writer ([`RequestWriter`](crate::rest::RequestWriter), its
//!   [`RequestBuilder`](crate::rest::RequestBuilder) and the owned
//!   [`Request`](crate::rest::Request)) and the response reader
//!   ([`ResponseReader`](crate::rest::ResponseReader), [`Response`](crate::rest::Response),
//!   [`Progress`](crate::rest::Progress)) are defined here too, as byte-state machines over
//!   one reusable buffer each; their public path is [`rest`](crate::rest). The writer's
//!   errors are [`RequestError`], the reader's [`ParseError`].
//!
//! # Driving order
//!
//! For one response: call [`response::parse_head`] on the buffered bytes until it returns
//! a head (skipping 1xx heads, which [`response::Head::is_interim`] reports), build a
//! [`BodyDecoder`] from [`response::Head::framing`], then feed it the bytes after the head
//! and everything read afterwards with [`BodyDecoder::decode`], and
//! [`BodyDecoder::handle_eof`] at end of stream. [`conn::keep_alive`] says whether the
//! connection may carry another request.
//!
//! The response reader is this sequence over a growable buffer.

pub mod body;
pub mod conn;
pub mod error;
pub(crate) mod reader;
pub mod request;
pub mod response;
pub(crate) mod writer;

pub use body::{BodyDecoder, Step};
pub use error::ParseError;
pub use request::Method;
pub use response::{Framing, Head, Limits};
pub use writer::RequestError;
