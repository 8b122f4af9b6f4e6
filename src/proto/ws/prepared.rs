//! [`PreparedMessage`]: a data message encoded once, sent to many connections.

use std::sync::Arc;

use super::frame::{MAX_HEADER_LEN, OpCode, encode_header};

/// A text or binary message framed once as a server frame (unmasked, FIN set), to send
/// to any number of connections without encoding it again: one encoding, one
/// allocation, shared by reference count. Cloning is a reference-count increment.
///
/// Only a server can send it: a client's frames must be masked with a fresh key each
/// ([`EncodeError::PreparedOnClient`](super::EncodeError::PreparedOnClient)).
///
/// ```
/// use nexus_async_net::proto::ws::PreparedMessage;
///
/// let trade = PreparedMessage::text(r#"{"px":"64000.5","qty":"0.01"}"#);
/// assert_eq!(trade.payload_len(), 29);
/// assert_eq!(&trade.frame()[..2], &[0x81, 29]); // FIN + text, unmasked length 29
/// let for_another = trade.clone(); // no copy of the bytes
/// # drop(for_another);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedMessage {
    frame: Arc<[u8]>,
    payload_len: usize,
}

impl std::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("frame_len", &self.frame.len())
            .field("payload_len", &self.payload_len)
            .finish()
    }
}

impl PreparedMessage {
    /// A text message.
    pub fn text(text: &str) -> Self {
        Self::new(OpCode::Text, text.as_bytes())
    }

    /// A binary message.
    pub fn binary(data: &[u8]) -> Self {
        Self::new(OpCode::Binary, data)
    }

    fn new(opcode: OpCode, payload: &[u8]) -> Self {
        let mut frame = Vec::with_capacity(MAX_HEADER_LEN + payload.len());
        encode_header(&mut frame, true, opcode, payload.len(), None);
        frame.extend_from_slice(payload);
        Self {
            frame: frame.into(),
            payload_len: payload.len(),
        }
    }

    /// The whole frame: header and payload, as it goes on the wire.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// The payload's length.
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// Whether two handles share one encoding.
    pub fn shares_frame_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.frame, &other.frame)
    }
}
