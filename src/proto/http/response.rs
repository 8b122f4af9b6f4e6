//! Response head parsing (`httparse` underneath, caller-sized header slots) and the
//! framing decision of RFC 9112 §6.3.

use std::ops::Range;

use super::conn::{self, ConnectionTokens};
use super::error::ParseError;
use super::request::Method;

/// Limits on what a server may send, each with its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest accepted head (status line, headers and the blank line), in bytes.
    /// Default 16 KiB: exchange responses carry a handful of headers; raise it for
    /// servers that send large cookies. Exceeding it gives [`ParseError::HeadTooLarge`].
    pub max_head_size: usize,
    /// Most header lines in one head. Default 64. The parser needs one slot per header;
    /// up to 64 slots live on the stack. Exceeding it gives [`ParseError::TooManyHeaders`].
    pub max_headers: usize,
    /// Longest accepted body after chunked decoding, in bytes. Default 8 MiB. Memory for
    /// a response never grows past about `max_head_size + max_body_size`. Exceeding it
    /// gives [`ParseError::BodyTooLarge`] as soon as it is known (announced length or
    /// bytes as they arrive).
    pub max_body_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_size: 16 * 1024,
            max_headers: 64,
            max_body_size: 8 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Sets [`max_head_size`](Self::max_head_size).
    pub fn max_head_size(mut self, n: usize) -> Self {
        self.max_head_size = n;
        self
    }

    /// Sets [`max_headers`](Self::max_headers).
    pub fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n;
        self
    }

    /// Sets [`max_body_size`](Self::max_body_size).
    pub fn max_body_size(mut self, n: usize) -> Self {
        self.max_body_size = n;
        self
    }
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: 1xx, 204 and 304 responses and any response to HEAD.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding` whose final coding is `chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// A parsed response head. Header lines stay in the caller's slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The status code (100–999).
    pub status: u16,
    /// The `x` of `HTTP/1.x`.
    pub minor_version: u8,
    /// The reason phrase's position in the buffer (empty when absent).
    pub reason: Range<usize>,
    /// Length of the head in bytes, including the blank line; the body starts here.
    pub len: usize,
    /// How many of the caller's header slots were filled.
    pub header_count: usize,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

impl Head {
    /// A 1xx response other than 101: informational, to be skipped; the final response
    /// follows it on the same connection (RFC 9110 §15.2).
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status)
    }
}

/// Parses a response head from the start of `buf`.
///
/// `slots` receives the header lines; its length is the header count limit (pass
/// `limits.max_headers` slots). `method` is the request's method: a response to HEAD has
/// no body. Returns `Ok(None)` when more bytes are needed.
///
/// # Errors
///
/// [`ParseError::MalformedHead`], [`ParseError::TooManyHeaders`] (more lines than
/// slots), [`ParseError::HeadTooLarge`] (the head does not end within
/// `limits.max_head_size` bytes, however the bytes arrived),
/// [`ParseError::InvalidContentLength`], [`ParseError::UnexpectedUpgrade`].
pub fn parse_head<'b>(
    buf: &'b [u8],
    slots: &mut [httparse::Header<'b>],
    limits: &Limits,
    method: Method,
) -> Result<Option<Head>, ParseError> {
    let max_slots = slots.len();
    let mut response = httparse::Response::new(slots);
    // Only the first `max_head_size` bytes can hold a head within the limit. Parsing no
    // further makes the outcome independent of how the bytes arrived: a head that breaks
    // two limits fails the same way whether it came in one read or many.
    let window = buf.get(..limits.max_head_size).unwrap_or(buf);
    let len = match response.parse(window) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > limits.max_head_size => {
            return Err(ParseError::HeadTooLarge {
                max: limits.max_head_size,
            });
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ParseError::TooManyHeaders { max: max_slots });
        }
        Err(e) => return Err(ParseError::from_httparse(e)),
    };
    if len > limits.max_head_size {
        return Err(ParseError::HeadTooLarge {
            max: limits.max_head_size,
        });
    }
    let status = response.code.unwrap_or(0);
    if status < 100 {
        return Err(ParseError::MalformedHead("status code below 100"));
    }
    if status == 101 {
        return Err(ParseError::UnexpectedUpgrade);
    }
    let minor_version = response.version.unwrap_or(1);
    let reason = response
        .reason
        .and_then(|r| span_of(buf, r.as_bytes()))
        .unwrap_or(0..0);
    let headers: &[httparse::Header<'_>] = response.headers;
    let info = HeaderInfo::scan(headers)?;
    let framing = info.framing(status, method);
    let keep_alive = conn::keep_alive(
        minor_version,
        info.connection,
        framing == Framing::UntilClose,
    ) && !(info.chunked.is_some() && info.content_length.is_some());
    Ok(Some(Head {
        status,
        minor_version,
        reason,
        len,
        header_count: headers.len(),
        framing,
        keep_alive,
    }))
}

/// Where `part` (a sub-slice of `buf`, as `httparse` returns them) lies in `buf`.
pub fn span_of(buf: &[u8], part: &[u8]) -> Option<Range<usize>> {
    // Address arithmetic only, no dereference: the result is bounds-checked below.
    let start = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= buf.len()).then_some(start..end)
}

/// What the framing and connection headers of one head said.
#[derive(Default)]
struct HeaderInfo {
    content_length: Option<u64>,
    /// `Some(true)` when the final transfer coding is chunked, `Some(false)` for another.
    chunked: Option<bool>,
    connection: ConnectionTokens,
}

impl HeaderInfo {
    fn scan(headers: &[httparse::Header<'_>]) -> Result<Self, ParseError> {
        let mut info = Self::default();
        for h in headers {
            if h.name.eq_ignore_ascii_case("content-length") {
                info.add_content_length(h.value)?;
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                // The last coding of the last field is the final one (RFC 9112 §6.1).
                if let Some(last) = h.value.rsplit(|&b| b == b',').next() {
                    let last = last.trim_ascii();
                    if !last.is_empty() {
                        info.chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
                    }
                }
            } else if h.name.eq_ignore_ascii_case("connection") {
                info.connection.add(h.value);
            }
        }
        Ok(info)
    }

    /// RFC 9112 §6.3 rule 5: a list of identical values is one value; anything else is
    /// an unrecoverable framing error.
    fn add_content_length(&mut self, value: &[u8]) -> Result<(), ParseError> {
        for item in value.split(|&b| b == b',') {
            let n = parse_decimal(item.trim_ascii()).ok_or(ParseError::InvalidContentLength)?;
            match self.content_length {
                Some(prev) if prev != n => return Err(ParseError::InvalidContentLength),
                _ => self.content_length = Some(n),
            }
        }
        Ok(())
    }

    fn framing(&self, status: u16, method: Method) -> Framing {
        if method == Method::Head || (100..200).contains(&status) || status == 204 || status == 304
        {
            return Framing::None;
        }
        match (self.chunked, self.content_length) {
            (Some(true), _) => Framing::Chunked,
            // Transfer-Encoding without a final chunked: read until close (§6.3 rule 4).
            (Some(false), _) => Framing::UntilClose,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::UntilClose,
        }
    }
}

/// A non-empty run of ASCII digits that fits in `u64`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

#[cfg(test)]
mod tests;
