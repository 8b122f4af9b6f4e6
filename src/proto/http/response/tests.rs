//! Wire vectors for the head parser. Each is parsed at every prefix length: a head is
//! reported exactly once all of it is there, and errors do not depend on how bytes arrived.

use super::*;

fn parse(wire: &[u8], limits: &Limits, method: Method) -> Result<Option<Head>, ParseError> {
    let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
    parse_head(wire, &mut slots, limits, method)
}

/// Parses every prefix of `wire`; returns the first non-`None` outcome and where it came.
fn first_outcome(
    wire: &[u8],
    limits: &Limits,
    method: Method,
) -> (usize, Result<Head, ParseError>) {
    for end in 0..=wire.len() {
        match parse(&wire[..end], limits, method) {
            Ok(None) => continue,
            Ok(Some(head)) => return (end, Ok(head)),
            Err(e) => return (end, Err(e)),
        }
    }
    panic!("no outcome for {wire:?}");
}

fn head_of(wire: &[u8]) -> Head {
    head_with(wire, &Limits::default(), Method::Get)
}

fn head_with(wire: &[u8], limits: &Limits, method: Method) -> Head {
    let (end, head) = first_outcome(wire, limits, method);
    let head = head.unwrap();
    assert_eq!(
        end, head.len,
        "the head is reported exactly when its last byte arrives"
    );
    // Whole input (with body bytes after the head) parses the same.
    let mut padded = wire.to_vec();
    padded.extend_from_slice(b"body bytes");
    assert_eq!(
        parse(&padded, limits, method).unwrap().as_ref(),
        Some(&head)
    );
    head
}

#[test]
fn content_length_response_is_framed_by_length() {
    let wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\n";
    let head = head_of(wire);
    assert_eq!(head.status, 200);
    assert_eq!(&wire[head.reason.clone()], b"OK");
    assert_eq!(head.framing, Framing::Length(5));
    assert_eq!(head.header_count, 2);
    assert!(head.keep_alive);
}

#[test]
fn chunked_wins_over_content_length_and_retires_the_connection() {
    let head = head_of(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
    );
    assert_eq!(head.framing, Framing::Chunked);
    assert!(!head.keep_alive);
    let head = head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(head.framing, Framing::Chunked);
    assert!(head.keep_alive);
}

#[test]
fn transfer_coding_not_ending_in_chunked_reads_until_close() {
    let head = head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert_eq!(head.framing, Framing::UntilClose);
    assert!(!head.keep_alive);
}

#[test]
fn unframed_response_reads_until_close_and_retires() {
    let head = head_of(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(head.framing, Framing::UntilClose);
    assert!(!head.keep_alive);
}

#[test]
fn no_body_for_204_304_1xx_and_head_requests() {
    for wire in [
        &b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"[..],
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n",
    ] {
        let head = head_of(wire);
        assert_eq!(head.framing, Framing::None, "{wire:?}");
        assert!(head.keep_alive);
    }
    let head = head_with(
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
        &Limits::default(),
        Method::Head,
    );
    assert_eq!(head.framing, Framing::None);
}

#[test]
fn informational_heads_are_interim_and_101_is_refused() {
    assert!(head_of(b"HTTP/1.1 100 Continue\r\n\r\n").is_interim());
    assert!(!head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_interim());
    let (_, got) = first_outcome(
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        &Limits::default(),
        Method::Get,
    );
    assert_eq!(got, Err(ParseError::UnexpectedUpgrade));
}

#[test]
fn connection_close_and_http10_retire_the_connection() {
    assert!(
        !head_of(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive
    );
    assert!(!head_of(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    let head = head_of(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    assert!(head.keep_alive);
    assert_eq!(head.minor_version, 0);
}

#[test]
fn reason_phrase_may_be_missing() {
    let wire = b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
    let head = head_of(wire);
    assert!(wire[head.reason.clone()].is_empty());
}

#[test]
fn malformed_status_lines_are_parse_errors() {
    for wire in [
        &b"HTTP/1.1 2000 OK\r\n\r\n"[..],
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTX/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    ] {
        let (_, got) = first_outcome(wire, &Limits::default(), Method::Get);
        assert!(
            matches!(got, Err(ParseError::MalformedHead(_))),
            "{wire:?}: {got:?}"
        );
    }
}

#[test]
fn conflicting_or_invalid_content_lengths_are_parse_errors() {
    for wire in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    ] {
        let (_, got) = first_outcome(wire, &Limits::default(), Method::Get);
        assert_eq!(got, Err(ParseError::InvalidContentLength), "{wire:?}");
    }
    let head = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n");
    assert_eq!(head.framing, Framing::Length(7));
}

#[test]
fn head_over_the_size_limit_fails_however_it_arrives() {
    let limits = Limits::default().max_head_size(40);
    let wire = b"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let (_, got) = first_outcome(wire, &limits, Method::Get);
    assert_eq!(got, Err(ParseError::HeadTooLarge { max: 40 }));
    assert_eq!(
        parse(wire, &limits, Method::Get),
        Err(ParseError::HeadTooLarge { max: 40 })
    );
    // Exactly at the limit is fine.
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    assert!(head_with(ok, &Limits::default().max_head_size(ok.len()), Method::Get).keep_alive);
}

#[test]
fn more_headers_than_slots_is_too_many_headers() {
    let limits = Limits::default().max_headers(2);
    let wire = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    let (_, got) = first_outcome(wire, &limits, Method::Get);
    assert_eq!(got, Err(ParseError::TooManyHeaders { max: 2 }));
    let two = b"HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(head_with(two, &limits, Method::Get).header_count, 2);
}

#[test]
fn span_of_rejects_slices_outside_the_buffer() {
    let buf = b"hello world";
    assert_eq!(span_of(buf, &buf[6..]), Some(6..11));
    let other = b"world";
    assert_eq!(span_of(&buf[..5], &buf[6..]), None);
    let _ = span_of(buf, other); // any answer, never a panic
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_head_parser(
            wire in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let limits = Limits::default().max_head_size(256).max_headers(4);
            let _ = parse(&wire, &limits, Method::Get);
            let mut prefixed = b"HTTP/1.1 200 OK\r\n".to_vec();
            prefixed.extend_from_slice(&wire);
            let _ = parse(&prefixed, &limits, Method::Get);
        }
    }
}
