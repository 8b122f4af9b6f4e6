//! The published `nexus-async-net` 0.9.1 from crates.io (tokio only, no TLS).

use std::time::{Duration, Instant};

use nexus_async_net_published::Message;
use nexus_async_net_published::ws::WsStreamBuilder;

use super::{Kind, check_len};

fn err(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("published nexus-async-net: {e:?}")
}

pub async fn recv(url: &str, kind: Kind, size: usize, count: u64) -> anyhow::Result<Duration> {
    let (mut rx, _tx, mut conn) = WsStreamBuilder::new()
        .disable_nagle()
        .connect(url)
        .await
        .map_err(err)?;
    let start = Instant::now();
    let mut seen = 0u64;
    while seen < count {
        match rx.recv(&mut conn).await.map_err(err)? {
            Some(Message::Binary(b)) if kind == Kind::Binary => check_len(b.len(), size)?,
            Some(Message::Text(t)) if kind == Kind::Text => check_len(t.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        seen += 1;
    }
    Ok(start.elapsed())
}

pub async fn echo(url: &str, size: usize, count: usize, warmup: usize) -> anyhow::Result<Vec<u64>> {
    let (mut rx, mut tx, mut conn) = WsStreamBuilder::new()
        .disable_nagle()
        .connect(url)
        .await
        .map_err(err)?;
    let payload = crate::wire::payload(size);
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let t0 = Instant::now();
        tx.send_binary(&mut conn, &payload).await.map_err(err)?;
        match rx.recv(&mut conn).await.map_err(err)? {
            Some(Message::Binary(b)) => check_len(b.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        if i >= warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok(samples)
}

pub async fn send(url: &str, size: usize, count: u64) -> anyhow::Result<Duration> {
    let (mut rx, mut tx, mut conn) = WsStreamBuilder::new()
        .disable_nagle()
        .connect(url)
        .await
        .map_err(err)?;
    let payload = crate::wire::payload(size);
    let start = Instant::now();
    for _ in 0..count {
        tx.send_binary(&mut conn, &payload).await.map_err(err)?;
    }
    match rx.recv(&mut conn).await.map_err(err)? {
        Some(Message::Text("done")) => {}
        other => anyhow::bail!("unexpected {other:?}"),
    }
    Ok(start.elapsed())
}

/// Connects (default, or 4 KiB read / 1 KiB write buffers) and receives the first message.
pub async fn connect_first(
    url: &str,
    small: bool,
) -> anyhow::Result<(
    nexus_async_net_published::ws::WsReader,
    nexus_async_net_published::ws::WsWriter,
    nexus_async_net_published::ws::MaybeTls,
)> {
    let mut b = WsStreamBuilder::new().disable_nagle();
    if small {
        b = b.buffer_capacity(4 * 1024).write_buffer_capacity(1024);
    }
    let (mut rx, tx, mut conn) = b.connect(url).await.map_err(err)?;
    anyhow::ensure!(
        matches!(
            rx.recv(&mut conn).await.map_err(err)?,
            Some(Message::Text(_))
        ),
        "no first message"
    );
    Ok((rx, tx, conn))
}
