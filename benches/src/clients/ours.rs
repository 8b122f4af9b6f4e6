//! This crate: `nexus_async_net::ws` on the runtime the caller picks.

use std::time::{Duration, Instant};

use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{ClientStream, Message, WsStreamBuilder};

use super::{Kind, check_len};

async fn connect(rt: Runtime, url: &str) -> anyhow::Result<ClientStream> {
    Ok(WsStreamBuilder::new()
        .runtime(rt)
        .disable_nagle()
        .connect(url)
        .await?)
}

/// Busy-poll budget of the `ours (tokio, busy-poll)` rows: longer than a loopback round
/// trip, so the client never parks between a request and its reply.
pub const BUSY_POLL: Duration = Duration::from_micros(200);

/// The default configuration plus busy-polling (`WsStreamBuilder::busy_poll`).
pub fn busy_builder() -> WsStreamBuilder {
    WsStreamBuilder::new().disable_nagle().busy_poll(BUSY_POLL)
}

/// The configuration documented for many mostly idle connections: a read buffer of
/// `SMALL_READ` bytes (larger messages stream into the message buffer), `SMALL_WRITE`
/// bytes of initial write buffer (larger sends grow it).
pub fn small_builder() -> WsStreamBuilder {
    WsStreamBuilder::new()
        .disable_nagle()
        .buffer_capacity(SMALL_READ)
        .write_buffer_capacity(SMALL_WRITE)
}

/// Read buffer of the small configuration.
pub const SMALL_READ: usize = 1024;
/// Initial write buffer of the small configuration.
pub const SMALL_WRITE: usize = 256;

/// Connects (default or small configuration) and receives the first message.
pub async fn connect_first(rt: Runtime, url: &str, small: bool) -> anyhow::Result<ClientStream> {
    let builder = if small {
        small_builder()
    } else {
        WsStreamBuilder::new().disable_nagle()
    };
    let mut ws = builder.runtime(rt).connect(url).await?;
    anyhow::ensure!(
        matches!(ws.recv().await?, Some(Message::Text(_))),
        "no first message"
    );
    Ok(ws)
}

pub async fn recv(
    rt: Runtime,
    url: &str,
    kind: Kind,
    size: usize,
    count: u64,
) -> anyhow::Result<Duration> {
    recv_with(
        WsStreamBuilder::new().runtime(rt).disable_nagle(),
        url,
        kind,
        size,
        count,
    )
    .await
}

/// Receive throughput with a given builder configuration.
pub async fn recv_with(
    builder: WsStreamBuilder,
    url: &str,
    kind: Kind,
    size: usize,
    count: u64,
) -> anyhow::Result<Duration> {
    let mut ws = builder.connect(url).await?;
    let start = Instant::now();
    let mut seen = 0u64;
    while seen < count {
        match ws.recv().await? {
            Some(Message::Binary(b)) if kind == Kind::Binary => check_len(b.len(), size)?,
            Some(Message::Text(t)) if kind == Kind::Text => check_len(t.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        seen += 1;
    }
    Ok(start.elapsed())
}

pub async fn echo(
    rt: Runtime,
    url: &str,
    size: usize,
    count: usize,
    warmup: usize,
) -> anyhow::Result<Vec<u64>> {
    echo_with(
        WsStreamBuilder::new().runtime(rt).disable_nagle(),
        url,
        size,
        count,
        warmup,
    )
    .await
}

/// Echo round trips with a given builder configuration.
pub async fn echo_with(
    builder: WsStreamBuilder,
    url: &str,
    size: usize,
    count: usize,
    warmup: usize,
) -> anyhow::Result<Vec<u64>> {
    let mut ws = builder.connect(url).await?;
    let payload = crate::wire::payload(size);
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let t0 = Instant::now();
        ws.send_binary(&payload).await?;
        match ws.recv().await? {
            Some(Message::Binary(b)) => check_len(b.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        if i >= warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok(samples)
}

pub async fn send(rt: Runtime, url: &str, size: usize, count: u64) -> anyhow::Result<Duration> {
    let mut ws = connect(rt, url).await?;
    let payload = crate::wire::payload(size);
    let start = Instant::now();
    for _ in 0..count {
        ws.send_binary(&payload).await?;
    }
    match ws.recv().await? {
        Some(Message::Text("done")) => {}
        other => anyhow::bail!("unexpected {other:?}"),
    }
    Ok(start.elapsed())
}
