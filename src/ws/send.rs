//! The send API, written once for [`WsStream`](super::WsStream) and
//! [`WsWriter`](super::WsWriter): both reach a [`WriteSide`] through [`Sender`], and the
//! macros below expand the same methods and the same `Sink` on each.

use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use crate::proto::ws::Owed;

use super::WsError;

use super::driver::WriteSide;

/// Access to a write side and to the owed frames waiting for it.
pub(crate) trait Sender {
    /// The transport's write half.
    type Io: AsyncWrite + Unpin;

    /// Runs `f` on the write side (encoding only: no I/O).
    fn with_side<R>(&mut self, f: impl FnOnce(&mut WriteSide<Self::Io>) -> R) -> R;

    /// Runs the poll function `f` on the write side with the source of owed frames.
    fn poll_side<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(
            &mut WriteSide<Self::Io>,
            &mut Context<'_>,
            &mut dyn FnMut() -> Option<Owed>,
        ) -> R,
    ) -> R;

    /// Queued outbound bytes above which `Sink::poll_ready` writes first.
    fn high_water(&self) -> usize;

    /// Writes everything queued (owed frames included) and flushes.
    fn poll_flush_side(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), super::WsError>> {
        self.poll_side(cx, |side, cx, owed| side.poll_write(cx, owed))
            .map_err(super::WsError::from)
    }

    /// The error for a write that failed because the peer closed the connection: the
    /// peer's Close, when the sender can still read it, else the I/O error.
    async fn peer_closed(&mut self, e: WsError) -> WsError {
        e
    }
}

/// Whether a write error means the peer closed the connection under us (it may have
/// sent a Close first, saying why).
pub(crate) fn peer_gone(e: &WsError) -> bool {
    matches!(
        e,
        WsError::Io(io) if matches!(
            io.kind(),
            std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        )
    )
}

/// The public send methods of a [`Sender`] (`$what` names it in the docs).
macro_rules! send_api {
    ($what:literal) => {
        #[doc = concat!("Sends a text message on ", $what, " and flushes it.")]
        ///
        /// # Errors
        ///
        /// [`WsError::Closed`] after a Close was sent or the transport is gone;
        /// [`WsError::Io`] when the transport fails.
        pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
            self.feed_text(text)?;
            self.flush().await
        }

        #[doc = concat!("Sends a binary message on ", $what, " and flushes it.")]
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
            let payload = payload.as_ref();
            $crate::ws::send::Sender::with_side(self, |s| s.encode(|e| e.encode_ping(payload)))?;
            self.flush().await
        }

        /// Sends a Pong (payload at most 125 bytes) and flushes it.
        ///
        /// # Errors
        ///
        /// As [`send_ping`](Self::send_ping).
        pub async fn send_pong(&mut self, payload: impl AsRef<[u8]>) -> Result<(), WsError> {
            let payload = payload.as_ref();
            $crate::ws::send::Sender::with_side(self, |s| s.encode(|e| e.encode_pong(payload)))?;
            self.flush().await
        }

        /// Queues a text message without writing it; [`flush`](Self::flush) sends
        /// everything queued in one write. Use it to batch.
        ///
        /// # Errors
        ///
        /// [`WsError::Closed`] after a Close was sent or the transport is gone.
        pub fn feed_text(&mut self, text: &str) -> Result<(), WsError> {
            $crate::ws::send::Sender::with_side(self, |s| s.encode(|e| e.encode_text(text)))
        }

        /// Queues a binary message without writing it (see [`feed_text`](Self::feed_text)).
        ///
        /// # Errors
        ///
        /// As [`feed_text`](Self::feed_text).
        pub fn feed_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
            $crate::ws::send::Sender::with_side(self, |s| s.encode(|e| e.encode_binary(data)))
        }

        /// Queues a [`PreparedMessage`](crate::proto::ws::PreparedMessage) (encoded
        /// once, shared by many connections) without writing it: its frame is copied into
        /// the write buffer as it is, with no encoding.
        ///
        /// # Errors
        ///
        /// [`WsError::Encode`] on a client (its frames must be masked), else as
        /// [`feed_text`](Self::feed_text).
        pub fn feed_prepared(
            &mut self,
            message: &$crate::proto::ws::PreparedMessage,
        ) -> Result<(), WsError> {
            $crate::ws::send::Sender::with_side(self, |s| s.encode(|e| e.encode_prepared(message)))
        }

        /// Sends a [`PreparedMessage`](crate::proto::ws::PreparedMessage) and flushes it
        /// (see [`feed_prepared`](Self::feed_prepared)).
        ///
        /// # Errors
        ///
        /// As [`feed_prepared`](Self::feed_prepared) and [`flush`](Self::flush).
        pub async fn send_prepared(
            &mut self,
            message: &$crate::proto::ws::PreparedMessage,
        ) -> Result<(), WsError> {
            self.feed_prepared(message)?;
            self.flush().await
        }

        /// Writes every queued frame (replies owed to the peer included) and flushes the
        /// transport (TLS records included).
        ///
        /// # Errors
        ///
        /// [`WsError::Io`] when the transport fails; nothing more can be sent then.
        /// [`WsError::ClosedByPeer`] when the write failed because the peer closed the
        /// connection after sending a Close (refusing an oversized message with 1009,
        /// say) and that Close was the next thing to read.
        pub async fn flush(&mut self) -> Result<(), WsError> {
            use $crate::ws::send::Sender;
            match std::future::poll_fn(|cx| Sender::poll_flush_side(self, cx)).await {
                Err(e) if $crate::ws::send::peer_gone(&e) => Err(self.peer_closed(e).await),
                result => result,
            }
        }
    };
}

/// `Sink<OwnedMessage>` for a [`Sender`] type.
///
/// Frames are queued by `start_send` and written by `poll_flush`; `poll_ready` applies
/// backpressure by writing queued frames once they pass the write buffer capacity, so
/// `feed(a); feed(b); flush()` puts both on the wire. `poll_close` sends a Close frame
/// (1000) if none was sent, flushes and shuts the transport down; it does not wait for the
/// peer's Close (use `close` for the full handshake).
macro_rules! impl_sink {
    ($ty:ident) => {
        /// Frames are queued by `start_send` and written by `poll_flush`; `poll_ready`
        /// writes queued frames once they pass the write buffer capacity, so
        /// `feed(a); feed(b); flush()` puts both on the wire. `poll_close` sends a Close
        /// (1000) if none was sent, flushes and shuts the transport down without waiting
        /// for the peer's Close (`close` does the full handshake).
        impl<S: AsyncRead + AsyncWrite + Unpin> futures_sink::Sink<OwnedMessage> for $ty<S> {
            type Error = WsError;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
                use $crate::ws::send::Sender;
                let this = self.get_mut();
                let high_water = this.high_water();
                this.poll_side(cx, |s, cx, _| s.poll_ready(cx, high_water))
            }

            fn start_send(self: Pin<&mut Self>, item: OwnedMessage) -> Result<(), WsError> {
                $crate::ws::send::Sender::with_side(self.get_mut(), |s| s.feed(&item))
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
                $crate::ws::send::Sender::poll_flush_side(self.get_mut(), cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
                $crate::ws::send::Sender::poll_side(self.get_mut(), cx, |s, cx, owed| {
                    s.poll_close(cx, owed)
                })
            }
        }
    };
}

pub(crate) use {impl_sink, send_api};
