//! Where healthy slots wait, and who waits for them: the shared free list with its waiter
//! count ([`SharedFree`]) and the two [`FreeList`]s, one per pool.
//!
//! `AtomicClientPool`'s free list is the shared list itself; `ClientPool`'s is a vector on
//! the owning thread, and the shared list is only the mailbox where healed slots wait until
//! that thread adopts them.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::mem;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use event_listener::{Event, EventListener, IntoNotification};

use super::slot::ClientSlot;

/// Locks a mutex, ignoring poisoning: the data (a list of slots, a string) stays
/// consistent even if a holder panicked, and pools must not panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The slots and the waiter count, under one lock.
#[derive(Debug)]
struct Free {
    slots: Vec<Box<ClientSlot>>,
    /// `acquire` calls registered as waiting. Kept under the same lock as `slots`, so a
    /// release that reads 0 here happened before the waiter's registration, and the
    /// waiter's re-check after registering sees the released slot: no wake-up is lost,
    /// and a release with nobody waiting skips the notification entirely.
    waiters: usize,
}

/// The free list a pool shares with its healing tasks (`Send + Sync`), the waiters
/// registered on it and the event that wakes them.
#[derive(Debug)]
pub(crate) struct SharedFree {
    free: Mutex<Free>,
    /// `free.slots.len()`, readable without the lock.
    len: AtomicUsize,
    /// `free.waiters`, readable without the lock (by `ClientPool`'s release, on the thread
    /// that also registers its waiters).
    waiters: AtomicUsize,
    /// Notified when a slot is returned, healed or becomes ready for an inline attempt.
    available: Event,
}

impl SharedFree {
    /// An empty list with room for `n` slots.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            free: Mutex::new(Free {
                slots: Vec::with_capacity(n),
                waiters: 0,
            }),
            len: AtomicUsize::new(0),
            waiters: AtomicUsize::new(0),
            available: Event::new(),
        }
    }

    pub(crate) fn pop(&self) -> Option<Box<ClientSlot>> {
        let mut free = lock(&self.free);
        let slot = free.slots.pop();
        self.len.store(free.slots.len(), Ordering::Relaxed);
        slot
    }

    /// Pushes a slot and wakes one waiter if any is registered.
    pub(crate) fn push(&self, slot: Box<ClientSlot>) {
        let waiters = {
            let mut free = lock(&self.free);
            free.slots.push(slot);
            self.len.store(free.slots.len(), Ordering::Relaxed);
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

    /// Wakes one more waiter (an *additional* notification: a second slot returned while
    /// the first waiter has not run yet wakes a second waiter; a notified waiter that gives
    /// up passes its notification on). Ordering comes from the `free` lock (see
    /// [`Free::waiters`]), so the notification needs no fence of its own.
    pub(crate) fn wake_one(&self) {
        self.available.notify(1.additional().relaxed());
    }

    /// Registers an `acquire` as waiting until the guard drops.
    pub(crate) fn register_waiter(&self) -> Waiting<'_> {
        let mut free = lock(&self.free);
        free.waiters += 1;
        self.waiters.store(free.waiters, Ordering::Relaxed);
        Waiting(self)
    }

    /// A listener for the next wake-up; a waiter re-checks the list after taking it.
    pub(crate) fn listen(&self) -> EventListener {
        self.available.listen()
    }

    /// Moves every slot of the list into `into` (which has room for all slots).
    pub(crate) fn drain_into(&self, into: &mut Vec<Box<ClientSlot>>) {
        if self.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut free = lock(&self.free);
        into.append(&mut free.slots);
        self.len.store(0, Ordering::Relaxed);
    }

    /// Takes every slot out (the pool is closing).
    pub(crate) fn take_all(&self) -> Vec<Box<ClientSlot>> {
        let mut free = lock(&self.free);
        self.len.store(0, Ordering::Relaxed);
        mem::take(&mut free.slots)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }
}

/// An `acquire` registered as waiting; unregisters on drop (also when cancelled).
pub(crate) struct Waiting<'a>(&'a SharedFree);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut free = lock(&self.0.free);
        free.waiters -= 1;
        self.0.waiters.store(free.waiters, Ordering::Relaxed);
    }
}

/// Where a pool keeps its healthy, free slots: the part that differs between `ClientPool`
/// and `AtomicClientPool`. Every method gets the pool's [`SharedFree`], where healed slots
/// arrive.
pub(crate) trait FreeList {
    fn with_capacity(n: usize) -> Self;
    fn pop(&self, shared: &SharedFree) -> Option<Box<ClientSlot>>;
    fn push(&self, shared: &SharedFree, slot: Box<ClientSlot>);
    fn len(&self, shared: &SharedFree) -> usize;
    /// Takes out the slots this list holds apart from the shared one.
    fn drain(&self) -> Vec<Box<ClientSlot>>;
}

/// The free list of a `ClientPool`: a plain vector on the owning thread. Slots healed by
/// background tasks wait in the shared mailbox and are adopted when the vector runs empty.
#[derive(Debug)]
pub(crate) struct LocalFreeList {
    slots: RefCell<Vec<Box<ClientSlot>>>,
    _not_send: PhantomData<Rc<()>>,
}

impl FreeList for LocalFreeList {
    fn with_capacity(n: usize) -> Self {
        Self {
            slots: RefCell::new(Vec::with_capacity(n)),
            _not_send: PhantomData,
        }
    }

    fn pop(&self, shared: &SharedFree) -> Option<Box<ClientSlot>> {
        let mut slots = self.slots.borrow_mut();
        if let Some(slot) = slots.pop() {
            return Some(slot);
        }
        shared.drain_into(&mut slots);
        slots.pop()
    }

    fn push(&self, shared: &SharedFree, slot: Box<ClientSlot>) {
        self.slots.borrow_mut().push(slot);
        shared.wake_local();
    }

    fn len(&self, shared: &SharedFree) -> usize {
        self.slots.borrow().len() + shared.len()
    }

    fn drain(&self) -> Vec<Box<ClientSlot>> {
        mem::take(&mut *self.slots.borrow_mut())
    }
}

/// The free list of an `AtomicClientPool`: the shared LIFO vector under its mutex. One
/// short critical section per acquire and per release; a slot is in the vector or with
/// exactly one owner, so it can never be handed out twice (no ABA).
#[derive(Debug)]
pub(crate) struct AtomicFreeList;

impl FreeList for AtomicFreeList {
    fn with_capacity(_: usize) -> Self {
        Self
    }

    fn pop(&self, shared: &SharedFree) -> Option<Box<ClientSlot>> {
        shared.pop()
    }

    fn push(&self, shared: &SharedFree, slot: Box<ClientSlot>) {
        shared.push(slot);
    }

    fn len(&self, shared: &SharedFree) -> usize {
        shared.len()
    }

    fn drain(&self) -> Vec<Box<ClientSlot>> {
        Vec::new()
    }
}
