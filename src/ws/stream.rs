//! [`WsStream`]: one WebSocket connection over any futures-io transport.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;

use crate::io::{Outbound, poll_drain, poll_drain_flush, poll_read_some};
use crate::proto::ws::handshake::ServerRequest;
use crate::proto::ws::queue_error_close;
use crate::proto::ws::{
    Advance, CloseCode, Conn, Encoder, Message, OwnedMessage, ProtocolError, ReadyKind,
};
use crate::rt::Runtime;

use super::WsError;
use super::heartbeat::{Beat, Heartbeat, HeartbeatConfig};
use super::split::{WsReader, WsWriter};

impl Outbound for Encoder {
    fn pending(&self) -> &[u8] {
        Encoder::pending(self)
    }

    fn consume(&mut self, n: usize) {
        self.handle_written(n);
    }
}

/// What the stream knows about its transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading and writing.
    Open,
    /// The WebSocket is over (close handshake done, protocol error reported, EOF or an I/O
    /// error): `recv` returns `Ok(None)` and sends fail with [`WsError::Closed`].
    Done,
}

/// Options the stream keeps after the handshake.
#[derive(Debug, Clone)]
pub(crate) struct StreamOptions {
    pub(crate) runtime: Runtime,
    pub(crate) close_timeout: Duration,
    pub(crate) auto_pong: bool,
    /// Queued outbound bytes above which `Sink::poll_ready` flushes first.
    pub(crate) write_high_water: usize,
    pub(crate) subprotocol: Option<Box<str>>,
    pub(crate) heartbeat: HeartbeatConfig,
}

/// A WebSocket connection over the transport `S`.
///
/// `recv` hands out messages that borrow the stream's read buffer (no copy for unfragmented
/// messages); send methods encode a whole frame, write it and flush. Control frame payloads
/// ([`Message::Ping`], [`Message::Pong`]) are carried inline, so replying to a ping while
/// holding it compiles:
///
/// ```
/// # use nexus_async_net::ws::{Message, WsError, WsStream};
/// # async fn serve<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>(mut ws: WsStream<S>) -> Result<(), WsError> {
/// while let Some(msg) = ws.recv().await? {
///     match msg {
///         Message::Ping(data) => ws.send_pong(data).await?,
///         Message::Text(text) => println!("{text}"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
///
/// The peer's Close is answered automatically; `recv` delivers [`Message::Close`] and then
/// returns `Ok(None)`. After a protocol violation the connection is closed with the right
/// code (1002, 1007 or 1009), the error is returned once, and `recv` then returns `Ok(None)`.
///
/// # Cancel safety
///
/// `recv` is cancel-safe: bytes are handed to the decoder in the poll that reads them.
/// Sends are cancel-safe too: a frame is fully encoded before its first byte is written, and
/// a frame left half-written by a cancelled send is finished by the next write on the
/// stream, so the peer never sees a torn frame.
#[derive(Debug)]
pub struct WsStream<S> {
    io: S,
    conn: Conn,
    opts: StreamOptions,
    /// A message was made ready by `advance` and not handed out yet.
    ready: bool,
    phase: Phase,
    /// A protocol error to report once the Close frame it caused is on the wire.
    failed: Option<WsError>,
    request: Option<Box<ServerRequest>>,
    heartbeat: Option<Box<Heartbeat>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    pub(crate) fn new(io: S, mut conn: Conn, opts: StreamOptions) -> Self {
        // `recv` and `poll_next` take every message through `checked_message`: one UTF-8
        // pass per text message instead of two.
        conn.decoder_mut().defer_utf8();
        let heartbeat = Heartbeat::new(opts.heartbeat, &opts.runtime).map(Box::new);
        Self {
            io,
            conn,
            heartbeat,
            opts,
            ready: false,
            phase: Phase::Open,
            failed: None,
            request: None,
        }
    }

    pub(crate) fn set_request(&mut self, request: ServerRequest) {
        self.request = Some(Box::new(request));
    }

    /// Receives the next message.
    ///
    /// Returns `Ok(None)` once the connection has ended: after the peer's Close was
    /// delivered (and answered), after our own close handshake, or at end of stream.
    /// `Text` and `Binary` borrow the stream; copy them (`to_owned`) to keep them past the
    /// next call.
    ///
    /// # Errors
    ///
    /// [`WsError::Protocol`] when the peer broke the protocol (reported once; the
    /// connection is closed with the matching code), [`WsError::Io`] when the transport
    /// failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: no received byte is lost if the future is dropped.
    pub fn recv(&mut self) -> impl Future<Output = Result<Option<Message<'_>>, WsError>> + '_ {
        // The same future as `async { poll_fn(poll_advance).await; message() }`, written by
        // hand: it polls `poll_advance` directly and builds the `Message` straight into
        // the output, without an async state machine around it.
        Recv { ws: Some(self) }
    }

    /// Sends a text message and flushes it.
    ///
    /// # Errors
    ///
    /// [`WsError::Closed`] after a Close was sent or the stream ended; [`WsError::Io`] when
    /// the transport fails.
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.feed_text(text)?;
        self.flush().await
    }

    /// Sends a binary message and flushes it.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.feed_binary(data)?;
        self.flush().await
    }

    /// Sends a Ping (payload at most 125 bytes) and flushes it.
    ///
    /// # Errors
    ///
    /// [`WsError::Encode`] for a payload over 125 bytes, else as
    /// [`send_text`](Self::send_text).
    pub async fn send_ping(&mut self, payload: impl AsRef<[u8]>) -> Result<(), WsError> {
        self.check_open()?;
        self.conn.encoder_mut().encode_ping(payload.as_ref())?;
        self.flush().await
    }

    /// Sends a Pong (payload at most 125 bytes) and flushes it.
    ///
    /// # Errors
    ///
    /// As [`send_ping`](Self::send_ping).
    pub async fn send_pong(&mut self, payload: impl AsRef<[u8]>) -> Result<(), WsError> {
        self.check_open()?;
        self.conn.encoder_mut().encode_pong(payload.as_ref())?;
        self.flush().await
    }

    /// Queues a text message without writing it; [`flush`](Self::flush) sends everything
    /// queued in one write. Use it to batch.
    ///
    /// # Errors
    ///
    /// [`WsError::Closed`] after a Close was sent or the stream ended.
    pub fn feed_text(&mut self, text: &str) -> Result<(), WsError> {
        self.check_open()?;
        self.conn.encoder_mut().encode_text(text)?;
        Ok(())
    }

    /// Queues a binary message without writing it (see [`feed_text`](Self::feed_text)).
    ///
    /// # Errors
    ///
    /// [`WsError::Closed`] after a Close was sent or the stream ended.
    pub fn feed_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.check_open()?;
        self.conn.encoder_mut().encode_binary(data)?;
        Ok(())
    }

    /// Writes every queued frame and flushes the transport (TLS records included).
    ///
    /// # Errors
    ///
    /// [`WsError::Io`] when the transport fails; the stream is then done.
    pub async fn flush(&mut self) -> Result<(), WsError> {
        let res = poll_fn(|cx| poll_drain_flush(&mut self.io, cx, self.conn.encoder_mut())).await;
        res.map_err(|e| self.fail_io(e))
    }

    /// Closes the connection: sends a Close frame with `code` and `reason` (unless one was
    /// already sent), waits for the peer's Close (at most the close timeout, 5 s by
    /// default), then shuts the transport down (TLS close_notify included).
    ///
    /// Messages that arrive while waiting are discarded.
    ///
    /// # Errors
    ///
    /// [`WsError::Encode`] for a reason over 123 bytes; an illegal `code` is a
    /// protocol error. Transport errors while closing are not reported: the connection is
    /// gone either way.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        if self.phase == Phase::Done {
            return Ok(());
        }
        if !self.conn.encoder().close_sent() {
            self.conn.encoder_mut().encode_close(code, reason)?;
        }
        let rt = self.opts.runtime.clone();
        let timeout = Some(self.opts.close_timeout);
        let handshake = async {
            if self.flush().await.is_err() {
                return;
            }
            // Read until the peer's Close (or EOF); the decoder bounds what it buffers.
            loop {
                match poll_fn(|cx| self.poll_advance(cx)).await {
                    Ok(true) => self.ready = false,
                    Ok(false) | Err(_) => return,
                }
            }
        };
        let _ = rt.timeout(timeout, handshake).await;
        let _ = rt
            .timeout(timeout, poll_fn(|cx| self.poll_shutdown(cx)))
            .await;
        self.phase = Phase::Done;
        Ok(())
    }

    /// Splits the stream into a reader and a writer half that can be used from two tasks.
    ///
    /// The reader never waits for the writer: replies it owes the peer (auto-pong, the
    /// Close echo) are handed to whichever half holds the write side next. See
    /// [`WsReader`] and [`WsWriter`].
    pub fn split(self) -> (WsReader<S>, WsWriter<S>) {
        let (decoder, encoder) = self.conn.into_parts();
        let done = self.phase == Phase::Done;
        super::split::split(self.io, decoder, encoder, self.opts, done, self.heartbeat)
    }

    /// The subprotocol the server selected, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.opts.subprotocol.as_deref()
    }

    /// Server side: the upgrade request the client sent (path, headers).
    pub fn request(&self) -> Option<&ServerRequest> {
        self.request.as_deref()
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably. Writing to it directly corrupts the WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// True once the connection has ended (closed, failed or at end of stream).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Done
    }

    fn check_open(&self) -> Result<(), WsError> {
        if self.phase == Phase::Done || self.conn.encoder().close_sent() {
            return Err(WsError::Closed);
        }
        Ok(())
    }

    fn fail_io(&mut self, e: std::io::Error) -> WsError {
        self.phase = Phase::Done;
        WsError::Io(e)
    }

    /// Drives the connection until a message is ready (`true`) or it has ended (`false`).
    fn poll_advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, WsError>> {
        loop {
            if self.failed.is_some()
                && let Some(err) = self.failed.take()
            {
                // Our Close frame (with the error's code) is queued: send it and shut down
                // as far as the transport allows now. A peer that does not read must not
                // keep the error from being reported.
                let _ = self.poll_shutdown(cx);
                self.phase = Phase::Done;
                return Poll::Ready(Err(err));
            }
            if self.phase == Phase::Done {
                return Poll::Ready(Ok(false));
            }
            if self.ready {
                // Replies the decoder queued (auto-pong, Close echo) go out before the
                // message is handed over, as far as the transport takes them now.
                self.poll_flush_owed(cx)?;
                return Poll::Ready(Ok(true));
            }
            match self.conn.advance() {
                Ok(Advance::Message) => {
                    self.ready = true;
                    // Only the kind is looked at here: the `Message` is built once, in
                    // `recv`.
                    if let Some(hb) = self.heartbeat.as_mut()
                        && self.conn.decoder().ready_kind() == Some(ReadyKind::Pong)
                    {
                        hb.on_pong();
                    }
                    // As the `self.ready` branch above, without another turn of the loop.
                    self.poll_flush_owed(cx)?;
                    return Poll::Ready(Ok(true));
                }
                Ok(Advance::NeedInput) => ready!(self.poll_fill(cx))?,
                Ok(Advance::Closed) => {
                    // Same rule: finish the close handshake if the transport takes it now.
                    let _ = self.poll_shutdown(cx);
                    self.phase = Phase::Done;
                    return Poll::Ready(Ok(false));
                }
                Err(e) => self.failed = Some(e.into()),
            }
        }
    }

    /// Flushes owed replies, then reads once into the decoder.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.poll_flush_owed(cx)?;
        let decoder = self.conn.decoder_mut();
        match poll_read_some(&mut self.io, cx, decoder.read_buf()) {
            Poll::Ready(Ok(0)) => decoder.handle_eof(),
            Poll::Ready(Ok(n)) => {
                decoder.handle_read(n);
                if let Some(hb) = self.heartbeat.as_mut() {
                    hb.on_read();
                }
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail_io(e))),
            Poll::Pending => return self.poll_heartbeat(cx),
        }
        Poll::Ready(Ok(()))
    }

    /// While the transport is quiet: send the heartbeat Ping when due, or give up on a
    /// peer that missed its deadline.
    fn poll_heartbeat(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let Some(hb) = self.heartbeat.as_mut() else {
            return Poll::Pending;
        };
        match hb.poll(cx) {
            Beat::Wait => Poll::Pending,
            Beat::Ping => {
                if self
                    .conn
                    .encoder_mut()
                    .encode_ping(b"nexus-heartbeat")
                    .is_ok()
                {
                    self.poll_flush_owed(cx)?;
                }
                // Loop once more so the read and the next deadline are both registered.
                Poll::Ready(Ok(()))
            }
            Beat::Dead(what) => {
                self.phase = Phase::Done;
                Poll::Ready(Err(WsError::Timeout(what)))
            }
        }
    }

    /// Writes queued replies without waiting: a peer that does not read must not stop us
    /// from reading (the decoder coalesces owed pongs, so the queue stays bounded). The
    /// waker is registered, so a blocked write resumes on the next poll.
    fn poll_flush_owed(&mut self, cx: &mut Context<'_>) -> Result<(), WsError> {
        if self.conn.encoder().pending().is_empty() {
            return Ok(());
        }
        match poll_drain_flush(&mut self.io, cx, self.conn.encoder_mut()) {
            Poll::Ready(Err(e)) => Err(self.fail_io(e)),
            Poll::Ready(Ok(())) | Poll::Pending => Ok(()),
        }
    }

    /// Best effort: writes what is queued, then closes the transport. Marks the stream done.
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        poll_shutdown(&mut self.io, self.conn.encoder_mut(), &mut self.phase, cx)
    }
}

/// `WsStream::poll_shutdown` on the fields it needs.
fn poll_shutdown<S: AsyncWrite + Unpin>(
    io: &mut S,
    encoder: &mut Encoder,
    phase: &mut Phase,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if *phase != Phase::Done {
        if ready!(poll_drain_flush(io, cx, encoder)).is_err() {
            *phase = Phase::Done;
            return Poll::Ready(());
        }
        let _ = ready!(Pin::new(io).poll_close(cx));
        *phase = Phase::Done;
    }
    Poll::Ready(())
}

/// A text message failed the deferred UTF-8 check while handing it over: what
/// `poll_advance` does for a protocol error (Close with the error's code, sent and shut
/// down as far as the transport takes it now), on fields disjoint from the decoder, which
/// the message borrow keeps borrowed.
fn fail_handed_over<S: AsyncWrite + Unpin>(
    io: &mut S,
    encoder: &mut Encoder,
    phase: &mut Phase,
    err: ProtocolError,
    cx: &mut Context<'_>,
) -> WsError {
    queue_error_close(encoder, &err);
    let _ = poll_shutdown(io, encoder, phase, cx);
    *phase = Phase::Done;
    err.into()
}

/// The future of [`WsStream::recv`].
struct Recv<'a, S> {
    /// Taken out when the message is handed over, so it can borrow the stream for `'a`.
    ws: Option<&'a mut WsStream<S>>,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Future for Recv<'a, S> {
    type Output = Result<Option<Message<'a>>, WsError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(ws) = self.ws.take() else {
            // Polled after completion: the stream is not ours any more.
            return Poll::Ready(Ok(None));
        };
        match ws.poll_advance(cx) {
            Poll::Pending => {
                self.ws = Some(ws);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(false)) => Poll::Ready(Ok(None)),
            Poll::Ready(Ok(true)) => {
                ws.ready = false;
                // Disjoint borrows: the message borrows the decoder for `'a`, and a failed
                // UTF-8 check still needs the encoder, the transport and the phase.
                let WsStream {
                    io, conn, phase, ..
                } = ws;
                let (decoder, encoder) = conn.parts_mut();
                match decoder.checked_message() {
                    Ok(message) => Poll::Ready(Ok(message)),
                    Err(e) => Poll::Ready(Err(fail_handed_over(io, encoder, phase, e, cx))),
                }
            }
        }
    }
}

/// Owned messages, one allocation each; use [`WsStream::recv`] for zero-copy receive.
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsStream<S> {
    type Item = Result<OwnedMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match ready!(this.poll_advance(cx)) {
            Ok(true) => {
                this.ready = false;
                let (decoder, encoder) = this.conn.parts_mut();
                match decoder.checked_message() {
                    Ok(message) => Poll::Ready(message.map(|m| Ok(m.into_owned()))),
                    Err(e) => {
                        let err = fail_handed_over(&mut this.io, encoder, &mut this.phase, e, cx);
                        Poll::Ready(Some(Err(err)))
                    }
                }
            }
            Ok(false) => Poll::Ready(None),
            Err(e) => Poll::Ready(Some(Err(e))),
        }
    }
}

/// Frames are queued by `start_send` and written by `poll_flush`; `poll_ready` applies
/// backpressure by writing queued frames once they pass the write buffer capacity, so
/// `feed(a); feed(b); flush()` puts both on the wire. `poll_close` sends a Close frame
/// (1000) if none was sent, flushes and shuts the transport down; it does not wait for the
/// peer's Close (use [`WsStream::close`] for the full handshake).
impl<S: AsyncRead + AsyncWrite + Unpin> Sink<OwnedMessage> for WsStream<S> {
    type Error = WsError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        this.check_open()?;
        if this.conn.encoder().pending().len() >= this.opts.write_high_water {
            let res = ready!(poll_drain(&mut this.io, cx, this.conn.encoder_mut()));
            res.map_err(|e| this.fail_io(e))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, item: OwnedMessage) -> Result<(), WsError> {
        let this = self.get_mut();
        this.check_open()?;
        let enc = this.conn.encoder_mut();
        match &item {
            OwnedMessage::Text(t) => enc.encode_text(t)?,
            OwnedMessage::Binary(b) => enc.encode_binary(b)?,
            OwnedMessage::Ping(p) => enc.encode_ping(p)?,
            OwnedMessage::Pong(p) => enc.encode_pong(p)?,
            OwnedMessage::Close(frame) => match frame {
                Some(f) => enc.encode_close(f.code, f.reason())?,
                None => enc.encode_close(CloseCode::Normal, "")?,
            },
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        let res = ready!(poll_drain_flush(&mut this.io, cx, this.conn.encoder_mut()));
        Poll::Ready(res.map_err(|e| this.fail_io(e)))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let this = self.get_mut();
        if this.phase != Phase::Done && !this.conn.encoder().close_sent() {
            this.conn
                .encoder_mut()
                .encode_close(CloseCode::Normal, "")?;
        }
        ready!(this.poll_shutdown(cx));
        Poll::Ready(Ok(()))
    }
}
