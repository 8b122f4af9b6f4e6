//! Seed recipe 2, "REST with pooled connections", running offline.
//!
//! ```text
//! cargo run --example rest_pool                    # tokio (current-thread)
//! cargo run --example rest_pool -- --runtime smol  # the same on smol
//! ```
//!
//! The embedded exchange API (`examples/common/rest_server.rs`) resets every 7th request
//! mid-response, closes the connection after every 5th response and answers every 11th with
//! a 503, so the output shows the recipe's retries and the pool healing underneath:
//! `reconnects` grows while every `GET` still succeeds.
//!
//! The recipe below is the seed's code with two changes only: the import root (`nexus_net`
//! is this crate, see `extern crate` below) and the URL. Its `tokio::time::sleep` is a shim
//! over the library's runtime seam (`examples/common/tokio_shim.rs`), so the same code runs
//! on smol.

extern crate nexus_async_net as nexus_net;

mod common;

use std::sync::OnceLock;

static URL: OnceLock<String> = OnceLock::new();

fn rest_url() -> &'static str {
    URL.get()
        .map(String::as_str)
        .unwrap_or("http://127.0.0.1:9")
}

mod recipe {
    use crate::common::tokio_shim as tokio;
    // ---- seed recipe 2, unchanged but for the import root and the URL ----
    use nexus_async_net::rest::ClientPool;
    use nexus_net::rest::RestError;
    use nexus_net::tls::TlsConfig;
    use std::time::Duration;
    pub async fn build_pool(api_key: String, tls: TlsConfig) -> anyhow::Result<ClientPool> {
        let pool = ClientPool::builder()
            .url(crate::rest_url())
            .base_path("/api/v3")
            .default_header("X-MBX-APIKEY", &api_key)?
            .connections(4)
            .tls(&tls)
            .disable_nagle()
            .proxy_from_env() // HTTPS_PROXY / ALL_PROXY / NO_PROXY, as curl reads them
            .tcp_keepalive(Duration::from_secs(60))
            .write_buffer_capacity(32 * 1024)
            .response_buffer_capacity(64 * 1024)
            .max_body_size(1 << 20)
            .build()
            .await?;
        Ok(pool)
    }
    /// GET a resource. Retries on transport errors only — safe for GETs.
    pub async fn get_idempotent(pool: &ClientPool, path: &str) -> Result<Vec<u8>, RestError> {
        for attempt in 0..3 {
            let mut slot = pool.acquire().await?;
            let s = &mut *slot;
            let req = s.writer.get(path).finish()?;
            let (conn, reader) = s.conn_and_reader()?;
            match conn.send(req, reader).await {
                Ok(resp) => {
                    if resp.status() < 500 {
                        return Ok(resp.body().to_vec());
                    }
                    tracing::warn!(status = resp.status(), attempt, "5xx, retrying");
                }
                Err(RestError::Io(_))
                | Err(RestError::ConnectionPoisoned)
                | Err(RestError::ConnectionClosed(_))
                | Err(RestError::ConnectionStale)
                | Err(RestError::ReadTimeout) => {
                    // Drop the slot. Next acquire will eject the dead slot and
                    // spawn a reconnect task. No manual heal needed.
                    drop(slot);
                    tracing::warn!(attempt, "transport error, healing pool");
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        Err(RestError::ReadTimeout)
    }
    /// POST that MUST NOT be retried blindly. Use exchange-side idempotency.
    pub async fn place_order(pool: &ClientPool, body: &[u8]) -> Result<Vec<u8>, RestError> {
        let Some(mut slot) = pool.try_acquire() else {
            return Err(RestError::ConnectionClosed("no healthy slot"));
        };
        let s = &mut *slot;
        let req = s
            .writer
            .post("/order")
            .header("Content-Type", "application/json")
            .body(body)
            .finish()?;
        let (conn, reader) = s.conn_and_reader()?;
        let resp = conn.send(req, reader).await?;
        Ok(resp.body().to_vec())
    }
    // ---- end of recipe ----
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let requests: usize = common::arg("--requests")
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let addr = common::rest_server::spawn_rest_server();
    let _ = URL.set(format!("http://{addr}"));
    println!("exchange API: {}", rest_url());
    let tls = nexus_net::tls::TlsConfig::new()?;
    common::run(async move {
        let pool = recipe::build_pool("demo-key".into(), tls).await?;
        println!("pool: {:?} healing", pool.healing_mode());
        let (mut ok, mut failed, mut orders, mut rejected) = (0, 0, 0, 0);
        for i in 0..requests {
            match recipe::get_idempotent(&pool, "/ticker/price?symbol=BTCUSDT").await {
                Ok(body) => {
                    ok += 1;
                    println!("GET #{i}: {}", String::from_utf8_lossy(&body));
                }
                Err(e) => {
                    failed += 1;
                    println!("GET #{i} failed after retries: {e}");
                }
            }
            if i % 4 == 3 {
                let order = br#"{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.01","price":"64000"}"#;
                match recipe::place_order(&pool, order).await {
                    Ok(body) => {
                        orders += 1;
                        println!("POST /order: {}", String::from_utf8_lossy(&body));
                    }
                    // Not retried: a half-sent POST may have reached the exchange.
                    Err(e) => {
                        rejected += 1;
                        println!("POST /order not retried: {e}");
                    }
                }
            }
        }
        let stats = pool.stats();
        println!(
            "done: {ok}/{requests} GETs ok ({failed} failed), {orders} orders placed, \
             {rejected} not retried; pool {stats:?}"
        );
        anyhow::ensure!(
            ok + failed == requests && stats.reconnects > 0,
            "no healing seen"
        );
        Ok(())
    })
}
