//! Proxy handshakes, sans-IO: HTTP `CONNECT` (RFC 9110 §9.3.6) and SOCKS5 (RFC 1928, with
//! RFC 1929 username/password).
//!
//! Encoders append the bytes to send to a `Vec`; parsers take the bytes received so far
//! and answer [`Step::Need`] (read more, and how many bytes in total are needed at least)
//! or [`Step::Done`] with how many bytes the reply took. A SOCKS5 reply's length is known
//! from its first bytes, so a driver that reads no more than [`Step::Need`] asks for never
//! reads past the reply; a `CONNECT` response is delimited by its blank line, so bytes
//! read past it belong to the tunnel and must be kept.
//!
//! Every step waits for the proxy's answer before the next request is sent: sending the
//! SOCKS5 request together with the greeting deadlocks proxies that read one message per
//! turn, and is refused by the RFC's method negotiation anyway.
//!
//! ```
//! use nexus_async_net::proto::proxy::{self, Socks5Target, Step};
//!
//! let mut out = Vec::new();
//! proxy::socks5_greeting(false, &mut out);
//! assert_eq!(out, [5, 1, 0]);
//! // The proxy picks "no authentication".
//! assert_eq!(proxy::parse_socks5_method(&[5, 0]), Ok(Step::Done(proxy::Socks5Method::NoAuth, 2)));
//! out.clear();
//! proxy::socks5_connect(&Socks5Target::Domain("example.com"), 443, &mut out).unwrap();
//! // A reply arrives split across reads: the parser says how much it still needs.
//! let reply = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
//! assert_eq!(proxy::parse_socks5_reply(&reply[..2]), Ok(Step::Need(5)));
//! assert_eq!(proxy::parse_socks5_reply(&reply[..5]), Ok(Step::Need(10)));
//! assert_eq!(proxy::parse_socks5_reply(&reply), Ok(Step::Done((), 10)));
//! ```

/// What a parser made of the bytes so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<T> {
    /// Incomplete: at least this many bytes in total are needed.
    Need(usize),
    /// Complete: the value and how many bytes of the input it took.
    Done(T, usize),
}

/// Why a proxy handshake failed. The proxy refused ([`HttpStatus`](Self::HttpStatus),
/// [`Socks`](Self::Socks), the authentication variants), broke its protocol
/// ([`Malformed`](Self::Malformed), [`HeadTooLarge`](Self::HeadTooLarge),
/// [`Closed`](Self::Closed)), or the caller's input cannot be sent
/// ([`InvalidUrl`](Self::InvalidUrl), [`TooLong`](Self::TooLong)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// The HTTP proxy answered `CONNECT` with a non-2xx status.
    #[error("{}", http_status(*.status, .reason))]
    HttpStatus {
        /// The status code (407: credentials missing or refused).
        status: u16,
        /// The reason phrase the proxy sent.
        reason: Box<str>,
    },
    /// The SOCKS5 proxy could not or would not connect to the target.
    #[error("the SOCKS5 proxy did not connect to the target: {0}")]
    Socks(SocksReply),
    /// The SOCKS5 proxy accepts none of the authentication methods offered.
    #[error(
        "the SOCKS5 proxy accepts none of the offered authentication methods ({}); {}",
        if *.offered_password { "no authentication, username/password" } else { "no authentication" },
        if *.offered_password { "it needs a method this client does not have (GSSAPI?)" } else { "it probably wants a username and password: socks5://user:pass@host:port" }
    )]
    SocksNoAcceptableMethod {
        /// Whether username/password was offered (credentials were set).
        offered_password: bool,
    },
    /// The SOCKS5 proxy chose username/password, but no credentials were set.
    #[error(
        "the SOCKS5 proxy wants a username and password and none were set: socks5://user:pass@host:port"
    )]
    SocksCredentialsRequired,
    /// The SOCKS5 proxy rejected the username and password.
    #[error("the SOCKS5 proxy rejected the username and password (RFC 1929 status {0})")]
    SocksAuthRejected(u8),
    /// The proxy's reply broke its protocol.
    #[error("the proxy sent a malformed reply: {0}")]
    Malformed(&'static str),
    /// The `CONNECT` response head exceeded the limit.
    #[error("the proxy's CONNECT response head exceeds {0} bytes")]
    HeadTooLarge(usize),
    /// The proxy closed the connection before the tunnel was open.
    #[error("the proxy closed the connection before the tunnel was open")]
    Closed,
    /// The proxy URL cannot be used.
    #[error("invalid proxy URL: {0}")]
    InvalidUrl(Box<str>),
    /// A field longer than SOCKS5 allows (255 bytes): a host name, user name or password.
    #[error("the {0} is longer than the 255 bytes SOCKS5 allows")]
    TooLong(&'static str),
}

fn http_status(status: u16, reason: &str) -> String {
    let hint = match status {
        407 => {
            "; the proxy wants credentials or refused the ones sent: put them in the proxy URL \
             (http://user:pass@host:port) or set them with Proxy::basic_auth"
        }
        403 => "; the proxy does not allow a tunnel to this host or port",
        502..=504 => "; the proxy could not reach the target",
        _ => "",
    };
    format!("the proxy refused the tunnel: {status} {reason}{hint}")
}

mod http;
mod socks5;
#[cfg(test)]
mod tests;

pub use http::{MAX_CONNECT_HEAD, basic_auth, encode_connect, parse_connect_response};
pub use socks5::{
    Socks5Method, Socks5Target, SocksReply, parse_socks5_method, parse_socks5_password_reply,
    parse_socks5_reply, socks5_connect, socks5_greeting, socks5_password,
};
