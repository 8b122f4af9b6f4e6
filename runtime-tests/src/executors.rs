//! The executors the behaviour suite runs on.
//!
//! Each one runs a test future to completion under a 60 s watchdog, so a hung test fails
//! instead of hanging CI, and hands the test the [`Runtime`] the library should use.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use futures::future::{Either, select};
use nexus_async_net::rt::{self, Runtime, SpawnError};

/// How long one behaviour may run before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// An executor the behaviour suite can run on.
pub trait Executor {
    /// Runs `test` to completion and panics with its error, if any.
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static;

    /// Runs a `!Send` test (a `ClientPool` behaviour) on the calling thread, under the
    /// executor's runtime, and panics with its error, if any.
    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>;
}

/// Wraps a test in the watchdog (an async-io timer, which works under every executor).
async fn watched<Fut: Future<Output = anyhow::Result<()>>>(fut: Fut) -> anyhow::Result<()> {
    let timer = async_io::Timer::after(WATCHDOG);
    // Boxed: executors that nest `block_on` wrappers copy the future by value, and the
    // debug-build futures of the bigger behaviours would overflow a test thread's stack.
    match select(Box::pin(fut), timer).await {
        Either::Left((res, _)) => res,
        Either::Right(_) => Err(anyhow::anyhow!(
            "behaviour did not finish within {WATCHDOG:?}"
        )),
    }
}

fn check(res: anyhow::Result<()>) {
    if let Err(e) = res {
        panic!("behaviour failed: {e:?}");
    }
}

/// tokio, multi-thread scheduler: the test runs as a spawned task on a worker thread.
#[derive(Debug)]
pub struct TokioMultiThread;

impl Executor for TokioMultiThread {
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let res = tokio.block_on(async {
            let rt = Runtime::current();
            tokio::spawn(watched(test(rt))).await
        });
        check(res.expect("test task panicked"));
    }

    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        check(tokio.block_on(async { watched(test(Runtime::current())).await }));
    }
}

/// tokio, current-thread scheduler.
#[derive(Debug)]
pub struct TokioCurrentThread;

impl Executor for TokioCurrentThread {
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        check(tokio.block_on(async { watched(test(Runtime::current())).await }));
    }

    /// Inside a `LocalSet`, with `Runtime::tokio_local`: `spawn_local` works here, so a
    /// `ClientPool` heals with local tasks.
    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let local = tokio::task::LocalSet::new();
        check(local.block_on(&tokio, async {
            let rt = Runtime::tokio_local().expect("inside tokio");
            watched(test(rt)).await
        }));
    }
}

/// smol: the test runs on smol's global executor.
#[derive(Debug)]
pub struct Smol;

impl Executor for Smol {
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        check(smol::block_on(smol::spawn(watched(test(Runtime::smol())))));
    }

    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        check(smol::block_on(watched(test(Runtime::smol()))));
    }
}

/// async-std (discontinued upstream, still supported).
#[derive(Debug)]
pub struct AsyncStd;

impl Executor for AsyncStd {
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        check(async_std::task::block_on(async_std::task::spawn(watched(
            test(Runtime::async_std()),
        ))));
    }

    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        check(async_std::task::block_on(watched(test(
            Runtime::async_std(),
        ))));
    }
}

/// A minimal executor written here, knowing nothing of tokio, smol or async-std: it
/// parks the thread until woken, and spawns each background task on a thread of its own.
/// It plugs into the library with [`Runtime::new`] plus the portable timer and connector.
#[derive(Debug)]
pub struct Custom;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future on the current thread, parking between polls.
pub fn park_block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// The custom executor's spawner: one thread per background task.
#[derive(Debug)]
pub struct ThreadSpawner;

impl rt::Spawner for ThreadSpawner {
    fn spawn(&self, fut: rt::BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        thread::Builder::new()
            .name("custom-exec-task".into())
            .spawn(move || park_block_on(fut))
            .map(drop)
            .map_err(|_| SpawnError::Shutdown)
    }

    fn spawn_local(&self, _fut: rt::LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::Unsupported)
    }
}

impl Custom {
    /// The library runtime for this executor.
    pub fn runtime() -> Runtime {
        Runtime::new(
            Arc::new(ThreadSpawner),
            Arc::new(rt::portable::PortableTimer::default()),
            Arc::new(rt::portable::PortableConnector::default()),
        )
    }
}

impl Executor for Custom {
    fn run<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        check(park_block_on(watched(test(Custom::runtime()))));
    }

    fn run_local<F, Fut>(test: F)
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        check(park_block_on(watched(test(Custom::runtime()))));
    }
}
