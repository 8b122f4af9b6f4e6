//! What the peer got wrong ([`ProtocolError`]) and what the caller asked for that cannot be
//! sent ([`EncodeError`]).

use super::close::CloseCode;

/// The peer broke RFC 6455 or a configured limit.
///
/// The decoder reports it once and then ends; [`close_code`](Self::close_code) is the code
/// to close the connection with ([`Conn`](super::Conn) sends it by itself).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame had RSV1, RSV2 or RSV3 set, and no extension was negotiated (§5.2).
    #[error("reserved bits set in frame header")]
    ReservedBits,
    /// A frame used a reserved opcode (§5.2).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A server sent a masked frame (§5.1).
    #[error("masked frame from server")]
    MaskedFrameFromServer,
    /// A client sent an unmasked frame (§5.1).
    #[error("unmasked frame from client")]
    UnmaskedFrameFromClient,
    /// A control frame had FIN clear (§5.5).
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A control frame's payload was longer than 125 bytes (§5.5).
    #[error("control frame payload longer than 125 bytes")]
    ControlFrameTooLarge,
    /// A payload length used more bytes than needed (§5.2: the minimal number MUST be used).
    #[error("payload length not minimally encoded")]
    NonMinimalLength,
    /// A 64-bit payload length had its most significant bit set (§5.2).
    #[error("64-bit payload length with the most significant bit set")]
    LengthMsbSet,
    /// A continuation frame arrived with no fragmented message in progress (§5.4).
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text or binary frame arrived before the fragmented message ended (§5.4).
    #[error("new data frame inside a fragmented message")]
    ExpectedContinuation,
    /// A frame was larger than [`Config::max_frame_size`](super::Config::max_frame_size).
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// Payload length announced by the frame header.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// A message was larger than [`Config::max_message_size`](super::Config::max_message_size).
    #[error("message of at least {size} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Size the message would reach with the announced frame.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// A text message was not valid UTF-8 (§8.1).
    #[error("invalid UTF-8 in text message")]
    InvalidUtf8,
    /// A Close frame's reason was not valid UTF-8 (§5.5.1).
    #[error("invalid UTF-8 in close reason")]
    InvalidCloseReason,
    /// A Close frame carried a code that is illegal on the wire (§7.4).
    #[error("close code {0} is not allowed on the wire")]
    InvalidCloseCode(u16),
    /// A Close frame's payload was one byte: too short for a code (§5.5.1).
    #[error("close payload of one byte")]
    ClosePayloadTooShort,
    /// The transport ended in the middle of a frame or a fragmented message.
    #[error("connection ended in the middle of a frame or message")]
    UnexpectedEof,
}

impl ProtocolError {
    /// The close code this error calls for: 1007 for invalid UTF-8, 1009 for exceeded
    /// limits, 1002 for everything else.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::InvalidPayload,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::MessageTooBig,
            _ => CloseCode::ProtocolError,
        }
    }

    /// A short reason for the Close frame sent because of this error.
    pub fn close_reason(&self) -> &'static str {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => "invalid utf-8",
            Self::FrameTooLarge { .. } => "frame too large",
            Self::MessageTooLarge { .. } => "message too large",
            _ => "protocol error",
        }
    }
}

/// A send that cannot be encoded; nothing was appended to the send buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A Ping or Pong payload longer than 125 bytes.
    #[error("control frame payload longer than 125 bytes")]
    ControlTooLarge,
    /// A close reason longer than 123 bytes.
    #[error("close reason longer than 123 bytes")]
    CloseReasonTooLong,
    /// A close code that must not be sent (1004–1006, 1015, unassigned codes).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A Close frame was already sent; nothing more may follow it (§5.5.1).
    #[error("close frame already sent")]
    AfterClose,
    /// A control frame with FIN clear, or a frame breaking the fragmentation order (§5.4):
    /// a continuation with no message in progress, or a new message before the last ended.
    #[error("frame out of fragmentation order")]
    FragmentationOrder,
    /// A [`PreparedMessage`](super::PreparedMessage) (unmasked) was sent by a client,
    /// whose frames must be masked (§5.3).
    #[error("a prepared message is a server frame; a client must mask its frames")]
    PreparedOnClient,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_code_table_maps_utf8_to_1007_limits_to_1009_rest_to_1002() {
        assert_eq!(ProtocolError::InvalidUtf8.close_code().as_u16(), 1007);
        assert_eq!(
            ProtocolError::InvalidCloseReason.close_code().as_u16(),
            1007
        );
        let big = ProtocolError::MessageTooLarge { size: 2, max: 1 };
        assert_eq!(big.close_code().as_u16(), 1009);
        let frame = ProtocolError::FrameTooLarge { size: 2, max: 1 };
        assert_eq!(frame.close_code().as_u16(), 1009);
        assert_eq!(ProtocolError::ReservedBits.close_code().as_u16(), 1002);
        assert_eq!(ProtocolError::UnexpectedEof.close_code().as_u16(), 1002);
    }

    #[test]
    fn errors_are_small_and_thread_safe() {
        fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<ProtocolError>();
        assert_traits::<EncodeError>();
        assert!(std::mem::size_of::<ProtocolError>() <= 24);
        assert!(std::mem::size_of::<EncodeError>() <= 4);
    }
}
