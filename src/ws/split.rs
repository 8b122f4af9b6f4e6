//! Reader and writer halves of a [`WsStream`](super::WsStream): the same driver as the
//! whole stream (`super::driver`), over one write side the halves share.
//!
//! The transport is split with `futures_util::io::split` (an uncontended atomic hand-off
//! per poll, never held across an await). The write side (transport half + encoder) sits
//! behind a mutex that is only ever held inside a single poll, never across an await: the
//! writer takes it for each poll of a send, the reader only *tries* it. What the reader's
//! [`Receiver`] says is owed to the peer goes into a mailbox of one [`Owed`] value
//! (coalesced, so it never grows): the reader writes it itself when the write side is
//! free, and otherwise the writer writes it before it lets go of the write side.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::io::{ReadHalf, WriteHalf};

use crate::io::poll_read_some;
use crate::proto::ws::{CloseCode, Message, Owed, OwnedMessage, Receiver};

use super::WsError;
use super::driver::{self, Driven, Link, Recv, RecvState, StreamOptions, WriteSide};
use super::send::{Sender, impl_sink, send_api};

/// The mailbox of owed frames between the reader and the write side.
#[derive(Debug, Default)]
struct Mailbox {
    owed: Mutex<Owed>,
    /// Set (SeqCst) whenever `owed` holds something; cleared by whoever takes it.
    has_owed: AtomicBool,
}

impl Mailbox {
    fn post(&self, owed: Owed) {
        lock(&self.owed).merge(owed);
        self.has_owed.store(true, Ordering::SeqCst);
    }

    fn has_owed(&self) -> bool {
        self.has_owed.load(Ordering::SeqCst)
    }

    fn take(&self) -> Option<Owed> {
        self.has_owed
            .swap(false, Ordering::SeqCst)
            .then(|| std::mem::take(&mut *lock(&self.owed)))
    }

    /// Writes what is owed if the write side is free, without waiting: if another half
    /// holds it, that half takes the mailbox before it lets go.
    fn poll_deliver<W: AsyncWrite + Unpin>(
        &self,
        side: &Mutex<WriteSide<W>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.has_owed() {
            return Poll::Ready(Ok(()));
        }
        let mut side = match side.try_lock() {
            Ok(side) => side,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Poll::Ready(Ok(())),
        };
        side.poll_write(cx, &mut || self.take())
    }
}

/// A poisoned lock still guards consistent data: every critical section here leaves the
/// write side and the mailbox valid at each step.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

type SharedSide<S> = Arc<Mutex<WriteSide<WriteHalf<S>>>>;

pub(crate) fn split<S: AsyncRead + AsyncWrite + Unpin>(
    side: WriteSide<S>,
    rx: Receiver,
    state: RecvState,
    slot: Owed,
    opts: StreamOptions,
) -> (WsReader<S>, WsWriter<S>) {
    use futures_util::io::AsyncReadExt;
    let (io, side) = side.split_io(|io| io.split());
    let side = Arc::new(Mutex::new(side));
    let mailbox = Arc::new(Mailbox::default());
    if !slot.is_empty() {
        mailbox.post(slot);
    }
    let reader = WsReader {
        io,
        rx,
        state,
        side: side.clone(),
        mailbox: mailbox.clone(),
    };
    let writer = WsWriter {
        side,
        mailbox,
        opts,
    };
    (reader, writer)
}

/// The receiving half of a split [`WsStream`](super::WsStream).
///
/// Same `recv` contract, and the same `Stream` of owned messages, as the whole stream.
/// Replies owed to the peer (auto-pong when enabled, the echo of the peer's Close, the
/// Close after a protocol error, heartbeat Pings) are written by whichever half holds the
/// write side next; the reader never waits for the writer.
#[derive(Debug)]
pub struct WsReader<S> {
    io: ReadHalf<S>,
    rx: Receiver,
    state: RecvState,
    side: SharedSide<S>,
    mailbox: Arc<Mailbox>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsReader<S> {
    /// Receives the next message; `Ok(None)` once the connection has ended.
    ///
    /// # Errors
    ///
    /// As [`WsStream::recv`](super::WsStream::recv).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe.
    pub fn recv(&mut self) -> impl Future<Output = Result<Option<Message<'_>>, WsError>> + '_ {
        Recv::new(self)
    }

    /// True once the receive side has ended (Close, error or end of stream).
    pub fn is_closed(&self) -> bool {
        self.state.is_done()
    }
}

/// The reader's link: owed frames go through the mailbox.
pub(crate) struct ReaderLink<'a, S> {
    io: &'a mut ReadHalf<S>,
    side: &'a Mutex<WriteSide<WriteHalf<S>>>,
    mailbox: &'a Mailbox,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link for ReaderLink<'_, S> {
    #[inline]
    fn send(&mut self, owed: Option<Owed>, cx: &mut Context<'_>) -> io::Result<()> {
        if let Some(owed) = owed {
            self.mailbox.post(owed);
        }
        // Write failures are the writer's to report; the reader reads on until the
        // transport says otherwise.
        let _ = self.mailbox.poll_deliver(self.side, cx);
        Ok(())
    }

    #[inline]
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read_some(self.io, cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driven for WsReader<S> {
    type Link<'a>
        = ReaderLink<'a, S>
    where
        S: 'a;

    #[inline]
    fn parts(&mut self) -> (&mut Receiver, &mut RecvState, ReaderLink<'_, S>) {
        let link = ReaderLink {
            io: &mut self.io,
            side: &self.side,
            mailbox: &self.mailbox,
        };
        (&mut self.rx, &mut self.state, link)
    }
}

/// Owned messages, one allocation each; use [`WsReader::recv`] for zero-copy receive.
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsReader<S> {
    type Item = Result<OwnedMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        driver::poll_next_owned(self.get_mut(), cx)
    }
}

/// The sending half of a split [`WsStream`](super::WsStream): the same send methods and
/// the same `Sink` as the whole stream. Replies the reader owes the peer are written
/// first.
///
/// # Cancel safety
///
/// A cancelled send never tears a frame: the remainder is written by the next write on
/// either half.
#[derive(Debug)]
pub struct WsWriter<S> {
    side: SharedSide<S>,
    mailbox: Arc<Mailbox>,
    opts: StreamOptions,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsWriter<S> {
    send_api!("the writer half");

    /// Sends a Close frame and flushes it, within the close timeout. The reader half
    /// keeps receiving until the peer's Close arrives, then shuts the transport down.
    ///
    /// The same rule as [`WsStream::close`](super::WsStream::close): when the close
    /// timeout runs out, or the transport fails while closing, the transport is given up
    /// and `close` still returns `Ok(())`; a second `close` is a no-op.
    ///
    /// # Errors
    ///
    /// [`WsError::Encode`] for a reason over 123 bytes or a code that may not be sent.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        self.with_side(|s| s.encode_close(code, reason))?;
        let rt = self.opts.runtime.clone();
        let timeout = self.opts.close_timeout;
        let finish = std::future::poll_fn(|cx| self.poll_flush_side(cx));
        if driver::close_within(&rt, timeout, finish).await {
            self.with_side(WriteSide::abandon);
        }
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sender for WsWriter<S> {
    type Io = WriteHalf<S>;

    fn with_side<R>(&mut self, f: impl FnOnce(&mut WriteSide<WriteHalf<S>>) -> R) -> R {
        f(&mut lock(&self.side))
    }

    fn poll_side<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(
            &mut WriteSide<WriteHalf<S>>,
            &mut Context<'_>,
            &mut dyn FnMut() -> Option<Owed>,
        ) -> R,
    ) -> R {
        let mailbox = &*self.mailbox;
        let res = f(&mut lock(&self.side), cx, &mut || mailbox.take());
        // The reader may have posted after our last look and found the write side taken:
        // look once more now that it is free.
        let _ = mailbox.poll_deliver(&self.side, cx);
        res
    }

    fn high_water(&self) -> usize {
        self.opts.write_high_water
    }
}

impl_sink!(WsWriter);
