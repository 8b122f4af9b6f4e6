//! Wire-vector tables for the decoder, each fed whole, byte by byte and split everywhere.

use crate::proto::Role;

use super::testing::*;
use super::{
    Advance, CloseCode, CloseFrame, Config, Control, Decoder, Message, OwnedMessage, ProtocolError,
};

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONT: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

fn ping(p: &[u8]) -> Event {
    Event::Msg(OwnedMessage::Ping(Control::new(p).unwrap_or_default()))
}

fn pong(p: &[u8]) -> Event {
    Event::Msg(OwnedMessage::Pong(Control::new(p).unwrap_or_default()))
}

fn close(code: u16, reason: &str) -> Event {
    Event::Msg(OwnedMessage::Close(CloseFrame::new(
        CloseCode::from(code),
        reason,
    )))
}

fn err(e: ProtocolError) -> Event {
    Event::Err(e)
}

fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// Runs one vector in both roles (frames masked as each role expects).
fn check(frames: &[(bool, u8, &[u8])], expected: &[Event], eof: bool, config: &Config) {
    for role in [Role::Client, Role::Server] {
        let bytes: Vec<u8> = frames
            .iter()
            .flat_map(|&(fin, op, payload)| frame_to(role, fin, op, payload))
            .collect();
        let events = decode_all_ways(role, config, &bytes, eof);
        assert_eq!(events, expected, "{role:?} {frames:x?}");
    }
}

fn check_default(frames: &[(bool, u8, &[u8])], expected: &[Event]) {
    check(frames, expected, false, &Config::default());
}

#[test]
fn single_frames_of_every_kind_are_delivered() {
    check_default(&[(true, TEXT, b"Hello")], &[text("Hello")]);
    check_default(&[(true, TEXT, b"")], &[text("")]);
    check_default(
        &[(true, BINARY, &[0, 1, 2, 255])],
        &[binary(&[0, 1, 2, 255])],
    );
    check_default(&[(true, PING, b"")], &[ping(b"")]);
    check_default(&[(true, PING, &[7; 125])], &[ping(&[7; 125])]);
    check_default(&[(true, PONG, b"pong")], &[pong(b"pong")]);
}

#[test]
fn sixteen_bit_length_frames_are_delivered_from_either_buffer() {
    let payload: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    check_default(&[(true, BINARY, &payload)], &[binary(&payload)]);
    let s = "ü€".repeat(60);
    check_default(&[(true, TEXT, s.as_bytes())], &[text(&s)]);
}

#[test]
fn sixty_four_bit_length_frame_streams_through_a_small_read_buffer() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    for role in [Role::Client, Role::Server] {
        let bytes = frame_to(role, true, BINARY, &payload);
        for cap in [0, 4096, 1 << 20] {
            let cfg = Config::default().read_buffer_capacity(cap);
            let whole = decode_chunks(role, &cfg, &[&bytes], false);
            assert_eq!(whole, [binary(&payload)]);
            let chunks: Vec<&[u8]> = bytes.chunks(777).collect();
            assert_eq!(decode_chunks(role, &cfg, &chunks, false), whole);
        }
        let cfg = Config::default().read_buffer_capacity(0);
        assert_eq!(
            decode_bytewise(role, &cfg, &bytes, false),
            [binary(&payload)]
        );
    }
}

#[test]
fn fragmented_messages_are_assembled() {
    check_default(
        &[
            (false, TEXT, b"Hel"),
            (false, CONT, b""),
            (true, CONT, b"lo"),
        ],
        &[text("Hello")],
    );
    check_default(
        &[(false, BINARY, &[1]), (true, CONT, &[2, 3])],
        &[binary(&[1, 2, 3])],
    );
    check_default(&[(false, TEXT, b""), (true, CONT, b"")], &[text("")]);
}

#[test]
fn control_frames_inside_a_fragmented_message_are_delivered_immediately() {
    check_default(
        &[
            (false, TEXT, b"frag"),
            (true, PING, b"p1"),
            (false, CONT, b"men"),
            (true, PONG, b"p2"),
            (true, CONT, b"ted"),
            (true, TEXT, b"next"),
        ],
        &[ping(b"p1"), pong(b"p2"), text("fragmented"), text("next")],
    );
}

#[test]
fn code_points_split_across_fragments_are_valid() {
    let bytes = "é€😀".as_bytes();
    let frames: Vec<(bool, u8, &[u8])> = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let op = if i == 0 { TEXT } else { CONT };
            (i + 1 == bytes.len(), op, std::slice::from_ref(b))
        })
        .collect();
    check_default(&frames, &[text("é€😀")]);
}

#[test]
fn invalid_utf8_text_fails_with_1007_however_it_arrives() {
    // The published crate returned this as `Text` when the payload came in several reads.
    let bad = [b'o', b'k', 0xFF, 0xFE, 0xFD];
    check_default(&[(true, TEXT, &bad)], &[err(ProtocolError::InvalidUtf8)]);
    check_default(
        &[(false, TEXT, b"ok"), (true, CONT, &[0xFF])],
        &[err(ProtocolError::InvalidUtf8)],
    );
    // A message must not end inside a code point, even if each fragment is a prefix.
    check_default(
        &[(false, TEXT, b"a"), (true, CONT, &[0xC3])],
        &[err(ProtocolError::InvalidUtf8)],
    );
    check_default(
        &[(true, TEXT, &[0xE2, 0x82])],
        &[err(ProtocolError::InvalidUtf8)],
    );
    assert_eq!(
        ProtocolError::InvalidUtf8.close_code(),
        CloseCode::InvalidPayload
    );
}

#[test]
fn invalid_text_fails_before_the_rest_of_the_frame_arrives() {
    for role in [Role::Client, Role::Server] {
        for cap in [0, 1 << 20] {
            let mut payload = vec![b'a'; 1000];
            payload[3] = 0xFF;
            let bytes = frame_to(role, true, TEXT, &payload);
            let mut d = Decoder::new(role, &Config::default().read_buffer_capacity(cap));
            let head = if role == Role::Server { 8 } else { 4 };
            assert_eq!(d.handle_input(&bytes[..head + 2]), head + 2);
            assert_eq!(d.advance(), Ok(Advance::NeedInput));
            d.handle_input(&bytes[head + 2..head + 4]);
            assert_eq!(d.advance(), Err(ProtocolError::InvalidUtf8), "cap {cap}");
            assert_eq!(d.advance(), Ok(Advance::Closed));
        }
    }
}

#[test]
fn close_frames_are_parsed_and_end_the_stream() {
    check_default(
        &[(true, CLOSE, b"")],
        &[Event::Msg(OwnedMessage::Close(None)), Event::Closed],
    );
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999,
    ] {
        let p = close_payload(code, b"bye");
        check_default(&[(true, CLOSE, &p)], &[close(code, "bye"), Event::Closed]);
    }
}

#[test]
fn bad_close_payloads_are_rejected() {
    check_default(
        &[(true, CLOSE, &[0x03])],
        &[err(ProtocolError::ClosePayloadTooShort)],
    );
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let p = close_payload(code, b"");
        check_default(
            &[(true, CLOSE, &p)],
            &[err(ProtocolError::InvalidCloseCode(code))],
        );
    }
    let p = close_payload(1000, &[0xCE, 0xBA, 0xFF]);
    check_default(
        &[(true, CLOSE, &p)],
        &[err(ProtocolError::InvalidCloseReason)],
    );
}

#[test]
fn data_after_close_is_ignored() {
    let p = close_payload(1000, b"");
    check_default(
        &[
            (true, TEXT, b"a"),
            (true, CLOSE, &p),
            (true, TEXT, b"ignored"),
            (true, 0x3, b""),
        ],
        &[text("a"), close(1000, ""), Event::Closed],
    );
}

#[test]
fn fragmentation_order_violations_are_rejected() {
    check_default(
        &[(true, CONT, b"x")],
        &[err(ProtocolError::UnexpectedContinuation)],
    );
    check_default(
        &[(false, TEXT, b"a"), (true, TEXT, b"b")],
        &[err(ProtocolError::ExpectedContinuation)],
    );
    check_default(
        &[(false, TEXT, b"a"), (true, BINARY, b"b")],
        &[err(ProtocolError::ExpectedContinuation)],
    );
    check_default(
        &[(true, TEXT, b"whole"), (true, CONT, b"x")],
        &[text("whole"), err(ProtocolError::UnexpectedContinuation)],
    );
}

#[test]
fn header_violations_end_the_stream_after_earlier_messages() {
    check_default(
        &[(true, TEXT, b"a"), (true, 0x3, b"")],
        &[text("a"), err(ProtocolError::ReservedOpcode(3))],
    );
    check_default(
        &[(true, TEXT | 0x40, b"a")],
        &[err(ProtocolError::ReservedBits)],
    );
    check_default(
        &[(false, PING, b"")],
        &[err(ProtocolError::FragmentedControlFrame)],
    );
    check_default(
        &[(true, PING, &[0; 126])],
        &[err(ProtocolError::ControlFrameTooLarge)],
    );
}

#[test]
fn masking_must_match_the_role() {
    let unmasked = raw_frame(0x81, None, b"hi");
    assert_eq!(
        decode_all_ways(Role::Server, &Config::default(), &unmasked, false),
        [err(ProtocolError::UnmaskedFrameFromClient)]
    );
    let masked = raw_frame(0x81, Some(TEST_KEY), b"hi");
    assert_eq!(
        decode_all_ways(Role::Client, &Config::default(), &masked, false),
        [err(ProtocolError::MaskedFrameFromServer)]
    );
}

#[test]
fn non_minimal_and_oversized_lengths_are_rejected() {
    let cfg = Config::default();
    let cases: &[(&[u8], ProtocolError)] = &[
        (
            &[0x82, 0x7E, 0x00, 0x05, 1, 2, 3, 4, 5],
            ProtocolError::NonMinimalLength,
        ),
        (
            &[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x01, 0x00],
            ProtocolError::NonMinimalLength,
        ),
        (
            &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
            ProtocolError::LengthMsbSet,
        ),
    ];
    for (bytes, e) in cases {
        assert_eq!(
            decode_all_ways(Role::Client, &cfg, bytes, false),
            [err(e.clone())]
        );
    }
}

#[test]
fn huge_length_claims_fail_with_1009_without_allocating() {
    // 2^63 - 1 bytes announced: allocating it would abort the test process.
    let bytes = [0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let events = decode_all_ways(Role::Client, &Config::default(), &bytes, false);
    let expected = ProtocolError::FrameTooLarge {
        size: i64::MAX as u64,
        max: 16 << 20,
    };
    assert_eq!(events, [err(expected.clone())]);
    assert_eq!(expected.close_code(), CloseCode::MessageTooBig);
}

#[test]
fn frame_and_message_limits_are_checked_against_headers() {
    let cfg = Config::default().max_frame_size(8).max_message_size(10);
    let too_big_frame = ProtocolError::FrameTooLarge { size: 9, max: 8 };
    check(
        &[(true, BINARY, &[0; 9])],
        &[err(too_big_frame)],
        false,
        &cfg,
    );
    check(&[(true, BINARY, &[0; 8])], &[binary(&[0; 8])], false, &cfg);
    let too_big_msg = ProtocolError::MessageTooLarge { size: 12, max: 10 };
    check(
        &[(false, TEXT, b"123456"), (true, CONT, b"123456")],
        &[err(too_big_msg)],
        false,
        &cfg,
    );
    check(
        &[
            (false, TEXT, b"12345"),
            (true, PING, b""),
            (true, CONT, b"12345"),
        ],
        &[ping(b""), text("1234512345")],
        false,
        &cfg,
    );
}

#[test]
fn eof_between_messages_is_a_clean_end() {
    check(
        &[(true, TEXT, b"a")],
        &[text("a"), Event::Closed],
        true,
        &Config::default(),
    );
    check(&[], &[Event::Closed], true, &Config::default());
}

#[test]
fn eof_inside_a_frame_or_message_is_an_error_after_complete_messages() {
    for role in [Role::Client, Role::Server] {
        let mut bytes = frame_to(role, true, TEXT, b"done");
        bytes.extend(frame_to(role, true, BINARY, b"cut short"));
        bytes.truncate(bytes.len() - 3);
        let events = decode_all_ways(role, &Config::default(), &bytes, true);
        assert_eq!(events, [text("done"), err(ProtocolError::UnexpectedEof)]);
        let header_only = &frame_to(role, true, TEXT, b"abc")[..1];
        let events = decode_all_ways(role, &Config::default(), header_only, true);
        assert_eq!(events, [err(ProtocolError::UnexpectedEof)]);
    }
    check(
        &[(false, TEXT, b"unfinished")],
        &[err(ProtocolError::UnexpectedEof)],
        true,
        &Config::default(),
    );
}

#[test]
fn small_frames_are_returned_from_the_read_buffer_without_copy() {
    let mut d = Decoder::new(Role::Client, &Config::default());
    d.handle_input(&frame_to(Role::Client, true, BINARY, &[1; 1000]));
    assert_eq!(d.advance(), Ok(Advance::Message));
    assert_eq!(d.message(), Some(Message::Binary(&[1; 1000])));
    assert_eq!(d.assembly_capacity(), 0);
}

#[test]
fn message_is_gone_after_the_next_mutating_call() {
    let mut d = Decoder::new(Role::Client, &Config::default());
    d.handle_input(&frame_to(Role::Client, true, TEXT, b"x"));
    assert_eq!(d.advance(), Ok(Advance::Message));
    assert!(d.message().is_some());
    assert_eq!(d.buffered(), 0);
    let _ = d.read_buf();
    assert!(d.message().is_none());
}

#[test]
fn a_hundred_thousand_one_byte_fragments_decode_in_linear_time() {
    for role in [Role::Client, Role::Server] {
        let n = 100_000;
        let payload = "é".repeat(n / 2);
        let mut bytes = Vec::with_capacity(n * 7);
        for (i, b) in payload.as_bytes().iter().enumerate() {
            let op = if i == 0 { TEXT } else { CONT };
            bytes.extend(frame_to(role, i + 1 == n, op, std::slice::from_ref(b)));
        }
        let cfg = Config::default();
        let events = decode_chunks(role, &cfg, &[&bytes], false);
        assert_eq!(events, [text(&payload)]);
        let chunks: Vec<&[u8]> = bytes.chunks(1500).collect();
        assert_eq!(
            decode_chunks(role, &cfg.clone().read_buffer_capacity(0), &chunks, false),
            events
        );
    }
}

#[test]
fn many_messages_larger_than_half_the_buffer_never_deadlock() {
    let cfg = Config::default().read_buffer_capacity(256);
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for len in [0usize, 1, 125, 126, 200, 250, 256, 257, 300, 1000] {
        let p: Vec<u8> = (0..len).map(|i| i as u8).collect();
        bytes.extend(frame_to(Role::Server, true, BINARY, &p));
        bytes.extend(frame_to(Role::Server, true, PING, &[9; 125]));
        expected.push(binary(&p));
        expected.push(ping(&[9; 125]));
    }
    for chunk in [1, 7, 100, 255, 256, 4096] {
        let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
        assert_eq!(decode_chunks(Role::Server, &cfg, &chunks, false), expected);
    }
}

#[test]
fn bytes_after_the_end_are_accepted_and_discarded() {
    let mut d = Decoder::new(Role::Client, &Config::default().read_buffer_capacity(256));
    let mut wire = frame_to(Role::Client, true, CLOSE, b"");
    wire.extend_from_slice(&frame_to(Role::Client, true, TEXT, b"late"));
    d.handle_input(&wire);
    assert_eq!(d.advance(), Ok(Advance::Message));
    assert_eq!(d.message(), Some(Message::Close(None)));
    assert_eq!(d.close_received(), Some(None));
    assert!(d.is_closed());
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.handle_input(&[0; 1000]), 1000);
    assert_eq!(d.read_buf().len(), 256);
    d.handle_read(256);
    assert_eq!(d.advance(), Ok(Advance::Closed));
    assert_eq!(d.buffered(), 0);
}

#[test]
fn buffered_counts_bytes_not_parsed_yet() {
    let mut d = Decoder::new(Role::Client, &Config::default());
    let mut wire = frame_to(Role::Client, true, TEXT, b"one");
    wire.extend_from_slice(&[0x81]);
    d.handle_input(&wire);
    assert_eq!(d.buffered(), wire.len());
    assert_eq!(d.advance(), Ok(Advance::Message));
    assert_eq!(d.buffered(), 1);
    assert_eq!(d.advance(), Ok(Advance::NeedInput));
    assert_eq!(d.buffered(), 1);
}
