//! Property tests: encode→decode round trips in both roles with random fragmentation and
//! chunking, and split invariance on arbitrary bytes. Bounded to 64 cases per property.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::proto::Role;

use super::testing::{Event, decode_chunks};
use super::{Config, Control, Encoder, OpCode, OwnedMessage};

#[derive(Clone, Debug)]
enum Item {
    Data {
        text: bool,
        payload: Vec<u8>,
        cuts: Vec<Index>,
        ping_between: Option<Vec<u8>>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn item() -> impl Strategy<Value = Item> {
    let control = vec(any::<u8>(), 0..=125);
    let text = vec(any::<char>(), 0..300).prop_map(|c| String::from_iter(c).into_bytes());
    let payload = prop_oneof![
        text.prop_map(|t| (true, t)),
        vec(any::<u8>(), 0..2000).prop_map(|b| (false, b))
    ];
    prop_oneof![
        4 => (payload, vec(any::<Index>(), 0..4), proptest::option::of(control.clone())).prop_map(
            |((text, payload), cuts, ping_between)| Item::Data { text, payload, cuts, ping_between }
        ),
        1 => control.clone().prop_map(Item::Ping),
        1 => control.prop_map(Item::Pong),
    ]
}

fn control(payload: &[u8]) -> Control {
    Control::new(payload).unwrap_or_default()
}

/// Encodes `items` as `role` and returns the wire bytes and the events the peer expects.
fn encode(role: Role, items: &[Item]) -> Result<(Vec<u8>, Vec<Event>), TestCaseError> {
    let mut enc = Encoder::new(role, &Config::default().write_buffer_capacity(512));
    let mut expected = Vec::new();
    for item in items {
        let r = match item {
            Item::Ping(p) => {
                expected.push(Event::Msg(OwnedMessage::Ping(control(p))));
                enc.encode_ping(p)
            }
            Item::Pong(p) => {
                expected.push(Event::Msg(OwnedMessage::Pong(control(p))));
                enc.encode_pong(p)
            }
            Item::Data {
                text,
                payload,
                cuts,
                ping_between,
            } => {
                let mut points: Vec<usize> =
                    cuts.iter().map(|i| i.index(payload.len() + 1)).collect();
                points.sort_unstable();
                points.push(payload.len());
                let mut start = 0;
                let last = points.len() - 1;
                for (n, &end) in points.iter().enumerate() {
                    let op = match (n, text) {
                        (0, true) => OpCode::Text,
                        (0, false) => OpCode::Binary,
                        _ => OpCode::Continuation,
                    };
                    enc.encode_frame(op, n == last, &payload[start..end])
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    if n == 0
                        && last > 0
                        && let Some(p) = ping_between
                    {
                        expected.push(Event::Msg(OwnedMessage::Ping(control(p))));
                        enc.encode_ping(p)
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    }
                    start = end;
                }
                expected.push(Event::Msg(if *text {
                    OwnedMessage::Text(String::from_utf8(payload.clone()).unwrap_or_default())
                } else {
                    OwnedMessage::Binary(payload.clone())
                }));
                Ok(())
            }
        };
        r.map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    Ok((enc.pending().to_vec(), expected))
}

fn chunked<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (a, b) = rest.split_at(size.min(rest.len()));
        out.push(a);
        rest = b;
    }
    out
}

fn peer(role: Role) -> Role {
    match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encoded_messages_decode_to_the_same_messages_in_both_roles(
        items in vec(item(), 0..12),
        sizes in vec(1usize..700, 1..8),
        capacity in 0usize..3000,
    ) {
        for role in [Role::Client, Role::Server] {
            let (wire, expected) = encode(role, &items)?;
            let config = Config::default().read_buffer_capacity(capacity);
            let events = decode_chunks(peer(role), &config, &chunked(&wire, &sizes), false);
            prop_assert_eq!(events, expected);
        }
    }

    #[test]
    fn decoding_is_independent_of_how_bytes_are_split(
        bytes in vec(any::<u8>(), 0..400),
        sizes in vec(1usize..64, 1..8),
        server in any::<bool>(),
        eof in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let config = Config::default().read_buffer_capacity(0);
        let whole = decode_chunks(role, &config, &[&bytes], eof);
        prop_assert_eq!(decode_chunks(role, &config, &chunked(&bytes, &sizes), eof), whole);
    }

    #[test]
    fn valid_streams_with_noise_appended_split_the_same_way(
        items in vec(item(), 1..6),
        noise in vec(any::<u8>(), 0..64),
        sizes in vec(1usize..300, 1..8),
    ) {
        let (mut wire, _) = encode(Role::Client, &items)?;
        wire.extend_from_slice(&noise);
        let config = Config::default().read_buffer_capacity(0);
        let whole = decode_chunks(Role::Server, &config, &[&wire], true);
        prop_assert_eq!(decode_chunks(Role::Server, &config, &chunked(&wire, &sizes), true), whole);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn handshake_parsers_never_panic_and_agree_on_split_input(
        bytes in vec(any::<u8>(), 0..600),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"GET / HTTP/1.1\r\n"[..]), Just(&b"HTTP/1.1 101 OK\r\n"[..])],
        cut in any::<Index>(),
    ) {
        use super::handshake::{ClientHandshake, parse_request};
        let mut input = prefix.to_vec();
        input.extend_from_slice(&bytes);
        let whole = parse_request(&input, 512, 16).map(|o| o.map(|(_, n)| n));
        let cut = cut.index(input.len() + 1);
        let first = parse_request(&input[..cut], 512, 16).map(|o| o.map(|(_, n)| n));
        if !matches!(first, Ok(None)) {
            prop_assert_eq!(first, whole);
        }
        let mut sink = Vec::new();
        let client = ClientHandshake::new("h", "/", &[], &["p"], &mut sink)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole = client.parse_response(&input, 512).map(|o| o.map(|(_, n)| n));
        let first = client.parse_response(&input[..cut], 512).map(|o| o.map(|(_, n)| n));
        if !matches!(first, Ok(None)) {
            prop_assert_eq!(first, whole);
        }
    }
}
