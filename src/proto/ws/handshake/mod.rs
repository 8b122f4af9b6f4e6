//! The opening handshake (RFC 6455 §4): an HTTP/1.1 Upgrade, without I/O.
//!
//! Client side: [`ClientHandshake::new`] writes the request and keeps the key;
//! [`ClientHandshake::parse_response`] checks the server's answer. Server side:
//! [`parse_request`] checks the client's request; [`accept_response`] writes the
//! `101 Switching Protocols`, [`reject_response`] a 400, 426 or 431.
//!
//! Parsers follow httparse: they take the bytes received so far, return `Ok(None)` when
//! the head is incomplete, and take their size limit from the caller. On success they
//! return the head's length: bytes after it already belong to the WebSocket stream (a
//! server may send frames right behind its 101) and go to
//! [`Decoder::handle_input`](super::Decoder::handle_input).
//!
//! No extension is negotiated: a response that selects one is refused.
//!
//! # Examples
//!
//! ```
//! use nexus_async_net::proto::ws::handshake::{ClientHandshake, accept_response, parse_request};
//!
//! let mut request = Vec::new();
//! let client = ClientHandshake::new("example.com", "/feed", &[], &["v1.json"], &mut request)?;
//!
//! let (req, _) = parse_request(&request, 8192, 32)?.expect("complete head");
//! assert_eq!(req.path(), "/feed");
//! let mut response = Vec::new();
//! accept_response(&req, Some("v1.json"), &[], &mut response)?;
//! response.extend_from_slice(&[0x81, 0x02, b'h', b'i']); // a frame right behind the 101
//!
//! let (resp, head_len) = client.parse_response(&response, 8192)?.expect("complete head");
//! assert_eq!(resp.subprotocol(), Some("v1.json"));
//! assert_eq!(&response[head_len..], &[0x81, 0x02, b'h', b'i']);
//! # Ok::<(), nexus_async_net::proto::ws::handshake::HandshakeError>(())
//! ```

mod client;
mod server;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

pub use client::{ClientHandshake, ClientResponse};
pub use server::{ServerRequest, accept_response, parse_request, reject_response};

/// The GUID appended to the key before hashing (RFC 6455 §1.3).
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Headers the handshake writes itself; callers may not pass them as extra headers.
/// Headers the handshake writes itself, each with where its value comes from (for the
/// error text when a caller tries to add one).
const RESERVED_HEADERS: &[(&str, &str)] = &[
    ("Host", "it comes from the URL"),
    ("Upgrade", "the handshake writes it"),
    ("Connection", "the handshake writes it"),
    ("Sec-WebSocket-Key", "the handshake generates it"),
    ("Sec-WebSocket-Version", "the handshake writes it (13)"),
    ("Sec-WebSocket-Accept", "the server computes it"),
    (
        "Sec-WebSocket-Protocol",
        "offer subprotocols with WsStreamBuilder::subprotocol",
    ),
    (
        "Sec-WebSocket-Extensions",
        "extensions are negotiated by the library, not by hand (none is offered yet)",
    ),
    ("Content-Length", "an upgrade request has no body"),
    ("Transfer-Encoding", "an upgrade request has no body"),
];

/// Header slots for parsing a response head.
const MAX_RESPONSE_HEADERS: usize = 64;

/// Why an opening handshake failed.
///
/// The variants up to [`UnexpectedExtension`](Self::UnexpectedExtension) are the peer's
/// fault; the rest reject what the caller passed in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head is longer than the configured maximum (HTTP 431).
    #[error("handshake head larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The head has more header lines than allowed (HTTP 431).
    #[error("too many header lines in handshake")]
    TooManyHeaders,
    /// The head is not valid HTTP/1.1.
    #[error("malformed HTTP head: {0}")]
    Malformed(&'static str),
    /// The request method is not GET.
    #[error("handshake method is not GET")]
    MethodNotGet,
    /// The head is not HTTP/1.1 (or later).
    #[error("handshake is not HTTP/1.1")]
    UnsupportedHttpVersion,
    /// The request has no Host header.
    #[error("missing Host header")]
    MissingHost,
    /// `Upgrade: websocket` is missing.
    #[error("missing `Upgrade: websocket`")]
    MissingUpgrade,
    /// `Connection: Upgrade` is missing.
    #[error("missing `Connection: Upgrade`")]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` is missing or not 13 (HTTP 426).
    #[error("unsupported Sec-WebSocket-Version (13 required)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is missing or not 16 bytes in base64.
    #[error("missing or invalid Sec-WebSocket-Key")]
    InvalidKey,
    /// The server answered with a status other than 101 (a redirect, 429, 503, an error
    /// page), with its `Retry-After` in seconds when it sent one.
    #[error("server answered {status} instead of 101{}", .retry_after.map(|s| format!(" (Retry-After: {s} s)")).unwrap_or_default())]
    UnexpectedStatus {
        /// The status code.
        status: u16,
        /// `Retry-After` as delta-seconds, if the server sent one.
        retry_after: Option<u32>,
    },
    /// `Sec-WebSocket-Accept` is missing or does not match the key.
    #[error("Sec-WebSocket-Accept does not match the key")]
    AcceptMismatch,
    /// The server selected a subprotocol the client did not offer, or several.
    #[error("server selected a subprotocol that was not offered")]
    UnexpectedSubprotocol,
    /// The server selected an extension, and none was offered.
    #[error("server selected an extension that was not offered")]
    UnexpectedExtension,
    /// A header name or value passed by the caller is not allowed: CR, LF or NUL in a
    /// value, or a name that is not an HTTP token.
    #[error("invalid header {0:?} passed to the handshake")]
    InvalidHeader(&'static str),
    /// The caller added a header the handshake sets itself (with
    /// `WsStreamBuilder::header`, say). Nothing was sent.
    /// Holds the header as the handshake spells it, and where its value comes from
    /// instead (the builder option, if there is one).
    #[error("the header {} cannot be set by hand: {}", .0.0, .0.1)]
    ReservedHeader(&'static (&'static str, &'static str)),
    /// The request path is empty, relative, or contains whitespace or control bytes.
    #[error("invalid request path")]
    InvalidPath,
    /// A subprotocol name passed by the caller is not an HTTP token, or
    /// [`accept_response`] was asked for one the client did not offer.
    #[error("invalid subprotocol")]
    InvalidSubprotocol,
    /// The operating system's random source failed while generating the key.
    #[error("operating system random source failed")]
    Random,
}

impl HandshakeError {
    /// The HTTP status a server should reject the request with: 431 for an oversized head,
    /// 426 for an unsupported WebSocket version, 400 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::TooManyHeaders => 431,
            Self::UnsupportedVersion => 426,
            _ => 400,
        }
    }
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2):
/// base64 of the SHA-1 of the key followed by the protocol GUID.
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::ws::handshake::accept_key;
///
/// // The example from RFC 6455 §1.3.
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// The `Host` header value for `host` and `port`: IPv6 literals are bracketed, and the
/// port is left out when it is the scheme's default (80, or 443 with TLS).
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::ws::handshake::host_header;
///
/// assert_eq!(host_header("::1", 9001, false), "[::1]:9001");
/// assert_eq!(host_header("[::1]", 443, true), "[::1]");
/// assert_eq!(host_header("example.com", 80, false), "example.com");
/// assert_eq!(host_header("example.com", 80, true), "example.com:80");
/// ```
pub fn host_header(host: &str, port: u16, tls: bool) -> String {
    let bracketed = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let default_port = if tls { 443 } else { 80 };
    if port == default_port {
        bracketed
    } else {
        format!("{bracketed}:{port}")
    }
}

/// RFC 9110 `tchar`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a header value is safe to write: no CR, LF or NUL (header injection).
fn is_safe_value(s: &str) -> bool {
    !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Checks caller-supplied extra headers and appends them as `Name: value\r\n`.
fn write_extra_headers(out: &mut Vec<u8>, headers: &[(&str, &str)]) -> Result<(), HandshakeError> {
    for (name, value) in headers {
        if !is_token(name) {
            return Err(HandshakeError::InvalidHeader("name is not a token"));
        }
        if !is_safe_value(value) {
            return Err(HandshakeError::InvalidHeader(
                "value contains CR, LF or NUL",
            ));
        }
        if let Some(reserved) = RESERVED_HEADERS
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(name))
        {
            return Err(HandshakeError::ReservedHeader(reserved));
        }
    }
    for (name, value) in headers {
        write_header(out, name, value);
    }
    Ok(())
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Whether any `name` header's comma-separated list contains `token` (case-insensitive).
fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    header_values(headers, name).any(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

fn header_values<'h, 'b>(
    headers: &'h [httparse::Header<'b>],
    name: &'h str,
) -> impl Iterator<Item = &'b [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

fn first_value<'b>(headers: &[httparse::Header<'b>], name: &str) -> Option<&'b [u8]> {
    header_values(headers, name).next()
}

/// Copies parsed headers out of the receive buffer.
fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.to_owned(), h.value.to_vec()))
        .collect()
}

/// Case-insensitive lookup in owned headers.
fn lookup<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// The part of `buf` a head of at most `max_size` bytes can occupy; parsing only this
/// bounds the work spent on a peer that never ends its head.
fn bounded(buf: &[u8], max_size: usize) -> &[u8] {
    buf.get(..max_size).unwrap_or(buf)
}

/// Maps an httparse result over [`bounded`] input onto ours.
fn check_parse(
    result: Result<httparse::Status<usize>, httparse::Error>,
    parsed: usize,
    max_size: usize,
) -> Result<Option<usize>, HandshakeError> {
    match result {
        Ok(httparse::Status::Complete(n)) => Ok(Some(n)),
        // The head did not end within `max_size` bytes.
        Ok(httparse::Status::Partial) if parsed >= max_size => {
            Err(HandshakeError::TooLarge { max: max_size })
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::TooManyHeaders),
        Err(e) => Err(HandshakeError::Malformed(match e {
            httparse::Error::HeaderName => "invalid header name",
            httparse::Error::HeaderValue => "invalid header value",
            httparse::Error::NewLine => "invalid new line",
            httparse::Error::Status => "invalid status",
            httparse::Error::Token => "invalid token",
            httparse::Error::Version => "invalid HTTP version",
            _ => "invalid head",
        })),
    }
}

#[cfg(test)]
mod tests;
