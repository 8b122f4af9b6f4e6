//! Frame header parse and encode (RFC 6455 §5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use crate::proto::Role;
use crate::proto::reader::Reader;

use super::error::ProtocolError;
use super::message::MAX_CONTROL_PAYLOAD;

/// Longest possible header: 2 + 8 (64-bit length) + 4 (mask key).
pub(crate) const MAX_HEADER_LEN: usize = 14;

/// A frame's opcode (RFC 6455 §5.2); reserved opcodes are a [`ProtocolError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "the other opcodes are reserved by RFC 6455"
)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: first (or only) frame of a text message.
    Text,
    /// 0x2: first (or only) frame of a binary message.
    Binary,
    /// 0x8: Close.
    Close,
    /// 0x9: Ping.
    Ping,
    /// 0xA: Pong.
    Pong,
}

impl OpCode {
    /// Whether this is a control opcode (Close, Ping, Pong).
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    #[inline]
    fn from_u8(bits: u8) -> Result<Self, ProtocolError> {
        Ok(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub(crate) fin: bool,
    pub(crate) opcode: OpCode,
    pub(crate) mask: Option<[u8; 4]>,
    pub(crate) len: u64,
}

/// Parses one frame header from the front of `bytes`.
///
/// Returns `Ok(None)` when more bytes are needed, or the header and its length. Everything
/// that can be judged from the header alone is checked here, as early as the bytes allow:
/// reserved bits, reserved opcodes, control-frame rules, masking by role, minimal lengths.
#[inline]
pub(crate) fn parse_header(
    role: Role,
    bytes: &[u8],
) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
    let mut r = Reader::new(bytes);
    let (Some(b0), Some(b1)) = (r.u8(), r.u8()) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(ProtocolError::ReservedBits);
    }
    let fin = b0 & 0x80 != 0;
    let opcode = OpCode::from_u8(b0 & 0x0F)?;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7F;
    if opcode.is_control() {
        if !fin {
            return Err(ProtocolError::FragmentedControlFrame);
        }
        if usize::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(ProtocolError::ControlFrameTooLarge);
        }
    }
    match (role, masked) {
        (Role::Server, false) => return Err(ProtocolError::UnmaskedFrameFromClient),
        (Role::Client, true) => return Err(ProtocolError::MaskedFrameFromServer),
        _ => {}
    }
    let len = match len7 {
        126 => match r.u16_be() {
            None => return Ok(None),
            Some(n) if n < 126 => return Err(ProtocolError::NonMinimalLength),
            Some(n) => u64::from(n),
        },
        127 => match r.u64_be() {
            None => return Ok(None),
            Some(n) if n >> 63 != 0 => return Err(ProtocolError::LengthMsbSet),
            Some(n) if n <= u64::from(u16::MAX) => return Err(ProtocolError::NonMinimalLength),
            Some(n) => n,
        },
        n => u64::from(n),
    };
    let mask = if masked {
        match r.array::<4>() {
            None => return Ok(None),
            Some(key) => Some(key),
        }
    } else {
        None
    };
    let header = FrameHeader {
        fin,
        opcode,
        mask,
        len,
    };
    Ok(Some((header, r.position())))
}

/// Appends a frame header to `out`, with the minimal length encoding.
pub(crate) fn encode_header(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: OpCode,
    len: usize,
    mask: Option<[u8; 4]>,
) {
    let b0 = if fin { 0x80 } else { 0 } | opcode.as_u8();
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    if let Ok(small) = u8::try_from(len)
        && small < 126
    {
        out.extend_from_slice(&[b0, mask_bit | small]);
    } else if let Ok(medium) = u16::try_from(len) {
        out.extend_from_slice(&[b0, mask_bit | 126]);
        out.extend_from_slice(&medium.to_be_bytes());
    } else {
        out.extend_from_slice(&[b0, mask_bit | 127]);
        // usize is at most 64 bits on every supported target.
        out.extend_from_slice(&u64::try_from(len).unwrap_or(u64::MAX).to_be_bytes());
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(role: Role, bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        parse_header(role, bytes)
    }

    #[test]
    fn lengths_use_7_16_and_64_bits() {
        for (len, header_len) in [(0usize, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let mut out = Vec::new();
            encode_header(&mut out, true, OpCode::Binary, len, None);
            assert_eq!(out.len(), header_len);
            let parsed = parse(Role::Client, &out);
            let expected = FrameHeader {
                fin: true,
                opcode: OpCode::Binary,
                mask: None,
                len: len as u64,
            };
            assert_eq!(parsed, Ok(Some((expected, header_len))));
            // Every prefix is "need more".
            for cut in 0..header_len {
                assert_eq!(parse(Role::Client, &out[..cut]), Ok(None));
            }
        }
    }

    #[test]
    fn mask_key_is_parsed_for_server_role() {
        let mut out = Vec::new();
        encode_header(&mut out, false, OpCode::Text, 3, Some([1, 2, 3, 4]));
        let (h, n) = parse(Role::Server, &out)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!());
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.len, n),
            (false, OpCode::Text, Some([1, 2, 3, 4]), 3, 6)
        );
    }

    #[test]
    fn header_violations_are_rejected() {
        use ProtocolError::*;
        let cases: &[(Role, &[u8], ProtocolError)] = &[
            (Role::Client, &[0xC1, 0x00], ReservedBits),
            (Role::Client, &[0xA1, 0x00], ReservedBits),
            (Role::Client, &[0x91, 0x00], ReservedBits),
            (Role::Client, &[0x83, 0x00], ReservedOpcode(3)),
            (Role::Client, &[0x8B, 0x00], ReservedOpcode(0xB)),
            (Role::Client, &[0x09, 0x00], FragmentedControlFrame),
            (
                Role::Client,
                &[0x89, 0x7E, 0x00, 0x7E],
                ControlFrameTooLarge,
            ),
            (
                Role::Client,
                &[0x81, 0x80, 1, 2, 3, 4],
                MaskedFrameFromServer,
            ),
            (Role::Server, &[0x81, 0x00], UnmaskedFrameFromClient),
            (Role::Client, &[0x82, 0x7E, 0x00, 0x7D], NonMinimalLength),
            (
                Role::Client,
                &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF],
                NonMinimalLength,
            ),
            (
                Role::Client,
                &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
                LengthMsbSet,
            ),
        ];
        for (role, bytes, err) in cases {
            assert_eq!(parse(*role, bytes), Err(err.clone()), "{bytes:x?}");
        }
    }

    #[test]
    fn all_opcodes_parse() {
        for op in [
            OpCode::Continuation,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ] {
            let parsed = parse(Role::Client, &[0x80 | op.as_u8(), 0]);
            assert_eq!(parsed.ok().flatten().map(|(h, _)| h.opcode), Some(op));
        }
    }
}
