//! Whole responses through the reader: fed whole, one byte at a time and split at every
//! offset, with a small initial buffer so growth is exercised too.

use super::*;

#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    reason: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    keep_alive: bool,
}

/// Feeds `parts`, then EOF if `eof`; returns the response or the first error.
fn run(
    reader: &mut ResponseReader,
    method: Method,
    parts: &[&[u8]],
    eof: bool,
) -> Result<Option<Seen>, ParseError> {
    reader.start(method);
    let mut progress = Progress::NeedMore;
    for part in parts {
        let mut rest = *part;
        while !rest.is_empty() {
            let spare = reader.spare()?;
            let n = spare.len().min(rest.len());
            spare[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            progress = reader.handle_read(n)?;
        }
    }
    if eof && progress == Progress::NeedMore {
        progress = reader.handle_eof()?;
    }
    if progress == Progress::NeedMore {
        return Ok(None);
    }
    let r = reader.response().expect("complete");
    Ok(Some(Seen {
        status: r.status(),
        reason: r.reason().to_owned(),
        headers: r
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect(),
        body: r.body().to_vec(),
        keep_alive: reader.keep_alive(),
    }))
}

fn check_all_ways(
    limits: Limits,
    method: Method,
    wire: &[u8],
    eof: bool,
) -> Result<Option<Seen>, ParseError> {
    let mut reader = ResponseReader::with_limits(8, limits);
    let whole = run(&mut reader, method, &[wire], eof);
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        run(
            &mut ResponseReader::with_limits(1, limits),
            method,
            &bytes,
            eof
        ),
        whole,
        "byte at a time"
    );
    for at in 0..=wire.len() {
        let (a, b) = wire.split_at(at);
        // Reusing the same reader also checks that `start` forgets the previous response.
        assert_eq!(
            run(&mut reader, method, &[a, b], eof),
            whole,
            "split at {at}"
        );
    }
    whole
}

fn ok(wire: &[u8]) -> Seen {
    check_all_ways(Limits::default(), Method::Get, wire, false)
        .unwrap()
        .expect("complete without EOF")
}

#[test]
fn content_length_response_is_read_with_headers_in_order() {
    let seen = ok(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(seen.status, 200);
    assert_eq!(seen.reason, "OK");
    assert_eq!(seen.body, b"hello");
    assert!(seen.keep_alive);
    let names: Vec<&str> = seen.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Content-Type", "X-Dup", "x-dup", "Content-Length"]);
}

#[test]
fn header_lookup_is_case_insensitive_and_returns_the_first() {
    let mut reader = ResponseReader::new(256);
    let wire = b"HTTP/1.1 200 OK\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 0\r\n\r\n";
    run(&mut reader, Method::Get, &[wire], false)
        .unwrap()
        .unwrap();
    let resp = reader.response().unwrap();
    assert_eq!(resp.header("X-DUP"), Some("a"));
    assert_eq!(resp.header("content-length"), Some("0"));
    assert_eq!(resp.header("missing"), None);
    assert_eq!(resp.header_bytes("x-dup"), Some(&b"a"[..]));
    assert_eq!(resp.body_str(), Ok(""));
}

#[test]
fn chunked_response_with_extensions_and_trailers_is_decoded_in_place() {
    let seen = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n");
    assert_eq!(seen.body, b"Wikipedia in\r\n\r\nchunks.");
    assert!(seen.keep_alive);
}

#[test]
fn interim_responses_are_skipped_before_the_final_one() {
    let seen = ok(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(seen.status, 201);
    assert_eq!(seen.body, b"ok");
    assert_eq!(seen.headers.len(), 1);
}

#[test]
fn bodyless_statuses_and_head_responses_complete_at_the_head() {
    for wire in [
        &b"HTTP/1.1 204 No Content\r\n\r\n"[..],
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
    ] {
        let seen = ok(wire);
        assert!(seen.body.is_empty());
        assert!(seen.keep_alive);
    }
    let seen = check_all_ways(
        Limits::default(),
        Method::Head,
        b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n",
        false,
    )
    .unwrap()
    .unwrap();
    assert!(seen.body.is_empty() && seen.keep_alive);
}

#[test]
fn http10_close_delimited_body_ends_at_eof_and_retires() {
    let got = check_all_ways(
        Limits::default(),
        Method::Get,
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        true,
    )
    .unwrap()
    .unwrap();
    assert_eq!(got.body, b"until the end");
    assert!(!got.keep_alive);
}

#[test]
fn connection_close_retires_after_a_complete_response() {
    let seen = ok(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx");
    assert!(!seen.keep_alive);
}

#[test]
fn bytes_after_the_response_retire_the_connection() {
    let seen = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n");
    assert_eq!(seen.body, b"x");
    assert!(!seen.keep_alive);
}

#[test]
fn truncated_bodies_and_heads_are_incomplete_at_eof() {
    let limits = Limits::default();
    assert_eq!(
        check_all_ways(
            limits,
            Method::Get,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            true
        ),
        Err(ParseError::IncompleteBody)
    );
    assert_eq!(
        check_all_ways(limits, Method::Get, b"HTTP/1.1 200 OK\r\nContent-Le", true),
        Err(ParseError::IncompleteHead)
    );
}

#[test]
fn body_larger_than_the_initial_buffer_grows_up_to_the_limit() {
    let body = vec![b'z'; 100_000];
    let mut wire =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    wire.extend_from_slice(&body);
    let mut reader = ResponseReader::new(1024).max_body_size(200_000);
    let seen = run(&mut reader, Method::Get, &[&wire], false)
        .unwrap()
        .unwrap();
    assert_eq!(seen.body, body);
    let grown = reader.buffer_capacity();
    assert!(grown >= wire.len());
    // The grown buffer is kept: the same response again does not grow it.
    run(&mut reader, Method::Get, &[&wire], false)
        .unwrap()
        .unwrap();
    assert_eq!(reader.buffer_capacity(), grown);
}

#[test]
fn oversize_bodies_fail_and_memory_stays_bounded() {
    let limits = Limits::default().max_body_size(1000);
    // Announced too large: refused at the head.
    let got = check_all_ways(
        limits,
        Method::Get,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n",
        false,
    );
    assert_eq!(got, Err(ParseError::BodyTooLarge { max: 1000 }));
    // Close-delimited and chunked: refused as the bytes arrive.
    let mut reader = ResponseReader::with_limits(64, limits);
    reader.start(Method::Get);
    let head = b"HTTP/1.1 200 OK\r\n\r\n";
    reader.spare().unwrap()[..head.len()].copy_from_slice(head);
    reader.handle_read(head.len()).unwrap();
    let err = loop {
        let n = reader.spare().map(|s| s.len());
        match n.and_then(|n| reader.handle_read(n)) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(err, ParseError::BodyTooLarge { max: 1000 });
    assert!(reader.buffer_capacity() <= 2 * limits.max_head_size + 1000 + MIN_READ);
}

#[test]
fn oversize_head_and_too_many_headers_have_their_own_errors() {
    let limits = Limits::default().max_head_size(32);
    let got = check_all_ways(
        limits,
        Method::Get,
        b"HTTP/1.1 200 OK\r\nX-Long: 0123456789abcdef\r\n\r\n",
        false,
    );
    assert_eq!(got, Err(ParseError::HeadTooLarge { max: 32 }));
    let limits = Limits::default().max_headers(1);
    let got = check_all_ways(
        limits,
        Method::Get,
        b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n",
        false,
    );
    assert_eq!(got, Err(ParseError::TooManyHeaders { max: 1 }));
}

#[test]
fn more_than_64_headers_parse_when_allowed() {
    let mut wire = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..100 {
        wire.extend_from_slice(format!("H{i}: {i}\r\n").as_bytes());
    }
    wire.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let mut reader = ResponseReader::new(64).max_headers(128);
    let seen = run(&mut reader, Method::Get, &[&wire], false)
        .unwrap()
        .unwrap();
    assert_eq!(seen.headers.len(), 101);
    assert_eq!(reader.response().unwrap().header("h99"), Some("99"));
}

#[test]
fn malformed_status_line_is_a_parse_error() {
    let got = check_all_ways(
        Limits::default(),
        Method::Get,
        b"HTTP/1.1 20x OK\r\n\r\n",
        false,
    );
    assert!(matches!(got, Err(ParseError::MalformedHead(_))), "{got:?}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_responses_never_panic_or_outgrow_the_limits(
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
            head in prop::sample::select(vec![
                &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
                b"HTTP/1.0 200 OK\r\n\r\n",
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"",
            ]),
            eof in any::<bool>(),
        ) {
            let limits = Limits::default().max_head_size(512).max_body_size(1024).max_headers(8);
            let mut wire = head.to_vec();
            wire.extend_from_slice(&tail);
            let mut reader = ResponseReader::with_limits(16, limits);
            let _ = run(&mut reader, Method::Get, &[&wire], eof);
            prop_assert!(reader.buffer_capacity() <= 2 * 512 + 1024 + MIN_READ);
        }
    }
}

/// The one header rule: `header` is text or `None`, `header_bytes` is the raw value.
#[test]
fn a_non_utf8_header_value_is_none_as_text_and_raw_as_bytes() {
    let mut reader = ResponseReader::new(256);
    let wire = b"HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\nContent-Length: 0\r\n\r\n";
    run(&mut reader, Method::Get, &[wire], false)
        .unwrap()
        .unwrap();
    let resp = reader.response().unwrap();
    assert_eq!(resp.header("x-latin"), None);
    assert_eq!(resp.header_bytes("X-LATIN"), Some(&b"caf\xe9"[..]));
    assert!(
        resp.headers()
            .any(|(n, v)| n == "X-Latin" && v == b"caf\xe9")
    );
}
