//! The default deadlines, against a black-hole server: it accepts TCP and never answers.
//! Time is tokio's paused clock, so the 5 s default passes in an instant and the test
//! checks the deadline itself, not the wall clock.

use std::net::TcpListener;
use std::time::Duration;

use super::DEFAULT_CONNECT_TIMEOUT;
use crate::rest::{HttpConnectionBuilder, RestError};
use crate::rt::Runtime;
use crate::ws::{WsError, WsStreamBuilder};

/// Accepts connections and holds them, reading nothing and answering nothing, until the
/// test ends (the listener thread stops after `conns` connections or 60 s).
fn black_hole(conns: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..conns {
            match listener.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    addr
}

fn paused_tokio() -> Runtime {
    Runtime::tokio_from_handle(tokio::runtime::Handle::current())
}

/// Runs `fut` under an outer minute of paused time, so a missing default fails the test
/// instead of hanging it.
async fn ended_by_itself<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("still waiting after a minute: no default deadline applied")
}

#[tokio::test(start_paused = true)]
async fn ws_connect_gives_up_after_the_default_timeout() {
    let addr = black_hole(1);
    let start = tokio::time::Instant::now();
    let res = ended_by_itself(
        WsStreamBuilder::new()
            .runtime(paused_tokio())
            .connect(&format!("ws://{addr}/")),
    )
    .await;
    assert!(matches!(res, Err(WsError::Timeout("connect"))), "{res:?}");
    assert_eq!(start.elapsed().as_secs(), DEFAULT_CONNECT_TIMEOUT.as_secs());
    assert_eq!(res.unwrap_err().to_string(), "websocket connect timed out");
}

#[tokio::test(start_paused = true)]
async fn ws_connect_with_gives_up_after_the_default_timeout() {
    let addr = black_hole(1);
    let tcp = async_net::TcpStream::connect(&addr).await.unwrap();
    let start = tokio::time::Instant::now();
    let res = ended_by_itself(
        WsStreamBuilder::new()
            .runtime(paused_tokio())
            .connect_with(tcp, &format!("ws://{addr}/")),
    )
    .await;
    assert!(matches!(res, Err(WsError::Timeout("connect"))), "{res:?}");
    assert_eq!(start.elapsed().as_secs(), DEFAULT_CONNECT_TIMEOUT.as_secs());
}

#[cfg(feature = "tls")]
#[tokio::test(start_paused = true)]
async fn https_connect_gives_up_after_the_default_timeout() {
    let addr = black_hole(1);
    let start = tokio::time::Instant::now();
    let res = ended_by_itself(
        HttpConnectionBuilder::new()
            .runtime(paused_tokio())
            .connect(&format!("https://{addr}/")),
    )
    .await;
    assert!(matches!(res, Err(RestError::ConnectTimeout)), "{res:?}");
    assert_eq!(start.elapsed().as_secs(), DEFAULT_CONNECT_TIMEOUT.as_secs());
}

#[cfg(feature = "tls")]
#[tokio::test(start_paused = true)]
async fn wss_connect_gives_up_after_the_default_timeout() {
    let addr = black_hole(1);
    let start = tokio::time::Instant::now();
    let res = ended_by_itself(
        WsStreamBuilder::new()
            .runtime(paused_tokio())
            .connect(&format!("wss://{addr}/")),
    )
    .await;
    assert!(matches!(res, Err(WsError::Timeout("connect"))), "{res:?}");
    assert_eq!(start.elapsed().as_secs(), DEFAULT_CONNECT_TIMEOUT.as_secs());
}

#[tokio::test(start_paused = true)]
async fn pool_build_gives_up_after_the_default_timeout() {
    let addr = black_hole(1);
    let start = tokio::time::Instant::now();
    let res = ended_by_itself(
        crate::rest::ClientPool::builder()
            .url(&format!("https://{addr}"))
            .runtime(paused_tokio())
            .build(),
    )
    .await;
    assert!(res.is_err(), "a pool over a black hole must not build");
    assert_eq!(start.elapsed().as_secs(), DEFAULT_CONNECT_TIMEOUT.as_secs());
}

/// `None` is the explicit opt-out: the connect is still waiting long after the default.
#[tokio::test(start_paused = true)]
async fn none_turns_the_connect_deadline_off() {
    let addr = black_hole(1);
    let builder = WsStreamBuilder::new()
        .runtime(paused_tokio())
        .connect_timeout(None);
    assert_eq!(builder.get_connect_options().connect_timeout, None);
    let outer = tokio::time::timeout(
        DEFAULT_CONNECT_TIMEOUT * 12,
        builder.connect(&format!("ws://{addr}/")),
    )
    .await;
    assert!(outer.is_err(), "connect ended on its own: {outer:?}");
}

/// Every builder starts from the same documented defaults.
#[test]
fn every_builder_defaults_to_the_one_connect_timeout() {
    let want = Some(DEFAULT_CONNECT_TIMEOUT);
    assert_eq!(super::ConnectOptions::new().connect_timeout, want);
    assert_eq!(
        WsStreamBuilder::new().get_connect_options().connect_timeout,
        want
    );
    assert_eq!(
        HttpConnectionBuilder::new()
            .get_connect_options()
            .connect_timeout,
        want
    );
    assert_eq!(
        crate::rest::ClientPool::builder()
            .get_connect_options()
            .connect_timeout,
        want
    );
    assert_eq!(
        crate::rest::AtomicClientPool::builder()
            .get_connect_options()
            .connect_timeout,
        want
    );
}
