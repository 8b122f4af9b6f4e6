//! The one WebSocket driver: moves bytes between a transport and the sans-IO
//! [`Receiver`] / [`Encoder`], and nothing else.
//!
//! What is owed to the peer (Pongs, Close replies, the error Close, heartbeat Pings) is
//! decided by the [`Receiver`] and handed out as an [`Owed`] value; this module only
//! carries that value to a [`WriteSide`] and writes it. [`WsStream`](super::WsStream) and
//! the split halves differ only in how the value travels ([`Link`]): straight into the
//! stream's own write side, or through a bounded mailbox to whichever half holds the
//! shared write side next. The receive loop ([`RecvState::poll_advance`]), the message
//! hand-over ([`Recv`]), the write rules ([`WriteSide::poll_write`]) and the close rule
//! ([`close_within`]) are written once, here.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_io::AsyncWrite;

use crate::io::{Outbound, poll_drain, poll_drain_flush};
use crate::proto::ws::{
    Advance, CloseCode, Encoder, HeartbeatConfig, Message, Owed, OwnedMessage, Receiver,
};
use crate::rt::{Runtime, Sleep};

use super::WsError;

impl Outbound for Encoder {
    fn pending(&self) -> &[u8] {
        Encoder::pending(self)
    }

    fn consume(&mut self, n: usize) {
        self.handle_written(n);
    }
}

/// Options the stream (and its halves) keep after the handshake.
#[derive(Debug, Clone)]
pub(crate) struct StreamOptions {
    pub(crate) runtime: Runtime,
    pub(crate) close_timeout: Duration,
    /// Queued outbound bytes above which `Sink::poll_ready` writes first.
    pub(crate) write_high_water: usize,
    pub(crate) subprotocol: Option<Box<str>>,
    pub(crate) heartbeat: HeartbeatConfig,
}

/// The transport's write half and the frame encoder: the one write side of a connection.
#[derive(Debug)]
pub(crate) struct WriteSide<W> {
    pub(crate) io: W,
    pub(crate) enc: Encoder,
    /// Shut the transport down once everything is written (the receive side ended).
    shutdown: bool,
    /// The transport failed or was shut down: nothing more is written.
    done: bool,
}

impl<W: AsyncWrite + Unpin> WriteSide<W> {
    pub(crate) fn new(io: W, enc: Encoder, done: bool) -> Self {
        Self {
            io,
            enc,
            shutdown: false,
            done,
        }
    }

    /// Nothing to write and nothing to shut down.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        (self.done || !self.shutdown) && self.enc.is_empty()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Sends must fail: a Close went out, or the transport is gone.
    pub(crate) fn check_open(&self) -> Result<(), WsError> {
        if self.done || self.enc.close_sent() {
            return Err(WsError::Closed);
        }
        Ok(())
    }

    /// Gives up on the transport (a close timeout ran out): queued bytes are dropped.
    pub(crate) fn abandon(&mut self) {
        self.done = true;
    }

    /// Writes what is queued and flushes; then encodes what `owed` yields (only into an
    /// empty buffer, so while the peer does not read, owed frames wait coalesced in their
    /// slot, not in memory) and writes that; shuts the transport down when asked.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        owed: &mut dyn FnMut() -> Option<Owed>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.done {
                return Poll::Ready(if self.enc.pending().is_empty() {
                    Ok(())
                } else {
                    Err(io::ErrorKind::NotConnected.into())
                });
            }
            if let Err(e) = ready!(poll_drain_flush(&mut self.io, cx, &mut self.enc)) {
                self.done = true;
                return Poll::Ready(Err(e));
            }
            if let Some(o) = owed() {
                self.shutdown |= o.encode(&mut self.enc);
                continue;
            }
            if self.shutdown {
                let _ = ready!(Pin::new(&mut self.io).poll_close(cx));
                self.done = true;
            }
            return Poll::Ready(Ok(()));
        }
    }

    /// `Sink::poll_ready`: writes (without flushing) once `high_water` bytes are queued.
    pub(crate) fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        high_water: usize,
    ) -> Poll<Result<(), WsError>> {
        self.check_open()?;
        if self.enc.pending().len() >= high_water
            && let Err(e) = ready!(poll_drain(&mut self.io, cx, &mut self.enc))
        {
            self.done = true;
            return Poll::Ready(Err(e.into()));
        }
        Poll::Ready(Ok(()))
    }

    /// Encodes with `f` unless sends must fail.
    pub(crate) fn encode(
        &mut self,
        f: impl FnOnce(&mut Encoder) -> Result<(), crate::proto::ws::EncodeError>,
    ) -> Result<(), WsError> {
        self.check_open()?;
        f(&mut self.enc)?;
        Ok(())
    }

    /// Splits the transport with `f` (the split halves), keeping the write state.
    pub(crate) fn split_io<R, W2>(self, f: impl FnOnce(W) -> (R, W2)) -> (R, WriteSide<W2>) {
        let (r, w) = f(self.io);
        let side = WriteSide {
            io: w,
            enc: self.enc,
            shutdown: self.shutdown,
            done: self.done,
        };
        (r, side)
    }

    /// Encodes one message (`Sink::start_send`).
    pub(crate) fn feed(&mut self, item: &OwnedMessage) -> Result<(), WsError> {
        self.check_open()?;
        let enc = &mut self.enc;
        match item {
            OwnedMessage::Text(t) => enc.encode_text(t)?,
            OwnedMessage::Binary(b) => enc.encode_binary(b)?,
            OwnedMessage::Ping(p) => enc.encode_ping(p)?,
            OwnedMessage::Pong(p) => enc.encode_pong(p)?,
            OwnedMessage::Close(Some(f)) => enc.encode_close(f.code, f.reason())?,
            OwnedMessage::Close(None) => enc.encode_close(CloseCode::Normal, "")?,
        }
        Ok(())
    }

    /// Encodes a Close with `code` and `reason` unless one was sent or the transport is
    /// gone.
    pub(crate) fn encode_close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        if !self.done && !self.enc.close_sent() {
            self.enc.encode_close(code, reason)?;
        }
        Ok(())
    }

    /// `Sink::poll_close`: a Close (1000) unless one was sent, then everything written and
    /// the transport shut down. Does not wait for the peer's Close.
    pub(crate) fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        owed: &mut dyn FnMut() -> Option<Owed>,
    ) -> Poll<Result<(), WsError>> {
        if self.done {
            return Poll::Ready(Ok(()));
        }
        self.encode_close(CloseCode::Normal, "")?;
        self.shutdown = true;
        let _ = ready!(self.poll_write(cx, owed));
        Poll::Ready(Ok(()))
    }
}

/// How a receive driver reaches its write side.
pub(crate) trait Link {
    /// Hands `owed` on and writes what the write side holds, without waiting: a peer that
    /// does not read must not stop us from reading. An error is a fresh write failure.
    fn send(&mut self, owed: Option<Owed>, cx: &mut Context<'_>) -> io::Result<()>;
    /// Reads once into `buf`.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
}

/// The receive loop's own state.
#[derive(Debug)]
pub(crate) struct RecvState {
    /// A message was made ready by `advance` and not handed out yet.
    ready: bool,
    /// The receive side has ended (Close, EOF, error): `recv` returns `Ok(None)`.
    done: bool,
    runtime: Runtime,
    /// The heartbeat timer, re-armed in place to the receiver's next deadline.
    timer: Option<Pin<Box<dyn Sleep>>>,
}

impl RecvState {
    /// The state for `rx`, whose heartbeat (if `heartbeat` enables one) starts now.
    pub(crate) fn new(
        rx: &mut Receiver,
        runtime: Runtime,
        heartbeat: HeartbeatConfig,
        done: bool,
    ) -> Self {
        let now = runtime.now();
        rx.set_heartbeat(heartbeat, now);
        let timer = rx.poll_timeout().map(|at| runtime.sleep_until(at));
        Self {
            ready: false,
            done,
            runtime,
            timer,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Drops the message made ready (the close handshake discards what arrives).
    pub(crate) fn skip(&mut self) {
        self.ready = false;
    }

    /// Ends the receive side (a close timeout ran out).
    pub(crate) fn end(&mut self) {
        self.done = true;
    }

    /// Drives the connection until a message is ready (`true`) or the receive side has
    /// ended (`false`).
    ///
    /// What the receiver owes goes out (as far as the transport takes it now) before the
    /// message that caused it is handed over, before every read, and at the end.
    #[inline]
    pub(crate) fn poll_advance<L: Link>(
        &mut self,
        rx: &mut Receiver,
        link: &mut L,
        cx: &mut Context<'_>,
    ) -> Poll<Result<bool, WsError>> {
        loop {
            if self.done {
                // Once more, for a mailbox the other half had not emptied yet.
                let _ = send_owed(rx, link, cx);
                return Poll::Ready(Ok(false));
            }
            if self.ready {
                return Poll::Ready(Ok(true));
            }
            match rx.advance() {
                Ok(Advance::Message) => {
                    self.ready = true;
                    self.check(send_owed(rx, link, cx))?;
                    return Poll::Ready(Ok(true));
                }
                Ok(Advance::NeedInput) => {
                    self.check(send_owed(rx, link, cx))?;
                    match link.poll_read(cx, rx.read_buf()) {
                        Poll::Ready(Ok(0)) => rx.handle_eof(),
                        Poll::Ready(Ok(n)) => rx.handle_read(n, || self.runtime.now()),
                        Poll::Ready(Err(e)) => {
                            self.done = true;
                            let _ = link.send(Some(Owed::shutdown_only()), cx);
                            return Poll::Ready(Err(e.into()));
                        }
                        Poll::Pending if self.timer.is_none() => return Poll::Pending,
                        Poll::Pending => ready!(self.poll_timer(rx, cx))?,
                    }
                }
                Ok(Advance::Closed) => {
                    // The shutdown is owed: it goes out now, as far as the transport takes it.
                    self.done = true;
                    self.check(send_owed(rx, link, cx))?;
                    return Poll::Ready(Ok(false));
                }
                Err(e) => {
                    // The error Close is owed: send it as far as the transport takes it
                    // now, and report the error even if the peer does not read.
                    self.done = true;
                    let _ = send_owed(rx, link, cx);
                    return Poll::Ready(Err(e.into()));
                }
            }
        }
    }

    /// A write failure ends the receive side too.
    #[inline]
    fn check(&mut self, res: io::Result<()>) -> Result<(), WsError> {
        res.map_err(|e| {
            self.done = true;
            e.into()
        })
    }

    /// While the transport is quiet: wait for the receiver's next deadline and apply it.
    /// `Ready(Ok)` when a deadline made something owed (a Ping).
    fn poll_timer(&mut self, rx: &mut Receiver, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        loop {
            let Some(at) = rx.poll_timeout() else {
                return Poll::Pending;
            };
            timer.as_mut().reset(at);
            ready!(timer.as_mut().poll(cx));
            if let Err(dead) = rx.handle_timeout(self.runtime.now()) {
                self.done = true;
                return Poll::Ready(Err(WsError::Timeout(dead.what())));
            }
            if rx.has_owed() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

/// Hands what `rx` owes (if anything) to `link`, which also writes what its write side
/// holds, without waiting.
#[inline]
fn send_owed<L: Link>(rx: &mut Receiver, link: &mut L, cx: &mut Context<'_>) -> io::Result<()> {
    let owed = if rx.has_owed() {
        Some(rx.take_owed())
    } else {
        None
    };
    link.send(owed, cx)
}

/// A receive driver: the receiver, the loop state and the link, borrowed apart.
pub(crate) trait Driven {
    /// The link to the write side.
    type Link<'a>: Link
    where
        Self: 'a;
    /// The three parts, borrowed at once.
    fn parts(&mut self) -> (&mut Receiver, &mut RecvState, Self::Link<'_>);
}

/// Polls `d` until a message is ready (`true`) or the receive side has ended.
pub(crate) fn poll_advance<D: Driven>(
    d: &mut D,
    cx: &mut Context<'_>,
) -> Poll<Result<bool, WsError>> {
    let (rx, state, mut link) = d.parts();
    state.poll_advance(rx, &mut link, cx)
}

/// Hands over the message made ready by `poll_advance`. A text message that fails the
/// deferred UTF-8 check ends the connection like any protocol error.
///
/// Always inlined: a `Message` is ~130 bytes (control payloads are inline), and building it
/// straight into the caller's output saves copying it (~45 instructions per message).
#[inline(always)]
pub(crate) fn take_message<'a, D: Driven>(
    d: &'a mut D,
    cx: &mut Context<'_>,
) -> Poll<Result<Option<Message<'a>>, WsError>> {
    let (rx, state, mut link) = d.parts();
    state.ready = false;
    let (decoder, owing) = rx.message_parts();
    match decoder.checked_message() {
        Ok(message) => Poll::Ready(Ok(message)),
        Err(e) => {
            let owed = owing.protocol_error(&e);
            state.done = true;
            let _ = link.send(Some(owed), cx);
            Poll::Ready(Err(e.into()))
        }
    }
}

/// `Stream::poll_next`: owned messages.
pub(crate) fn poll_next_owned<D: Driven>(
    d: &mut D,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<OwnedMessage, WsError>>> {
    match ready!(poll_advance(d, cx)) {
        Ok(true) => match ready!(take_message(d, cx)) {
            Ok(m) => Poll::Ready(m.map(|m| Ok(m.into_owned()))),
            Err(e) => Poll::Ready(Some(Err(e))),
        },
        Ok(false) => Poll::Ready(None),
        Err(e) => Poll::Ready(Some(Err(e))),
    }
}

/// The future of `recv` on the stream and on the reader half.
///
/// The same as `async { poll_fn(poll_advance).await; take_message() }`, written by hand:
/// it polls the driver directly and builds the `Message` straight into the output,
/// without an async state machine around it.
pub(crate) struct Recv<'a, D> {
    /// Taken out when the message is handed over, so it can borrow the driver for `'a`.
    d: Option<&'a mut D>,
}

impl<'a, D> Recv<'a, D> {
    pub(crate) fn new(d: &'a mut D) -> Self {
        Self { d: Some(d) }
    }
}

impl<'a, D: Driven> Future for Recv<'a, D> {
    type Output = Result<Option<Message<'a>>, WsError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(d) = self.d.take() else {
            // Polled after completion: the driver is not ours any more.
            return Poll::Ready(Ok(None));
        };
        match poll_advance(d, cx) {
            Poll::Pending => {
                self.d = Some(d);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(None)),
            Poll::Ready(Ok(true)) => take_message(d, cx),
        }
    }
}

/// The close rule, one for the stream and the writer half: `finish` (send our Close,
/// and for the whole stream read until the peer's Close and shut down) runs for at most
/// `timeout`. Returns `true` when time ran out: the caller then gives the transport up.
/// Neither running out of time nor a transport failure while closing is an error: the
/// connection is over either way.
pub(crate) async fn close_within<F: Future>(
    runtime: &Runtime,
    timeout: Duration,
    finish: F,
) -> bool {
    runtime.timeout(Some(timeout), finish).await.is_err()
}
