//! The close handshake, auto-pong and error closes of [`Conn`].

use crate::proto::Role;

use super::testing::{Event, decode_chunks, frame_to};
use super::{
    Advance, CloseCode, CloseFrame, CloseState, Config, Conn, Control, EncodeError, Message,
    OwnedMessage, ProtocolError,
};

/// Feeds `bytes` to `conn` and advances until input is needed; returns what it saw.
fn feed(conn: &mut Conn, bytes: &[u8]) -> Vec<Result<Advance, ProtocolError>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    loop {
        let n = conn.decoder_mut().handle_input(rest);
        rest = &rest[n..];
        loop {
            let r = conn.advance();
            out.push(r.clone());
            if r != Ok(Advance::Message) {
                break;
            }
        }
        if rest.is_empty() {
            return out;
        }
    }
}

/// What `conn` has queued for its peer, decoded as that peer.
fn sent_by(conn: &Conn, role: Role) -> Vec<Event> {
    let peer = match role {
        Role::Client => Role::Server,
        Role::Server => Role::Client,
    };
    decode_chunks(peer, &Config::default(), &[conn.pending()], false)
}

fn close_event(code: u16, reason: &str) -> Event {
    Event::Msg(OwnedMessage::Close(CloseFrame::new(
        CloseCode::from(code),
        reason,
    )))
}

#[test]
fn close_reply_echoes_peer_code() {
    for role in [Role::Client, Role::Server] {
        let mut conn = Conn::new(role, Config::default());
        let mut payload = 4001u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"going");
        feed(&mut conn, &frame_to(role, true, 0x8, &payload));
        assert_eq!(conn.close_state(), CloseState::Closed);
        assert_eq!(sent_by(&conn, role), [close_event(4001, ""), Event::Closed]);
        assert_eq!(conn.advance(), Ok(Advance::Closed));
    }
}

#[test]
fn close_without_code_is_answered_with_1000() {
    let mut conn = Conn::new(Role::Client, Config::default());
    let seen = feed(&mut conn, &frame_to(Role::Client, true, 0x8, b""));
    assert_eq!(seen, [Ok(Advance::Message), Ok(Advance::Closed)]);
    assert_eq!(
        sent_by(&conn, Role::Client),
        [close_event(1000, ""), Event::Closed]
    );
}

#[test]
fn peer_close_after_ours_completes_the_handshake_without_a_second_close() -> Result<(), EncodeError>
{
    let mut conn = Conn::new(Role::Client, Config::default());
    assert_eq!(conn.close_state(), CloseState::Open);
    conn.close(CloseCode::GoingAway, "bye")?;
    assert_eq!(conn.close_state(), CloseState::CloseSent);
    assert_eq!(conn.send_text("late"), Err(EncodeError::AfterClose));
    let before = conn.pending().to_vec();
    // Data still arriving before the peer's Close is delivered.
    let mut wire = frame_to(Role::Client, true, 0x1, b"in flight");
    wire.extend(frame_to(Role::Client, true, 0x8, &1001u16.to_be_bytes()));
    feed(&mut conn, &wire);
    assert_eq!(conn.pending(), &before[..]);
    assert!(conn.is_closed());
    assert_eq!(
        conn.decoder().close_received(),
        Some(CloseFrame::new(CloseCode::GoingAway, ""))
    );
    Ok(())
}

#[test]
fn auto_pong_answers_pings_and_coalesces_a_flood() {
    let mut conn = Conn::new(Role::Server, Config::default().auto_pong(true));
    let mut wire = Vec::new();
    for i in 0..1000u32 {
        wire.extend(frame_to(Role::Server, true, 0x9, &i.to_be_bytes()));
    }
    let seen = feed(&mut conn, &wire);
    assert_eq!(
        seen.iter().filter(|r| **r == Ok(Advance::Message)).count(),
        1000
    );
    let pong = |i: u32| {
        Event::Msg(OwnedMessage::Pong(
            Control::new(&i.to_be_bytes()).unwrap_or_default(),
        ))
    };
    let mut expected: Vec<Event> = (0..15).map(pong).collect();
    expected.push(pong(999));
    assert_eq!(sent_by(&conn, Role::Server), expected);
}

#[test]
fn pings_are_delivered_but_not_answered_without_auto_pong() {
    let mut conn = Conn::new(Role::Client, Config::default());
    conn.decoder_mut()
        .handle_input(&frame_to(Role::Client, true, 0x9, b"hb"));
    assert_eq!(conn.advance(), Ok(Advance::Message));
    let Some(Message::Ping(data)) = conn.message() else {
        panic!("expected a ping");
    };
    assert!(conn.pending().is_empty());
    // The payload is Copy: answering it while the connection is borrowed again compiles.
    assert_eq!(conn.send_pong(&data), Ok(()));
    assert_eq!(
        sent_by(&conn, Role::Client),
        [Event::Msg(OwnedMessage::Pong(data))]
    );
}

#[test]
fn protocol_errors_send_the_matching_close_code_once() {
    let cases: [(Vec<u8>, u16); 3] = [
        (frame_to(Role::Client, true, 0x3, b""), 1002),
        (frame_to(Role::Client, true, 0x1, &[0xFF]), 1007),
        (frame_to(Role::Client, true, 0x2, &[0; 100]), 1009),
    ];
    for (wire, code) in cases {
        let mut conn = Conn::new(Role::Client, Config::default().max_message_size(50));
        let seen = feed(&mut conn, &wire);
        assert!(matches!(seen.as_slice(), [Err(e)] if e.close_code().as_u16() == code));
        assert_eq!(conn.advance(), Ok(Advance::Closed));
        let sent = sent_by(&conn, Role::Client);
        assert!(
            matches!(&sent[0], Event::Msg(OwnedMessage::Close(Some(f))) if f.code.as_u16() == code)
        );
        assert!(conn.is_closed());
    }
}

#[test]
fn unexpected_eof_sends_nothing() {
    let mut conn = Conn::new(Role::Client, Config::default());
    conn.decoder_mut().handle_input(&[0x81]);
    conn.decoder_mut().handle_eof();
    assert_eq!(conn.advance(), Err(ProtocolError::UnexpectedEof));
    assert!(conn.pending().is_empty());
    assert!(conn.is_closed());
}

#[test]
fn messages_flow_both_ways_between_a_client_and_a_server() -> Result<(), EncodeError> {
    let mut client = Conn::new(Role::Client, Config::default());
    let mut server = Conn::new(Role::Server, Config::default());
    client.send_text("to server")?;
    server.send_binary(b"to client")?;
    let c2s = client.pending().to_vec();
    client.handle_written(c2s.len());
    let s2c = server.pending().to_vec();
    server.handle_written(s2c.len());
    feed(&mut server, &c2s[..c2s.len() - 1]);
    assert!(server.message().is_none());
    server.decoder_mut().handle_input(&c2s[c2s.len() - 1..]);
    assert_eq!(server.advance(), Ok(Advance::Message));
    assert_eq!(server.message(), Some(Message::Text("to server")));
    client.decoder_mut().handle_input(&s2c);
    assert_eq!(client.advance(), Ok(Advance::Message));
    assert_eq!(client.message(), Some(Message::Binary(b"to client")));
    assert_eq!(sent_by(&client, Role::Client), Vec::<Event>::new());
    Ok(())
}
