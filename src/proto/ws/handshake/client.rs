//! Client side: write the Upgrade request, check the 101 response.

use base64::Engine as _;
use rand::TryRngCore;
use rand::rngs::OsRng;

use super::{
    BASE64, HandshakeError, MAX_RESPONSE_HEADERS, accept_key, bounded, check_parse, first_value,
    has_token, header_values, is_safe_value, is_token, lookup, owned_headers, write_extra_headers,
    write_header,
};

/// A client's handshake in progress: the request was written, the response is awaited.
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    key: String,
    subprotocols: Vec<String>,
}

/// A successful 101 response.
#[derive(Clone, Debug)]
pub struct ClientResponse {
    status: u16,
    subprotocol: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
}

impl ClientHandshake {
    /// Appends the Upgrade request to `out` and returns the handshake state.
    ///
    /// `host` is the `Host` header value (see [`host_header`](super::host_header)), `path`
    /// the request target including any query (`/feed?x=1`). `extra_headers` are written
    /// as given (authentication, cookies, `Origin`, `User-Agent`); `subprotocols` are
    /// offered in order of preference.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::InvalidHeader`] for CR, LF or NUL in a value, a name that is not a
    /// token, or a header the handshake sets itself; [`HandshakeError::InvalidPath`];
    /// [`HandshakeError::InvalidSubprotocol`] for a name that is not a token;
    /// [`HandshakeError::Random`] if the OS random source fails. Nothing is appended on
    /// error.
    pub fn new(
        host: &str,
        path: &str,
        extra_headers: &[(&str, &str)],
        subprotocols: &[&str],
        out: &mut Vec<u8>,
    ) -> Result<Self, HandshakeError> {
        if host.is_empty() || !is_safe_value(host) || host.contains(' ') {
            return Err(HandshakeError::InvalidHeader("invalid Host"));
        }
        let path_ok = path.starts_with('/')
            && !path
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        if !path_ok {
            return Err(HandshakeError::InvalidPath);
        }
        if !subprotocols.iter().all(|p| is_token(p)) {
            return Err(HandshakeError::InvalidSubprotocol);
        }
        let mut nonce = [0u8; 16];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| HandshakeError::Random)?;
        let key = BASE64.encode(nonce);

        let start = out.len();
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        write_header(out, "Host", host);
        write_header(out, "Upgrade", "websocket");
        write_header(out, "Connection", "Upgrade");
        write_header(out, "Sec-WebSocket-Key", &key);
        write_header(out, "Sec-WebSocket-Version", "13");
        if !subprotocols.is_empty() {
            write_header(out, "Sec-WebSocket-Protocol", &subprotocols.join(", "));
        }
        if let Err(e) = write_extra_headers(out, extra_headers) {
            out.truncate(start);
            return Err(e);
        }
        out.extend_from_slice(b"\r\n");
        Ok(Self {
            key,
            subprotocols: subprotocols.iter().map(|&p| p.to_owned()).collect(),
        })
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Parses and checks the server's response from the bytes received so far.
    ///
    /// Returns `Ok(None)` while the head is incomplete, else the response and the head's
    /// length: bytes after it are WebSocket frames.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::TooLarge`] when no complete head fits in `max_size` bytes;
    /// [`HandshakeError::UnexpectedStatus`] for anything but 101 (a redirect or an error
    /// page); the header checks of RFC 6455 §4.1 (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, a subprotocol that was offered, no extension).
    pub fn parse_response(
        &self,
        buf: &[u8],
        max_size: usize,
    ) -> Result<Option<(ClientResponse, usize)>, HandshakeError> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
        let mut response = httparse::Response::new(&mut slots);
        let input = bounded(buf, max_size);
        let Some(head_len) = check_parse(response.parse(input), input.len(), max_size)? else {
            return Ok(None);
        };
        if response.version != Some(1) {
            return Err(HandshakeError::UnsupportedHttpVersion);
        }
        let status = response.code.unwrap_or(0);
        if status != 101 {
            // Retry-After as delta-seconds (RFC 9110 §10.2.3); an HTTP-date is ignored.
            let retry_after = first_value(response.headers, "retry-after")
                .and_then(|v| std::str::from_utf8(v.trim_ascii()).ok())
                .and_then(|v| v.parse::<u32>().ok());
            return Err(HandshakeError::UnexpectedStatus {
                status,
                retry_after,
            });
        }
        let headers = response.headers;
        if !has_token(headers, "upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        if !has_token(headers, "connection", "upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        let expected = accept_key(&self.key);
        if first_value(headers, "sec-websocket-accept").map(<[u8]>::trim_ascii)
            != Some(expected.as_bytes())
        {
            return Err(HandshakeError::AcceptMismatch);
        }
        if header_values(headers, "sec-websocket-extensions").any(|v| !v.trim_ascii().is_empty()) {
            return Err(HandshakeError::UnexpectedExtension);
        }
        let subprotocol = self.selected_subprotocol(headers)?;
        let response = ClientResponse {
            status,
            subprotocol,
            headers: owned_headers(headers),
        };
        Ok(Some((response, head_len)))
    }

    /// The subprotocol the server chose: one value, among those offered.
    fn selected_subprotocol(
        &self,
        headers: &[httparse::Header<'_>],
    ) -> Result<Option<String>, HandshakeError> {
        let mut values = header_values(headers, "sec-websocket-protocol");
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(HandshakeError::UnexpectedSubprotocol);
        }
        let chosen = std::str::from_utf8(value.trim_ascii())
            .map_err(|_| HandshakeError::UnexpectedSubprotocol)?;
        if !self.subprotocols.iter().any(|p| p == chosen) {
            return Err(HandshakeError::UnexpectedSubprotocol);
        }
        Ok(Some(chosen.to_owned()))
    }
}

impl ClientResponse {
    /// The status code (always 101).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The subprotocol the server selected, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
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
}
