//! The one local HTTP/1.1 server every REST client talks to: hand-written, keep-alive, a
//! canned `200 OK` with a 15-byte JSON body for every request (pipelined requests are
//! answered in one write). Only the client differs between rows.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The response to every request.
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}";
/// Length of the response body.
pub const BODY_LEN: usize = 15;

/// Starts the server on its own thread and returns its address.
pub fn start() -> anyhow::Result<SocketAddr> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("rest-server".into())
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

/// Where a complete request ends within `buf`, if one is there. A byte scan, no UTF-8
/// or string splitting: the server must stay far cheaper than any client.
fn request_end(buf: &[u8]) -> Option<usize> {
    // Header lines end in CRLF; the head ends at the first empty line.
    let mut head = None;
    let mut line_start = 0;
    for (lines, (i, _)) in buf
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .enumerate()
    {
        if i == line_start + 1 && lines > 0 {
            head = Some(i + 1);
            break;
        }
        line_start = i + 1;
    }
    let head = head?;
    let mut body = 0usize;
    for line in buf[..head].split(|&b| b == b'\n') {
        const NAME: &[u8] = b"content-length:";
        if line.len() > NAME.len() && line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            body = line[NAME.len()..]
                .iter()
                .filter(|b| b.is_ascii_digit())
                .fold(0usize, |n, &d| {
                    n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
                });
        }
    }
    (buf.len() >= head + body).then_some(head + body)
}

async fn serve(mut sock: TcpStream) -> anyhow::Result<()> {
    sock.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0;
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        let n = sock.read(&mut buf[len..]).await?;
        if n == 0 {
            return Ok(());
        }
        len += n;
        let mut start = 0;
        while let Some(end) = request_end(&buf[start..len]) {
            out.extend_from_slice(RESPONSE);
            start += end;
        }
        if !out.is_empty() {
            sock.write_all(&out).await?;
            out.clear();
        }
        buf.copy_within(start..len, 0);
        len -= start;
        anyhow::ensure!(len < buf.len(), "request too large");
    }
}
