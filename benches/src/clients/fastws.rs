//! fastwebsockets over a tokio `TcpStream`; the client handshake is done by hand (the
//! crate's `upgrade` feature would route it through hyper, which changes nothing after).

use std::time::{Duration, Instant};

use fastwebsockets::{Frame, OpCode, Payload, Role, WebSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Kind, check_len};

pub async fn connect(url: &str) -> anyhow::Result<WebSocket<TcpStream>> {
    let addr = super::host_port(url)?;
    let path = url.splitn(4, '/').nth(3).unwrap_or("");
    let mut tcp = TcpStream::connect(&addr).await?;
    tcp.set_nodelay(true)?;
    let req = format!(
        "GET /{path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await?;
    // Byte by byte, so that no frame byte is read along with the response head.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await?);
        anyhow::ensure!(head.len() < 8192, "response head too large");
    }
    anyhow::ensure!(head.starts_with(b"HTTP/1.1 101"), "upgrade refused");
    let mut ws = WebSocket::after_handshake(tcp, Role::Client);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    Ok(ws)
}

pub async fn recv(url: &str, kind: Kind, size: usize, count: u64) -> anyhow::Result<Duration> {
    let mut ws = connect(url).await?;
    let want = match kind {
        Kind::Binary => OpCode::Binary,
        Kind::Text => OpCode::Text,
    };
    let start = Instant::now();
    let mut seen = 0u64;
    while seen < count {
        let frame = ws.read_frame().await?;
        anyhow::ensure!(
            frame.opcode == want && frame.fin,
            "unexpected {:?}",
            frame.opcode
        );
        check_len(frame.payload.len(), size)?;
        seen += 1;
    }
    Ok(start.elapsed())
}

pub async fn echo(url: &str, size: usize, count: usize, warmup: usize) -> anyhow::Result<Vec<u64>> {
    let mut ws = connect(url).await?;
    let payload = crate::wire::payload(size);
    // Masking works in place: a reused scratch copy avoids the allocation that
    // `Payload::Borrowed` would cost on every send (the fastest way to use the crate).
    let mut scratch = payload.clone();
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let t0 = Instant::now();
        scratch.copy_from_slice(&payload);
        ws.write_frame(Frame::binary(Payload::BorrowedMut(&mut scratch)))
            .await?;
        let frame = ws.read_frame().await?;
        anyhow::ensure!(
            frame.opcode == OpCode::Binary,
            "unexpected {:?}",
            frame.opcode
        );
        check_len(frame.payload.len(), size)?;
        if i >= warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok(samples)
}

pub async fn send(url: &str, size: usize, count: u64) -> anyhow::Result<Duration> {
    let mut ws = connect(url).await?;
    let payload = crate::wire::payload(size);
    // Masking works in place: a reused scratch copy avoids the allocation that
    // `Payload::Borrowed` would cost on every send (the fastest way to use the crate).
    let mut scratch = payload.clone();
    let start = Instant::now();
    for _ in 0..count {
        scratch.copy_from_slice(&payload);
        ws.write_frame(Frame::binary(Payload::BorrowedMut(&mut scratch)))
            .await?;
    }
    let frame = ws.read_frame().await?;
    anyhow::ensure!(
        frame.opcode == OpCode::Text && &frame.payload[..] == b"done",
        "unexpected {:?}",
        frame.opcode
    );
    Ok(start.elapsed())
}
