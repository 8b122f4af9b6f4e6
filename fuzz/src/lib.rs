//! Harness code shared by the fuzz targets: feeding bytes to the sans-IO WebSocket core in
//! arbitrary splits, and the oracles every target checks.
//!
//! Everything here uses the public API of `nexus_async_net::proto` only. A target is a
//! few lines calling one function of this crate; a failed assertion is a finding.

use std::sync::OnceLock;

use nexus_async_net::proto::Role;
use nexus_async_net::proto::ws::handshake::{
    ClientHandshake, accept_key, accept_response, parse_request, reject_response,
};
use nexus_async_net::proto::ws::{
    Advance, CloseCode, Config, Conn, Decoder, MAX_CONTROL_PAYLOAD, Message, OwnedMessage,
    ProtocolError,
};

/// Largest outbound backlog a `Conn` with auto-pong may build up when nothing is written:
/// the encoder keeps at most 16 unsent Pongs (newer ones replace the last) plus one Close,
/// each at most 2 + 4 + 125 bytes.
const MAX_OWED_REPLIES: usize = (16 + 1) * (2 + 4 + 125);

/// A small deterministic generator (xorshift64*) for split points, seeded from the input.
#[derive(Debug, Clone)]
pub struct Splits(u64);

impl Splits {
    /// A generator; any seed works.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next number in `1..=max` (`max` at least 1).
    pub fn next(&mut self, max: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r % max.max(1) as u64) as usize + 1
    }
}

/// The limits a run uses, chosen by one input byte so the fuzzer explores them all.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `Config::read_buffer_capacity`.
    pub read_buffer: usize,
    /// `Config::max_frame_size`.
    pub max_frame: usize,
    /// `Config::max_message_size`.
    pub max_message: usize,
}

impl Limits {
    /// Small limits (so that inputs reach them), picked by `b`.
    pub fn from_byte(b: u8) -> Self {
        let read_buffer = [256, 300, 1024, 64 * 1024][usize::from(b & 3)];
        let max_message =
            [0, 125, 126, 1000, 4096, 65_535, 65_536, 1 << 20][usize::from(b >> 2 & 7)];
        let max_frame = if b & 0x20 != 0 {
            max_message / 2
        } else {
            max_message
        };
        Self {
            read_buffer,
            max_frame,
            max_message,
        }
    }

    /// The core's configuration with these limits.
    pub fn config(&self, auto_pong: bool) -> Config {
        Config::default()
            .read_buffer_capacity(self.read_buffer)
            .max_frame_size(self.max_frame)
            .max_message_size(self.max_message)
            .write_buffer_capacity(512)
            .auto_pong(auto_pong)
    }
}

/// What the decoder produced, owned so that two runs can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `advance` returned `Message`.
    Message(OwnedMessage),
    /// `advance` returned an error.
    Error(ProtocolError),
    /// `advance` returned `Closed`.
    Closed,
}

/// How bytes are handed to the decoder.
#[derive(Debug, Clone)]
pub enum Feed {
    /// As many bytes as the read buffer takes at a time.
    Greedy,
    /// Chunks of 1..=`max` bytes chosen by the generator.
    Split(Splits, usize),
}

/// The endpoint under test: a bare `Decoder`, or a `Conn` (auto-pong on) whose outbound
/// bytes are never written, to prove owed replies stay bounded.
enum Endpoint {
    Decoder(Box<Decoder>),
    Conn(Box<Conn>),
}

impl Endpoint {
    fn decoder(&mut self) -> &mut Decoder {
        match self {
            Self::Decoder(d) => d,
            Self::Conn(c) => c.decoder_mut(),
        }
    }

    fn advance(&mut self) -> Result<Advance, ProtocolError> {
        match self {
            Self::Decoder(d) => d.advance(),
            Self::Conn(c) => {
                let r = c.advance();
                assert!(
                    c.pending().len() <= MAX_OWED_REPLIES,
                    "owed replies grew to {} bytes",
                    c.pending().len()
                );
                r
            }
        }
    }

    fn message(&self) -> Option<Message<'_>> {
        match self {
            Self::Decoder(d) => d.message(),
            Self::Conn(c) => c.message(),
        }
    }
}

/// The result of [`decode`].
#[derive(Debug)]
pub struct Decoded {
    /// Every event, in order; the last one is `Closed` or an error.
    pub events: Vec<Event>,
    /// Input bytes handed over when the first error was returned (`None`: no error).
    pub error_after: Option<usize>,
}

/// Feeds `bytes` (then end of stream) to a fresh decoder for `role`, draining `advance`
/// after each read, and checks the invariants every input must keep:
///
/// - no panic; `read_buf` is never empty when `advance` asks for input;
/// - every message respects the limits (data up to `max_message`, control payloads up to
///   125 bytes, text is UTF-8 by type);
/// - after an error `advance` returns `Closed`; after end of stream it never asks for
///   more input;
/// - with `conn`, the replies owed to the peer stay bounded although none is written.
///
/// `deadline`: the error must have been returned once this many bytes were handed over.
pub fn decode(
    role: Role,
    limits: &Limits,
    bytes: &[u8],
    mut feed: Feed,
    conn: bool,
    deadline: Option<usize>,
) -> Decoded {
    let mut ep = if conn {
        Endpoint::Conn(Box::new(Conn::new(role, limits.config(true))))
    } else {
        Endpoint::Decoder(Box::new(Decoder::new(role, &limits.config(false))))
    };
    let mut events = Vec::new();
    let mut fed = 0;
    let mut eof = false;
    loop {
        loop {
            match ep.advance() {
                Ok(Advance::Message) => {
                    let msg = ep.message().expect("Advance::Message without a message");
                    check_limits(&msg, limits);
                    events.push(Event::Message(msg.into_owned()));
                }
                Ok(Advance::NeedInput) => break,
                Ok(Advance::Closed) => {
                    events.push(Event::Closed);
                    return Decoded {
                        events,
                        error_after: None,
                    };
                }
                Err(e) => {
                    events.push(Event::Error(e));
                    assert_eq!(ep.advance(), Ok(Advance::Closed), "advance after an error");
                    return Decoded {
                        events,
                        error_after: Some(fed),
                    };
                }
            }
        }
        assert!(!eof, "advance asked for input after end of stream");
        if let Some(d) = deadline {
            assert!(
                fed < d,
                "an error due after {d} bytes was not reported after {fed}"
            );
        }
        let rest = bytes.get(fed..).unwrap_or_default();
        if rest.is_empty() {
            ep.decoder().handle_eof();
            eof = true;
            continue;
        }
        let want = match &mut feed {
            Feed::Greedy => rest.len(),
            Feed::Split(splits, max) => splits.next(*max),
        };
        let buf = ep.decoder().read_buf();
        assert!(
            !buf.is_empty(),
            "read_buf is empty while the decoder needs input"
        );
        let n = want.min(buf.len()).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        ep.decoder().handle_read(n);
        fed += n;
    }
}

fn check_limits(msg: &Message<'_>, limits: &Limits) {
    match msg {
        Message::Text(_) | Message::Binary(_) => {
            assert!(
                msg.as_bytes().len() <= limits.max_message,
                "message over the limit"
            );
        }
        Message::Ping(c) | Message::Pong(c) => {
            assert!(
                c.as_bytes().len() <= MAX_CONTROL_PAYLOAD,
                "control payload over 125"
            );
        }
        Message::Close(Some(frame)) => {
            assert!(
                frame.code.is_valid_on_wire(),
                "illegal close code delivered"
            );
            assert!(frame.reason().len() <= 123, "close reason over 123 bytes");
        }
        Message::Close(None) => {}
    }
}

/// Frame decoding target: `data[0]` picks the limits, `data[1]` the split pattern, the
/// rest is the byte stream. The events must not depend on how the stream was split, nor on
/// whether a `Conn` (with auto-pong) or a bare `Decoder` reads it.
pub fn frames(role: Role, data: &[u8]) {
    let [config, seed, stream @ ..] = data else {
        return;
    };
    let limits = Limits::from_byte(*config);
    let whole = decode(role, &limits, stream, Feed::Greedy, false, None);
    let max_chunk = usize::from(seed & 0x0f) * 16 + 1;
    let feed = Feed::Split(Splits::new(u64::from(*seed)), max_chunk);
    let split = decode(role, &limits, stream, feed, true, None);
    assert_eq!(whole.events, split.events, "events depend on the split");
}

/// Appends one frame header (and, for a client, a masked payload) to `out`.
pub fn push_frame(out: &mut Vec<u8>, fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(m | n as u8),
        n @ 126..=0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
        }
        None => out.extend_from_slice(payload),
    }
}

/// Close frame target: `data` is a Close payload, sent as a server would (unmasked) and
/// as a client would (masked). Oracle: RFC 6455 §5.5.1 and §7.4.
pub fn close_payload(data: &[u8]) {
    let expected_code = match data {
        [] => None,
        [_] => Some(1002),
        _ if data.len() > MAX_CONTROL_PAYLOAD => Some(1002),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            let code_ok = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            match (code_ok, std::str::from_utf8(reason).is_ok()) {
                (true, true) => None,
                (false, _) => Some(1002),
                (true, false) => Some(1007),
            }
        }
    };
    // 256-byte read buffer (a control frame always fits), 1 MiB messages.
    let limits = Limits::from_byte(0x1c);
    for (role, mask) in [
        (Role::Client, None),
        (Role::Server, Some([0x37, 0xfa, 0x21, 0x3d])),
    ] {
        let mut wire = Vec::new();
        push_frame(&mut wire, true, 0x8, data, mask);
        let out = decode(role, &limits, &wire, Feed::Greedy, true, None);
        match (expected_code, out.events.as_slice()) {
            (None, [Event::Message(OwnedMessage::Close(None)), Event::Closed]) => {
                assert!(data.is_empty());
            }
            (None, [Event::Message(OwnedMessage::Close(Some(f))), Event::Closed]) => {
                assert_eq!(data.get(..2), Some(&f.code.as_u16().to_be_bytes()[..]));
                assert_eq!(data.get(2..), Some(f.reason().as_bytes()));
            }
            (Some(code), [Event::Error(e)]) => {
                // Both an illegal code and a bad reason: either error is right.
                let got = e.close_code().as_u16();
                assert!(
                    got == code || got == 1007 || got == 1002,
                    "{e:?} for code {code}"
                );
            }
            (want, got) => panic!("close payload {data:?}: expected {want:?}, got {got:?}"),
        }
    }
}

/// UTF-8 target: `data[0]` picks fragment splits, masking and an interleaved Ping,
/// `data[1]` the read splits, the rest is the text payload, sent as a fragmented text
/// message. Oracle: `std::str::from_utf8`. An invalid message must fail (1007) as soon as
/// the bytes that make it invalid have arrived (fail fast, Autobahn 6.4.x).
pub fn utf8_split(data: &[u8]) {
    let [shape, seed, payload @ ..] = data else {
        return;
    };
    let mut splits = Splits::new(u64::from(*shape));
    let (role, mask) = if shape & 1 == 0 {
        (Role::Client, None)
    } else {
        (
            Role::Server,
            Some([shape.wrapping_mul(31), 0x5a, *seed, 0xc3]),
        )
    };
    let ping_after = usize::from(shape >> 1 & 3);

    // Fragment boundaries: up to 8 fragments (empty ones included).
    let mut cuts = vec![0];
    for _ in 1..=usize::from(shape >> 3 & 7) {
        cuts.push(splits.next(payload.len() + 1) - 1);
    }
    cuts.push(payload.len());
    cuts.sort_unstable();

    // The wire bytes, and where each payload byte ends on the wire.
    let mut wire = Vec::new();
    let mut wire_end = vec![0usize; payload.len()];
    let last = cuts.len() - 2;
    for (i, w) in cuts.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        let header_start = wire.len();
        push_frame(
            &mut wire,
            i == last,
            if i == 0 { 0x1 } else { 0x0 },
            &payload[a..b],
            mask,
        );
        let header_len = wire.len() - header_start - (b - a);
        for (k, end) in wire_end[a..b].iter_mut().enumerate() {
            *end = header_start + header_len + k + 1;
        }
        if i + 1 == ping_after && i != last {
            push_frame(&mut wire, true, 0x9, b"ping", mask);
        }
    }

    let limits = Limits {
        read_buffer: 256,
        max_frame: 1 << 20,
        max_message: 1 << 20,
    };
    let feed = Feed::Split(Splits::new(u64::from(*seed)), usize::from(*seed) + 1);
    match std::str::from_utf8(payload) {
        Ok(text) => {
            let out = decode(role, &limits, &wire, feed, false, None);
            let texts: Vec<_> = out
                .events
                .iter()
                .filter(|e| !matches!(e, Event::Message(OwnedMessage::Ping(_))))
                .collect();
            let want = [
                &Event::Message(OwnedMessage::Text(text.to_owned())),
                &Event::Closed,
            ];
            assert_eq!(texts, want, "valid text message");
        }
        Err(e) => {
            // The shortest prefix that no continuation can make valid.
            let prefix = match e.error_len() {
                Some(_) => (e.valid_up_to() + 1..=payload.len())
                    .find(|&p| {
                        std::str::from_utf8(&payload[..p]).is_err_and(|e| e.error_len().is_some())
                    })
                    .unwrap_or(payload.len()),
                // Truncated at the end: only the final frame's FIN makes it invalid.
                None => payload.len(),
            };
            let deadline = wire_end
                .get(prefix.wrapping_sub(1))
                .copied()
                .unwrap_or(wire.len());
            let deadline = if e.error_len().is_none() {
                wire.len()
            } else {
                deadline
            };
            let out = decode(role, &limits, &wire, feed, false, Some(deadline));
            assert!(
                out.error_after.is_some(),
                "invalid text accepted: {:?}",
                out.events
            );
            assert!(
                matches!(
                    out.events.last(),
                    Some(Event::Error(ProtocolError::InvalidUtf8))
                ),
                "invalid text: {:?}",
                out.events.last()
            );
            assert_eq!(
                out.events.last().map(|e| match e {
                    Event::Error(e) => e.close_code(),
                    _ => CloseCode::Normal,
                }),
                Some(CloseCode::InvalidPayload)
            );
        }
    }
}

/// The client handshake every run of [`handshake_response`] checks responses against.
fn client_handshake() -> &'static (ClientHandshake, String) {
    static HANDSHAKE: OnceLock<(ClientHandshake, String)> = OnceLock::new();
    HANDSHAKE.get_or_init(|| {
        let mut out = Vec::new();
        let hs = ClientHandshake::new(
            "example.com",
            "/feed",
            &[],
            &["chat", "superchat"],
            &mut out,
        )
        .expect("a valid client request");
        let accept = accept_key(hs.key());
        (hs, accept)
    })
}

/// Replaces every `{accept}` in `data` with the right `Sec-WebSocket-Accept` value, so the
/// fuzzer can reach the checks after it.
fn with_accept(data: &[u8], accept: &str) -> Vec<u8> {
    const PLACEHOLDER: &[u8] = b"{accept}";
    let mut out = Vec::with_capacity(data.len() + 32);
    let mut rest = data;
    while !rest.is_empty() {
        if rest.starts_with(PLACEHOLDER) {
            out.extend_from_slice(accept.as_bytes());
            rest = &rest[PLACEHOLDER.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// Client handshake target: `data` is the server's response (with `{accept}` standing
/// for the right accept key). A parsed head is within the input and the limit, every
/// shorter prefix is incomplete, and the subprotocol is one that was offered.
pub fn handshake_response(data: &[u8]) {
    const MAX: usize = 4096;
    let (hs, accept) = client_handshake();
    let input = with_accept(data, accept);
    let Ok(Some((response, n))) = hs.parse_response(&input, MAX) else {
        return;
    };
    assert!(n <= input.len() && n <= MAX, "head of {n} bytes");
    assert_eq!(response.status(), 101);
    if let Some(p) = response.subprotocol() {
        assert!(
            p == "chat" || p == "superchat",
            "subprotocol {p:?} was not offered"
        );
    }
    let again = hs.parse_response(&input[..n], MAX);
    assert!(
        matches!(again, Ok(Some((_, m))) if m == n),
        "the head alone parses the same"
    );
    let mut splits = Splits::new(n as u64);
    for _ in 0..8 {
        let p = splits.next(n) - 1;
        assert!(
            matches!(hs.parse_response(&input[..p], MAX), Ok(None)),
            "a prefix of {p} of a {n}-byte head is not incomplete"
        );
    }
}

/// Server handshake target: `data` is the client's upgrade request. A parsed head is
/// within the input, its prefixes are incomplete, and the 101 written for it has no
/// injected line; a rejected one maps to 400, 426 or 431.
pub fn handshake_request(data: &[u8]) {
    const MAX: usize = 4096;
    match parse_request(data, MAX, 32) {
        Ok(Some((request, n))) => {
            assert!(n <= data.len() && n <= MAX, "head of {n} bytes");
            let mut splits = Splits::new(n as u64);
            for _ in 0..8 {
                let p = splits.next(n) - 1;
                assert!(
                    matches!(parse_request(&data[..p], MAX, 32), Ok(None)),
                    "a prefix of {p} of a {n}-byte head is not incomplete"
                );
            }
            let offered = request.protocols().first().map(String::as_str);
            for choice in [None, offered] {
                let mut out = Vec::new();
                if accept_response(&request, choice, &[], &mut out).is_ok() {
                    assert!(out.starts_with(b"HTTP/1.1 101 "), "not a 101");
                    let head = out.strip_suffix(b"\r\n").expect("a terminated head");
                    for line in head.split_inclusive(|&b| b == b'\n') {
                        let line = line.strip_suffix(b"\r\n").expect("CRLF line endings");
                        assert!(!line.is_empty(), "an empty line inside the head");
                        assert!(
                            !line.contains(&b'\r') && !line.contains(&b'\n'),
                            "injected line"
                        );
                    }
                }
            }
        }
        Ok(None) => {}
        Err(e) => {
            let status = e.http_status();
            assert!(matches!(status, 400 | 426 | 431), "status {status}");
            let mut out = Vec::new();
            reject_response(status, &mut out);
            assert!(out.starts_with(format!("HTTP/1.1 {status} ").as_bytes()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1 responses (the REST client's parser)
// ---------------------------------------------------------------------------------------

use nexus_async_net::proto::http::{BodyDecoder, Framing, Limits as HttpLimits, Method, ParseError};
use nexus_async_net::rest::{Progress, ResponseReader};


/// What a `ResponseReader` made of an input, owned so two runs can be compared.
#[derive(Debug, PartialEq, Eq)]
pub enum HttpOutcome {
    /// A complete response.
    Complete {
        /// Status code.
        status: u16,
        /// Header names and values, in order.
        headers: Vec<(String, Vec<u8>)>,
        /// The decoded body.
        body: Vec<u8>,
    },
    /// The reader failed (which error, by variant).
    Failed(std::mem::Discriminant<ParseError>),
}

/// Small limits (so inputs reach them), picked by `b`.
pub fn http_limits(b: u8) -> HttpLimits {
    HttpLimits::default()
        .max_head_size([64, 512, 4096, 16 * 1024][usize::from(b & 3)])
        .max_headers([1, 4, 64][usize::from(b >> 2 & 3).min(2)])
        .max_body_size([0, 10, 1000, 1 << 20][usize::from(b >> 4 & 3)])
}

/// Feeds `data` then end of stream to a fresh `ResponseReader` (the reads sized by
/// `splits`, or as large as the reader allows), stopping at the first complete response
/// as `HttpConnection` does, and checks what must hold for any input:
///
/// - no panic; the buffer never grows past its bound (twice the head limit plus the body
///   limit plus one read);
/// - a complete response has a 3-digit status, a body within `max_body_size`, no body
///   for `HEAD`, 1xx, 204 or 304.
pub fn read_response(
    data: &[u8],
    method: Method,
    limits: HttpLimits,
    mut splits: Option<&mut Splits>,
) -> HttpOutcome {
    let bound = limits.max_head_size * 2 + limits.max_body_size + 64 * 1024;
    let mut reader = ResponseReader::with_limits(256, limits);
    reader.start(method);
    let mut pos = 0;
    let progress = loop {
        assert!(reader.buffer_capacity() <= bound, "buffer grew past {bound}");
        let at_eof = pos == data.len();
        let result = if at_eof {
            reader.handle_eof()
        } else {
            let spare = match reader.spare() {
                Ok(spare) => spare,
                Err(e) => break Err(e),
            };
            assert!(!spare.is_empty(), "spare() returned no room");
            let mut n = spare.len().min(data.len() - pos);
            if let Some(s) = splits.as_deref_mut() {
                n = n.min(s.next(n));
            }
            spare[..n].copy_from_slice(&data[pos..pos + n]);
            pos += n;
            reader.handle_read(n)
        };
        match result {
            Ok(Progress::NeedMore) if at_eof => panic!("NeedMore after end of stream"),
            Ok(Progress::NeedMore) => {}
            other => break other,
        }
    };
    match progress {
        Ok(Progress::Complete) => {
            let resp = reader.response().expect("complete response");
            let status = resp.status();
            assert!((100..=999).contains(&status), "status {status}");
            assert!(resp.body().len() <= limits.max_body_size, "body over the limit");
            if method == Method::Head || status == 204 || status == 304 {
                assert!(resp.body().is_empty(), "body where none may be");
            }
            HttpOutcome::Complete {
                status,
                headers: resp
                    .headers()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec()))
                    .collect(),
                body: resp.body().to_vec(),
            }
        }
        Ok(Progress::NeedMore) => unreachable!("handled in the loop"),
        Err(e) => HttpOutcome::Failed(std::mem::discriminant(&e)),
    }
}

/// HTTP response target: `data[0]` picks the limits and the method, `data[1]` the read
/// splits, the rest is the server's byte stream. The outcome must not depend on how the
/// stream was split.
pub fn http_response(data: &[u8]) {
    let [limits, split, rest @ ..] = data else {
        return;
    };
    let method = if limits & 0x40 != 0 { Method::Head } else { Method::Get };
    let limits = http_limits(*limits);
    let whole = read_response(rest, method, limits, None);
    let mut splits = Splits::new(u64::from(*split));
    let split = read_response(rest, method, limits, Some(&mut splits));
    assert_eq!(whole, split, "outcome depends on read sizes");
}

/// Decodes `data` as a chunked body (then end of stream) in reads sized by `splits`;
/// returns the decoded bytes or the error's variant. Checks that `consumed` and `data`
/// stay within each input and that the total never passes `max_body`.
pub fn decode_chunked(
    data: &[u8],
    max_body: usize,
    mut splits: Option<&mut Splits>,
) -> Result<Vec<u8>, std::mem::Discriminant<ParseError>> {
    let limits = HttpLimits::default().max_body_size(max_body).max_head_size(256);
    let mut decoder = BodyDecoder::new(Framing::Chunked, &limits).map_err(|e| std::mem::discriminant(&e))?;
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() && !decoder.is_done() {
        let mut n = data.len() - pos;
        if let Some(s) = splits.as_deref_mut() {
            n = s.next(n);
        }
        // The decoder may leave unconsumed bytes; they are offered again with the next ones.
        let input = &data[pos..pos + n];
        let step = decoder.decode(input).map_err(|e| std::mem::discriminant(&e))?;
        assert!(step.consumed <= input.len(), "consumed past the input");
        assert!(step.data.end <= step.consumed, "data past what was consumed");
        out.extend_from_slice(&input[step.data.clone()]);
        assert!(out.len() <= max_body, "decoded past max_body");
        assert_eq!(decoder.decoded(), out.len() as u64, "decoded() disagrees");
        if step.consumed == 0 && n == data.len() - pos {
            break; // no progress on everything left: wait for more (end of stream next)
        }
        pos += step.consumed;
    }
    if !decoder.is_done() {
        decoder.handle_eof().map_err(|e| std::mem::discriminant(&e))?;
    }
    Ok(out)
}

/// Chunked body target: `data[0]` picks the body limit and the split pattern, the rest is
/// the chunked body. Decoding must not depend on the splits.
pub fn http_chunked(data: &[u8]) {
    let [b, rest @ ..] = data else {
        return;
    };
    let max_body = [0, 16, 4096, 1 << 20][usize::from(b & 3)];
    let whole = decode_chunked(rest, max_body, None);
    let mut splits = Splits::new(u64::from(*b >> 2));
    let split = decode_chunked(rest, max_body, Some(&mut splits));
    assert_eq!(whole, split, "chunked decoding depends on read sizes");
}
