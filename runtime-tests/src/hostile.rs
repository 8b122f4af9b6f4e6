//! Hostile peers: every bad input ends in a typed error and a clean end of stream, within
//! the configured limits.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{Message, WsError, WsStreamBuilder};

use crate::servers::{frame, raw_accept, raw_connect, raw_server, read_frame};

fn client(rt: &Runtime) -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(rt.clone())
        .buffer_capacity(16 * 1024)
        .max_message_size(1 << 20)
        .connect_timeout(Duration::from_secs(10))
}

/// The number after the first `=` of the request line (`GET /?case=7 HTTP/1.1` → 7), or 0.
fn query_number(head: &str) -> usize {
    head.lines()
        .next()
        .and_then(|l| l.split('=').nth(1))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// Reads frames until the peer's Close; returns its code.
fn close_code_from(s: &mut std::net::TcpStream) -> Option<u16> {
    loop {
        match read_frame(s) {
            Ok((_, 0x8, p)) => return p.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// A frame header claiming a 2^63-byte payload ends the connection with 1009.
pub async fn frame_claiming_2_pow_63_bytes_closes_with_1009(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let mut header = vec![0x82, 127];
        header.extend_from_slice(&(1u64 << 62).to_be_bytes());
        let _ = s.write_all(&header);
        tx.send(close_code_from(&mut s));
    });
    let mut ws = client(&rt).connect(&format!("ws://{addr}/")).await?;
    let err = ws.recv().await.err().context("expected an error")?;
    ensure!(err.is_protocol(), "got {err:?}");
    ensure!(ws.recv().await?.is_none());
    ensure!(rx.recv().await? == Some(1009));
    Ok(())
}

/// Fragments whose sum passes `max_message_size` end the connection with 1009.
pub async fn fragments_summing_past_the_limit_close_with_1009(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let chunk = vec![b'x'; 64 * 1024];
        let _ = s.write_all(&frame(false, 0x2, &chunk, None));
        for _ in 0..40 {
            if s.write_all(&frame(false, 0x0, &chunk, None)).is_err() {
                break;
            }
        }
        tx.send(close_code_from(&mut s));
    });
    let mut ws = client(&rt).connect(&format!("ws://{addr}/")).await?;
    let err = ws.recv().await.err().context("expected an error")?;
    ensure!(err.is_protocol(), "got {err:?}");
    ensure!(rx.recv().await? == Some(1009));
    Ok(())
}

/// 100 000 one-byte fragments of one message are reassembled within the limits.
pub async fn one_hundred_thousand_one_byte_fragments_are_reassembled(
    rt: Runtime,
) -> anyhow::Result<()> {
    const N: usize = 100_000;
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        let mut wire = frame(false, 0x1, b"a", None);
        for i in 1..N {
            wire.extend(frame(i == N - 1, 0x0, b"a", None));
        }
        let _ = s.write_all(&wire);
        let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        let _ = read_frame(&mut s);
    });
    let mut ws = client(&rt).connect(&format!("ws://{addr}/")).await?;
    match ws.recv().await? {
        Some(Message::Text(t)) => ensure!(t.len() == N && t.bytes().all(|b| b == b'a')),
        other => bail!("expected the reassembled text, got {other:?}"),
    }
    Ok(())
}

/// Invalid UTF-8 at every position of a fragmented text message: 1007, and the stream ends.
pub async fn invalid_utf8_at_every_position_closes_with_1007(rt: Runtime) -> anyhow::Result<()> {
    // "héllo wörld" with one byte replaced by 0xFF, in 3-byte fragments.
    let valid = "héllo wörld".as_bytes().to_vec();
    let positions = valid.len();
    let (tx, mut rx) = crate::servers::report();
    let wire_for = move |pos: usize| {
        let mut payload = valid.clone();
        payload[pos] = 0xFF;
        let chunks: Vec<&[u8]> = payload.chunks(3).collect();
        let mut wire = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let op = if i == 0 { 0x1 } else { 0x0 };
            wire.extend(frame(i == chunks.len() - 1, op, c, None));
        }
        wire
    };
    let addr = raw_server(positions, move |mut s| {
        let Ok(head) = raw_accept(&mut s) else { return };
        let pos = query_number(&head);
        let _ = s.write_all(&wire_for(pos));
        tx.send((pos, close_code_from(&mut s)));
    });
    for pos in 0..positions {
        let mut ws = client(&rt)
            .connect(&format!("ws://{addr}/?pos={pos}"))
            .await?;
        match ws.recv().await {
            Err(WsError::Protocol(_)) => {}
            other => bail!("position {pos}: expected a protocol error, got {other:?}"),
        }
        ensure!(
            ws.recv().await?.is_none(),
            "position {pos}: stream must end"
        );
        let (p, code) = rx.recv().await?;
        ensure!(
            p == pos && code == Some(1007),
            "position {p}: close code {code:?}"
        );
    }
    Ok(())
}

/// Invalid UTF-8 in a whole, unfragmented text frame — the receive fast paths, where the
/// one UTF-8 check is the one that builds the `&str` — right after a valid text message in
/// the same write: the valid one is delivered, then a protocol error, 1007 on the wire and
/// the end of the stream. Through `recv`, the split reader and the `Stream` impl; 7-, 16-
/// and 64-bit frame lengths; the bad byte first, in the middle and last.
pub async fn invalid_utf8_in_a_whole_frame_closes_with_1007(rt: Runtime) -> anyhow::Result<()> {
    use futures::StreamExt;
    use nexus_async_net::ws::{OwnedMessage, ProtocolError};

    const SIZES: [usize; 3] = [13, 300, 70_000];
    const GOOD: &str = "ok \u{2713}";
    let cases = 3 * SIZES.len() * 3;
    // Case `c`: consumer `c / 9`, size `SIZES[c / 3 % 3]`, bad byte at place `c % 3`.
    let bad_text = |case: usize| {
        let len = SIZES[case / 3 % 3];
        let mut payload = "h\u{e9}llo w\u{f6}rld".as_bytes().to_vec();
        payload.resize(len, b'a');
        let pos = [0, len / 2, len - 1][case % 3];
        payload[pos] = 0xFF;
        payload
    };
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(cases, move |mut s| {
        let Ok(head) = raw_accept(&mut s) else { return };
        let case = query_number(&head);
        let mut wire = frame(true, 0x1, GOOD.as_bytes(), None);
        wire.extend(frame(true, 0x1, &bad_text(case), None));
        let _ = s.write_all(&wire);
        tx.send((case, close_code_from(&mut s)));
    });
    let is_utf8_error =
        |e: &WsError| matches!(e, WsError::Protocol(p) if **p == ProtocolError::InvalidUtf8);
    for case in 0..cases {
        let ws = client(&rt)
            .buffer_capacity(256 * 1024)
            .connect(&format!("ws://{addr}/?case={case}"))
            .await?;
        match case / 9 {
            0 => {
                let mut ws = ws;
                ensure!(
                    matches!(ws.recv().await?, Some(Message::Text(GOOD))),
                    "case {case}"
                );
                let bad = ws.recv().await;
                ensure!(
                    matches!(&bad, Err(e) if is_utf8_error(e)),
                    "case {case}: {bad:?}"
                );
                ensure!(ws.recv().await?.is_none(), "case {case}: stream must end");
                ensure!(
                    ws.send_text("late").await.is_err(),
                    "case {case}: sends fail"
                );
            }
            1 => {
                let (mut reader, _writer) = ws.split();
                ensure!(
                    matches!(reader.recv().await?, Some(Message::Text(GOOD))),
                    "case {case}"
                );
                let bad = reader.recv().await;
                ensure!(
                    matches!(&bad, Err(e) if is_utf8_error(e)),
                    "case {case}: {bad:?}"
                );
                ensure!(
                    reader.recv().await?.is_none(),
                    "case {case}: stream must end"
                );
            }
            _ => {
                let mut ws = ws;
                let good = ws.next().await;
                ensure!(
                    matches!(&good, Some(Ok(OwnedMessage::Text(t))) if t == GOOD),
                    "case {case}: {good:?}"
                );
                let bad = ws.next().await;
                ensure!(
                    matches!(&bad, Some(Err(e)) if is_utf8_error(e)),
                    "case {case}: {bad:?}"
                );
                ensure!(ws.next().await.is_none(), "case {case}: stream must end");
            }
        }
        let (c, code) = rx.recv().await?;
        ensure!(
            c == case && code == Some(1007),
            "case {c}: close code {code:?}"
        );
    }
    Ok(())
}

/// A server whose response head is larger than the handshake limit is refused.
pub async fn oversized_handshake_response_is_refused(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let _ = crate::servers::read_head(&mut s);
        let mut head = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        for i in 0..2000 {
            head.extend_from_slice(format!("X-Filler-{i}: aaaaaaaaaaaaaaaaaaaa\r\n").as_bytes());
        }
        let _ = s.write_all(&head);
    });
    let res = client(&rt).connect(&format!("ws://{addr}/")).await;
    ensure!(matches!(res, Err(WsError::Handshake(_))), "got {res:?}");
    Ok(())
}

/// A client whose upgrade request is larger than the limit gets 431 (or 400) and an error.
pub async fn oversized_upgrade_request_gets_431(rt: Runtime) -> anyhow::Result<()> {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut peer = crate::servers::peer_thread(move || -> std::io::Result<String> {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let filler: String = (0..1000)
            .map(|i| format!("X-Filler-{i}: aaaaaaaaaaaaaaaa\r\n"))
            .collect();
        raw_connect(&mut s, &filler)
    });
    let (sock, _) = listener.accept().await?;
    let res = WsStreamBuilder::new()
        .runtime(rt.clone())
        .max_handshake_size(4096)
        .accept(sock)
        .await;
    ensure!(matches!(res, Err(WsError::Handshake(_))), "got {res:?}");
    let head = peer.recv().await??;
    ensure!(
        head.starts_with("HTTP/1.1 431") || head.starts_with("HTTP/1.1 400"),
        "{head}"
    );
    Ok(())
}

/// A ping flood while the peer never reads our pongs: the split reader keeps delivering,
/// and the owed pongs coalesce instead of queueing.
pub async fn ping_flood_does_not_queue_pongs_without_limit(rt: Runtime) -> anyhow::Result<()> {
    const PINGS: usize = 20_000;
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        let mut wire = Vec::new();
        for _ in 0..PINGS {
            wire.extend(frame(true, 0x9, &[b'p'; 100], None));
        }
        wire.extend(frame(true, 0x1, b"end", None));
        let _ = s.write_all(&wire);
        // Never read: our pongs pile up in the kernel until the client must coalesce.
        std::thread::sleep(Duration::from_secs(2));
    });
    let ws = client(&rt)
        .auto_pong(true)
        .connect(&format!("ws://{addr}/"))
        .await?;
    let (mut reader, _writer) = ws.split();
    let mut pings = 0;
    loop {
        match reader.recv().await? {
            Some(Message::Ping(_)) => pings += 1,
            Some(Message::Text("end")) => break,
            other => bail!("unexpected {other:?}"),
        }
    }
    ensure!(pings == PINGS);
    Ok(())
}
