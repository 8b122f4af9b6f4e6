//! Reader and writer halves of a [`WsStream`](super::WsStream).
//!
//! The transport is split with `futures_util::io::split` (an uncontended atomic hand-off per
//! poll, never held across an await). The write side (transport half + frame encoder) sits
//! behind an async mutex that only the writer holds across its own writes; the reader only
//! ever *tries* it. Replies the reader owes the peer (auto-pong, the Close echo, the Close
//! after a protocol error) go into a small slot: the reader sends them itself when the write
//! side is free, and otherwise the writer sends them before it lets go of the write side.
//! Ping floods coalesce into one pending Pong (RFC 6455 §5.5.3 allows answering only the
//! most recent Ping), so the slot never grows.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_lock::Mutex as AsyncMutex;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::io::{ReadHalf, WriteHalf};

use crate::io::{poll_drain_flush, poll_read_some};
use crate::proto::ws::{
    Advance, CloseCode, CloseFrame, Control, Decoder, Encoder, Message, ProtocolError, ReadyKind,
};
use crate::rt::Runtime;

use super::WsError;
use super::heartbeat::{Beat, Heartbeat};
use super::stream::StreamOptions;

/// Replies owed to the peer, waiting for the write side.
#[derive(Debug, Default)]
struct Owed {
    pong: Option<Control>,
    /// A heartbeat Ping.
    ping: bool,
    /// Close frame to send: the echo of the peer's Close, or ours after a protocol error.
    close: Option<(CloseCode, Option<CloseFrame>)>,
    /// Shut the transport down once everything is written.
    shutdown: bool,
}

#[derive(Debug)]
struct WriteSide<S> {
    io: WriteHalf<S>,
    enc: Encoder,
    /// The transport failed or was shut down.
    done: bool,
}

#[derive(Debug)]
struct Shared {
    owed: Mutex<Owed>,
    /// Set (SeqCst) whenever `owed` holds something; cleared by whoever drains it.
    has_owed: AtomicBool,
}

impl Shared {
    fn owe(&self, f: impl FnOnce(&mut Owed)) {
        let mut owed = self.owed.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut owed);
        self.has_owed.store(true, Ordering::SeqCst);
    }

    /// Owes the peer the Close a protocol error calls for, then the shutdown.
    fn owe_error_close(&self, e: &ProtocolError) {
        let code = e.close_code();
        self.owe(|o| {
            o.close = Some((code, None));
            o.shutdown = true;
        });
    }

    /// Encodes what is owed into `side`'s encoder. Returns true when the transport must be
    /// shut down after the write.
    fn take_owed<S>(&self, side: &mut WriteSide<S>) -> bool {
        if !self.has_owed.swap(false, Ordering::SeqCst) {
            return false;
        }
        let owed = std::mem::take(&mut *self.owed.lock().unwrap_or_else(PoisonError::into_inner));
        if !side.enc.close_sent() {
            if let Some(pong) = owed.pong {
                // Cannot fail: a Control payload is at most 125 bytes.
                let _ = side.enc.encode_pong(&pong);
            }
            if owed.ping {
                let _ = side.enc.encode_ping(b"nexus-heartbeat");
            }
            if let Some((code, frame)) = owed.close {
                let _ = match frame {
                    Some(f) => side.enc.encode_close(f.code, f.reason()),
                    None => side.enc.encode_close(code, ""),
                };
            }
        }
        owed.shutdown
    }
}

/// Writes everything queued in `side` (owed replies first), flushes, and shuts the
/// transport down if asked.
fn poll_write_side<S: AsyncRead + AsyncWrite>(
    shared: &Shared,
    side: &mut WriteSide<S>,
    shutdown: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<std::io::Result<()>> {
    loop {
        if side.done {
            return Poll::Ready(Err(std::io::ErrorKind::NotConnected.into()));
        }
        // What is queued goes first; owed replies are encoded only into an empty buffer, so
        // while the peer does not read, they wait (coalesced) in the slot, not in memory.
        if let Err(e) = ready!(poll_drain_flush(&mut side.io, cx, &mut side.enc)) {
            side.done = true;
            return Poll::Ready(Err(e));
        }
        if shared.has_owed.load(Ordering::SeqCst) {
            *shutdown |= shared.take_owed(side);
            continue;
        }
        if *shutdown {
            let _ = ready!(Pin::new(&mut side.io).poll_close(cx));
            side.done = true;
        }
        return Poll::Ready(Ok(()));
    }
}

pub(crate) fn split<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    dec: Decoder,
    enc: Encoder,
    opts: StreamOptions,
    done: bool,
    heartbeat: Option<Box<Heartbeat>>,
) -> (WsReader<S>, WsWriter<S>) {
    use futures_util::io::AsyncReadExt;
    let (r, w) = io.split();
    let write = Arc::new(AsyncMutex::new(WriteSide { io: w, enc, done }));
    let shared = Arc::new(Shared {
        owed: Mutex::new(Owed::default()),
        has_owed: AtomicBool::new(false),
    });
    let reader = WsReader {
        io: r,
        dec,
        write: write.clone(),
        shared: shared.clone(),
        shutdown: false,
        ready: false,
        done,
        failed: None,
        auto_pong: opts.auto_pong,
        heartbeat,
    };
    let writer = WsWriter {
        write,
        shared,
        runtime: opts.runtime,
        close_timeout: opts.close_timeout,
    };
    (reader, writer)
}

/// The receiving half of a split [`WsStream`](super::WsStream).
///
/// Same `recv` contract as the whole stream. Replies owed to the peer (auto-pong when
/// enabled, the echo of the peer's Close, the Close after a protocol error) are sent by
/// whichever half holds the write side next; the reader never waits for the writer.
#[derive(Debug)]
pub struct WsReader<S> {
    io: ReadHalf<S>,
    dec: Decoder,
    write: Arc<AsyncMutex<WriteSide<S>>>,
    shared: Arc<Shared>,
    shutdown: bool,
    ready: bool,
    done: bool,
    failed: Option<WsError>,
    auto_pong: bool,
    heartbeat: Option<Box<Heartbeat>>,
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
        // Written by hand for the same reason as `WsStream::recv`'s future.
        ReaderRecv { rx: Some(self) }
    }

    fn poll_advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, WsError>> {
        loop {
            // Owed replies first, so a pong is not held back by a slow consumer.
            self.poll_send_owed(cx);
            if let Some(err) = self.failed.take() {
                return Poll::Ready(Err(err));
            }
            if self.done {
                return Poll::Ready(Ok(false));
            }
            if self.ready {
                return Poll::Ready(Ok(true));
            }
            match self.dec.advance() {
                Ok(Advance::Message) => {
                    self.ready = true;
                    self.on_message();
                }
                Ok(Advance::NeedInput) => {
                    match poll_read_some(&mut self.io, cx, self.dec.read_buf()) {
                        Poll::Ready(Ok(0)) => self.dec.handle_eof(),
                        Poll::Ready(Ok(n)) => {
                            self.dec.handle_read(n);
                            if let Some(hb) = self.heartbeat.as_mut() {
                                hb.on_read();
                            }
                        }
                        Poll::Ready(Err(e)) => {
                            self.done = true;
                            self.shared.owe(|o| o.shutdown = true);
                            self.failed = Some(WsError::Io(e));
                        }
                        Poll::Pending => match self.heartbeat.as_mut().map(|hb| hb.poll(cx)) {
                            None | Some(Beat::Wait) => return Poll::Pending,
                            Some(Beat::Ping) => self.shared.owe(|o| o.ping = true),
                            Some(Beat::Dead(what)) => {
                                self.done = true;
                                self.failed = Some(WsError::Timeout(what));
                            }
                        },
                    }
                }
                Ok(Advance::Closed) => {
                    self.done = true;
                    self.shared.owe(|o| o.shutdown = true);
                }
                Err(e) => {
                    self.shared.owe_error_close(&e);
                    self.done = true;
                    self.failed = Some(e.into());
                }
            }
        }
    }

    fn on_message(&mut self) {
        // Only the kind is looked at on every message; the `Message` is built once, in
        // `recv`.
        match self.dec.ready_kind() {
            Some(ReadyKind::Pong) => {
                if let Some(hb) = self.heartbeat.as_mut() {
                    hb.on_pong();
                }
            }
            Some(ReadyKind::Ping) if self.auto_pong => {
                let data = *self.dec.control();
                self.shared.owe(|o| o.pong = Some(data));
            }
            Some(ReadyKind::Close) => {
                let frame = self.dec.close_received().flatten();
                let echo = frame.and_then(|f| CloseFrame::new(f.code, ""));
                self.shared
                    .owe(|o| o.close = Some((CloseCode::Normal, echo)));
            }
            _ => {}
        }
    }

    /// Sends owed replies if the write side is free; otherwise the writer will.
    ///
    /// Never waits: a peer that does not read must not stop us from reading, and the write
    /// side must not stay locked while the application is not polling us. The waker is
    /// registered, so a blocked write resumes on the next poll; bytes left in the encoder
    /// are finished by whichever half writes next.
    fn poll_send_owed(&mut self, cx: &mut Context<'_>) {
        poll_send_owed(&self.shared, &self.write, &mut self.shutdown, cx);
    }
}

/// `WsReader::poll_send_owed` on the fields it needs.
fn poll_send_owed<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    write: &AsyncMutex<WriteSide<S>>,
    shutdown: &mut bool,
    cx: &mut Context<'_>,
) {
    while shared.has_owed.load(Ordering::SeqCst) {
        // If the writer holds the write side, it drains the slot before letting go.
        let Some(mut side) = write.try_lock() else {
            return;
        };
        let res = poll_write_side(shared, &mut side, shutdown, cx);
        if !matches!(res, Poll::Ready(Ok(()))) {
            return;
        }
    }
}

/// The future of [`WsReader::recv`].
struct ReaderRecv<'a, S> {
    /// Taken out when the message is handed over, so it can borrow the reader for `'a`.
    rx: Option<&'a mut WsReader<S>>,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Future for ReaderRecv<'a, S> {
    type Output = Result<Option<Message<'a>>, WsError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(rx) = self.rx.take() else {
            // Polled after completion: the reader is not ours any more.
            return Poll::Ready(Ok(None));
        };
        match rx.poll_advance(cx) {
            Poll::Pending => {
                self.rx = Some(rx);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(None)),
            Poll::Ready(Ok(true)) => {
                rx.ready = false;
                // Disjoint borrows, as in `WsStream`'s `Recv`: the message borrows the
                // decoder, a failed UTF-8 check hands the Close to the write side.
                let WsReader {
                    dec,
                    write,
                    shared,
                    shutdown,
                    done,
                    ..
                } = rx;
                match dec.checked_message() {
                    Ok(message) => Poll::Ready(Ok(message)),
                    Err(e) => {
                        shared.owe_error_close(&e);
                        *done = true;
                        poll_send_owed(shared, write, shutdown, cx);
                        Poll::Ready(Err(e.into()))
                    }
                }
            }
        }
    }
}

/// The sending half of a split [`WsStream`](super::WsStream). Every send writes and
/// flushes; replies the reader owes the peer are written first.
///
/// # Cancel safety
///
/// A cancelled send never tears a frame: the remainder is written by the next write on
/// either half.
#[derive(Debug)]
pub struct WsWriter<S> {
    write: Arc<AsyncMutex<WriteSide<S>>>,
    shared: Arc<Shared>,
    runtime: Runtime,
    close_timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsWriter<S> {
    /// Sends a text message and flushes it.
    ///
    /// # Errors
    ///
    /// [`WsError::Closed`] after a Close was sent; [`WsError::Io`] on transport failure.
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.send_with(|enc| enc.encode_text(text).map_err(WsError::from))
            .await
    }

    /// Sends a binary message and flushes it.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.send_with(|enc| enc.encode_binary(data).map_err(WsError::from))
            .await
    }

    /// Sends a Ping (at most 125 bytes) and flushes it.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text), or [`WsError::Encode`].
    pub async fn send_ping(&mut self, payload: impl AsRef<[u8]>) -> Result<(), WsError> {
        let payload = payload.as_ref();
        self.send_with(|enc| enc.encode_ping(payload).map_err(WsError::from))
            .await
    }

    /// Sends a Pong (at most 125 bytes) and flushes it.
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    pub async fn send_pong(&mut self, payload: impl AsRef<[u8]>) -> Result<(), WsError> {
        let payload = payload.as_ref();
        self.send_with(|enc| enc.encode_pong(payload).map_err(WsError::from))
            .await
    }

    /// Sends a Close frame and flushes it. The reader half keeps receiving until the peer's
    /// Close arrives, then shuts the transport down. Bounded by the close timeout.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text); a second close is a no-op.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        let rt = self.runtime.clone();
        let timeout = Some(self.close_timeout);
        let send = self.send_with(|enc| {
            if enc.close_sent() {
                return Ok(());
            }
            enc.encode_close(code, reason).map_err(WsError::from)
        });
        match rt.timeout(timeout, send).await {
            Ok(res) => res,
            Err(_) => Err(WsError::Timeout("close")),
        }
    }

    async fn send_with(
        &mut self,
        encode: impl FnOnce(&mut Encoder) -> Result<(), WsError>,
    ) -> Result<(), WsError> {
        let mut side = self.write.lock().await;
        let mut shutdown = false;
        if side.done {
            return Err(WsError::Closed);
        }
        if side.enc.close_sent() {
            // Anything already queued still goes out.
            let _ = poll_fn(|cx| poll_write_side(&self.shared, &mut side, &mut shutdown, cx)).await;
            return Err(WsError::Closed);
        }
        encode(&mut side.enc)?;
        let res = poll_fn(|cx| poll_write_side(&self.shared, &mut side, &mut shutdown, cx)).await;
        drop(side);
        // The reader may have owed something after our last check and failed to get the
        // write side: take it once more.
        if self.shared.has_owed.load(Ordering::SeqCst)
            && let Some(mut side) = self.write.try_lock()
        {
            let _ = poll_fn(|cx| poll_write_side(&self.shared, &mut side, &mut shutdown, cx)).await;
        }
        res.map_err(WsError::Io)
    }
}
