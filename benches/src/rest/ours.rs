//! This crate's REST clients on tokio: `HttpConnection` and the pool.

use std::net::SocketAddr;
#[cfg(feature = "ours-pool")]
use std::time::Duration;
use std::time::Instant;

use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader};
use nexus_async_net::rt::Runtime;

use super::clients::Timed;
use super::{BODY, PATH};

fn tokio() -> anyhow::Result<Runtime> {
    Runtime::tokio().ok_or_else(|| anyhow::anyhow!("no tokio runtime"))
}

fn check(status: u16, body_len: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        status == 200 && body_len == super::server::BODY_LEN,
        "bad response: {status}, {body_len} bytes"
    );
    Ok(())
}

/// Busy-poll budget of the `(busy-poll)` row (see `HttpConnectionBuilder::busy_poll`).
pub const BUSY_POLL: std::time::Duration = std::time::Duration::from_micros(200);

/// One `HttpConnection` with its own writer and reader (one caller), busy-polling reads
/// for `busy_poll` if given.
pub async fn conn(
    addr: SocketAddr,
    busy_poll: Option<std::time::Duration>,
    warmup: usize,
    count: usize,
) -> anyhow::Result<Timed> {
    let mut builder = HttpConnectionBuilder::new()
        .runtime(tokio()?)
        .disable_nagle();
    if let Some(budget) = busy_poll {
        builder = builder.busy_poll(budget);
    }
    let mut conn = builder.connect(&format!("http://{addr}")).await?;
    let mut writer = RequestWriter::new(&addr.to_string())?;
    let mut reader = ResponseReader::new(32 * 1024);
    let mut samples = Vec::with_capacity(count);
    let mut start = Instant::now();
    for i in 0..warmup + count {
        if i == warmup {
            start = Instant::now();
        }
        let t0 = Instant::now();
        let req = writer
            .post(PATH)
            .header("Content-Type", "application/json")
            .body(BODY)
            .finish()?;
        let resp = conn.send(req, &mut reader).await?;
        check(resp.status(), resp.body().len())?;
        if i >= warmup {
            samples.push(t0.elapsed().as_nanos() as u64);
        }
    }
    Ok((start.elapsed(), samples))
}

/// The pool benchmarks, for one pool type (both pools have the same API).
#[cfg(feature = "ours-pool")]
macro_rules! pool_bench {
    ($module:ident, $pool:ident) => {
        mod $module {
            use super::*;
            use futures::future::try_join_all;
            use nexus_async_net::rest::$pool as ClientPool;

            async fn build(addr: SocketAddr, conns: usize) -> anyhow::Result<ClientPool> {
                Ok(ClientPool::builder()
                    .url(&format!("http://{addr}"))
                    .connections(conns)
                    .disable_nagle()
                    .build()
                    .await?)
            }

            async fn phase(
                pool: &ClientPool,
                callers: usize,
                n: usize,
            ) -> anyhow::Result<Vec<u64>> {
                let per = try_join_all((0..callers).map(|_| async move {
                    let mut s = Vec::with_capacity(n);
                    for _ in 0..n {
                        let t0 = Instant::now();
                        let mut slot = pool.acquire().await?;
                        let req = slot
                            .writer
                            .post(PATH)
                            .header("Content-Type", "application/json")
                            .body(BODY)
                            .finish()?;
                        let (conn, reader) = slot.conn_and_reader()?;
                        let resp = conn.send(req, reader).await?;
                        check(resp.status(), resp.body().len())?;
                        s.push(t0.elapsed().as_nanos() as u64);
                    }
                    anyhow::Ok(s)
                }))
                .await?;
                Ok(per.into_iter().flatten().collect())
            }

            /// The pool with `conns` connections shared by `callers` callers.
            pub async fn pooled(
                addr: SocketAddr,
                conns: usize,
                callers: usize,
                warmup: usize,
                count: usize,
            ) -> anyhow::Result<Timed> {
                let pool = build(addr, conns).await?;
                phase(&pool, callers, warmup).await?;
                let start = Instant::now();
                let samples = phase(&pool, callers, count).await?;
                Ok((start.elapsed(), samples))
            }

            /// `try_acquire` + release, `count` times, no I/O.
            pub async fn cycle(addr: SocketAddr, count: u64) -> anyhow::Result<Duration> {
                let pool = build(addr, 1).await?;
                let start = Instant::now();
                for _ in 0..count {
                    let slot = pool.try_acquire();
                    anyhow::ensure!(slot.is_some(), "no idle slot");
                    drop(std::hint::black_box(slot));
                }
                Ok(start.elapsed())
            }
        }
    };
}

#[cfg(feature = "ours-pool")]
pool_bench!(pool, ClientPool);
#[cfg(feature = "ours-pool")]
pool_bench!(atomic, AtomicClientPool);

#[cfg(feature = "ours-pool")]
pub use pool::{cycle, pooled};
#[cfg(feature = "ours-pool")]
pub mod atomic_pool {
    pub use super::atomic::{cycle, pooled};
}
