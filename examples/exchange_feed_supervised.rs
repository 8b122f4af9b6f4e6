//! Seed recipe 1 with the supervised [`Feed`]: the same subscription and handling as
//! `exchange_feed`, with connect, resubscribe, backoff, failover and the stale-data
//! deadline done by the library.
//!
//! ```text
//! cargo run --example exchange_feed_supervised                    # tokio, embedded feed
//! cargo run --example exchange_feed_supervised -- --runtime smol  # the same on smol
//! cargo run --example exchange_feed_supervised -- --url wss://stream.binance.com:9443/ws
//! ```
//!
//! The embedded server (the one `exchange_feed` uses) drops the connection or closes it
//! cleanly after each session; the feed reconnects and resubscribes each time. With the
//! embedded server the demo stops after `--sessions` sessions (default 4) and exits 1 if a
//! trade was lost.

mod common;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

static TRADES: AtomicUsize = AtomicUsize::new(0);
static URL: OnceLock<String> = OnceLock::new();

fn on_json(json: &str) {
    let n = TRADES.fetch_add(1, Ordering::Relaxed) + 1;
    println!("trade #{n}: {json}");
}

fn on_binary(_: &[u8]) {}

// ---- user code: recipe 1 on the supervised feed ----
use nexus_async_net::ws::{ClientStream, Feed, FeedError, FeedEvent, Message, WsStreamBuilder};
use std::time::Duration;
const SUBSCRIBE: &str =
    r#"{"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@depth20@100ms"],"id":1}"#;
async fn run_feed(url: &str) -> Result<(), FeedError> {
    let ws = WsStreamBuilder::new().disable_nagle().proxy_from_env();
    let mut feed = Feed::builder(ws.connect_timeout(Duration::from_secs(3)), [url])
        .on_connect(async |ws: &mut ClientStream| ws.send_text(SUBSCRIBE).await)
        .stale_after(Duration::from_secs(30))
        .build();
    loop {
        match feed.recv().await? {
            FeedEvent::Message(Message::Text(json)) => on_json(json),
            FeedEvent::Message(Message::Binary(bytes)) => on_binary(bytes),
            FeedEvent::Connected { url, down_for, .. } => tracing::info!(url, ?down_for, "up"),
            FeedEvent::Disconnected { reason } => tracing::warn!(%reason, "feed disconnected"),
            FeedEvent::Message(_) => {} // pings are answered by the feed
        }
    }
}
// ---- end of user code ----

fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let (url, embedded) = common::feed_target();
    println!("feed: {url}");
    let url = URL.get_or_init(|| url);
    common::run(async move {
        match embedded {
            // The feed runs until stopped: stop once the embedded server is done.
            Some((sessions, done)) => {
                common::run_until_served(run_feed(url), sessions, done, &TRADES).await
            }
            None => {
                if let Err(e) = run_feed(url).await {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
    });
}
