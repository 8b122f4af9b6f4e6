//! Messages as the application sees them.

use std::fmt;
use std::ops::Deref;

use super::close::CloseFrame;

/// Largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A Ping or Pong payload (at most 125 bytes), stored inline.
///
/// It is `Copy` and borrows nothing, so `Message::Ping(data) => ws.send_pong(&data)` passes
/// the borrow checker while the stream is borrowed again.
#[derive(Clone, Copy)]
pub struct Control {
    len: u8,
    data: [u8; MAX_CONTROL_PAYLOAD],
}

impl Control {
    /// An empty payload.
    pub const EMPTY: Self = Self {
        len: 0,
        data: [0; MAX_CONTROL_PAYLOAD],
    };

    /// Copies `payload`, or returns `None` if it is longer than 125 bytes.
    pub fn new(payload: &[u8]) -> Option<Self> {
        let len = u8::try_from(payload.len())
            .ok()
            .filter(|&n| usize::from(n) <= MAX_CONTROL_PAYLOAD)?;
        let mut data = [0; MAX_CONTROL_PAYLOAD];
        data.get_mut(..payload.len())?.copy_from_slice(payload);
        Some(Self { len, data })
    }

    /// The payload bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Default for Control {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl Deref for Control {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for Control {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Control").field(&self.as_bytes()).finish()
    }
}

impl PartialEq for Control {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Control {}

/// A received message.
///
/// `Text` and `Binary` borrow the decoder's buffer (zero copy); the control variants are
/// inline and `Copy`. RFC 6455 has exactly these five kinds, so the enum is exhaustive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_enums,
    reason = "RFC 6455 defines exactly these kinds"
)]
pub enum Message<'a> {
    /// A complete text message, valid UTF-8.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A Ping; the peer expects a Pong with the same payload.
    Ping(Control),
    /// A Pong.
    Pong(Control),
    /// The peer's Close: `None` when it carried no status code.
    Close(Option<CloseFrame>),
}

impl Message<'_> {
    /// The payload bytes (for `Close`, the reason).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) => b,
            Self::Ping(c) | Self::Pong(c) => c.as_bytes(),
            Self::Close(Some(frame)) => frame.reason().as_bytes(),
            Self::Close(None) => &[],
        }
    }

    /// Copies the message out of the decoder's buffer.
    pub fn into_owned(self) -> OwnedMessage {
        match self {
            Self::Text(s) => OwnedMessage::Text(s.to_owned()),
            Self::Binary(b) => OwnedMessage::Binary(b.to_vec()),
            Self::Ping(c) => OwnedMessage::Ping(c),
            Self::Pong(c) => OwnedMessage::Pong(c),
            Self::Close(c) => OwnedMessage::Close(c),
        }
    }
}

/// A message that owns its payload, for keeping past the next receive.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_enums,
    reason = "RFC 6455 defines exactly these kinds"
)]
pub enum OwnedMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A Ping.
    Ping(Control),
    /// A Pong.
    Pong(Control),
    /// A Close, with its code and reason if it had one.
    Close(Option<CloseFrame>),
}

impl OwnedMessage {
    /// Borrows the message as a [`Message`].
    pub fn as_message(&self) -> Message<'_> {
        match self {
            Self::Text(s) => Message::Text(s),
            Self::Binary(b) => Message::Binary(b),
            Self::Ping(c) => Message::Ping(*c),
            Self::Pong(c) => Message::Pong(*c),
            Self::Close(c) => Message::Close(*c),
        }
    }
}

impl From<Message<'_>> for OwnedMessage {
    fn from(message: Message<'_>) -> Self {
        message.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ws::CloseCode;

    #[test]
    fn control_holds_at_most_125_bytes() {
        assert_eq!(Control::new(&[1; 125]).map(|c| c.len()), Some(125));
        assert!(Control::new(&[1; 126]).is_none());
        assert_eq!(&*Control::new(b"hi").unwrap_or_default(), b"hi");
    }

    #[test]
    fn owned_message_round_trips_through_message() {
        let close = CloseFrame::new(CloseCode::Normal, "done");
        let all = [
            OwnedMessage::Text("héllo".into()),
            OwnedMessage::Binary(vec![0, 1, 2]),
            OwnedMessage::Ping(Control::new(b"p").unwrap_or_default()),
            OwnedMessage::Pong(Control::EMPTY),
            OwnedMessage::Close(close),
            OwnedMessage::Close(None),
        ];
        for m in all {
            assert_eq!(m.as_message().into_owned(), m);
        }
        assert_eq!(Message::Close(close).as_bytes(), b"done");
    }
}
