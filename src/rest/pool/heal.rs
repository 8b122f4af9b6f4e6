//! Where dead slots go: the state a pool shares with its healing tasks ([`Shared`]), the
//! dead list of slots waiting for an inline reconnect, the healing task with its
//! [`Backoff`] schedule, and the build-time probe that picks the [`HealingMode`].
//!
//! Nothing here depends on the free list: a healed slot rejoins through
//! [`SharedFree`](super::free::SharedFree), which both pools share.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_listener::Event;
use futures_util::future::select;

use super::free::{SharedFree, lock};
use super::slot::ClientSlot;
pub use crate::connect::Backoff;
use crate::rest::connection::{ClientConnection, HttpConnectionBuilder};
use crate::rest::error::RestError;
use crate::rt::Runtime;

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

/// What a pool was built with; shared by the pool and its healing tasks.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) url: String,
    /// Carries TLS, socket options, the connect and read timeouts and the runtime.
    pub(crate) connector: HttpConnectionBuilder,
    pub(crate) runtime: Runtime,
    pub(crate) backoff: Backoff,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) acquire_timeout: Duration,
    pub(crate) connections: usize,
}

impl Config {
    /// One connection attempt, bounded by the connect timeout.
    pub(crate) async fn connect(&self) -> Result<ClientConnection, RestError> {
        self.connector.clone().connect(&self.url).await
    }
}

/// A slot waiting for an inline reconnect (no spawner), with its backoff state.
#[derive(Debug)]
pub(crate) struct Dead {
    slot: Box<ClientSlot>,
    /// When the next attempt may start.
    not_before: Instant,
    /// The delay to wait after the next failed attempt.
    delay: Duration,
}

/// State shared by a pool and its healing tasks (`Send + Sync` for both pools: healing
/// tasks may run on other threads).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// Healthy slots and the waiting acquirers. The free list itself for
    /// `AtomicClientPool`; for `ClientPool`, the mailbox where healed slots wait until the
    /// owning thread adopts them.
    pub(crate) free: SharedFree,
    /// Slots that heal inline in `acquire` (no spawner, or a spawn that failed).
    dead: Mutex<Vec<Dead>>,
    /// Notified once, when the pool is dropped: healing tasks stop.
    shutdown: Event,
    closed: AtomicBool,
    /// Slots away for healing (in a task or on the dead list).
    pub(crate) healing: AtomicUsize,
    pub(crate) reconnects: AtomicU64,
    pub(crate) failed_connects: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        let n = config.connections;
        Self {
            config,
            free: SharedFree::with_capacity(n),
            dead: Mutex::new(Vec::with_capacity(n)),
            shutdown: Event::new(),
            closed: AtomicBool::new(false),
            healing: AtomicUsize::new(0),
            reconnects: AtomicU64::new(0),
            failed_connects: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn record_failure(&self, e: &RestError) {
        trace!(warn, "nexus_async_net::pool", error = %e, "pool reconnect failed");
        self.failed_connects.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(e.to_string());
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// Counts a healed slot back in: no longer healing, one more reconnect.
    fn healed(&self, slot: &mut ClientSlot) {
        trace!(
            debug,
            "nexus_async_net::pool",
            slot = slot.id(),
            "pool slot healed"
        );
        slot.idle_since = None;
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        self.healing.fetch_sub(1, Ordering::Relaxed);
    }

    /// A healed slot rejoins the healthy ones and wakes one waiter.
    fn rejoin(&self, mut slot: Box<ClientSlot>) {
        self.healed(&mut slot);
        self.free.push(slot);
    }

    fn push_dead(&self, slot: Box<ClientSlot>, not_before: Instant, delay: Duration) {
        lock(&self.dead).push(Dead {
            slot,
            not_before,
            delay,
        });
        // A waiting `acquire` may be the one to run the attempt.
        self.free.wake_one();
    }

    /// Takes a dead slot whose next attempt may start now.
    pub(crate) fn take_dead(&self, now: Instant) -> Option<Dead> {
        let mut dead = lock(&self.dead);
        let i = dead.iter().position(|d| d.not_before <= now)?;
        Some(dead.swap_remove(i))
    }

    /// When the earliest dead slot's next attempt may start.
    pub(crate) fn next_dead(&self) -> Option<Instant> {
        lock(&self.dead).iter().map(|d| d.not_before).min()
    }

    /// Stops healing: tasks end at their next await point and drop their slots.
    pub(crate) fn close(&self) -> Vec<Box<ClientSlot>> {
        self.closed.store(true, Ordering::Release);
        self.shutdown.notify(usize::MAX);
        lock(&self.dead).clear();
        self.free.take_all()
    }
}

/// Owns a slot while it heals. If the healing future is dropped early (a failed spawn, a
/// runtime shutting down, a cancelled inline attempt) the slot goes to the dead list, so
/// it is never lost; once the pool is closed it is dropped instead.
pub(crate) struct Healing {
    shared: Arc<Shared>,
    slot: Option<Box<ClientSlot>>,
    delay: Duration,
}

impl Healing {
    fn new(shared: Arc<Shared>, slot: Box<ClientSlot>, delay: Duration) -> Self {
        Self {
            shared,
            slot: Some(slot),
            delay,
        }
    }

    /// One connection attempt. On success the slot holds the new connection and is
    /// returned; on failure the error is recorded and the backoff advances.
    async fn attempt(&mut self) -> Result<Box<ClientSlot>, RestError> {
        match self.shared.config.connect().await {
            Ok(conn) => {
                let mut slot = self.slot.take().ok_or(RestError::ConnectionPoisoned)?;
                slot.conn = Some(conn);
                Ok(slot)
            }
            Err(e) => {
                self.shared.record_failure(&e);
                Err(e)
            }
        }
    }

    /// After a failed attempt: the jittered wait before the next one; the delay grows.
    fn back_off(&mut self) -> Duration {
        let backoff = &self.shared.config.backoff;
        let wait = backoff.jittered_at_random(self.delay);
        self.delay = backoff.next(self.delay);
        wait
    }

    /// Reconnects until it succeeds, sleeping a jittered, growing delay between attempts.
    async fn run(mut self) {
        loop {
            if self.shared.is_closed() {
                return;
            }
            if let Ok(slot) = self.attempt().await {
                self.shared.rejoin(slot);
                return;
            }
            let wait = self.back_off();
            self.shared.config.runtime.sleep(wait).await;
        }
    }
}

impl Drop for Healing {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        if self.shared.is_closed() {
            return;
        }
        let now = self.shared.config.runtime.now();
        self.shared.push_dead(slot, now, self.delay);
    }
}

/// The background healing task: reconnects `slot` until it succeeds or the pool is
/// dropped, whichever comes first. `Send`, so any spawner can run it.
pub(crate) async fn heal_task(healing: Healing) {
    let shared = Arc::clone(&healing.shared);
    let stop = shared.shutdown.listen();
    if shared.is_closed() {
        return;
    }
    let work = pin!(healing.run());
    // Dropping `work` drops the slot; `Healing::drop` sees the pool closed.
    let _ = select(stop, work).await;
}

/// Sends a dead slot to healing: a background task, or the dead list for inline healing
/// in `acquire`.
pub(crate) fn start(shared: &Arc<Shared>, mode: HealingMode, mut slot: Box<ClientSlot>) {
    if shared.is_closed() {
        return;
    }
    // The old connection is closed now (dropping it closes the socket), not when the
    // replacement arrives.
    slot.conn = None;
    shared.healing.fetch_add(1, Ordering::Relaxed);
    let initial = shared.config.backoff.initial();
    let healing = Healing::new(Arc::clone(shared), slot, initial);
    let runtime = &shared.config.runtime;
    // A failed spawn drops the task unpolled; `Healing::drop` then puts the slot on the
    // dead list, where `acquire` heals it inline.
    let _ = match mode {
        HealingMode::Local => runtime.spawn_local(heal_task(healing)),
        HealingMode::Spawned => runtime.spawn(heal_task(healing)),
        HealingMode::Inline => {
            drop(healing);
            Ok(())
        }
    };
}

/// One inline reconnect attempt, within the acquire deadline. The slot is the caller's on
/// success; on failure (or cancellation) it returns to the dead list.
pub(crate) async fn heal_inline(
    shared: &Arc<Shared>,
    dead: Dead,
    deadline: Option<Instant>,
) -> Option<Box<ClientSlot>> {
    let runtime = &shared.config.runtime;
    let mut healing = Healing::new(Arc::clone(shared), dead.slot, dead.delay);
    match runtime.timeout_at(deadline, healing.attempt()).await {
        Ok(Ok(mut slot)) => {
            shared.healed(&mut slot);
            Some(slot)
        }
        Ok(Err(_)) | Err(_) => {
            let wait = healing.back_off();
            if let Some(slot) = healing.slot.take() {
                let now = runtime.now();
                let not_before = now.checked_add(wait).unwrap_or(now);
                shared.push_dead(slot, not_before, healing.delay);
            }
            None
        }
    }
}

/// Decides at build time how dead slots heal, by spawning a no-op: a runtime that cannot
/// spawn is found now, not at the first dead slot.
pub(crate) fn probe_mode(runtime: &Runtime, local: bool) -> HealingMode {
    // `local` futures are `!Send`-capable; ours are `Send`, so either spawn runs them.
    if local && runtime.spawn_local(async {}).is_ok() {
        return HealingMode::Local;
    }
    if runtime.spawn(async {}).is_ok() {
        return HealingMode::Spawned;
    }
    HealingMode::Inline
}
