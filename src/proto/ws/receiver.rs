//! The receive half with the rules: what the peer's frames oblige us to send.
//!
//! [`Receiver`] wraps the [`Decoder`] and is the one place that decides what is owed to
//! the peer: the Pong for a Ping (auto-pong), the reply to its Close, the Close after a
//! protocol error, heartbeat Pings and the Pong deadline. It hands those out as an
//! [`Owed`] value, which [`Owed::encode`] turns into frames on an [`Encoder`]: [`Conn`]
//! does that at once; the split halves of the I/O layer carry the value from the reader
//! to whichever half holds the write side.
//!
//! [`Conn`]: super::Conn

use std::time::Instant;

use super::close::CloseCode;
use super::decoder::{Advance, Decoder, ReadyKind};
use super::encoder::Encoder;
use super::error::ProtocolError;
use super::heartbeat::{Heartbeat, HeartbeatConfig, HeartbeatTimeout};
use super::message::{Control, Message};

/// The payload of heartbeat Pings.
pub const HEARTBEAT_PING: &[u8] = b"nexus-heartbeat";

/// Frames owed to the peer, not encoded yet. Bounded by construction: one Pong (the
/// latest Ping's, as RFC 6455 §5.5.3 allows), one heartbeat Ping, one Close.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    pong: Option<Control>,
    ping: bool,
    close: Option<(CloseCode, &'static str)>,
    shutdown: bool,
}

impl Owed {
    /// Only "shut the transport down once everything is written" (the read side failed).
    pub fn shutdown_only() -> Self {
        Self {
            shutdown: true,
            ..Self::default()
        }
    }

    /// Nothing is owed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        // Field by field: comparing the whole value would compare the inline Pong payload.
        self.pong.is_none() && !self.ping && self.close.is_none() && !self.shutdown
    }

    /// Whether the transport is to be shut down once what is owed is written (the
    /// receive side has ended).
    pub fn shutdown(&self) -> bool {
        self.shutdown
    }

    /// Adds what `later` owes: its Pong replaces ours (only the latest Ping needs an
    /// answer), the first Close wins, the flags add up.
    pub fn merge(&mut self, later: Owed) {
        self.pong = later.pong.or(self.pong);
        self.ping |= later.ping;
        self.close = self.close.or(later.close);
        self.shutdown |= later.shutdown;
    }

    /// Encodes the owed frames on `encoder` (nothing once a Close was sent) and returns
    /// [`shutdown`](Self::shutdown).
    pub fn encode(self, encoder: &mut Encoder) -> bool {
        if !encoder.close_sent() {
            // None of these can fail: control payloads are at most 125 bytes, the Close
            // code is the peer's own (checked on the wire) or one of 1000/1002/1007/1009,
            // and the reasons are short constants.
            if let Some(pong) = self.pong {
                let _ = encoder.encode_pong_coalesced(&pong);
            }
            if self.ping {
                let _ = encoder.encode_ping(HEARTBEAT_PING);
            }
            if let Some((code, reason)) = self.close {
                let _ = encoder.encode_close(code, reason);
            }
        }
        self.shutdown
    }
}

/// The owed slot of a [`Receiver`], borrowed apart from its decoder
/// ([`Receiver::message_parts`]).
#[derive(Debug)]
pub(crate) struct Owing<'a> {
    owed: &'a mut Owed,
    has_owed: &'a mut bool,
}

impl Owing<'_> {
    /// A handed-over message failed its check with `e`: everything owed now, the error
    /// Close included.
    pub(crate) fn protocol_error(self, e: &ProtocolError) -> Owed {
        let mut owed = std::mem::take(self.owed);
        owed.merge(error_close(e));
        *self.has_owed = false;
        owed
    }
}

/// The receive half of a connection: the [`Decoder`] plus the rules that decide what the
/// peer is owed: the Pong for a Ping (auto-pong), the reply to its Close, the Close after
/// a protocol error, heartbeat Pings and the Pong deadline. [`Conn`](super::Conn) encodes
/// what it owes at once; the split halves of the I/O layer carry the [`Owed`] value to
/// whichever half holds the write side.
///
/// After every call that takes input or time, check [`has_owed`](Self::has_owed) and hand
/// [`take_owed`](Self::take_owed) to the write side.
#[derive(Debug)]
pub struct Receiver {
    decoder: Decoder,
    auto_pong: bool,
    owed: Owed,
    has_owed: bool,
    heartbeat: Option<Heartbeat>,
}

impl Receiver {
    /// A receiver over `decoder`, answering Pings itself when `auto_pong` is on.
    pub fn new(decoder: Decoder, auto_pong: bool) -> Self {
        Self {
            decoder,
            auto_pong,
            owed: Owed::default(),
            has_owed: false,
            heartbeat: None,
        }
    }

    /// Turns the heartbeat on (or off, for a config that enables nothing), counting from
    /// `now`.
    pub fn set_heartbeat(&mut self, config: HeartbeatConfig, now: Instant) {
        self.heartbeat = Heartbeat::new(config, now);
    }

    /// Parses as far as the buffered bytes allow and records what the result obliges us
    /// to send.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`], once; the Close it calls for is then owed (except after an
    /// unexpected end of stream: nobody is left to tell).
    #[inline]
    pub fn advance(&mut self) -> Result<Advance, ProtocolError> {
        match self.decoder.advance() {
            Ok(Advance::Message) => {
                self.react();
                Ok(Advance::Message)
            }
            Ok(Advance::NeedInput) => Ok(Advance::NeedInput),
            Ok(Advance::Closed) => {
                self.owe(Owed::shutdown_only());
                Ok(Advance::Closed)
            }
            Err(e) => {
                self.owe_error_close(&e);
                Err(e)
            }
        }
    }

    /// The message made ready by the last [`advance`](Self::advance).
    #[inline]
    pub fn message(&self) -> Option<Message<'_>> {
        self.decoder.message()
    }

    /// The decoder, to take the message made ready by the last `advance` with its
    /// deferred UTF-8 check (`Decoder::checked_message`), and the owed slot, to record
    /// the error Close if that check fails: borrowed apart, so the message can borrow the
    /// decoder while the failure path still reaches the slot.
    #[inline]
    pub(crate) fn message_parts(&mut self) -> (&Decoder, Owing<'_>) {
        let owing = Owing {
            owed: &mut self.owed,
            has_owed: &mut self.has_owed,
        };
        (&self.decoder, owing)
    }

    /// Spare room of the read buffer (see [`Decoder::read_buf`]).
    #[inline]
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.decoder.read_buf()
    }

    /// Commits `n` bytes read into [`read_buf`](Self::read_buf). `now` is asked only when
    /// a heartbeat is on (its idle deadline restarts).
    #[inline]
    pub fn handle_read(&mut self, n: usize, now: impl FnOnce() -> Instant) {
        self.decoder.handle_read(n);
        if let Some(hb) = self.heartbeat.as_mut() {
            hb.on_read(now());
        }
    }

    /// The transport reached end of stream.
    pub fn handle_eof(&mut self) {
        self.decoder.handle_eof();
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has work (none without a
    /// heartbeat).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.heartbeat.as_ref().and_then(Heartbeat::poll_timeout)
    }

    /// Applies the heartbeat deadlines at `now`; a due Ping becomes owed.
    ///
    /// # Errors
    ///
    /// [`HeartbeatTimeout`] when the peer missed a deadline: the connection is dead.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HeartbeatTimeout> {
        if let Some(hb) = self.heartbeat.as_mut()
            && hb.handle_timeout(now)?
        {
            self.owe(Owed {
                ping: true,
                ..Owed::default()
            });
        }
        Ok(())
    }

    /// Whether something is owed to the peer.
    #[inline]
    pub fn has_owed(&self) -> bool {
        self.has_owed
    }

    /// Takes what is owed (empty when nothing is).
    #[inline]
    pub fn take_owed(&mut self) -> Owed {
        self.has_owed = false;
        std::mem::take(&mut self.owed)
    }

    /// The decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The decoder, to feed bytes into directly (bypassing the heartbeat's idle clock).
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }

    fn owe(&mut self, owed: Owed) {
        self.owed.merge(owed);
        self.has_owed = true;
    }

    fn owe_error_close(&mut self, e: &ProtocolError) {
        self.owe(error_close(e));
    }

    /// Records what the message just decoded obliges us to do.
    #[inline]
    fn react(&mut self) {
        // Only the kind is looked at on every message: building the `Message` copies a
        // control payload.
        match self.decoder.ready_kind() {
            Some(ReadyKind::Close) => {
                // Echo the peer's code (1000 when it sent none), without a reason.
                let frame = self.decoder.close_received().flatten();
                let code = frame.map_or(CloseCode::Normal, |f| f.code);
                self.owe(Owed {
                    close: Some((code, "")),
                    ..Owed::default()
                });
            }
            Some(ReadyKind::Ping) if self.auto_pong => {
                let pong = Some(*self.decoder.control());
                self.owe(Owed {
                    pong,
                    ..Owed::default()
                });
            }
            Some(ReadyKind::Pong) => {
                if let Some(hb) = self.heartbeat.as_mut() {
                    hb.on_pong();
                }
            }
            _ => {}
        }
    }
}

/// What a protocol error obliges us to send: the Close it calls for (its code and short
/// reason), then shutdown; only the shutdown for a cut-off stream (nobody to tell).
fn error_close(e: &ProtocolError) -> Owed {
    let close = (*e != ProtocolError::UnexpectedEof).then(|| (e.close_code(), e.close_reason()));
    Owed {
        close,
        shutdown: true,
        ..Owed::default()
    }
}
