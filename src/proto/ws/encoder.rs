//! The send side: messages in, frame bytes out.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::proto::Role;
use crate::proto::buf::WriteBuf;

use super::close::{CloseCode, MAX_CLOSE_REASON};
use super::config::Config;
use super::error::EncodeError;
use super::frame::{MAX_HEADER_LEN, OpCode, encode_header};
use super::mask::apply_mask;
use super::message::MAX_CONTROL_PAYLOAD;
use super::prepared::PreparedMessage;

/// The send half of a WebSocket connection (sans-IO).
///
/// Each `encode_*` call appends one whole frame to the send buffer (or nothing, on error).
/// The transport writes from [`pending`](Self::pending) and reports progress with
/// [`handle_written`](Self::handle_written). Because a frame is complete in the buffer
/// before its first byte is written, an interrupted write never leaves half a frame: the
/// rest goes out with the next write.
///
/// A client masks every frame with a fresh key from a CSPRNG (`StdRng` seeded from the
/// operating system once per encoder), as RFC 6455 §5.3 requires.
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::Role;
/// use nexus_async_net::proto::ws::{Config, Encoder};
///
/// let mut encoder = Encoder::new(Role::Server, &Config::default());
/// encoder.encode_text("hi")?;
/// assert_eq!(encoder.pending(), &[0x81, 0x02, b'h', b'i']);
/// encoder.handle_written(4);
/// assert!(encoder.is_empty());
/// # Ok::<(), nexus_async_net::proto::ws::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct Encoder {
    role: Role,
    buf: WriteBuf,
    rng: Option<StdRng>,
    close_sent: bool,
    /// A fragmented message is being sent: only continuations (and control) may follow.
    fragmenting: bool,
    /// Byte range of the last Pong queued by `encode_pong_coalesced`, while none of it
    /// has been written.
    unsent_pong: Option<(usize, usize)>,
    /// Pongs queued by `encode_pong_coalesced` since the buffer was last empty.
    queued_pongs: usize,
}

/// How many answers to Pings may wait unsent before newer ones replace the last.
pub const MAX_QUEUED_PONGS: usize = 16;

impl Encoder {
    /// An encoder for an endpoint playing `role`, with the buffer size of `config`.
    pub fn new(role: Role, config: &Config) -> Self {
        Self {
            role,
            buf: WriteBuf::new(config.write_buffer_capacity),
            rng: (role == Role::Client).then(mask_rng),
            close_sent: false,
            fragmenting: false,
            unsent_pong: None,
            queued_pongs: 0,
        }
    }

    /// Appends a text message as one frame.
    ///
    /// # Errors
    ///
    /// [`EncodeError::AfterClose`] once a Close was sent;
    /// [`EncodeError::FragmentationOrder`] while a fragmented message is being sent.
    pub fn encode_text(&mut self, text: &str) -> Result<(), EncodeError> {
        self.encode_frame(OpCode::Text, true, text.as_bytes())
    }

    /// Appends a binary message as one frame.
    ///
    /// # Errors
    ///
    /// As [`encode_text`](Self::encode_text).
    pub fn encode_binary(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.encode_frame(OpCode::Binary, true, bytes)
    }

    /// Appends a Ping.
    ///
    /// # Errors
    ///
    /// [`EncodeError::ControlTooLarge`] for more than 125 bytes;
    /// [`EncodeError::AfterClose`] once a Close was sent.
    pub fn encode_ping(&mut self, payload: &[u8]) -> Result<(), EncodeError> {
        self.encode_frame(OpCode::Ping, true, payload)
    }

    /// Appends a Pong.
    ///
    /// # Errors
    ///
    /// As [`encode_ping`](Self::encode_ping).
    pub fn encode_pong(&mut self, payload: &[u8]) -> Result<(), EncodeError> {
        self.encode_frame(OpCode::Pong, true, payload)
    }

    /// Appends a Pong answering a Ping, with a bound on how many wait unsent.
    ///
    /// Up to [`MAX_QUEUED_PONGS`] Pongs appended by this method may wait in the buffer
    /// (every Ping of a short burst gets its answer). Beyond that, the newest Pong replaces
    /// the last one queued if none of it has been written yet, so a ping flood against a
    /// peer that does not read cannot grow the buffer (RFC 6455 §5.5.3 allows answering
    /// only the most recent Ping). The count restarts when the buffer is fully written.
    ///
    /// # Errors
    ///
    /// As [`encode_ping`](Self::encode_ping); on error nothing is removed.
    pub fn encode_pong_coalesced(&mut self, payload: &[u8]) -> Result<(), EncodeError> {
        check_control(payload)?;
        if self.close_sent {
            return Err(EncodeError::AfterClose);
        }
        let mut replaced = false;
        if self.queued_pongs >= MAX_QUEUED_PONGS
            && let Some((start, end)) = self.unsent_pong
            && self.buf.written() <= start
            && end <= self.buf.vec().len()
        {
            self.buf.vec().drain(start..end);
            replaced = true;
        }
        if !replaced {
            self.queued_pongs += 1;
        }
        self.reclaim();
        let start = self.buf.vec().len();
        self.write_frame(OpCode::Pong, true, payload);
        self.unsent_pong = Some((start, self.buf.vec().len()));
        Ok(())
    }

    /// Appends a Close frame with `code` and `reason`; nothing may be sent after it.
    ///
    /// # Errors
    ///
    /// [`EncodeError::InvalidCloseCode`] for a code illegal on the wire (1004–1006, 1015,
    /// unassigned); [`EncodeError::CloseReasonTooLong`] for more than 123 bytes;
    /// [`EncodeError::AfterClose`] if a Close was already sent.
    pub fn encode_close(&mut self, code: CloseCode, reason: &str) -> Result<(), EncodeError> {
        if self.close_sent {
            return Err(EncodeError::AfterClose);
        }
        if !code.is_valid_on_wire() {
            return Err(EncodeError::InvalidCloseCode(code.as_u16()));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(EncodeError::CloseReasonTooLong);
        }
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = 2 + reason.len();
        let (head, tail) = payload.split_at_mut(2);
        head.copy_from_slice(&code.as_u16().to_be_bytes());
        if let Some(r) = tail.get_mut(..reason.len()) {
            r.copy_from_slice(reason.as_bytes());
        }
        self.encode_frame(OpCode::Close, true, payload.get(..len).unwrap_or(&[]))
    }

    /// Appends one frame with an explicit opcode and FIN bit, for sending a message in
    /// fragments: `Text`/`Binary` with `fin = false`, then `Continuation` frames, the last
    /// with `fin = true`. Control frames may be sent between fragments.
    ///
    /// Only framing rules are checked; a text message's UTF-8 is the caller's business
    /// here. A `Close` frame sent this way is not checked for a legal code.
    ///
    /// # Errors
    ///
    /// [`EncodeError::FragmentationOrder`] for a continuation without a message in
    /// progress, a new message inside one, or a control frame with `fin = false`;
    /// [`EncodeError::ControlTooLarge`]; [`EncodeError::AfterClose`].
    pub fn encode_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), EncodeError> {
        if self.close_sent {
            return Err(EncodeError::AfterClose);
        }
        match opcode {
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                check_control(payload)?;
                if !fin {
                    return Err(EncodeError::FragmentationOrder);
                }
                self.close_sent = opcode == OpCode::Close;
            }
            OpCode::Text | OpCode::Binary => {
                if self.fragmenting {
                    return Err(EncodeError::FragmentationOrder);
                }
                self.fragmenting = !fin;
            }
            OpCode::Continuation => {
                if !self.fragmenting {
                    return Err(EncodeError::FragmentationOrder);
                }
                self.fragmenting = !fin;
            }
        }
        self.reclaim();
        self.write_frame(opcode, fin, payload);
        Ok(())
    }

    /// Queues a [`PreparedMessage`]: its frame is appended as it is (no encoding, no
    /// masking).
    ///
    /// # Errors
    ///
    /// [`EncodeError::PreparedOnClient`] on a client; [`EncodeError::FragmentationOrder`]
    /// inside a fragmented message; [`EncodeError::AfterClose`].
    pub fn encode_prepared(&mut self, message: &PreparedMessage) -> Result<(), EncodeError> {
        if self.role == Role::Client {
            return Err(EncodeError::PreparedOnClient);
        }
        if self.close_sent {
            return Err(EncodeError::AfterClose);
        }
        if self.fragmenting {
            return Err(EncodeError::FragmentationOrder);
        }
        self.reclaim();
        self.buf.vec().extend_from_slice(message.frame());
        Ok(())
    }

    /// Encoded bytes not yet written to the transport.
    pub fn pending(&self) -> &[u8] {
        self.buf.pending()
    }

    /// Records that the transport took the first `n` bytes of [`pending`](Self::pending).
    pub fn handle_written(&mut self, n: usize) {
        self.buf.advance(n);
        if self.buf.pending().is_empty() {
            self.unsent_pong = None;
            self.queued_pongs = 0;
        } else if let Some((start, _)) = self.unsent_pong
            && self.buf.written() > start
        {
            self.unsent_pong = None;
        }
    }

    /// Whether everything encoded has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.pending().is_empty()
    }

    /// Whether a Close frame has been encoded.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// The role this encoder plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Drops already written bytes from the front of the buffer when worthwhile.
    fn reclaim(&mut self) {
        let removed = self.buf.reclaim();
        if removed > 0
            && let Some((start, end)) = self.unsent_pong
        {
            self.unsent_pong = start.checked_sub(removed).zip(end.checked_sub(removed));
        }
    }

    fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        let key = self.rng.as_mut().map(|rng| rng.next_u32().to_ne_bytes());
        let out = self.buf.vec();
        out.reserve(MAX_HEADER_LEN + payload.len());
        encode_header(out, fin, opcode, payload.len(), key);
        let start = out.len();
        out.extend_from_slice(payload);
        if let (Some(key), Some(body)) = (key, out.get_mut(start..)) {
            apply_mask(body, key, 0);
        }
    }
}

fn check_control(payload: &[u8]) -> Result<(), EncodeError> {
    if payload.len() > MAX_CONTROL_PAYLOAD {
        return Err(EncodeError::ControlTooLarge);
    }
    Ok(())
}

/// The masking-key generator: seeded from the OS; if the OS source fails, from the
/// standard library's per-process random hasher keys rather than panicking.
fn mask_rng() -> StdRng {
    StdRng::try_from_os_rng().unwrap_or_else(|_| {
        use std::hash::BuildHasher;
        let seed = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        StdRng::seed_from_u64(seed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ws::testing::{Event, binary, decode_chunks, text};
    use crate::proto::ws::{CloseFrame, Control, OwnedMessage};

    fn server() -> Encoder {
        Encoder::new(Role::Server, &Config::default())
    }

    #[test]
    fn a_prepared_message_is_the_same_bytes_as_encoding_it_and_clients_refuse_it() {
        for (prepared, direct) in [
            (PreparedMessage::text("héllo"), {
                let mut e = server();
                e.encode_text("héllo").unwrap();
                e.pending().to_vec()
            }),
            (PreparedMessage::binary(&[7; 70_000]), {
                let mut e = server();
                e.encode_binary(&[7; 70_000]).unwrap();
                e.pending().to_vec()
            }),
        ] {
            let mut e = server();
            e.encode_prepared(&prepared).unwrap();
            e.encode_prepared(&prepared.clone()).unwrap();
            assert_eq!(e.pending(), [direct.clone(), direct].concat());
        }
        let mut client = Encoder::new(Role::Client, &Config::default());
        assert_eq!(
            client.encode_prepared(&PreparedMessage::text("x")),
            Err(EncodeError::PreparedOnClient)
        );
        assert!(client.pending().is_empty());
        let mut e = server();
        e.encode_frame(OpCode::Text, false, b"part").unwrap();
        assert_eq!(
            e.encode_prepared(&PreparedMessage::text("x")),
            Err(EncodeError::FragmentationOrder)
        );
        e.encode_frame(OpCode::Continuation, true, b"end").unwrap();
        e.encode_close(CloseCode::Normal, "").unwrap();
        assert_eq!(
            e.encode_prepared(&PreparedMessage::text("x")),
            Err(EncodeError::AfterClose)
        );
    }

    fn decode(role: Role, bytes: &[u8]) -> Vec<Event> {
        decode_chunks(role, &Config::default(), &[bytes], false)
    }

    #[test]
    fn server_frames_are_unmasked_with_minimal_headers() -> Result<(), EncodeError> {
        let mut e = server();
        e.encode_text("hi")?;
        e.encode_binary(&[1, 2])?;
        e.encode_ping(b"p")?;
        e.encode_pong(b"")?;
        e.encode_close(CloseCode::Normal, "ok")?;
        let expected: &[u8] = &[
            0x81, 2, b'h', b'i', 0x82, 2, 1, 2, 0x89, 1, b'p', 0x8A, 0, 0x88, 4, 0x03, 0xE8, b'o',
            b'k',
        ];
        assert_eq!(e.pending(), expected);
        Ok(())
    }

    #[test]
    fn client_frames_are_masked_and_decode_on_a_server() -> Result<(), EncodeError> {
        let mut e = Encoder::new(Role::Client, &Config::default());
        e.encode_text("hello")?;
        e.encode_text("hello")?;
        let bytes = e.pending().to_vec();
        assert_eq!(bytes[1] & 0x80, 0x80);
        // Two frames of the same text use different keys.
        assert_ne!(bytes[2..11], bytes[13..22]);
        assert_eq!(decode(Role::Server, &bytes), [text("hello"), text("hello")]);
        Ok(())
    }

    #[test]
    fn sends_larger_than_the_buffer_grow_it_then_shrink_back() -> Result<(), EncodeError> {
        let config = Config::default().write_buffer_capacity(1024);
        let mut e = Encoder::new(Role::Client, &config);
        let big = vec![0xAB; 1 << 20];
        e.encode_binary(&big)?;
        assert_eq!(
            decode_chunks(Role::Server, &Config::default(), &[e.pending()], false),
            [binary(&big)]
        );
        let len = e.pending().len();
        e.handle_written(len / 2);
        e.handle_written(len - len / 2);
        assert!(e.is_empty());
        assert!(e.buf.vec().capacity() <= 1024);
        Ok(())
    }

    #[test]
    fn invalid_sends_are_refused_and_append_nothing() {
        let mut e = server();
        assert_eq!(e.encode_ping(&[0; 126]), Err(EncodeError::ControlTooLarge));
        assert_eq!(e.encode_pong(&[0; 126]), Err(EncodeError::ControlTooLarge));
        assert_eq!(
            e.encode_close(CloseCode::Other(1005), ""),
            Err(EncodeError::InvalidCloseCode(1005))
        );
        assert_eq!(
            e.encode_close(CloseCode::Normal, &"r".repeat(124)),
            Err(EncodeError::CloseReasonTooLong)
        );
        assert_eq!(
            e.encode_frame(OpCode::Continuation, true, b""),
            Err(EncodeError::FragmentationOrder)
        );
        assert_eq!(
            e.encode_frame(OpCode::Ping, false, b""),
            Err(EncodeError::FragmentationOrder)
        );
        assert!(e.is_empty());
        assert!(!e.close_sent());
    }

    #[test]
    fn nothing_may_be_sent_after_close() -> Result<(), EncodeError> {
        let mut e = server();
        e.encode_close(CloseCode::Other(4000), &"r".repeat(123))?;
        assert!(e.close_sent());
        let before = e.pending().len();
        assert_eq!(e.encode_text("x"), Err(EncodeError::AfterClose));
        assert_eq!(e.encode_binary(b"x"), Err(EncodeError::AfterClose));
        assert_eq!(e.encode_ping(b""), Err(EncodeError::AfterClose));
        assert_eq!(e.encode_pong(b""), Err(EncodeError::AfterClose));
        assert_eq!(e.encode_pong_coalesced(b""), Err(EncodeError::AfterClose));
        assert_eq!(
            e.encode_close(CloseCode::Normal, ""),
            Err(EncodeError::AfterClose)
        );
        assert_eq!(e.pending().len(), before);
        let reason = "r".repeat(123);
        let expected = OwnedMessage::Close(CloseFrame::new(CloseCode::Other(4000), &reason));
        assert_eq!(decode(Role::Client, e.pending())[0], Event::Msg(expected));
        Ok(())
    }

    #[test]
    fn fragmented_sends_must_follow_the_order() -> Result<(), EncodeError> {
        let mut e = server();
        e.encode_frame(OpCode::Text, false, b"a")?;
        assert_eq!(e.encode_text("b"), Err(EncodeError::FragmentationOrder));
        e.encode_ping(b"between")?;
        e.encode_frame(OpCode::Continuation, false, b"b")?;
        e.encode_frame(OpCode::Continuation, true, b"c")?;
        e.encode_text("d")?;
        let ping = OwnedMessage::Ping(Control::new(b"between").unwrap_or_default());
        assert_eq!(
            decode(Role::Client, e.pending()),
            [Event::Msg(ping), text("abc"), text("d")]
        );
        Ok(())
    }

    #[test]
    fn unsent_pongs_beyond_the_bound_are_coalesced_to_the_latest() -> Result<(), EncodeError> {
        let mut e = server();
        e.encode_text("t")?;
        for i in 0..1000u32 {
            e.encode_pong_coalesced(&i.to_be_bytes())?;
        }
        e.encode_text("u")?;
        e.encode_pong_coalesced(b"last")?;
        let pong = |p: &[u8]| Event::Msg(OwnedMessage::Pong(Control::new(p).unwrap_or_default()));
        let mut expected = vec![text("t")];
        expected.extend((0..15u32).map(|i| pong(&i.to_be_bytes())));
        // The 16th slot held the answer to ping 999 until "last" replaced it; the
        // replacement goes to the end, after "u".
        expected.push(text("u"));
        expected.push(pong(b"last"));
        assert_eq!(decode(Role::Client, e.pending()), expected);
        // A pong partly written stays; the next one is appended after it.
        let len = e.pending().len();
        e.handle_written(len - 1);
        e.encode_pong_coalesced(b"new")?;
        assert_eq!(e.pending().len(), 1 + 2 + 3);
        // Once drained, a burst of pings is answered in full again.
        let len = e.pending().len();
        e.handle_written(len);
        for i in 0..10u8 {
            e.encode_pong_coalesced(&[i])?;
        }
        let all: Vec<Event> = (0..10u8).map(|i| pong(&[i])).collect();
        assert_eq!(decode(Role::Client, e.pending()), all);
        Ok(())
    }

    #[test]
    fn partial_writes_keep_the_byte_stream_intact() -> Result<(), EncodeError> {
        let mut e = Encoder::new(Role::Client, &Config::default().write_buffer_capacity(16));
        let mut wire = Vec::new();
        for i in 0..200u32 {
            e.encode_text(&i.to_string())?;
            let take = e.pending().len().min(3);
            wire.extend_from_slice(&e.pending()[..take]);
            e.handle_written(take);
        }
        wire.extend_from_slice(e.pending());
        let expected: Vec<Event> = (0..200u32).map(|i| text(&i.to_string())).collect();
        assert_eq!(decode(Role::Server, &wire), expected);
        Ok(())
    }
}
