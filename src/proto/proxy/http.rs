//! HTTP `CONNECT` (RFC 9110 §9.3.6): the request and the proxy's answer.

use super::{ProxyErrorKind, Step};

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
