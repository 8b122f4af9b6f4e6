//! The message path of [`Feed::recv`](super::Feed::recv): a hand-written future, and the
//! stale-data watch it polls only before sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::proto::ws::Message;
use crate::rt::{Runtime, Sleep};
use crate::ws::driver::{poll_advance, take_message};

use super::{Disconnect, Feed, FeedError, FeedEvent, Subscribe, ended_event};

/// The stale-data check: a timer every quarter of the deadline, re-armed without touching
/// the per-message path; four quiet quarters in a row mean stale.
pub(super) struct StaleWatch {
    sleep: Pin<Box<dyn Sleep>>,
    tick: Duration,
    seen: u64,
    quiet: u32,
}

impl StaleWatch {
    pub(super) fn new(runtime: &Runtime, deadline: Duration, messages: u64) -> Self {
        let tick = deadline / 4;
        Self {
            sleep: runtime.sleep(tick),
            tick,
            seen: messages,
            quiet: 0,
        }
    }

    fn poll_stale(&mut self, runtime: &Runtime, messages: u64, cx: &mut Context<'_>) -> bool {
        while self.sleep.as_mut().poll(cx).is_ready() {
            if messages == self.seen {
                self.quiet += 1;
                if self.quiet >= 4 {
                    return true;
                }
            } else {
                self.seen = messages;
                self.quiet = 0;
            }
            let next = runtime.now() + self.tick;
            self.sleep.as_mut().reset(next);
        }
        false
    }
}

/// The future of [`Feed::recv`], written by hand so a message costs what
/// [`WsStream::recv`](super::WsStream::recv) costs: the message path polls the stream and
/// one atomic (the shutdown flag) and builds the event in place. The shutdown waker and
/// the stale timer are only polled when the stream has nothing and the task is going to
/// sleep; connecting, ends and shutdown run in `slow`, an ordinary async fn in a box.
pub(super) struct Recv<'a, S, F> {
    /// Taken out when a message is handed over, so it can borrow for `'a`.
    pub(super) feed: Option<&'a mut Feed<S>>,
    pub(super) make_slow: fn(&'a mut Feed<S>) -> F,
    pub(super) slow: Option<Pin<Box<F>>>,
}

impl<'a, S: Subscribe, F> Future for Recv<'a, S, F>
where
    F: Future<Output = Result<FeedEvent<'a>, FeedError>>,
{
    type Output = Result<FeedEvent<'a>, FeedError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Nothing is pinned in place: the slow future is boxed.
        let this = Pin::into_inner(self);
        if let Some(slow) = this.slow.as_mut() {
            return slow.as_mut().poll(cx);
        }
        let Some(feed) = this.feed.take() else {
            return Poll::Ready(Err(FeedError::Shutdown));
        };
        let fast = !feed.finished
            && !feed.ended
            && feed.conn.is_some()
            && !feed.shared.down.load(Ordering::Acquire);
        if fast {
            let Some(conn) = feed.conn.as_mut() else {
                unreachable!("checked above")
            };
            match poll_advance(conn, cx) {
                Poll::Ready(Ok(true)) => return take(feed, cx),
                Poll::Ready(Ok(false)) => return Poll::Ready(Ok(feed.ended(Disconnect::Eof))),
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Ok(feed.ended(Disconnect::Error(e))));
                }
                Poll::Pending => {}
            }
            let messages = feed.stats.messages;
            let (watch, runtime) = (&mut feed.watch, &feed.runtime);
            if watch
                .as_mut()
                .is_some_and(|w| w.poll_stale(runtime, messages, cx))
            {
                let d = feed.options.stale_after.unwrap_or_default();
                return Poll::Ready(Ok(feed.ended(Disconnect::Stale(d))));
            }
            if !feed.shared.poll_down(cx) {
                this.feed = Some(feed);
                return Poll::Pending;
            }
        }
        let mut slow = start_slow(this.make_slow, feed);
        let out = slow.as_mut().poll(cx);
        if out.is_pending() {
            this.slow = Some(slow);
        }
        out
    }
}

/// Builds the slow future straight in its box, out of line: built inside `poll` it would
/// give every call (one per message) a stack frame the size of the connect path.
#[inline(never)]
#[cold]
fn start_slow<'a, S, F>(make: fn(&'a mut Feed<S>) -> F, feed: &'a mut Feed<S>) -> Pin<Box<F>> {
    Box::pin(make(feed))
}

/// Hands over the ready message; a Close ends the connection.
#[inline(always)]
fn take<'a, S>(
    feed: &'a mut Feed<S>,
    cx: &mut Context<'_>,
) -> Poll<Result<FeedEvent<'a>, FeedError>> {
    // The fields apart: the message borrows the connection, the rest stays usable.
    let Feed {
        conn,
        stats,
        ended,
        since,
        down_since,
        runtime,
        ..
    } = feed;
    let Some(conn) = conn.as_mut() else {
        return Poll::Ready(Err(FeedError::Shutdown));
    };
    let mut end = |reason| {
        *ended = true;
        Poll::Ready(Ok(ended_event(stats, since, down_since, runtime, reason)))
    };
    match take_message(conn, cx) {
        Poll::Ready(Ok(Some(Message::Close(frame)))) => {
            end(Disconnect::Closed(frame.map(Box::new)))
        }
        Poll::Ready(Ok(Some(message))) => {
            // Only data keeps a connection from going stale.
            if matches!(message, Message::Text(_) | Message::Binary(_)) {
                stats.messages += 1;
            }
            Poll::Ready(Ok(FeedEvent::Message(message)))
        }
        Poll::Ready(Ok(None)) => end(Disconnect::Eof),
        Poll::Ready(Err(e)) => end(Disconnect::Error(e)),
        Poll::Pending => Poll::Pending,
    }
}
