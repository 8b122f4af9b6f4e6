//! The machinery both pools share: slots, the shared state healing tasks report to, the
//! healing task itself, and the acquire/release algorithm generic over the free list.

// Slots are boxed: a `ClientSlot` is several hundred bytes, and acquire/release should
// move a pointer, not the slot (clippy::vec_box assumes the opposite).
#![allow(clippy::vec_box)]

use std::hash::{BuildHasher, RandomState};
use std::mem;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::Event;
use futures_util::future::select;

use super::{Backoff, ClientSlot, HealingMode, PoolStats};
use crate::rest::connection::{ClientConnection, HttpConnectionBuilder};
use crate::rest::error::RestError;
use crate::rt::Runtime;

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
struct Dead {
    slot: Box<ClientSlot>,
    /// When the next attempt may start.
    not_before: Instant,
    /// The delay to wait after the next failed attempt.
    delay: Duration,
}

/// State shared by a pool and its healing tasks (`Send + Sync` for both pools: healing
/// tasks may run on other threads).
#[derive(Debug)]
pub struct Shared {
    pub(crate) config: Config,
    /// Healthy slots. The free list itself for `AtomicClientPool`; for `ClientPool`, the
    /// mailbox where healed slots wait until the owning thread adopts them.
    free: Mutex<Vec<Box<ClientSlot>>>,
    /// `free.len()`, readable without the lock.
    free_len: AtomicUsize,
    /// Slots that heal inline in `acquire` (no spawner, or a spawn that failed).
    dead: Mutex<Vec<Dead>>,
    /// Notified when a slot is returned, healed or becomes ready for an inline attempt.
    available: Event,
    /// Notified once, when the pool is dropped: healing tasks stop.
    shutdown: Event,
    closed: AtomicBool,
    /// Slots away for healing (in a task or on the dead list).
    healing: AtomicUsize,
    reconnects: AtomicU64,
    failed_connects: AtomicU64,
    last_error: Mutex<Option<String>>,
    /// Distinguishes jitter sequences between tasks.
    seed: AtomicU64,
}

/// Locks a mutex, ignoring poisoning: the data (a list of slots, a string) stays
/// consistent even if a holder panicked, and pools must not panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        let n = config.connections;
        Self {
            config,
            free: Mutex::new(Vec::with_capacity(n)),
            free_len: AtomicUsize::new(0),
            dead: Mutex::new(Vec::with_capacity(n)),
            available: Event::new(),
            shutdown: Event::new(),
            closed: AtomicBool::new(false),
            healing: AtomicUsize::new(0),
            reconnects: AtomicU64::new(0),
            failed_connects: AtomicU64::new(0),
            last_error: Mutex::new(None),
            seed: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn pop_free(&self) -> Option<Box<ClientSlot>> {
        let mut free = lock(&self.free);
        let slot = free.pop();
        self.free_len.store(free.len(), Ordering::Relaxed);
        slot
    }

    pub(crate) fn push_free(&self, slot: Box<ClientSlot>) {
        let mut free = lock(&self.free);
        free.push(slot);
        self.free_len.store(free.len(), Ordering::Relaxed);
    }

    /// Moves every slot of the shared list into `into` (which has room for all slots).
    pub(crate) fn drain_free_into(&self, into: &mut Vec<Box<ClientSlot>>) {
        if self.free_len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut free = lock(&self.free);
        into.append(&mut free);
        self.free_len.store(0, Ordering::Relaxed);
    }

    pub(crate) fn free_len(&self) -> usize {
        self.free_len.load(Ordering::Relaxed)
    }

    fn record_failure(&self, e: &RestError) {
        self.failed_connects.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(e.to_string());
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// A healed slot rejoins the healthy ones and wakes one waiter.
    fn rejoin(&self, mut slot: Box<ClientSlot>) {
        slot.idle_since = None;
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        self.healing.fetch_sub(1, Ordering::Relaxed);
        self.push_free(slot);
        self.available.notify(1);
    }

    fn push_dead(&self, slot: Box<ClientSlot>, not_before: Instant, delay: Duration) {
        lock(&self.dead).push(Dead {
            slot,
            not_before,
            delay,
        });
        // A waiting `acquire` may be the one to run the attempt.
        self.available.notify(1);
    }

    /// Takes a dead slot whose next attempt may start now, or says when the earliest may.
    fn take_dead(&self, now: Instant) -> Result<Dead, Option<Instant>> {
        let mut dead = lock(&self.dead);
        match dead.iter().position(|d| d.not_before <= now) {
            Some(i) => Ok(dead.swap_remove(i)),
            None => Err(dead.iter().map(|d| d.not_before).min()),
        }
    }

    /// Stops healing: tasks end at their next await point and drop their slots.
    pub(crate) fn close(&self) -> Vec<Box<ClientSlot>> {
        self.closed.store(true, Ordering::Release);
        self.shutdown.notify(usize::MAX);
        lock(&self.dead).clear();
        let mut free = lock(&self.free);
        self.free_len.store(0, Ordering::Relaxed);
        mem::take(&mut *free)
    }

    fn jitter_seed(&self) -> u64 {
        let n = self.seed.fetch_add(1, Ordering::Relaxed);
        RandomState::new().hash_one(n) | 1
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

    /// Reconnects until it succeeds, sleeping a jittered, growing delay between attempts.
    async fn run(mut self) {
        let mut rng = self.shared.jitter_seed();
        loop {
            if self.shared.is_closed() {
                return;
            }
            if let Ok(slot) = self.attempt().await {
                self.shared.rejoin(slot);
                return;
            }
            let backoff = &self.shared.config.backoff;
            let wait = backoff.jittered(self.delay, next_random(&mut rng));
            self.delay = backoff.next(self.delay);
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
async fn heal_task(healing: Healing) {
    let shared = Arc::clone(&healing.shared);
    let stop = shared.shutdown.listen();
    if shared.is_closed() {
        return;
    }
    let work = pin!(healing.run());
    // Dropping `work` drops the slot; `Healing::drop` sees the pool closed.
    let _ = select(stop, work).await;
}

/// xorshift64: enough to spread reconnects; not for anything secret.
fn next_random(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Where a pool keeps its healthy, free slots: the part that differs between
/// [`ClientPool`](super::ClientPool) and [`AtomicClientPool`](super::AtomicClientPool).
pub trait FreeList: sealed::Sealed {}

pub(crate) mod sealed {
    use super::{ClientSlot, Shared};

    pub trait Sealed {
        fn with_capacity(n: usize) -> Self;
        fn pop(&self, shared: &Shared) -> Option<Box<ClientSlot>>;
        fn push(&self, shared: &Shared, slot: Box<ClientSlot>);
        fn len(&self, shared: &Shared) -> usize;
        fn drain(&self) -> Vec<Box<ClientSlot>>;
    }
}

/// The acquire/release/heal algorithm over a free list.
pub(crate) struct Core<F: FreeList> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) free: F,
    pub(crate) mode: HealingMode,
}

impl<F: FreeList> Core<F> {
    pub(crate) fn new(shared: Shared, slots: Vec<Box<ClientSlot>>, mode: HealingMode) -> Self {
        debug_assert!(slots.len() <= shared.config.connections);
        let free = F::with_capacity(shared.config.connections);
        let shared = Arc::new(shared);
        for slot in slots {
            free.push(&shared, slot);
        }
        Self { shared, free, mode }
    }

    pub(crate) fn try_acquire(&self) -> Option<Box<ClientSlot>> {
        loop {
            let slot = self.free.pop(&self.shared)?;
            if self.is_healthy(&slot) {
                return Some(slot);
            }
            self.heal(slot);
        }
    }

    fn is_healthy(&self, slot: &ClientSlot) -> bool {
        if slot.needs_reconnect() {
            return false;
        }
        match (self.shared.config.idle_timeout, slot.idle_since) {
            (Some(limit), Some(since)) => {
                self.shared
                    .config
                    .runtime
                    .now()
                    .saturating_duration_since(since)
                    < limit
            }
            _ => true,
        }
    }

    pub(crate) async fn acquire(&self) -> Result<Box<ClientSlot>, RestError> {
        let runtime = &self.shared.config.runtime;
        let deadline = runtime.now() + self.shared.config.acquire_timeout;
        loop {
            if let Some(slot) = self.try_acquire() {
                return Ok(slot);
            }
            let now = runtime.now();
            let next_attempt = match self.shared.take_dead(now) {
                Ok(dead) => {
                    if let Some(slot) = self.heal_inline(dead, deadline).await {
                        return Ok(slot);
                    }
                    continue;
                }
                Err(next) => next,
            };
            if now >= deadline {
                return Err(RestError::AcquireTimeout);
            }
            let listener = self.shared.available.listen();
            // A slot may have come back between the check above and `listen`.
            if let Some(slot) = self.try_acquire() {
                return Ok(slot);
            }
            let wake = next_attempt.map_or(deadline, |t| t.min(deadline));
            let _ = runtime.timeout_at(Some(wake), listener).await;
        }
    }

    /// One inline reconnect attempt, within the acquire deadline. The slot is the caller's
    /// on success; on failure (or cancellation) it returns to the dead list.
    async fn heal_inline(&self, dead: Dead, deadline: Instant) -> Option<Box<ClientSlot>> {
        let runtime = &self.shared.config.runtime;
        let mut healing = Healing::new(Arc::clone(&self.shared), dead.slot, dead.delay);
        match runtime.timeout_at(Some(deadline), healing.attempt()).await {
            Ok(Ok(mut slot)) => {
                slot.idle_since = None;
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                self.shared.healing.fetch_sub(1, Ordering::Relaxed);
                Some(slot)
            }
            Ok(Err(_)) | Err(_) => {
                let backoff = &self.shared.config.backoff;
                let mut rng = self.shared.jitter_seed();
                let wait = backoff.jittered(healing.delay, next_random(&mut rng));
                healing.delay = backoff.next(healing.delay);
                if let Some(slot) = healing.slot.take() {
                    self.shared
                        .push_dead(slot, runtime.now() + wait, healing.delay);
                }
                None
            }
        }
    }

    /// A slot comes back from its user.
    pub(crate) fn release(&self, mut slot: Box<ClientSlot>) {
        if slot.needs_reconnect() || self.shared.is_closed() {
            self.heal(slot);
            return;
        }
        if self.shared.config.idle_timeout.is_some() {
            slot.idle_since = Some(self.shared.config.runtime.now());
        }
        self.free.push(&self.shared, slot);
        self.shared.available.notify(1);
    }

    /// Sends a dead slot to healing: a background task, or the dead list for inline
    /// healing in `acquire`.
    fn heal(&self, mut slot: Box<ClientSlot>) {
        if self.shared.is_closed() {
            return;
        }
        // The old connection is closed now (dropping it closes the socket), not when the
        // replacement arrives.
        slot.conn = None;
        self.shared.healing.fetch_add(1, Ordering::Relaxed);
        let initial = self.shared.config.backoff.initial;
        let healing = Healing::new(Arc::clone(&self.shared), slot, initial);
        let runtime = &self.shared.config.runtime;
        // A failed spawn drops the task unpolled; `Healing::drop` then puts the slot on
        // the dead list, where `acquire` heals it inline.
        let _ = match self.mode {
            HealingMode::Local => runtime.spawn_local(heal_task(healing)),
            HealingMode::Spawned => runtime.spawn(heal_task(healing)),
            HealingMode::Inline => {
                drop(healing);
                Ok(())
            }
        };
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let total = self.shared.config.connections;
        let idle = self.free.len(&self.shared);
        let healing = self.shared.healing.load(Ordering::Relaxed);
        PoolStats {
            connections: total,
            idle,
            in_use: total.saturating_sub(idle + healing),
            healing,
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            failed_connects: self.shared.failed_connects.load(Ordering::Relaxed),
        }
    }

    /// Takes every idle slot out and closes their connections gracefully.
    pub(crate) async fn close_idle(&self) {
        let mut slots = self.free.drain();
        slots.append(&mut self.shared.close());
        let closes = slots
            .into_iter()
            .filter_map(|mut s| s.conn.take())
            .map(ClientConnection::close);
        let _ = futures_util::future::join_all(closes).await;
    }
}

impl<F: FreeList> Drop for Core<F> {
    fn drop(&mut self) {
        drop(self.free.drain());
        drop(self.shared.close());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healing_tasks_are_send() {
        fn is_send<T: Send>() {}
        is_send::<Healing>();
        is_send::<Shared>();
        fn task_is_send<F: std::future::Future<Output = ()> + Send>(_: fn(Healing) -> F) {}
        task_is_send(heal_task);
    }

    #[test]
    fn jitter_is_in_unit_interval_and_varies() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        let draws: Vec<f64> = (0..1000).map(|_| next_random(&mut state)).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
    }
}
