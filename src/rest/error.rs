//! [`RestError`]: everything a REST request can fail with.

use std::io;

use crate::proto::http::request::InvalidHeader;
use crate::proto::http::{ParseError, RequestError};
#[cfg(feature = "tls")]
use crate::tls::TlsError;

/// Errors from [`HttpConnection`](super::HttpConnection),
/// [`HttpConnectionBuilder`](super::HttpConnectionBuilder) and
/// [`RequestWriter::for_url`](super::RequestWriter::for_url). The writer's
/// [`RequestError`] and the reader's [`ParseError`] convert into it with `?`.
///
/// Whose fault it was is in the variant: the transport ([`Io`](Self::Io),
/// [`ReadTimeout`](Self::ReadTimeout), [`ConnectionStale`](Self::ConnectionStale),
/// [`ConnectionClosed`](Self::ConnectionClosed)), the peer ([`Parse`](Self::Parse),
/// [`BodyTooLarge`](Self::BodyTooLarge), [`HeadTooLarge`](Self::HeadTooLarge)) or the
/// caller ([`InvalidHeader`](Self::InvalidHeader), [`InvalidUrl`](Self::InvalidUrl),
/// [`InvalidRequest`](Self::InvalidRequest), [`ConnectionPoisoned`](Self::ConnectionPoisoned)).
/// [`is_transport`](Self::is_transport) groups the ones after which a fresh connection may
/// succeed. The `Display` text is not stable API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// The transport failed while writing the request or reading the response.
    #[error("I/O error: {0}")]
    Io(io::Error),
    /// An earlier request on this connection failed or was cancelled midway, so its
    /// framing is unknown. Nothing was written. Reconnect (a pool heals the slot).
    #[error("connection poisoned by an earlier failed or cancelled request")]
    ConnectionPoisoned,
    /// The connection is closed: retired after `Connection: close`, an HTTP/1.0 or a
    /// close-delimited response (nothing was written), or the server closed it before the
    /// response was complete. The text says which.
    #[error("connection closed: {0}")]
    ConnectionClosed(&'static str),
    /// A reused keep-alive connection turned out to be closed by the server: it ended
    /// before any byte of the response. The server most likely never saw the request.
    #[error("keep-alive connection was closed by the server before it answered")]
    ConnectionStale,
    /// The request did not complete within the read timeout or the deadline of
    /// `send_timeout`. The connection is poisoned unless no byte of the request had been
    /// written.
    #[error(
        "request timed out: no complete response within the read timeout or send_timeout deadline"
    )]
    ReadTimeout,
    /// DNS, TCP connect and TLS handshake did not complete within the connect timeout.
    #[error("connect timed out")]
    ConnectTimeout,
    /// A pool had no healthy slot free within its acquire timeout (all busy or healing).
    #[error("no pooled connection became free within the acquire timeout")]
    AcquireTimeout,
    /// The URL could not be used (`http://` or `https://` with a host expected).
    #[error("invalid URL: {0}")]
    InvalidUrl(Box<str>),
    /// A header name is not a token, or a value holds CR, LF, NUL or another control byte
    /// (which would let it inject header lines). Nothing was sent.
    #[error("invalid header: name must be a token, value must not contain CR, LF or NUL")]
    InvalidHeader,
    /// The request cannot be built as asked (e.g. a path with spaces or control bytes).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The response body exceeds the reader's `max_body_size`. The connection is poisoned.
    #[error("response body exceeds {max} bytes")]
    BodyTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The response head exceeds the reader's `max_head_size`. The connection is poisoned.
    #[error("response head exceeds {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The server sent something that is not valid HTTP/1.1. The connection is poisoned.
    #[error("invalid response: {0}")]
    Parse(ParseError),
    /// The TLS layer failed (bad certificate, bad server name, handshake failure).
    #[cfg(feature = "tls")]
    #[error("{0}")]
    Tls(Box<TlsError>),
    /// The proxy refused the tunnel or broke its handshake (a 407, a SOCKS5 refusal);
    /// its `status()` and `kind()` say which.
    #[error("{0}")]
    Proxy(Box<crate::connect::ProxyError>),
    /// `https://` was requested but the crate was built without the `tls` feature.
    #[error("https:// needs the `tls` feature")]
    TlsNotEnabled,
}

impl RestError {
    /// Whether the failure was the transport's (I/O, timeout, closed, stale or poisoned
    /// connection): the request may succeed on a fresh connection. Retrying is safe only
    /// for idempotent requests.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Self::Io(_)
                | Self::ConnectionPoisoned
                | Self::ConnectionClosed(_)
                | Self::ConnectionStale
                | Self::ReadTimeout
                | Self::ConnectTimeout
        )
    }

    /// Whether this is [`ReadTimeout`](Self::ReadTimeout),
    /// [`ConnectTimeout`](Self::ConnectTimeout) or [`AcquireTimeout`](Self::AcquireTimeout).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::ReadTimeout | Self::ConnectTimeout | Self::AcquireTimeout
        )
    }
}

impl From<ParseError> for RestError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::BodyTooLarge { max } => Self::BodyTooLarge { max },
            ParseError::HeadTooLarge { max } => Self::HeadTooLarge { max },
            ParseError::IncompleteHead => {
                Self::ConnectionClosed("server closed the connection mid response head")
            }
            ParseError::IncompleteBody => {
                Self::ConnectionClosed("server closed the connection mid response body")
            }
            other => Self::Parse(other),
        }
    }
}

impl From<RequestError> for RestError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::InvalidHeader => Self::InvalidHeader,
            RequestError::InvalidRequest(why) => Self::InvalidRequest(why),
        }
    }
}

impl From<InvalidHeader> for RestError {
    fn from(_: InvalidHeader) -> Self {
        Self::InvalidHeader
    }
}

#[cfg(feature = "tls")]
impl From<TlsError> for RestError {
    fn from(e: TlsError) -> Self {
        Self::Tls(Box::new(e))
    }
}

/// A TLS error travelling inside an I/O error (an alert the peer sent after the
/// handshake, say) becomes [`RestError::Tls`]; every other I/O error stays [`RestError::Io`].
impl From<io::Error> for RestError {
    fn from(e: io::Error) -> Self {
        #[cfg(feature = "tls")]
        let e = match TlsError::from_session_io(e) {
            Ok(tls) => return tls.into(),
            Err(e) => e,
        };
        Self::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_error_is_small_and_thread_safe() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<RestError>();
        assert!(std::mem::size_of::<RestError>() <= 32);
    }

    #[test]
    fn limit_errors_from_the_parser_get_their_own_variants() {
        assert!(matches!(
            RestError::from(ParseError::BodyTooLarge { max: 3 }),
            RestError::BodyTooLarge { max: 3 }
        ));
        assert!(matches!(
            RestError::from(ParseError::HeadTooLarge { max: 3 }),
            RestError::HeadTooLarge { max: 3 }
        ));
        assert!(matches!(
            RestError::from(ParseError::IncompleteBody),
            RestError::ConnectionClosed(_)
        ));
        assert!(matches!(
            RestError::from(ParseError::InvalidChunkSize),
            RestError::Parse(ParseError::InvalidChunkSize)
        ));
    }
}
