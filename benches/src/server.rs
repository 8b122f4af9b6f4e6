//! The one loopback server every client talks to: a plain tokio task per connection that
//! writes pre-encoded unmasked frames as fast as the socket takes them, so only the client
//! differs between measurements.
//!
//! Modes (chosen by the request path):
//! - `/blast?kind=bin|text&size=S&count=N`: N frames of S bytes, then a Close frame;
//! - `/echo`: every data frame is sent back (unmasked, same opcode);
//! - `/discard?count=N`: data frames are dropped; after the N-th, one text frame `done`;
//! - `/idle`: one 100-byte text frame, then nothing until the client hangs up.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::wire::{self, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};

/// Bytes per `write_all` when blasting pre-encoded frames.
const BLAST_CHUNK: usize = 256 * 1024;

/// Starts the server on its own thread (a current-thread tokio runtime) and returns its
/// address. The thread lives until the process exits.
pub fn start() -> anyhow::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::Error::from(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let listener = match TcpListener::bind("127.0.0.1:0").await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(e.into()));
                        return;
                    }
                };
                let _ = tx.send(listener.local_addr().map_err(Into::into));
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let _ = serve(sock).await;
                    });
                }
            });
        })?;
    rx.recv()?
}

async fn serve(mut sock: TcpStream) -> anyhow::Result<()> {
    sock.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "eof during handshake");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        anyhow::ensure!(buf.len() < 16 * 1024, "handshake too large");
    };
    let up = wire::parse_upgrade(&buf[..head_end]).ok_or_else(|| anyhow::anyhow!("bad upgrade"))?;
    buf.drain(..head_end);
    sock.write_all(&wire::switching_protocols(&up.key)).await?;

    let (path, query) = up.target.split_once('?').unwrap_or((&up.target, ""));
    let param = |name: &str| -> Option<&str> {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let num = |name: &str| -> anyhow::Result<usize> {
        Ok(param(name)
            .ok_or_else(|| anyhow::anyhow!("missing {name}"))?
            .parse()?)
    };
    match path {
        "/blast" => {
            let opcode = if param("kind") == Some("text") {
                OP_TEXT
            } else {
                OP_BINARY
            };
            blast(&mut sock, opcode, num("size")?, num("count")?).await
        }
        "/echo" => echo(&mut sock, buf).await,
        "/idle" => {
            // One message (so that every client has touched its read path), then silence.
            let mut hello = Vec::new();
            wire::push_frame(&mut hello, OP_TEXT, &wire::payload(100));
            sock.write_all(&hello).await?;
            drain(&mut sock).await;
            Ok(())
        }
        "/discard" => discard(&mut sock, buf, num("count")?).await,
        other => anyhow::bail!("unknown path {other}"),
    }
}

async fn blast(sock: &mut TcpStream, opcode: u8, size: usize, count: usize) -> anyhow::Result<()> {
    let payload = wire::payload(size);
    let mut one = Vec::new();
    wire::push_frame(&mut one, opcode, &payload);
    let per_chunk = (BLAST_CHUNK / one.len()).max(1);
    let chunk: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * per_chunk)
        .collect();
    let mut left = count;
    while left >= per_chunk {
        sock.write_all(&chunk).await?;
        left -= per_chunk;
    }
    sock.write_all(&chunk[..one.len() * left]).await?;
    let mut close = Vec::new();
    wire::push_frame(&mut close, OP_CLOSE, &1000u16.to_be_bytes());
    // The client may already have hung up after its last message: that is fine.
    let _ = sock.write_all(&close).await;
    drain(sock).await;
    Ok(())
}

/// Reads until the peer goes away.
async fn drain(sock: &mut TcpStream) {
    let mut sink = vec![0u8; 64 * 1024];
    while let Ok(n) = sock.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// Reads client frames, calling `on_frame(opcode, payload, out)` for each; whatever the
/// callback appends to `out` is written back once the buffered frames are handled.
/// The read buffer is zeroed once and grows only for frames larger than it.
async fn frames<F>(sock: &mut TcpStream, leftover: Vec<u8>, mut on_frame: F) -> anyhow::Result<()>
where
    F: FnMut(u8, &[u8], &mut Vec<u8>) -> bool,
{
    let mut out = Vec::with_capacity(64 * 1024);
    let mut buf = vec![0u8; (256 * 1024).max(leftover.len())];
    buf[..leftover.len()].copy_from_slice(&leftover);
    let mut len = leftover.len();
    loop {
        let mut start = 0;
        while let Some(f) = wire::parse_client_frame(&buf[start..len]) {
            let at = start + f.payload_at;
            let payload = &mut buf[at..at + f.payload_len];
            if let Some(mask) = f.mask {
                wire::unmask(payload, mask);
            }
            anyhow::ensure!(f.fin, "fragmented frames are not used by the benchmarks");
            let go_on = match f.opcode {
                OP_CLOSE => {
                    wire::push_frame(&mut out, OP_CLOSE, payload);
                    false
                }
                OP_PING => {
                    wire::push_frame(&mut out, OP_PONG, payload);
                    true
                }
                _ => on_frame(f.opcode, payload, &mut out),
            };
            start += f.total;
            if !go_on {
                sock.write_all(&out).await?;
                drain(sock).await;
                return Ok(());
            }
        }
        if !out.is_empty() {
            sock.write_all(&out).await?;
            out.clear();
        }
        buf.copy_within(start..len, 0);
        len -= start;
        if len == buf.len() {
            // A frame larger than the buffer: grow (benchmarks send at most 16 KiB).
            buf.resize(buf.len() * 2, 0);
        }
        let n = sock.read(&mut buf[len..]).await?;
        if n == 0 {
            return Ok(());
        }
        len += n;
    }
}

async fn echo(sock: &mut TcpStream, buf: Vec<u8>) -> anyhow::Result<()> {
    frames(sock, buf, |op, payload, out| {
        wire::push_frame(out, op, payload);
        true
    })
    .await
}

async fn discard(sock: &mut TcpStream, buf: Vec<u8>, count: usize) -> anyhow::Result<()> {
    let mut seen = 0usize;
    frames(sock, buf, |op, _payload, out| {
        if op == OP_TEXT || op == OP_BINARY {
            seen += 1;
            if seen == count {
                wire::push_frame(out, OP_TEXT, b"done");
            }
        }
        true
    })
    .await
}
