//! One driver, two shapes: every behaviour here runs on a whole `WsStream` and on its
//! split halves, and must give the same result and the same error on both.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use futures::{SinkExt, StreamExt};
use nexus_async_net::rt::{Runtime, TcpStream};
use nexus_async_net::tls::MaybeTls;
use nexus_async_net::ws::{
    ClientStream, CloseCode, OwnedMessage, WsError, WsReader, WsStreamBuilder, WsWriter,
};

use crate::servers::{frame, raw_accept, raw_server, read_frame, ws_echo_server};

type Io = MaybeTls<TcpStream>;

/// A client connection as the whole stream or as its two halves (one per test, so the
/// size difference of the variants does not matter).
#[allow(clippy::large_enum_variant)]
enum Endpoint {
    Whole(ClientStream),
    Halves(WsReader<Io>, WsWriter<Io>),
}

impl Endpoint {
    async fn connect(builder: WsStreamBuilder, url: &str, split: bool) -> anyhow::Result<Self> {
        let ws = builder.connect(url).await?;
        Ok(if split {
            let (rx, tx) = ws.split();
            Self::Halves(rx, tx)
        } else {
            Self::Whole(ws)
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Whole(_) => "stream",
            Self::Halves(..) => "halves",
        }
    }

    async fn next(&mut self) -> Option<Result<OwnedMessage, WsError>> {
        match self {
            Self::Whole(ws) => ws.next().await,
            Self::Halves(rx, _) => rx.next().await,
        }
    }

    async fn feed(&mut self, msg: OwnedMessage) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => ws.feed(msg).await,
            Self::Halves(_, tx) => tx.feed(msg).await,
        }
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => SinkExt::flush(ws).await,
            Self::Halves(_, tx) => SinkExt::flush(tx).await,
        }
    }

    async fn sink_close(&mut self) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => SinkExt::close(ws).await,
            Self::Halves(_, tx) => SinkExt::close(tx).await,
        }
    }

    fn feed_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => ws.feed_binary(data),
            Self::Halves(_, tx) => tx.feed_binary(data),
        }
    }

    async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => ws.send_text(text).await,
            Self::Halves(_, tx) => tx.send_text(text).await,
        }
    }

    async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        match self {
            Self::Whole(ws) => ws.close(code, reason).await,
            Self::Halves(_, tx) => tx.close(code, reason).await,
        }
    }
}

fn builder(rt: &Runtime) -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .buffer_capacity(64 * 1024)
        .connect_timeout(Duration::from_secs(10))
}

/// A protocol error (a message over the limit) is reported once on both shapes, the
/// receive side then ends, and the peer gets the same Close (code and reason) from both.
pub async fn a_protocol_error_gives_the_same_error_and_close_on_both_shapes(
    rt: Runtime,
) -> anyhow::Result<()> {
    let mut closes = Vec::new();
    for split in [false, true] {
        let (tx, mut report) = crate::servers::report();
        let addr = raw_server(1, move |mut s| {
            let _ = raw_accept(&mut s);
            let _ = s.write_all(&frame(true, 0x2, &[7u8; 2000], None));
            tx.send(read_frame(&mut s).ok());
        });
        let b = builder(&rt).max_message_size(1000);
        let mut ep = Endpoint::connect(b, &format!("ws://{addr}/"), split).await?;
        let name = ep.name();
        match ep.next().await {
            Some(Err(e)) if e.is_protocol() => {}
            other => bail!("{name}: expected a protocol error, got {other:?}"),
        }
        ensure!(
            ep.next().await.is_none(),
            "{name}: the error is reported once"
        );
        ensure!(
            matches!(ep.send_text("late").await, Err(WsError::Closed)),
            "{name}: sends fail after the error Close"
        );
        let (_, op, payload) = report.recv().await?.context("no close frame")?;
        ensure!(op == 0x8, "{name}: expected a Close, got opcode {op}");
        ensure!(
            payload.get(..2) == Some(&1009u16.to_be_bytes()[..]),
            "{name}: {payload:?}"
        );
        closes.push(payload);
    }
    ensure!(closes[0] == closes[1], "different Close frames: {closes:?}");
    Ok(())
}

/// The peer's Close is delivered, echoed with its code, and then the receive side ends,
/// the same on both shapes.
pub async fn the_peer_close_is_echoed_the_same_on_both_shapes(rt: Runtime) -> anyhow::Result<()> {
    for split in [false, true] {
        let (tx, mut report) = crate::servers::report();
        let addr = raw_server(1, move |mut s| {
            let _ = raw_accept(&mut s);
            let body = [&1001u16.to_be_bytes()[..], b"gone"].concat();
            let _ = s.write_all(&frame(true, 0x8, &body, None));
            tx.send(read_frame(&mut s).ok());
        });
        let mut ep = Endpoint::connect(builder(&rt), &format!("ws://{addr}/"), split).await?;
        let name = ep.name();
        match ep.next().await {
            Some(Ok(OwnedMessage::Close(Some(f)))) if f.code == CloseCode::GoingAway => {}
            other => bail!("{name}: expected the peer's Close, got {other:?}"),
        }
        ensure!(
            ep.next().await.is_none(),
            "{name}: the stream ends after the Close"
        );
        let (_, op, payload) = report.recv().await?.context("no echo")?;
        ensure!(
            op == 0x8 && payload == 1001u16.to_be_bytes(),
            "{name}: {op} {payload:?}"
        );
    }
    Ok(())
}

/// `close` against a peer that never reads: the Close cannot be written, the close
/// timeout runs out, and `close` returns `Ok` on both shapes (the one close rule); sends
/// then fail with `Closed`.
pub async fn close_gives_up_after_the_close_timeout_on_both_shapes(
    rt: Runtime,
) -> anyhow::Result<()> {
    for split in [false, true] {
        let addr = raw_server(1, |mut s| {
            let _ = raw_accept(&mut s);
            // Never read; hang up after a while (the server stops by itself).
            std::thread::sleep(Duration::from_secs(3));
        });
        let b = builder(&rt).close_timeout(Duration::from_millis(200));
        let mut ep = Endpoint::connect(b, &format!("ws://{addr}/"), split).await?;
        let name = ep.name();
        // More than loopback socket buffers hold, queued without writing.
        let chunk = vec![0u8; 8 << 20];
        for _ in 0..4 {
            ep.feed_binary(&chunk)?;
        }
        let res = rt
            .timeout(
                Some(Duration::from_secs(10)),
                ep.close(CloseCode::Normal, ""),
            )
            .await
            .map_err(|_| anyhow::anyhow!("{name}: close did not honour the close timeout"))?;
        ensure!(
            res.is_ok(),
            "{name}: close must not fail on a timeout: {res:?}"
        );
        ensure!(
            matches!(ep.send_text("after").await, Err(WsError::Closed)),
            "{name}: sends fail once the close gave up"
        );
        ensure!(
            ep.close(CloseCode::Normal, "").await.is_ok(),
            "{name}: a second close is a no-op"
        );
    }
    Ok(())
}

/// `Sink::feed` twice then `flush` puts both messages on the wire, `Stream` yields them
/// owned, and `Sink::close` sends a Close: the same on the halves as on the stream.
pub async fn sink_and_stream_work_the_same_on_both_shapes(rt: Runtime) -> anyhow::Result<()> {
    for split in [false, true] {
        let addr = ws_echo_server(1, None);
        let mut ep = Endpoint::connect(builder(&rt), &format!("ws://{addr}/"), split).await?;
        let name = ep.name();
        ep.feed(OwnedMessage::Text("a".into())).await?;
        ep.feed(OwnedMessage::Binary(vec![1, 2, 3])).await?;
        ep.flush().await?;
        let a = ep.next().await.transpose()?;
        let b = ep.next().await.transpose()?;
        ensure!(a == Some(OwnedMessage::Text("a".into())), "{name}: {a:?}");
        ensure!(
            b == Some(OwnedMessage::Binary(vec![1, 2, 3])),
            "{name}: {b:?}"
        );
        ep.sink_close().await?;
        // The echo server answers our Close; the receive side then ends.
        loop {
            match ep.next().await {
                None => break,
                Some(Ok(OwnedMessage::Close(_))) => {}
                other => bail!("{name}: expected the end, got {other:?}"),
            }
        }
    }
    Ok(())
}
