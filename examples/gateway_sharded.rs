//! A thread-per-core gateway: `bind_reuse_port` opens one listener per thread on one port
//! (`SO_REUSEPORT`), each thread runs its own single-threaded runtime and serves the
//! connections the kernel gives its listener, with nothing shared between threads.
//!
//! ```text
//! cargo run --example gateway_sharded                          # tokio current-thread x N
//! cargo run --example gateway_sharded -- --runtime smol        # smol x N
//! cargo run --example gateway_sharded -- --shards 4 --serve    # keep serving on :9002
//! ```
//!
//! Without `--serve` it runs 32 demo clients (10 echoes each) against the shards, prints
//! how the kernel spread them, and exits.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, StreamExt};
use nexus_async_net::rt::{Runtime, bind_reuse_port};
use nexus_async_net::ws::{CloseCode, Message, ServerStream, WsStreamBuilder};

/// Echoes every data message until the client goes.
async fn echo(mut ws: ServerStream) {
    while let Ok(Some(msg)) = ws.recv().await {
        let reply = match msg {
            Message::Text(t) => t.to_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        if ws.send_text(&reply).await.is_err() {
            break;
        }
    }
}

/// One shard: its own runtime on this thread, its own listener, its own connections
/// (driven together in one task: no spawner, nothing crosses threads).
fn shard(id: usize, listener: std::net::TcpListener, accepted: Arc<AtomicUsize>) {
    common::run(async move {
        let rt = Runtime::current();
        let tcp = rt.adopt(listener).expect("adopt the listener");
        let mut listener = WsStreamBuilder::new()
            .runtime(rt)
            .disable_nagle()
            .buffer_capacity(16 * 1024)
            .listen(tcp);
        let mut conns = FuturesUnordered::new();
        loop {
            futures::select! {
                res = listener.accept().fuse() => match res {
                    Ok((ws, _)) => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                        conns.push(echo(ws));
                    }
                    Err(e) => eprintln!("shard {id}: {e}"),
                },
                () = conns.select_next_some() => {}
            }
        }
    });
}

fn main() {
    let shards: usize = common::arg("--shards")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().max(2)));
    let serve = std::env::args().any(|a| a == "--serve");
    let bind = if serve {
        "127.0.0.1:9002"
    } else {
        "127.0.0.1:0"
    };
    let listeners = match bind_reuse_port(bind.parse().unwrap(), shards) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let addr = listeners[0].local_addr().expect("addr");
    println!("gateway: {shards} shards listening on ws://{addr}");
    let counts: Vec<Arc<AtomicUsize>> = (0..shards).map(|_| Arc::default()).collect();
    for (id, (listener, count)) in listeners.into_iter().zip(counts.clone()).enumerate() {
        std::thread::spawn(move || shard(id, listener, count));
    }
    if serve {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let url = format!("ws://{addr}/");
    let ok = common::run(async move {
        let clients = (0..32).map(|id| {
            let url = url.clone();
            async move {
                let mut ws = WsStreamBuilder::new().disable_nagle().connect(&url).await?;
                for i in 0..10 {
                    let text = format!("client {id} message {i}");
                    ws.send_text(&text).await?;
                    match ws.recv().await? {
                        Some(Message::Text(t)) if t == text => {}
                        other => panic!("client {id}: bad echo {other:?}"),
                    }
                }
                ws.close(CloseCode::Normal, "").await?;
                Ok::<_, nexus_async_net::ws::WsError>(())
            }
        });
        futures::future::join_all(clients)
            .await
            .into_iter()
            .filter(Result::is_ok)
            .count()
    });
    for (id, c) in counts.iter().enumerate() {
        println!("shard {id}: {} connections", c.load(Ordering::Relaxed));
    }
    println!("{ok}/32 clients done; the gateway stops");
    if ok != 32 {
        std::process::exit(1);
    }
}
