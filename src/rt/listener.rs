//! [`TcpListener`]: one listening socket type for every runtime.
//!
//! Like [`TcpStream`], an enum rather than a trait object: the async-io variant (portable,
//! smol, async-std, custom executors) and the tokio variant (tokio's own reactor). Both are
//! bound by [`bind_std`], so every runtime gets the same socket options and backlog.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::TcpStream;

/// The `listen(2)` backlog of every listener the crate binds. Linux caps it at
/// `net.core.somaxconn` (4096 on current kernels); 1024 absorbs a reconnect storm of a few
/// hundred feed clients without the kernel dropping SYNs.
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// Binds a non-blocking listening socket on `addr` with `SO_REUSEADDR` (on Unix, so a
/// restarted server does not wait out `TIME_WAIT`) and a backlog of [`LISTEN_BACKLOG`].
pub(crate) fn bind_std(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    bind_socket(addr, false)
}

fn bind_socket(addr: SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

#[cfg(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
))]
fn set_reuse_port(socket: &socket2::Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_: &socket2::Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this OS: bind one listener and share it, or accept \
         on one thread and hand connections to the others",
    ))
}

/// Binds `shards` listening sockets on one address with `SO_REUSEPORT`, for a
/// thread-per-core server: give one to each thread, which wraps it on its own runtime with
/// [`Runtime::adopt`](super::Runtime::adopt), and the kernel spreads new connections
/// across them (Linux hashes the connection's addresses and ports; each listener gets its
/// share of the accept queue, so one busy thread does not accept for the others).
///
/// Port 0 picks a free port once; every shard is bound to it.
///
/// ```
/// use nexus_async_net::rt::{bind_reuse_port, Runtime};
/// # fn main() -> std::io::Result<()> {
/// let shards = bind_reuse_port("127.0.0.1:0".parse().unwrap(), 4)?;
/// let port = shards[0].local_addr()?.port();
/// assert!(shards.iter().all(|l| l.local_addr().unwrap().port() == port));
/// // On each runtime thread:
/// let listener = Runtime::current().adopt(shards.into_iter().next().unwrap())?;
/// # drop(listener);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// `Unsupported` where the OS has no `SO_REUSEPORT` (the text says what to do instead);
/// the OS error of binding otherwise.
pub fn bind_reuse_port(addr: SocketAddr, shards: usize) -> io::Result<Vec<std::net::TcpListener>> {
    let first = bind_socket(addr, true)?;
    let addr = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..shards.max(1) {
        all.push(bind_socket(addr, true)?);
    }
    Ok(all)
}

/// A listening TCP socket, whatever runtime drives it.
///
/// Get one from [`Runtime::bind`](super::Runtime::bind) (the runtime's own reactor), or
/// wrap a listener you bound yourself with [`TcpListener::from_std`] or (feature `tokio`)
/// [`TcpListener::from_tokio`]. A WebSocket server usually wants
/// [`WsStreamBuilder::bind`](crate::ws::WsStreamBuilder::bind) instead, which accepts
/// and upgrades in one call.
///
/// ```
/// use nexus_async_net::rt::Runtime;
/// # fn main() -> std::io::Result<()> {
/// futures::executor::block_on(async {
///     let rt = Runtime::current();
///     let listener = rt.bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = listener.local_addr()?;
///     let opts = Default::default();
///     let (accepted, client) = futures::join!(
///         listener.accept(),
///         rt.connect("127.0.0.1", addr.port(), &opts),
///     );
///     let (_server_side, peer) = accepted?;
///     assert_eq!(peer, client?.local_addr()?);
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpListener {
    inner: Inner,
}

enum Inner {
    AsyncIo(async_io::Async<std::net::TcpListener>),
    /// Tokio registers an accepted socket with the *current* runtime, so the handle the
    /// listener was made under is entered around every accept (when one is known).
    #[cfg(feature = "tokio")]
    Tokio(::tokio::net::TcpListener, Option<::tokio::runtime::Handle>),
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::AsyncIo(l) => f
                .debug_tuple("TcpListener::AsyncIo")
                .field(l.get_ref())
                .finish(),
            #[cfg(feature = "tokio")]
            Inner::Tokio(l, _) => f.debug_tuple("TcpListener::Tokio").field(l).finish(),
        }
    }
}

impl TcpListener {
    /// Wraps a bound std listener on the async-io reactor (portable, smol, async-std and
    /// custom executors). The socket is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error of registering the socket.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        Ok(Self {
            inner: Inner::AsyncIo(async_io::Async::new(listener)?),
        })
    }

    /// Wraps a tokio listener (feature `tokio`); accepted sockets stay on tokio's reactor.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn from_tokio(listener: ::tokio::net::TcpListener) -> Self {
        let handle = ::tokio::runtime::Handle::try_current().ok();
        Self::tokio_with(listener, handle)
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn tokio_with(
        listener: ::tokio::net::TcpListener,
        handle: Option<::tokio::runtime::Handle>,
    ) -> Self {
        Self {
            inner: Inner::Tokio(listener, handle),
        }
    }

    /// The bound address (with the port the OS picked for port 0).
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner {
            Inner::AsyncIo(l) => l.get_ref().local_addr(),
            #[cfg(feature = "tokio")]
            Inner::Tokio(l, _) => l.local_addr(),
        }
    }

    /// Waits for the next connection. Cancel-safe: dropping the future loses no
    /// connection (it stays in the kernel's queue).
    ///
    /// # Errors
    ///
    /// The OS error of `accept(2)`. `ConnectionAborted` (a client gave up while queued) and
    /// `EMFILE` (out of file descriptors) leave the listener usable: log, wait a moment
    /// for the latter, and call `accept` again.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection; the poll form of [`accept`](Self::accept).
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match &self.inner {
            Inner::AsyncIo(l) => loop {
                match l.get_ref().accept() {
                    Ok((stream, peer)) => {
                        return Poll::Ready(Ok((TcpStream::from_std(stream)?, peer)));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::task::ready!(l.poll_readable(cx))?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
            #[cfg(feature = "tokio")]
            Inner::Tokio(l, handle) => {
                let _entered = handle.as_ref().map(::tokio::runtime::Handle::enter);
                l.poll_accept(cx)
                    .map_ok(|(stream, peer)| (TcpStream::from_tokio(stream), peer))
            }
        }
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    fn try_from(listener: std::net::TcpListener) -> io::Result<Self> {
        Self::from_std(listener)
    }
}

#[cfg(feature = "tokio")]
impl From<::tokio::net::TcpListener> for TcpListener {
    fn from(listener: ::tokio::net::TcpListener) -> Self {
        Self::from_tokio(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_std_is_nonblocking_and_reports_addr_in_use() {
        let l = bind_std("127.0.0.1:0".parse().unwrap()).unwrap();
        // Non-blocking: no pending connection is WouldBlock, not a hang.
        assert_eq!(l.accept().unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // A second listener on a port in use is refused with AddrInUse (SO_REUSEADDR does
        // not allow two listeners).
        let err = bind_std(l.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reuse_port_shards_share_one_port_and_the_kernel_spreads_connections() {
        let shards = bind_reuse_port("127.0.0.1:0".parse().unwrap(), 4).unwrap();
        let addr = shards[0].local_addr().unwrap();
        let clients: Vec<_> = (0..64)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut per_shard = Vec::new();
        for l in &shards {
            let mut n = 0;
            while l.accept().is_ok() {
                n += 1;
            }
            per_shard.push(n);
        }
        assert_eq!(
            per_shard.iter().sum::<usize>(),
            clients.len(),
            "{per_shard:?}"
        );
        assert!(
            per_shard.iter().filter(|&&n| n > 0).count() >= 2,
            "64 connections all on one shard: {per_shard:?}"
        );
        // Without SO_REUSEPORT the port is taken.
        assert_eq!(bind_std(addr).unwrap_err().kind(), io::ErrorKind::AddrInUse);
    }

    #[test]
    fn an_async_io_listener_accepts_and_reports_the_peer() {
        futures::executor::block_on(async {
            let l =
                TcpListener::from_std(bind_std("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
            let addr = l.local_addr().unwrap();
            let client = std::net::TcpStream::connect(addr).unwrap();
            let (stream, peer) = l.accept().await.unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(stream.peer_addr().unwrap(), peer);
        });
    }
}
