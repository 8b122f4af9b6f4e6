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

/// Trades the embedded server sends per session.
const TRADES_PER_SESSION: usize = 12;

fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let sessions: usize = common::arg("--sessions")
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let embedded = common::arg("--url").is_none();
    let mut server_done = None;
    let url = common::arg("--url").unwrap_or_else(|| {
        let (addr, done) = common::spawn_feed_server(sessions, TRADES_PER_SESSION);
        server_done = Some(done);
        format!("ws://{addr}/ws")
    });
    println!("feed: {url}");
    let _ = URL.set(url);
    let tls = nexus_net::tls::TlsConfig::new().expect("TLS config with built-in roots");
    common::run(async move {
        if !embedded {
            return recipe::run_feed(tls).await;
        }
        // The recipe loops forever; stop the demo once the embedded server has served
        // every session.
        let done = async {
            while !server_done
                .as_ref()
                .is_some_and(|d| d.load(Ordering::SeqCst))
            {
                nexus_async_net::rt::Runtime::current()
                    .sleep(std::time::Duration::from_millis(50))
                    .await;
            }
        };
        futures::future::select(Box::pin(recipe::run_feed(tls)), Box::pin(done)).await;
        let (got, sent) = (
            TRADES.load(Ordering::Relaxed),
            sessions * TRADES_PER_SESSION,
        );
        println!("received {got} of the {sent} trades sent over {sessions} sessions; done");
        if got != sent {
            eprintln!("error: {} trades lost", sent.saturating_sub(got));
            std::process::exit(1);
        }
    });
}
