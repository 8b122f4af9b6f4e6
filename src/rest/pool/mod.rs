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
mod free;
mod heal;
mod slot;

use std::fmt;
use std::ops::{Deref, DerefMut};

pub use self::builder::{AtomicClientPoolBuilder, ClientPoolBuilder, DEFAULT_ACQUIRE_TIMEOUT};
use self::core::{Core, Loan};
use self::free::{AtomicFreeList, LocalFreeList};
pub use self::heal::{Backoff, HealingMode};
pub use self::slot::{ClientSlot, PoolStats};
use super::error::RestError;

macro_rules! guard {
    ($(#[$doc:meta])* $guard:ident, $free:ty) => {
        $(#[$doc])*
        ///
        /// Dereferences to [`ClientSlot`]; returns the slot to the pool when dropped (a dead
        /// one goes to healing). Borrows the pool, so the pool outlives its loans.
        #[must_use = "a slot returns to the pool as soon as the guard is dropped"]
        pub struct $guard<'a>(Loan<'a, $free>);

        impl Deref for $guard<'_> {
            type Target = ClientSlot;

            fn deref(&self) -> &ClientSlot {
                &self.0
            }
        }

        impl DerefMut for $guard<'_> {
            fn deref_mut(&mut self) -> &mut ClientSlot {
                &mut self.0
            }
        }

        impl fmt::Debug for $guard<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    };
}

guard!(
    /// A slot on loan from a [`ClientPool`] (`!Send`, like the pool).
    PooledSlot,
    LocalFreeList
);
guard!(
    /// A slot on loan from an [`AtomicClientPool`] (`Send`).
    AtomicPooledSlot,
    AtomicFreeList
);

macro_rules! pool_methods {
    ($guard:ident) => {
        /// The most recently returned healthy slot, at once: never waits, never does I/O.
        /// Dead slots met on the way are sent to healing and skipped. `None` when every
        /// slot is in use or healing — on the trading hot path, fail fast.
        pub fn try_acquire(&self) -> Option<$guard<'_>> {
            self.core
                .try_acquire()
                .map(|slot| $guard(Loan::new(&self.core, slot)))
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
            Ok($guard(Loan::new(&self.core, slot)))
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
    /// A builder with the defaults of [`ClientPoolBuilder`].
    pub fn builder() -> ClientPoolBuilder {
        ClientPoolBuilder::new()
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
    /// A builder with the defaults of [`AtomicClientPoolBuilder`].
    pub fn builder() -> AtomicClientPoolBuilder {
        AtomicClientPoolBuilder::new()
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
