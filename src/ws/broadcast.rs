//! [`Broadcast`]: one [`PreparedMessage`] to many connections, each through a bounded
//! queue with a policy for the ones that do not keep up.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::task::AtomicWaker;

use crate::proto::ws::{CloseCode, PreparedMessage};

use super::{WsError, WsWriter};

/// What [`Broadcast::publish`] does when a subscriber's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LagPolicy {
    /// Wait until it has room: every subscriber gets every message, and the slowest
    /// one sets the pace for all (a bounded queue, not an unbounded one).
    Wait,
    /// Drop its oldest queued message to make room (market data: the newest matters).
    DropOldest,
    /// Drop the new message for it.
    DropNewest,
    /// Close it with this code (1008 policy violation, or 1013 try again later): its
    /// queue is cleared and its [`Subscriber::forward`] sends the Close.
    Close(CloseCode),
}

/// A subscriber fell behind: the lag hook's argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lag {
    /// [`Subscriber::id`] of the one that lagged.
    pub subscriber: u64,
    /// Messages dropped for it so far.
    pub dropped: u64,
    /// Whether it was closed ([`LagPolicy::Close`]).
    pub closed: bool,
}

type LagHook = Box<dyn Fn(Lag) + Send + Sync>;

struct Hub {
    subscribers: Mutex<Vec<Arc<Queue>>>,
    capacity: usize,
    policy: LagPolicy,
    on_lag: Option<LagHook>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Queue {
    id: u64,
    state: Mutex<State>,
    /// The subscriber's task, woken by a new message or a close.
    reader: AtomicWaker,
    /// A publisher waiting for room ([`LagPolicy::Wait`]).
    writer: AtomicWaker,
}

#[derive(Default)]
struct State {
    items: VecDeque<PreparedMessage>,
    /// Set by [`LagPolicy::Close`], or when the broadcast is gone (`None` inside).
    closed: Option<Option<CloseCode>>,
    /// The subscriber was dropped.
    gone: bool,
    dropped: u64,
    max_len: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Fan-out of [`PreparedMessage`]s to subscribers, each with a bounded queue.
///
/// Publishing costs one reference-count increment and one queue push per subscriber: the
/// message was encoded once. Each connection's writer drains its queue with
/// [`Subscriber::forward`] (batched: everything queued goes out in one write). A
/// subscriber that stops reading holds at most `capacity` messages in its queue plus what
/// its write buffer holds, never more, and what happens to the rest is the
/// [`LagPolicy`]'s choice. Cheap to clone; all clones publish to the same subscribers.
///
/// ```
/// use nexus_async_net::ws::{Broadcast, LagPolicy, PreparedMessage};
///
/// let hub = Broadcast::new(64, LagPolicy::DropOldest);
/// let mut a = hub.subscribe();
/// let mut b = hub.subscribe();
/// futures::executor::block_on(async {
///     let trade = PreparedMessage::text(r#"{"px":"64000.5"}"#);
///     assert_eq!(hub.publish(&trade).await, 2);
///     assert!(a.try_recv().unwrap().shares_frame_with(&trade)); // not copied
///     assert!(b.try_recv().is_some());
/// });
/// ```
#[derive(Clone)]
pub struct Broadcast {
    hub: Arc<Hub>,
}

impl fmt::Debug for Broadcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast")
            .field("subscribers", &self.subscribers())
            .field("capacity", &self.hub.capacity)
            .field("policy", &self.hub.policy)
            .finish()
    }
}

impl Broadcast {
    /// A broadcast whose subscribers queue at most `capacity` messages (minimum 1).
    pub fn new(capacity: usize, policy: LagPolicy) -> Self {
        Self::build(capacity, policy, None)
    }

    /// As [`new`](Self::new), calling `hook` each time a subscriber's queue is full
    /// (after the policy acted). The hook runs inside `publish`: keep it short.
    pub fn with_lag_hook(
        capacity: usize,
        policy: LagPolicy,
        hook: impl Fn(Lag) + Send + Sync + 'static,
    ) -> Self {
        Self::build(capacity, policy, Some(Box::new(hook)))
    }

    fn build(capacity: usize, policy: LagPolicy, on_lag: Option<LagHook>) -> Self {
        Self {
            hub: Arc::new(Hub {
                subscribers: Mutex::new(Vec::new()),
                capacity: capacity.max(1),
                policy,
                on_lag,
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// A new subscriber (one per connection); it sees messages published from now on.
    pub fn subscribe(&self) -> Subscriber {
        let queue = Arc::new(Queue {
            id: self.hub.next_id.fetch_add(1, Ordering::Relaxed),
            ..Queue::default()
        });
        lock(&self.hub.subscribers).push(queue.clone());
        Subscriber {
            queue,
            _hub: Arc::downgrade(&self.hub),
        }
    }

    /// Subscribers now (dropped ones are removed at the next publish).
    pub fn subscribers(&self) -> usize {
        lock(&self.hub.subscribers).len()
    }

    /// The longest any current subscriber's queue has been (never above the capacity).
    pub fn max_queued(&self) -> usize {
        lock(&self.hub.subscribers)
            .iter()
            .map(|q| lock(&q.state).max_len)
            .max()
            .unwrap_or(0)
    }

    /// Queues `message` for every subscriber; returns to how many it was queued. Waits
    /// only under [`LagPolicy::Wait`], for the slowest subscriber's room.
    pub async fn publish(&self, message: &PreparedMessage) -> usize {
        if self.hub.policy == LagPolicy::Wait {
            return self.publish_waiting(message).await;
        }
        let mut subscribers = lock(&self.hub.subscribers);
        let mut queued = 0;
        subscribers.retain(|queue| {
            let mut state = lock(&queue.state);
            if state.gone || state.closed.is_some() {
                return false;
            }
            let mut keep = true;
            if state.items.len() >= self.hub.capacity {
                let skip_push = match self.hub.policy {
                    LagPolicy::DropOldest => {
                        state.items.pop_front();
                        state.dropped += 1;
                        false
                    }
                    LagPolicy::DropNewest => {
                        state.dropped += 1;
                        true
                    }
                    LagPolicy::Close(code) => {
                        state.dropped += state.items.len() as u64 + 1;
                        state.items.clear();
                        state.closed = Some(Some(code));
                        keep = false;
                        true
                    }
                    LagPolicy::Wait => unreachable!("handled above"),
                };
                let lag = Lag {
                    subscriber: queue.id,
                    dropped: state.dropped,
                    closed: !keep,
                };
                if skip_push {
                    drop(state);
                    queue.reader.wake();
                    if let Some(hook) = &self.hub.on_lag {
                        hook(lag);
                    }
                    return keep;
                }
                if let Some(hook) = &self.hub.on_lag {
                    hook(lag);
                }
            }
            state.items.push_back(message.clone());
            state.max_len = state.max_len.max(state.items.len());
            queued += 1;
            drop(state);
            queue.reader.wake();
            keep
        });
        queued
    }

    async fn publish_waiting(&self, message: &PreparedMessage) -> usize {
        let mut queued = 0;
        let mut i = 0;
        loop {
            let queue = {
                let mut subscribers = lock(&self.hub.subscribers);
                subscribers.retain(|q| {
                    let s = lock(&q.state);
                    !s.gone && s.closed.is_none()
                });
                match subscribers.get(i) {
                    Some(q) => q.clone(),
                    None => return queued,
                }
            };
            i += 1;
            let pushed = poll_fn(|cx| {
                let mut state = lock(&queue.state);
                if state.gone || state.closed.is_some() {
                    return Poll::Ready(false);
                }
                if state.items.len() < self.hub.capacity {
                    state.items.push_back(message.clone());
                    state.max_len = state.max_len.max(state.items.len());
                    return Poll::Ready(true);
                }
                queue.writer.register(cx.waker());
                Poll::Pending
            })
            .await;
            if pushed {
                queued += 1;
                queue.reader.wake();
            }
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        for queue in lock(&self.subscribers).drain(..) {
            let mut state = lock(&queue.state);
            state.closed.get_or_insert(None);
            drop(state);
            queue.reader.wake();
        }
    }
}

/// One connection's end of a [`Broadcast`]: a bounded queue of messages to send.
///
/// Dropping it unsubscribes.
pub struct Subscriber {
    queue: Arc<Queue>,
    _hub: Weak<Hub>,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.queue.state);
        f.debug_struct("Subscriber")
            .field("id", &self.queue.id)
            .field("queued", &state.items.len())
            .field("dropped", &state.dropped)
            .finish()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        lock(&self.queue.state).gone = true;
        self.queue.writer.wake();
    }
}

impl Subscriber {
    /// Its id, as the lag hook reports it.
    pub fn id(&self) -> u64 {
        self.queue.id
    }

    /// The next message, waiting for one; `None` once it was closed by
    /// [`LagPolicy::Close`] (see [`close_code`](Self::close_code)) or the broadcast is gone.
    pub async fn recv(&mut self) -> Option<PreparedMessage> {
        poll_fn(|cx| {
            if let Some(m) = self.try_take() {
                return Poll::Ready(Some(m));
            }
            self.queue.reader.register(cx.waker());
            match self.try_take() {
                Some(m) => Poll::Ready(Some(m)),
                None if lock(&self.queue.state).closed.is_some() => Poll::Ready(None),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Option<PreparedMessage> {
        self.try_take()
    }

    fn try_take(&self) -> Option<PreparedMessage> {
        let m = lock(&self.queue.state).items.pop_front();
        if m.is_some() {
            self.queue.writer.wake();
        }
        m
    }

    /// The code it was closed with ([`LagPolicy::Close`]).
    pub fn close_code(&self) -> Option<CloseCode> {
        lock(&self.queue.state).closed.flatten()
    }

    /// Messages dropped for it (it lagged).
    pub fn dropped(&self) -> u64 {
        lock(&self.queue.state).dropped
    }

    /// The longest its queue has been (never above the capacity).
    pub fn max_queued(&self) -> usize {
        lock(&self.queue.state).max_len
    }

    /// Sends what the broadcast publishes on `writer` until the connection fails, the
    /// broadcast is gone, or this subscriber is closed for lagging (then the Close, with
    /// the policy's code, is sent first). Every message queued at a wake-up goes out in
    /// one write.
    ///
    /// # Errors
    ///
    /// The writer's error (the client went away, say).
    pub async fn forward<S>(&mut self, writer: &mut WsWriter<S>) -> Result<(), WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        while let Some(message) = self.recv().await {
            writer.feed_prepared(&message)?;
            while let Some(more) = self.try_take() {
                writer.feed_prepared(&more)?;
            }
            writer.flush().await?;
        }
        if let Some(code) = self.close_code() {
            writer
                .close(code, "too slow: messages were queued faster than read")
                .await?;
        }
        Ok(())
    }
}
