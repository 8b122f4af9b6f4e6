//! [`ClientPoolBuilder`] and [`AtomicClientPoolBuilder`]: the same options for both pools.
//!
//! The two builders are two concrete structs expanded by one macro around one crate-private
//! [`PoolOptions`]: users see two plain documented types (no generic parameter, no marker
//! trait to name), while every option and its doc comment is written once.

use std::fmt;
use std::time::Duration;

use futures_util::future::join_all;

use super::core::Core;
use super::heal::{Config, Shared, probe_mode};
use super::{AtomicClientPool, Backoff, ClientPool, ClientSlot, HealingMode};
use crate::connect::{ConnectOptions, connect_setters};
use crate::proto::http::reader::{DEFAULT_RESPONSE_BUFFER_CAPACITY, ResponseReader};
use crate::proto::http::request::write_header;
use crate::proto::http::writer::{DEFAULT_WRITE_BUFFER_CAPACITY, RequestWriter};
use crate::rest::connection::{ClientConnection, HttpConnectionBuilder};
use crate::rest::error::RestError;

/// The default time [`ClientPool::acquire`] waits for a slot.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// What both pool builders hold.
#[derive(Clone)]
struct PoolOptions {
    url: Option<String>,
    base_path: Option<String>,
    /// Validated default headers, in order.
    headers: Vec<(String, String)>,
    connections: usize,
    /// TLS, socket options, connect timeout, runtime.
    connect: ConnectOptions,
    read_timeout: Option<Duration>,
    write_buffer_capacity: usize,
    response_buffer_capacity: usize,
    max_body_size: Option<usize>,
    acquire_timeout: Duration,
    backoff: Backoff,
    idle_timeout: Option<Duration>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            url: None,
            base_path: None,
            headers: Vec::new(),
            connections: 1,
            connect: ConnectOptions::default(),
            read_timeout: None,
            write_buffer_capacity: DEFAULT_WRITE_BUFFER_CAPACITY,
            response_buffer_capacity: DEFAULT_RESPONSE_BUFFER_CAPACITY,
            max_body_size: None,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            backoff: Backoff::default(),
            idle_timeout: None,
        }
    }
}

impl fmt::Debug for PoolOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolOptions")
            .field("url", &self.url)
            .field("connections", &self.connections)
            .field("connect", &self.connect)
            .field("read_timeout", &self.read_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("backoff", &self.backoff)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl PoolOptions {
    fn writer(&self, url: &str) -> Result<RequestWriter, RestError> {
        let mut writer = RequestWriter::for_url(url)?;
        if let Some(path) = &self.base_path {
            writer.set_base_path(path)?;
        }
        for (name, value) in &self.headers {
            writer.default_header(name, value)?;
        }
        writer.set_write_buffer_capacity(self.write_buffer_capacity);
        Ok(writer)
    }

    fn reader(&self) -> ResponseReader {
        let reader = ResponseReader::new(self.response_buffer_capacity);
        match self.max_body_size {
            Some(n) => reader.max_body_size(n),
            None => reader,
        }
    }

    /// Validates the options, opens every connection concurrently (each under the connect
    /// timeout) and decides the healing mode.
    async fn parts(
        self,
        local: bool,
    ) -> Result<(Shared, Vec<Box<ClientSlot>>, HealingMode), RestError> {
        let url = self
            .url
            .clone()
            .ok_or_else(|| RestError::InvalidUrl("a pool needs a url".into()))?;
        if self.connections == 0 {
            return Err(RestError::InvalidRequest(
                "a pool needs at least one connection",
            ));
        }
        // Bad URLs, paths and headers fail here, before any connection is opened.
        self.writer(&url)?;
        let runtime = self.connect.runtime_or_current();
        let mut connector = HttpConnectionBuilder::new()
            .connect_options(self.connect.clone())
            .runtime(runtime.clone());
        if let Some(timeout) = self.read_timeout {
            connector = connector.read_timeout(timeout);
        }
        let opened = join_all((0..self.connections).map(|_| connector.clone().connect(&url))).await;
        // (Not a `match` on `opened.iter()`: that borrow would live across the `await`
        // below and make the build future `!Send`.)
        if opened.iter().any(Result::is_err) {
            return Err(close_all(opened).await);
        }
        let conns: Vec<_> = opened.into_iter().flatten().collect();
        let mut slots = Vec::with_capacity(self.connections);
        for (id, conn) in conns.into_iter().enumerate() {
            slots.push(Box::new(ClientSlot {
                writer: self.writer(&url)?,
                reader: self.reader(),
                conn: Some(conn),
                id,
                idle_since: None,
            }));
        }
        let mode = probe_mode(&runtime, local);
        let config = Config {
            url,
            connector,
            runtime,
            backoff: self.backoff,
            idle_timeout: self.idle_timeout,
            acquire_timeout: self.acquire_timeout,
            connections: self.connections,
        };
        Ok((Shared::new(config), slots, mode))
    }
}

/// Closes the connections that opened (gracefully, concurrently) and returns the first
/// error.
async fn close_all(opened: Vec<Result<ClientConnection, RestError>>) -> RestError {
    let mut first = None;
    let mut closes = Vec::new();
    for result in opened {
        match result {
            Ok(conn) => closes.push(conn.close()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    join_all(closes).await;
    first.unwrap_or(RestError::ConnectionClosed("pool build failed"))
}

/// Expands one pool builder: the struct, every option setter and `build`.
macro_rules! pool_builder {
    (
        $(#[$doc:meta])*
        $name:ident => $pool:ident, local: $local:expr;
        $(#[$build_doc:meta])*
        build;
    ) => {
        $(#[$doc])*
        ///
        /// Defaults: 1 connection; no base path beyond the URL's path; Nagle on (call
        /// [`disable_nagle`](Self::disable_nagle) for trading); no TCP keepalive; 32 KiB
        /// request buffer; 32 KiB response buffer growing up to an 8 MiB body; connect
        /// timeout 5 s ([`DEFAULT_CONNECT_TIMEOUT`](crate::connect::DEFAULT_CONNECT_TIMEOUT), every initial connect and every
        /// reconnect); no read timeout; acquire timeout 5 s ([`DEFAULT_ACQUIRE_TIMEOUT`]);
        /// [`Backoff::default`] (100 ms doubling to 5 s, 20% jitter); no idle timeout; the
        /// [`Runtime::current`](crate::rt::Runtime::current) of the task that calls [`build`](Self::build).
        #[must_use]
        #[derive(Clone, Default)]
        pub struct $name {
            options: PoolOptions,
        }

        impl $name {
            /// A builder with the defaults above.
            pub fn new() -> Self {
                Self::default()
            }

            /// The server: `http://host[:port][/path]` or `https://...`. Required. The
            /// path, if any, prefixes every request path unless
            /// [`base_path`](Self::base_path) replaces it.
            pub fn url(mut self, url: &str) -> Self {
                self.options.url = Some(url.to_owned());
                self
            }

            /// The path prefixed to every request path (replaces the URL's path).
            pub fn base_path(mut self, path: &str) -> Self {
                self.options.base_path = Some(path.to_owned());
                self
            }

            /// A header sent with every request, after `Host`, in the order added.
            ///
            /// # Errors
            ///
            /// [`RestError::InvalidHeader`] when the name is not a token or the value holds
            /// CR, LF, NUL or another control byte.
            pub fn default_header(mut self, name: &str, value: &str) -> Result<Self, RestError> {
                write_header(&mut Vec::new(), name, value)?;
                self.options.headers.push((name.to_owned(), value.to_owned()));
                Ok(self)
            }

            /// How many connections (slots) the pool keeps; at least 1.
            pub fn connections(mut self, n: usize) -> Self {
                self.options.connections = n;
                self
            }

            connect_setters! {
                options.connect;
                /// Bounds DNS, TCP connect and TLS handshake of every connection, at build
                /// time and when healing (default [`DEFAULT_CONNECT_TIMEOUT`](crate::connect::DEFAULT_CONNECT_TIMEOUT); `None`: no
                /// deadline, so a black-holed reconnect holds its slot until the OS gives up).
                connect_timeout;
                /// The runtime for connecting, timers and healing tasks (default:
                /// [`Runtime::current`](crate::rt::Runtime::current) when `build` runs). Its spawner runs the healing
                /// tasks: pass `Runtime::new(your_spawner, timer, connector)` to choose one.
                /// `build` probes it with a no-op spawn and picks the [`HealingMode`] (with
                /// `Runtime::tokio_local`, call `build` inside the `LocalSet`).
                runtime;
            }

            /// The capacity each slot's request buffer starts with.
            pub fn write_buffer_capacity(mut self, n: usize) -> Self {
                self.options.write_buffer_capacity = n;
                self
            }

            /// The capacity each slot's response buffer starts with (it grows up to
            /// [`max_body_size`](Self::max_body_size) plus the head).
            pub fn response_buffer_capacity(mut self, n: usize) -> Self {
                self.options.response_buffer_capacity = n;
                self
            }

            /// The largest response body accepted; a larger one fails with
            /// [`RestError::BodyTooLarge`] and the slot heals.
            pub fn max_body_size(mut self, n: usize) -> Self {
                self.options.max_body_size = Some(n);
                self
            }

            /// Bounds each request: writing it and reading the whole response. Past it
            /// `send` returns [`RestError::ReadTimeout`] and the slot heals when returned.
            pub fn read_timeout(mut self, timeout: Duration) -> Self {
                self.options.read_timeout = Some(timeout);
                self
            }

            /// How long `acquire` waits for a slot before [`RestError::AcquireTimeout`].
            pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
                self.options.acquire_timeout = timeout;
                self
            }

            /// Reconnect delays after failed attempts.
            pub fn backoff(mut self, backoff: Backoff) -> Self {
                self.options.backoff = backoff;
                self
            }

            /// Replaces a connection that sat unused for longer than `idle` (servers close
            /// idle keep-alive connections; set this a little below the server's limit).
            /// Checked when the slot is met by `try_acquire`, with one clock read per
            /// acquire and release.
            pub fn idle_timeout(mut self, idle: Duration) -> Self {
                self.options.idle_timeout = Some(idle);
                self
            }

            $(#[$build_doc])*
            pub async fn build(self) -> Result<$pool, RestError> {
                let (shared, slots, mode) = self.options.parts($local).await?;
                Ok($pool {
                    core: Core::new(shared, slots, mode),
                })
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.options).finish()
            }
        }
    };
}

pool_builder! {
    /// Builds a [`ClientPool`] (single-threaded: `!Send`, no atomics on the hot path).
    /// Every option is the same as on [`AtomicClientPoolBuilder`], and the two convert into
    /// each other with [`From`].
    ClientPoolBuilder => ClientPool, local: true;
    /// Opens every connection concurrently, each under the connect timeout.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidUrl`] / [`RestError::InvalidRequest`] /
    /// [`RestError::InvalidHeader`] for bad options; otherwise the first connect error
    /// ([`RestError::Io`], [`RestError::ConnectTimeout`], [`RestError::Tls`], ...), after
    /// closing the connections that did open.
    build;
}

pool_builder! {
    /// Builds an [`AtomicClientPool`] (`Send + Sync`, shared across threads). Every option
    /// is the same as on [`ClientPoolBuilder`], and the two convert into each other with
    /// [`From`].
    AtomicClientPoolBuilder => AtomicClientPool, local: false;
    /// Opens every connection concurrently, each under the connect timeout.
    ///
    /// # Errors
    ///
    /// As for [`ClientPoolBuilder::build`]: bad options, or the first connect error after
    /// closing the connections that did open.
    build;
}

impl From<ClientPoolBuilder> for AtomicClientPoolBuilder {
    /// The same options, for the thread-safe pool.
    fn from(b: ClientPoolBuilder) -> Self {
        Self { options: b.options }
    }
}

impl From<AtomicClientPoolBuilder> for ClientPoolBuilder {
    /// The same options, for the single-threaded pool.
    fn from(b: AtomicClientPoolBuilder) -> Self {
        Self { options: b.options }
    }
}
