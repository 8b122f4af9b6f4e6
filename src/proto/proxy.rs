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

use core::net::IpAddr;
use std::fmt;

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

/// A SOCKS5 reply code other than success (RFC 1928 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocksReply {
    /// 0x01.
    GeneralFailure,
    /// 0x02: the proxy's rules forbid this connection.
    NotAllowed,
    /// 0x03.
    NetworkUnreachable,
    /// 0x04.
    HostUnreachable,
    /// 0x05: the target refused the connection.
    ConnectionRefused,
    /// 0x06.
    TtlExpired,
    /// 0x07.
    CommandNotSupported,
    /// 0x08: e.g. a proxy without IPv6, or one that does not resolve names (use `socks5://`).
    AddressTypeNotSupported,
    /// Any other code.
    Other(u8),
}

impl SocksReply {
    /// The reply for `code` (`None` for 0, success).
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => return None,
            1 => Self::GeneralFailure,
            2 => Self::NotAllowed,
            3 => Self::NetworkUnreachable,
            4 => Self::HostUnreachable,
            5 => Self::ConnectionRefused,
            6 => Self::TtlExpired,
            7 => Self::CommandNotSupported,
            8 => Self::AddressTypeNotSupported,
            other => Self::Other(other),
        })
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Self::GeneralFailure => 1,
            Self::NotAllowed => 2,
            Self::NetworkUnreachable => 3,
            Self::HostUnreachable => 4,
            Self::ConnectionRefused => 5,
            Self::TtlExpired => 6,
            Self::CommandNotSupported => 7,
            Self::AddressTypeNotSupported => 8,
            Self::Other(c) => c,
        }
    }
}

impl fmt::Display for SocksReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::GeneralFailure => "general failure",
            Self::NotAllowed => "not allowed by the proxy's rules",
            Self::NetworkUnreachable => "network unreachable",
            Self::HostUnreachable => "host unreachable (or its name did not resolve)",
            Self::ConnectionRefused => "the target refused the connection",
            Self::TtlExpired => "TTL expired",
            Self::CommandNotSupported => "CONNECT not supported",
            Self::AddressTypeNotSupported => {
                "address type not supported (a proxy without IPv6, or one that resolves no \
                 names: try socks5:// instead of socks5h://)"
            }
            Self::Other(_) => "unknown reply",
        };
        write!(f, "{text} (reply {})", self.code())
    }
}

/// The largest `CONNECT` response head accepted by default.
pub const MAX_CONNECT_HEAD: usize = 8 * 1024;

/// Appends a `CONNECT authority HTTP/1.1` request: `Host`, then `headers` (for example
/// `Proxy-Authorization`), then the blank line. `authority` is `host:port`, with an IPv6
/// host in brackets.
pub fn encode_connect(authority: &str, headers: &[(&str, &str)], out: &mut Vec<u8>) {
    out.extend_from_slice(b"CONNECT ");
    out.extend_from_slice(authority.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(authority.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// The `Proxy-Authorization: Basic` value for `user` and `password`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// Parses the proxy's answer to `CONNECT`. `Done((), n)`: a 2xx head of `n` bytes; what
/// follows it is tunnel data.
///
/// # Errors
///
/// [`ProxyErrorKind::HttpStatus`] for any other final status,
/// [`ProxyErrorKind::Malformed`], [`ProxyErrorKind::HeadTooLarge`] past `max_head`.
pub fn parse_connect_response(buf: &[u8], max_head: usize) -> Result<Step<()>, ProxyErrorKind> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => {
            let status = resp.code.unwrap_or(0);
            if (200..300).contains(&status) {
                Ok(Step::Done((), n))
            } else if (100..200).contains(&status) {
                // An interim response (RFC 9110 §15.2): skip it, the final one follows.
                match parse_connect_response(&buf[n..], max_head.saturating_sub(n))? {
                    Step::Need(m) => Ok(Step::Need(n + m)),
                    Step::Done((), m) => Ok(Step::Done((), n + m)),
                }
            } else {
                Err(ProxyErrorKind::HttpStatus {
                    status,
                    reason: resp.reason.unwrap_or("").into(),
                })
            }
        }
        Ok(httparse::Status::Partial) if buf.len() >= max_head => {
            Err(ProxyErrorKind::HeadTooLarge(max_head))
        }
        Ok(httparse::Status::Partial) => Ok(Step::Need(buf.len() + 1)),
        Err(_) => Err(ProxyErrorKind::Malformed("not an HTTP response to CONNECT")),
    }
}

/// The authentication method a SOCKS5 proxy chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socks5Method {
    /// 0x00.
    NoAuth,
    /// 0x02 (RFC 1929).
    UserPassword,
}

/// Appends the SOCKS5 greeting: "no authentication", plus "username/password" when
/// credentials are set.
pub fn socks5_greeting(with_password: bool, out: &mut Vec<u8>) {
    if with_password {
        out.extend_from_slice(&[5, 2, 0, 2]);
    } else {
        out.extend_from_slice(&[5, 1, 0]);
    }
}

/// Parses the method selection: 2 bytes.
///
/// # Errors
///
/// [`ProxyErrorKind::SocksNoAcceptableMethod`] for 0xFF; `Malformed` for a wrong version
/// or a method that was not offered.
pub fn parse_socks5_method(buf: &[u8]) -> Result<Step<Socks5Method>, ProxyErrorKind> {
    let [version, method] = match buf.get(..2) {
        Some(&[v, m]) => [v, m],
        _ => return Ok(Step::Need(2)),
    };
    if version != 5 {
        return Err(ProxyErrorKind::Malformed(
            "not a SOCKS5 server (wrong version)",
        ));
    }
    match method {
        0 => Ok(Step::Done(Socks5Method::NoAuth, 2)),
        2 => Ok(Step::Done(Socks5Method::UserPassword, 2)),
        // Which methods were offered is the driver's to say.
        0xff => Err(ProxyErrorKind::SocksNoAcceptableMethod {
            offered_password: false,
        }),
        _ => Err(ProxyErrorKind::Malformed(
            "the SOCKS5 proxy chose a method that was not offered",
        )),
    }
}

/// Appends the RFC 1929 username/password request.
///
/// # Errors
///
/// [`ProxyErrorKind::TooLong`] for a user name or password over 255 bytes.
pub fn socks5_password(
    user: &str,
    password: &str,
    out: &mut Vec<u8>,
) -> Result<(), ProxyErrorKind> {
    let user_len = u8::try_from(user.len()).map_err(|_| ProxyErrorKind::TooLong("user name"))?;
    let pass_len = u8::try_from(password.len()).map_err(|_| ProxyErrorKind::TooLong("password"))?;
    out.extend_from_slice(&[1, user_len]);
    out.extend_from_slice(user.as_bytes());
    out.push(pass_len);
    out.extend_from_slice(password.as_bytes());
    Ok(())
}

/// Parses the RFC 1929 status: 2 bytes, status 0 is success.
///
/// # Errors
///
/// [`ProxyErrorKind::SocksAuthRejected`] for a non-zero status.
pub fn parse_socks5_password_reply(buf: &[u8]) -> Result<Step<()>, ProxyErrorKind> {
    match buf.get(..2) {
        Some(&[1, 0]) => Ok(Step::Done((), 2)),
        Some(&[1, status]) => Err(ProxyErrorKind::SocksAuthRejected(status)),
        Some(_) => Err(ProxyErrorKind::Malformed(
            "wrong version in the SOCKS5 authentication reply",
        )),
        None => Ok(Step::Need(2)),
    }
}

/// The target of a SOCKS5 `CONNECT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socks5Target<'a> {
    /// An address resolved by the client (`socks5://`) or an IP literal.
    Ip(IpAddr),
    /// A name the proxy resolves (`socks5h://`).
    Domain(&'a str),
}

/// Appends the SOCKS5 `CONNECT` request.
///
/// # Errors
///
/// [`ProxyErrorKind::TooLong`] for a host name over 255 bytes.
pub fn socks5_connect(
    target: &Socks5Target<'_>,
    port: u16,
    out: &mut Vec<u8>,
) -> Result<(), ProxyErrorKind> {
    out.extend_from_slice(&[5, 1, 0]);
    match target {
        Socks5Target::Ip(IpAddr::V4(ip)) => {
            out.push(1);
            out.extend_from_slice(&ip.octets());
        }
        Socks5Target::Ip(IpAddr::V6(ip)) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        Socks5Target::Domain(name) => {
            let len = u8::try_from(name.len()).map_err(|_| ProxyErrorKind::TooLong("host name"))?;
            out.extend_from_slice(&[3, len]);
            out.extend_from_slice(name.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(())
}

/// Parses the reply to `CONNECT`: `VER REP RSV ATYP BND.ADDR BND.PORT`, whose length the
/// first five bytes tell. `Done((), n)`: the tunnel is open after `n` bytes.
///
/// # Errors
///
/// [`ProxyErrorKind::Socks`] for a failure code; `Malformed` for a wrong version or
/// address type.
pub fn parse_socks5_reply(buf: &[u8]) -> Result<Step<()>, ProxyErrorKind> {
    let Some(&[version, rep, _rsv, atyp, first]) = buf.get(..5) else {
        // Report a refusal as soon as it is known, even from a short reply.
        if let Some(&[5, rep]) = buf.get(..2)
            && let Some(reply) = SocksReply::from_code(rep)
        {
            return Err(ProxyErrorKind::Socks(reply));
        }
        return Ok(Step::Need(5));
    };
    if version != 5 {
        return Err(ProxyErrorKind::Malformed(
            "wrong version in the SOCKS5 reply",
        ));
    }
    if let Some(reply) = SocksReply::from_code(rep) {
        return Err(ProxyErrorKind::Socks(reply));
    }
    let len = match atyp {
        1 => 4 + 4 + 2,
        4 => 4 + 16 + 2,
        3 => 4 + 1 + usize::from(first) + 2,
        _ => {
            return Err(ProxyErrorKind::Malformed(
                "unknown address type in the SOCKS5 reply",
            ));
        }
    };
    if buf.len() < len {
        Ok(Step::Need(len))
    } else {
        Ok(Step::Done((), len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` to `parse` one byte more at a time: every prefix is `Need` (never an
    /// error, never past the end), and the whole is `Done` with its length.
    fn byte_by_byte<T: fmt::Debug + PartialEq>(
        bytes: &[u8],
        parse: impl Fn(&[u8]) -> Result<Step<T>, ProxyErrorKind>,
    ) -> T {
        for end in 0..bytes.len() {
            match parse(&bytes[..end]) {
                Ok(Step::Need(n)) => assert!(n > end && n <= bytes.len(), "need {n} at {end}"),
                other => panic!("prefix of {end} bytes gave {other:?}"),
            }
        }
        match parse(bytes) {
            Ok(Step::Done(v, n)) => {
                assert_eq!(n, bytes.len());
                v
            }
            other => panic!("whole reply gave {other:?}"),
        }
    }

    #[test]
    fn connect_request_has_host_and_extra_headers() {
        let mut out = Vec::new();
        let auth = basic_auth("alice", "s3cret");
        encode_connect("[::1]:443", &[("Proxy-Authorization", &auth)], &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\
             Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
        );
    }

    #[test]
    fn a_connect_response_split_anywhere_is_parsed_and_leaves_tunnel_bytes_alone() {
        let head = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n";
        byte_by_byte(head, |b| parse_connect_response(b, MAX_CONNECT_HEAD));
        let mut with_data = head.to_vec();
        with_data.extend_from_slice(b"\x81\x02hi");
        assert_eq!(
            parse_connect_response(&with_data, MAX_CONNECT_HEAD),
            Ok(Step::Done((), head.len()))
        );
        // HTTP/1.0 proxies answer too; an interim 100 is skipped.
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n";
        byte_by_byte(interim, |b| parse_connect_response(b, MAX_CONNECT_HEAD));
    }

    #[test]
    fn a_refused_connect_carries_its_status_and_says_what_to_do() {
        let err = parse_connect_response(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
            MAX_CONNECT_HEAD,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ProxyErrorKind::HttpStatus { status: 407, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the proxy refused the tunnel: 407 Proxy Authentication Required; the proxy wants \
             credentials or refused the ones sent: put them in the proxy URL \
             (http://user:pass@host:port) or set them with Proxy::basic_auth"
        );
        let err = parse_connect_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", 8192).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the proxy refused the tunnel: 403 Forbidden; the proxy does not allow a tunnel to \
             this host or port"
        );
    }

    #[test]
    fn a_connect_response_that_is_garbage_or_endless_is_an_error() {
        assert_eq!(
            parse_connect_response(b"SSH-2.0-OpenSSH\r\n\r\n", 8192),
            Err(ProxyErrorKind::Malformed("not an HTTP response to CONNECT"))
        );
        let endless = [b"HTTP/1.1 200 OK\r\n".as_slice(), &[b'x'; 100]].concat();
        assert_eq!(
            parse_connect_response(&endless, 64),
            Err(ProxyErrorKind::HeadTooLarge(64))
        );
    }

    #[test]
    fn socks5_greeting_offers_password_only_with_credentials() {
        let mut out = Vec::new();
        socks5_greeting(true, &mut out);
        assert_eq!(out, [5, 2, 0, 2]);
        assert_eq!(
            byte_by_byte(&[5, 2], parse_socks5_method),
            Socks5Method::UserPassword
        );
        assert!(matches!(
            parse_socks5_method(&[5, 0xff]),
            Err(ProxyErrorKind::SocksNoAcceptableMethod { .. })
        ));
        assert!(matches!(
            parse_socks5_method(&[4, 0]),
            Err(ProxyErrorKind::Malformed(_))
        ));
        assert!(matches!(
            parse_socks5_method(&[5, 1]),
            Err(ProxyErrorKind::Malformed(_))
        ));
    }

    #[test]
    fn socks5_password_round_and_limits() {
        let mut out = Vec::new();
        socks5_password("u", "pw", &mut out).unwrap();
        assert_eq!(out, [1, 1, b'u', 2, b'p', b'w']);
        byte_by_byte(&[1, 0], parse_socks5_password_reply);
        assert_eq!(
            parse_socks5_password_reply(&[1, 1]),
            Err(ProxyErrorKind::SocksAuthRejected(1))
        );
        let long = "x".repeat(256);
        assert_eq!(
            socks5_password(&long, "", &mut out),
            Err(ProxyErrorKind::TooLong("user name"))
        );
        assert_eq!(
            socks5_connect(&Socks5Target::Domain(&long), 1, &mut out),
            Err(ProxyErrorKind::TooLong("host name"))
        );
    }

    #[test]
    fn socks5_connect_encodes_every_address_type() {
        let mut out = Vec::new();
        socks5_connect(&Socks5Target::Ip("10.0.0.1".parse().unwrap()), 80, &mut out).unwrap();
        assert_eq!(out, [5, 1, 0, 1, 10, 0, 0, 1, 0, 80]);
        out.clear();
        socks5_connect(&Socks5Target::Ip("::1".parse().unwrap()), 443, &mut out).unwrap();
        assert_eq!(out.len(), 4 + 16 + 2);
        assert_eq!(out[3], 4);
        assert_eq!(out[19], 1);
        out.clear();
        socks5_connect(&Socks5Target::Domain("ex.io"), 9001, &mut out).unwrap();
        assert_eq!(
            out,
            [5, 1, 0, 3, 5, b'e', b'x', b'.', b'i', b'o', 0x23, 0x29]
        );
    }

    #[test]
    fn socks5_replies_of_every_address_type_parse_split_anywhere() {
        byte_by_byte(&[5, 0, 0, 1, 1, 2, 3, 4, 0, 80], parse_socks5_reply);
        let mut v6 = vec![5, 0, 0, 4];
        v6.extend_from_slice(&[0; 16]);
        v6.extend_from_slice(&[1, 187]);
        byte_by_byte(&v6, parse_socks5_reply);
        byte_by_byte(
            &[5, 0, 0, 3, 3, b'a', b'.', b'b', 0, 80],
            parse_socks5_reply,
        );
        // Tunnel bytes after the reply are not part of it.
        assert_eq!(
            parse_socks5_reply(&[5, 0, 0, 1, 1, 2, 3, 4, 0, 80, 0x81]),
            Ok(Step::Done((), 10))
        );
    }

    #[test]
    fn every_socks5_failure_code_is_its_own_error() {
        for code in 1..=9u8 {
            let err = parse_socks5_reply(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap_err();
            let ProxyErrorKind::Socks(reply) = err else {
                panic!("{err:?}")
            };
            assert_eq!(reply.code(), code);
            // Known from the first two bytes already.
            assert_eq!(
                parse_socks5_reply(&[5, code]),
                Err(ProxyErrorKind::Socks(reply))
            );
        }
        assert_eq!(
            ProxyErrorKind::Socks(SocksReply::ConnectionRefused).to_string(),
            "the SOCKS5 proxy did not connect to the target: the target refused the connection \
             (reply 5)"
        );
        assert!(matches!(
            parse_socks5_reply(&[5, 0, 0, 9, 0]),
            Err(ProxyErrorKind::Malformed(_))
        ));
        assert!(matches!(
            parse_socks5_reply(&[4, 0, 0, 1, 0]),
            Err(ProxyErrorKind::Malformed(_))
        ));
    }
}
