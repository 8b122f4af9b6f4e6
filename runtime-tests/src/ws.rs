//! WebSocket behaviours, one `async fn` each, run on every executor by `behaviour_suite!`.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures::{SinkExt, StreamExt};
use nexus_async_net::rt::{Runtime, TcpStream};
use nexus_async_net::ws::{CloseCode, Message, OwnedMessage, WsError, WsStreamBuilder};

use crate::servers::{
    TestPki, frame, raw_accept, raw_server, read_frame, read_head, ws_echo_server,
};

fn builder(rt: &Runtime) -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .buffer_capacity(64 * 1024)
        .max_message_size(8 << 20)
        .connect_timeout(Duration::from_secs(10))
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Text and binary messages of every length class (7-bit, 16-bit, 64-bit, larger than the
/// read buffer, larger than 64 KiB sends) come back unchanged.
pub async fn client_echoes_text_and_binary_of_many_sizes(rt: Runtime) -> anyhow::Result<()> {
    let addr = ws_echo_server(1, None);
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/echo")).await?;
    for len in [0, 1, 125, 126, 127, 65_535, 65_536, 200_000, 3 << 20] {
        let data = pattern(len);
        ws.send_binary(&data).await?;
        match ws.recv().await? {
            Some(Message::Binary(b)) => ensure!(b == data.as_slice(), "binary {len} differs"),
            other => bail!("expected binary {len}, got {other:?}"),
        }
        let text: String = data.iter().map(|b| char::from(b'a' + b % 26)).collect();
        ws.send_text(&text).await?;
        match ws.recv().await? {
            Some(Message::Text(t)) => ensure!(t == text, "text {len} differs"),
            other => bail!("expected text {len}, got {other:?}"),
        }
    }
    ws.close(CloseCode::Normal, "done").await?;
    ensure!(ws.recv().await?.is_none(), "recv after close must be None");
    Ok(())
}

/// A Ping is delivered with its payload inline, and replying while holding it compiles.
pub async fn ping_payload_is_delivered_and_can_be_answered(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        let _ = s.write_all(&frame(true, 0x9, b"are you there", None));
        if let Ok((_, 0xA, payload)) = read_frame(&mut s)
            && payload == b"are you there"
        {
            let _ = s.write_all(&frame(true, 0x1, b"pong ok", None));
        }
        let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        let _ = read_frame(&mut s);
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    match ws.recv().await? {
        Some(Message::Ping(data)) => ws.send_pong(data).await?,
        other => bail!("expected ping, got {other:?}"),
    }
    ensure!(matches!(ws.recv().await?, Some(Message::Text("pong ok"))));
    ensure!(
        matches!(ws.recv().await?, Some(Message::Close(Some(f))) if f.code == CloseCode::Normal)
    );
    ensure!(ws.recv().await?.is_none());
    Ok(())
}

/// With auto-pong on, the library answers a Ping without the application sending anything.
pub async fn auto_pong_answers_pings(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let _ = s.write_all(&frame(true, 0x9, b"hb", None));
        let got = read_frame(&mut s).map(|(_, op, p)| (op, p));
        tx.send(got.ok());
        let _ = s.write_all(&frame(true, 0x1, b"after", None));
    });
    let mut ws = builder(&rt)
        .auto_pong(true)
        .connect(&format!("ws://{addr}/"))
        .await?;
    ensure!(matches!(ws.recv().await?, Some(Message::Ping(p)) if &*p == b"hb"));
    ensure!(matches!(ws.recv().await?, Some(Message::Text("after"))));
    let got = rx.recv().await?;
    ensure!(got == Some((0xA, b"hb".to_vec())), "peer saw {got:?}");
    Ok(())
}

/// The peer's Close is echoed with its code; `recv` delivers it, then returns `None`.
pub async fn peer_close_is_echoed_and_then_recv_returns_none(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let mut payload = 4001u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"maintenance");
        let _ = s.write_all(&frame(true, 0x8, &payload, None));
        let reply = read_frame(&mut s).ok();
        let mut rest = Vec::new();
        let eof = s.read_to_end(&mut rest).is_ok();
        tx.send((reply, eof));
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    match ws.recv().await? {
        Some(Message::Close(Some(f))) => {
            ensure!(f.code == CloseCode::Other(4001) && f.reason() == "maintenance")
        }
        other => bail!("expected close, got {other:?}"),
    }
    ensure!(ws.recv().await?.is_none());
    ensure!(matches!(ws.send_text("late").await, Err(WsError::Closed)));
    let (reply, eof) = rx.recv().await?;
    let (_, op, payload) = reply.context("no close reply")?;
    ensure!(op == 0x8 && payload.get(..2) == Some(&4001u16.to_be_bytes()[..]));
    ensure!(eof, "transport was not shut down after the close handshake");
    Ok(())
}

/// `close()` sends Close, waits for the peer's Close, and ends the stream.
pub async fn close_waits_for_the_peer_close(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let got = read_frame(&mut s).ok();
        let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        tx.send(got);
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    ws.close(CloseCode::GoingAway, "bye").await?;
    ensure!(ws.is_closed());
    let (_, op, payload) = rx.recv().await?.context("no close")?;
    ensure!(op == 0x8 && payload == [&1001u16.to_be_bytes()[..], b"bye"].concat());
    Ok(())
}

/// A message over `max_message_size` closes the connection with 1009, once.
pub async fn oversized_message_closes_with_1009(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let _ = s.write_all(&frame(true, 0x2, &[7u8; 2000], None));
        tx.send(read_frame(&mut s).ok());
    });
    let mut ws = builder(&rt)
        .max_message_size(1000)
        .connect(&format!("ws://{addr}/"))
        .await?;
    let err = ws.recv().await.err().context("expected an error")?;
    ensure!(err.is_protocol(), "got {err:?}");
    ensure!(
        ws.recv().await?.is_none(),
        "the error must be reported once"
    );
    let (_, op, payload) = rx.recv().await?.context("no close")?;
    ensure!(op == 0x8 && payload.get(..2) == Some(&1009u16.to_be_bytes()[..]));
    Ok(())
}

/// Frames the server sends in the same write as its 101 response are not lost.
pub async fn frames_sent_with_the_101_are_kept(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let Ok(head) = read_head(&mut s) else { return };
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .to_owned();
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            crate::servers::accept_key(&key)
        )
        .into_bytes();
        out.extend(frame(true, 0x1, b"first", None));
        out.extend(frame(true, 0x1, b"second", None));
        let _ = s.write_all(&out);
        let _ = read_frame(&mut s);
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    ensure!(matches!(ws.recv().await?, Some(Message::Text("first"))));
    ensure!(matches!(ws.recv().await?, Some(Message::Text("second"))));
    Ok(())
}

/// Custom headers and offered subprotocols reach the server; the chosen one is reported.
pub async fn handshake_carries_headers_and_negotiates_a_subprotocol(
    rt: Runtime,
) -> anyhow::Result<()> {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server_rt = rt.clone();
    let server = async move {
        let (sock, _) = listener.accept().await?;
        let ws = WsStreamBuilder::new()
            .runtime(server_rt)
            .subprotocol("v2.feed")
            .accept(sock)
            .await?;
        let req = ws.request().context("request")?;
        ensure!(req.path() == "/stream?x=1");
        ensure!(req.header("x-api-key") == Some("secret"));
        ensure!(ws.subprotocol() == Some("v2.feed"));
        Ok::<_, anyhow::Error>(())
    };
    let client = async {
        let ws = builder(&rt)
            .header("X-Api-Key", "secret")
            .subprotocol("v1.feed")
            .subprotocol("v2.feed")
            .connect(&format!("ws://{addr}/stream?x=1"))
            .await?;
        ensure!(ws.subprotocol() == Some("v2.feed"));
        Ok::<_, anyhow::Error>(())
    };
    let (s, c) = futures::join!(server, client);
    s?;
    c
}

/// A request that is not a valid upgrade is answered with 400; a wrong version with 426.
pub async fn bad_upgrades_get_400_and_426(rt: Runtime) -> anyhow::Result<()> {
    for (request, status) in [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "426",
        ),
    ] {
        let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut peer = crate::servers::peer_thread(move || -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(addr)?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(request.as_bytes())?;
            read_head(&mut s)
        });
        let (sock, _) = listener.accept().await?;
        let res = WsStreamBuilder::new()
            .runtime(rt.clone())
            .accept(sock)
            .await;
        ensure!(matches!(res, Err(WsError::Handshake(_))), "got {res:?}");
        let head = peer.recv().await??;
        ensure!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "got {head}"
        );
    }
    Ok(())
}

/// A server that accepts TCP but never answers the upgrade is cut off by `connect_timeout`.
pub async fn connect_timeout_covers_a_silent_server(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        std::thread::sleep(Duration::from_secs(3));
    });
    let res = builder(&rt)
        .connect_timeout(Duration::from_millis(300))
        .connect(&format!("ws://{addr}/"))
        .await;
    ensure!(matches!(res, Err(WsError::Timeout(_))), "got {res:?}");
    Ok(())
}

/// A client that never finishes its upgrade request is cut off by the accept timeout.
pub async fn accept_timeout_cuts_off_a_slowloris_client(rt: Runtime) -> anyhow::Result<()> {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let peer = crate::servers::peer_thread(move || {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n");
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    let (sock, _) = listener.accept().await?;
    let res = WsStreamBuilder::new()
        .runtime(rt.clone())
        .accept_timeout(Duration::from_millis(300))
        .accept(sock)
        .await;
    ensure!(matches!(res, Err(WsError::Timeout(_))), "got {res:?}");
    drop(peer);
    Ok(())
}

/// Our server and our client talk over TLS; messages over 64 KiB cross both ways.
pub async fn tls_echo_carries_large_messages_both_ways(rt: Runtime) -> anyhow::Result<()> {
    let pki = TestPki::new(0);
    let addr = ws_echo_server(1, Some(pki.server()));
    let mut ws = builder(&rt)
        .tls(&pki.client())
        .connect(&format!("wss://localhost:{}/", addr.port()))
        .await?;
    for len in [10, 70_000, 300_000] {
        let data = pattern(len);
        ws.send_binary(&data).await?;
        match ws.recv().await? {
            Some(Message::Binary(b)) => ensure!(b == data.as_slice()),
            other => bail!("expected binary, got {other:?}"),
        }
    }
    ws.close(CloseCode::Normal, "").await?;
    Ok(())
}

/// Split halves run concurrently: the writer sends while the reader receives echoes.
pub async fn split_halves_send_and_receive_concurrently(rt: Runtime) -> anyhow::Result<()> {
    let addr = ws_echo_server(1, None);
    let ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    let (mut rx, mut tx) = ws.split();
    const N: usize = 200;
    let writer = async move {
        for i in 0..N {
            tx.send_text(&format!("msg {i}")).await?;
        }
        Ok::<_, anyhow::Error>(tx)
    };
    let reader = async move {
        for i in 0..N {
            match rx.recv().await? {
                Some(Message::Text(t)) => ensure!(t == format!("msg {i}")),
                other => bail!("expected text {i}, got {other:?}"),
            }
        }
        Ok::<_, anyhow::Error>(rx)
    };
    let (w, r) = futures::join!(writer, reader);
    let mut tx = w?;
    let mut rx = r?;
    tx.close(CloseCode::Normal, "").await?;
    while rx.recv().await?.is_some() {}
    Ok(())
}

/// Auto-pong works across split halves while the writer is idle.
pub async fn split_reader_answers_pings_while_writer_idles(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let mut pongs = 0;
        for _ in 0..5 {
            let _ = s.write_all(&frame(true, 0x9, b"p", None));
            if matches!(read_frame(&mut s), Ok((_, 0xA, _))) {
                pongs += 1;
            }
        }
        let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        tx.send(pongs);
    });
    let ws = builder(&rt)
        .auto_pong(true)
        .connect(&format!("ws://{addr}/"))
        .await?;
    let (mut reader, _writer) = ws.split();
    while reader.recv().await?.is_some() {}
    ensure!(rx.recv().await? == 5);
    Ok(())
}

/// `Sink::feed` twice then `flush` puts both messages on the wire; `Stream` yields owned
/// messages; `Sink::close` sends a Close frame.
pub async fn sink_feeds_are_all_flushed_and_stream_yields_owned(rt: Runtime) -> anyhow::Result<()> {
    let addr = ws_echo_server(1, None);
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    ws.feed(OwnedMessage::Text("a".into())).await?;
    ws.feed(OwnedMessage::Binary(vec![1, 2, 3])).await?;
    ws.flush().await?;
    ensure!(ws.next().await.transpose()? == Some(OwnedMessage::Text("a".into())));
    ensure!(ws.next().await.transpose()? == Some(OwnedMessage::Binary(vec![1, 2, 3])));
    SinkExt::close(&mut ws).await?;
    Ok(())
}

/// `accept` serves a client over any futures-io stream; both ends are ours.
pub async fn accept_and_connect_talk_to_each_other(rt: Runtime) -> anyhow::Result<()> {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let srt = rt.clone();
    let server = async move {
        let (sock, _) = listener.accept().await?;
        let mut ws = WsStreamBuilder::new().runtime(srt).accept(sock).await?;
        while let Some(msg) = ws.recv().await? {
            if let Message::Text(t) = msg {
                let reply = t.to_uppercase();
                ws.send_text(&reply).await?;
            }
        }
        Ok::<_, anyhow::Error>(())
    };
    let client = async {
        let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
        ws.send_text("shout").await?;
        ensure!(matches!(ws.recv().await?, Some(Message::Text("SHOUT"))));
        ws.close(CloseCode::Normal, "").await?;
        Ok::<_, anyhow::Error>(())
    };
    let (s, c) = futures::join!(server, client);
    s?;
    c
}

/// IPv6 loopback works, with the bracketed Host header.
pub async fn ipv6_loopback_url_connects(rt: Runtime) -> anyhow::Result<()> {
    let Ok(listener) = std::net::TcpListener::bind("[::1]:0") else {
        // No IPv6 on this machine: nothing to check.
        return Ok(());
    };
    let addr = listener.local_addr()?;
    let (tx, mut rx) = crate::servers::report();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let head = raw_accept(&mut s).unwrap_or_default();
            tx.send(head);
            let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        }
    });
    let mut ws = builder(&rt)
        .connect(&format!("ws://[::1]:{}/v6", addr.port()))
        .await?;
    let head = rx.recv().await?;
    ensure!(
        head.contains(&format!("Host: [::1]:{}", addr.port())),
        "{head}"
    );
    while ws.recv().await?.is_some() {}
    Ok(())
}

/// A peer that resets the connection mid-frame gives a typed I/O error, not a panic.
pub async fn reset_mid_frame_is_an_io_error(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        let f = frame(true, 0x2, &[1u8; 1000], None);
        let _ = s.write_all(&f[..100]);
        let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    match ws.recv().await {
        Err(WsError::Io(_)) | Err(WsError::Protocol(_)) => Ok(()),
        other => bail!("expected an error, got {other:?}"),
    }
}

/// `connect_with` runs the upgrade over a stream the caller connected itself.
pub async fn connect_with_runs_the_upgrade_over_a_caller_stream(rt: Runtime) -> anyhow::Result<()> {
    let addr = ws_echo_server(1, None);
    let tcp = rt
        .connect("127.0.0.1", addr.port(), &Default::default())
        .await?;
    let mut ws: nexus_async_net::ws::WsStream<TcpStream> = WsStreamBuilder::new()
        .runtime(rt.clone())
        .connect_with(tcp, &format!("ws://{addr}/"))
        .await?;
    ws.send_text("over a stream I connected myself").await?;
    ensure!(matches!(ws.recv().await?, Some(Message::Text(_))));
    Ok(())
}

/// The heartbeat pings a quiet peer and gives up when its Pong stops coming.
pub async fn heartbeat_fails_recv_when_pongs_stop(rt: Runtime) -> anyhow::Result<()> {
    let (tx, mut rx) = crate::servers::report();
    let addr = raw_server(1, move |mut s| {
        let _ = raw_accept(&mut s);
        let mut pings = 0;
        // Answer the first ping only, then keep reading without answering.
        while let Ok((_, op, payload)) = read_frame(&mut s) {
            if op == 0x9 {
                pings += 1;
                if pings == 1 {
                    let _ = s.write_all(&frame(true, 0xA, &payload, None));
                }
            }
            if op == 0x8 {
                break;
            }
        }
        tx.send(pings);
    });
    let mut ws = builder(&rt)
        .heartbeat(Duration::from_millis(100), Duration::from_millis(300))
        .connect(&format!("ws://{addr}/"))
        .await?;
    // The first Pong is delivered like any message; then the deadline passes.
    loop {
        match ws.recv().await {
            Ok(Some(Message::Pong(_))) => continue,
            Err(WsError::Timeout(_)) => break,
            other => bail!("expected a heartbeat timeout, got {other:?}"),
        }
    }
    drop(ws);
    let pings = rx.recv().await?;
    ensure!(pings >= 2, "the peer saw {pings} pings");
    Ok(())
}

/// The idle timeout detects a peer that went silent (a half-open connection).
pub async fn idle_timeout_detects_a_silent_peer(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        std::thread::sleep(Duration::from_secs(3));
    });
    let mut ws = builder(&rt)
        .idle_timeout(Duration::from_millis(300))
        .connect(&format!("ws://{addr}/"))
        .await?;
    match ws.recv().await {
        Err(WsError::Timeout(_)) => Ok(()),
        other => bail!("expected an idle timeout, got {other:?}"),
    }
}

/// Busy-polling reads (`busy_poll`): messages of every size come back as without it, over
/// plain TCP and TLS; a message that arrives long after the budget ran out still wakes the
/// parked task (the reactor registration made before spinning stays in place).
pub async fn busy_poll_echoes_and_parks_once_the_budget_runs_out(
    rt: Runtime,
) -> anyhow::Result<()> {
    let addr = ws_echo_server(1, None);
    let mut ws = builder(&rt)
        .busy_poll(Duration::from_millis(2))
        .connect(&format!("ws://{addr}/echo"))
        .await?;
    for len in [0, 1, 125, 126, 65_536, 1 << 20] {
        let data = pattern(len);
        ws.send_binary(&data).await?;
        match ws.recv().await? {
            Some(Message::Binary(b)) => ensure!(b == data.as_slice(), "binary {len} differs"),
            other => bail!("expected binary {len}, got {other:?}"),
        }
    }
    ws.close(CloseCode::Normal, "").await?;

    let pki = TestPki::new(0);
    let addr = ws_echo_server(1, Some(pki.server()));
    let mut ws = builder(&rt)
        .busy_poll(Duration::from_millis(2))
        .tls(&pki.client())
        .connect(&format!("wss://localhost:{}/", addr.port()))
        .await?;
    for len in [10, 70_000] {
        let data = pattern(len);
        ws.send_binary(&data).await?;
        match ws.recv().await? {
            Some(Message::Binary(b)) => ensure!(b == data.as_slice(), "tls binary {len}"),
            other => bail!("expected binary, got {other:?}"),
        }
    }
    ws.close(CloseCode::Normal, "").await?;

    // 300 ms of silence against a 1 ms budget: the read parks and must be woken.
    let addr = raw_server(1, |mut s| {
        let _ = raw_accept(&mut s);
        std::thread::sleep(Duration::from_millis(300));
        let _ = s.write_all(&frame(true, 0x1, b"late", None));
        let _ = s.write_all(&frame(true, 0x8, &1000u16.to_be_bytes(), None));
        let _ = read_frame(&mut s);
    });
    let mut ws = builder(&rt)
        .busy_poll(Duration::from_millis(1))
        .connect(&format!("ws://{addr}/"))
        .await?;
    ensure!(matches!(ws.recv().await?, Some(Message::Text("late"))));
    ensure!(matches!(ws.recv().await?, Some(Message::Close(_))));
    ensure!(
        ws.recv().await?.is_none(),
        "the peer's Close ends the stream"
    );
    Ok(())
}

/// A server that refuses an oversized message sends Close 1009 and drops the connection
/// with the rest unread (the kernel answers with a reset): the sender's error is that
/// Close, code and reason, not "broken pipe".
pub async fn a_refused_oversized_send_reports_the_peers_close(rt: Runtime) -> anyhow::Result<()> {
    let addr = raw_server(1, |mut s| {
        if raw_accept(&mut s).is_err() {
            return;
        }
        // The frame header of the big message, then the refusal, then a drop with
        // megabytes unread.
        let mut head = [0u8; 10];
        if s.read_exact(&mut head).is_err() {
            return;
        }
        let mut close = 1009u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"message too big: limit 1024 bytes");
        let _ = s.write_all(&frame(true, 0x8, &close, None));
        std::thread::sleep(Duration::from_millis(50));
    });
    let mut ws = builder(&rt).connect(&format!("ws://{addr}/")).await?;
    let big = pattern(32 << 20);
    let err = match ws.send_binary(&big).await {
        Ok(()) => bail!("32 MiB went into a peer that stopped reading after 10 bytes"),
        Err(e) => e,
    };
    match &err {
        WsError::ClosedByPeer(Some(frame)) => {
            ensure!(
                frame.code == CloseCode::MessageTooBig,
                "code {}",
                frame.code
            );
            ensure!(
                frame.reason() == "message too big: limit 1024 bytes",
                "reason {:?}",
                frame.reason()
            );
        }
        other => bail!("expected the peer's Close, got {other:?}"),
    }
    ensure!(
        err.to_string()
            == "the peer closed the connection with 1009 (message too big): message too big: \
                limit 1024 bytes",
        "text: {err}"
    );
    ensure!(err.is_closed());
    Ok(())
}

/// Accepts `n` clients on `listener`, then echoes one text message per client upper-cased
/// and drains each until the client closes.
async fn accept_and_shout(
    listener: &mut nexus_async_net::ws::WsListener,
    n: usize,
) -> anyhow::Result<()> {
    let mut conns = Vec::new();
    for _ in 0..n {
        let (ws, peer) = listener.accept().await?;
        ensure!(peer.ip().is_loopback(), "peer {peer}");
        conns.push(ws);
    }
    for ws in &mut conns {
        match ws.recv().await? {
            Some(Message::Text(t)) => {
                let reply = t.to_uppercase();
                ws.send_text(&reply).await?;
            }
            other => bail!("expected text, got {other:?}"),
        }
        while ws.recv().await?.is_some() {}
    }
    Ok(())
}

/// The listener binds through the runtime seam and upgrades eight concurrent clients; each
/// gets its own reply.
pub async fn listener_accepts_and_upgrades_concurrent_clients(rt: Runtime) -> anyhow::Result<()> {
    let mut listener = builder(&rt).bind("127.0.0.1:0".parse()?)?;
    let url = format!("ws://{}/", listener.local_addr()?);
    let clients = (0..8).map(|i| {
        let (rt, url) = (rt.clone(), url.clone());
        async move {
            let mut ws = builder(&rt).connect(&url).await?;
            ws.send_text(&format!("client {i}")).await?;
            match ws.recv().await? {
                Some(Message::Text(t)) => ensure!(t == format!("CLIENT {i}"), "got {t}"),
                other => bail!("expected text, got {other:?}"),
            }
            ws.close(CloseCode::Normal, "").await?;
            Ok::<_, anyhow::Error>(())
        }
    });
    let (server, clients) = futures::join!(
        accept_and_shout(&mut listener, 8),
        futures::future::join_all(clients)
    );
    server?;
    for c in clients {
        c?;
    }
    ensure!(listener.pending_handshakes() == 0);
    Ok(())
}

/// A client that sends garbage is reported with its address and gets a 400; a client that
/// stays silent does not hold up a good one behind it; the listener keeps serving.
pub async fn listener_reports_a_bad_client_and_a_silent_one_blocks_nobody(
    rt: Runtime,
) -> anyhow::Result<()> {
    let mut listener = builder(&rt)
        .accept_timeout(Duration::from_secs(20))
        .bind("127.0.0.1:0".parse()?)?;
    let addr = listener.local_addr()?;
    // Connected first, never sends a byte, holds the connection for longer than the test.
    let silent = std::net::TcpStream::connect(addr)?;
    let mut garbage = crate::servers::peer_thread(move || -> std::io::Result<_> {
        let mut s = std::net::TcpStream::connect(addr)?;
        s.write_all(b"HELLO?\r\n\r\n")?;
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        Ok((s.local_addr()?, reply))
    });
    // The bad client's error arrives while the silent one is still pending.
    let err = match listener.accept().await {
        Err(e) => e,
        Ok((_, peer)) => bail!("accepted {peer} instead of failing"),
    };
    let (garbage_addr, reply) = garbage.recv().await.context("garbage peer")??;
    ensure!(
        matches!(
            &err,
            nexus_async_net::ws::AcceptError::Handshake {
                error: WsError::Handshake(_),
                ..
            }
        ),
        "got {err:?}"
    );
    ensure!(
        err.peer() == Some(garbage_addr),
        "{err:?} vs {garbage_addr}"
    );
    ensure!(
        err.to_string()
            .starts_with(&format!("the handshake with {garbage_addr} failed: ")),
        "{err}"
    );
    ensure!(
        reply.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
    // A good client still gets through with the silent one in its handshake.
    let url = format!("ws://{addr}/");
    let client = async {
        let mut ws = builder(&rt).connect(&url).await?;
        ws.send_text("still there").await?;
        ensure!(matches!(
            ws.recv().await?,
            Some(Message::Text("STILL THERE"))
        ));
        ws.close(CloseCode::Normal, "").await?;
        Ok::<_, anyhow::Error>(())
    };
    let (s, c) = futures::join!(accept_and_shout(&mut listener, 1), client);
    s?;
    c?;
    ensure!(
        listener.pending_handshakes() == 1,
        "the silent client is still pending"
    );
    drop(silent);
    Ok(())
}

/// With a server TLS config the listener runs the TLS handshake first (`wss://`).
pub async fn listener_upgrades_tls_clients(rt: Runtime) -> anyhow::Result<()> {
    let pki = TestPki::new(0);
    let mut listener = builder(&rt)
        .tls(&pki.server())
        .bind("127.0.0.1:0".parse()?)?;
    let url = format!("wss://localhost:{}/", listener.local_addr()?.port());
    let client = async {
        let mut ws = builder(&rt).tls(&pki.client()).connect(&url).await?;
        ws.send_text("secret").await?;
        ensure!(matches!(ws.recv().await?, Some(Message::Text("SECRET"))));
        ws.close(CloseCode::Normal, "").await?;
        Ok::<_, anyhow::Error>(())
    };
    let (s, c) = futures::join!(accept_and_shout(&mut listener, 1), client);
    s?;
    c
}
