//! Server side: check the Upgrade request, write the 101 or the rejection.

use base64::Engine as _;

use super::{
    BASE64, HandshakeError, accept_key, bounded, check_parse, first_value, has_token,
    header_values, is_token, lookup, owned_headers, write_extra_headers, write_header,
};

/// A valid WebSocket Upgrade request.
#[derive(Clone, Debug)]
pub struct ServerRequest {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    key: String,
    protocols: Vec<String>,
    version: u8,
}

/// Parses and checks a client's Upgrade request from the bytes received so far.
///
/// Returns `Ok(None)` while the head is incomplete, else the request and the head's
/// length (bytes after it are WebSocket frames). At most `max_headers` header lines are
/// accepted.
///
/// # Errors
///
/// [`HandshakeError::TooLarge`] / [`HandshakeError::TooManyHeaders`] (reply 431),
/// [`HandshakeError::UnsupportedVersion`] (reply 426), and the other checks of RFC 6455
/// §4.2.1 (reply 400): GET, HTTP/1.1, `Host`, `Upgrade: websocket`, `Connection: Upgrade`,
/// a 16-byte `Sec-WebSocket-Key`. [`HandshakeError::http_status`] gives the status and
/// [`reject_response`] writes the reply.
pub fn parse_request(
    buf: &[u8],
    max_size: usize,
    max_headers: usize,
) -> Result<Option<(ServerRequest, usize)>, HandshakeError> {
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    let mut request = httparse::Request::new(&mut slots);
    let input = bounded(buf, max_size);
    let Some(head_len) = check_parse(request.parse(input), input.len(), max_size)? else {
        return Ok(None);
    };
    let method = request.method.unwrap_or_default();
    if method != "GET" {
        return Err(HandshakeError::MethodNotGet);
    }
    if request.version != Some(1) {
        return Err(HandshakeError::UnsupportedHttpVersion);
    }
    let headers = request.headers;
    if first_value(headers, "host").is_none() {
        return Err(HandshakeError::MissingHost);
    }
    if !has_token(headers, "upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !has_token(headers, "connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    if first_value(headers, "sec-websocket-version").map(<[u8]>::trim_ascii) != Some(b"13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = first_value(headers, "sec-websocket-key")
        .map(<[u8]>::trim_ascii)
        .filter(|k| BASE64.decode(k).is_ok_and(|raw| raw.len() == 16))
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or(HandshakeError::InvalidKey)?;
    let protocols = header_values(headers, "sec-websocket-protocol")
        .flat_map(|v| v.split(|&b| b == b','))
        .filter_map(|p| std::str::from_utf8(p.trim_ascii()).ok())
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let request = ServerRequest {
        method: method.to_owned(),
        path: request.path.unwrap_or_default().to_owned(),
        key: key.to_owned(),
        headers: owned_headers(headers),
        protocols,
        version: 13,
    };
    Ok(Some((request, head_len)))
}

/// Appends the `101 Switching Protocols` response accepting `request` to `out`,
/// selecting `subprotocol` (which must be one the client offered).
///
/// # Errors
///
/// [`HandshakeError::InvalidSubprotocol`] for a subprotocol the client did not offer;
/// [`HandshakeError::InvalidHeader`] for a bad extra header. Nothing is appended on error.
pub fn accept_response(
    request: &ServerRequest,
    subprotocol: Option<&str>,
    extra_headers: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<(), HandshakeError> {
    if let Some(p) = subprotocol
        && (!is_token(p) || !request.protocols.iter().any(|offered| offered == p))
    {
        return Err(HandshakeError::InvalidSubprotocol);
    }
    let start = out.len();
    out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
    write_header(out, "Upgrade", "websocket");
    write_header(out, "Connection", "Upgrade");
    write_header(out, "Sec-WebSocket-Accept", &accept_key(&request.key));
    if let Some(p) = subprotocol {
        write_header(out, "Sec-WebSocket-Protocol", p);
    }
    if let Err(e) = write_extra_headers(out, extra_headers) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends a response refusing the upgrade to `out`: typically 400 (bad request),
/// 426 (which also names the supported `Sec-WebSocket-Version: 13`) or 431 (head too
/// large); see [`HandshakeError::http_status`]. The response has no body and asks for the
/// connection to be closed.
pub fn reject_response(status: u16, out: &mut Vec<u8>) {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    if status == 426 {
        write_header(out, "Sec-WebSocket-Version", "13");
        write_header(out, "Upgrade", "websocket");
    }
    write_header(out, "Connection", "close");
    write_header(out, "Content-Length", "0");
    out.extend_from_slice(b"\r\n");
}

impl ServerRequest {
    /// The request method (always `GET`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target, query included.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The value of the first header called `name` (case-insensitive) as text: `None`
    /// when there is none or its value is not UTF-8 (then use
    /// [`header_bytes`](Self::header_bytes)). The crate's one rule for received headers.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The raw value of the first header called `name` (case-insensitive).
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        lookup(&self.headers, name)
    }

    /// Every header in order, as (name, raw value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The `Sec-WebSocket-Key`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The WebSocket protocol version (always 13).
    pub fn version(&self) -> u8 {
        self.version
    }
}
