//! The machinery both pools share: slots, the shared state healing tasks report to, the
//! healing task itself, and the acquire/release algorithm generic over the free list.

// Slots are boxed: a `ClientSlot` is several hundred bytes, and acquire/release should
// move a pointer, not the slot (clippy::vec_box assumes the opposite).
#![allow(clippy::vec_box)]

use std::mem;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::{Event, IntoNotification};
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

/// The shared free list.
#[derive(Debug)]
struct Free {
    slots: Vec<Box<ClientSlot>>,
    /// `acquire` calls registered as waiting. Kept under the same lock as `slots`, so a
    /// release that reads 0 here happened before the waiter's registration, and the
    /// waiter's re-check after registering sees the released slot: no wake-up is lost,
    /// and a release with nobody waiting skips the notification entirely.
    waiters: usize,
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
    /// Healthy slots and the number of waiting acquirers, under one lock. The free list
    /// itself for `AtomicClientPool`; for `ClientPool`, the mailbox where healed slots
    /// wait until the owning thread adopts them.
    free: Mutex<Free>,
    /// `free.slots.len()`, readable without the lock.
    free_len: AtomicUsize,
    /// `free.waiters`, readable without the lock (by `ClientPool`'s release, on the thread
    /// that also registers its waiters).
    waiters: AtomicUsize,
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
            free: Mutex::new(Free {
                slots: Vec::with_capacity(n),
                waiters: 0,
            }),
            free_len: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            dead: Mutex::new(Vec::with_capacity(n)),
            available: Event::new(),
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

    pub(crate) fn pop_free(&self) -> Option<Box<ClientSlot>> {
        let mut free = lock(&self.free);
        let slot = free.slots.pop();
        self.free_len.store(free.slots.len(), Ordering::Relaxed);
        slot
    }

    /// Pushes a slot and wakes one waiter if any is registered.
    pub(crate) fn push_free(&self, slot: Box<ClientSlot>) {
        let waiters = {
            let mut free = lock(&self.free);
            free.slots.push(slot);
            self.free_len.store(free.slots.len(), Ordering::Relaxed);
            free.waiters
        };
        if waiters > 0 {
            self.wake_one();
        }
    }

    /// Wakes one waiter of a `ClientPool` after a release on its own thread (where its
    /// waiters register, so the relaxed read sees every registration).
    pub(crate) fn wake_local(&self) {
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.wake_one();
        }
    }

    /// Registers an `acquire` as waiting until the guard drops.
    fn register_waiter(&self) -> Waiting<'_> {
        let mut free = lock(&self.free);
        free.waiters += 1;
        self.waiters.store(free.waiters, Ordering::Relaxed);
        Waiting(self)
    }

    /// Moves every slot of the shared list into `into` (which has room for all slots).
    pub(crate) fn drain_free_into(&self, into: &mut Vec<Box<ClientSlot>>) {
        if self.free_len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut free = lock(&self.free);
        into.append(&mut free.slots);
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
    }

    /// Wakes one more waiter (an *additional* notification: a second slot returned while
    /// the first waiter has not run yet wakes a second waiter; a notified waiter that gives
    /// up passes its notification on). Ordering comes from the `free` lock (see
    /// [`Free::waiters`]), so the notification needs no fence of its own.
    fn wake_one(&self) {
        self.available.notify(1.additional().relaxed());
    }

    fn push_dead(&self, slot: Box<ClientSlot>, not_before: Instant, delay: Duration) {
        lock(&self.dead).push(Dead {
            slot,
            not_before,
            delay,
        });
        // A waiting `acquire` may be the one to run the attempt.
        self.wake_one();
    }

    /// Takes a dead slot whose next attempt may start now.
    fn take_dead(&self, now: Instant) -> Option<Dead> {
        let mut dead = lock(&self.dead);
        let i = dead.iter().position(|d| d.not_before <= now)?;
        Some(dead.swap_remove(i))
    }

    /// When the earliest dead slot's next attempt may start.
    fn next_dead(&self) -> Option<Instant> {
        lock(&self.dead).iter().map(|d| d.not_before).min()
    }

    /// Stops healing: tasks end at their next await point and drop their slots.
    pub(crate) fn close(&self) -> Vec<Box<ClientSlot>> {
        self.closed.store(true, Ordering::Release);
        self.shutdown.notify(usize::MAX);
        lock(&self.dead).clear();
        let mut free = lock(&self.free);
        self.free_len.store(0, Ordering::Relaxed);
        mem::take(&mut free.slots)
    }
}

/// An `acquire` registered as waiting; unregisters on drop (also when cancelled).
struct Waiting<'a>(&'a Shared);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut free = lock(&self.0.free);
        free.waiters -= 1;
        self.0.waiters.store(free.waiters, Ordering::Relaxed);
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
        loop {
            if self.shared.is_closed() {
                return;
            }
            if let Ok(slot) = self.attempt().await {
                self.shared.rejoin(slot);
                return;
            }
            let backoff = &self.shared.config.backoff;
            let wait = backoff.jittered_at_random(self.delay);
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
        // `None`: a timeout too large to represent, i.e. none.
        let deadline = runtime
            .now()
            .checked_add(self.shared.config.acquire_timeout);
        // Registered on the first wait, unregistered on return (or cancellation).
        let mut waiting = None;
        loop {
            if let Some(slot) = self.try_acquire() {
                return Ok(slot);
            }
            let now = runtime.now();
            if let Some(dead) = self.shared.take_dead(now) {
                // Boxed: the connect future is large and only inline healing needs it;
                // the `acquire` future stays small.
                if let Some(slot) = Box::pin(self.heal_inline(dead, deadline)).await {
                    return Ok(slot);
                }
                continue;
            }
            if deadline.is_some_and(|d| now >= d) {
                return Err(RestError::AcquireTimeout);
            }
            if waiting.is_none() {
                waiting = Some(self.shared.register_waiter());
            }
            let listener = self.shared.available.listen();
            // A slot may have come back, or a dead one become due, before `listen`.
            if let Some(slot) = self.try_acquire() {
                return Ok(slot);
            }
            let next_attempt = self.shared.next_dead();
            if next_attempt.is_some_and(|t| t <= runtime.now()) {
                continue;
            }
            let wake = match (next_attempt, deadline) {
                (Some(a), Some(d)) => Some(a.min(d)),
                (a, d) => a.or(d),
            };
            let _ = runtime.timeout_at(wake, listener).await;
        }
    }

    /// One inline reconnect attempt, within the acquire deadline. The slot is the caller's
    /// on success; on failure (or cancellation) it returns to the dead list.
    async fn heal_inline(&self, dead: Dead, deadline: Option<Instant>) -> Option<Box<ClientSlot>> {
        let runtime = &self.shared.config.runtime;
        let mut healing = Healing::new(Arc::clone(&self.shared), dead.slot, dead.delay);
        match runtime.timeout_at(deadline, healing.attempt()).await {
            Ok(Ok(mut slot)) => {
                slot.idle_since = None;
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                self.shared.healing.fetch_sub(1, Ordering::Relaxed);
                Some(slot)
            }
            Ok(Err(_)) | Err(_) => {
                let backoff = &self.shared.config.backoff;
                let wait = backoff.jittered_at_random(healing.delay);
                healing.delay = backoff.next(healing.delay);
                if let Some(slot) = healing.slot.take() {
                    let now = runtime.now();
                    let not_before = now.checked_add(wait).unwrap_or(now);
                    self.shared.push_dead(slot, not_before, healing.delay);
                }
                None
            }
        }
    }

    /// One inline reconnect attempt for every dead slot that is due; healed slots join
    /// the free list. Returns how many healed.
    pub(crate) async fn maintain(&self) -> usize {
        let now = self.shared.config.runtime.now();
        let mut healed = 0;
        // A failed attempt is due again only after its backoff, i.e. after `now`: the loop
        // ends.
        while let Some(dead) = self.shared.take_dead(now) {
            if let Some(slot) = Box::pin(self.heal_inline(dead, None)).await {
                self.free.push(&self.shared, slot);
                healed += 1;
            }
        }
        healed
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
}
