//! [`ParseError`]: what the peer got wrong in a response.

/// The peer sent a response this client cannot accept, or broke a configured limit.
///
/// Every variant is the peer's fault (or a limit the caller set on the peer). After one of
/// these the connection's framing is lost: the connection must not be reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The status line or a header line is not valid HTTP/1.x (RFC 9112 §4, §5).
    #[error("malformed response head: {0}")]
    MalformedHead(&'static str),
    /// The head has more header lines than the configured limit.
    #[error("response has more than {max} headers")]
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },
    /// The head (status line and headers) is longer than the configured limit.
    #[error("response head exceeds {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The body is longer than the configured limit (announced or as it arrived).
    #[error("response body exceeds {max} bytes")]
    BodyTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// A `Content-Length` value is not a decimal number, or two of them disagree
    /// (RFC 9112 §6.3, rule 5).
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// A chunk-size line is not hexadecimal or overflows (RFC 9112 §7.1).
    #[error("invalid chunk size line")]
    InvalidChunkSize,
    /// A chunk extension is longer than the limit for one size line.
    #[error("chunk extension too long")]
    ChunkExtensionTooLong,
    /// Chunk data was not followed by CRLF, or a line ended in a bare CR (RFC 9112 §7.1).
    #[error("missing CRLF in chunked body")]
    InvalidChunkDelimiter,
    /// The trailer section is longer than the head size limit (RFC 9112 §7.1.2).
    #[error("chunked trailer section too large")]
    TrailersTooLarge,
    /// The server answered `101 Switching Protocols`, which this client never asks for.
    #[error("unexpected 101 Switching Protocols")]
    UnexpectedUpgrade,
    /// The stream ended before the response head was complete.
    #[error("connection closed before the response head was complete")]
    IncompleteHead,
    /// The stream ended before the body was complete (Content-Length or chunked framing).
    #[error("connection closed before the response body was complete")]
    IncompleteBody,
}

impl ParseError {
    /// Maps an `httparse` error to a description of what was malformed.
    pub(crate) fn from_httparse(e: httparse::Error) -> Self {
        Self::MalformedHead(match e {
            httparse::Error::HeaderName => "invalid header name",
            httparse::Error::HeaderValue => "invalid header value",
            httparse::Error::NewLine => "invalid line ending",
            httparse::Error::Status => "invalid status code",
            httparse::Error::Token => "invalid token",
            httparse::Error::Version => "invalid HTTP version",
            httparse::Error::TooManyHeaders => "too many headers",
        })
    }
}
