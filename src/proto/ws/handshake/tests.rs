//! Handshake vectors, each fed whole, byte by byte and split at every offset.

use super::*;

/// Runs `parse` on every prefix split of `bytes` the way a reader would: feeding more and
/// more bytes until it returns something other than `Ok(None)`. Asserts all ways agree.
fn parse_all_ways<T: std::fmt::Debug>(
    bytes: &[u8],
    parse: impl Fn(&[u8]) -> Result<Option<(T, usize)>, HandshakeError>,
) -> Result<Option<usize>, HandshakeError> {
    let whole = parse(bytes).map(|o| o.map(|(_, n)| n));
    // Byte by byte.
    let mut bytewise = Ok(None);
    for end in 1..=bytes.len() {
        bytewise = parse(&bytes[..end]).map(|o| o.map(|(_, n)| n));
        if !matches!(bytewise, Ok(None)) {
            break;
        }
    }
    assert_eq!(bytewise, whole, "byte by byte");
    // Split in two at every offset: the first piece alone, then everything.
    for cut in 0..=bytes.len() {
        let first = parse(&bytes[..cut]).map(|o| o.map(|(_, n)| n));
        let result = if matches!(first, Ok(None)) {
            whole.clone()
        } else {
            first
        };
        assert_eq!(result, whole, "split at {cut}");
    }
    whole
}

fn client(subprotocols: &[&str]) -> (ClientHandshake, Vec<u8>) {
    let mut out = Vec::new();
    let hs = ClientHandshake::new(
        "[::1]:9001",
        "/ws?x=1",
        &[("Authorization", "Bearer t")],
        subprotocols,
        &mut out,
    );
    (hs.unwrap_or_else(|e| panic!("{e}")), out)
}

fn response_for(hs: &ClientHandshake, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {}\r\n{extra}\r\n",
        accept_key(hs.key())
    )
    .into_bytes()
}

#[test]
fn accept_key_matches_rfc_example() {
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn client_request_carries_host_key_version_protocols_and_extra_headers() {
    let (hs, out) = client(&["v1", "v2"]);
    let text = String::from_utf8(out).unwrap_or_default();
    assert!(
        text.starts_with("GET /ws?x=1 HTTP/1.1\r\nHost: [::1]:9001\r\n"),
        "{text}"
    );
    assert!(text.contains(&format!("Sec-WebSocket-Key: {}\r\n", hs.key())));
    assert!(text.contains("Sec-WebSocket-Version: 13\r\n"));
    assert!(text.contains("Sec-WebSocket-Protocol: v1, v2\r\n"));
    assert!(text.contains("Authorization: Bearer t\r\n"));
    assert!(text.ends_with("\r\n\r\n"));
    let (other, _) = client(&[]);
    assert_ne!(hs.key(), other.key());
}

#[test]
fn client_request_rejects_header_injection_and_bad_inputs() {
    let mut out = Vec::new();
    let bad = [
        ClientHandshake::new("h", "/", &[("X", "a\r\nInjected: 1")], &[], &mut out),
        ClientHandshake::new("h", "/", &[("X", "nul\0")], &[], &mut out),
        ClientHandshake::new("h", "/", &[("Bad Name", "v")], &[], &mut out),
        ClientHandshake::new("h\r\n", "/", &[], &[], &mut out),
    ];
    for r in bad {
        assert!(matches!(r, Err(HandshakeError::InvalidHeader(_))), "{r:?}");
    }
    // A header the handshake sets itself is named, with where its value comes from.
    for (header, text) in [
        (
            "sec-websocket-key",
            "the header Sec-WebSocket-Key cannot be set by hand: the handshake generates it",
        ),
        (
            "Sec-WebSocket-Extensions",
            "the header Sec-WebSocket-Extensions cannot be set by hand: extensions are \
             negotiated by the library, not by hand (none is offered yet)",
        ),
        (
            "SEC-WEBSOCKET-PROTOCOL",
            "the header Sec-WebSocket-Protocol cannot be set by hand: offer subprotocols \
             with WsStreamBuilder::subprotocol",
        ),
    ] {
        let r = ClientHandshake::new("h", "/", &[(header, "v")], &[], &mut out);
        let e = r.map(|_| ()).unwrap_err();
        assert!(matches!(e, HandshakeError::ReservedHeader(_)), "{e:?}");
        assert_eq!(e.to_string(), text);
    }
    let path = ClientHandshake::new("h", "/a b", &[], &[], &mut out);
    assert_eq!(path.map(|_| ()), Err(HandshakeError::InvalidPath));
    let relative = ClientHandshake::new("h", "ws", &[], &[], &mut out);
    assert_eq!(relative.map(|_| ()), Err(HandshakeError::InvalidPath));
    let proto = ClientHandshake::new("h", "/", &[], &["a b"], &mut out);
    assert_eq!(proto.map(|_| ()), Err(HandshakeError::InvalidSubprotocol));
    assert!(out.is_empty());
}

#[test]
fn valid_response_is_accepted_and_leftover_frames_are_kept() {
    let (hs, _) = client(&["v1", "v2"]);
    let mut bytes = response_for(&hs, "Sec-WebSocket-Protocol: v2\r\n");
    let head = bytes.len();
    bytes.extend_from_slice(&[0x81, 0x01, b'x']);
    let parse = |b: &[u8]| hs.parse_response(b, 8192);
    assert_eq!(parse_all_ways(&bytes, parse), Ok(Some(head)));
    let (resp, n) = parse(&bytes).ok().flatten().unwrap_or_else(|| panic!());
    assert_eq!(&bytes[n..], &[0x81, 0x01, b'x']);
    assert_eq!(resp.status(), 101);
    assert_eq!(resp.subprotocol(), Some("v2"));
    assert_eq!(resp.header("UPGRADE"), Some("websocket"));
}

#[test]
fn invalid_responses_are_rejected() {
    let (hs, _) = client(&["v1"]);
    let accept = accept_key(hs.key());
    let cases: Vec<(String, HandshakeError)> = vec![
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".into(), HandshakeError::UnexpectedStatus { status: 200, retry_after: None }),
        ("HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n".into(), HandshakeError::UnexpectedStatus { status: 302, retry_after: None }),
        ("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n\r\n".into(), HandshakeError::UnexpectedStatus { status: 429, retry_after: Some(7) }),
        ("HTTP/1.1 503 Service Unavailable\r\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n\r\n".into(), HandshakeError::UnexpectedStatus { status: 503, retry_after: None }),
        (format!("HTTP/1.1 101 S\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), HandshakeError::MissingUpgrade),
        (format!("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), HandshakeError::MissingConnectionUpgrade),
        ("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n".into(), HandshakeError::AcceptMismatch),
        ("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".into(), HandshakeError::AcceptMismatch),
        (String::from_utf8(response_for(&hs, "Sec-WebSocket-Protocol: v9\r\n")).unwrap_or_default(), HandshakeError::UnexpectedSubprotocol),
        (String::from_utf8(response_for(&hs, "Sec-WebSocket-Protocol: v1\r\nSec-WebSocket-Protocol: v1\r\n")).unwrap_or_default(), HandshakeError::UnexpectedSubprotocol),
        (String::from_utf8(response_for(&hs, "Sec-WebSocket-Extensions: permessage-deflate\r\n")).unwrap_or_default(), HandshakeError::UnexpectedExtension),
        ("HTTP/1.1 1x1 S\r\n\r\n".into(), HandshakeError::Malformed("invalid status")),
    ];
    for (text, expected) in cases {
        let result = parse_all_ways(text.as_bytes(), |b| hs.parse_response(b, 8192));
        assert_eq!(result, Err(expected), "{text}");
    }
}

#[test]
fn response_head_larger_than_the_limit_is_rejected() {
    let (hs, _) = client(&[]);
    let big = response_for(&hs, &format!("X-Pad: {}\r\n", "p".repeat(9000)));
    assert_eq!(
        parse_all_ways(&big, |b| hs.parse_response(b, 8192)),
        Err(HandshakeError::TooLarge { max: 8192 })
    );
    let exact = response_for(&hs, "");
    assert!(matches!(
        hs.parse_response(&exact, exact.len()),
        Ok(Some(_))
    ));
    assert_eq!(
        hs.parse_response(&exact, exact.len() - 1)
            .map(|o| o.is_some()),
        Err(HandshakeError::TooLarge {
            max: exact.len() - 1
        })
    );
}

#[test]
fn request_round_trips_through_server_and_client() {
    let (hs, request) = client(&["v1", "v2"]);
    assert_eq!(
        parse_all_ways(&request, |b| parse_request(b, 8192, 32)),
        Ok(Some(request.len()))
    );
    let (req, _) = parse_request(&request, 8192, 32)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!());
    assert_eq!(req.method(), "GET");
    assert_eq!(req.path(), "/ws?x=1");
    assert_eq!(req.protocols(), ["v1".to_owned(), "v2".to_owned()]);
    assert_eq!(req.header("authorization"), Some("Bearer t"));
    assert_eq!(req.header("host"), Some("[::1]:9001"));
    assert_eq!(req.header_bytes("Authorization"), Some(&b"Bearer t"[..]));
    assert!(
        req.headers()
            .any(|(n, v)| n.eq_ignore_ascii_case("host") && v == b"[::1]:9001")
    );
    assert_eq!(req.version(), 13);
    let mut response = Vec::new();
    assert_eq!(
        accept_response(&req, Some("v3"), &[], &mut response),
        Err(HandshakeError::InvalidSubprotocol)
    );
    assert!(response.is_empty());
    accept_response(&req, Some("v1"), &[("Server", "nexus")], &mut response)
        .unwrap_or_else(|e| panic!("{e}"));
    let (resp, _) = hs
        .parse_response(&response, 8192)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!());
    assert_eq!(resp.subprotocol(), Some("v1"));
    assert_eq!(resp.header("server"), Some("nexus"));
}

#[test]
fn invalid_requests_map_to_400_426_or_431() {
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let ok_rest = format!(
        "Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
    );
    let cases: Vec<(String, HandshakeError, u16)> = vec![
        (format!("POST / HTTP/1.1\r\n{ok_rest}Sec-WebSocket-Version: 13\r\n\r\n"), HandshakeError::MethodNotGet, 400),
        (format!("GET / HTTP/1.0\r\n{ok_rest}Sec-WebSocket-Version: 13\r\n\r\n"), HandshakeError::UnsupportedHttpVersion, 400),
        (format!("GET / HTTP/1.1\r\n{ok_rest}Sec-WebSocket-Version: 8\r\n\r\n"), HandshakeError::UnsupportedVersion, 426),
        (format!("GET / HTTP/1.1\r\n{ok_rest}\r\n"), HandshakeError::UnsupportedVersion, 426),
        ("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".into(), HandshakeError::MissingHost, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n".into(), HandshakeError::MissingUpgrade, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n".into(), HandshakeError::MissingConnectionUpgrade, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n".into(), HandshakeError::InvalidKey, 400),
        (format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(40)), HandshakeError::TooManyHeaders, 431),
        (format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "y".repeat(9000)), HandshakeError::TooLarge { max: 8192 }, 431),
    ];
    for (text, expected, status) in cases {
        let result = parse_all_ways(text.as_bytes(), |b| parse_request(b, 8192, 32));
        assert_eq!(result, Err(expected.clone()), "{text}");
        assert_eq!(expected.http_status(), status);
    }
}

#[test]
fn reject_responses_are_well_formed() {
    for (status, reason) in [
        (400, "Bad Request"),
        (426, "Upgrade Required"),
        (431, "Request Header Fields Too Large"),
    ] {
        let mut out = Vec::new();
        reject_response(status, &mut out);
        let mut slots = [httparse::EMPTY_HEADER; 8];
        let mut resp = httparse::Response::new(&mut slots);
        assert_eq!(resp.parse(&out), Ok(httparse::Status::Complete(out.len())));
        assert_eq!((resp.code, resp.reason), (Some(status), Some(reason)));
        let version = resp
            .headers
            .iter()
            .find(|h| h.name == "Sec-WebSocket-Version")
            .map(|h| h.value);
        assert_eq!(version, (status == 426).then_some(&b"13"[..]));
    }
}

#[test]
fn ipv6_hosts_are_bracketed() {
    assert_eq!(host_header("::1", 9001, false), "[::1]:9001");
    assert_eq!(host_header("[::1]", 9001, true), "[::1]:9001");
    assert_eq!(host_header("fe80::1", 443, true), "[fe80::1]");
    assert_eq!(host_header("127.0.0.1", 80, false), "127.0.0.1");
}

#[test]
fn handshake_error_is_small_and_thread_safe() {
    fn assert_traits<T: std::error::Error + Send + Sync + 'static>() {}
    assert_traits::<HandshakeError>();
    assert!(std::mem::size_of::<HandshakeError>() <= 24);
}
