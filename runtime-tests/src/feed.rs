//! The supervised [`Feed`] against a feed server that drops, closes, stalls, refuses,
//! answers 503, 429 with `Retry-After` and 403, and sends garbage.
//!
//! Backoff is checked on a virtual clock ([`VirtualTimer`]): every sleep advances the
//! runtime seam's clock at once and is recorded, so the schedule is asserted exactly and
//! the tests wait for no wall-clock delay.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use nexus_async_net::connect::Backoff;
use nexus_async_net::rt::{Runtime, Sleep, Timer};
use nexus_async_net::ws::{ClientStream, Disconnect, Feed, FeedError, FeedEvent, Message, WsError};

use crate::servers::{TestPki, frame, raw_accept, raw_server, read_frame};

/// What the feed server does with one connection.
#[derive(Clone, Copy, Debug)]
pub enum Session {
    /// Upgrade, read the subscription, send `n` texts `s{session}-{i}`, then `End`.
    Serve(usize, End),
    /// Answer the upgrade with this status (and `Retry-After` seconds).
    Status(u16, Option<u32>),
    /// Answer the upgrade with bytes that are not HTTP.
    Garbage,
}

/// How a served session ends.
#[derive(Clone, Copy, Debug)]
pub enum End {
    /// Drop the connection without a Close.
    Drop,
    /// Send Close 1000 and wait for the echo.
    Close,
    /// Send no more data, only pings every 40 ms, until the client goes.
    Stall,
    /// Wait for the client's Close and log its code.
    Hold,
}

/// Starts a feed server playing `script`, one entry per accepted connection; later
/// connections are dropped at once. The log has `subscribe <n>: <payload>` and
/// `close <n>: <code>` lines.
fn feed_server(script: Vec<Session>) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let l = log.clone();
    let addr = raw_server(script.len() + 8, move |mut sock| {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let Some(session) = script.get(n).copied() else {
            return;
        };
        let log = l.clone();
        thread::spawn(move || {
            let _ = serve(&mut sock, n, session, &log);
        });
    });
    (addr, log)
}

fn serve(
    sock: &mut std::net::TcpStream,
    n: usize,
    session: Session,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    match session {
        Session::Status(status, retry_after) => {
            let _ = crate::servers::read_head(sock)?;
            let retry = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            write!(
                sock,
                "HTTP/1.1 {status} Nope\r\n{retry}Content-Length: 0\r\n\r\n"
            )?;
        }
        Session::Garbage => {
            let _ = crate::servers::read_head(sock)?;
            sock.write_all(b"\x16\x03\x01 not http at all\r\n\r\n")?;
        }
        Session::Serve(count, end) => {
            raw_accept(sock)?;
            let (_, _, sub) = read_frame(sock)?;
            log.lock()
                .unwrap()
                .push(format!("subscribe {n}: {}", String::from_utf8_lossy(&sub)));
            for i in 0..count {
                sock.write_all(&frame(true, 1, format!("s{n}-{i}").as_bytes(), None))?;
            }
            match end {
                End::Drop => {}
                End::Close => {
                    sock.write_all(&frame(true, 8, &1000u16.to_be_bytes(), None))?;
                    let _ = read_frame(sock);
                }
                End::Stall => {
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_secs(10) {
                        if sock
                            .write_all(&frame(true, 9, b"still here", None))
                            .is_err()
                        {
                            break;
                        }
                        thread::sleep(Duration::from_millis(40));
                    }
                }
                End::Hold => loop {
                    let (_, op, payload) = read_frame(sock)?;
                    if op == 8 {
                        let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                        log.lock().unwrap().push(format!("close {n}: {code:?}"));
                        sock.write_all(&frame(true, 8, &payload, None))?;
                        break;
                    }
                },
            }
        }
    }
    Ok(())
}

use crate::servers::ws_client as ws;

fn fast() -> Backoff {
    Backoff::new(Duration::from_millis(1), Duration::from_millis(5))
}

/// A subscribe step that counts its runs and sends `subscribe #k` (a macro, so each test
/// has a concrete closure type, as user code has).
macro_rules! counting {
    ($runs:expr) => {{
        let runs = $runs.clone();
        async move |ws: &mut ClientStream| {
            let k = runs.fetch_add(1, Ordering::SeqCst) + 1;
            ws.send_text(&format!("subscribe #{k}")).await
        }
    }};
}

/// A port nobody listens on.
fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("ws://127.0.0.1:{port}/")
}

/// One line per event, messages as their text.
fn describe(event: &FeedEvent<'_>) -> String {
    match event {
        FeedEvent::Message(Message::Text(t)) => format!("msg {t}"),
        FeedEvent::Message(m) => format!("other {m:?}"),
        FeedEvent::Connected {
            attempt, down_for, ..
        } => {
            format!("connected attempt={attempt} gap={}", down_for.is_some())
        }
        FeedEvent::Disconnected { reason } => match reason {
            Disconnect::Error(_) => "disconnected error".to_owned(),
            Disconnect::Closed(Some(f)) => format!("disconnected closed {}", u16::from(f.code)),
            Disconnect::Closed(None) => "disconnected closed".to_owned(),
            Disconnect::Eof => "disconnected eof".to_owned(),
            Disconnect::Stale(_) => "disconnected stale".to_owned(),
            other => format!("disconnected {other:?}"),
        },
    }
}

/// Drops, a clean Close and a reset: every gap is reported, the subscribe step runs again
/// on every connection before its first message, and each connection's messages arrive
/// once each, in order.
pub async fn feed_reconnects_resubscribes_and_reports_every_gap(rt: Runtime) -> anyhow::Result<()> {
    let (addr, log) = feed_server(vec![
        Session::Serve(3, End::Drop),
        Session::Serve(2, End::Close),
        Session::Serve(3, End::Hold),
    ]);
    let runs = Arc::new(AtomicUsize::new(0));
    let mut feed = Feed::builder(ws(&rt), [format!("ws://{addr}/")])
        .on_connect(counting!(&runs))
        .backoff(fast())
        .build();
    let mut seen = Vec::new();
    while seen.len() < 13 {
        seen.push(describe(&feed.recv().await?));
    }
    feed.close().await;
    let expected = [
        "connected attempt=1 gap=false",
        "msg s0-0",
        "msg s0-1",
        "msg s0-2",
        "disconnected eof",
        "connected attempt=1 gap=true",
        "msg s1-0",
        "msg s1-1",
        "disconnected closed 1000",
        "connected attempt=1 gap=true",
        "msg s2-0",
        "msg s2-1",
        "msg s2-2",
    ];
    // A drop is seen as the end of the stream or as a reset, depending on timing.
    let normal: Vec<String> = seen
        .iter()
        .map(|s| {
            if s == "disconnected error" {
                "disconnected closed".to_owned()
            } else {
                s.clone()
            }
        })
        .collect();
    ensure!(normal == expected, "events: {seen:#?}");
    ensure!(
        runs.load(Ordering::SeqCst) == 3,
        "subscribe ran {} times",
        runs.load(Ordering::SeqCst)
    );
    let stats = feed.stats();
    ensure!(
        (stats.connects, stats.reconnects, stats.messages) == (3, 2, 8),
        "{stats:?}"
    );
    ensure!(matches!(feed.recv().await, Err(FeedError::Shutdown)));
    // The server saw each subscription on its own connection, and our Close 1000.
    let start = Instant::now();
    while !log.lock().unwrap().iter().any(|l| l.starts_with("close 2")) {
        ensure!(
            start.elapsed() < Duration::from_secs(10),
            "no close: {:?}",
            log.lock().unwrap()
        );
        rt.sleep(Duration::from_millis(5)).await;
    }
    let log = log.lock().unwrap().clone();
    ensure!(
        log[..3]
            == [
                "subscribe 0: subscribe #1",
                "subscribe 1: subscribe #2",
                "subscribe 2: subscribe #3"
            ]
            && log[3] == "close 2: Some(1000)",
        "{log:?}"
    );
    Ok(())
}

/// Failover through a refused port, a server that sends garbage and one that answers 503,
/// to the one that works: one `Connected` on the fourth attempt, three failures counted.
pub async fn feed_fails_over_past_refused_garbage_and_503(rt: Runtime) -> anyhow::Result<()> {
    let (garbage, _) = feed_server(vec![Session::Garbage]);
    let (busy, _) = feed_server(vec![Session::Status(503, None)]);
    let (good, _) = feed_server(vec![Session::Serve(1, End::Hold)]);
    let urls = [
        refused_url(),
        format!("ws://{garbage}/"),
        format!("ws://{busy}/"),
        format!("ws://{good}/"),
    ];
    let mut feed = Feed::builder(ws(&rt), urls.clone())
        .on_connect(counting!(&Arc::new(AtomicUsize::new(0))))
        .backoff(fast())
        .build();
    match feed.recv().await? {
        FeedEvent::Connected {
            url,
            attempt: 4,
            down_for: None,
        } if url == urls[3] => {}
        other => bail!("expected a connect to the 4th URL on attempt 4, got {other:?}"),
    }
    ensure!(describe(&feed.recv().await?) == "msg s0-0");
    let stats = feed.stats();
    ensure!(
        stats.failed_attempts == 3 && stats.connects == 1,
        "{stats:?}"
    );
    ensure!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{stats:?}"
    );
    feed.close().await;
    Ok(())
}

/// A server that goes silent but keeps sending pings is declared stale after the deadline,
/// and the feed reconnects.
pub async fn feed_declares_a_silent_connection_stale_despite_pings(
    rt: Runtime,
) -> anyhow::Result<()> {
    let (addr, _) = feed_server(vec![
        Session::Serve(2, End::Stall),
        Session::Serve(1, End::Hold),
    ]);
    let mut feed = Feed::builder(ws(&rt), [format!("ws://{addr}/")])
        .on_connect(counting!(&Arc::new(AtomicUsize::new(0))))
        .backoff(fast())
        .stale_after(Duration::from_millis(300))
        .build();
    let mut seen = Vec::new();
    loop {
        let line = describe(&feed.recv().await?);
        let done = line == "msg s1-0";
        // Pings of the stalled connection come through as messages: leave them out.
        if !line.starts_with("other") {
            seen.push(line);
        }
        if done {
            break;
        }
    }
    ensure!(
        seen == [
            "connected attempt=1 gap=false",
            "msg s0-0",
            "msg s0-1",
            "disconnected stale",
            "connected attempt=1 gap=true",
            "msg s1-0"
        ],
        "{seen:#?}"
    );
    feed.close().await;
    Ok(())
}

/// What retrying cannot fix ends `recv` at once: a 403 on the upgrade, a certificate the
/// client does not trust.
pub async fn feed_stops_at_once_on_a_403_or_a_rejected_certificate(
    rt: Runtime,
) -> anyhow::Result<()> {
    let (forbidden, _) = feed_server(vec![Session::Status(403, None)]);
    let mut feed = Feed::builder(ws(&rt), [format!("ws://{forbidden}/")])
        .backoff(fast())
        .build();
    match feed.recv().await {
        Err(FeedError::Fatal {
            error: WsError::Handshake(_),
            ..
        }) => {}
        other => bail!("expected a fatal 403, got {other:?}"),
    }
    ensure!(feed.stats().failed_attempts == 1);
    ensure!(matches!(feed.recv().await, Err(FeedError::Shutdown)));
    let pki = TestPki::new(0);
    let tls_server = crate::servers::ws_echo_server(1, Some(pki.server()));
    let mut feed = Feed::builder(ws(&rt), [format!("wss://localhost:{}/", tls_server.port())])
        .backoff(fast())
        .build();
    match feed.recv().await {
        Err(
            e @ FeedError::Fatal {
                error: WsError::Tls(_),
                ..
            },
        ) => {
            ensure!(e.to_string().contains("not retried"), "{e}");
        }
        other => bail!("expected a fatal certificate error, got {other:?}"),
    }
    Ok(())
}

/// `shutdown` from another task closes the connection with 1000 and ends `recv`.
pub async fn feed_shutdown_from_another_task_closes_with_1000(rt: Runtime) -> anyhow::Result<()> {
    let (addr, log) = feed_server(vec![Session::Serve(1, End::Hold)]);
    let mut feed = Feed::builder(ws(&rt), [format!("ws://{addr}/")])
        .on_connect(counting!(&Arc::new(AtomicUsize::new(0))))
        .build();
    let handle = feed.shutdown_handle();
    ensure!(describe(&feed.recv().await?).starts_with("connected"));
    ensure!(describe(&feed.recv().await?) == "msg s0-0");
    let stopper = {
        let rt = rt.clone();
        async move {
            rt.sleep(Duration::from_millis(50)).await;
            handle.shutdown();
        }
    };
    // The feed is waiting for a message that never comes when the shutdown arrives.
    let (res, ()) = futures::join!(feed.recv(), stopper);
    ensure!(matches!(res, Err(FeedError::Shutdown)), "{res:?}");
    let start = Instant::now();
    while !log.lock().unwrap().iter().any(|l| l.starts_with("close")) {
        ensure!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            log.lock().unwrap()
        );
        rt.sleep(Duration::from_millis(5)).await;
    }
    ensure!(
        log.lock()
            .unwrap()
            .contains(&"close 0: Some(1000)".to_owned())
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The virtual clock
// ---------------------------------------------------------------------------------------

/// A timer whose clock jumps: every sleep is recorded, advances the clock by its whole
/// length and completes at once. Only for feeds without deadlines that must not fire
/// early (connect timeout off).
#[derive(Debug, Default)]
pub struct VirtualTimer {
    base: Mutex<Option<Instant>>,
    skipped: Mutex<Duration>,
    pub sleeps: Mutex<Vec<Duration>>,
}

#[derive(Debug)]
struct Done;

impl std::future::Future for Done {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

impl Sleep for Done {
    fn reset(self: Pin<&mut Self>, _: Instant) {}
}

impl Timer for VirtualTimer {
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let now = self.now();
        let d = deadline.saturating_duration_since(now);
        self.sleeps.lock().unwrap().push(d);
        *self.skipped.lock().unwrap() += d;
        Box::pin(Done)
    }

    fn now(&self) -> Instant {
        let base = *self.base.lock().unwrap().get_or_insert_with(Instant::now);
        base + *self.skipped.lock().unwrap()
    }
}

fn virtual_runtime(rt: &Runtime) -> (Runtime, Arc<VirtualTimer>) {
    let timer = Arc::new(VirtualTimer::default());
    let vrt = Runtime::new(rt.spawner().clone(), timer.clone(), rt.connector().clone());
    (vrt, timer)
}

/// Against a port that refuses, the delays follow the schedule exactly (no jitter: 100,
/// 200, 400, 800, 800 ms) and the attempt limit ends it; with full jitter each delay is
/// at most its cap.
pub async fn feed_backoff_follows_the_schedule_on_a_virtual_clock(
    rt: Runtime,
) -> anyhow::Result<()> {
    let (vrt, timer) = virtual_runtime(&rt);
    let schedule = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
    let mut feed = Feed::builder(ws(&vrt).connect_timeout(None), [refused_url()])
        .backoff(schedule.jitter(0.0))
        .max_attempts(6)
        .build();
    match feed.recv().await {
        Err(FeedError::GaveUp {
            attempts: 6,
            last: WsError::Io(_),
        }) => {}
        other => bail!("expected to give up after 6, got {other:?}"),
    }
    let ms: Vec<u128> = timer
        .sleeps
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_millis)
        .collect();
    ensure!(ms == [100, 200, 400, 800, 800], "delays {ms:?}");

    let (vrt, timer) = virtual_runtime(&rt);
    let mut feed = Feed::builder(ws(&vrt).connect_timeout(None), [refused_url()])
        .backoff(schedule.jitter(1.0))
        .max_attempts(8)
        .build();
    ensure!(matches!(
        feed.recv().await,
        Err(FeedError::GaveUp { attempts: 8, .. })
    ));
    let sleeps = timer.sleeps.lock().unwrap().clone();
    let caps = [100, 200, 400, 800, 800, 800, 800];
    ensure!(sleeps.len() == caps.len(), "{sleeps:?}");
    for (d, cap) in sleeps.iter().zip(caps) {
        ensure!(
            d.as_millis() <= cap,
            "{d:?} over its cap {cap} ms: {sleeps:?}"
        );
    }
    ensure!(
        sleeps.iter().any(|d| d.as_millis() < 800),
        "full jitter shortens some delays: {sleeps:?}"
    );
    Ok(())
}

/// A 429 with `Retry-After: 3` is retried no sooner than 3 s later on the feed's clock
/// (virtual: the test does not wait), and the gap reported covers it.
pub async fn feed_honours_retry_after_on_429(rt: Runtime) -> anyhow::Result<()> {
    let (vrt, timer) = virtual_runtime(&rt);
    let (addr, _) = feed_server(vec![
        Session::Serve(1, End::Drop),
        Session::Status(429, Some(3)),
        Session::Serve(1, End::Hold),
    ]);
    let mut feed = Feed::builder(ws(&vrt).connect_timeout(None), [format!("ws://{addr}/")])
        .on_connect(counting!(&Arc::new(AtomicUsize::new(0))))
        .backoff(Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).jitter(0.0))
        .build();
    ensure!(describe(&feed.recv().await?) == "connected attempt=1 gap=false");
    ensure!(describe(&feed.recv().await?) == "msg s0-0");
    ensure!(describe(&feed.recv().await?).starts_with("disconnected"));
    match feed.recv().await? {
        FeedEvent::Connected {
            attempt: 2,
            down_for: Some(gap),
            ..
        } => {
            ensure!(gap >= Duration::from_secs(3), "gap {gap:?}");
        }
        other => bail!("expected the second attempt to connect, got {other:?}"),
    }
    let ms: Vec<u128> = timer
        .sleeps
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_millis)
        .collect();
    ensure!(
        ms.first() == Some(&100) && ms.contains(&3000),
        "delays {ms:?}"
    );
    ensure!(describe(&feed.recv().await?) == "msg s2-0");
    Ok(())
}
