//! ClientPool and AtomicClientPool against a loopback server that can be killed,
//! restarted and switched into failure modes.
//!
//! Each behaviour is generic over the pool ([`TestPool`]) and runs for both pools on every
//! executor (`pool_suite!`), on the executor's calling thread (`Executor::run_local`,
//! since `ClientPool` is `!Send`). Heal times are printed (`--nocapture` shows them).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ops::DerefMut;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use futures::future::{Either, select};
use nexus_async_net::rest::{
    AtomicClientPool, AtomicClientPoolBuilder, Backoff, ClientPool, ClientPoolBuilder, ClientSlot,
    HealingMode, PoolStats, RestError,
};
use nexus_async_net::rt::{self, Runtime};

// A timer whose sleeps never end: a pool on it can only be woken by notification.
use crate::mem::NeverTimer;
use crate::servers::yield_now;

// ---------------------------------------------------------------------------------------
// The two pools behind one interface
// ---------------------------------------------------------------------------------------

/// What the behaviours need from a pool.
pub trait TestPool: Sized {
    type Slot<'a>: DerefMut<Target = ClientSlot>
    where
        Self: 'a;
    const NAME: &'static str;
    /// The pool's own `builder()`, as the one builder type both pools convert from.
    fn builder() -> ClientPoolBuilder;
    fn build(b: ClientPoolBuilder) -> impl Future<Output = Result<Self, RestError>>;
    fn try_acquire(&self) -> Option<Self::Slot<'_>>;
    fn acquire(&self) -> impl Future<Output = Result<Self::Slot<'_>, RestError>>;
    fn stats(&self) -> PoolStats;
    fn healing_mode(&self) -> HealingMode;
    fn close(self) -> impl Future<Output = ()>;
    fn maintain(&self) -> impl Future<Output = usize>;
}

macro_rules! test_pool {
    ($pool:ident, $builder:ident, $slot:ident) => {
        impl TestPool for $pool {
            type Slot<'a> = nexus_async_net::rest::$slot<'a>;
            const NAME: &'static str = stringify!($pool);
            fn builder() -> ClientPoolBuilder {
                $pool::builder().into()
            }
            async fn build(b: ClientPoolBuilder) -> Result<Self, RestError> {
                $builder::from(b).build().await
            }
            fn try_acquire(&self) -> Option<Self::Slot<'_>> {
                $pool::try_acquire(self)
            }
            async fn acquire(&self) -> Result<Self::Slot<'_>, RestError> {
                $pool::acquire(self).await
            }
            fn stats(&self) -> PoolStats {
                $pool::stats(self)
            }
            fn healing_mode(&self) -> HealingMode {
                $pool::healing_mode(self)
            }
            async fn close(self) {
                $pool::close(self).await
            }
            async fn maintain(&self) -> usize {
                $pool::maintain(self).await
            }
        }
    };
}
test_pool!(ClientPool, ClientPoolBuilder, PooledSlot);
test_pool!(AtomicClientPool, AtomicClientPoolBuilder, AtomicPooledSlot);

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

/// How the server treats requests (switchable while it runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// `200 OK`, keep-alive, body `ok`.
    Ok = 0,
    /// Every 3rd response (over all connections) carries `Connection: close`, then closes.
    CloseEveryThird = 1,
    /// Half a response, then RST.
    ResetMidResponse = 2,
    /// Accept, then close at once (before reading anything).
    AcceptThenClose = 3,
    /// Read the request and never answer.
    BlackHole = 4,
}

#[derive(Default)]
struct State {
    mode: AtomicU8,
    accepted: AtomicUsize,
    responses: AtomicUsize,
    stop: AtomicBool,
    /// Clones of every live connection by id, so `kill` can shut them all.
    conns: Mutex<Vec<(usize, TcpStream)>>,
}

/// A loopback HTTP/1.1 server that can be killed (listener and every connection closed)
/// and restarted on the same port. Stops by itself when dropped.
pub struct PoolServer {
    port: u16,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl PoolServer {
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let mut server = Self {
            port,
            state: Arc::new(State::default()),
            acceptor: None,
        };
        server.listen(listener);
        Ok(server)
    }

    fn listen(&mut self, listener: TcpListener) {
        self.state.stop.store(false, Ordering::SeqCst);
        let state = self.state.clone();
        self.acceptor = Some(thread::spawn(move || {
            for sock in listener.incoming() {
                if state.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(sock) = sock else { continue };
                let id = state.accepted.fetch_add(1, Ordering::SeqCst);
                if state.mode.load(Ordering::SeqCst) == Mode::AcceptThenClose as u8 {
                    let _ = sock.shutdown(Shutdown::Both);
                    continue;
                }
                if let (Ok(clone), Ok(mut conns)) = (sock.try_clone(), state.conns.lock()) {
                    conns.push((id, clone));
                }
                let state = state.clone();
                thread::spawn(move || {
                    serve(sock, &state);
                    if let Ok(mut conns) = state.conns.lock() {
                        conns.retain(|(i, _)| *i != id);
                    }
                });
            }
        }));
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every connection.
    pub fn kill(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = acceptor.join();
        }
        if let Ok(mut conns) = self.state.conns.lock() {
            for (_, sock) in conns.drain(..) {
                let _ = sock.shutdown(Shutdown::Both);
            }
        }
    }

    /// Listens on the same port again.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let mut last = None;
        for _ in 0..50 {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(listener) => {
                    self.listen(listener);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            thread::sleep(Duration::from_millis(20));
        }
        bail!("cannot rebind port {}: {last:?}", self.port)
    }
}

impl Drop for PoolServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn serve(mut sock: TcpStream, state: &State) {
    let _ = sock.set_nodelay(true);
    while read_request(&mut sock) {
        let ok = match state.mode.load(Ordering::SeqCst) {
            m if m == Mode::CloseEveryThird as u8 => {
                let n = state.responses.fetch_add(1, Ordering::SeqCst) + 1;
                if n.is_multiple_of(3) {
                    let _ = sock.write_all(
                        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
                    );
                    let _ = sock.shutdown(Shutdown::Both);
                    return;
                }
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
            m if m == Mode::ResetMidResponse as u8 => {
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf");
                thread::sleep(Duration::from_millis(20));
                let sock = socket2::Socket::from(sock);
                let _ = sock.set_linger(Some(Duration::ZERO));
                return;
            }
            m if m == Mode::BlackHole as u8 => {
                // Until the client (or `kill`) closes the connection.
                let _ = sock.read(&mut [0u8; 1]);
                return;
            }
            _ => {
                state.responses.fetch_add(1, Ordering::SeqCst);
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        };
        if ok.is_err() {
            return;
        }
    }
}

/// Reads one bodiless request head; false at EOF or on error.
fn read_request(sock: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn builder<P: TestPool>(server: &PoolServer, rt: &Runtime, n: usize) -> ClientPoolBuilder {
    P::builder()
        .url(&server.url())
        .connections(n)
        .disable_nagle()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(10))
        .backoff(Backoff::new(
            Duration::from_millis(20),
            Duration::from_millis(200),
        ))
        .runtime(rt.clone())
}

/// One GET on the slot; the status on success.
async fn get(slot: &mut ClientSlot) -> Result<u16, RestError> {
    let req = slot.writer.get("/ping").finish()?;
    let (conn, reader) = slot.conn_and_reader()?;
    let resp = conn.send(req, reader).await?;
    Ok(resp.status())
}

/// Acquires (waiting) and sends one GET.
async fn request<P: TestPool>(pool: &P) -> Result<u16, RestError> {
    let mut slot = pool.acquire().await?;
    get(&mut slot).await
}

/// Polls `cond` every 5 ms until it holds; errors after 20 s.
async fn wait_for(rt: &Runtime, what: &str, mut cond: impl FnMut() -> bool) -> anyhow::Result<()> {
    let start = Instant::now();
    while !cond() {
        ensure!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        rt.sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Takes every slot out at once (so each is used once, whatever LIFO would pick).
fn take_all<P: TestPool>(pool: &P) -> Vec<P::Slot<'_>> {
    std::iter::from_fn(|| pool.try_acquire()).collect()
}

// ---------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------

pub async fn build_opens_every_slot_and_try_acquire_is_lifo<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 4)).await?;
    // The kernel completes connects before the server thread counts its accepts.
    wait_for(&rt, "4 accepts", || server.accepted() == 4).await?;
    let s = pool.stats();
    ensure!(
        (s.connections, s.idle, s.in_use, s.healing) == (4, 4, 0, 0),
        "{s:?}"
    );
    let mut all = take_all(&pool);
    ensure!(all.len() == 4 && pool.try_acquire().is_none(), "a 5th slot");
    let mut ids: Vec<usize> = all.iter().map(|s| s.id()).collect();
    ids.sort_unstable();
    ensure!(ids == [0, 1, 2, 3], "ids {ids:?}");
    ensure!(pool.stats().in_use == 4, "{:?}", pool.stats());
    for slot in &mut all {
        ensure!(get(slot).await? == 200);
    }
    // Last returned, first handed out.
    let last = all.pop().context("slot")?.id();
    let before = all.pop().context("slot")?.id();
    ensure!(pool.try_acquire().map(|s| s.id()) == Some(before), "LIFO");
    drop(all);
    ensure!(
        last != before && pool.stats().idle == 4,
        "{:?}",
        pool.stats()
    );
    ensure!(
        server.accepted() == 4,
        "no reconnects: {}",
        server.accepted()
    );
    Ok(())
}

pub async fn server_killed_and_restarted_heals_every_slot<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let mut server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 4)).await?;
    server.kill();
    // Every idle connection is dead; each one fails on use and goes to healing.
    for mut slot in take_all(&pool) {
        let err = get(&mut slot)
            .await
            .err()
            .context("request on a dead server")?;
        ensure!(err.is_transport(), "{err:?}");
    }
    wait_for(&rt, "failed reconnects", || {
        pool.stats().failed_connects >= 4
    })
    .await?;
    ensure!(pool.stats().healing == 4, "{:?}", pool.stats());
    let restarted = Instant::now();
    server.restart()?;
    wait_for(&rt, "all slots healed", || pool.stats().idle == 4).await?;
    eprintln!(
        "[{}] 4 slots healed {:?} after the restart",
        P::NAME,
        restarted.elapsed()
    );
    for mut slot in take_all(&pool) {
        ensure!(get(&mut slot).await? == 200);
    }
    ensure!(pool.stats().reconnects == 4, "{:?}", pool.stats());
    Ok(())
}

pub async fn accept_then_close_is_a_typed_error_and_the_slot_heals<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    // TCP connects succeed, but the server closes every connection at once.
    server.set_mode(Mode::AcceptThenClose);
    let pool = P::build(builder::<P>(&server, &rt, 1)).await?;
    for _ in 0..3 {
        let err = request(&pool).await.err().context("closed connection")?;
        ensure!(err.is_transport(), "{err:?}");
    }
    server.set_mode(Mode::Ok);
    // The slot may hold one more connection made while the server was still closing them.
    let mut answered = 0;
    for _ in 0..5 {
        answered += usize::from(request(&pool).await.is_ok());
    }
    ensure!(
        answered >= 4,
        "pool recovered: {answered}/5, {:?}",
        pool.stats()
    );
    ensure!(pool.stats().reconnects >= 3, "{:?}", pool.stats());
    Ok(())
}

pub async fn reset_mid_response_poisons_and_the_slot_heals<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 2)).await?;
    server.set_mode(Mode::ResetMidResponse);
    for mut slot in take_all(&pool) {
        match get(&mut slot).await {
            Err(RestError::Io(_) | RestError::ConnectionClosed(_)) => {}
            other => bail!("expected a transport error, got {other:?}"),
        }
        ensure!(slot.needs_reconnect(), "poisoned");
    }
    server.set_mode(Mode::Ok);
    wait_for(&rt, "slots healed", || pool.stats().idle == 2).await?;
    ensure!(request(&pool).await? == 200);
    ensure!(pool.stats().reconnects == 2, "{:?}", pool.stats());
    Ok(())
}

pub async fn black_hole_gives_read_timeout_and_the_slot_heals<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let b = builder::<P>(&server, &rt, 1).read_timeout(Duration::from_millis(150));
    let pool = P::build(b).await?;
    server.set_mode(Mode::BlackHole);
    match request(&pool).await {
        Err(RestError::ReadTimeout) => {}
        other => bail!("expected ReadTimeout, got {other:?}"),
    }
    server.set_mode(Mode::Ok);
    ensure!(request(&pool).await? == 200, "healed slot answers");
    ensure!(pool.stats().reconnects == 1, "{:?}", pool.stats());
    Ok(())
}

pub async fn connection_close_every_third_response_never_reaches_the_caller<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 2)).await?;
    server.set_mode(Mode::CloseEveryThird);
    for i in 0..30 {
        let status = request(&pool)
            .await
            .with_context(|| format!("request {i}: {:?}", pool.stats()))?;
        ensure!(status == 200);
    }
    // Responses 3, 6, ..., 30 closed their connections: ten replacements, the last ones
    // possibly still connecting when the loop ends.
    wait_for(&rt, "healing done", || pool.stats().healing == 0).await?;
    let s = pool.stats();
    ensure!(s.reconnects == 10 && s.failed_connects == 0, "{s:?}");
    Ok(())
}

pub async fn all_slots_poisoned_at_once_heal_concurrently<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 4)).await?;
    server.set_mode(Mode::BlackHole);
    {
        let mut all = take_all(&pool);
        for slot in &mut all {
            // Cancel the request midway: the connection is poisoned.
            let send = pin!(get(slot));
            let timer = rt.sleep(Duration::from_millis(20));
            ensure!(
                matches!(select(send, timer).await, Either::Right(_)),
                "no answer"
            );
        }
        ensure!(all.iter().all(|s| s.needs_reconnect()), "poisoned");
    }
    server.set_mode(Mode::Ok);
    let start = Instant::now();
    wait_for(&rt, "all slots healed", || pool.stats().idle == 4).await?;
    eprintln!(
        "[{}] 4 poisoned slots healed in {:?}",
        P::NAME,
        start.elapsed()
    );
    for mut slot in take_all(&pool) {
        ensure!(get(&mut slot).await? == 200);
    }
    Ok(())
}

pub async fn dropping_the_pool_stops_healing<P: TestPool>(rt: Runtime) -> anyhow::Result<()> {
    let mut server = PoolServer::start()?;
    let pool = P::build(builder::<P>(&server, &rt, 2)).await?;
    server.kill();
    for mut slot in take_all(&pool) {
        ensure!(get(&mut slot).await.is_err());
    }
    wait_for(&rt, "healing under way", || {
        pool.stats().failed_connects >= 2
    })
    .await?;
    drop(pool);
    server.restart()?;
    let accepted = server.accepted();
    // Longer than the backoff's max (200 ms): a live healing task would have connected.
    rt.sleep(Duration::from_millis(600)).await;
    ensure!(
        server.accepted() == accepted,
        "healing went on after the drop: {} connects",
        server.accepted() - accepted
    );
    Ok(())
}

pub async fn returned_slots_wake_waiting_acquires_with_no_timer<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    // Timers never fire on this runtime: only release notifications can wake acquire.
    let frozen = Runtime::new(
        rt.spawner().clone(),
        Arc::new(NeverTimer),
        rt.connector().clone(),
    );
    let pool = P::build(
        P::builder()
            .url(&server.url())
            .connections(2)
            .runtime(frozen)
            .acquire_timeout(Duration::from_secs(3600)),
    )
    .await?;
    let held = take_all(&pool);
    ensure!(held.len() == 2, "two slots");
    let waiter = || async {
        let slot = pool.acquire().await?;
        let id = slot.id();
        // Keep it until both waiters are served, so each needs its own slot.
        Ok::<_, RestError>((id, slot))
    };
    let releaser = async move {
        // Let both waiters register first.
        for _ in 0..3 {
            yield_now().await;
        }
        // Two releases back to back, before either waiter runs: each must wake one.
        drop(held);
    };
    let (a, b, ()) = futures::join!(waiter(), waiter(), releaser);
    let (a, b) = (a?.0, b?.0);
    ensure!(a != b, "each waiter got its own slot: {a} {b}");
    Ok(())
}

pub async fn acquire_times_out_with_a_typed_error<P: TestPool>(rt: Runtime) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let b = builder::<P>(&server, &rt, 1).acquire_timeout(Duration::from_millis(100));
    let pool = P::build(b).await?;
    let _held = pool.try_acquire().context("slot")?;
    match pool.acquire().await {
        Err(RestError::AcquireTimeout) => Ok(()),
        other => bail!("expected AcquireTimeout, got {:?}", other.map(|s| s.id())),
    }
}

pub async fn without_a_spawner_acquire_heals_inline<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let no_spawner = Runtime::new(
        Arc::new(rt::portable::NoSpawner::default()),
        rt.timer().clone(),
        rt.connector().clone(),
    );
    let pool = P::build(builder::<P>(&server, &no_spawner, 1)).await?;
    ensure!(
        pool.healing_mode() == HealingMode::Inline,
        "{:?}",
        pool.healing_mode()
    );
    server.set_mode(Mode::ResetMidResponse);
    ensure!(request(&pool).await.is_err());
    ensure!(pool.try_acquire().is_none(), "the only slot is dead");
    server.set_mode(Mode::Ok);
    ensure!(request(&pool).await? == 200, "acquire reconnected it");
    ensure!(pool.stats().reconnects == 1, "{:?}", pool.stats());
    // A caller that only uses try_acquire heals with maintain().
    server.set_mode(Mode::ResetMidResponse);
    ensure!(request(&pool).await.is_err());
    server.set_mode(Mode::Ok);
    ensure!(pool.try_acquire().is_none(), "dead again");
    ensure!(P::maintain(&pool).await == 1, "maintain healed it");
    let mut slot = pool.try_acquire().context("healed slot")?;
    ensure!(get(&mut slot).await? == 200);
    ensure!(pool.stats().reconnects == 2, "{:?}", pool.stats());
    Ok(())
}

pub async fn idle_timeout_replaces_an_unused_connection<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    let b = builder::<P>(&server, &rt, 1).idle_timeout(Duration::from_millis(50));
    let pool = P::build(b).await?;
    ensure!(request(&pool).await? == 200);
    rt.sleep(Duration::from_millis(120)).await;
    // Meeting the idle slot sends it to healing. (`try_acquire` may still return it if
    // the healing task reconnected in between: on a multi-thread executor it can.)
    drop(pool.try_acquire());
    wait_for(&rt, "the idle slot replaced", || {
        pool.stats().reconnects == 1
    })
    .await?;
    ensure!(request(&pool).await? == 200, "a fresh connection");
    wait_for(&rt, "a second accept", || server.accepted() == 2).await?;
    ensure!(pool.stats().reconnects == 1, "{:?}", pool.stats());
    Ok(())
}

pub async fn pool_over_tls_with_a_custom_ca_closes_gracefully<P: TestPool>(
    rt: Runtime,
) -> anyhow::Result<()> {
    let (server, client) = crate::rest::test_pki()?;
    let port = crate::rest::tls_server(server, 2)?;
    let pool = P::build(
        P::builder()
            .url(&format!("https://127.0.0.1:{port}"))
            .tls(&client)
            .connections(2)
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(5))
            .runtime(rt),
    )
    .await?;
    for mut slot in take_all(&pool) {
        ensure!(
            slot.conn.as_ref().is_some_and(|c| c.stream().is_tls()),
            "TLS"
        );
        ensure!(get(&mut slot).await? == 200);
    }
    ensure!(pool.stats().idle == 2, "{:?}", pool.stats());
    P::close(pool).await;
    Ok(())
}

pub async fn bad_options_fail_before_connecting<P: TestPool>(rt: Runtime) -> anyhow::Result<()> {
    let server = PoolServer::start()?;
    ensure!(
        P::builder()
            .default_header("X-Key", "a\r\nInjected: 1")
            .is_err(),
        "CRLF"
    );
    for b in [
        builder::<P>(&server, &rt, 0),
        P::builder().runtime(rt.clone()),
        builder::<P>(&server, &rt, 1).url("ftp://127.0.0.1"),
        builder::<P>(&server, &rt, 1).base_path("/with space"),
    ] {
        ensure!(P::build(b).await.is_err(), "bad options accepted");
    }
    ensure!(server.accepted() == 0, "connected anyway");
    // A refused port is a typed error.
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let b = P::builder()
        .url(&format!("http://127.0.0.1:{refused}"))
        .runtime(rt.clone());
    match P::build(b).await {
        Err(RestError::Io(_)) => Ok(()),
        other => bail!("expected an I/O error, got {:?}", other.err()),
    }
}

/// `AtomicClientPool` shared by tasks spawned on the executor (on several threads where
/// the executor has them): every request succeeds and no slot is ever held twice.
pub async fn atomic_pool_is_shared_by_concurrent_tasks(rt: Runtime) -> anyhow::Result<()> {
    const TASKS: usize = 8;
    const REQUESTS: usize = 25;
    let server = PoolServer::start()?;
    let pool =
        Arc::new(AtomicClientPool::build(builder::<AtomicClientPool>(&server, &rt, 2)).await?);
    let held: Arc<[AtomicBool; 2]> = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let (tx, mut rx) = crate::servers::report();
    for _ in 0..TASKS {
        let (pool, held, tx) = (pool.clone(), held.clone(), tx.clone());
        rt.spawn(async move {
            let mut result = Ok(());
            for _ in 0..REQUESTS {
                let one = async {
                    let mut slot = pool.acquire().await?;
                    let flag = &held[slot.id()];
                    ensure!(
                        !flag.swap(true, Ordering::SeqCst),
                        "slot {} held twice",
                        slot.id()
                    );
                    let status = get(&mut slot).await;
                    flag.store(false, Ordering::SeqCst);
                    ensure!(status? == 200, "status");
                    Ok(())
                };
                if let Err(e) = one.await {
                    result = Err(e);
                    break;
                }
            }
            tx.send(result);
        })?;
    }
    for _ in 0..TASKS {
        rx.recv().await??;
    }
    let s = pool.stats();
    ensure!((s.idle, s.in_use, s.healing) == (2, 0, 0), "{s:?}");
    ensure!(
        server.accepted() == 2,
        "no reconnects: {}",
        server.accepted()
    );
    Ok(())
}

/// Through an HTTP `CONNECT` proxy (scripted, and tinyproxy) and a SOCKS5 one
/// (microsocks), the pool opens its connections, and after the server dies and comes
/// back it heals every slot through the proxy again (the proxy refusing or dropping
/// the tunnel meanwhile is one more failed connect).
pub async fn heals_every_slot_through_a_proxy<P: TestPool>(rt: Runtime) -> anyhow::Result<()> {
    use crate::proxy::{Flavor, RealProxy, TestProxy};
    use nexus_async_net::connect::Proxy;
    let scripted = TestProxy::start(Flavor::Connect {
        auth: None,
        coalesce: false,
    });
    let tiny = RealProxy::tinyproxy(None)?;
    let socks = RealProxy::microsocks(None)?;
    for via in [
        Proxy::http(&scripted.url("http", None))?,
        Proxy::http(&format!("http://127.0.0.1:{}", tiny.port))?,
        Proxy::socks5(&format!("socks5://127.0.0.1:{}", socks.port))?,
    ] {
        let mut server = PoolServer::start()?;
        let pool = P::build(builder::<P>(&server, &rt, 2).proxy(via.clone())).await?;
        for mut slot in take_all(&pool) {
            ensure!(get(&mut slot).await? == 200, "through {via:?}");
        }
        server.kill();
        for mut slot in take_all(&pool) {
            ensure!(get(&mut slot).await.is_err(), "a request on a dead server");
        }
        wait_for(&rt, "failed reconnects", || {
            pool.stats().failed_connects >= 2
        })
        .await?;
        server.restart()?;
        wait_for(&rt, "slots healed through the proxy", || {
            pool.stats().idle == 2
        })
        .await?;
        for mut slot in take_all(&pool) {
            ensure!(get(&mut slot).await? == 200, "healed through {via:?}");
        }
        ensure!(pool.stats().reconnects == 2, "{:?}", pool.stats());
        // The server only ever saw the proxy: 2 first connections and 2 healed ones.
        ensure!(server.accepted() == 4, "accepted {}", server.accepted());
    }
    ensure!(scripted.tunnels().len() >= 4, "{:?}", scripted.log.lines());
    Ok(())
}
