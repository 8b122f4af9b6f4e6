//! Close codes (RFC 6455 §7.4) and the Close frame payload.

use std::fmt;

/// Longest close reason: a control payload is at most 125 bytes, two of them the code.
pub const MAX_CLOSE_REASON: usize = 123;

/// A close status code (RFC 6455 §7.4.1, IANA registry).
///
/// Codes compare by their numeric value, so `CloseCode::Other(1000) == CloseCode::Normal`.
#[derive(Clone, Copy, Debug)]
pub enum CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    Normal,
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    GoingAway,
    /// 1002: the peer broke the protocol.
    ProtocolError,
    /// 1003: the endpoint cannot accept this kind of data.
    Unsupported,
    /// 1007: a message's data was inconsistent with its type (e.g. invalid UTF-8 text).
    InvalidPayload,
    /// 1008: a message violated the endpoint's policy.
    PolicyViolation,
    /// 1009: a message was too big to process.
    MessageTooBig,
    /// 1010: the client expected an extension the server did not negotiate.
    MandatoryExtension,
    /// 1011: the server hit an unexpected condition.
    InternalError,
    /// 1012: the service is restarting.
    ServiceRestart,
    /// 1013: try again later (temporary overload).
    TryAgainLater,
    /// 1014: a gateway or proxy got an invalid response upstream.
    BadGateway,
    /// Any other code, legal on the wire or not (see [`is_valid_on_wire`](Self::is_valid_on_wire)).
    Other(u16),
}

impl CloseCode {
    /// The numeric code.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::Normal => 1000,
            Self::GoingAway => 1001,
            Self::ProtocolError => 1002,
            Self::Unsupported => 1003,
            Self::InvalidPayload => 1007,
            Self::PolicyViolation => 1008,
            Self::MessageTooBig => 1009,
            Self::MandatoryExtension => 1010,
            Self::InternalError => 1011,
            Self::ServiceRestart => 1012,
            Self::TryAgainLater => 1013,
            Self::BadGateway => 1014,
            Self::Other(code) => code,
        }
    }

    /// Whether an endpoint may send this code in a Close frame.
    ///
    /// Legal: 1000–1003, 1007–1014 (IANA-registered) and 3000–4999 (libraries and
    /// applications). 1004 is reserved, 1005/1006/1015 are for local reporting only, and
    /// everything else below 3000 is unassigned.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.as_u16(), 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        match code {
            1000 => Self::Normal,
            1001 => Self::GoingAway,
            1002 => Self::ProtocolError,
            1003 => Self::Unsupported,
            1007 => Self::InvalidPayload,
            1008 => Self::PolicyViolation,
            1009 => Self::MessageTooBig,
            1010 => Self::MandatoryExtension,
            1011 => Self::InternalError,
            1012 => Self::ServiceRestart,
            1013 => Self::TryAgainLater,
            1014 => Self::BadGateway,
            other => Self::Other(other),
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.as_u16()
    }
}

impl PartialEq for CloseCode {
    fn eq(&self, other: &Self) -> bool {
        self.as_u16() == other.as_u16()
    }
}

impl Eq for CloseCode {}

impl std::hash::Hash for CloseCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_u16().hash(state);
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u16())
    }
}

/// The payload of a Close frame: a code and a UTF-8 reason of at most 123 bytes, inline.
///
/// It is `Copy`, so a received Close can be kept or echoed without borrowing the stream.
#[derive(Clone, Copy)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    reason_len: u8,
    reason: [u8; MAX_CLOSE_REASON],
}

impl CloseFrame {
    /// A close frame with `code` and `reason`, or `None` if `reason` is longer than 123 bytes.
    ///
    /// The code is not checked here; [`Encoder::encode_close`](super::Encoder::encode_close)
    /// refuses codes that are illegal on the wire.
    pub fn new(code: CloseCode, reason: &str) -> Option<Self> {
        let bytes = reason.as_bytes();
        let reason_len = u8::try_from(bytes.len())
            .ok()
            .filter(|&n| usize::from(n) <= MAX_CLOSE_REASON)?;
        let mut inline = [0; MAX_CLOSE_REASON];
        inline.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self {
            code,
            reason_len,
            reason: inline,
        })
    }

    /// The reason text (may be empty).
    pub fn reason(&self) -> &str {
        // `new` only stores whole `&str`s, so this never fails; an empty reason is the
        // harmless fallback rather than a panic.
        std::str::from_utf8(self.reason_bytes()).unwrap_or("")
    }

    fn reason_bytes(&self) -> &[u8] {
        self.reason
            .get(..usize::from(self.reason_len))
            .unwrap_or(&[])
    }
}

impl fmt::Debug for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFrame")
            .field("code", &self.code)
            .field("reason", &self.reason())
            .finish()
    }
}

impl PartialEq for CloseFrame {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.reason_bytes() == other.reason_bytes()
    }
}

impl Eq for CloseFrame {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_and_application_codes_are_legal_on_the_wire() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(CloseCode::from(code).is_valid_on_wire(), "{code}");
        }
        assert!(CloseCode::from(3000).is_valid_on_wire());
        assert!(CloseCode::from(4999).is_valid_on_wire());
    }

    #[test]
    fn reserved_and_local_codes_are_illegal_on_the_wire() {
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
            assert!(!CloseCode::from(code).is_valid_on_wire(), "{code}");
        }
    }

    #[test]
    fn codes_round_trip_and_compare_by_value() {
        for code in 0..=u16::MAX {
            assert_eq!(CloseCode::from(code).as_u16(), code);
        }
        assert_eq!(CloseCode::Other(1000), CloseCode::Normal);
    }

    #[test]
    fn close_frame_reason_is_limited_to_123_bytes() {
        let ok = "a".repeat(123);
        let frame = CloseFrame::new(CloseCode::Normal, &ok);
        assert_eq!(frame.map(|f| f.reason().len()), Some(123));
        assert!(CloseFrame::new(CloseCode::Normal, &"a".repeat(124)).is_none());
        let f = CloseFrame::new(CloseCode::GoingAway, "bye");
        assert_eq!(f.map(|f| f.reason().to_owned()), Some("bye".to_owned()));
    }
}
