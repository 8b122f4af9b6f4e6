//! The runtime seam: spawning, timers and connecting, for any async runtime.
//!
//! The rest of the crate never names a runtime. It asks a [`Runtime`] — a cheap `Clone`
//! handle over three small object-safe traits — to
//!
//! - [`Spawner`]: run a background future (`spawn`, or `spawn_local` for `!Send` ones).
//!   Both return a [`SpawnError`] instead of panicking when they cannot;
//! - [`Timer`]: a [`Sleep`] that can be re-armed in place with [`Sleep::reset`] (no
//!   allocation per heartbeat or read timeout), and `now()`;
//! - [`Connector`]: resolve a host name without blocking an executor thread, try every
//!   address, and apply [`TcpOptions`], yielding a [`TcpStream`].
//!
//! Shims, one file each: `tokio` (feature `tokio`: tokio's own reactor and
//! timer, never a second reactor thread), `smol` (feature `smol`),
//! `async_std` (feature `async-std`) and [`portable`] (always: async-io,
//! works under any executor).
//!
//! [`Runtime::current()`] picks one: tokio when a tokio runtime is current, else smol, else
//! async-std (whichever features are on), else portable. Pass one explicitly to a builder to
//! override it; `docs/runtimes.md` has the full story.
//!
//! # A custom executor
//!
//! Implement [`Spawner`] for your executor and reuse the portable timer and connector:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use nexus_async_net::rt::{BoxFuture, LocalBoxFuture, Runtime, SpawnError, Spawner};
//! use nexus_async_net::rt::portable::{PortableConnector, PortableTimer};
//!
//! /// A toy executor: one thread per task.
//! #[derive(Debug)]
//! struct ThreadPerTask;
//!
//! impl Spawner for ThreadPerTask {
//!     fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
//!         std::thread::Builder::new()
//!             .spawn(move || futures::executor::block_on(fut))
//!             .map(drop)
//!             .map_err(|e| SpawnError::Other(e.into()))
//!     }
//!     fn spawn_local(&self, _: LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
//!         Err(SpawnError::Unsupported)
//!     }
//! }
//!
//! let rt = Runtime::new(
//!     Arc::new(ThreadPerTask),
//!     Arc::new(PortableTimer::new()),
//!     Arc::new(PortableConnector::new()),
//! );
//! let (tx, rx) = futures::channel::oneshot::channel();
//! rt.spawn(async move { let _ = tx.send(42); }).unwrap();
//! futures::executor::block_on(async {
//!     rt.sleep(Duration::from_millis(1)).await;
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::fmt::Debug;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

mod listener;
mod tcp;

#[cfg(feature = "async-std")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-std")))]
pub mod async_std;
pub mod portable;
#[cfg(feature = "smol")]
#[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
pub mod smol;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub(crate) use listener::bind_std;
pub use listener::{TcpListener, bind_reuse_port};
pub(crate) use tcp::probe_waker;
pub use tcp::{AsyncStream, TcpOptions, TcpStream};
pub(crate) use tcp::{connect_any, strip_brackets};

/// A boxed `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A boxed future that need not be `Send`.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What [`Connector::connect`] returns: the connected stream, or the last error.
pub type ConnectFuture<'a> = BoxFuture<'a, io::Result<TcpStream>>;

/// Runs background futures (pool healing, heartbeats).
pub trait Spawner: Send + Sync + Debug + 'static {
    /// Runs `fut` to completion in the background, detached.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] when there is no executor to run it on; callers then run the work
    /// inline or report the error. Never panics.
    fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError>;

    /// Runs a `!Send` future on the current thread's executor, detached.
    ///
    /// # Errors
    ///
    /// [`SpawnError::Unsupported`] when the executor has no local spawning (what this
    /// default does, and every shim but one). Never panics, with one explicit opt-in
    /// exception: `Runtime::tokio_local` calls `tokio::task::spawn_local`, which panics
    /// outside a `LocalSet`.
    fn spawn_local(&self, fut: LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        drop(fut);
        Err(SpawnError::Unsupported)
    }
}

/// A timer future that can be re-armed in place.
pub trait Sleep: Future<Output = ()> + Send + Debug {
    /// Moves the deadline (earlier or later) without allocating; a completed sleep becomes
    /// pending again until the new deadline.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
}

/// Creates timers.
pub trait Timer: Send + Sync + Debug + 'static {
    /// A sleep completing at `deadline` (immediately if it is in the past).
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>>;

    /// The current time on this timer's clock (tokio's clock may be paused in tests).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Opens TCP connections.
pub trait Connector: Send + Sync + Debug + 'static {
    /// Resolves `host` (a name, an IP literal, or a bracketed IPv6 literal) without blocking
    /// an executor thread, connects to each resolved address in turn until one succeeds,
    /// and applies `opts`.
    ///
    /// # Errors
    ///
    /// The resolver's error, or the last connect error when every address failed.
    fn connect<'a>(&'a self, host: &'a str, port: u16, opts: &'a TcpOptions) -> ConnectFuture<'a>;

    /// Binds a listening socket on `addr` on this connector's reactor (`SO_REUSEADDR` on
    /// Unix, a backlog of 1024). The default puts it on the async-io reactor, which serves
    /// every executor; the tokio shim overrides it to stay on tokio's reactor.
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse`, `PermissionDenied` for a privileged port, ...).
    fn bind(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        self.adopt(bind_std(addr)?)
    }

    /// Puts a bound, listening std socket on this connector's reactor (async-io by
    /// default; the tokio shim uses tokio's). The one place a listener meets a reactor.
    ///
    /// # Errors
    ///
    /// The OS error of registering the socket.
    fn adopt(&self, listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_std(listener)
    }

    /// Resolves `host` (a name, an IP literal, or a bracketed IPv6 literal) to addresses
    /// without blocking an executor thread, for a SOCKS5 proxy that takes an address. The
    /// default runs the system resolver on a small thread pool (`async-net`); IP literals
    /// never reach it. The tokio shim uses tokio's blocking pool.
    ///
    /// # Errors
    ///
    /// The resolver's error.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move {
            let host = strip_brackets(host);
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            async_net::resolve((host, port)).await
        })
    }
}

/// Why a future could not be spawned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The runtime has no executor ([`Runtime::portable`]): run the work inline instead.
    #[error("no executor to spawn on")]
    NoExecutor,
    /// The executor cannot run this kind of future (usually `spawn_local`).
    #[error("the executor does not support this kind of spawn")]
    Unsupported,
    /// The executor has shut down.
    #[error("the executor has shut down")]
    Shutdown,
    /// A custom spawner's own error.
    #[error("spawn failed: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// A [`Runtime::timeout`] deadline passed before the future completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline elapsed")]
pub struct Elapsed;

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> Self {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}

/// Which shim a [`Runtime`] was built from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuntimeKind {
    /// `Runtime::tokio` and friends (feature `tokio`).
    Tokio,
    /// `Runtime::smol` (feature `smol`).
    Smol,
    /// `Runtime::async_std` (feature `async-std`).
    AsyncStd,
    /// [`Runtime::portable`].
    Portable,
    /// [`Runtime::new`].
    Custom,
}

/// A cheap `Clone` handle over a [`Spawner`], a [`Timer`] and a [`Connector`].
#[derive(Clone, Debug)]
pub struct Runtime {
    spawner: Arc<dyn Spawner>,
    timer: Arc<dyn Timer>,
    connector: Arc<dyn Connector>,
    kind: RuntimeKind,
}

impl Runtime {
    /// A runtime from your own parts (a custom executor); see the [module docs](self).
    pub fn new(
        spawner: Arc<dyn Spawner>,
        timer: Arc<dyn Timer>,
        connector: Arc<dyn Connector>,
    ) -> Self {
        Self::with_kind(spawner, timer, connector, RuntimeKind::Custom)
    }

    pub(crate) fn with_kind(
        spawner: Arc<dyn Spawner>,
        timer: Arc<dyn Timer>,
        connector: Arc<dyn Connector>,
        kind: RuntimeKind,
    ) -> Self {
        Self {
            spawner,
            timer,
            connector,
            kind,
        }
    }

    /// The runtime the caller is running under.
    ///
    /// Tokio when the `tokio` feature is on and a tokio runtime is current; otherwise smol
    /// (feature `smol`), else async-std (feature `async-std`), else [`Runtime::portable`].
    /// Cheap: the non-tokio answers are built once and cloned.
    pub fn current() -> Self {
        #[cfg(feature = "tokio")]
        if let Some(rt) = Self::tokio() {
            return rt;
        }
        static FALLBACK: OnceLock<Runtime> = OnceLock::new();
        FALLBACK.get_or_init(Self::fallback).clone()
    }

    fn fallback() -> Self {
        #[cfg(feature = "smol")]
        return Self::smol();
        #[cfg(all(feature = "async-std", not(feature = "smol")))]
        return Self::async_std();
        #[cfg(not(any(feature = "smol", feature = "async-std")))]
        Self::portable()
    }

    /// The executor-agnostic runtime: async-io timers and sockets, async-net DNS (on a
    /// blocking thread pool), and **no spawner**: both spawn methods return
    /// [`SpawnError::NoExecutor`], so background work (pool healing) runs inline instead.
    ///
    /// Works under any executor, including `futures::executor::block_on`. async-io starts
    /// its reactor thread ("async-io") on first use.
    pub fn portable() -> Self {
        Self::with_kind(
            Arc::new(portable::NoSpawner::new()),
            Arc::new(portable::PortableTimer::new()),
            Arc::new(portable::PortableConnector::new()),
            RuntimeKind::Portable,
        )
    }

    /// The current tokio runtime, or `None` outside one. Uses tokio's reactor and timer.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn tokio() -> Option<Self> {
        ::tokio::runtime::Handle::try_current()
            .ok()
            .map(Self::tokio_from_handle)
    }

    /// A tokio runtime from a handle; usable from any thread, even outside the runtime's
    /// context. `spawn_local` returns [`SpawnError::Unsupported`].
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn tokio_from_handle(handle: ::tokio::runtime::Handle) -> Self {
        let shim = Arc::new(self::tokio::Tokio::new(handle, false));
        Self::with_kind(shim.clone(), shim.clone(), shim, RuntimeKind::Tokio)
    }

    /// Like [`Runtime::tokio`], but `spawn_local` calls `tokio::task::spawn_local`.
    ///
    /// This is an explicit opt-in: use it only where every `spawn_local` happens inside a
    /// `tokio::task::LocalSet` (or a `LocalRuntime`).
    ///
    /// # Panics
    ///
    /// Never here; but a later `spawn_local` outside a `LocalSet` panics inside tokio.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn tokio_local() -> Option<Self> {
        let handle = ::tokio::runtime::Handle::try_current().ok()?;
        let shim = Arc::new(self::tokio::Tokio::new(handle, true));
        Some(Self::with_kind(
            shim.clone(),
            shim.clone(),
            shim,
            RuntimeKind::Tokio,
        ))
    }

    /// smol: background tasks on smol's global executor, async-io timers and sockets.
    /// `spawn_local` returns [`SpawnError::Unsupported`].
    #[cfg(feature = "smol")]
    #[cfg_attr(docsrs, doc(cfg(feature = "smol")))]
    pub fn smol() -> Self {
        Self::with_kind(
            Arc::new(self::smol::SmolSpawner::new()),
            Arc::new(portable::PortableTimer::new()),
            Arc::new(portable::PortableConnector::new()),
            RuntimeKind::Smol,
        )
    }

    /// async-std: background tasks on async-std's executor, async-io timers and sockets.
    /// async-std is discontinued upstream; prefer `Runtime::smol`.
    #[cfg(feature = "async-std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async-std")))]
    pub fn async_std() -> Self {
        Self::with_kind(
            Arc::new(self::async_std::AsyncStdSpawner::new()),
            Arc::new(portable::PortableTimer::new()),
            Arc::new(portable::PortableConnector::new()),
            RuntimeKind::AsyncStd,
        )
    }

    /// Which shim this runtime came from.
    pub fn kind(&self) -> RuntimeKind {
        self.kind
    }

    /// The spawner.
    pub fn spawner(&self) -> &Arc<dyn Spawner> {
        &self.spawner
    }

    /// The timer.
    pub fn timer(&self) -> &Arc<dyn Timer> {
        &self.timer
    }

    /// The connector.
    pub fn connector(&self) -> &Arc<dyn Connector> {
        &self.connector
    }

    /// Spawns a detached background future.
    ///
    /// # Errors
    ///
    /// See [`Spawner::spawn`].
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) -> Result<(), SpawnError> {
        self.spawner.spawn(Box::pin(fut))
    }

    /// Spawns a detached `!Send` future on the current thread.
    ///
    /// # Errors
    ///
    /// See [`Spawner::spawn_local`].
    pub fn spawn_local(&self, fut: impl Future<Output = ()> + 'static) -> Result<(), SpawnError> {
        self.spawner.spawn_local(Box::pin(fut))
    }

    /// The timer's clock.
    pub fn now(&self) -> Instant {
        self.timer.now()
    }

    /// A sleep until `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.timer.sleep_until(deadline)
    }

    /// A sleep for `d` (saturating: a huge `d` sleeps "forever" instead of overflowing).
    pub fn sleep(&self, d: Duration) -> Pin<Box<dyn Sleep>> {
        self.timer.sleep_until(deadline_after(self.now(), d))
    }

    /// Runs `fut` with a time limit; `None` means no limit.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] when the limit passes first; `fut` is then dropped.
    pub async fn timeout<F: Future>(
        &self,
        d: Option<Duration>,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        let deadline = d.map(|d| deadline_after(self.now(), d));
        self.timeout_at(deadline, fut).await
    }

    /// Runs `fut` until `deadline`; `None` means no deadline. One deadline can cover
    /// several steps (DNS, TCP, TLS, upgrade).
    ///
    /// # Errors
    ///
    /// [`Elapsed`] when the deadline passes first; `fut` is then dropped.
    pub async fn timeout_at<F: Future>(
        &self,
        deadline: Option<Instant>,
        fut: F,
    ) -> Result<F::Output, Elapsed> {
        let Some(deadline) = deadline else {
            return Ok(fut.await);
        };
        let mut fut = pin!(fut);
        let mut sleep = self.sleep_until(deadline);
        poll_fn(|cx| {
            // The future first: a result that is ready wins over a deadline that is too.
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(v));
            }
            sleep.as_mut().poll(cx).map(|()| Err(Elapsed))
        })
        .await
    }

    /// Connects to `host:port` through the connector and gives the stream the busy-poll
    /// budget of `opts` ([`TcpStream::set_busy_poll`]).
    ///
    /// # Errors
    ///
    /// See [`Connector::connect`].
    pub async fn connect(&self, host: &str, port: u16, opts: &TcpOptions) -> io::Result<TcpStream> {
        let mut stream = self.connector.connect(host, port, opts).await?;
        if opts.busy_poll.is_some() {
            stream.set_busy_poll(opts.busy_poll);
        }
        Ok(stream)
    }

    /// Resolves `host:port` through the connector (see [`Connector::resolve`]).
    ///
    /// # Errors
    ///
    /// The resolver's error.
    pub async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.connector.resolve(host, port).await
    }

    /// Puts a listening std socket (one of [`bind_reuse_port`]'s shards, say) on this
    /// runtime's reactor (see [`Connector::adopt`]).
    ///
    /// # Errors
    ///
    /// The OS error of registering the socket.
    pub fn adopt(&self, listener: std::net::TcpListener) -> io::Result<TcpListener> {
        self.connector.adopt(listener)
    }

    /// Binds a listening socket on `addr` through the connector (see [`Connector::bind`]).
    /// For a WebSocket server, [`WsStreamBuilder::bind`](crate::ws::WsStreamBuilder::bind)
    /// binds and upgrades in one step.
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse`, `PermissionDenied`, ...).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        self.connector.bind(addr)
    }
}

impl Default for Runtime {
    /// [`Runtime::current()`].
    fn default() -> Self {
        Self::current()
    }
}

/// `now + d`, saturating to a deadline far enough away to mean "never".
pub(crate) fn deadline_after(now: Instant, d: Duration) -> Instant {
    // About 30 years, as tokio does for "never"; an `Instant` cannot hold `Duration::MAX`.
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(d.min(FAR))
        .or_else(|| now.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
