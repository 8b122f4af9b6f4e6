//! [`RequestWriter`]: builds request heads and bodies into one reusable buffer.
//!
//! # Why the finished request does not borrow the writer, yet nothing is allocated
//!
//! [`RequestBuilder::finish`] moves the writer's filled buffer out into the [`Request`]
//! (`std::mem::take`: no copy, no allocation), so the request owns its bytes and the slot
//! that holds the writer can be borrowed again for `conn_and_reader()`. The request also
//! holds a clone of the writer's *return cell* (an `Arc<Mutex<Vec<u8>>>`, cloned by a
//! reference-count increment). When the request is dropped — after it was written, after a
//! failed or cancelled send, or without ever being sent — its buffer goes back into that
//! cell, and the writer's next `get`/`post`/... takes it out again. One buffer circulates;
//! once it has grown to the largest request, no request allocates.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::error::RestError;
use crate::proto::http::Method;
use crate::proto::http::request::{is_valid_target, percent_encode, write_decimal, write_header};

/// Default capacity of the request buffer: 32 KiB. Requests larger than this grow it once.
pub const DEFAULT_WRITE_BUFFER_CAPACITY: usize = 32 * 1024;

/// Builds HTTP/1.1 requests for one host: `Host` header, default headers and a base path
/// applied to every request.
///
/// # Examples
///
/// ```
/// use nexus_async_net::rest::RequestWriter;
///
/// let mut writer = RequestWriter::new("api.example.com")?;
/// writer.set_base_path("/api/v3")?;
/// writer.default_header("X-API-KEY", "secret")?;
/// let req = writer.get("/ticker").query("symbol", "BTC USDT").finish()?;
/// assert!(req.as_bytes().starts_with(b"GET /api/v3/ticker?symbol=BTC%20USDT HTTP/1.1\r\n"));
/// # Ok::<(), nexus_async_net::rest::RestError>(())
/// ```
pub struct RequestWriter {
    host: Box<str>,
    base_path: String,
    /// Pre-rendered `name: value\r\n` lines.
    default_headers: Vec<u8>,
    /// The buffer the next request is written into (empty while it is out in a request).
    buf: Vec<u8>,
    capacity: usize,
    /// Where finished requests return their buffer when dropped.
    home: Arc<Mutex<Vec<u8>>>,
}

impl RequestWriter {
    /// A writer whose requests carry `Host: host` (`host` or `host:port`).
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidHeader`] when `host` holds CR, LF, NUL or another control byte.
    pub fn new(host: &str) -> Result<Self, RestError> {
        if host.is_empty() || !is_valid_target(host.as_bytes()) {
            return Err(RestError::InvalidHeader);
        }
        Ok(Self {
            host: host.into(),
            base_path: String::new(),
            default_headers: Vec::new(),
            buf: Vec::new(),
            capacity: DEFAULT_WRITE_BUFFER_CAPACITY,
            home: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// A writer for the server of `url` (`http://` or `https://`): the `Host` header comes
    /// from its host and port, the base path from its path.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidUrl`] when `url` cannot be parsed or has no host.
    pub fn for_url(url: &str) -> Result<Self, RestError> {
        let target = crate::connect::Target::parse_http(url)?;
        let mut writer = Self::new(&target.host_header())?;
        writer.set_base_path(&target.path)?;
        Ok(writer)
    }

    /// Sets the capacity the request buffer starts with (default
    /// [`DEFAULT_WRITE_BUFFER_CAPACITY`]). A request larger than this grows the buffer,
    /// which then keeps its size.
    pub fn set_write_buffer_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// Sets the path prefixed to every request path (a trailing `/` is dropped).
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidRequest`] when the path holds spaces or control bytes.
    pub fn set_base_path(&mut self, path: &str) -> Result<(), RestError> {
        if !is_valid_target(path.as_bytes()) {
            return Err(RestError::InvalidRequest(
                "base path contains spaces or control bytes",
            ));
        }
        let path = path.trim_end_matches('/');
        self.base_path.clear();
        if !path.is_empty() && !path.starts_with('/') {
            self.base_path.push('/');
        }
        self.base_path.push_str(path);
        Ok(())
    }

    /// Adds a header sent with every request, after `Host`, in the order added.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidHeader`] when the name is not a token or the value holds CR,
    /// LF, NUL or another control byte.
    pub fn default_header(&mut self, name: &str, value: &str) -> Result<(), RestError> {
        write_header(&mut self.default_headers, name, value)?;
        Ok(())
    }

    /// The `Host` header value.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The base path (empty or starting with `/`, no trailing `/`).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Starts a `GET` request for `path` (appended to the base path).
    pub fn get(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Get, path)
    }

    /// Starts a `POST` request.
    pub fn post(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Post, path)
    }

    /// Starts a `PUT` request.
    pub fn put(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Put, path)
    }

    /// Starts a `DELETE` request.
    pub fn delete(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Delete, path)
    }

    /// Starts a `PATCH` request.
    pub fn patch(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Patch, path)
    }

    /// Starts a `HEAD` request (its response never has a body).
    pub fn head(&mut self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::Head, path)
    }

    /// Starts a request with any method.
    pub fn request(&mut self, method: Method, path: &str) -> RequestBuilder<'_> {
        self.reclaim_buffer();
        let mut builder = RequestBuilder {
            writer: self,
            method,
            phase: Phase::Target { has_query: false },
            error: None,
        };
        builder.start(path);
        builder
    }

    /// Gets the circulating buffer back (or makes the first one) and empties it.
    fn reclaim_buffer(&mut self) {
        if self.buf.capacity() == 0 {
            let mut home = self.home.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::swap(&mut self.buf, &mut *home);
        }
        if self.buf.capacity() == 0 {
            self.buf = Vec::with_capacity(self.capacity);
        }
        self.buf.clear();
    }
}

impl fmt::Debug for RequestWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestWriter")
            .field("host", &self.host)
            .field("base_path", &self.base_path)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// Where a [`RequestBuilder`] is in the request layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Still in the request target: queries may be added.
    Target { has_query: bool },
    /// The head is open: headers may be added.
    Headers,
    /// The body is written: only `finish` remains.
    Body,
}

/// One request being written. Errors are remembered and returned by
/// [`finish`](Self::finish), so calls chain.
#[must_use = "a request does nothing until finish() is called and it is sent"]
pub struct RequestBuilder<'a> {
    writer: &'a mut RequestWriter,
    method: Method,
    phase: Phase,
    error: Option<RestError>,
}

impl RequestBuilder<'_> {
    /// Appends a query parameter, percent-encoding key and value (RFC 3986 unreserved
    /// characters stay as they are). `?` or `&` is inserted as needed.
    pub fn query(mut self, key: &str, value: &str) -> Self {
        let Phase::Target { has_query } = self.phase else {
            return self.fail(RestError::InvalidRequest(
                "query() must come before header() and body()",
            ));
        };
        if self.error.is_none() {
            let buf = &mut self.writer.buf;
            buf.push(if has_query { b'&' } else { b'?' });
            percent_encode(buf, key.as_bytes());
            buf.push(b'=');
            percent_encode(buf, value.as_bytes());
            self.phase = Phase::Target { has_query: true };
        }
        self
    }

    /// Adds a header to this request.
    ///
    /// A name that is not a token, or a value holding CR, LF, NUL or another control byte,
    /// makes [`finish`](Self::finish) return [`RestError::InvalidHeader`].
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if self.phase == Phase::Body {
            return self.fail(RestError::InvalidRequest(
                "header() must come before body()",
            ));
        }
        self.open_head();
        if self.error.is_none()
            && let Err(e) = write_header(&mut self.writer.buf, name, value)
        {
            return self.fail(e.into());
        }
        self
    }

    /// Sets the body; `Content-Length` is added.
    pub fn body(mut self, body: &[u8]) -> Self {
        if self.phase == Phase::Body {
            return self.fail(RestError::InvalidRequest("body() called twice"));
        }
        self.open_head();
        if self.error.is_none() {
            let buf = &mut self.writer.buf;
            buf.extend_from_slice(b"Content-Length: ");
            write_decimal(buf, body.len());
            buf.extend_from_slice(b"\r\n\r\n");
            buf.extend_from_slice(body);
            self.phase = Phase::Body;
        }
        self
    }

    /// Finishes the request. It owns its bytes: the writer can be used (and the slot
    /// borrowed) again at once. A body-less `POST`, `PUT` or `PATCH` gets
    /// `Content-Length: 0`.
    ///
    /// # Errors
    ///
    /// The first error of the chain: [`RestError::InvalidHeader`] or
    /// [`RestError::InvalidRequest`].
    pub fn finish(mut self) -> Result<Request, RestError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.phase != Phase::Body {
            self.open_head();
            let buf = &mut self.writer.buf;
            if self.method.expects_body() {
                buf.extend_from_slice(b"Content-Length: 0\r\n");
            }
            buf.extend_from_slice(b"\r\n");
        }
        Ok(Request {
            bytes: std::mem::take(&mut self.writer.buf),
            method: self.method,
            home: Arc::clone(&self.writer.home),
        })
    }

    /// Writes `METHOD base_path+path`.
    fn start(&mut self, path: &str) {
        if !is_valid_target(path.as_bytes()) {
            self.error = Some(RestError::InvalidRequest(
                "path contains spaces or control bytes",
            ));
            return;
        }
        let w = &mut *self.writer;
        w.buf.extend_from_slice(self.method.as_str().as_bytes());
        w.buf.push(b' ');
        w.buf.extend_from_slice(w.base_path.as_bytes());
        let needs_slash = match path.as_bytes().first() {
            Some(b'/') => false,
            // "?q" or "" name the base path itself; "/" if there is none.
            Some(b'?') | None => w.base_path.is_empty(),
            Some(_) => true,
        };
        if needs_slash {
            w.buf.push(b'/');
        }
        w.buf.extend_from_slice(path.as_bytes());
        self.phase = Phase::Target {
            has_query: path.contains('?'),
        };
    }

    /// Ends the request line and writes `Host` and the default headers, once.
    fn open_head(&mut self) {
        if !matches!(self.phase, Phase::Target { .. }) || self.error.is_some() {
            return;
        }
        let w = &mut *self.writer;
        w.buf.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        w.buf.extend_from_slice(w.host.as_bytes());
        w.buf.extend_from_slice(b"\r\n");
        w.buf.extend_from_slice(&w.default_headers);
        self.phase = Phase::Headers;
    }

    fn fail(mut self, e: RestError) -> Self {
        self.error.get_or_insert(e);
        self
    }
}

impl fmt::Debug for RequestBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// A finished request: its wire bytes, owned. Send it with
/// [`HttpConnection::send`](super::HttpConnection::send).
///
/// Dropping it returns its buffer to the [`RequestWriter`] that made it.
pub struct Request {
    bytes: Vec<u8>,
    method: Method,
    home: Arc<Mutex<Vec<u8>>>,
}

impl Request {
    /// The bytes sent on the wire: head and body.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the request has no bytes (never true for a finished request).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The request method (a response to `HEAD` has no body).
    pub fn method(&self) -> Method {
        self.method
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        let mut home = self.home.lock().unwrap_or_else(PoisonError::into_inner);
        // Keep the larger buffer when two requests were out at once.
        if bytes.capacity() > home.capacity() {
            *home = bytes;
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
