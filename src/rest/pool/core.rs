//! The one acquire/release algorithm both pools run, generic over the free list
//! ([`free`](super::free)); dead slots go to [`heal`](super::heal).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::free::FreeList;
use super::heal::{self, HealingMode, Shared};
use super::slot::{ClientSlot, PoolStats};
use crate::rest::connection::ClientConnection;
use crate::rest::error::RestError;

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
            free.push(&shared.free, slot);
        }
        Self { shared, free, mode }
    }

    pub(crate) fn try_acquire(&self) -> Option<Box<ClientSlot>> {
        loop {
            let slot = self.free.pop(&self.shared.free)?;
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
                if let Some(slot) = Box::pin(heal::heal_inline(&self.shared, dead, deadline)).await
                {
                    return Ok(slot);
                }
                continue;
            }
            if deadline.is_some_and(|d| now >= d) {
                return Err(RestError::AcquireTimeout);
            }
            if waiting.is_none() {
                waiting = Some(self.shared.free.register_waiter());
            }
            let listener = self.shared.free.listen();
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

    /// One inline reconnect attempt for every dead slot that is due; healed slots join
    /// the free list. Returns how many healed.
    pub(crate) async fn maintain(&self) -> usize {
        let now = self.shared.config.runtime.now();
        let mut healed = 0;
        // A failed attempt is due again only after its backoff, i.e. after `now`: the loop
        // ends.
        while let Some(dead) = self.shared.take_dead(now) {
            if let Some(slot) = Box::pin(heal::heal_inline(&self.shared, dead, None)).await {
                self.free.push(&self.shared.free, slot);
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
        self.free.push(&self.shared.free, slot);
    }

    /// Sends a dead slot to healing, the way this pool's runtime allows.
    fn heal(&self, slot: Box<ClientSlot>) {
        heal::start(&self.shared, self.mode, slot);
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let total = self.shared.config.connections;
        let idle = self.free.len(&self.shared.free);
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

/// A slot on loan from a pool; returns to it when dropped (a dead one goes to healing).
/// The public guards (`PooledSlot`, `AtomicPooledSlot`) wrap it.
pub(crate) struct Loan<'a, F: FreeList> {
    core: &'a Core<F>,
    slot: Option<Box<ClientSlot>>,
}

impl<'a, F: FreeList> Loan<'a, F> {
    pub(crate) fn new(core: &'a Core<F>, slot: Box<ClientSlot>) -> Self {
        Self {
            core,
            slot: Some(slot),
        }
    }
}

impl<F: FreeList> Deref for Loan<'_, F> {
    type Target = ClientSlot;

    fn deref(&self) -> &ClientSlot {
        // Some from construction until drop.
        self.slot.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl<F: FreeList> DerefMut for Loan<'_, F> {
    fn deref_mut(&mut self) -> &mut ClientSlot {
        self.slot.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<F: FreeList> Drop for Loan<'_, F> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.core.release(slot);
        }
    }
}
