//! [`WsStream`]: one WebSocket connection over any futures-io transport, a thin driver
//! over the sans-IO [`Receiver`] and one [`WriteSide`].

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

use crate::io::poll_read_some;
use crate::proto::ws::handshake::ServerRequest;
use crate::proto::ws::{CloseCode, Conn, Message, Owed, OwnedMessage, Receiver};

use super::WsError;
use super::driver::{self, Driven, Link, Recv, RecvState, StreamOptions, WriteSide};
use super::send::{Sender, impl_sink, send_api};
use super::split::{WsReader, WsWriter};

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
    side: WriteSide<S>,
    rx: Receiver,
    state: RecvState,
    /// Owed frames waiting for the write buffer to empty (coalesced, bounded).
    slot: Owed,
    opts: StreamOptions,
    request: Option<Box<ServerRequest>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    pub(crate) fn new(io: S, conn: Conn, opts: StreamOptions) -> Self {
        let (mut rx, enc) = conn.into_parts();
        // `recv` and `poll_next` take every message through `checked_message`: one UTF-8
        // pass per text message instead of two.
        rx.decoder_mut().defer_utf8();
        let state = RecvState::new(&mut rx, opts.runtime.clone(), opts.heartbeat, false);
        Self {
            side: WriteSide::new(io, enc, false),
            rx,
            state,
            slot: Owed::default(),
            opts,
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
    /// failed, [`WsError::Timeout`] when a heartbeat deadline passed.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: no received byte is lost if the future is dropped.
    pub fn recv(&mut self) -> impl Future<Output = Result<Option<Message<'_>>, WsError>> + '_ {
        Recv::new(self)
    }

    send_api!("the stream");

    /// Closes the connection: sends a Close frame with `code` and `reason` (unless one was
    /// already sent), waits for the peer's Close, then shuts the transport down (TLS
    /// close_notify included), all within the close timeout (5 s by default).
    ///
    /// Messages that arrive while waiting are discarded. The same rule as
    /// [`WsWriter::close`]: when the close timeout runs out, or the transport fails while
    /// closing, the transport is given up and `close` still returns `Ok(())` (the
    /// connection is over either way); a second `close` is a no-op.
    ///
    /// # Errors
    ///
    /// [`WsError::Encode`] for a reason over 123 bytes or a code that may not be sent.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        if self.state.is_done() && self.side.is_done() {
            return Ok(());
        }
        if !self.state.is_done() {
            self.side.encode_close(code, reason)?;
            trace!(
                debug,
                "nexus_async_net::ws",
                code = u16::from(code),
                reason,
                "sending Close"
            );
        }
        let rt = self.opts.runtime.clone();
        let timeout = self.opts.close_timeout;
        let finish = async {
            // Read until the peer's Close or the end; our Close goes out on the way and the
            // shutdown owed at the end is written last.
            while let Ok(true) = poll_fn(|cx| driver::poll_advance(self, cx)).await {
                self.state.skip();
            }
            let _ = self.flush().await;
        };
        if driver::close_within(&rt, timeout, finish).await {
            self.side.abandon();
            self.state.end();
        }
        Ok(())
    }

    /// Splits the stream into a reader and a writer half that can be used from two tasks.
    ///
    /// The reader never waits for the writer: replies it owes the peer (auto-pong, the
    /// Close echo) are handed to whichever half holds the write side next. See
    /// [`WsReader`] and [`WsWriter`].
    pub fn split(self) -> (WsReader<S>, WsWriter<S>) {
        super::split::split(self.side, self.rx, self.state, self.slot, self.opts)
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
        &self.side.io
    }

    /// The transport, mutably. Writing to it directly corrupts the WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.side.io
    }

    /// True once the connection has ended (closed, failed or at end of stream).
    pub fn is_closed(&self) -> bool {
        self.state.is_done() || self.side.is_done()
    }
}

/// The stream's link: owed frames go into its own slot and out through its own write side.
pub(crate) struct StreamLink<'a, S> {
    side: &'a mut WriteSide<S>,
    slot: &'a mut Owed,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link for StreamLink<'_, S> {
    #[inline]
    fn send(&mut self, owed: Option<Owed>, cx: &mut Context<'_>) -> io::Result<()> {
        match owed {
            Some(owed) => self.slot.merge(owed),
            None if self.side.is_idle() => return Ok(()),
            None => {}
        }
        if self.side.is_done() {
            // Nobody to send to.
            *self.slot = Owed::default();
            return Ok(());
        }
        match self.side.poll_write(cx, &mut take_slot(self.slot)) {
            Poll::Ready(Err(e)) => Err(e),
            Poll::Ready(Ok(())) | Poll::Pending => Ok(()),
        }
    }

    #[inline]
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_read_some(&mut self.side.io, cx, buf)
    }
}

/// The owed frames of `slot`, once.
fn take_slot(slot: &mut Owed) -> impl FnMut() -> Option<Owed> + '_ {
    move || (!slot.is_empty()).then(|| std::mem::take(slot))
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driven for WsStream<S> {
    type Link<'a>
        = StreamLink<'a, S>
    where
        S: 'a;

    #[inline]
    fn parts(&mut self) -> (&mut Receiver, &mut RecvState, StreamLink<'_, S>) {
        let link = StreamLink {
            side: &mut self.side,
            slot: &mut self.slot,
        };
        (&mut self.rx, &mut self.state, link)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sender for WsStream<S> {
    type Io = S;

    fn with_side<R>(&mut self, f: impl FnOnce(&mut WriteSide<S>) -> R) -> R {
        f(&mut self.side)
    }

    fn poll_side<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut WriteSide<S>, &mut Context<'_>, &mut dyn FnMut() -> Option<Owed>) -> R,
    ) -> R {
        f(&mut self.side, cx, &mut take_slot(&mut self.slot))
    }

    fn high_water(&self) -> usize {
        self.opts.write_high_water
    }

    /// Reads on for a short while: a peer that refuses a message usually sends its Close
    /// (1009, with a reason) before it drops the connection, and the kernel keeps those
    /// bytes readable after the reset. A data message read first stays for `recv`.
    async fn peer_closed(&mut self, e: WsError) -> WsError {
        const SALVAGE: std::time::Duration = std::time::Duration::from_millis(250);
        let rt = self.opts.runtime.clone();
        let read = poll_fn(|cx| driver::poll_advance(self, cx));
        if let Ok(Ok(true)) = rt.timeout(Some(SALVAGE), read).await
            && let Some(Message::Close(frame)) = self.rx.message()
        {
            return WsError::ClosedByPeer(frame.map(Box::new));
        }
        e
    }
}

/// Owned messages, one allocation each; use [`WsStream::recv`] for zero-copy receive.
impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsStream<S> {
    type Item = Result<OwnedMessage, WsError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        driver::poll_next_owned(self.get_mut(), cx)
    }
}

impl_sink!(WsStream);
