//! The gateway parts: a prepared message fanned out through [`Broadcast`] to many
//! connections, slow consumers under each [`LagPolicy`], and sharded accept.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use anyhow::{bail, ensure};
use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, StreamExt};
use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{
    Broadcast, CloseCode, Lag, LagPolicy, Message, PreparedMessage, WsListener, WsStreamBuilder,
};

use crate::servers::{accept_key, read_head, yield_now};

fn builder(rt: &Runtime) -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .buffer_capacity(16 * 1024)
        .write_buffer_capacity(4 * 1024)
        .connect_timeout(Duration::from_secs(10))
        .close_timeout(Duration::from_millis(200))
}

/// Runs `fut` to completion while also polling `others` (whose results are returned).
async fn alongside<F: std::future::Future, C: std::future::Future>(
    fut: F,
    others: &mut FuturesUnordered<C>,
) -> (F::Output, Vec<C::Output>) {
    let mut fut = std::pin::pin!(fut);
    let mut done = Vec::new();
    let out = std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        while let Poll::Ready(Some(r)) = others.poll_next_unpin(cx) {
            done.push(r);
        }
        Poll::Pending
    })
    .await;
    (out, done)
}

/// Accepts `n` connections and gives each a subscriber whose `forward` runs in the
/// returned set (one task drives them all; nothing is spawned).
async fn subscribe_all(
    listener: &mut WsListener,
    hub: &Broadcast,
    n: usize,
) -> anyhow::Result<FuturesUnordered<futures::future::BoxFuture<'static, ()>>> {
    let forwards = FuturesUnordered::new();
    for _ in 0..n {
        let (ws, _) = listener.accept().await?;
        let (reader, mut writer) = ws.split();
        let mut sub = hub.subscribe();
        forwards.push(Box::pin(async move {
            let _keep = reader;
            let _ = sub.forward(&mut writer).await;
        }) as futures::future::BoxFuture<'static, ()>);
    }
    Ok(forwards)
}

/// Reads `count` texts `m{i}` in order.
async fn read_all(rt: Runtime, url: String, count: usize) -> anyhow::Result<()> {
    read_counting(rt, url, count, Arc::new(AtomicUsize::new(0))).await
}

/// As [`read_all`], counting received messages in `progress`.
async fn read_counting(
    rt: Runtime,
    url: String,
    count: usize,
    progress: Arc<AtomicUsize>,
) -> anyhow::Result<()> {
    let mut ws = builder(&rt).connect(&url).await?;
    for i in 0..count {
        match ws.recv().await? {
            Some(Message::Text(t)) if t.starts_with(&format!("m{i} ")) || t == format!("m{i}") => {}
            other => bail!("message {i}: got {:?}", other.map(|m| m.into_owned())),
        }
        progress.store(i + 1, Ordering::Relaxed);
    }
    Ok(())
}

/// Prepared messages reach 200 clients once each and in order (the CI-sized variant of
/// the 10 000-connection benchmark).
pub async fn broadcast_reaches_every_client_once_in_order(rt: Runtime) -> anyhow::Result<()> {
    let mut listener = builder(&rt).bind("127.0.0.1:0".parse()?)?;
    let url = format!("ws://{}/", listener.local_addr()?);
    let hub = Broadcast::new(64, LagPolicy::Wait);
    let clients: FuturesUnordered<_> = (0..200)
        .map(|_| read_all(rt.clone(), url.clone(), 20))
        .collect();
    let mut clients = clients;
    // Accepting needs the clients polled: drive both.
    let (forwards, accepted) =
        alongside(subscribe_all(&mut listener, &hub, 200), &mut clients).await;
    let forwards = forwards?;
    ensure!(
        accepted.is_empty(),
        "a client finished before any message: {accepted:?}"
    );
    ensure!(hub.subscribers() == 200);
    let mut forwards = forwards;
    let publish = async {
        for i in 0..20 {
            let m = PreparedMessage::text(&format!("m{i}"));
            ensure!(hub.publish(&m).await == 200);
        }
        Ok::<_, anyhow::Error>(())
    };
    let drive = async { while forwards.next().await.is_some() {} };
    let all = async {
        let (published, finished) = alongside(publish, &mut clients).await;
        published?;
        let mut n = finished.len();
        for r in finished {
            r?;
        }
        while let Some(r) = clients.next().await {
            r?;
            n += 1;
        }
        ensure!(n == 200, "{n} clients done");
        Ok::<_, anyhow::Error>(())
    };
    futures::pin_mut!(drive, all);
    match futures::future::select(all, drive).await {
        futures::future::Either::Left((r, _)) => r,
        futures::future::Either::Right(_) => bail!("every forward ended early"),
    }
}

/// A raw client that completes the upgrade with a small receive buffer and then never
/// reads: the kernel's buffers fill and the server's writes to it stall.
fn stalled_client(addr: SocketAddr) -> anyhow::Result<socket2::Socket> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.set_recv_buffer_size(4096)?;
    sock.connect(&addr.into())?;
    let mut stream: std::net::TcpStream = sock.try_clone()?.into();
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let head = read_head(&mut stream)?;
    ensure!(head.contains(&accept_key(key)), "{head}");
    let _ = stream.read(&mut [0u8; 0]);
    Ok(sock)
}

/// Runs the slow-consumer scenario: 4 reading clients and one that never reads, 3000
/// messages of 2 KiB published under `policy` with capacity 128. Returns the lag events.
async fn slow_consumer(rt: &Runtime, policy: LagPolicy) -> anyhow::Result<(Vec<Lag>, usize)> {
    const COUNT: usize = 3000;
    let lags = Arc::new(Mutex::new(Vec::new()));
    let seen = lags.clone();
    let hub = Broadcast::with_lag_hook(128, policy, move |lag| seen.lock().unwrap().push(lag));
    let mut listener = builder(rt).bind("127.0.0.1:0".parse()?)?;
    let addr = listener.local_addr()?;
    let url = format!("ws://{addr}/");
    let stalled = crate::servers::peer_thread(move || {
        stalled_client(addr).map(|s| {
            // Hold it open (not reading) until the test ends.
            std::thread::sleep(Duration::from_secs(8));
            drop(s);
        })
    });
    let mut forwards = subscribe_all(&mut listener, &hub, 1).await?;
    let mut progress = Vec::new();
    let mut clients: FuturesUnordered<_> = (0..4)
        .map(|_| {
            let p = Arc::new(AtomicUsize::new(0));
            progress.push(p.clone());
            read_counting(rt.clone(), url.clone(), COUNT, p)
        })
        .collect();
    let (more, ended) = alongside(subscribe_all(&mut listener, &hub, 4), &mut clients).await;
    ensure!(ended.is_empty(), "a client ended early: {ended:?}");
    forwards.extend(more?);
    let padding = "x".repeat(2048);
    let publish = async {
        for i in 0..COUNT {
            // Paced by the reading clients (not by the clock): they never fall more than
            // 64 messages behind, half the capacity, so only the stalled one can lag.
            while progress
                .iter()
                .map(|p| p.load(Ordering::Relaxed))
                .min()
                .unwrap_or(0)
                + 64
                < i
            {
                yield_now().await;
            }
            hub.publish(&PreparedMessage::text(&format!("m{i} {padding}")))
                .await;
            yield_now().await;
        }
    };
    let drive = async { while forwards.next().await.is_some() {} };
    let all = async {
        // The readers run while the publisher publishes (one task drives everything).
        let ((), finished) = alongside(publish, &mut clients).await;
        for r in finished {
            r?;
        }
        while let Some(r) = clients.next().await {
            r?;
        }
        Ok::<_, anyhow::Error>(())
    };
    futures::pin_mut!(drive, all);
    match futures::future::select(all, drive).await {
        futures::future::Either::Left((r, _)) => r?,
        futures::future::Either::Right(_) => bail!("the forwards ended early"),
    }
    drop(stalled);
    let max = hub.max_queued();
    let lags = lags.lock().unwrap().clone();
    Ok((lags, max))
}

/// Under `DropOldest`, a client that stops reading costs at most its queue (128
/// messages): the reading clients get all 3000 messages in order while it lags, and
/// the lag hook names it every time.
pub async fn a_client_that_stops_reading_stays_bounded_and_delays_no_one(
    rt: Runtime,
) -> anyhow::Result<()> {
    let (lags, max_queued) = slow_consumer(&rt, LagPolicy::DropOldest).await?;
    ensure!(max_queued <= 128, "a queue grew to {max_queued}");
    ensure!(!lags.is_empty(), "the stalled client never lagged");
    let id = lags[0].subscriber;
    ensure!(
        lags.iter().all(|l| l.subscriber == id && !l.closed),
        "{:?}",
        &lags[..lags.len().min(5)]
    );
    ensure!(
        lags.last().is_some_and(|l| l.dropped >= 100),
        "{:?}",
        lags.last()
    );
    Ok(())
}

/// Under `Close(1013)`, the client that stops reading is closed once and dropped from the
/// broadcast; the others still get everything.
pub async fn a_lagging_client_is_closed_with_its_code(rt: Runtime) -> anyhow::Result<()> {
    let (lags, max_queued) = slow_consumer(&rt, LagPolicy::Close(CloseCode::TryAgainLater)).await?;
    ensure!(max_queued <= 128, "a queue grew to {max_queued}");
    ensure!(lags.len() == 1 && lags[0].closed, "{lags:?}");
    Ok(())
}

/// `bind_reuse_port` shards share one port; each, adopted by the runtime and wrapped in
/// a `WsListener`, accepts its share of 32 clients.
pub async fn reuse_port_shards_each_accept_their_share(rt: Runtime) -> anyhow::Result<()> {
    let shards = nexus_async_net::rt::bind_reuse_port("127.0.0.1:0".parse()?, 2)?;
    let port = shards[0].local_addr()?.port();
    let mut listeners = Vec::new();
    for s in shards {
        listeners.push(builder(&rt).listen(rt.adopt(s)?));
    }
    let url = format!("ws://127.0.0.1:{port}/");
    let mut clients: FuturesUnordered<_> = (0..32)
        .map(|_| {
            let (rt, url) = (rt.clone(), url.clone());
            async move {
                let ws = builder(&rt).connect(&url).await?;
                Ok::<_, anyhow::Error>(ws)
            }
        })
        .collect();
    let mut per_shard = [0usize; 2];
    let mut kept = Vec::new();
    let (mut a, mut b) = {
        let mut it = listeners.into_iter();
        (it.next().unwrap(), it.next().unwrap())
    };
    let mut connected = 0;
    while per_shard.iter().sum::<usize>() < 32 || connected < 32 {
        futures::select_biased! {
            r = a.accept().fuse() => { kept.push(r?.0); per_shard[0] += 1; }
            r = b.accept().fuse() => { kept.push(r?.0); per_shard[1] += 1; }
            c = clients.select_next_some() => { connected += 1; c?; }
        }
    }
    ensure!(
        per_shard.iter().all(|&n| n > 0),
        "one shard accepted everything: {per_shard:?}"
    );
    Ok(())
}
