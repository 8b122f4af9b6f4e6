//! Seed recipe 3, "Gateway accepting many connections", echoing through split halves.
//!
//! ```text
//! cargo run --example gateway                     # tokio: serve, run 8 demo clients, exit
//! cargo run --example gateway -- --runtime smol   # the same on smol
//! cargo run --example gateway -- --serve          # keep serving on 127.0.0.1:9001
//! ```
//!
//! Echoing a borrowed `Text` on the same stream cannot pass the borrow checker (the
//! message borrows the stream's read buffer), so each connection is split: the reader
//! half receives, the writer half sends.

extern crate nexus_async_net as nexus_net;

mod common;

use std::time::Duration;

use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{CloseCode, WsStreamBuilder};
use nexus_net::ws::Message;

/// One connection: accept, then echo every data message through the split halves.
async fn serve_connection(sock: async_net::TcpStream) {
    let addr = sock.peer_addr().ok();
    sock.set_nodelay(true).ok();
    let ws = match WsStreamBuilder::new()
        .buffer_capacity(16 * 1024) // small: gateways hold many low-rate clients
        .max_message_size(1 << 20)
        .auto_pong(true)
        .accept(sock)
        .await
    {
        Ok(ws) => ws,
        Err(e) => {
            tracing::warn!(?addr, ?e, "handshake failed");
            return;
        }
    };
    let (mut rx, mut tx) = ws.split();
    while let Ok(Some(msg)) = rx.recv().await {
        let sent = match msg {
            Message::Text(s) => tx.send_text(s).await,
            Message::Binary(b) => tx.send_binary(b).await,
            Message::Close(_) => break,
            _ => Ok(()),
        };
        if sent.is_err() {
            break;
        }
    }
}

/// A demo client: sends `n` messages and checks every echo.
async fn demo_client(url: String, id: usize, n: usize) -> Result<(), nexus_async_net::ws::WsError> {
    let mut ws = WsStreamBuilder::new().disable_nagle().connect(&url).await?;
    for i in 0..n {
        let msg = format!("client {id} message {i}");
        ws.send_text(&msg).await?;
        match ws.recv().await? {
            Some(Message::Text(echo)) if echo == msg => {}
            other => panic!("client {id}: bad echo {other:?}"),
        }
    }
    ws.close(CloseCode::Normal, "bye").await?;
    println!("client {id}: {n} echoes ok");
    Ok(())
}

fn main() {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let serve = std::env::args().any(|a| a == "--serve");
    let bind = if serve {
        "127.0.0.1:9001"
    } else {
        "127.0.0.1:0"
    };
    common::run(async move {
        let listener = async_net::TcpListener::bind(bind).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        println!("gateway listening on ws://{addr}");
        let rt = Runtime::current();
        let accept_loop = async {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    break;
                };
                // One task per connection, on whatever runtime is running.
                if rt.spawn(serve_connection(sock)).is_err() {
                    tracing::warn!("no executor to spawn on");
                }
            }
        };
        if serve {
            return accept_loop.await;
        }
        let url = format!("ws://{addr}/");
        let clients = futures::future::join_all((0..8).map(|id| demo_client(url.clone(), id, 50)));
        let deadline = rt.sleep(Duration::from_secs(30));
        match futures::future::select(
            Box::pin(futures::future::select(Box::pin(accept_loop), clients)),
            deadline,
        )
        .await
        {
            futures::future::Either::Left((futures::future::Either::Right((results, _)), _)) => {
                let ok = results.iter().filter(|r| r.is_ok()).count();
                println!("{ok}/8 clients done; gateway stops");
                assert_eq!(ok, 8, "every demo client must succeed");
            }
            _ => panic!("gateway demo did not finish in time"),
        }
    });
}
