//! [`MaybeTls`]: a plain or TLS stream over any futures-io transport. The only rustls I/O
//! glue in the crate (through futures-rustls, which lets rustls read from and write to the
//! transport itself, so partial `read_tls`, plaintext backpressure and large writes are
//! handled by rustls' own buffering rules).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

/// A transport that is either plain or wrapped in TLS.
///
/// The enum is `#[non_exhaustive]` (its TLS variants exist only with the `tls` feature,
/// and more transports may follow): match with a wildcard arm, or use
/// [`MaybeTls::is_tls`].
///
/// Implements `AsyncRead + AsyncWrite` when `S` does. `poll_close` on a TLS stream sends
/// `close_notify`, flushes it, then closes the inner stream, so the peer reads a clean EOF.
#[non_exhaustive]
pub enum MaybeTls<S> {
    /// No TLS.
    Plain(S),
    /// The client side of a TLS session (from [`TlsConfig::connect`](super::TlsConfig::connect)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    Client(Box<futures_rustls::client::TlsStream<S>>),
    /// The server side of a TLS session (from [`TlsConfig::accept`](super::TlsConfig::accept)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    Server(Box<futures_rustls::server::TlsStream<S>>),
}

impl<S> MaybeTls<S> {
    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Self::Plain(_))
    }

    /// The underlying transport.
    pub fn get_ref(&self) -> &S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "tls")]
            Self::Client(s) => s.get_ref().0,
            #[cfg(feature = "tls")]
            Self::Server(s) => s.get_ref().0,
        }
    }

    /// The underlying transport, mutably. Reading or writing it directly corrupts a TLS
    /// session; use it for socket options.
    pub fn get_mut(&mut self) -> &mut S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "tls")]
            Self::Client(s) => s.get_mut().0,
            #[cfg(feature = "tls")]
            Self::Server(s) => s.get_mut().0,
        }
    }

    /// The ALPN protocol the peers agreed on, if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        match self {
            Self::Plain(_) => None,
            #[cfg(feature = "tls")]
            Self::Client(s) => s.get_ref().1.alpn_protocol(),
            #[cfg(feature = "tls")]
            Self::Server(s) => s.get_ref().1.alpn_protocol(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for MaybeTls<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(s) => f.debug_tuple("MaybeTls::Plain").field(s).finish(),
            #[cfg(feature = "tls")]
            Self::Client(s) => f
                .debug_tuple("MaybeTls::Client")
                .field(s.get_ref().0)
                .finish(),
            #[cfg(feature = "tls")]
            Self::Server(s) => f
                .debug_tuple("MaybeTls::Server")
                .field(s.get_ref().0)
                .finish(),
        }
    }
}

/// Dispatches one poll method over the variants.
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        crate::io::dispatch!($self.get_mut(), $s => $e; MaybeTls::Plain,
            #[cfg(feature = "tls")] MaybeTls::Client, #[cfg(feature = "tls")] MaybeTls::Server)
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        dispatch!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    crate::io::forward_write!(dispatch);

    /// Sends `close_notify` (TLS), flushes, then closes the inner stream.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        dispatch!(self, s => Pin::new(s).poll_close(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::MaybeTls;
    use futures_util::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_plain_stream_passes_bytes_through_untouched() {
        futures::executor::block_on(async {
            let mut s = MaybeTls::Plain(futures::io::Cursor::new(Vec::new()));
            assert!(!s.is_tls());
            assert_eq!(s.alpn_protocol(), None);
            s.write_all(b"plain").await.unwrap();
            s.close().await.unwrap();
            s.get_mut().set_position(0);
            let mut got = String::new();
            s.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "plain");
        });
    }
}
