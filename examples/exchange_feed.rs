//! Seed recipe 1, "Exchange client with reconnect", running offline.
//!
//! ```text
//! cargo run --example exchange_feed                    # tokio, embedded feed server
//! cargo run --example exchange_feed -- --runtime smol  # the same on smol
//! cargo run --example exchange_feed -- --url wss://stream.binance.com:9443/ws --runtime tokio
//! ```
//!
//! The embedded server publishes trades with pings and, every other session, drops the
//! connection without a Close frame, so the reconnect path shows in the output. The demo
//! stops after `--sessions` sessions (default 4) when using the embedded server.
//!
//! The recipe (`examples/common/feed_recipe.rs`) is the seed's code with two changes only: the import root (`nexus_net`
//! is this crate, see `extern crate` below) and the URL. Its `tokio::time::sleep` resolves
//! to a tiny shim (`examples/common/tokio_shim.rs`) over the library's runtime seam, so the same loop runs on smol too.

extern crate nexus_async_net as nexus_net;

mod common;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

static URL: OnceLock<String> = OnceLock::new();
static TRADES: AtomicUsize = AtomicUsize::new(0);

fn feed_url() -> &'static str {
    URL.get()
        .map(String::as_str)
        .unwrap_or("ws://127.0.0.1:9/ws")
}

#[path = "common/feed_recipe.rs"]
mod recipe;

fn on_json(json: &str) {
    let n = TRADES.fetch_add(1, Ordering::Relaxed) + 1;
    println!("trade #{n}: {json}");
}

fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let (url, embedded) = common::feed_target();
    println!("feed: {url}");
    let _ = URL.set(url);
    let tls = nexus_net::tls::TlsConfig::new().expect("TLS config with built-in roots");
    common::run(async move {
        match embedded {
            // The recipe loops forever: stop once the embedded server is done.
            Some((sessions, done)) => {
                common::run_until_served(recipe::run_feed(tls), sessions, done, &TRADES).await
            }
            None => recipe::run_feed(tls).await,
        }
    });
}
