//! The connect layer: what every client connection has in common.
//!
//! - [`ConnectOptions`]: Nagle, TCP keepalive, busy-poll, connect timeout, TLS and the
//!   runtime. [`WsStreamBuilder`](crate::ws::WsStreamBuilder),
//!   [`HttpConnectionBuilder`](crate::rest::HttpConnectionBuilder) and the pool builders
//!   embed one and their connect setters delegate to it.
//! - one URL parser with one `Host` header rule, for `ws://`, `wss://`, `http://` and
//!   `https://`;
//! - one connect: TCP through the runtime's connector (socket options applied), through
//!   a [`proxy`] when one is set, then TLS when the scheme says so, all under the connect
//!   timeout.
//!
//! # Timeouts and their defaults
//!
//! Nothing this crate does waits forever unless you ask it to. Every deadline below has
//! a default, and every setter takes a `Duration` or `None` (no deadline, an explicit
//! opt-out):
//!
//! | deadline | covers | default | setter |
//! |---|---|---|---|
//! | connect | DNS, TCP, TLS handshake and, for a WebSocket, the upgrade | [`DEFAULT_CONNECT_TIMEOUT`] (5 s) | `connect_timeout` on every client builder and [`ConnectOptions`] |
//! | accept | a server's TLS handshake and upgrade request | [`DEFAULT_ACCEPT_TIMEOUT`] (10 s) | `WsStreamBuilder::accept_timeout` |
//! | close | waiting for the peer's Close after ours | [`DEFAULT_CLOSE_TIMEOUT`] (5 s) | `WsStreamBuilder::close_timeout` |
//! | pool acquire | waiting for a free pooled connection | 5 s | `acquire_timeout` on the pool builders |
//!
//! Deadlines that depend on the traffic are off until set, because no default fits every
//! feed: a WebSocket's `heartbeat` and `idle_timeout`, and an HTTP connection's
//! `read_timeout` (set one for order entry: a server that accepts a request and never
//! answers holds `send` until it does).
//!
//! ```
//! use std::time::Duration;
//! use nexus_async_net::connect::DEFAULT_CONNECT_TIMEOUT;
//! use nexus_async_net::ws::WsStreamBuilder;
//!
//! let default = WsStreamBuilder::new();
//! assert_eq!(default.get_connect_options().connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
//! let patient = WsStreamBuilder::new().connect_timeout(Duration::from_secs(30));
//! let unbounded = WsStreamBuilder::new().connect_timeout(None); // waits as long as the OS does
//! # drop((patient, unbounded));
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use crate::rt::{Runtime, TcpOptions, TcpStream};
use crate::tls::MaybeTls;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;
#[cfg(feature = "tls")]
use crate::tls::TlsError;

mod backoff;
pub mod proxy;
mod setters;
mod target;

pub use crate::proto::proxy::{ProxyErrorKind, SocksReply};
pub use backoff::Backoff;
pub use proxy::{NoProxy, Proxy, ProxyConfig, ProxyError};

pub(crate) use setters::connect_setters;
pub(crate) use target::{Target, TargetError};

/// The default connect timeout of every client connection: WebSocket, HTTP and pooled
/// (initial connects and reconnects). It bounds DNS, TCP, TLS and the WebSocket upgrade
/// together, so a server that accepts TCP and never answers cannot hold `connect`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default deadline for a server's `accept`: the TLS handshake and the upgrade
/// request, so a client that never finishes its handshake cannot hold a connection.
pub const DEFAULT_ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time `close` waits for the peer's Close after sending ours.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The options every client connection has: socket options, connect timeout, TLS and the
/// runtime.
///
/// Every builder that connects embeds one and has the same setters for it
/// (`disable_nagle`, `tcp_keepalive`, `busy_poll`, `connect_timeout`, `tls`, `runtime`),
/// plus `connect_options` to set them all at once, so one value can configure a
/// WebSocket feed, an HTTP connection and a pool alike.
///
/// Defaults: Nagle on, no TCP keepalive, no busy-poll, a connect timeout of
/// [`DEFAULT_CONNECT_TIMEOUT`], the built-in root certificates for `wss://` / `https://`,
/// [`Runtime::current`].
///
/// ```
/// use std::time::Duration;
/// use nexus_async_net::connect::ConnectOptions;
/// use nexus_async_net::rest::HttpConnectionBuilder;
/// use nexus_async_net::ws::WsStreamBuilder;
///
/// let opts = ConnectOptions::new()
///     .disable_nagle()
///     .connect_timeout(Duration::from_secs(3));
/// let ws = WsStreamBuilder::new().connect_options(opts.clone());
/// let http = HttpConnectionBuilder::new().connect_options(opts);
/// assert!(ws.get_connect_options().tcp.nodelay);
/// assert_eq!(http.get_connect_options().connect_timeout, Some(Duration::from_secs(3)));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Socket options applied to every new connection (Nagle, keepalive, busy-poll).
    pub tcp: TcpOptions,
    /// Deadline for connecting: DNS, TCP and TLS (and, for a WebSocket, the upgrade).
    /// Default [`DEFAULT_CONNECT_TIMEOUT`]; `None`: no deadline.
    pub connect_timeout: Option<Duration>,
    /// The TLS configuration for `wss://` / `https://`; `None` uses a process-wide
    /// default with the built-in roots. A WebSocket server also takes its server side
    /// from here.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub tls: Option<TlsConfig>,
    /// The runtime for connecting and timers; `None` uses [`Runtime::current`] when a
    /// connection is made.
    pub runtime: Option<Runtime>,
    /// The proxy settings; `None` (the default) connects directly, whatever the
    /// environment says. See [the `proxy` module](crate::connect::proxy).
    pub proxy: Option<std::sync::Arc<ProxyConfig>>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            tcp: TcpOptions::default(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            #[cfg(feature = "tls")]
            tls: None,
            runtime: None,
            proxy: None,
        }
    }
}

impl ConnectOptions {
    /// Options with every field at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the TLS configuration (build one [`TlsConfig`] and share it: cloning is
    /// cheap).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn tls(mut self, config: &TlsConfig) -> Self {
        self.tls = Some(config.clone());
        self
    }

    /// Sets `TCP_NODELAY` on every connection.
    #[must_use]
    pub fn disable_nagle(mut self) -> Self {
        self.tcp.nodelay = true;
        self
    }

    /// Enables TCP keepalive probes after `idle` without traffic.
    #[must_use]
    pub fn tcp_keepalive(mut self, idle: Duration) -> Self {
        self.tcp.keepalive = Some(idle);
        self
    }

    /// Busy-polls reads for up to `budget` before parking on the reactor; see
    /// [`TcpStream::set_busy_poll`] and `docs/busy-poll.md`.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nexus_async_net::ws::WsError> {
    /// use std::time::Duration;
    /// use nexus_async_net::ws::WsStreamBuilder;
    ///
    /// let mut feed = WsStreamBuilder::new()
    ///     .disable_nagle()
    ///     .busy_poll(Duration::from_micros(200))
    ///     .connect("ws://127.0.0.1:9001/ws")
    ///     .await?;
    /// while let Some(msg) = feed.recv().await? {
    ///     let _ = msg; // parse, update the book
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn busy_poll(mut self, budget: Duration) -> Self {
        self.tcp.busy_poll = Some(budget);
        self
    }

    /// Sets the connect timeout: a `Duration`, or `None` for no deadline (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Sends every connection through `proxy` (see [the `proxy` module](crate::connect::proxy)).
    #[must_use]
    pub fn proxy(self, proxy: Proxy) -> Self {
        self.proxy_config(ProxyConfig::all(proxy))
    }

    /// Uses the proxies the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, read now); none when it names none.
    #[must_use]
    pub fn proxy_from_env(self) -> Self {
        self.proxy_config(ProxyConfig::from_env())
    }

    /// Sets the proxy settings (an empty config means no proxy).
    #[must_use]
    pub fn proxy_config(mut self, config: ProxyConfig) -> Self {
        self.proxy = (!config.is_empty()).then(|| std::sync::Arc::new(config));
        self
    }

    /// Sets the runtime.
    #[must_use]
    pub fn runtime(mut self, runtime: Runtime) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// The runtime to use: the one set, or [`Runtime::current`].
    pub(crate) fn runtime_or_current(&self) -> Runtime {
        self.runtime.clone().unwrap_or_else(Runtime::current)
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ConnectOptions");
        d.field("tcp", &self.tcp)
            .field("connect_timeout", &self.connect_timeout);
        #[cfg(feature = "tls")]
        d.field("tls", &self.tls);
        d.field("runtime", &self.runtime.as_ref().map(Runtime::kind))
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// Why connecting failed, before the caller's protocol took over. Mapped into
/// [`WsError`](crate::ws::WsError) and [`RestError`](crate::rest::RestError).
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// DNS or TCP.
    Io(io::Error),
    /// The TLS handshake or the default TLS configuration.
    #[cfg(feature = "tls")]
    Tls(TlsError),
    /// A TLS scheme without the `tls` feature.
    #[cfg(not(feature = "tls"))]
    TlsNotEnabled,
    /// The connect timeout passed.
    Timeout,
    /// The proxy refused or broke its handshake.
    Proxy(ProxyError),
}

impl From<io::Error> for ConnectError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

#[cfg(feature = "tls")]
impl From<TlsError> for ConnectError {
    fn from(e: TlsError) -> Self {
        Self::Tls(e)
    }
}

/// Connects to `target` under the connect timeout of `opts`: TCP through the runtime's
/// connector (with the socket options), then TLS when the scheme says so, then `then`
/// (a handshake, say) on the new transport, still under the same deadline.
pub(crate) async fn connect_then<T, E, F, Fut>(
    opts: &ConnectOptions,
    target: &Target,
    then: F,
) -> Result<T, E>
where
    E: From<ConnectError>,
    F: FnOnce(MaybeTls<TcpStream>, Runtime) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let runtime = opts.runtime_or_current();
    let attempt = async {
        let io = transport(opts, target, &runtime).await.map_err(E::from)?;
        then(io, runtime.clone()).await
    };
    match runtime.timeout(opts.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout.into()),
    }
}

/// TCP, then TLS when the target's scheme says so.
async fn transport(
    opts: &ConnectOptions,
    target: &Target,
    runtime: &Runtime,
) -> Result<MaybeTls<TcpStream>, ConnectError> {
    let via = opts
        .proxy
        .as_ref()
        .and_then(|p| p.proxy_for(target.is_tls(), &target.host, target.port));
    let tcp = match via {
        Some(proxy) => proxy::tunnel(proxy, target, runtime, opts).await?,
        None => {
            runtime
                .connect(&target.host, target.port, &opts.tcp)
                .await?
        }
    };
    trace!(debug, "nexus_async_net::connect", host = %target.host, port = target.port, proxy = ?via.map(Proxy::addr), "connected");
    if !target.is_tls() {
        return Ok(MaybeTls::Plain(tcp));
    }
    #[cfg(feature = "tls")]
    {
        let config = match &opts.tls {
            Some(config) => config.clone(),
            None => TlsConfig::new()?,
        };
        let tls = config.connect(&target.host, tcp).await;
        #[cfg(feature = "tracing")]
        match &tls {
            Ok(_) => {
                trace!(debug, "nexus_async_net::connect", host = %target.host, "TLS handshake done");
            }
            Err(e) => {
                trace!(debug, "nexus_async_net::connect", host = %target.host, error = %e, "TLS handshake failed");
            }
        }
        Ok(tls?)
    }
    #[cfg(not(feature = "tls"))]
    {
        drop(tcp);
        Err(ConnectError::TlsNotEnabled)
    }
}

mod errors {
    //! The connect layer's errors in the WebSocket and REST error types.

    use super::{ConnectError, TargetError};
    use crate::rest::RestError;
    use crate::ws::WsError;

    /// `From<ConnectError>` for an error type with `Io`, `TlsError` conversion and
    /// `TlsNotEnabled`, naming the variant a connect timeout becomes.
    macro_rules! from_connect_error {
        ($ty:ident, $timeout:expr) => {
            impl From<ConnectError> for $ty {
                fn from(e: ConnectError) -> Self {
                    match e {
                        ConnectError::Io(e) => Self::Io(e),
                        #[cfg(feature = "tls")]
                        ConnectError::Tls(e) => e.into(),
                        #[cfg(not(feature = "tls"))]
                        ConnectError::TlsNotEnabled => Self::TlsNotEnabled,
                        ConnectError::Timeout => $timeout,
                        ConnectError::Proxy(e) => Self::Proxy(Box::new(e)),
                    }
                }
            }
        };
    }

    from_connect_error!(WsError, WsError::Timeout("connect"));
    from_connect_error!(RestError, RestError::ConnectTimeout);

    /// `"{url}: {why}"`, as the WebSocket builder always reported it.
    impl From<TargetError> for WsError {
        fn from(e: TargetError) -> Self {
            Self::InvalidUrl(format!("{}: {}", e.url, e.why).into())
        }
    }

    /// `"{why}: {url}"`, as the REST client always reported it.
    impl From<TargetError> for RestError {
        fn from(e: TargetError) -> Self {
            Self::InvalidUrl(format!("{}: {}", e.why, e.url).into())
        }
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tests;
