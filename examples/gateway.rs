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
use nexus_async_net::ws::{AcceptError, CloseCode, ServerStream, WsStreamBuilder};
use nexus_net::ws::Message;

/// One upgraded connection: echo every data message through the split halves.
async fn serve_connection(ws: ServerStream) {
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
        let rt = Runtime::current();
        // Bind and upgrade through the runtime seam: the same code on every runtime. The
        // handshakes run concurrently inside the listener, so a slow client holds up no one.
        let mut listener = WsStreamBuilder::new()
            .runtime(rt.clone())
            .disable_nagle()
            .buffer_capacity(16 * 1024) // small: gateways hold many low-rate clients
            .max_message_size(1 << 20)
            .auto_pong(true)
            .bind(bind.parse().expect("address"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        println!("gateway listening on ws://{addr}");
        let accept_loop = async {
            loop {
                match listener.accept().await {
                    // One task per connection, on whatever runtime is running.
                    Ok((ws, _peer)) => {
                        if rt.spawn(serve_connection(ws)).is_err() {
                            tracing::warn!("no executor to spawn on");
                        }
                    }
                    // One client's failed handshake: the others are unaffected.
                    Err(e @ AcceptError::Handshake { .. }) => tracing::warn!("{e}"),
                    // Out of file descriptors, say: back off instead of spinning.
                    Err(e) => {
                        tracing::warn!("{e}");
                        rt.sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        };
        if serve {
            accept_loop.await;
            return;
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
