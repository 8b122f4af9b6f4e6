//! [`Feed`]: a supervised market-data connection. It connects, subscribes, reconnects with
//! backoff and fails over between URLs, and tells the caller about every gap.
//!
//! Everything runs inside [`Feed::recv`] in the caller's task. There is no background
//! task, and the receive path is [`WsStream::recv`](super::WsStream::recv)'s own: a message
//! borrows the read buffer, as it does there.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;

use crate::connect::Backoff;
use crate::proto::ws::{CloseCode, CloseFrame, Message};
use crate::rt::Runtime;

use super::{ClientStream, WsError, WsStreamBuilder};
use recv::{Recv, StaleWatch};
use retry::{Retry, classify};

/// The subscribe step: runs on every new connection, before the first message is handed
/// out. It may send (subscriptions) and receive (their acks).
///
/// Implemented for every `async` closure `async |ws: &mut ClientStream| -> Result<(), WsError>`.
/// An error fails that connection like a connect error (retried unless it is fatal).
pub trait Subscribe {
    /// Subscribes on `ws`.
    fn subscribe<'a>(
        &'a mut self,
        ws: &'a mut ClientStream,
    ) -> impl Future<Output = Result<(), WsError>> + 'a;
}

impl<F> Subscribe for F
where
    F: AsyncFnMut(&mut ClientStream) -> Result<(), WsError>,
{
    fn subscribe<'a>(
        &'a mut self,
        ws: &'a mut ClientStream,
    ) -> impl Future<Output = Result<(), WsError>> + 'a {
        self(ws)
    }
}

/// No subscribe step (the default of [`FeedBuilder`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSubscribe;

impl Subscribe for NoSubscribe {
    async fn subscribe<'a>(&'a mut self, _: &'a mut ClientStream) -> Result<(), WsError> {
        Ok(())
    }
}

/// What [`Feed::recv`] yields.
#[derive(Debug)]
pub enum FeedEvent<'a> {
    /// A message on the current connection, borrowed as from [`WsStream::recv`]. Pings
    /// are answered automatically and delivered too.
    ///
    /// [`WsStream::recv`]: super::WsStream::recv
    Message(Message<'a>),
    /// A connection is up and the subscribe step succeeded. After a gap, resync your state
    /// (an order book: fetch a snapshot).
    Connected {
        /// The URL it connected to.
        url: &'a str,
        /// Which attempt succeeded (1: the first try).
        attempt: u32,
        /// How long the feed was down; `None` for the first connection.
        down_for: Option<Duration>,
    },
    /// The connection ended. The next `recv` reconnects.
    Disconnected {
        /// Why.
        reason: Disconnect,
    },
}

/// Why a connection ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Disconnect {
    /// The transport failed, the peer broke the protocol, or a heartbeat deadline passed.
    Error(WsError),
    /// The server closed the connection with a Close frame (`None`: one without a code).
    /// Boxed, so a `FeedEvent` is no larger than the `Message` it carries.
    Closed(Option<Box<CloseFrame>>),
    /// The connection ended without a Close frame (the server dropped it).
    Eof,
    /// No data message for longer than the stale-data deadline, even if pongs still came.
    Stale(Duration),
}

impl std::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Error(e) => write!(f, "{e}"),
            Self::Closed(frame) => f.write_str(&super::error::closed_by_peer(frame.as_deref())),
            Self::Eof => f.write_str("the server ended the connection without a Close frame"),
            Self::Stale(d) => write!(f, "no data for {d:?}: the connection is stale"),
        }
    }
}

/// Why [`Feed::recv`] gave up. Reconnectable failures never end up here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// A failure that retrying cannot fix: the certificate was rejected, the upgrade was
    /// refused with a 4xx other than 429, the URL or a header is invalid, or the proxy
    /// refused the credentials.
    #[error("{url}: {error} (not retried: reconnecting cannot fix this)")]
    Fatal {
        /// The URL of the attempt.
        url: String,
        /// What failed.
        error: WsError,
    },
    /// The attempt limit was reached.
    #[error("gave up after {attempts} failed attempts; the last: {last}")]
    GaveUp {
        /// How many attempts failed in a row.
        attempts: u32,
        /// The last attempt's error.
        last: WsError,
    },
    /// [`FeedShutdown::shutdown`] was called.
    #[error("the feed was shut down")]
    Shutdown,
}

/// Counters of a [`Feed`], cheap to read ([`Feed::stats`]).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct FeedStats {
    /// Connections made (including the first).
    pub connects: u64,
    /// Connections made after a disconnect.
    pub reconnects: u64,
    /// Connect or subscribe attempts that failed.
    pub failed_attempts: u64,
    /// Data messages (text and binary) handed out.
    pub messages: u64,
    /// The last error (a failed attempt or a disconnect), as text.
    pub last_error: Option<String>,
    /// Time spent connected, the current connection included.
    pub time_connected: Duration,
    /// Time spent down (between a disconnect and the next connect), the current gap
    /// included.
    pub time_down: Duration,
}

/// Stops a [`Feed`] from another task: the feed closes its connection with 1000 and
/// `recv` returns [`FeedError::Shutdown`].
#[derive(Debug, Clone)]
pub struct FeedShutdown(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    down: AtomicBool,
    waker: AtomicWaker,
}

impl FeedShutdown {
    /// Asks the feed to shut down. Returns at once; the feed's `recv` closes.
    pub fn shutdown(&self) {
        self.0.down.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

impl Shared {
    fn poll_down(&self, cx: &mut Context<'_>) -> bool {
        if self.down.load(Ordering::Acquire) {
            return true;
        }
        self.waker.register(cx.waker());
        self.down.load(Ordering::Acquire)
    }

    /// `fut`, or `None` when shutdown was asked first.
    async fn or_down<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if self.poll_down(cx) {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// Builds a [`Feed`]: `Feed::builder(ws_builder, urls)`.
#[must_use]
pub struct FeedBuilder<S = NoSubscribe> {
    ws: WsStreamBuilder,
    urls: Vec<String>,
    subscribe: S,
    backoff: Backoff,
    max_attempts: Option<u32>,
    stale_after: Option<Duration>,
}

impl<S> std::fmt::Debug for FeedBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedBuilder")
            .field("urls", &self.urls)
            .field("backoff", &self.backoff)
            .field("max_attempts", &self.max_attempts)
            .field("stale_after", &self.stale_after)
            .finish_non_exhaustive()
    }
}

/// The default reconnect schedule of a feed: 100 ms doubling to 30 s, full jitter.
pub fn default_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(100), Duration::from_secs(30)).jitter(1.0)
}

impl<S: Subscribe> FeedBuilder<S> {
    /// The subscribe step, run after every connect (see [`Subscribe`]).
    pub fn on_connect<T: Subscribe>(self, subscribe: T) -> FeedBuilder<T> {
        FeedBuilder {
            ws: self.ws,
            urls: self.urls,
            subscribe,
            backoff: self.backoff,
            max_attempts: self.max_attempts,
            stale_after: self.stale_after,
        }
    }

    /// The reconnect schedule (default [`default_backoff`]: 100 ms doubling to 30 s, full
    /// jitter). A server's `Retry-After` (429, 503) is honoured when it is longer.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Gives up after `n` failed attempts in a row (default: never).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// A connection with no data message for `d` is dead, even if pongs still arrive
    /// (default: off). Checked every `d / 4`, so detection takes between `d` and
    /// `1.25 d`; nothing is added to the per-message path.
    pub fn stale_after(mut self, d: Duration) -> Self {
        self.stale_after = Some(d.max(Duration::from_millis(4)));
        self
    }

    /// The feed. It connects on the first `recv`.
    pub fn build(self) -> Feed<S> {
        let runtime = self.ws.get_connect_options().runtime_or_current();
        let now = runtime.now();
        Feed {
            options: self,
            runtime,
            conn: None,
            ended: false,
            watch: None,
            shared: Arc::new(Shared::default()),
            stats: FeedStats::default(),
            since: now,
            down_since: None,
            next_url: 0,
            delay: None,
            finished: false,
        }
    }
}

/// A supervised WebSocket feed: connects, subscribes, and reconnects with backoff and
/// failover, inside [`recv`](Self::recv).
///
/// ```no_run
/// use std::time::Duration;
/// use nexus_async_net::ws::{ClientStream, Feed, FeedEvent, Message, WsStreamBuilder};
/// # async fn run() -> Result<(), nexus_async_net::ws::FeedError> {
/// let mut feed = Feed::builder(
///     WsStreamBuilder::new().disable_nagle(),
///     ["wss://primary.example.com/ws", "wss://backup.example.com/ws"],
/// )
/// .on_connect(async |ws: &mut ClientStream| ws.send_text(r#"{"op":"subscribe"}"#).await)
/// .stale_after(Duration::from_secs(10))
/// .build();
/// loop {
///     match feed.recv().await? {
///         FeedEvent::Message(Message::Text(json)) => println!("{json}"),
///         FeedEvent::Connected { url, down_for, .. } => println!("up: {url} after {down_for:?}"),
///         FeedEvent::Disconnected { reason } => println!("gap: {reason}"),
///         _ => {}
///     }
/// }
/// # }
/// ```
pub struct Feed<S = NoSubscribe> {
    /// What it was built with.
    options: FeedBuilder<S>,
    runtime: Runtime,
    conn: Option<ClientStream>,
    /// Set when the connection ended; the next `recv` drops it and reconnects.
    ended: bool,
    watch: Option<StaleWatch>,
    shared: Arc<Shared>,
    stats: FeedStats,
    /// When the current state (connected or down) began.
    since: Instant,
    /// When the last connection ended (`None` before the first).
    down_since: Option<Instant>,
    next_url: usize,
    /// The delay before the next attempt.
    delay: Option<Duration>,
    /// Shut down or given up: every `recv` returns `Shutdown`.
    finished: bool,
}

impl<S> std::fmt::Debug for Feed<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("urls", &self.options.urls)
            .field("connected", &self.conn.is_some())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Feed<NoSubscribe> {
    /// A feed over `ws` (every option of the builder applies: TLS, proxy, heartbeat,
    /// limits, runtime), trying `urls` in order for failover.
    ///
    /// # Panics
    ///
    /// When `urls` is empty.
    pub fn builder<U: Into<String>>(
        ws: WsStreamBuilder,
        urls: impl IntoIterator<Item = U>,
    ) -> FeedBuilder<NoSubscribe> {
        let urls: Vec<String> = urls.into_iter().map(Into::into).collect();
        assert!(!urls.is_empty(), "a feed needs at least one URL");
        FeedBuilder {
            ws: ws.auto_pong(true),
            urls,
            subscribe: NoSubscribe,
            backoff: default_backoff(),
            max_attempts: None,
            stale_after: None,
        }
    }
}

impl<S> Feed<S> {
    /// Marks the connection ended (the next `recv` reconnects) and makes the event.
    fn ended(&mut self, reason: Disconnect) -> FeedEvent<'static> {
        self.ended = true;
        ended_event(
            &mut self.stats,
            &mut self.since,
            &mut self.down_since,
            &self.runtime,
            reason,
        )
    }
}

impl<S: Subscribe> Feed<S> {
    /// A handle that shuts the feed down from another task.
    pub fn shutdown_handle(&self) -> FeedShutdown {
        FeedShutdown(self.shared.clone())
    }

    /// The counters so far.
    pub fn stats(&self) -> FeedStats {
        let mut stats = self.stats.clone();
        let elapsed = self.runtime.now().saturating_duration_since(self.since);
        if self.conn.is_some() {
            stats.time_connected += elapsed;
        } else if self.down_since.is_some() {
            stats.time_down += elapsed;
        }
        stats
    }

    /// Whether a connection is up now.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some() && !self.ended
    }

    /// The next event: a message, a new connection, or the end of one. Reconnects as
    /// needed (after backoff), in the caller's task.
    ///
    /// # Errors
    ///
    /// Only for what retrying cannot fix ([`FeedError::Fatal`]), the attempt limit
    /// ([`FeedError::GaveUp`]), or after a shutdown ([`FeedError::Shutdown`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe while connected (no message is lost). Dropping it while connecting drops
    /// that attempt; the next call starts a new one.
    pub fn recv(&mut self) -> impl Future<Output = Result<FeedEvent<'_>, FeedError>> + '_ {
        Recv {
            feed: Some(self),
            make_slow: Self::slow,
            slow: None,
        }
    }

    /// Everything but a message: shutdown, a finished feed, reconnecting.
    async fn slow(&mut self) -> Result<FeedEvent<'_>, FeedError> {
        if self.shared.down.load(Ordering::Acquire) && !self.finished {
            self.finish_shutdown().await;
        }
        if self.finished {
            return Err(FeedError::Shutdown);
        }
        if std::mem::take(&mut self.ended) {
            self.conn = None;
            self.watch = None;
        }
        self.connect().await
    }

    /// Closes the connection with 1000 and ends the feed (as [`FeedShutdown::shutdown`],
    /// from the owning task).
    pub async fn close(&mut self) {
        self.finish_shutdown().await;
    }

    async fn finish_shutdown(&mut self) {
        self.finished = true;
        self.watch = None;
        if let Some(mut conn) = self.conn.take() {
            let _ = conn.close(CloseCode::Normal, "").await;
            trace!(
                info,
                "nexus_async_net::feed", "feed shut down, closed with 1000"
            );
        }
    }

    /// Connects (after the backoff delay), subscribes, and reports it; retries until it
    /// succeeds, gives up or is shut down.
    async fn connect(&mut self) -> Result<FeedEvent<'_>, FeedError> {
        let mut attempt: u32 = 0;
        loop {
            if let Some(delay) = self.delay.take() {
                trace!(
                    debug,
                    "nexus_async_net::feed",
                    delay_ms = delay.as_millis() as u64,
                    "backing off before reconnecting"
                );
                let sleep = self.runtime.sleep(delay);
                if self.shared.or_down(sleep).await.is_none() {
                    self.finish_shutdown().await;
                    return Err(FeedError::Shutdown);
                }
            }
            attempt += 1;
            let index = self.next_url;
            let url = &self.options.urls[index];
            let ws = self.options.ws.clone();
            let subscribe = &mut self.options.subscribe;
            let attempt_fut = async {
                let mut conn = ws.connect(url).await?;
                subscribe.subscribe(&mut conn).await?;
                Ok::<_, WsError>(conn)
            };
            let Some(result) = self.shared.or_down(attempt_fut).await else {
                self.finish_shutdown().await;
                return Err(FeedError::Shutdown);
            };
            match result {
                Ok(conn) => {
                    let now = self.runtime.now();
                    let down_for = self.down_since.map(|t| now.saturating_duration_since(t));
                    if let Some(d) = down_for {
                        self.stats.time_down += d;
                        self.stats.reconnects += 1;
                    }
                    self.stats.connects += 1;
                    self.since = now;
                    self.conn = Some(conn);
                    self.watch = self
                        .options
                        .stale_after
                        .map(|d| StaleWatch::new(&self.runtime, d, self.stats.messages));
                    // The first reconnect after the next drop: at most `initial`, jittered.
                    self.delay = Some(
                        self.options
                            .backoff
                            .jittered_at_random(self.options.backoff.initial()),
                    );
                    self.next_url = 0;
                    trace!(info, "nexus_async_net::feed", url = %self.options.urls[index], attempt, "feed connected");
                    return Ok(FeedEvent::Connected {
                        url: &self.options.urls[index],
                        attempt,
                        down_for,
                    });
                }
                Err(error) => {
                    self.stats.failed_attempts += 1;
                    self.stats.last_error = Some(error.to_string());
                    trace!(warn, "nexus_async_net::feed", url = %url, attempt, error = %error, "feed connect failed");
                    let retry = match classify(&error) {
                        Retry::Never => {
                            self.finished = true;
                            return Err(FeedError::Fatal {
                                url: url.clone(),
                                error,
                            });
                        }
                        Retry::After(at_least) => at_least,
                    };
                    if self.options.max_attempts.is_some_and(|max| attempt >= max) {
                        self.finished = true;
                        return Err(FeedError::GaveUp {
                            attempts: attempt,
                            last: error,
                        });
                    }
                    self.next_url = (index + 1) % self.options.urls.len();
                    let cap = self.schedule(attempt);
                    let jittered = self.options.backoff.jittered_at_random(cap);
                    self.delay = Some(retry.map_or(jittered, |r| r.max(jittered)));
                }
            }
        }
    }

    /// The uncut delay after `failures` failed attempts in a row: `initial`, times the
    /// multiplier per further failure, capped at `max`.
    fn schedule(&self, failures: u32) -> Duration {
        let mut d = self.options.backoff.initial();
        for _ in 1..failures {
            d = self.options.backoff.next(d);
            if d >= self.options.backoff.max() {
                break;
            }
        }
        d
    }
}

fn ended_event(
    stats: &mut FeedStats,
    since: &mut Instant,
    down_since: &mut Option<Instant>,
    runtime: &Runtime,
    reason: Disconnect,
) -> FeedEvent<'static> {
    let now = runtime.now();
    stats.time_connected += now.saturating_duration_since(*since);
    *since = now;
    *down_since = Some(now);
    stats.last_error = Some(reason.to_string());
    trace!(warn, "nexus_async_net::feed", reason = %reason, "feed disconnected");
    FeedEvent::Disconnected { reason }
}

mod recv;
mod retry;
#[cfg(all(test, feature = "tracing"))]
mod tracing_tests;
