//! A whole connection: [`Decoder`] + [`Encoder`] + the close handshake.

use crate::proto::Role;

use std::time::Instant;

use super::close::CloseCode;
use super::config::Config;
use super::decoder::{Advance, Decoder};
use super::encoder::Encoder;
use super::error::{EncodeError, ProtocolError};
use super::heartbeat::{HeartbeatConfig, HeartbeatTimeout};
use super::message::Message;
use super::receiver::Receiver;

/// A WebSocket connection without I/O: the decoder, the encoder and the rules that tie
/// them together.
///
/// On top of [`Decoder::advance`], [`Conn::advance`] applies the rules of its
/// [`Receiver`] and encodes what they say is owed at once:
///
/// - answers the peer's Close by echoing its code (1000 if it had none), unless a Close
///   was already sent;
/// - answers every Ping with a Pong when [`Config::auto_pong`] is on, with a bounded
///   number of unsent Pongs (see [`Encoder::encode_pong_coalesced`]);
/// - on a protocol error, sends a Close with [`ProtocolError::close_code`] and returns the
///   error once (an unexpected EOF sends nothing: the peer is gone);
/// - with a heartbeat ([`set_heartbeat`](Self::set_heartbeat)), sends a Ping when due and
///   reports a peer that misses its Pong or idle deadline.
///
/// After each `advance`, write [`pending`](Self::pending) to the transport.
///
/// # Examples
///
/// A client and a server exchanging a message and closing, all in memory:
///
/// ```
/// use nexus_async_net::proto::Role;
/// use nexus_async_net::proto::ws::{Advance, CloseCode, Config, Conn, Message};
///
/// /// Moves everything `from` has to send into `to`.
/// fn transfer(from: &mut Conn, to: &mut Conn) {
///     let bytes = from.pending().to_vec();
///     from.handle_written(bytes.len());
///     let mut rest = &bytes[..];
///     while !rest.is_empty() {
///         let n = to.decoder_mut().handle_input(rest);
///         rest = &rest[n..];
///         assert!(n > 0, "the receiver must advance before taking more");
///     }
/// }
///
/// let mut client = Conn::new(Role::Client, Config::default());
/// let mut server = Conn::new(Role::Server, Config::default());
///
/// client.send_text("hello")?;
/// transfer(&mut client, &mut server);
/// assert_eq!(server.advance(), Ok(Advance::Message));
/// assert_eq!(server.message(), Some(Message::Text("hello")));
///
/// // The client closes; the server's Conn replies by itself.
/// client.close(CloseCode::Normal, "bye")?;
/// transfer(&mut client, &mut server);
/// assert_eq!(server.advance(), Ok(Advance::Message));
/// assert!(matches!(server.message(), Some(Message::Close(Some(f))) if f.reason() == "bye"));
/// transfer(&mut server, &mut client);
/// assert_eq!(client.advance(), Ok(Advance::Message)); // the server's reply
/// assert_eq!(client.advance(), Ok(Advance::Closed));
/// assert!(client.is_closed() && server.is_closed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Conn {
    rx: Receiver,
    encoder: Encoder,
}

/// Where a connection stands in the close handshake (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseState {
    /// Neither side has closed.
    Open,
    /// We sent a Close and wait for the peer's.
    CloseSent,
    /// The peer's Close arrived and ours is not sent (only when the reply could not be
    /// encoded; [`Conn`] normally replies at once).
    CloseReceived,
    /// The handshake is complete, or the stream ended (EOF, protocol error): flush
    /// [`Conn::pending`] and shut the transport down.
    Closed,
}

impl Conn {
    /// A connection for an endpoint playing `role`.
    pub fn new(role: Role, config: Config) -> Self {
        Self {
            rx: Receiver::new(Decoder::new(role, &config), config.auto_pong),
            encoder: Encoder::new(role, &config),
        }
    }

    /// Turns the heartbeat on (see [`HeartbeatConfig`]), counting from `now`: drive it with
    /// [`poll_timeout`](Self::poll_timeout) and [`handle_timeout`](Self::handle_timeout).
    pub fn set_heartbeat(&mut self, config: HeartbeatConfig, now: Instant) {
        self.rx.set_heartbeat(config, now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work (none without a
    /// heartbeat).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rx.poll_timeout()
    }

    /// Applies the heartbeat deadlines at `now`; a due Ping is encoded.
    ///
    /// # Errors
    ///
    /// [`HeartbeatTimeout`] when the peer missed a deadline.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HeartbeatTimeout> {
        let res = self.rx.handle_timeout(now);
        self.encode_owed();
        res
    }

    /// Parses as far as the buffered bytes allow and reacts to what arrived (see the type
    /// docs).
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`], once; a Close frame carrying its close code is then pending.
    #[inline]
    pub fn advance(&mut self) -> Result<Advance, ProtocolError> {
        let res = self.rx.advance();
        self.encode_owed();
        res
    }

    /// Encodes what the receive half says is owed.
    #[inline]
    fn encode_owed(&mut self) {
        if self.rx.has_owed() {
            self.rx.take_owed().encode(&mut self.encoder);
        }
    }

    /// The message made ready by the last [`advance`](Self::advance).
    #[inline]
    pub fn message(&self) -> Option<Message<'_>> {
        self.rx.message()
    }

    /// Appends a text message.
    ///
    /// # Errors
    ///
    /// See [`Encoder::encode_text`].
    pub fn send_text(&mut self, text: &str) -> Result<(), EncodeError> {
        self.encoder.encode_text(text)
    }

    /// Appends a binary message.
    ///
    /// # Errors
    ///
    /// See [`Encoder::encode_binary`].
    pub fn send_binary(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.encoder.encode_binary(bytes)
    }

    /// Appends a Ping.
    ///
    /// # Errors
    ///
    /// See [`Encoder::encode_ping`].
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), EncodeError> {
        self.encoder.encode_ping(payload)
    }

    /// Appends a Pong.
    ///
    /// # Errors
    ///
    /// See [`Encoder::encode_pong`].
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), EncodeError> {
        self.encoder.encode_pong(payload)
    }

    /// Starts the close handshake: appends a Close with `code` and `reason`. Keep calling
    /// [`advance`](Self::advance) until it returns [`Advance::Closed`] (the peer's Close) or
    /// a timeout of your choosing expires.
    ///
    /// # Errors
    ///
    /// See [`Encoder::encode_close`].
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), EncodeError> {
        self.encoder.encode_close(code, reason)
    }

    /// Encoded bytes not yet written to the transport.
    pub fn pending(&self) -> &[u8] {
        self.encoder.pending()
    }

    /// Records that the transport took the first `n` bytes of [`pending`](Self::pending).
    pub fn handle_written(&mut self, n: usize) {
        self.encoder.handle_written(n);
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        let received = self.rx.decoder().close_received().is_some();
        match (self.rx.decoder().is_closed(), self.encoder.close_sent()) {
            (false, false) => CloseState::Open,
            (false, true) => CloseState::CloseSent,
            (true, false) if received => CloseState::CloseReceived,
            (true, _) => CloseState::Closed,
        }
    }

    /// Whether the connection is finished: the decoder has ended and, if the peer closed,
    /// our reply is encoded. Flush [`pending`](Self::pending), then shut the transport down.
    pub fn is_closed(&self) -> bool {
        self.close_state() == CloseState::Closed
    }

    /// The decoder.
    pub fn decoder(&self) -> &Decoder {
        self.rx.decoder()
    }

    /// The decoder, to feed bytes into.
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        self.rx.decoder_mut()
    }

    /// The send half.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The send half.
    pub fn encoder_mut(&mut self) -> &mut Encoder {
        &mut self.encoder
    }

    /// Splits into the two halves. The rules stay with the [`Receiver`]: hand what it
    /// owes ([`Receiver::take_owed`]) to the encoder with [`Owed::encode`](super::Owed::encode).
    pub fn into_parts(self) -> (Receiver, Encoder) {
        (self.rx, self.encoder)
    }
}
