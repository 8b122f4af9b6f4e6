//! One function per REST client. Each runs `callers` concurrent callers (joined futures
//! on one thread), first a warm-up phase, then the timed phase, and returns the timed
//! phase's wall time and every request's latency.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::try_join_all;
use http_body_util::{BodyExt, Full};

use super::server::BODY_LEN;
use super::{BODY, PATH};

/// Wall time of the timed phase and per-request latencies (ns).
pub type Timed = (Duration, Vec<u64>);

/// Runs `phase(per_caller)` for warm-up then for the measurement.
async fn two_phases<F, Fut>(warmup: usize, count: usize, mut phase: F) -> anyhow::Result<Timed>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<Vec<u64>>>>,
{
    phase(warmup).await?;
    let start = Instant::now();
    let per_caller = phase(count).await?;
    let elapsed = start.elapsed();
    Ok((elapsed, per_caller.into_iter().flatten().collect()))
}

fn ns(t0: Instant) -> u64 {
    t0.elapsed().as_nanos() as u64
}

fn check(status: u16, body_len: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        status == 200 && body_len == BODY_LEN,
        "bad response: {status}, {body_len} bytes"
    );
    Ok(())
}

// ------------------------------------------------------------------ reqwest

/// reqwest 0.13 (its own hyper-util pool), `callers` clones of one `Client`.
pub async fn reqwest(
    addr: SocketAddr,
    callers: usize,
    warmup: usize,
    count: usize,
) -> anyhow::Result<Timed> {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(callers)
        .build()?;
    let url = format!("http://{addr}{PATH}");
    two_phases(warmup, count, |n| {
        try_join_all((0..callers).map(|_| {
            let client = client.clone();
            let url = url.clone();
            async move {
                let mut s = Vec::with_capacity(n);
                for _ in 0..n {
                    let t0 = Instant::now();
                    let resp = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(BODY)
                        .send()
                        .await?;
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await?;
                    check(status, body.len())?;
                    s.push(ns(t0));
                }
                anyhow::Ok(s)
            }
        }))
    })
    .await
}

// ------------------------------------------------------------------ hyper

type HyperSender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn hyper_connect(addr: SocketAddr) -> anyhow::Result<HyperSender> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// hyper 1 at its lowest level: `client::conn::http1`, one connection per caller.
pub async fn hyper_conn(
    addr: SocketAddr,
    callers: usize,
    warmup: usize,
    count: usize,
) -> anyhow::Result<Timed> {
    let mut senders = Vec::new();
    for _ in 0..callers {
        senders.push(hyper_connect(addr).await?);
    }
    let host = addr.to_string();
    hyper_phase(&mut senders, &host, warmup).await?;
    let start = Instant::now();
    let s = hyper_phase(&mut senders, &host, count).await?;
    Ok((start.elapsed(), s.into_iter().flatten().collect()))
}

async fn hyper_phase(
    senders: &mut [HyperSender],
    host: &str,
    n: usize,
) -> anyhow::Result<Vec<Vec<u64>>> {
    try_join_all(senders.iter_mut().map(|sender| async move {
        let mut s = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            sender.ready().await?;
            let req = hyper::Request::post(PATH)
                .header(hyper::header::HOST, host)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(BODY)))?;
            let resp = sender.send_request(req).await?;
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await?.to_bytes();
            check(status, body.len())?;
            s.push(ns(t0));
        }
        anyhow::Ok(s)
    }))
    .await
}

/// hyper-util's pooled `Client` (what reqwest is built on), `TCP_NODELAY` on.
pub async fn hyper_client(
    addr: SocketAddr,
    callers: usize,
    warmup: usize,
    count: usize,
) -> anyhow::Result<Timed> {
    use hyper_util::client::legacy::{Client, connect::HttpConnector};
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_max_idle_per_host(callers)
            .build(http);
    let uri: hyper::Uri = format!("http://{addr}{PATH}").parse()?;
    two_phases(warmup, count, |n| {
        try_join_all((0..callers).map(|_| {
            let client = client.clone();
            let uri = uri.clone();
            async move {
                let mut s = Vec::with_capacity(n);
                for _ in 0..n {
                    let t0 = Instant::now();
                    let req = hyper::Request::post(uri.clone())
                        .header(hyper::header::CONTENT_TYPE, "application/json")
                        .body(Full::new(Bytes::from_static(BODY)))?;
                    let resp = client.request(req).await?;
                    let status = resp.status().as_u16();
                    let body = resp.into_body().collect().await?.to_bytes();
                    check(status, body.len())?;
                    s.push(ns(t0));
                }
                anyhow::Ok(s)
            }
        }))
    })
    .await
}

// ------------------------------------------------------------------ published

mod published {
    use super::*;
    use nexus_async_net_published::rest::{ClientPool, HttpConnectionBuilder};
    use nexus_async_net_published::rest_types::{RequestWriter, ResponseReader};

    fn err(e: impl std::fmt::Debug) -> anyhow::Error {
        anyhow::anyhow!("published nexus-async-net: {e:?}")
    }

    /// One `HttpConnection` with its own writer and reader (one caller).
    pub async fn conn(addr: SocketAddr, warmup: usize, count: usize) -> anyhow::Result<Timed> {
        let mut conn = HttpConnectionBuilder::new()
            .disable_nagle()
            .connect(&format!("http://{addr}"))
            .await
            .map_err(err)?;
        let mut writer = RequestWriter::new(&addr.to_string()).map_err(err)?;
        let mut reader = ResponseReader::new(32 * 1024);
        let conn = &mut conn;
        let writer = &mut writer;
        let reader = &mut reader;
        let mut phase = async |n: usize| -> anyhow::Result<Vec<Vec<u64>>> {
            let mut s = Vec::with_capacity(n);
            for _ in 0..n {
                let t0 = Instant::now();
                let req = writer
                    .post(PATH)
                    .header("Content-Type", "application/json")
                    .body(BODY)
                    .finish()
                    .map_err(err)?;
                let resp = conn.send(req, reader).await.map_err(err)?;
                check(resp.status(), resp.body().len())?;
                s.push(ns(t0));
            }
            Ok(vec![s])
        };
        phase(warmup).await?;
        let start = Instant::now();
        let s = phase(count).await?;
        Ok((start.elapsed(), s.into_iter().flatten().collect()))
    }

    async fn pool(addr: SocketAddr, conns: usize) -> anyhow::Result<ClientPool> {
        ClientPool::builder()
            .url(&format!("http://{addr}"))
            .connections(conns)
            .disable_nagle()
            .build()
            .await
            .map_err(err)
    }

    /// `ClientPool` with `conns` connections shared by `callers` callers.
    pub async fn pooled(
        addr: SocketAddr,
        conns: usize,
        callers: usize,
        warmup: usize,
        count: usize,
    ) -> anyhow::Result<Timed> {
        let pool = pool(addr, conns).await?;
        let pool = &pool;
        two_phases(warmup, count, |n| {
            try_join_all((0..callers).map(|_| async move {
                let mut s = Vec::with_capacity(n);
                for _ in 0..n {
                    let t0 = Instant::now();
                    let mut slot = pool.acquire().await.map_err(err)?;
                    let slot = &mut *slot;
                    let req = slot
                        .writer
                        .post(PATH)
                        .header("Content-Type", "application/json")
                        .body(BODY)
                        .finish()
                        .map_err(err)?;
                    let conn = slot
                        .conn
                        .as_mut()
                        .ok_or_else(|| anyhow::anyhow!("dead slot"))?;
                    let resp = conn.send(req, &mut slot.reader).await.map_err(err)?;
                    check(resp.status(), resp.body().len())?;
                    s.push(ns(t0));
                }
                anyhow::Ok(s)
            }))
        })
        .await
    }

    /// `try_acquire` + drop, `count` times, no I/O: the pool's own cost.
    pub async fn cycle(addr: SocketAddr, count: u64) -> anyhow::Result<Duration> {
        let pool = pool(addr, 1).await?;
        let start = Instant::now();
        for _ in 0..count {
            let slot = pool.try_acquire();
            anyhow::ensure!(slot.is_some(), "no idle slot");
            drop(std::hint::black_box(slot));
        }
        Ok(start.elapsed())
    }
}

pub use published::{conn as published_conn, cycle as published_cycle, pooled as published_pool};
