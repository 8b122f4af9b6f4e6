//! The keep-alive decision (RFC 9112 §9.3).
//!
//! ```text
//!   response complete ──► HTTP/1.1, no "close" token, framed body ──► Ready (reuse)
//!          │
//!          └──► HTTP/1.1 "Connection: close"            ──┐
//!               HTTP/1.0 without "keep-alive"             ├──► Retired (never written again)
//!               body delimited by closing the connection  │
//!               bytes after the end of the response     ──┘
//! ```

/// What the `Connection` header fields of a response said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionTokens {
    /// A `close` token was present.
    pub close: bool,
    /// A `keep-alive` token was present.
    pub keep_alive: bool,
}

impl ConnectionTokens {
    /// Adds the tokens of one `Connection` field value (a comma-separated list, matched
    /// case-insensitively, RFC 9110 §7.6.1).
    pub fn add(&mut self, value: &[u8]) {
        for token in value.split(|&b| b == b',') {
            let token = token.trim_ascii();
            if token.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if token.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            }
        }
    }
}

/// Whether the connection may carry another request after this response.
///
/// `minor_version` is the `x` of `HTTP/1.x`. RFC 9112 §9.3: a `close` option ends the
/// connection; HTTP/1.1 persists by default; HTTP/1.0 persists only with `keep-alive`.
/// `delimited_by_close` is true when the body ends only when the server closes.
pub fn keep_alive(minor_version: u8, tokens: ConnectionTokens, delimited_by_close: bool) -> bool {
    if tokens.close || delimited_by_close {
        return false;
    }
    minor_version >= 1 || tokens.keep_alive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(values: &[&str]) -> ConnectionTokens {
        let mut t = ConnectionTokens::default();
        for v in values {
            t.add(v.as_bytes());
        }
        t
    }

    #[test]
    fn http11_persists_unless_close_is_listed() {
        assert!(keep_alive(1, tokens(&[]), false));
        assert!(keep_alive(1, tokens(&["Keep-Alive"]), false));
        assert!(!keep_alive(1, tokens(&["close"]), false));
        assert!(!keep_alive(1, tokens(&["upgrade, CLOSE "]), false));
        assert!(!keep_alive(1, tokens(&["foo", "Close"]), false));
    }

    #[test]
    fn http10_persists_only_with_keep_alive() {
        assert!(!keep_alive(0, tokens(&[]), false));
        assert!(keep_alive(0, tokens(&["keep-alive"]), false));
        assert!(!keep_alive(0, tokens(&["keep-alive, close"]), false));
    }

    #[test]
    fn close_delimited_bodies_never_persist() {
        assert!(!keep_alive(1, tokens(&["keep-alive"]), true));
    }

    #[test]
    fn tokens_are_whole_list_items_not_substrings() {
        assert_eq!(
            tokens(&["closed, keep-alive-ish"]),
            ConnectionTokens::default()
        );
    }
}
