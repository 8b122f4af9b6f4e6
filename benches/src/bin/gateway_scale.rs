//! The gateway at scale: N clients on one server thread, each receiving a 200-byte
//! message `--rate` times per second, against three servers in one run: ours
//! (`WsListener` + `Broadcast` of one `PreparedMessage`), tokio-tungstenite and
//! fastwebsockets (a task per connection fed by a `tokio::sync::broadcast`, as their docs
//! suggest).
//!
//! ```text
//! cd benches && cargo run --release --bin gateway_scale -- --clients 10000 --messages 20
//! ```
//!
//! Each server runs in a child process (the same binary with `--serve <impl>`) on a
//! current-thread tokio runtime, so its resident memory is its own. The clients (this
//! crate's `WsStream`, the same for every server) run in the parent. Reported per server:
//! - RSS per connection: the server's `VmRSS` with every client connected, minus before;
//! - fan-out: from the publish timestamp in the payload to the last client's receipt,
//!   median over messages;
//! - delivery latency p50 / p99 over every (client, message).
//!
//! The open-files limit is raised to its hard limit (both processes need one descriptor
//! per connection).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Raises RLIMIT_NOFILE to the hard limit through `prlimit` on ourselves (no libc
/// dependency); returns the soft limit now in force.
fn raise_nofile() -> u64 {
    let pid = std::process::id().to_string();
    let hard = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024u64);
    let _ = Command::new("prlimit")
        .args(["--pid", &pid, &format!("--nofile={hard}:{hard}")])
        .stderr(Stdio::null())
        .status();
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The payload: `<ns> <seq> ` and padding to `size` bytes.
fn payload(seq: usize, size: usize) -> String {
    let mut s = format!("{} {seq} ", now_ns());
    while s.len() < size {
        s.push('x');
    }
    s
}

fn main() -> anyhow::Result<()> {
    let clients: usize = arg("--clients")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let messages: usize = arg("--messages").and_then(|v| v.parse().ok()).unwrap_or(20);
    let rate: u64 = arg("--rate").and_then(|v| v.parse().ok()).unwrap_or(10);
    let size: usize = arg("--size").and_then(|v| v.parse().ok()).unwrap_or(200);
    let limit = raise_nofile();
    if let Some(which) = arg("--serve") {
        return serve(&which, clients, messages, rate, size);
    }
    println!(
        "gateway_scale: {clients} clients, {messages} messages of {size} B at {rate}/s, \
         open-files limit {limit}"
    );
    println!("| server | RSS/conn | fan-out median | fan-out max | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for which in ["ours", "tokio-tungstenite", "fastwebsockets"] {
        match run_one(which, clients, messages, rate, size) {
            Ok(row) => println!("{row}"),
            Err(e) => println!("| {which} | failed: {e} | | | | |"),
        }
    }
    Ok(())
}

fn run_one(
    which: &str,
    clients: usize,
    messages: usize,
    rate: u64,
    size: usize,
) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args([
            "--serve",
            which,
            "--clients",
            &clients.to_string(),
            "--messages",
            &messages.to_string(),
            "--rate",
            &rate.to_string(),
            "--size",
            &size.to_string(),
        ])
        .stdout(Stdio::piped())
        .stdin(Stdio::piped())
        .spawn()?;
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .strip_prefix("port ")
        .ok_or_else(|| anyhow::anyhow!("server said {line:?}"))?
        .parse()?;
    let url = format!("ws://127.0.0.1:{port}/");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(async move {
        // Connect in waves, so the server's accept queue is not overrun.
        let mut conns = Vec::with_capacity(clients);
        for chunk in (0..clients).collect::<Vec<_>>().chunks(500) {
            let wave: Vec<_> = chunk
                .iter()
                .map(|_| {
                    nexus_async_net::ws::WsStreamBuilder::new()
                        .disable_nagle()
                        .buffer_capacity(1024)
                        .write_buffer_capacity(256)
                        .connect_timeout(Duration::from_secs(30))
                        .connect(&url)
                })
                .collect();
            for c in futures::future::join_all(wave).await {
                conns.push(c?);
            }
        }
        // One task per client (a FuturesUnordered of 10 000 in one task adds its own
        // delay, see docs/gateway.md).
        let local = tokio::task::LocalSet::new();
        let handles: Vec<_> = conns
            .into_iter()
            .map(|mut ws| {
                local.spawn_local(async move {
                    let mut got = Vec::with_capacity(messages);
                    while got.len() < messages {
                        match ws.recv().await? {
                            Some(nexus_async_net::ws::Message::Text(t)) => {
                                let mut parts = t.splitn(3, ' ');
                                let sent: u64 = parts.next().unwrap_or("0").parse().unwrap_or(0);
                                let seq: usize = parts.next().unwrap_or("0").parse().unwrap_or(0);
                                got.push((seq, now_ns().saturating_sub(sent)));
                            }
                            Some(_) => {}
                            None => anyhow::bail!("closed after {} messages", got.len()),
                        }
                    }
                    Ok::<_, anyhow::Error>(got)
                })
            })
            .collect();
        let results = local
            .run_until(async move {
                let mut out = Vec::with_capacity(handles.len());
                for h in handles {
                    out.push(h.await.map_err(anyhow::Error::from).and_then(|r| r));
                }
                out
            })
            .await;
        Ok::<_, anyhow::Error>(results)
    })?;
    // Tell the server we are done, read its report.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "done");
    }
    line.clear();
    out.read_line(&mut line)?;
    let _ = child.wait();
    let mut report = line.split_whitespace();
    let idle: f64 = report.nth(1).unwrap_or("0").parse().unwrap_or(0.0);
    let busy: f64 = report.nth(1).unwrap_or("0").parse().unwrap_or(0.0);
    let mut all = Vec::new();
    let mut last = vec![0u64; messages];
    let mut ok = 0;
    for r in results {
        let got = r?;
        ok += 1;
        for (seq, lat) in got {
            all.push(lat);
            if let Some(slot) = last.get_mut(seq) {
                *slot = (*slot).max(lat);
            }
        }
    }
    anyhow::ensure!(ok == clients, "{ok} of {clients} clients got every message");
    all.sort_unstable();
    last.sort_unstable();
    let pct = |v: &[u64], p: f64| v[((v.len() as f64 - 1.0) * p) as usize] as f64 / 1e6;
    Ok(format!(
        "| {which} | {:.2} kB | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        (busy - idle) / clients as f64,
        pct(&last, 0.5),
        pct(&last, 1.0),
        pct(&all, 0.5),
        pct(&all, 0.99)
    ))
}

/// The child: binds, prints `port P`, accepts `clients`, publishes `messages` at `rate`,
/// waits for `done` on stdin, prints `rss_idle_kb A rss_busy_kb B`.
fn serve(
    which: &str,
    clients: usize,
    messages: usize,
    rate: u64,
    size: usize,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("port {}", listener.local_addr()?.port());
        std::io::stdout().flush()?;
        let idle = rss_kb();
        let interval = Duration::from_micros(1_000_000 / rate.max(1));
        let busy = match which {
            "ours" => serve_ours(listener, clients, messages, interval, size).await?,
            "tokio-tungstenite" => {
                serve_tungstenite(listener, clients, messages, interval, size).await?
            }
            "fastwebsockets" => serve_fastws(listener, clients, messages, interval, size).await?,
            other => anyhow::bail!("unknown server {other}"),
        };
        println!("rss_idle_kb {idle} rss_busy_kb {busy}");
        Ok(())
    })
}

/// Waits for the parent's `done` without blocking the runtime thread.
async fn parent_done() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = tx.send(());
    });
    let _ = rx.await;
}

async fn serve_ours(
    listener: tokio::net::TcpListener,
    clients: usize,
    messages: usize,
    interval: Duration,
    size: usize,
) -> anyhow::Result<u64> {
    use nexus_async_net::ws::{Broadcast, LagPolicy, PreparedMessage, WsStreamBuilder};
    let tcp = nexus_async_net::rt::TcpListener::from_tokio(listener);
    let mut listener = WsStreamBuilder::new()
        .disable_nagle()
        .buffer_capacity(1024)
        .write_buffer_capacity(256)
        .listen(tcp);
    let hub = Broadcast::new(64, LagPolicy::DropOldest);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            for _ in 0..clients {
                let (ws, _) = listener.accept().await?;
                let (reader, mut writer) = ws.split();
                let mut sub = hub.subscribe();
                // One task per connection, as for the peers.
                tokio::task::spawn_local(async move {
                    let _keep = reader;
                    let _ = sub.forward(&mut writer).await;
                });
            }
            let busy = rss_kb();
            for seq in 0..messages {
                tokio::time::sleep(interval).await;
                hub.publish(&PreparedMessage::text(&payload(seq, size)))
                    .await;
            }
            parent_done().await;
            Ok(busy)
        })
        .await
}

async fn accepted(listener: &tokio::net::TcpListener) -> anyhow::Result<tokio::net::TcpStream> {
    let (tcp, _) = listener.accept().await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

async fn serve_tungstenite(
    listener: tokio::net::TcpListener,
    clients: usize,
    messages: usize,
    interval: Duration,
    size: usize,
) -> anyhow::Result<u64> {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
    let (tx, _) = tokio::sync::broadcast::channel::<Utf8Bytes>(64);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            for _ in 0..clients {
                let tcp = accepted(&listener).await?;
                let mut ws = tokio_tungstenite::accept_async(tcp).await?;
                let mut rx = tx.subscribe();
                tokio::task::spawn_local(async move {
                    loop {
                        match rx.recv().await {
                            Ok(text) => {
                                if ws.send(Message::Text(text)).await.is_err() {
                                    break;
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => break,
                        }
                    }
                });
            }
            let busy = rss_kb();
            for seq in 0..messages {
                tokio::time::sleep(interval).await;
                let _ = tx.send(Utf8Bytes::from(payload(seq, size)));
            }
            parent_done().await;
            Ok(busy)
        })
        .await
}

async fn serve_fastws(
    listener: tokio::net::TcpListener,
    clients: usize,
    messages: usize,
    interval: Duration,
    size: usize,
) -> anyhow::Result<u64> {
    use fastwebsockets::{Frame, Payload, Role, WebSocket};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<String>>(64);
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            for _ in 0..clients {
                let mut tcp = accepted(&listener).await?;
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    head.push(tcp.read_u8().await?);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let key = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("sec-websocket-key")
                            .then(|| v.trim().to_owned())
                    })
                    .unwrap_or_default();
                let accept = {
                    use base64::Engine as _;
                    use sha1::Digest as _;
                    let mut h = sha1::Sha1::new();
                    h.update(key.as_bytes());
                    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
                    base64::engine::general_purpose::STANDARD.encode(h.finalize())
                };
                tcp.write_all(
                    format!(
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                         Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                    )
                    .as_bytes(),
                )
                .await?;
                let mut ws = WebSocket::after_handshake(tcp, Role::Server);
                let mut rx = tx.subscribe();
                tokio::task::spawn_local(async move {
                    loop {
                        match rx.recv().await {
                            Ok(text) => {
                                let frame = Frame::text(Payload::Borrowed(text.as_bytes()));
                                if ws.write_frame(frame).await.is_err() {
                                    break;
                                }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => break,
                        }
                    }
                });
            }
            let busy = rss_kb();
            for seq in 0..messages {
                tokio::time::sleep(interval).await;
                let _ = tx.send(Arc::new(payload(seq, size)));
            }
            parent_done().await;
            Ok(busy)
        })
        .await
}
