//! What [`Receiver`] says is owed, event by event, and how [`Owed`] merges and encodes.

use std::time::{Duration, Instant};

use crate::proto::Role;

use super::testing::frame_to;
use super::{
    Advance, CloseCode, Config, Decoder, Encoder, HEARTBEAT_PING, HeartbeatConfig,
    HeartbeatTimeout, Owed, ProtocolError, Receiver,
};

fn receiver(auto_pong: bool) -> Receiver {
    Receiver::new(Decoder::new(Role::Client, &Config::default()), auto_pong)
}

/// Feeds one server frame and advances once.
fn frame(rx: &mut Receiver, opcode: u8, payload: &[u8]) -> Result<Advance, ProtocolError> {
    let bytes = frame_to(Role::Client, true, opcode, payload);
    assert_eq!(rx.decoder_mut().handle_input(&bytes), bytes.len());
    rx.advance()
}

/// Encodes `owed` as a server would receive it: (opcode, payload) per frame.
fn frames_of(owed: Owed) -> (Vec<(u8, Vec<u8>)>, bool) {
    let mut enc = Encoder::new(Role::Client, &Config::default());
    let shutdown = owed.encode(&mut enc);
    let mut dec = Decoder::new(Role::Server, &Config::default());
    dec.handle_input(enc.pending());
    let mut out = Vec::new();
    while let Ok(Advance::Message) = dec.advance() {
        let m = dec.message().unwrap().into_owned();
        let (op, payload) = match m {
            super::OwnedMessage::Ping(p) => (0x9, p.to_vec()),
            super::OwnedMessage::Pong(p) => (0xA, p.to_vec()),
            super::OwnedMessage::Close(f) => (
                0x8,
                f.map(|f| [&u16::from(f.code).to_be_bytes()[..], f.reason().as_bytes()].concat())
                    .unwrap_or_default(),
            ),
            other => panic!("unexpected {other:?}"),
        };
        out.push((op, payload));
    }
    (out, shutdown)
}

#[test]
fn data_owes_nothing_and_ping_owes_a_pong_only_with_auto_pong() {
    let mut rx = receiver(false);
    assert_eq!(frame(&mut rx, 0x2, b"data"), Ok(Advance::Message));
    assert_eq!(frame(&mut rx, 0x9, b"p"), Ok(Advance::Message));
    assert!(!rx.has_owed());

    let mut rx = receiver(true);
    assert_eq!(frame(&mut rx, 0x9, b"p1"), Ok(Advance::Message));
    assert_eq!(frame(&mut rx, 0x9, b"p2"), Ok(Advance::Message));
    assert!(rx.has_owed());
    // Only the latest Ping is answered (RFC 6455 §5.5.3).
    assert_eq!(
        frames_of(rx.take_owed()),
        (vec![(0xA, b"p2".to_vec())], false)
    );
    assert!(!rx.has_owed());
}

#[test]
fn the_peer_close_is_echoed_with_its_code_then_shutdown_is_owed() {
    let mut rx = receiver(false);
    let body = [&1001u16.to_be_bytes()[..], b"bye"].concat();
    assert_eq!(frame(&mut rx, 0x8, &body), Ok(Advance::Message));
    assert_eq!(rx.advance(), Ok(Advance::Closed));
    let (frames, shutdown) = frames_of(rx.take_owed());
    assert_eq!(frames, vec![(0x8, 1001u16.to_be_bytes().to_vec())]);
    assert!(shutdown);
}

#[test]
fn a_protocol_error_owes_its_close_with_the_reason_and_shutdown() {
    let mut rx = receiver(true);
    let err = frame(&mut rx, 0x3, b"x").unwrap_err();
    let (frames, shutdown) = frames_of(rx.take_owed());
    let expected = [
        &u16::from(err.close_code()).to_be_bytes()[..],
        err.close_reason().as_bytes(),
    ]
    .concat();
    assert_eq!(frames, vec![(0x8, expected)]);
    assert!(shutdown);
}

#[test]
fn a_cut_off_stream_owes_only_the_shutdown() {
    let mut rx = receiver(false);
    let bytes = frame_to(Role::Client, true, 0x2, b"truncated");
    rx.decoder_mut().handle_input(&bytes[..4]);
    assert_eq!(rx.advance(), Ok(Advance::NeedInput));
    rx.handle_eof();
    assert_eq!(rx.advance(), Err(ProtocolError::UnexpectedEof));
    assert_eq!(rx.take_owed(), Owed::shutdown_only());
}

#[test]
fn owed_frames_are_not_encoded_after_our_close() {
    let mut enc = Encoder::new(Role::Client, &Config::default());
    enc.encode_close(CloseCode::Normal, "").unwrap();
    let before = enc.pending().len();
    let mut rx = receiver(true);
    assert_eq!(frame(&mut rx, 0x9, b"p"), Ok(Advance::Message));
    assert!(!rx.take_owed().encode(&mut enc));
    assert_eq!(enc.pending().len(), before);
}

#[test]
fn merge_keeps_the_first_close_and_the_latest_pong() {
    let mut a = receiver(true);
    assert_eq!(frame(&mut a, 0x9, b"old"), Ok(Advance::Message));
    let body = 1000u16.to_be_bytes();
    assert_eq!(frame(&mut a, 0x8, &body), Ok(Advance::Message));
    let mut owed = a.take_owed();
    let mut b = receiver(true);
    assert_eq!(frame(&mut b, 0x9, b"new"), Ok(Advance::Message));
    let err = frame(&mut b, 0x3, b"x").unwrap_err();
    owed.merge(b.take_owed());
    let (frames, shutdown) = frames_of(owed);
    assert_eq!(
        frames,
        vec![
            (0xA, b"new".to_vec()),
            (0x8, 1000u16.to_be_bytes().to_vec())
        ]
    );
    assert!(shutdown, "{err:?} owes the shutdown");
}

#[test]
fn heartbeat_owes_a_ping_then_reports_the_missing_pong() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut rx = receiver(false);
    let hb = HeartbeatConfig {
        ping_interval: Some(s(10)),
        pong_timeout: s(2),
        ..HeartbeatConfig::default()
    };
    rx.set_heartbeat(hb, t0);
    assert_eq!(rx.poll_timeout(), Some(t0 + s(10)));
    rx.handle_timeout(t0 + s(10)).unwrap();
    assert_eq!(
        frames_of(rx.take_owed()),
        (vec![(0x9, HEARTBEAT_PING.to_vec())], false)
    );
    // A Pong in time clears the deadline; the next Ping is due an interval later.
    assert_eq!(frame(&mut rx, 0xA, HEARTBEAT_PING), Ok(Advance::Message));
    assert_eq!(rx.poll_timeout(), Some(t0 + s(20)));
    rx.handle_timeout(t0 + s(20)).unwrap();
    rx.take_owed();
    assert_eq!(rx.handle_timeout(t0 + s(22)), Err(HeartbeatTimeout::Pong));
}

#[test]
fn reads_restart_the_idle_deadline_and_ask_the_clock_only_with_a_heartbeat() {
    let t0 = Instant::now();
    let mut rx = receiver(false);
    rx.handle_read(0, || panic!("no heartbeat: the clock must not be read"));
    let hb = HeartbeatConfig {
        idle_timeout: Some(Duration::from_secs(5)),
        ..HeartbeatConfig::default()
    };
    rx.set_heartbeat(hb, t0);
    rx.handle_read(0, || t0 + Duration::from_secs(3));
    assert_eq!(rx.poll_timeout(), Some(t0 + Duration::from_secs(8)));
    assert_eq!(
        rx.handle_timeout(t0 + Duration::from_secs(8)),
        Err(HeartbeatTimeout::Idle)
    );
}
