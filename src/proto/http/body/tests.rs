//! Wire vectors for the body decoder, each fed whole, one byte at a time and split at
//! every offset.

use super::*;

/// Outcome of decoding a whole input: body bytes, whether done, bytes left unconsumed.
type Outcome = Result<(Vec<u8>, bool, usize), ParseError>;

fn limits(max_body: usize) -> Limits {
    Limits::default().max_body_size(max_body).max_head_size(64)
}

/// Feeds `parts` in order, carrying unconsumed bytes over as a reader would.
fn feed(framing: Framing, max_body: usize, parts: &[&[u8]], eof: bool) -> Outcome {
    let mut dec = BodyDecoder::new(framing, &limits(max_body))?;
    let mut body = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for part in parts {
        pending.extend_from_slice(part);
        loop {
            let step = dec.decode(&pending)?;
            body.extend_from_slice(&pending[step.data.clone()]);
            pending.drain(..step.consumed);
            if step.consumed == 0 || dec.is_done() {
                break;
            }
        }
    }
    if eof && !dec.is_done() {
        dec.handle_eof()?;
    }
    Ok((body, dec.is_done(), pending.len()))
}

/// Asserts that whole, byte-at-a-time and every two-way split give the same outcome.
fn check(framing: Framing, max_body: usize, wire: &[u8], eof: bool, expected: &Outcome) {
    assert_eq!(&feed(framing, max_body, &[wire], eof), expected, "whole");
    let bytes: Vec<&[u8]> = wire.chunks(1).collect();
    assert_eq!(
        &feed(framing, max_body, &bytes, eof),
        expected,
        "byte at a time"
    );
    for at in 0..=wire.len() {
        let (a, b) = wire.split_at(at);
        assert_eq!(
            &feed(framing, max_body, &[a, b], eof),
            expected,
            "split at {at}"
        );
    }
}

const BIG: usize = 1 << 20;

#[test]
fn content_length_body_stops_at_its_length() {
    check(
        Framing::Length(5),
        BIG,
        b"helloEXTRA",
        false,
        &Ok((b"hello".to_vec(), true, 5)),
    );
}

#[test]
fn zero_length_and_no_body_are_done_at_once() {
    check(Framing::Length(0), BIG, b"", false, &Ok((vec![], true, 0)));
    check(Framing::None, BIG, b"junk", false, &Ok((vec![], true, 4)));
}

#[test]
fn truncated_content_length_body_is_incomplete_at_eof() {
    check(
        Framing::Length(10),
        BIG,
        b"short",
        true,
        &Err(ParseError::IncompleteBody),
    );
}

#[test]
fn announced_length_over_the_limit_is_refused_before_any_byte() {
    assert_eq!(
        BodyDecoder::new(Framing::Length(11), &limits(10)),
        Err(ParseError::BodyTooLarge { max: 10 })
    );
}

#[test]
fn close_delimited_body_ends_at_eof() {
    check(
        Framing::UntilClose,
        BIG,
        b"all of it",
        true,
        &Ok((b"all of it".to_vec(), true, 0)),
    );
}

#[test]
fn close_delimited_body_over_the_limit_fails_as_it_arrives() {
    check(
        Framing::UntilClose,
        4,
        b"12345",
        true,
        &Err(ParseError::BodyTooLarge { max: 4 }),
    );
}

#[test]
fn chunked_body_is_reassembled() {
    let wire = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\nNEXT";
    check(
        Framing::Chunked,
        BIG,
        wire,
        false,
        &Ok((b"hello, world".to_vec(), true, 4)),
    );
}

#[test]
fn chunked_sizes_accept_upper_and_lower_hex_and_leading_zeros() {
    let wire = b"0A\r\n0123456789\r\na\r\nabcdefghij\r\n000\r\n\r\n";
    let mut body = b"0123456789".to_vec();
    body.extend_from_slice(b"abcdefghij");
    check(Framing::Chunked, BIG, wire, false, &Ok((body, true, 0)));
}

#[test]
fn chunk_extensions_and_trailers_are_tolerated() {
    let wire = b"3;name=value;x=\"q\"\r\nabc\r\n2 ; ext\r\nde\r\n0;last\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";
    check(
        Framing::Chunked,
        BIG,
        wire,
        false,
        &Ok((b"abcde".to_vec(), true, 0)),
    );
}

#[test]
fn chunked_body_over_the_limit_fails_at_the_size_line() {
    check(
        Framing::Chunked,
        4,
        b"5\r\nhello\r\n0\r\n\r\n",
        false,
        &Err(ParseError::BodyTooLarge { max: 4 }),
    );
    check(
        Framing::Chunked,
        6,
        b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
        false,
        &Err(ParseError::BodyTooLarge { max: 6 }),
    );
}

#[test]
fn invalid_chunk_size_lines_are_parse_errors() {
    for wire in [
        &b"x\r\n"[..],
        b"\r\n",
        b"-1\r\n",
        b"5x\r\n",
        b"5 x\r\n",
        b";ext\r\n",
        b"11111111111111111\r\n",
    ] {
        check(
            Framing::Chunked,
            BIG,
            wire,
            false,
            &Err(ParseError::InvalidChunkSize),
        );
    }
}

#[test]
fn missing_crlf_around_chunk_data_is_a_parse_error() {
    for wire in [
        &b"3\r\nabcX"[..],
        b"3\r\nabc\rX",
        b"3\rX",
        b"3;e\n",
        b"0\r\n\rX",
        b"0\r\nA: b\rX",
    ] {
        check(
            Framing::Chunked,
            BIG,
            wire,
            false,
            &Err(ParseError::InvalidChunkDelimiter),
        );
    }
}

#[test]
fn endless_chunk_extension_is_refused() {
    let mut wire = b"1;".to_vec();
    wire.resize(2 + MAX_CHUNK_EXTENSION + 1, b'x');
    let got = feed(Framing::Chunked, BIG, &[&wire], false);
    assert_eq!(got, Err(ParseError::ChunkExtensionTooLong));
}

#[test]
fn trailer_section_over_the_head_limit_is_refused() {
    let mut wire = b"0\r\n".to_vec();
    wire.extend_from_slice(&[b'a'; 65]);
    check(
        Framing::Chunked,
        BIG,
        &wire,
        false,
        &Err(ParseError::TrailersTooLarge),
    );
}

#[test]
fn truncated_chunked_body_is_incomplete_at_eof() {
    for wire in [
        &b""[..],
        b"5\r\nhel",
        b"5\r\nhello\r\n",
        b"0\r\n",
        b"0\r\nX: y\r\n",
    ] {
        check(
            Framing::Chunked,
            BIG,
            wire,
            true,
            &Err(ParseError::IncompleteBody),
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Encodes `body` as chunks of the given sizes (cycled), with an extension on every
    /// other size line and one trailer.
    fn encode_chunked(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            out.extend_from_slice(format!("{n:x}").as_bytes());
            if i % 2 == 1 {
                out.extend_from_slice(b";ext=v");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\nX-T: 1\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn chunked_encoding_decodes_to_the_body_however_it_is_split(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            sizes in proptest::collection::vec(1usize..300, 1..8),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        ) {
            let wire = encode_chunked(&body, &sizes);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
            points.sort_unstable();
            let mut parts = Vec::new();
            let mut last = 0;
            for p in points {
                parts.push(&wire[last..p]);
                last = p;
            }
            parts.push(&wire[last..]);
            let got = feed(Framing::Chunked, BIG, &parts, false);
            prop_assert_eq!(got, Ok((body, true, 0)));
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_decoder(
            wire in proptest::collection::vec(any::<u8>(), 0..512),
            max in 0usize..64,
        ) {
            for framing in [Framing::Chunked, Framing::UntilClose, Framing::Length(17)] {
                let _ = feed(framing, max, &[&wire], true);
            }
        }
    }
}
