//! Under tokio, the runtime seam uses tokio's reactor and timer only: connecting, reading,
//! writing and sleeping through `Runtime::current()` never starts async-io's reactor thread.
//!
//! This is its own test binary (one process) so no other test can start that thread first.
#![cfg(all(feature = "tokio", target_os = "linux"))]

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use nexus_async_net::rt::{Runtime, RuntimeKind, TcpOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The names of every thread of this process, from `/proc/self/task/*/comm`.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("procfs is mounted")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

#[test]
fn tokio_runtime_io_and_timers_never_start_the_async_io_reactor_thread() {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("nexus-tokio")
        .enable_all()
        .build()
        .expect("tokio runtime");
    tokio_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });

        let rt = Runtime::current();
        assert_eq!(rt.kind(), RuntimeKind::Tokio);
        let opts = TcpOptions::new().nodelay(true);
        let mut stream = rt.connect("localhost", port, &opts).await.unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        stream.close().await.unwrap();

        let mut sleep = rt.sleep(Duration::from_secs(3600));
        sleep.as_mut().reset(rt.now() + Duration::from_millis(1));
        rt.timeout(Some(Duration::from_secs(60)), sleep)
            .await
            .unwrap();
        let (tx, rx) = futures::channel::oneshot::channel();
        rt.spawn(async move {
            let _ = tx.send(());
        })
        .unwrap();
        rx.await.unwrap();
        server.await.unwrap();
    });

    let names = thread_names();
    assert!(
        names.iter().any(|n| n == "nexus-tokio"),
        "the check can see this process's threads: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "async-io"),
        "async-io's reactor thread was started: {names:?}"
    );
}
