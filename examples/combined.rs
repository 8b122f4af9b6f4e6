//! Seed recipe 4, "Combined REST + WebSocket client", running offline.
//!
//! ```text
//! cargo run --example combined                    # tokio (current-thread)
//! cargo run --example combined -- --runtime smol  # the same on smol
//! ```
//!
//! Two embedded servers: the market-data feed of `exchange_feed` (which drops the
//! connection every other session, so the feed reconnects) and the exchange REST API of
//! `rest_pool` (which resets, closes and 503s now and then, so the pool heals). The
//! `Exchange` of the recipe owns a `ClientPool` and starts recipe 1's feed as a background
//! task; `main` polls account REST endpoints while trades stream in, and stops when the feed
//! server has served its sessions.
//!
//! The recipe below is the seed's code with three changes only: the import root
//! (`nexus_net` is this crate), the URL, and `tokio::task::spawn_local`, which resolves to
//! the runtime's own spawn through a shim (`examples/common/tokio_shim.rs`) so the same code
//! runs on smol. Recipe 1 (`super::run_feed`) is `examples/common/feed_recipe.rs`.

extern crate nexus_async_net as nexus_net;

mod common;
#[path = "common/feed_recipe.rs"]
mod feed;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use feed::run_feed;

static FEED_URL: OnceLock<String> = OnceLock::new();
static REST_URL: OnceLock<String> = OnceLock::new();
static TRADES: AtomicUsize = AtomicUsize::new(0);

fn feed_url() -> &'static str {
    FEED_URL
        .get()
        .map(String::as_str)
        .unwrap_or("ws://127.0.0.1:9/ws")
}

fn rest_url() -> &'static str {
    REST_URL
        .get()
        .map(String::as_str)
        .unwrap_or("http://127.0.0.1:9")
}

fn on_json(_: &str) {
    TRADES.fetch_add(1, Ordering::Relaxed);
}

// The recipe imports `WsStreamBuilder` without using it (its feed lives in recipe 1).
#[allow(unused_imports)]
mod recipe {
    use crate::common::tokio_shim as tokio;
    // ---- seed recipe 4, unchanged but for the import root and the URL ----
    use nexus_async_net::{rest::ClientPool, ws::WsStreamBuilder};
    use nexus_net::tls::TlsConfig;
    struct Exchange {
        rest: ClientPool,
        // ws is typically run in its own task that owns it,
        // so the struct holds a handle for sending (channel, actor, etc.)
    }
    impl Exchange {
        async fn new(api_key: String, tls: TlsConfig) -> anyhow::Result<Self> {
            let rest = ClientPool::builder()
                .url(crate::rest_url())
                .default_header("X-API-KEY", &api_key)?
                .connections(4)
                .tls(&tls)
                .proxy_from_env()
                .build()
                .await?;
            // Spawn the feed task separately so it can reconnect independently.
            let tls2 = tls.clone();
            tokio::task::spawn_local(async move {
                super::run_feed(tls2).await;
            });
            Ok(Self { rest })
        }
    }
    // ---- end of recipe ----

    /// Builds the `Exchange` and polls the REST API until `done` says stop; returns
    /// (requests answered, requests failed, the pool's stats).
    pub(super) async fn demo(
        tls: TlsConfig,
        done: impl Fn() -> bool,
    ) -> anyhow::Result<(usize, usize, nexus_net::rest::PoolStats)> {
        let ex = Exchange::new("demo-key".into(), tls).await?;
        let (mut ok, mut failed) = (0, 0);
        while !done() {
            let mut slot = ex.rest.acquire().await?;
            let s = &mut *slot;
            let req = s.writer.get("/api/v3/account").finish()?;
            let (conn, reader) = s.conn_and_reader()?;
            match conn.send(req, reader).await {
                Ok(resp) if resp.status() < 500 => ok += 1,
                Ok(_) | Err(_) => failed += 1,
            }
            drop(slot);
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
        }
        Ok((ok, failed, ex.rest.stats()))
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let (feed_addr, feed_done) = common::spawn_feed_server(4, 10);
    let rest_addr = common::rest_server::spawn_rest_server();
    let _ = FEED_URL.set(format!("ws://{feed_addr}/ws"));
    let _ = REST_URL.set(format!("http://{rest_addr}"));
    println!("feed: {}  REST: {}", feed_url(), rest_url());
    let tls = nexus_net::tls::TlsConfig::new()?;
    common::run(async move {
        let (ok, failed, stats) = recipe::demo(tls, || feed_done.load(Ordering::SeqCst)).await?;
        // Give the feed a moment to take the last trades of the final session.
        common::tokio_shim::time::sleep(Duration::from_millis(50)).await;
        let trades = TRADES.load(Ordering::Relaxed);
        println!(
            "done: {trades} trades over 4 feed sessions; REST {ok} ok, {failed} failed \
             (not retried here); pool {stats:?}"
        );
        anyhow::ensure!(trades > 0 && ok > 0, "nothing received");
        Ok(())
    })
}
