//! [`ResponseReader`] (the buffer and state of one response at a time, sans-IO) and
//! [`Response`] (a finished response, borrowed from the reader).
//!
//! The reader is one growable buffer laid out as
//! `[head][decoded body][unparsed bytes][spare]`. Chunked framing is removed in place
//! (the decoded bytes are moved down over the framing), so a chunked body costs no extra
//! buffer. The buffer starts at its initial capacity and grows by doubling, never past
//! about `max_head_size + max_body_size` (plus one read of slack); its size is kept for
//! the next response, so steady-state responses allocate nothing.

use std::fmt;
use std::ops::Range;

use super::body::BodyDecoder;
use super::error::ParseError;
use super::request::Method;
use super::response::{Limits, parse_head, span_of};

/// Default initial capacity of a [`ResponseReader`]: 32 KiB.
pub const DEFAULT_RESPONSE_BUFFER_CAPACITY: usize = 32 * 1024;

/// Header slots kept on the stack while parsing; a larger `max_headers` parses into a
/// heap slice allocated per parse attempt.
const STACK_HEADER_SLOTS: usize = 64;

/// Smallest spare room offered to a read once the buffer has to grow.
const MIN_READ: usize = 4096;

/// Reads one HTTP/1.1 response at a time into a growable buffer.
///
/// Sans-IO: [`HttpConnection`](crate::rest::HttpConnection) drives it, and so can a test or a
/// custom transport: [`start`](Self::start), then read into [`spare`](Self::spare) and
/// report with [`handle_read`](Self::handle_read) (or [`handle_eof`](Self::handle_eof))
/// until [`Progress::Complete`], then [`response`](Self::response).
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::http::Method;
/// use nexus_async_net::rest::{Progress, ResponseReader};
///
/// let mut reader = ResponseReader::new(1024);
/// reader.start(Method::Get);
/// let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
/// let spare = reader.spare()?;
/// spare[..wire.len()].copy_from_slice(wire);
/// assert_eq!(reader.handle_read(wire.len())?, Progress::Complete);
/// let resp = reader.response().unwrap();
/// assert_eq!((resp.status(), resp.body()), (200, &b"ok"[..]));
/// # Ok::<(), nexus_async_net::proto::http::ParseError>(())
/// ```
pub struct ResponseReader {
    /// Zero-initialised storage; `end` marks the received bytes.
    buf: Vec<u8>,
    end: usize,
    initial_capacity: usize,
    limits: Limits,
    method: Method,
    state: State,
    /// Header name and value positions of the final head (capacity `max_headers`).
    spans: Vec<(Range<usize>, Range<usize>)>,
    status: u16,
    minor_version: u8,
    reason: Range<usize>,
    /// The decoded body is `buf[body_start..body_end]`.
    body_start: usize,
    body_end: usize,
    /// First received byte not yet consumed by the body decoder.
    raw_start: usize,
    keep_alive: bool,
}

/// What a [`ResponseReader`] needs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More bytes: read into [`ResponseReader::spare`].
    NeedMore,
    /// The response is complete: see [`ResponseReader::response`].
    Complete,
}

#[derive(Debug)]
enum State {
    Head,
    Body(BodyDecoder),
    Done,
}

impl ResponseReader {
    /// A reader with `initial_capacity` bytes of buffer and default [`Limits`]
    /// (16 KiB head, 64 headers, 8 MiB body).
    pub fn new(initial_capacity: usize) -> Self {
        Self::with_limits(initial_capacity, Limits::default())
    }

    /// A reader with `initial_capacity` bytes of buffer and the given limits.
    pub fn with_limits(initial_capacity: usize, limits: Limits) -> Self {
        Self {
            buf: vec![0; initial_capacity],
            end: 0,
            initial_capacity,
            limits,
            method: Method::Get,
            state: State::Done,
            spans: Vec::with_capacity(limits.max_headers),
            status: 0,
            minor_version: 1,
            reason: 0..0,
            body_start: 0,
            body_end: 0,
            raw_start: 0,
            keep_alive: false,
        }
    }

    /// Sets the body size limit (see [`Limits::max_body_size`]).
    pub fn max_body_size(mut self, n: usize) -> Self {
        self.limits.max_body_size = n;
        self
    }

    /// Sets the head size limit (see [`Limits::max_head_size`]).
    pub fn max_head_size(mut self, n: usize) -> Self {
        self.limits.max_head_size = n;
        self
    }

    /// Sets the header count limit (see [`Limits::max_headers`]).
    pub fn max_headers(mut self, n: usize) -> Self {
        self.limits.max_headers = n;
        self.spans = Vec::with_capacity(n);
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Current buffer size in bytes (grows with large responses, kept afterwards).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.len()
    }

    /// Forgets the previous response and gets ready for the response to a `method`
    /// request.
    pub fn start(&mut self, method: Method) {
        self.method = method;
        self.state = State::Head;
        self.end = 0;
        self.spans.clear();
        self.keep_alive = false;
    }

    /// Whether any byte of the current response has arrived.
    pub fn has_received_bytes(&self) -> bool {
        self.end > 0 || !matches!(self.state, State::Head)
    }

    /// Room to read transport bytes into, grown if the buffer is full.
    ///
    /// # Errors
    ///
    /// [`ParseError::HeadTooLarge`] or [`ParseError::BodyTooLarge`] if the buffer is at its
    /// bound (the decoder reports these first in practice).
    pub fn spare(&mut self) -> Result<&mut [u8], ParseError> {
        if self.end >= self.buf.len() {
            self.grow()?;
        }
        Ok(self.buf.get_mut(self.end..).unwrap_or_default())
    }

    /// `n` bytes were read into [`spare`](Self::spare); parses as far as they allow.
    ///
    /// # Errors
    ///
    /// Whatever the peer got wrong ([`ParseError`]); the reader must be
    /// [`start`](Self::start)ed again before reuse.
    pub fn handle_read(&mut self, n: usize) -> Result<Progress, ParseError> {
        self.end = self.end.saturating_add(n).min(self.buf.len());
        if matches!(self.state, State::Done) && n > 0 {
            // Bytes after a complete response: the peer is out of step (see decode_body).
            self.keep_alive = false;
        }
        self.advance()
    }

    /// The transport reached end of stream.
    ///
    /// # Errors
    ///
    /// [`ParseError::IncompleteHead`] or [`ParseError::IncompleteBody`] unless the body
    /// is delimited by the close.
    pub fn handle_eof(&mut self) -> Result<Progress, ParseError> {
        match &mut self.state {
            State::Head => Err(ParseError::IncompleteHead),
            State::Body(decoder) => {
                decoder.handle_eof()?;
                self.state = State::Done;
                self.keep_alive = false;
                Ok(Progress::Complete)
            }
            State::Done => Ok(Progress::Complete),
        }
    }

    /// Whether the connection may carry another request after this response: HTTP/1.1
    /// without `Connection: close` (or HTTP/1.0 with `keep-alive`), a framed body, and no
    /// stray bytes after it.
    pub fn keep_alive(&self) -> bool {
        matches!(self.state, State::Done) && self.keep_alive
    }

    /// The response, once [`Progress::Complete`] was reported.
    pub fn response(&self) -> Option<Response<'_>> {
        matches!(self.state, State::Done).then_some(Response { reader: self })
    }

    fn grow(&mut self) -> Result<(), ParseError> {
        let bound = self
            .limits
            .max_head_size
            .saturating_mul(2)
            .saturating_add(self.limits.max_body_size)
            .saturating_add(MIN_READ);
        let len = self.buf.len();
        if len >= bound {
            return Err(match self.state {
                State::Head => ParseError::HeadTooLarge {
                    max: self.limits.max_head_size,
                },
                _ => ParseError::BodyTooLarge {
                    max: self.limits.max_body_size,
                },
            });
        }
        let new_len = len
            .saturating_mul(2)
            .max(self.initial_capacity)
            .max(MIN_READ)
            .min(bound);
        self.buf.resize(new_len, 0);
        Ok(())
    }

    fn advance(&mut self) -> Result<Progress, ParseError> {
        loop {
            match self.state {
                State::Head => {
                    if !self.parse_head()? {
                        return Ok(Progress::NeedMore);
                    }
                }
                State::Body(_) => return self.decode_body(),
                State::Done => return Ok(Progress::Complete),
            }
        }
    }

    /// Parses the head if it is all there; skips 1xx heads. Returns whether a final head
    /// was parsed.
    fn parse_head(&mut self) -> Result<bool, ParseError> {
        let received = self.buf.get(..self.end).unwrap_or_default();
        let mut stack = [httparse::EMPTY_HEADER; STACK_HEADER_SLOTS];
        let mut heap;
        let slots = if self.limits.max_headers <= STACK_HEADER_SLOTS {
            stack.get_mut(..self.limits.max_headers).unwrap_or_default()
        } else {
            heap = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
            &mut heap[..]
        };
        let Some(head) = parse_head(received, slots, &self.limits, self.method)? else {
            return Ok(false);
        };
        if head.is_interim() {
            // RFC 9110 §15.2: a client MUST be able to parse and ignore 1xx responses.
            self.buf.copy_within(head.len..self.end, 0);
            self.end -= head.len;
            return Ok(true);
        }
        self.spans.clear();
        for h in slots.iter().take(head.header_count) {
            if let (Some(name), Some(value)) = (
                span_of(received, h.name.as_bytes()),
                span_of(received, h.value),
            ) {
                self.spans.push((name, value));
            }
        }
        self.status = head.status;
        self.minor_version = head.minor_version;
        self.reason = head.reason;
        self.keep_alive = head.keep_alive;
        self.body_start = head.len;
        self.body_end = head.len;
        self.raw_start = head.len;
        self.state = State::Body(BodyDecoder::new(head.framing, &self.limits)?);
        Ok(true)
    }

    /// Runs the body decoder over the unconsumed bytes, moving decoded bytes down to the
    /// end of the body, then drops the consumed framing.
    fn decode_body(&mut self) -> Result<Progress, ParseError> {
        let State::Body(decoder) = &mut self.state else {
            return Ok(Progress::NeedMore);
        };
        loop {
            let input = self.buf.get(self.raw_start..self.end).unwrap_or_default();
            let step = decoder.decode(input)?;
            let data_len = step.data.len();
            if data_len > 0 {
                let from = self.raw_start + step.data.start;
                if from != self.body_end {
                    self.buf.copy_within(from..from + data_len, self.body_end);
                }
                self.body_end += data_len;
            }
            self.raw_start += step.consumed;
            if step.consumed == 0 || decoder.is_done() {
                break;
            }
        }
        let done = decoder.is_done();
        // Drop consumed framing: keep unparsed bytes right after the body.
        if self.raw_start > self.body_end {
            self.buf
                .copy_within(self.raw_start..self.end, self.body_end);
            self.end -= self.raw_start - self.body_end;
            self.raw_start = self.body_end;
        }
        if !done {
            return Ok(Progress::NeedMore);
        }
        if self.raw_start < self.end {
            // Bytes after a complete response: this client never pipelines, so the peer is
            // out of step. Do not reuse the connection.
            self.keep_alive = false;
        }
        self.state = State::Done;
        Ok(Progress::Complete)
    }
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new(DEFAULT_RESPONSE_BUFFER_CAPACITY)
    }
}

impl fmt::Debug for ResponseReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseReader")
            .field("buffer_capacity", &self.buf.len())
            .field("limits", &self.limits)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A complete response, borrowed from its [`ResponseReader`] (zero copy).
#[derive(Clone, Copy)]
pub struct Response<'a> {
    reader: &'a ResponseReader,
}

/// The name the published crate family uses for [`Response`].
pub type RestResponse<'a> = Response<'a>;

impl<'a> Response<'a> {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.reader.status
    }

    /// The reason phrase (empty when absent or not UTF-8).
    pub fn reason(&self) -> &'a str {
        self.text(&self.reader.reason).unwrap_or_default()
    }

    /// The `x` of `HTTP/1.x`.
    pub fn minor_version(&self) -> u8 {
        self.reader.minor_version
    }

    /// The value of the first header named `name` (case-insensitive) as text: `None`
    /// when there is none or its value is not UTF-8 (then use
    /// [`header_bytes`](Self::header_bytes)). The crate's one rule for received headers,
    /// the same on the WebSocket handshake's `ServerRequest` and `ClientResponse`.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The raw value of the first header named `name` (case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header in order, as (name, raw value).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let reader = self.reader;
        reader.spans.iter().map(move |(name, value)| {
            let name = reader
                .buf
                .get(name.clone())
                .and_then(|n| std::str::from_utf8(n).ok())
                .unwrap_or_default();
            (name, reader.buf.get(value.clone()).unwrap_or_default())
        })
    }

    /// The body, with any chunked framing removed.
    pub fn body(&self) -> &'a [u8] {
        let r = self.reader;
        r.buf.get(r.body_start..r.body_end).unwrap_or_default()
    }

    /// The body as UTF-8.
    ///
    /// # Errors
    ///
    /// When the body is not valid UTF-8.
    pub fn body_str(&self) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.body())
    }

    /// Whether the connection may carry another request (see
    /// [`ResponseReader::keep_alive`]).
    pub fn is_keep_alive(&self) -> bool {
        self.reader.keep_alive()
    }

    fn text(&self, range: &Range<usize>) -> Option<&'a str> {
        std::str::from_utf8(self.reader.buf.get(range.clone())?).ok()
    }
}

impl fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status())
            .field("reason", &self.reason())
            .field("body_len", &self.body().len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
