//! SOCKS5 (RFC 1928) with username/password authentication (RFC 1929).

use core::net::IpAddr;
use std::fmt;

use super::{ProxyErrorKind, Step};

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
