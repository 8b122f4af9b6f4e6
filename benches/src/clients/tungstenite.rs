//! tokio-tungstenite (tokio) and async-tungstenite (smol): both wrap tungstenite 0.30 and
//! are driven through `futures::{Stream, Sink}`, their documented API.

use std::time::{Duration, Instant};

use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Error, Message};

use super::{Kind, check_len};

/// tokio-tungstenite over a tokio `TcpStream` with `TCP_NODELAY`.
pub async fn connect_tokio(
    url: &str,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    connect_tokio_with(url, None).await
}

/// As [`connect_tokio`], with a config.
pub async fn connect_tokio_with(
    url: &str,
    config: Option<WebSocketConfig>,
) -> anyhow::Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let addr = super::host_port(url)?;
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, config).await?;
    Ok(ws)
}

/// async-tungstenite over a smol `TcpStream` with `TCP_NODELAY`.
pub async fn connect_smol(
    url: &str,
) -> anyhow::Result<async_tungstenite::WebSocketStream<smol::net::TcpStream>> {
    connect_smol_with(url, None).await
}

/// As [`connect_smol`], with a config.
pub async fn connect_smol_with(
    url: &str,
    config: Option<WebSocketConfig>,
) -> anyhow::Result<async_tungstenite::WebSocketStream<smol::net::TcpStream>> {
    let addr = super::host_port(url)?;
    let tcp = smol::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = async_tungstenite::client_async_with_config(url, tcp, config).await?;
    Ok(ws)
}

/// tungstenite's small-buffer settings (the defaults are 128 KiB read, 128 KiB write).
pub fn small_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

pub async fn recv<W>(mut ws: W, kind: Kind, size: usize, count: u64) -> anyhow::Result<Duration>
where
    W: Stream<Item = Result<Message, Error>> + Unpin,
{
    let start = Instant::now();
    let mut seen = 0u64;
    while seen < count {
        match ws.next().await.transpose()? {
            Some(Message::Binary(b)) if kind == Kind::Binary => check_len(b.len(), size)?,
            Some(Message::Text(t)) if kind == Kind::Text => check_len(t.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        seen += 1;
    }
    Ok(start.elapsed())
}

pub async fn echo<W>(
    mut ws: W,
    size: usize,
    count: usize,
    warmup: usize,
) -> anyhow::Result<Vec<u64>>
where
    W: Stream<Item = Result<Message, Error>> + Sink<Message, Error = Error> + Unpin,
{
    let payload = Bytes::from(crate::wire::payload(size));
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let t0 = Instant::now();
        ws.send(Message::Binary(payload.clone())).await?;
        match ws.next().await.transpose()? {
            Some(Message::Binary(b)) => check_len(b.len(), size)?,
            other => anyhow::bail!("unexpected {other:?}"),
        }
        if i >= warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok(samples)
}

pub async fn send<W>(mut ws: W, size: usize, count: u64) -> anyhow::Result<Duration>
where
    W: Stream<Item = Result<Message, Error>> + Sink<Message, Error = Error> + Unpin,
{
    let payload = Bytes::from(crate::wire::payload(size));
    let start = Instant::now();
    for _ in 0..count {
        ws.send(Message::Binary(payload.clone())).await?;
    }
    match ws.next().await.transpose()? {
        Some(Message::Text(t)) if t.as_str() == "done" => {}
        other => anyhow::bail!("unexpected {other:?}"),
    }
    Ok(start.elapsed())
}
