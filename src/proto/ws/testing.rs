//! Test helpers: raw frame builders and a driver that feeds wire bytes to a decoder whole,
//! one byte at a time and split at every offset, asserting the same outcome each time.

use crate::proto::Role;

use super::{Advance, Config, Decoder, OwnedMessage, ProtocolError};

pub(crate) const TEST_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A raw frame; `first_byte` is FIN/RSV/opcode as on the wire, so tests can break rules.
pub(crate) fn raw_frame(first_byte: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as the peer of `receiver` sends it: masked when `receiver` is a server.
pub(crate) fn frame_to(receiver: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let first = if fin { 0x80 } else { 0 } | opcode;
    let mask = (receiver == Role::Server).then_some(TEST_KEY);
    raw_frame(first, mask, payload)
}

/// One observable outcome of decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Msg(OwnedMessage),
    Err(ProtocolError),
    Closed,
}

pub(crate) fn text(s: &str) -> Event {
    Event::Msg(OwnedMessage::Text(s.to_owned()))
}

pub(crate) fn binary(b: &[u8]) -> Event {
    Event::Msg(OwnedMessage::Binary(b.to_vec()))
}

/// Advances until input is needed or the stream ends, recording events. A decoder with
/// deferred UTF-8 is read the way `WsStream` and `WsReader` read it: through `checked_message`,
/// whose error ends the stream.
pub(crate) fn drain(decoder: &mut Decoder, events: &mut Vec<Event>) {
    loop {
        if matches!(events.last(), Some(Event::Closed | Event::Err(_))) {
            // Terminal: further calls must keep answering `Closed` (a deferred UTF-8 error
            // is the caller's to act on: it stops reading).
            if !decoder.defers_utf8() {
                assert_eq!(decoder.advance(), Ok(Advance::Closed));
            }
            return;
        }
        match decoder.advance() {
            Ok(Advance::Message) if decoder.defers_utf8() => match decoder.checked_message() {
                Ok(msg) => events.push(Event::Msg(
                    msg.map(|m| m.into_owned())
                        .unwrap_or_else(|| panic!("message after Message")),
                )),
                Err(e) => events.push(Event::Err(e)),
            },
            Ok(Advance::Message) => {
                let msg = decoder.message().map(|m| m.into_owned());
                events.push(Event::Msg(
                    msg.unwrap_or_else(|| panic!("message after Message")),
                ));
            }
            Ok(Advance::NeedInput) => return,
            Ok(Advance::Closed) => events.push(Event::Closed),
            Err(e) => events.push(Event::Err(e)),
        }
    }
}

/// Feeds `chunks` in order through `handle_input`, then EOF if `eof`.
pub(crate) fn decode_chunks(
    role: Role,
    config: &Config,
    chunks: &[&[u8]],
    eof: bool,
) -> Vec<Event> {
    decode_chunks_with(Decoder::new(role, config), chunks, eof)
}

/// [`decode_chunks`] with a decoder that defers whole-frame UTF-8 checks to
/// `checked_message`, as `WsStream` and `WsReader` use it.
pub(crate) fn decode_chunks_deferred(
    role: Role,
    config: &Config,
    chunks: &[&[u8]],
    eof: bool,
) -> Vec<Event> {
    let mut decoder = Decoder::new(role, config);
    decoder.defer_utf8();
    decode_chunks_with(decoder, chunks, eof)
}

fn decode_chunks_with(mut decoder: Decoder, chunks: &[&[u8]], eof: bool) -> Vec<Event> {
    let mut events = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        while !rest.is_empty() {
            let n = decoder.handle_input(rest);
            rest = &rest[n..];
            drain(&mut decoder, &mut events);
            assert!(
                n > 0 || !decoder.read_buf().is_empty(),
                "decoder deadlocked"
            );
        }
    }
    if eof {
        decoder.handle_eof();
    }
    drain(&mut decoder, &mut events);
    events
}

/// Feeds `bytes` one byte at a time through `read_buf` + `handle_read`.
pub(crate) fn decode_bytewise(role: Role, config: &Config, bytes: &[u8], eof: bool) -> Vec<Event> {
    let mut decoder = Decoder::new(role, config);
    let mut events = Vec::new();
    for &b in bytes {
        let spare = decoder.read_buf();
        assert!(!spare.is_empty(), "read_buf empty after draining");
        spare[0] = b;
        decoder.handle_read(1);
        drain(&mut decoder, &mut events);
    }
    if eof {
        decoder.handle_eof();
    }
    drain(&mut decoder, &mut events);
    events
}

/// Decodes `bytes` whole, byte by byte and split at every offset, with the given config
/// and with the smallest read buffer; asserts every way gives the same events.
pub(crate) fn decode_all_ways(role: Role, config: &Config, bytes: &[u8], eof: bool) -> Vec<Event> {
    let whole = decode_chunks(role, config, &[bytes], eof);
    let small = config.clone().read_buffer_capacity(0);
    for cfg in [config, &small] {
        assert_eq!(
            decode_chunks(role, cfg, &[bytes], eof),
            whole,
            "whole, small buffer"
        );
        assert_eq!(
            decode_bytewise(role, cfg, bytes, eof),
            whole,
            "byte at a time"
        );
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(
                decode_chunks(role, cfg, &[a, b], eof),
                whole,
                "split at {cut}"
            );
            assert_eq!(
                decode_chunks_deferred(role, cfg, &[a, b], eof),
                whole,
                "deferred UTF-8, split at {cut}"
            );
        }
    }
    whole
}
