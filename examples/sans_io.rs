//! The WebSocket protocol core with no runtime, no socket and no clock: two `Conn`s, a
//! client and a server, exchange messages through plain byte buffers.
//!
//! ```text
//! cargo run --example sans_io
//! ```
//!
//! This is what every async adapter in the crate does underneath: hand bytes read from the
//! transport to the core, ask it for messages, and write out what it wants to send.

use nexus_async_net::proto::Role;
use nexus_async_net::proto::ws::{Advance, CloseCode, Config, Conn, Message, ProtocolError};

/// Moves what `from` wants to send into `to`'s read buffer, `chunk` bytes at a time, the
/// way a socket would deliver it.
fn transfer(from: &mut Conn, to: &mut Conn, chunk: usize) {
    let bytes = from.pending().to_vec();
    from.handle_written(bytes.len());
    for piece in bytes.chunks(chunk) {
        let mut rest = piece;
        while !rest.is_empty() {
            let n = to.decoder_mut().handle_input(rest);
            rest = &rest[n..];
        }
    }
}

/// Prints every message `conn` can produce from what it has buffered.
fn drain(name: &str, conn: &mut Conn) -> Result<(), ProtocolError> {
    loop {
        match conn.advance()? {
            Advance::Message => match conn.message() {
                Some(Message::Text(t)) => println!("{name} got text: {t}"),
                Some(Message::Binary(b)) => println!("{name} got {} binary bytes", b.len()),
                Some(Message::Ping(p)) => println!("{name} got ping {:?}", p.as_bytes()),
                Some(Message::Pong(p)) => println!("{name} got pong {:?}", p.as_bytes()),
                Some(Message::Close(f)) => println!("{name} got close {f:?}"),
                None => {}
            },
            Advance::NeedInput => return Ok(()),
            Advance::Closed => {
                println!("{name}: connection closed");
                return Ok(());
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = Conn::new(Role::Client, Config::default());
    let mut server = Conn::new(Role::Server, Config::default().auto_pong(true));

    client.send_text(r#"{"op":"subscribe","channel":"trades"}"#)?;
    client.send_ping(b"are you there?")?;
    client.send_binary(&[0u8; 70_000])?;
    // Delivered one byte at a time: the core does not care how bytes are split.
    transfer(&mut client, &mut server, 1);
    drain("server", &mut server)?;

    // The server's auto-pong and an update go back to the client, in 1460-byte segments.
    server.send_text(r#"{"trade":{"px":"64000.5","qty":"0.01"}}"#)?;
    transfer(&mut server, &mut client, 1460);
    drain("client", &mut client)?;

    // Close handshake: the server answers the client's Close by itself.
    client.close(CloseCode::Normal, "done")?;
    transfer(&mut client, &mut server, 7);
    drain("server", &mut server)?;
    transfer(&mut server, &mut client, 7);
    drain("client", &mut client)?;
    assert!(client.is_closed() && server.is_closed());
    Ok(())
}
