//! Tiny embedded servers the examples share. Each binds `127.0.0.1:0`, runs on its own
//! thread with the portable runtime (so it works whatever runtime the example uses) and
//! stops by itself after the sessions it was asked to serve.
#![allow(dead_code)]

pub mod rest_server;
pub mod tokio_shim;

use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{CloseCode, Message, WsStreamBuilder};

/// How a feed session ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// A clean close handshake (1000).
    Close,
    /// The connection is dropped without a Close frame, like a crashed exchange gateway.
    Drop,
}

/// A market-data feed: waits for a SUBSCRIBE, publishes `trades` trade messages with a
/// ping every fifth message, then ends the session cleanly or by dropping the TCP
/// connection (alternately), so a client's reconnect path shows. Serves `sessions`
/// sessions, then stops and sets the returned flag.
pub fn spawn_feed_server(
    sessions: usize,
    trades: usize,
) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = finished.clone();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        async_io::block_on(async move {
            let listener = async_net::TcpListener::try_from(listener).expect("listener");
            let rt = Runtime::portable();
            for session in 0..sessions {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let ending = if session % 2 == 0 {
                    Ending::Drop
                } else {
                    Ending::Close
                };
                let _ = rt
                    .timeout(
                        Some(Duration::from_secs(30)),
                        serve_feed(sock, trades, ending, session),
                    )
                    .await;
            }
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    });
    (addr, finished)
}

async fn serve_feed(
    sock: async_net::TcpStream,
    trades: usize,
    ending: Ending,
    session: usize,
) -> Result<(), nexus_async_net::ws::WsError> {
    let rt = Runtime::portable();
    let mut ws = WsStreamBuilder::new()
        .runtime(rt.clone())
        .buffer_capacity(16 * 1024)
        .accept(sock)
        .await?;
    // Wait for the subscription.
    loop {
        match ws.recv().await? {
            Some(Message::Text(t)) if t.contains("SUBSCRIBE") => break,
            Some(_) => {}
            None => return Ok(()),
        }
    }
    for i in 0..trades {
        let price = 64_000.0 + (i as f64) * 0.5;
        let trade = format!(
            r#"{{"e":"trade","s":"BTCUSDT","t":{},"p":"{price:.2}","q":"0.010","session":{session}}}"#,
            session * 1000 + i
        );
        ws.send_text(&trade).await?;
        if i % 5 == 4 {
            ws.send_ping(b"hb").await?;
        }
        rt.sleep(Duration::from_millis(20)).await;
    }
    match ending {
        Ending::Close => ws.close(CloseCode::Normal, "session over").await,
        // A dropped feed: TCP ends with no Close frame. Half-close first and read until
        // the client hangs up, so the kernel sends FIN after the last trade rather than a
        // reset that would discard it (dropping with the client's pong unread would).
        Ending::Drop => {
            if let nexus_async_net::tls::MaybeTls::Plain(tcp) = ws.get_ref() {
                let _ = tcp.shutdown(std::net::Shutdown::Write);
            }
            let drain = async { while let Ok(Some(_)) = ws.recv().await {} };
            let _ = rt.timeout(Some(Duration::from_secs(2)), drain).await;
            Ok(())
        }
    }
}

/// Parses `--name value` from the command line.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Runs `fut` on the runtime named by `--runtime` (`tokio`, the default, or `smol`).
pub fn run<F: std::future::Future>(fut: F) -> F::Output {
    match arg("--runtime").as_deref().unwrap_or("tokio") {
        "smol" => {
            println!("runtime: smol");
            smol::block_on(fut)
        }
        "tokio" => {
            println!("runtime: tokio (current-thread)");
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(fut)
        }
        other => {
            eprintln!("unknown --runtime {other}: use tokio or smol");
            std::process::exit(2);
        }
    }
}

/// Trades the embedded feed server sends per session (both feed demos).
pub const TRADES_PER_SESSION: usize = 12;

/// The feed demos' harness: the feed URL from `--url`, or an embedded feed server for
/// `--sessions` sessions (default 4). Returns the URL and, for the embedded server, the
/// number of sessions and its done flag.
pub fn feed_target() -> (
    String,
    Option<(usize, std::sync::Arc<std::sync::atomic::AtomicBool>)>,
) {
    let sessions: usize = arg("--sessions").and_then(|s| s.parse().ok()).unwrap_or(4);
    match arg("--url") {
        Some(url) => (url, None),
        None => {
            let (addr, done) = spawn_feed_server(sessions, TRADES_PER_SESSION);
            (format!("ws://{addr}/ws"), Some((sessions, done)))
        }
    }
}

/// Runs `feed` (which loops forever) until the embedded server has served every session,
/// then prints how many of the trades sent arrived and exits 1 if any was lost.
pub async fn run_until_served<F: std::future::Future>(
    feed: F,
    sessions: usize,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    received: &std::sync::atomic::AtomicUsize,
) {
    let served = async {
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            Runtime::current().sleep(Duration::from_millis(50)).await;
        }
    };
    futures::future::select(Box::pin(feed), Box::pin(served)).await;
    let got = received.load(std::sync::atomic::Ordering::Relaxed);
    let sent = sessions * TRADES_PER_SESSION;
    println!("received {got} of the {sent} trades sent over {sessions} sessions; done");
    if got != sent {
        eprintln!("error: {} trades lost", sent.saturating_sub(got));
        std::process::exit(1);
    }
}
