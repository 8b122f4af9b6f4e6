//! Receive throughput, `WsStream::recv` against `Feed::recv`, over loopback from a
//! flooding server (a std thread writing pre-encoded frames). A benchmark, not a test:
//!
//! ```text
//! cargo run --release --example recv_bench -- --bench                      # tracing off
//! cargo run --release --example recv_bench --features tracing -- --bench   # on, no subscriber
//! ```
//!
//! Prints messages per second for each receiver (median of `--runs`, default 5), so the
//! two builds can be compared in one sitting. `ONLY=stream` or `ONLY=feed` runs one
//! receiver (for `valgrind --tool=callgrind`); `STALE=1` turns the feed's stale-data
//! deadline on.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use nexus_async_net::ws::{Feed, FeedEvent, Message, WsStreamBuilder};

/// A server that upgrades one connection and writes `count` binary frames of `size`
/// bytes, then a Close.
fn flood(count: usize, size: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            sock.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .trim()
            .to_owned();
        let accept = {
            use base64::Engine as _;
            use sha1::Digest as _;
            let mut h = sha1::Sha1::new();
            h.update(key.as_bytes());
            h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
            base64::engine::general_purpose::STANDARD.encode(h.finalize())
        };
        write!(sock, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").unwrap();
        let mut frame = vec![0x82, size as u8];
        frame.extend(std::iter::repeat_n(b'x', size));
        let batch: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * 1024)
            .collect();
        let mut left = count;
        while left >= 1024 {
            if sock.write_all(&batch).is_err() {
                return;
            }
            left -= 1024;
        }
        for _ in 0..left {
            let _ = sock.write_all(&frame);
        }
        let _ = sock.write_all(&[0x88, 0x02, 0x03, 0xe8]);
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
    });
    format!("ws://{addr}/")
}

async fn stream_run(count: usize, size: usize) -> f64 {
    let url = flood(count, size);
    let mut ws = WsStreamBuilder::new()
        .disable_nagle()
        .connect(&url)
        .await
        .unwrap();
    let start = Instant::now();
    let mut n = 0;
    while let Ok(Some(m)) = ws.recv().await {
        if let Message::Binary(b) = m {
            n += b.len() / size;
        }
    }
    assert_eq!(n, count);
    count as f64 / start.elapsed().as_secs_f64()
}

async fn feed_run(count: usize, size: usize) -> f64 {
    let url = flood(count, size);
    let mut feed = Feed::builder(WsStreamBuilder::new().disable_nagle(), [url]);
    if std::env::var_os("STALE").is_some() {
        feed = feed.stale_after(Duration::from_secs(30));
    }
    let mut feed = feed.build();
    assert!(matches!(feed.recv().await, Ok(FeedEvent::Connected { .. })));
    let start = Instant::now();
    let mut n = 0;
    loop {
        match feed.recv().await.unwrap() {
            FeedEvent::Message(Message::Binary(b)) => n += b.len() / size,
            FeedEvent::Disconnected { .. } => break,
            _ => {}
        }
    }
    assert_eq!(n, count);
    count as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("a benchmark: run with --release and --bench (see the file's docs)");
        return;
    }
    let count: usize = common::arg("--messages")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let runs: usize = common::arg("--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let size = 40;
    let tracing = if cfg!(feature = "tracing") {
        "on"
    } else {
        "off"
    };
    common::run(async move {
        let mut stream = Vec::new();
        let mut feed = Vec::new();
        let only = std::env::var("ONLY").unwrap_or_default();
        for _ in 0..runs {
            if only != "feed" {
                stream.push(stream_run(count, size).await);
            }
            if only != "stream" {
                feed.push(feed_run(count, size).await);
            }
        }
        if only == "stream" {
            feed.push(1.0);
        }
        if only == "feed" {
            stream.push(1.0);
        }
        let (s, f) = (median(stream), median(feed));
        println!(
            "tracing {tracing}: {size} B binary, {count} messages, median of {runs}: \
             WsStream::recv {:.2} M msg/s, Feed::recv {:.2} M msg/s (feed/stream {:.3})",
            s / 1e6,
            f / 1e6,
            f / s
        );
    });
}
