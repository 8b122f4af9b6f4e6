//! [`TcpStream`]: one TCP stream type for every runtime, and [`TcpOptions`].
//!
//! The stream is an enum rather than a boxed trait object so the hot read and write paths
//! cost one predictable branch and no virtual call: the async-io variant (portable, smol,
//! async-std), the tokio variant (tokio's own reactor through `tokio_util::compat`), and a
//! boxed escape hatch for a custom transport.

use std::fmt;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

/// Socket options applied by a [`Connector`](super::Connector) to every new connection.
///
/// # Examples
///
/// ```
/// use nexus_async_net::rt::TcpOptions;
/// use std::time::Duration;
///
/// let opts = TcpOptions::new().nodelay(true).keepalive(Some(Duration::from_secs(60)));
/// assert!(opts.nodelay);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TcpOptions {
    /// Disable Nagle's algorithm (`TCP_NODELAY`). Default `false`; every trading workload
    /// wants `true`, at the cost of more small packets on the wire.
    pub nodelay: bool,
    /// TCP keep-alive idle time (`SO_KEEPALIVE` + `TCP_KEEPIDLE`). Default `None`: the
    /// operating system's setting is left alone.
    pub keepalive: Option<Duration>,
    /// Busy-poll budget: see [`TcpStream::set_busy_poll`]. Default `None` (park at once).
    pub busy_poll: Option<Duration>,
}

impl TcpOptions {
    /// Options with every field at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TcpOptions::nodelay`].
    #[must_use]
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Sets [`TcpOptions::keepalive`].
    #[must_use]
    pub fn keepalive(mut self, keepalive: Option<Duration>) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Sets [`TcpOptions::busy_poll`].
    #[must_use]
    pub fn busy_poll(mut self, budget: Option<Duration>) -> Self {
        self.busy_poll = budget;
        self
    }

    /// Applies the socket options to a connected socket (the busy-poll budget is the
    /// stream's: [`Runtime::connect`](super::Runtime::connect) sets it).
    pub(crate) fn apply<S>(&self, socket: &S) -> io::Result<()>
    where
        for<'s> socket2::SockRef<'s>: From<&'s S>,
    {
        let sock = socket2::SockRef::from(socket);
        if self.nodelay {
            sock.set_tcp_nodelay(true)?;
        }
        if let Some(idle) = self.keepalive {
            sock.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle))?;
        }
        Ok(())
    }
}

/// A transport a custom [`Connector`](super::Connector) may hand back inside a
/// [`TcpStream`] (for example a kernel-bypass stream).
///
/// Implemented for every type with the listed bounds; you never implement it by hand.
pub trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin + fmt::Debug {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + fmt::Debug + ?Sized> AsyncStream for T {}

/// A connected TCP stream, whatever runtime drives it.
///
/// Implements `futures_io::AsyncRead + AsyncWrite + Unpin + Send`. `poll_close` shuts down
/// the write half (`shutdown(Write)`), so the peer reads EOF while this side can still
/// read its reply.
pub struct TcpStream {
    inner: Inner,
    /// See [`TcpStream::set_busy_poll`].
    busy_poll: Option<Duration>,
}

enum Inner {
    AsyncIo(async_io::Async<std::net::TcpStream>),
    #[cfg(feature = "tokio")]
    Tokio(tokio_util::compat::Compat<::tokio::net::TcpStream>),
    Custom(Box<dyn AsyncStream>),
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::AsyncIo(s) => f
                .debug_tuple("TcpStream::AsyncIo")
                .field(s.get_ref())
                .finish(),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => f
                .debug_tuple("TcpStream::Tokio")
                .field(s.get_ref())
                .finish(),
            Inner::Custom(s) => f.debug_tuple("TcpStream::Custom").field(s).finish(),
        }
    }
}

/// The waker of a "try once, never wait" read (a pooled connection checking whether the
/// server closed it while idle): a read polled with it is not busy-polled. Wakes nothing.
pub(crate) fn probe_waker() -> &'static Waker {
    struct Probe;
    impl Wake for Probe {
        fn wake(self: Arc<Self>) {}
    }
    static PROBE: LazyLock<Waker> = LazyLock::new(|| Waker::from(Arc::new(Probe)));
    &PROBE
}

/// Whether `waker` is [`probe_waker`] (the data pointer is its own allocation's).
fn is_probe(waker: &Waker) -> bool {
    std::ptr::eq(waker.data(), probe_waker().data())
}

/// Non-blocking reads tried between two clock checks while busy-polling: a `recv` that
/// finds nothing costs a few hundred ns, so the budget is checked every few µs at most.
const SPINS_PER_CLOCK_CHECK: u32 = 8;

impl TcpStream {
    /// Wraps a connected std stream in async-io's reactor (sets it non-blocking).
    ///
    /// This registers the socket with async-io, which starts its reactor thread on first
    /// use; under tokio prefer `TcpStream::from_tokio` (feature `tokio`).
    ///
    /// # Errors
    ///
    /// When the socket cannot be made non-blocking or registered.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<Self> {
        Ok(Self::from_async_io(async_io::Async::new(stream)?))
    }

    /// Wraps a stream already registered with async-io.
    pub fn from_async_io(stream: async_io::Async<std::net::TcpStream>) -> Self {
        Self {
            inner: Inner::AsyncIo(stream),
            busy_poll: None,
        }
    }

    /// Wraps a tokio stream; it stays on tokio's reactor.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn from_tokio(stream: ::tokio::net::TcpStream) -> Self {
        use tokio_util::compat::TokioAsyncReadCompatExt;
        Self {
            inner: Inner::Tokio(stream.compat()),
            busy_poll: None,
        }
    }

    /// Wraps any other transport (a custom connector's stream, an in-memory pipe in tests).
    ///
    /// Socket methods ([`set_nodelay`](Self::set_nodelay), [`peer_addr`](Self::peer_addr),
    /// [`local_addr`](Self::local_addr)) return [`io::ErrorKind::Unsupported`] for it.
    pub fn from_custom(stream: Box<dyn AsyncStream>) -> Self {
        Self {
            inner: Inner::Custom(stream),
            busy_poll: None,
        }
    }

    /// Sets `TCP_NODELAY`.
    ///
    /// # Errors
    ///
    /// The OS error, or `Unsupported` for a custom stream.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        match &self.inner {
            Inner::AsyncIo(s) => s.get_ref().set_nodelay(nodelay),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => s.get_ref().set_nodelay(nodelay),
            Inner::Custom(_) => Err(unsupported()),
        }
    }

    /// Busy-polls reads: when a read finds no data, keep retrying it with non-blocking
    /// `recv` calls for up to `budget` before the task parks on the reactor, so data that
    /// arrives within the budget is picked up without a reactor wake-up (what that costs,
    /// measured: `docs/busy-poll.md`). `None` (the default) parks at once.
    ///
    /// The executor thread spins for the whole budget on every read that finds nothing:
    /// use it on a thread dedicated to the hot path, with a budget near the expected gap
    /// between messages (a request's round trip, a feed's update interval). Other tasks
    /// on that thread wait while it spins. A custom transport is not spun (its budget
    /// stays `None`).
    pub fn set_busy_poll(&mut self, budget: Option<Duration>) {
        let spinnable = !matches!(self.inner, Inner::Custom(_));
        self.busy_poll = budget.filter(|d| spinnable && !d.is_zero());
    }

    /// The busy-poll budget, if any (see [`set_busy_poll`](Self::set_busy_poll)).
    pub fn busy_poll(&self) -> Option<Duration> {
        self.busy_poll
    }

    /// One non-blocking `recv` on the socket, bypassing the reactor: `WouldBlock` when
    /// nothing is buffered (always, for a custom transport, which is never given a budget).
    fn try_read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::Read;
        match &self.inner {
            // Both sockets are in non-blocking mode (the reactors set it).
            Inner::AsyncIo(s) => (&mut s.get_ref()).read(buf),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => (&mut &*socket2::SockRef::from(s.get_ref())).read(buf),
            Inner::Custom(_) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// The busy-poll loop, after the reactor's read found nothing (and registered the
    /// task's waker, which stays registered if the budget runs out).
    fn spin_read(&self, buf: &mut [u8], budget: Duration) -> Poll<io::Result<usize>> {
        let start = std::time::Instant::now();
        loop {
            for _ in 0..SPINS_PER_CLOCK_CHECK {
                match self.try_read_now(buf) {
                    Ok(n) => return Poll::Ready(Ok(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            if start.elapsed() >= budget {
                return Poll::Pending;
            }
        }
    }

    /// Applies `opts` to this socket (what connectors do after connecting).
    ///
    /// # Errors
    ///
    /// The OS error, or `Unsupported` for a custom stream.
    pub fn apply_options(&self, opts: &TcpOptions) -> io::Result<()> {
        match &self.inner {
            Inner::AsyncIo(s) => opts.apply(s.get_ref()),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => opts.apply(s.get_ref()),
            Inner::Custom(_) => Err(unsupported()),
        }
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The OS error, or `Unsupported` for a custom stream.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::AsyncIo(s) => s.get_ref().peer_addr(),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => s.get_ref().peer_addr(),
            Inner::Custom(_) => Err(unsupported()),
        }
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error, or `Unsupported` for a custom stream.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::AsyncIo(s) => s.get_ref().local_addr(),
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => s.get_ref().local_addr(),
            Inner::Custom(_) => Err(unsupported()),
        }
    }
}

impl From<async_io::Async<std::net::TcpStream>> for TcpStream {
    fn from(stream: async_io::Async<std::net::TcpStream>) -> Self {
        Self::from_async_io(stream)
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl From<::tokio::net::TcpStream> for TcpStream {
    fn from(stream: ::tokio::net::TcpStream) -> Self {
        Self::from_tokio(stream)
    }
}

fn unsupported() -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, "not a socket: custom transport")
}

/// Dispatches one poll method over the variants.
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        crate::io::dispatch!(&mut $self.get_mut().inner, $s => $e;
            Inner::AsyncIo, #[cfg(feature = "tokio")] Inner::Tokio, Inner::Custom)
    };
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut this = self;
        let inner = this.as_mut();
        let res = dispatch!(inner, s => Pin::new(s).poll_read(cx, buf));
        let this = this.get_mut();
        match (res, this.busy_poll) {
            (Poll::Pending, Some(budget)) if !buf.is_empty() && !is_probe(cx.waker()) => {
                this.spin_read(buf, budget)
            }
            (res, _) => res,
        }
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        dispatch!(self, s => Pin::new(s).poll_read_vectored(cx, bufs))
    }
}

impl AsyncWrite for TcpStream {
    crate::io::forward_write!(dispatch);

    /// Shuts down the write half: the peer reads EOF, and this side can still read.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            // async-io's own `poll_close` only flushes; shut the write half down here.
            Inner::AsyncIo(s) => Poll::Ready(s.get_ref().shutdown(std::net::Shutdown::Write)),
            // tokio's `poll_shutdown` (behind compat's `poll_close`) is `shutdown(Write)`.
            #[cfg(feature = "tokio")]
            Inner::Tokio(s) => Pin::new(s).poll_close(cx),
            Inner::Custom(s) => Pin::new(s).poll_close(cx),
        }
    }
}

/// Strips the brackets of an IPv6 literal as written in URLs (`[::1]` → `::1`).
pub(crate) fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Tries `connect` on every address in turn; returns the first success or the last error.
pub(crate) async fn connect_any<A, F, Fut, T>(addrs: A, mut connect: F) -> io::Result<T>
where
    A: IntoIterator<Item = SocketAddr>,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        match connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "host name resolved to no addresses",
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_brackets_are_stripped_and_other_hosts_kept() {
        assert_eq!(strip_brackets("[::1]"), "::1");
        assert_eq!(strip_brackets("::1"), "::1");
        assert_eq!(strip_brackets("example.com"), "example.com");
        assert_eq!(strip_brackets("["), "[");
    }

    #[test]
    fn a_custom_stream_carries_bytes_and_reports_socket_methods_as_unsupported() {
        let mut s = TcpStream::from_custom(Box::new(futures::io::Cursor::new(Vec::new())));
        assert_eq!(
            s.set_nodelay(true).map_err(|e| e.kind()),
            Err(io::ErrorKind::Unsupported)
        );
        assert!(s.peer_addr().is_err() && s.local_addr().is_err());
        assert!(s.apply_options(&TcpOptions::new()).is_err());
        futures::executor::block_on(async {
            use futures_util::AsyncWriteExt;
            s.write_all(b"abc").await.unwrap();
            s.close().await.unwrap();
        });
        assert!(format!("{s:?}").contains("Custom"));
    }

    #[test]
    fn connecting_to_no_addresses_is_a_not_found_error() {
        let r: io::Result<()> =
            futures::executor::block_on(connect_any(Vec::new(), |_| async { Ok(()) }));
        assert_eq!(r.map_err(|e| e.kind()), Err(io::ErrorKind::NotFound));
    }

    #[test]
    fn every_address_is_tried_until_one_succeeds() {
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:1".parse().unwrap_or_else(|_| unreachable!()),
            "127.0.0.1:2".parse().unwrap_or_else(|_| unreachable!()),
        ];
        let r = futures::executor::block_on(connect_any(addrs, |a| async move {
            if a.port() == 2 {
                Ok(a.port())
            } else {
                Err(io::Error::other("refused"))
            }
        }));
        assert_eq!(r.ok(), Some(2));
    }
}
