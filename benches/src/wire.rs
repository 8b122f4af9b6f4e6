//! Server-side wire helpers: the opening handshake and unmasked frame encoding.
//!
//! The benchmark server is deliberately hand-written (no WebSocket library) so that every
//! client faces the same bytes at the same speed.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// WebSocket opcodes used by the benchmarks.
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client key.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A parsed upgrade request: the request target and the client key.
pub struct Upgrade {
    pub target: String,
    pub key: String,
}

/// Parses an HTTP upgrade request head (everything before the blank line).
pub fn parse_upgrade(head: &[u8]) -> Option<Upgrade> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let request = lines.next()?;
    let target = request.split(' ').nth(1)?.to_owned();
    let key = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_owned())?;
    Some(Upgrade { target, key })
}

/// The 101 response for a client key.
pub fn switching_protocols(key: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )
    .into_bytes()
}

/// Appends one unmasked FIN frame (server to client).
pub fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(len as u8);
    } else if len <= u16::MAX as usize {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// A payload of `size` bytes: printable ASCII (valid UTF-8 for text frames), looking like
/// a JSON market-data tick so that UTF-8 validation does real work.
pub fn payload(size: usize) -> Vec<u8> {
    const TICK: &[u8] =
        br#"{"e":"trade","s":"BTCUSDT","p":"97012.35","q":"0.0125","T":1732790000123,"m":true},"#;
    TICK.iter().copied().cycle().take(size).collect()
}

/// One frame parsed from a client (masked) byte stream.
pub struct ClientFrame {
    pub fin: bool,
    pub opcode: u8,
    /// Header length plus payload length: how much of the buffer the frame occupies.
    pub total: usize,
    /// Where the payload starts within the buffer.
    pub payload_at: usize,
    pub payload_len: usize,
    pub mask: Option<[u8; 4]>,
}

/// Parses the frame at the start of `buf`; `None` when more bytes are needed.
pub fn parse_client_frame(buf: &[u8]) -> Option<ClientFrame> {
    let b0 = *buf.first()?;
    let b1 = *buf.get(1)?;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7F {
        126 => (
            u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (n as usize, 2),
    };
    let mask = if masked {
        let m: [u8; 4] = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(m)
    } else {
        None
    };
    if buf.len() < at + len {
        return None;
    }
    Some(ClientFrame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0F,
        total: at + len,
        payload_at: at,
        payload_len: len,
        mask,
    })
}

/// XOR-unmasks `data` in place.
pub fn unmask(data: &mut [u8], mask: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
