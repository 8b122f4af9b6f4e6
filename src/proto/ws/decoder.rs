//! The receive side: bytes from the peer in, messages out.

use std::mem;

use crate::proto::Role;
use crate::proto::buf::ReadBuf;

use super::close::CloseFrame;
use super::config::Config;
use super::error::ProtocolError;
use super::frame::{MAX_HEADER_LEN, parse_header};
use super::mask::apply_mask;
use super::message::{Control, Message};
use super::utf8::Utf8Validator;

mod payload;

use payload::Progress;

/// What [`Decoder::advance`] (or [`Conn::advance`](super::Conn::advance)) achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Advance {
    /// A message is ready: [`Decoder::message`] returns it until the next `&mut` call.
    Message,
    /// Every buffered byte is used up: read more into [`Decoder::read_buf`].
    NeedInput,
    /// The stream has ended: the peer's Close was delivered, the transport reached EOF
    /// between messages, or a protocol error was reported. Nothing more will come.
    Closed,
}

/// At most this much is offered to one read: the bytes a read brings in are parsed right
/// after it, while they are still in the core's L2 cache. A read that fills a 1 MiB buffer
/// leaves its first half evicted by the time the parser reaches it (at 512 B messages that
/// made us slower than a client doing 128 KiB reads, with fewer instructions).
const MAX_READ: usize = 128 * 1024;

/// Once reads have moved this far into the buffer, a short unparsed tail (a partial frame)
/// is moved back to the front, so reads keep landing on the same, cache-warm bytes instead
/// of walking the whole buffer.
const COMPACT_AFTER: usize = 64 * 1024;

/// The longest tail moved back by the rule above (a memmove of at most this many bytes
/// per read).
const COMPACT_TAIL: usize = 4 * 1024;

/// The receive half of a WebSocket connection (sans-IO).
///
/// Feed it bytes with [`read_buf`](Self::read_buf) + [`handle_read`](Self::handle_read) (or
/// [`handle_input`](Self::handle_input)), then call [`advance`](Self::advance) until it
/// returns [`Advance::NeedInput`]; after each [`Advance::Message`],
/// [`message`](Self::message) returns the message.
///
/// - A data frame that fits the read buffer is unmasked in place and returned as a slice of
///   it (zero copy). Larger frames and fragmented messages are copied into an assembly
///   buffer that grows only as far as [`Config::max_message_size`].
/// - Payloads are unmasked and UTF-8 validated as their bytes arrive, so an invalid text
///   message fails before the rest of it is received.
/// - A protocol error is reported once; the decoder then returns [`Advance::Closed`].
/// - After the peer's Close, later bytes are ignored and `advance` returns `Closed`.
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::Role;
/// use nexus_async_net::proto::ws::{Advance, Config, Decoder, Message};
///
/// let mut decoder = Decoder::new(Role::Client, &Config::default());
/// // An unmasked text frame "hi", as a server sends it.
/// decoder.handle_input(&[0x81, 0x02, b'h', b'i']);
/// assert_eq!(decoder.advance(), Ok(Advance::Message));
/// assert_eq!(decoder.message(), Some(Message::Text("hi")));
/// assert_eq!(decoder.advance(), Ok(Advance::NeedInput));
/// ```
#[derive(Debug)]
pub struct Decoder {
    role: Role,
    max_frame: u64,
    max_message: u64,
    buf: ReadBuf,
    /// Fragmented messages and frames larger than `buf`, unmasked.
    assembly: Vec<u8>,
    state: State,
    /// The kind of the fragmented message in progress, if any.
    fragmented: Option<DataKind>,
    utf8: Utf8Validator,
    ready: Ready,
    /// The payload of the last Ping or Pong (written only for control frames, so a data
    /// message never copies it).
    control: Control,
    eof: bool,
    close_received: Option<Option<CloseFrame>>,
    /// Whole text frames taken by the fast path are not UTF-8 checked by `advance`: the
    /// one check is [`checked_message`](Decoder::checked_message)'s `from_utf8`, which the
    /// caller must treat as the protocol error it reports (crate-private; the `ws`
    /// adapters set it).
    defer_utf8: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataKind {
    Text,
    Binary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InlineKind {
    Data(DataKind),
    Ping,
    Pong,
    Close,
}

/// What the decoder waits for.
#[derive(Clone, Copy, Debug)]
enum State {
    ExpectHeader,
    /// A whole frame in the read buffer: a data frame that fits, or a control frame.
    /// `processed` payload bytes (from the buffer's start) are already unmasked and checked.
    ExpectInline {
        kind: InlineKind,
        mask: Option<[u8; 4]>,
        len: usize,
        processed: usize,
    },
    /// Payload bytes streamed into the assembly buffer as they arrive.
    ExpectStream {
        kind: DataKind,
        fin: bool,
        mask: Option<[u8; 4]>,
        received: usize,
        remaining: u64,
    },
    Closed,
}

/// Where the message made ready by the last `advance` lives. Kept small and `Copy`: it is
/// written and read on every message, so the control payload lives in `Decoder::control`
/// and the Close frame in `Decoder::close_received`.
#[derive(Clone, Copy, Debug)]
enum Ready {
    None,
    /// `len` bytes of the read buffer after its first `head` unconsumed bytes (the frame
    /// header, when the fast path left it there: it and the payload are consumed at once).
    Read {
        kind: DataKind,
        head: u8,
        len: usize,
    },
    Assembly(DataKind),
    Ping,
    Pong,
    Close,
}

/// What kind of message is ready, without building the [`Message`] (which copies a
/// control payload): what the connection layers look at on every message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadyKind {
    Data,
    Ping,
    Pong,
    Close,
}

impl Decoder {
    /// A decoder for an endpoint playing `role`, with the limits of `config`.
    pub fn new(role: Role, config: &Config) -> Self {
        let capacity = config
            .read_buffer_capacity
            .max(super::config::MIN_READ_BUFFER_CAPACITY);
        Self {
            role,
            max_frame: u64::try_from(config.max_frame_size).unwrap_or(u64::MAX),
            max_message: u64::try_from(config.max_message_size).unwrap_or(u64::MAX),
            buf: ReadBuf::new(capacity),
            assembly: Vec::new(),
            state: State::ExpectHeader,
            fragmented: None,
            utf8: Utf8Validator::default(),
            ready: Ready::None,
            control: Control::EMPTY,
            eof: false,
            close_received: None,
            defer_utf8: false,
        }
    }

    /// Spare room to read peer bytes into; commit them with [`handle_read`](Self::handle_read).
    ///
    /// Compacts the buffer first when the frame being received would not fit otherwise. It
    /// is empty only when the buffer is full of bytes that [`advance`](Self::advance) will
    /// make progress on, so calling `advance` until `NeedInput` before reading never
    /// deadlocks. After the stream has ended, bytes written here are discarded.
    pub fn read_buf(&mut self) -> &mut [u8] {
        self.release();
        self.make_room();
        let spare = self.buf.spare();
        let n = spare.len().min(MAX_READ);
        spare.get_mut(..n).unwrap_or_default()
    }

    /// Commits `n` bytes written into [`read_buf`](Self::read_buf).
    pub fn handle_read(&mut self, n: usize) {
        self.release();
        if matches!(self.state, State::Closed) || self.eof {
            self.buf.clear();
        } else {
            self.buf.commit(n);
        }
    }

    /// Copies as much of `bytes` as fits into the read buffer and returns how much; call
    /// [`advance`](Self::advance) to make room for the rest. Used for bytes that arrived
    /// with the handshake, and by tests. After the stream has ended, everything is accepted
    /// and discarded.
    pub fn handle_input(&mut self, bytes: &[u8]) -> usize {
        self.release();
        if matches!(self.state, State::Closed) || self.eof {
            self.buf.clear();
            return bytes.len();
        }
        self.make_room();
        self.buf.append(bytes)
    }

    /// Records that the transport reached end of stream. If that cuts a frame or a
    /// fragmented message short, the next [`advance`](Self::advance) reports
    /// [`ProtocolError::UnexpectedEof`] once, after the complete messages still buffered.
    pub fn handle_eof(&mut self) {
        self.eof = true;
    }

    /// Parses as far as the buffered bytes allow.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the peer broke the protocol or a limit. It is returned once;
    /// every later call returns `Ok(Advance::Closed)`.
    #[inline]
    pub fn advance(&mut self) -> Result<Advance, ProtocolError> {
        self.release();
        if self.whole_frame().is_some() {
            return Ok(Advance::Message);
        }
        let result = self.parse();
        if result.is_err() {
            self.fail();
        }
        result
    }

    /// The message made ready by the last [`advance`](Self::advance) that returned
    /// [`Advance::Message`]; `None` after any other call that takes `&mut self`.
    #[inline]
    pub fn message(&self) -> Option<Message<'_>> {
        // Without deferred UTF-8 `advance` has checked every text message, so the `&str`
        // cannot fail here.
        self.checked_message().ok().flatten()
    }

    /// Leaves the UTF-8 check of whole text frames to
    /// [`checked_message`](Self::checked_message): one pass over the payload instead of
    /// two. The caller must call `checked_message` (not `message`) for every message and
    /// fail the connection with the error it returns.
    pub(crate) fn defer_utf8(&mut self) {
        self.defer_utf8 = true;
    }

    /// As [`message`](Self::message), with the text check that building the `&str` does
    /// anyway reported: [`ProtocolError::InvalidUtf8`] only when UTF-8 checks are
    /// deferred (close the connection with 1007, as `advance` would have).
    #[inline]
    pub(crate) fn checked_message(&self) -> Result<Option<Message<'_>>, ProtocolError> {
        Ok(Some(match self.ready {
            Ready::None => return Ok(None),
            Ready::Read { kind, head, len } => {
                let start = usize::from(head);
                match self.buf.filled().get(start..start + len) {
                    Some(bytes) => data_message(kind, bytes)?,
                    None => return Ok(None),
                }
            }
            Ready::Assembly(kind) => data_message(kind, &self.assembly)?,
            Ready::Ping => Message::Ping(self.control),
            Ready::Pong => Message::Pong(self.control),
            Ready::Close => Message::Close(self.close_received.flatten()),
        }))
    }

    /// The kind of the message [`message`](Self::message) would return, cheaply.
    #[inline]
    pub(crate) fn ready_kind(&self) -> Option<ReadyKind> {
        match self.ready {
            Ready::None => None,
            Ready::Read { .. } | Ready::Assembly(_) => Some(ReadyKind::Data),
            Ready::Ping => Some(ReadyKind::Ping),
            Ready::Pong => Some(ReadyKind::Pong),
            Ready::Close => Some(ReadyKind::Close),
        }
    }

    /// The payload of the Ping or Pong made ready last (meaningful only then).
    pub(crate) fn control(&self) -> &Control {
        &self.control
    }

    /// Whether the stream has ended (peer Close, EOF or protocol error).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// The peer's Close, once received: `Some(None)` if it carried no code.
    pub fn close_received(&self) -> Option<Option<CloseFrame>> {
        self.close_received
    }

    /// Bytes received and not parsed yet.
    pub fn buffered(&self) -> usize {
        match self.ready {
            Ready::Read { head, len, .. } => self.buf.len().saturating_sub(usize::from(head) + len),
            _ => self.buf.len(),
        }
    }

    /// The role this decoder plays.
    pub fn role(&self) -> Role {
        self.role
    }

    #[cfg(test)]
    pub(crate) fn defers_utf8(&self) -> bool {
        self.defer_utf8
    }

    #[cfg(test)]
    pub(crate) fn assembly_capacity(&self) -> usize {
        self.assembly.capacity()
    }

    /// Frees what the previously delivered message occupied.
    #[inline]
    fn release(&mut self) {
        match mem::replace(&mut self.ready, Ready::None) {
            Ready::Read { head, len, .. } => self.buf.consume(usize::from(head) + len),
            Ready::Assembly(_) => {
                self.assembly.clear();
                // Keep the memory of ordinary fragmented messages (no allocation in steady
                // state) but give back what an unusually large one took.
                if self.assembly.capacity() > self.buf.capacity() {
                    self.assembly.shrink_to(self.buf.capacity());
                }
            }
            _ => {}
        }
    }

    fn make_room(&mut self) {
        if matches!(self.state, State::Closed) {
            self.buf.clear();
            return;
        }
        // Bytes that must sit contiguously from the buffer's start.
        let need = match self.state {
            State::ExpectHeader => MAX_HEADER_LEN,
            State::ExpectInline { len, .. } => len,
            _ => 0,
        };
        let start = self.buf.start();
        if start > 0
            && (self.buf.spare().is_empty()
                || start.saturating_add(need) > self.buf.capacity()
                || (start >= COMPACT_AFTER && self.buf.len() <= COMPACT_TAIL))
        {
            self.buf.compact();
        }
    }

    /// The one parse path for every frame [`whole_frame`](Self::whole_frame) declines:
    /// `parse_header` (which reports every header error), then
    /// [`start_frame`](Self::start_frame) (message state and limits) and
    /// [`poll_payload`](Self::poll_payload) (the payload, in the read buffer or the
    /// assembly buffer), until a message is ready or the bytes run out.
    fn parse(&mut self) -> Result<Advance, ProtocolError> {
        loop {
            if matches!(self.state, State::ExpectHeader) {
                let Some((header, header_len)) = parse_header(self.role, self.buf.filled())? else {
                    return self.need_input();
                };
                self.buf.consume(header_len);
                self.start_frame(header)?;
            }
            match self.poll_payload()? {
                Progress::Message => return Ok(Advance::Message),
                Progress::FrameDone => {}
                Progress::NeedInput => return self.need_input(),
                Progress::Closed => return Ok(Advance::Closed),
            }
        }
    }

    /// A final, unfragmented Text or Binary frame with a 7- or 16-bit length, the mask bit
    /// our role expects and its whole payload buffered, read from the raw header bytes and
    /// made ready in the read buffer, header included (`release` consumes both). Such a
    /// header is legal by construction (FIN set, RSV clear, a data opcode), so
    /// `parse_header` has nothing to reject; anything else, a non-minimal length, a limit,
    /// or invalid UTF-8 returns `None` with nothing changed, and [`parse`](Self::parse)
    /// takes the frame and reports the error.
    ///
    /// Kept as a path of its own because it pays: with every frame through `parse`, a
    /// 40-byte binary message costs 317-356 instructions instead of 240 (callgrind; the
    /// numbers are in docs/performance.md, "the decoder's parse path").
    #[inline]
    fn whole_frame(&mut self) -> Option<()> {
        if !matches!(self.state, State::ExpectHeader) || self.fragmented.is_some() {
            return None;
        }
        let filled = self.buf.filled();
        let &[b0, b1] = filled.first_chunk::<2>()?;
        let kind = match b0 {
            0x81 => DataKind::Text,
            0x82 => DataKind::Binary,
            _ => return None,
        };
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return None;
        }
        let (len, mut header_len) = match b1 & 0x7F {
            126 => {
                let &[_, _, hi, lo] = filled.first_chunk::<4>()?;
                let len = u16::from_be_bytes([hi, lo]);
                if len < 126 {
                    return None;
                }
                (usize::from(len), 4u8)
            }
            127 => return None,
            len7 => (usize::from(len7), 2),
        };
        let mask = if masked {
            let key = *filled.get(usize::from(header_len)..)?.first_chunk::<4>()?;
            header_len += 4;
            Some(key)
        } else {
            None
        };
        let start = usize::from(header_len);
        let wire_len = u64::try_from(len).ok()?;
        if filled.len() - start < len || wire_len > self.max_frame || wire_len > self.max_message {
            return None;
        }
        let payload = self.buf.filled_mut().get_mut(start..start + len)?;
        if let Some(key) = mask {
            apply_mask(payload, key, 0);
        }
        if kind == DataKind::Text && !self.defer_utf8 && !is_utf8(payload) {
            // Leave the frame as it was for `parse`, which reports the error.
            if let Some(key) = mask {
                apply_mask(payload, key, 0);
            }
            return None;
        }
        // The header and the payload are consumed by `release` once the caller is done
        // with the message.
        self.ready = Ready::Read {
            kind,
            head: header_len,
            len,
        };
        Some(())
    }

    /// Everything buffered is used: wait for more, or end the stream at EOF.
    fn need_input(&mut self) -> Result<Advance, ProtocolError> {
        if !self.eof {
            return Ok(Advance::NeedInput);
        }
        let between_messages = matches!(self.state, State::ExpectHeader)
            && self.buf.len() == 0
            && self.fragmented.is_none();
        self.state = State::Closed;
        if between_messages {
            Ok(Advance::Closed)
        } else {
            Err(ProtocolError::UnexpectedEof)
        }
    }

    /// Ends the stream after a protocol error: nothing more is parsed or kept.
    #[cold]
    fn fail(&mut self) {
        self.state = State::Closed;
        self.buf.clear();
        self.assembly = Vec::new();
        self.fragmented = None;
    }
}

/// One validation pass for a whole text frame. Short ASCII (the usual JSON feed) is checked
/// with `is_ascii`, several times cheaper than a UTF-8 check there (below 64 bytes simdutf8
/// falls back to the scalar `core::str::from_utf8`); at 512 bytes simdutf8's SIMD path is
/// the cheaper one (callgrind: `is_ascii` first wins at 40 and 128 B, loses at 512 B).
#[inline]
fn is_utf8(bytes: &[u8]) -> bool {
    if bytes.len() < 256 && bytes.is_ascii() {
        return true;
    }
    simdutf8::basic::from_utf8(bytes).is_ok()
}

#[inline]
fn data_message(kind: DataKind, bytes: &[u8]) -> Result<Message<'_>, ProtocolError> {
    Ok(match kind {
        // Building a `&str` without `unsafe` needs this check. With deferred UTF-8 it is
        // the only one for a whole frame; otherwise `advance` checked first (with
        // `is_ascii` for short ASCII). `basic`: no error position is needed.
        DataKind::Text => Message::Text(
            simdutf8::basic::from_utf8(bytes).map_err(|_| ProtocolError::InvalidUtf8)?,
        ),
        DataKind::Binary => Message::Binary(bytes),
    })
}
