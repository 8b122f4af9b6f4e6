//! Request head encoding: methods, header validation, percent-encoding and lengths.
//!
//! Everything appends to a caller-owned `Vec<u8>`, so a writer that reuses one buffer
//! allocates nothing once the buffer has grown to its working size.

/// An HTTP request method this client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `PATCH`
    Patch,
    /// `HEAD`: the response has no body whatever its headers say (RFC 9110 §9.3.2).
    Head,
}

impl Method {
    /// The method token as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Patch => "PATCH",
            Self::Head => "HEAD",
        }
    }

    /// Whether a request without a body still sends `Content-Length: 0`.
    ///
    /// RFC 9110 §8.6: a user agent SHOULD send Content-Length when the method defines a
    /// meaning for enclosed content and none is sent; some servers answer 411 otherwise.
    pub fn expects_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a valid header field name: a non-empty RFC 9110 §5.6.2 token.
pub fn is_valid_header_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| is_tchar(b))
}

/// Whether `value` may be sent as a header field value.
///
/// CR, LF and NUL are refused (RFC 9110 §5.5: they "are invalid and dangerous"; a CR or
/// LF would let the value inject its own header lines). Other control bytes except HTAB
/// are refused too. Leading or trailing whitespace is allowed but not meaningful.
pub fn is_valid_header_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Whether `target` may be sent as (part of) a request target: visible ASCII only, so no
/// space, CR, LF, NUL or other control byte can split the request line (RFC 9112 §3.2).
pub fn is_valid_target(target: &[u8]) -> bool {
    target.iter().all(|&b| (0x21..0x7f).contains(&b))
}

/// The bytes [`percent_encode`] escapes: all but the RFC 3986 §2.3 unreserved set
/// `A-Z a-z 0-9 - . _ ~` (non-ASCII bytes are always escaped).
const QUERY_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `bytes` percent-encoded for a query component (RFC 3986 §2.1): every byte
/// except the unreserved set `A-Z a-z 0-9 - . _ ~` becomes `%XX` with uppercase hex.
/// Allocates nothing beyond growing `out`.
pub fn percent_encode(out: &mut Vec<u8>, bytes: &[u8]) {
    for piece in percent_encoding::percent_encode(bytes, QUERY_COMPONENT) {
        out.extend_from_slice(piece.as_bytes());
    }
}

/// Appends `n` in decimal, without allocating.
pub fn write_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        // n % 10 < 10, so the cast cannot truncate.
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends one `name: value\r\n` header line after validating both parts.
///
/// # Errors
///
/// [`InvalidHeader`] when the name is not a token or the value holds CR, LF, NUL or another
/// control byte; nothing is appended then.
pub fn write_header(out: &mut Vec<u8>, name: &str, value: &str) -> Result<(), InvalidHeader> {
    if !is_valid_header_name(name.as_bytes()) || !is_valid_header_value(value.as_bytes()) {
        return Err(InvalidHeader);
    }
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// A header name or value the caller supplied cannot be sent (see [`write_header`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("header name is not a token, or the value contains CR, LF, NUL or a control byte")]
pub struct InvalidHeader;

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_with_cr_lf_or_nul_are_refused() {
        for bad in ["a\rb", "a\nb", "a\0b", "x\r\nInjected: 1", "\x7f"] {
            let mut out = Vec::new();
            assert_eq!(
                write_header(&mut out, "X-Test", bad),
                Err(InvalidHeader),
                "{bad:?}"
            );
            assert!(out.is_empty());
        }
        let mut out = Vec::new();
        write_header(&mut out, "X-Test", "tab\tand spaces ok").unwrap();
        assert_eq!(out, b"X-Test: tab\tand spaces ok\r\n");
    }

    #[test]
    fn header_names_must_be_tokens() {
        for bad in ["", "a b", "a:b", "a\r", "ä"] {
            assert!(!is_valid_header_name(bad.as_bytes()), "{bad:?}");
        }
        assert!(is_valid_header_name(b"X-MBX-APIKEY"));
    }

    #[test]
    fn query_components_are_percent_encoded_with_uppercase_hex() {
        let mut out = Vec::new();
        percent_encode(&mut out, "a b&c=d/é~-._".as_bytes());
        assert_eq!(out, b"a%20b%26c%3Dd%2F%C3%A9~-._");
    }

    #[test]
    fn every_byte_outside_the_unreserved_set_becomes_uppercase_percent_hex() {
        // The rule the hand-written encoder implemented (checked equal to it for all 256
        // byte values when the crate replaced it).
        let all: Vec<u8> = (0..=255).collect();
        let mut expected = Vec::new();
        for &b in &all {
            let mut one = Vec::new();
            percent_encode(&mut one, &[b]);
            let want = if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                vec![b]
            } else {
                format!("%{b:02X}").into_bytes()
            };
            assert_eq!(one, want, "byte {b:#04x}");
            expected.extend_from_slice(&want);
        }
        let mut whole = Vec::new();
        percent_encode(&mut whole, &all);
        assert_eq!(whole, expected);
    }

    #[test]
    fn decimals_are_written_without_allocation() {
        for n in [0usize, 7, 10, 1234567890, usize::MAX] {
            let mut out = Vec::with_capacity(32);
            write_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn targets_with_spaces_or_controls_are_refused() {
        assert!(is_valid_target(b"/api/v3/order?x=1"));
        for bad in [&b"/a b"[..], b"/a\r\n", b"/\0", b"/\x7f"] {
            assert!(!is_valid_target(bad));
        }
    }

    #[test]
    fn only_post_put_and_patch_expect_a_body() {
        assert!(Method::Post.expects_body() && Method::Put.expects_body());
        assert!(Method::Patch.expects_body());
        assert!(!Method::Get.expects_body() && !Method::Head.expects_body());
        assert!(!Method::Delete.expects_body());
    }
}
