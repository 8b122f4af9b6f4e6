//! Self-healing pools of keep-alive connections: [`ClientPool`] for one thread,
//! [`AtomicClientPool`] for many.
//!
//! A pool holds `connections` [`ClientSlot`]s, each a connection with its own
//! [`RequestWriter`] and [`ResponseReader`]. [`try_acquire`](ClientPool::try_acquire) hands
//! out the most recently used healthy slot without waiting or doing I/O;
//! [`acquire`](ClientPool::acquire) waits (woken by notification) for one to come back or
//! heal. A slot whose connection died — poisoned by a failed or cancelled request, retired
//! after `Connection: close`, closed by the server while idle, or idle past the idle
//! timeout — heals in the background through the runtime's spawner, with backoff and
//! jitter, and rejoins the pool. `docs/client-pool.md` and `docs/reconnect.md` describe
//! the semantics.

// Slots are boxed: a `ClientSlot` is several hundred bytes, and acquire/release should
// move a pointer, not the slot (clippy::vec_box assumes the opposite).
#![allow(clippy::vec_box)]

mod builder;
mod core;

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::time::{Duration, Instant};

pub use self::builder::{
    AtomicClientPoolBuilder, ClientPoolBuilder, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    PoolBuilder,
};
pub use self::core::FreeList;
use self::core::{Core, Shared, sealed};
use super::connection::{ClientConnection, HttpConnection};
use super::error::RestError;
use super::request::RequestWriter;
use super::response::ResponseReader;

/// One pooled connection with its request writer and response reader.
///
/// The fields are public so a request built from `writer` and the response read into
/// `reader` can be used together: [`conn_and_reader`](Self::conn_and_reader) borrows the
/// connection and the reader while a finished [`Request`](super::Request) (which owns its
/// bytes) is alive.
pub struct ClientSlot {
    /// Builds requests for this connection (host, base path, default headers).
    pub writer: RequestWriter,
    /// Holds the response of the last request.
    pub reader: ResponseReader,
    /// The connection; `None` while the slot waits to reconnect.
    pub conn: Option<ClientConnection>,
    id: usize,
    /// When the slot was last returned (tracked only with an idle timeout).
    idle_since: Option<Instant>,
}

impl ClientSlot {
    /// The slot's index in its pool (`0..connections`), stable across reconnects.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Whether the connection is missing, poisoned or retired, so the slot must reconnect.
    pub fn needs_reconnect(&self) -> bool {
        !self.conn.as_ref().is_some_and(HttpConnection::is_reusable)
    }

    /// The connection and the reader together, for
    /// [`HttpConnection::send`](super::HttpConnection::send).
    ///
    /// # Errors
    ///
    /// [`RestError::ConnectionPoisoned`] when the slot has no connection.
    pub fn conn_and_reader(
        &mut self,
    ) -> Result<(&mut ClientConnection, &mut ResponseReader), RestError> {
        match &mut self.conn {
            Some(conn) => Ok((conn, &mut self.reader)),
            None => Err(RestError::ConnectionPoisoned),
        }
    }
}

impl fmt::Debug for ClientSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSlot")
            .field("id", &self.id)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// Reconnect delays: the first retry after `initial`, each next one `multiplier` times
/// longer up to `max`, each shortened by a random fraction up to `jitter` so that slots
/// (and clients) do not reconnect in lockstep.
///
/// The first attempt after a connection dies starts at once. Default: 100 ms initial,
/// 5 s max, multiplier 2, jitter 0.2.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    multiplier: f64,
    jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl Backoff {
    /// Delays from `initial` doubling up to `max` (`max` below `initial` is raised to it).
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }

    /// Growth factor per failed attempt (clamped to 1.0..=16.0).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m.is_finite() {
            m.clamp(1.0, 16.0)
        } else {
            2.0
        };
        self
    }

    /// Fraction of each delay that may be cut at random (clamped to 0.0..=1.0; 0 turns
    /// jitter off).
    pub fn jitter(mut self, j: f64) -> Self {
        self.jitter = if j.is_finite() {
            j.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The delay after the first failed attempt.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The delay that follows `d`.
    fn next(&self, d: Duration) -> Duration {
        Duration::try_from_secs_f64(d.as_secs_f64() * self.multiplier)
            .map_or(self.max, |next| next.min(self.max))
    }

    /// `d` shortened by `jitter * unit` (`unit` in `0.0..1.0`).
    fn jittered(&self, d: Duration, unit: f64) -> Duration {
        d.mul_f64(1.0 - self.jitter * unit)
    }

    /// `d` shortened by a random fraction of at most `jitter`: in `(d * (1 - jitter), d]`.
    /// The unit comes from `rand`'s thread-local generator (enough to spread reconnects;
    /// not for anything secret).
    fn jittered_at_random(&self, d: Duration) -> Duration {
        self.jittered(d, rand::random::<f64>())
    }
}

/// How a pool heals dead slots; decided at build time from what the runtime can spawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealingMode {
    /// Background tasks on the current thread (`Spawner::spawn_local`); `ClientPool` only.
    Local,
    /// Background tasks through `Spawner::spawn`.
    Spawned,
    /// No spawner: `acquire` reconnects dead slots itself (one attempt at a time, with the
    /// same backoff). `try_acquire` never does: a pool used only through `try_acquire`
    /// calls `maintain` from a loop of its own.
    Inline,
}

/// A snapshot of a pool's counters. Each field is read with one relaxed atomic load (or a
/// `RefCell` read for [`ClientPool`]); the fields are not read atomically together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Slots in the pool.
    pub connections: usize,
    /// Healthy slots free for `try_acquire` (may include one that turns out dead when met).
    pub idle: usize,
    /// Slots held by callers.
    pub in_use: usize,
    /// Slots reconnecting (in a task or waiting for an inline attempt).
    pub healing: usize,
    /// Successful reconnects since the pool was built.
    pub reconnects: u64,
    /// Failed connect attempts while healing.
    pub failed_connects: u64,
}

/// A slot on loan from a pool; returns to it when dropped (a dead one goes to healing).
///
/// Dereferences to [`ClientSlot`]. Borrows the pool, so the pool outlives its loans.
#[must_use = "a slot returns to the pool as soon as the guard is dropped"]
pub struct Pooled<'a, F: FreeList> {
    core: &'a Core<F>,
    slot: Option<Box<ClientSlot>>,
}

/// A slot on loan from a [`ClientPool`].
pub type PooledSlot<'a> = Pooled<'a, LocalFreeList>;
/// A slot on loan from an [`AtomicClientPool`].
pub type AtomicPooledSlot<'a> = Pooled<'a, AtomicFreeList>;

impl<F: FreeList> Deref for Pooled<'_, F> {
    type Target = ClientSlot;

    fn deref(&self) -> &ClientSlot {
        // Some from construction until drop.
        self.slot.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl<F: FreeList> DerefMut for Pooled<'_, F> {
    fn deref_mut(&mut self) -> &mut ClientSlot {
        self.slot.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<F: FreeList> Drop for Pooled<'_, F> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.core.release(slot);
        }
    }
}

impl<F: FreeList> fmt::Debug for Pooled<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The free list of a [`ClientPool`]: a plain vector on the owning thread. Slots healed by
/// background tasks wait in a shared mailbox and are adopted when the vector runs empty.
#[derive(Debug)]
pub struct LocalFreeList {
    slots: RefCell<Vec<Box<ClientSlot>>>,
    _not_send: PhantomData<Rc<()>>,
}

impl FreeList for LocalFreeList {}

impl sealed::Sealed for LocalFreeList {
    fn with_capacity(n: usize) -> Self {
        Self {
            slots: RefCell::new(Vec::with_capacity(n)),
            _not_send: PhantomData,
        }
    }

    fn pop(&self, shared: &Shared) -> Option<Box<ClientSlot>> {
        let mut slots = self.slots.borrow_mut();
        if let Some(slot) = slots.pop() {
            return Some(slot);
        }
        shared.drain_free_into(&mut slots);
        slots.pop()
    }

    fn push(&self, shared: &Shared, slot: Box<ClientSlot>) {
        self.slots.borrow_mut().push(slot);
        shared.wake_local();
    }

    fn len(&self, shared: &Shared) -> usize {
        self.slots.borrow().len() + shared.free_len()
    }

    fn drain(&self) -> Vec<Box<ClientSlot>> {
        std::mem::take(&mut *self.slots.borrow_mut())
    }
}

/// The free list of an [`AtomicClientPool`]: a LIFO vector under a mutex, shared with the
/// healing tasks. One short critical section per acquire and per release; a slot is in the
/// vector or with exactly one owner, so it can never be handed out twice (no ABA).
#[derive(Debug)]
pub struct AtomicFreeList {
    _private: (),
}

impl FreeList for AtomicFreeList {}

impl sealed::Sealed for AtomicFreeList {
    fn with_capacity(_: usize) -> Self {
        Self { _private: () }
    }

    fn pop(&self, shared: &Shared) -> Option<Box<ClientSlot>> {
        shared.pop_free()
    }

    fn push(&self, shared: &Shared, slot: Box<ClientSlot>) {
        shared.push_free(slot);
    }

    fn len(&self, shared: &Shared) -> usize {
        shared.free_len()
    }

    fn drain(&self) -> Vec<Box<ClientSlot>> {
        Vec::new()
    }
}

macro_rules! pool_methods {
    ($guard:ident) => {
        /// The most recently returned healthy slot, at once: never waits, never does I/O.
        /// Dead slots met on the way are sent to healing and skipped. `None` when every
        /// slot is in use or healing — on the trading hot path, fail fast.
        pub fn try_acquire(&self) -> Option<$guard<'_>> {
            self.core.try_acquire().map(|slot| Pooled {
                core: &self.core,
                slot: Some(slot),
            })
        }

        /// A healthy slot, waiting for one to be returned or healed (woken by
        /// notification, not polling) up to the acquire timeout. With
        /// [`HealingMode::Inline`] it reconnects a dead slot itself.
        ///
        /// # Errors
        ///
        /// [`RestError::AcquireTimeout`] when no slot became free in time.
        ///
        /// # Cancel safety
        ///
        /// Cancel safe: no slot is lost; an inline reconnect in progress is abandoned and
        /// the slot returns to the ones waiting to heal.
        pub async fn acquire(&self) -> Result<$guard<'_>, RestError> {
            let slot = self.core.acquire().await?;
            Ok(Pooled {
                core: &self.core,
                slot: Some(slot),
            })
        }

        /// Reconnects, now, every slot waiting for an inline reconnect whose backoff has
        /// passed, and returns how many healed. Only [`HealingMode::Inline`] pools have
        /// such slots (elsewhere healing tasks do this): a pool without a spawner that is
        /// used only through `try_acquire` calls it from its own loop.
        pub async fn maintain(&self) -> usize {
            self.core.maintain().await
        }

        /// Healthy slots free right now (a snapshot).
        pub fn available(&self) -> usize {
            self.stats().idle
        }

        /// Counters: idle, in use, healing, reconnects, failed connects.
        pub fn stats(&self) -> PoolStats {
            self.core.stats()
        }

        /// The last error a reconnect attempt failed with, as text.
        pub fn last_error(&self) -> Option<String> {
            self.core.shared.last_error()
        }

        /// How dead slots heal with this pool's runtime.
        pub fn healing_mode(&self) -> HealingMode {
            self.core.mode
        }

        /// Stops healing and closes the idle connections gracefully (TLS close_notify).
        /// (A pool lends slots by reference, so none is on loan here.)
        pub async fn close(self) {
            self.core.close_idle().await;
        }
    };
}

/// A self-healing pool of keep-alive connections for one thread (`!Send`, `!Sync`).
///
/// Acquire and release are a `RefCell` pop and push, with no atomics but one relaxed
/// load when the local list runs empty. Dead slots heal in background tasks:
/// `spawn_local` when the runtime supports it, else `spawn` (the healing task is `Send`),
/// else inline in [`acquire`](Self::acquire) ([`HealingMode`]). Dropping the pool stops
/// every healing task.
///
/// # Examples
///
/// ```no_run
/// use nexus_async_net::rest::{ClientPool, RestError};
/// use std::time::Duration;
///
/// async fn ticker(pool: &ClientPool) -> Result<Vec<u8>, RestError> {
///     let Some(mut slot) = pool.try_acquire() else {
///         return Err(RestError::ConnectionClosed("no healthy slot"));
///     };
///     let s = &mut *slot;
///     let req = s.writer.get("/ticker").query("symbol", "BTCUSDT").finish()?;
///     let (conn, reader) = s.conn_and_reader()?;
///     let resp = conn.send(req, reader).await?;
///     Ok(resp.body().to_vec())
/// }
///
/// # async fn run() -> Result<(), RestError> {
/// let pool = ClientPool::builder()
///     .url("http://127.0.0.1:8080")
///     .base_path("/api/v3")
///     .connections(4)
///     .disable_nagle()
///     .connect_timeout(Duration::from_secs(3))
///     .build()
///     .await?;
/// let body = ticker(&pool).await?;
/// # Ok(()) }
/// ```
///
/// `examples/rest_pool.rs` runs a complete client against a local server that fails now
/// and then.
pub struct ClientPool {
    core: Core<LocalFreeList>,
}

impl ClientPool {
    /// A builder with the defaults of [`PoolBuilder`].
    pub fn builder() -> ClientPoolBuilder {
        PoolBuilder::new()
    }

    pool_methods!(PooledSlot);
}

/// A self-healing pool of keep-alive connections shared by any number of threads and
/// tasks (`Send + Sync`; share it with `Arc` or a `'static`).
///
/// The free list is a LIFO vector under a `Mutex` (one short critical section per acquire
/// and per release): a slot is either in the list or with exactly one owner, so two
/// concurrent acquirers can never get the same slot. Healing runs in `Send` tasks through
/// the runtime's `spawn`, or inline in [`acquire`](Self::acquire) without a spawner.
///
/// # Examples
///
/// ```no_run
/// use nexus_async_net::rest::{AtomicClientPool, RestError};
/// use std::sync::Arc;
///
/// # async fn run() -> Result<(), RestError> {
/// let pool = Arc::new(
///     AtomicClientPool::builder()
///         .url("http://127.0.0.1:8080")
///         .connections(4)
///         .disable_nagle()
///         .build()
///         .await?,
/// );
/// let mut slot = pool.acquire().await?;
/// let s = &mut *slot;
/// let req = s.writer.get("/time").finish()?;
/// let (conn, reader) = s.conn_and_reader()?;
/// let status = conn.send(req, reader).await?.status();
/// # Ok(()) }
/// ```
pub struct AtomicClientPool {
    core: Core<AtomicFreeList>,
}

impl AtomicClientPool {
    /// A builder with the defaults of [`PoolBuilder`].
    pub fn builder() -> AtomicClientPoolBuilder {
        PoolBuilder::new()
    }

    pool_methods!(AtomicPooledSlot);
}

macro_rules! pool_debug {
    ($($pool:ident),*) => {$(
        impl fmt::Debug for $pool {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($pool))
                    .field("url", &self.core.shared.config.url)
                    .field("mode", &self.core.mode)
                    .field("stats", &self.stats())
                    .finish_non_exhaustive()
            }
        }
    )*};
}
pool_debug!(ClientPool, AtomicClientPool);

#[cfg(test)]
mod tests;
