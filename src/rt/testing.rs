//! Shared checks every runtime shim's tests run (test builds only).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};

use super::{Runtime, TcpOptions};

/// A blocking loopback echo server on its own thread; it echoes one connection until EOF
/// and then stops by itself.
pub(crate) fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
    });
    port
}

/// Connects to a loopback echo server, round-trips bytes, closes, then sleeps, resets a
/// far sleep to a near deadline, and re-arms a completed one.
pub(crate) async fn connect_sleep_reset(rt: &Runtime) {
    let port = echo_server();
    let opts = TcpOptions::new()
        .nodelay(true)
        .keepalive(Some(Duration::from_secs(30)));
    let mut s = rt.connect("127.0.0.1", port, &opts).await.unwrap();
    assert_eq!(s.peer_addr().unwrap().port(), port);
    assert!(s.local_addr().is_ok());
    s.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");
    s.close().await.unwrap();
    assert_eq!(s.read(&mut buf).await.unwrap(), 0, "the server saw our EOF");

    rt.sleep(Duration::from_millis(1)).await;

    // A sleep an hour away, reset to 1 ms: only a working reset finishes before the guard.
    let mut sleep = rt.sleep(Duration::from_secs(3600));
    sleep.as_mut().reset(rt.now() + Duration::from_millis(1));
    let guard = Some(Duration::from_secs(60));
    rt.timeout(guard, sleep.as_mut()).await.unwrap();
    // A completed sleep re-armed in place is pending again, then completes again.
    sleep.as_mut().reset(rt.now() + Duration::from_millis(1));
    rt.timeout(guard, sleep.as_mut()).await.unwrap();
}

/// Connects by host name ("localhost") to a listener on 127.0.0.1 only, so a resolver that
/// returns `::1` first proves every address is tried.
pub(crate) async fn connect_by_name(rt: &Runtime) {
    let port = echo_server();
    let mut s = rt
        .connect("localhost", port, &TcpOptions::default())
        .await
        .unwrap();
    s.write_all(b"x").await.unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).await.unwrap();
    assert_eq!(&b, b"x");
}

/// Spawns a `Send` future and waits for it to report back.
pub(crate) async fn spawn_runs(rt: &Runtime) {
    let (tx, rx) = futures::channel::oneshot::channel();
    rt.spawn(async move {
        let _ = tx.send(42u32);
    })
    .unwrap();
    assert_eq!(rx.await, Ok(42));
}
