//! A small exchange REST API on loopback that misbehaves on a schedule, so a pool's
//! healing shows: every 7th request is reset mid-response, every 5th response carries
//! `Connection: close`, every 11th is a `503`. Plain `std::net` threads; they end with the
//! example's process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// Starts the server; returns its address.
pub fn spawn_rest_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let count = Arc::new(AtomicUsize::new(0));
    thread::spawn(move || {
        for sock in listener.incoming().flatten() {
            let count = count.clone();
            thread::spawn(move || serve(sock, &count));
        }
    });
    addr
}

fn serve(mut sock: TcpStream, count: &AtomicUsize) {
    let _ = sock.set_nodelay(true);
    while let Some(head) = read_request(&mut sock) {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        if n.is_multiple_of(7) {
            // Half a response, then RST: the client gets a transport error.
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n{\"sym");
            thread::sleep(Duration::from_millis(5));
            let _ = socket2::SockRef::from(&sock).set_linger(Some(Duration::ZERO));
            return;
        }
        let (status, body) = if n.is_multiple_of(11) {
            (
                "503 Service Unavailable",
                "{\"code\":-1001,\"msg\":\"busy\"}".to_owned(),
            )
        } else if head.starts_with("POST") {
            ("200 OK", format!("{{\"orderId\":{n},\"status\":\"NEW\"}}"))
        } else {
            let price = 64_000.0 + (n % 40) as f64 * 0.25;
            (
                "200 OK",
                format!("{{\"symbol\":\"BTCUSDT\",\"price\":\"{price:.2}\"}}"),
            )
        };
        let close = n.is_multiple_of(5);
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" },
        );
        if sock.write_all(response.as_bytes()).is_err() || close {
            return;
        }
    }
}

/// Reads one request (head plus Content-Length body); the head as text, `None` at EOF.
fn read_request(sock: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let len = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| {
            l.strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    sock.read_exact(&mut body).ok()?;
    Some(head)
}
