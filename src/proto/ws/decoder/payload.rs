//! The decoder's general path after `parse_header` (`Decoder::parse` in the parent): a
//! header checked against the message state and limits (`start_frame`), then its payload,
//! received in the read buffer (`State::ExpectInline`: control frames and data frames that
//! fit it) or streamed into the assembly buffer (`State::ExpectStream`: fragments and
//! frames larger than the read buffer). Also the Close payload's parse, which only the
//! receive side needs (here, so that `close.rs` does not depend on `error.rs`).

use crate::proto::reader::Reader;

use super::super::close::{CloseCode, CloseFrame};
use super::super::error::ProtocolError;
use super::super::frame::{FrameHeader, OpCode};
use super::super::mask::apply_mask;
use super::super::message::Control;
use super::super::utf8::InvalidUtf8;
use super::{DataKind, Decoder, InlineKind, Ready, State};

/// What [`Decoder::poll_payload`] achieved.
pub(super) enum Progress {
    /// A message is ready.
    Message,
    /// A non-final fragment is complete: the next header follows.
    FrameDone,
    /// Every buffered byte is used.
    NeedInput,
    /// The stream has ended.
    Closed,
}

impl Decoder {
    /// Continues the frame in progress (any state but `ExpectHeader`).
    pub(super) fn poll_payload(&mut self) -> Result<Progress, ProtocolError> {
        match self.state {
            State::Closed => Ok(Progress::Closed),
            State::ExpectHeader => Ok(Progress::FrameDone),
            State::ExpectInline { .. } => Ok(if self.poll_inline()? {
                Progress::Message
            } else {
                Progress::NeedInput
            }),
            State::ExpectStream { .. } => self.poll_stream(),
        }
    }

    /// Checks a parsed header against the message state and limits, before allocating.
    pub(super) fn start_frame(&mut self, header: FrameHeader) -> Result<(), ProtocolError> {
        let FrameHeader {
            fin,
            opcode,
            mask,
            len,
        } = header;
        if len > self.max_frame {
            return Err(ProtocolError::FrameTooLarge {
                size: len,
                max: self.max_frame,
            });
        }
        let kind = match opcode {
            OpCode::Continuation => {
                let kind = self
                    .fragmented
                    .ok_or(ProtocolError::UnexpectedContinuation)?;
                self.check_message_size(len)?;
                self.state = stream(kind, fin, mask, len);
                if fin {
                    self.fragmented = None;
                }
                return Ok(());
            }
            OpCode::Text | OpCode::Binary if self.fragmented.is_some() => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            OpCode::Text => InlineKind::Data(DataKind::Text),
            OpCode::Binary => InlineKind::Data(DataKind::Binary),
            OpCode::Close => InlineKind::Close,
            OpCode::Ping => InlineKind::Ping,
            OpCode::Pong => InlineKind::Pong,
        };
        let inline_len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= self.buf.capacity());
        if let InlineKind::Data(data) = kind {
            self.check_message_size(len)?;
            self.utf8.reset();
            if !fin {
                self.fragmented = Some(data);
            }
            if !fin || inline_len.is_none() {
                self.state = stream(data, fin, mask, len);
                return Ok(());
            }
        }
        // Control frames are at most 125 bytes (checked by `parse_header`), and the read
        // buffer holds at least 256, so they always fit.
        let len = inline_len.ok_or(ProtocolError::ControlFrameTooLarge)?;
        self.state = State::ExpectInline {
            kind,
            mask,
            len,
            processed: 0,
        };
        Ok(())
    }

    fn check_message_size(&self, frame_len: u64) -> Result<(), ProtocolError> {
        let so_far = u64::try_from(self.assembly.len()).unwrap_or(u64::MAX);
        let size = so_far.saturating_add(frame_len);
        if size > self.max_message {
            return Err(ProtocolError::MessageTooLarge {
                size,
                max: self.max_message,
            });
        }
        Ok(())
    }

    /// Unmasks and checks newly arrived bytes of an inline frame; `true` once complete.
    fn poll_inline(&mut self) -> Result<bool, ProtocolError> {
        let State::ExpectInline {
            kind,
            mask,
            len,
            processed,
        } = self.state
        else {
            return Ok(false);
        };
        let avail = self.buf.len().min(len);
        if avail > processed {
            if let (Some(key), Some(new)) = (mask, self.buf.filled_mut().get_mut(processed..avail))
            {
                apply_mask(new, key, processed);
            }
            if kind == InlineKind::Data(DataKind::Text) && avail < len {
                let so_far = self.buf.filled().get(..avail).unwrap_or(&[]);
                self.utf8.feed(so_far).map_err(utf8_error)?;
            }
            self.state = State::ExpectInline {
                kind,
                mask,
                len,
                processed: avail,
            };
        }
        if avail < len {
            return Ok(false);
        }
        self.state = State::ExpectHeader;
        let payload = self.buf.filled().get(..len).unwrap_or(&[]);
        self.ready = match kind {
            InlineKind::Data(data) => {
                if data == DataKind::Text {
                    self.utf8.finish(payload).map_err(utf8_error)?;
                }
                // Consumed by `release` once the caller is done with the message.
                Ready::Read {
                    kind: data,
                    head: 0,
                    len,
                }
            }
            InlineKind::Ping | InlineKind::Pong => {
                self.control = Control::new(payload).ok_or(ProtocolError::ControlFrameTooLarge)?;
                self.buf.consume(len);
                if kind == InlineKind::Ping {
                    Ready::Ping
                } else {
                    Ready::Pong
                }
            }
            InlineKind::Close => {
                let frame = parse_close_payload(payload)?;
                // Nothing after a Close is processed (RFC 6455 §5.5.1).
                self.buf.clear();
                self.assembly = Vec::new();
                self.fragmented = None;
                self.state = State::Closed;
                self.close_received = Some(frame);
                Ready::Close
            }
        };
        Ok(true)
    }

    /// Moves newly arrived payload bytes into the assembly buffer.
    fn poll_stream(&mut self) -> Result<Progress, ProtocolError> {
        let State::ExpectStream {
            kind,
            fin,
            mask,
            received,
            remaining,
        } = self.state
        else {
            return Ok(Progress::NeedInput);
        };
        let take = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        let left = remaining.saturating_sub(u64::try_from(take).unwrap_or(u64::MAX));
        if take > 0 {
            self.reserve(take);
            let start = self.assembly.len();
            self.assembly
                .extend_from_slice(self.buf.filled().get(..take).unwrap_or(&[]));
            self.buf.consume(take);
            if let (Some(key), Some(new)) = (mask, self.assembly.get_mut(start..)) {
                apply_mask(new, key, received);
            }
            if kind == DataKind::Text {
                self.utf8.feed(&self.assembly).map_err(utf8_error)?;
            }
            self.state = State::ExpectStream {
                kind,
                fin,
                mask,
                received: received.saturating_add(take),
                remaining: left,
            };
        }
        if left > 0 {
            return Ok(Progress::NeedInput);
        }
        self.state = State::ExpectHeader;
        if !fin {
            return Ok(Progress::FrameDone);
        }
        if kind == DataKind::Text {
            self.utf8.finish(&self.assembly).map_err(utf8_error)?;
        }
        self.ready = Ready::Assembly(kind);
        Ok(Progress::Message)
    }

    /// Grows the assembly buffer geometrically (linear total copying) but never past the
    /// message limit, which the frame headers were already checked against.
    fn reserve(&mut self, additional: usize) {
        let len = self.assembly.len();
        let needed = len.saturating_add(additional);
        if needed <= self.assembly.capacity() {
            return;
        }
        let limit = usize::try_from(self.max_message).unwrap_or(usize::MAX);
        let target = self
            .assembly
            .capacity()
            .saturating_mul(2)
            .max(needed)
            .min(limit)
            .max(needed);
        self.assembly.reserve_exact(target - len);
    }
}

fn stream(kind: DataKind, fin: bool, mask: Option<[u8; 4]>, len: u64) -> State {
    State::ExpectStream {
        kind,
        fin,
        mask,
        received: 0,
        remaining: len,
    }
}

fn utf8_error(_: InvalidUtf8) -> ProtocolError {
    ProtocolError::InvalidUtf8
}

/// Parses a received Close payload (RFC 6455 §5.5.1): empty, or a legal code and a UTF-8
/// reason.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    let mut r = Reader::new(payload);
    let Some(code) = r.u16_be() else {
        return if payload.is_empty() {
            Ok(None)
        } else {
            Err(ProtocolError::ClosePayloadTooShort)
        };
    };
    let code = CloseCode::from(code);
    if !code.is_valid_on_wire() {
        return Err(ProtocolError::InvalidCloseCode(code.as_u16()));
    }
    let reason =
        simdutf8::basic::from_utf8(r.rest()).map_err(|_| ProtocolError::InvalidCloseReason)?;
    // A control payload is at most 125 bytes, so the reason is at most 123.
    CloseFrame::new(code, reason)
        .map(Some)
        .ok_or(ProtocolError::ControlFrameTooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_payload_parsing_checks_length_code_and_reason() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
        assert_eq!(
            parse_close_payload(&[0x03]),
            Err(ProtocolError::ClosePayloadTooShort)
        );
        assert_eq!(
            parse_close_payload(&[0x03, 0xED]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            parse_close_payload(&[0x03, 0xE8, 0xFF]),
            Err(ProtocolError::InvalidCloseReason)
        );
        let ok = parse_close_payload(&[0x03, 0xE8, b'o', b'k']);
        assert_eq!(ok, Ok(CloseFrame::new(CloseCode::Normal, "ok")));
    }
}
