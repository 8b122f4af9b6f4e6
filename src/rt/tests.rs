//! The seam itself: deadlines, errors, runtime selection, a custom spawner.

use super::*;

#[test]
fn a_huge_duration_saturates_instead_of_overflowing() {
    let now = Instant::now();
    assert!(deadline_after(now, Duration::MAX) > now);
}

#[test]
fn elapsed_converts_to_a_timed_out_io_error() {
    assert_eq!(io::Error::from(Elapsed).kind(), io::ErrorKind::TimedOut);
}

#[test]
fn errors_are_send_sync_and_static() {
    fn assert_err<E: std::error::Error + Send + Sync + 'static>() {}
    assert_err::<SpawnError>();
    assert_err::<Elapsed>();
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Runtime>();
}

/// What `Runtime::current` picks outside tokio, by the features built in.
fn fallback_kind() -> RuntimeKind {
    if cfg!(feature = "smol") {
        RuntimeKind::Smol
    } else if cfg!(feature = "async-std") {
        RuntimeKind::AsyncStd
    } else {
        RuntimeKind::Portable
    }
}

#[cfg(not(feature = "tokio"))]
#[test]
fn current_outside_tokio_picks_the_fallback() {
    assert_eq!(Runtime::current().kind(), fallback_kind());
}

#[cfg(feature = "tokio")]
#[test]
fn current_picks_tokio_inside_tokio_and_the_fallback_outside() {
    assert_eq!(Runtime::current().kind(), fallback_kind());
    let tokio_rt = ::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let kind = tokio_rt.block_on(async { Runtime::current().kind() });
    assert_eq!(kind, RuntimeKind::Tokio);
}

#[derive(Debug)]
struct ThreadPerTask;

impl Spawner for ThreadPerTask {
    fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        std::thread::spawn(move || futures::executor::block_on(fut));
        Ok(())
    }
    fn spawn_local(&self, _: LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::Unsupported)
    }
}

#[test]
fn a_custom_runtime_spawns_through_its_own_spawner_and_reuses_portable_io() {
    let rt = Runtime::new(
        Arc::new(ThreadPerTask),
        Arc::new(portable::PortableTimer::new()),
        Arc::new(portable::PortableConnector::new()),
    );
    assert_eq!(rt.kind(), RuntimeKind::Custom);
    futures::executor::block_on(async {
        testing::spawn_runs(&rt).await;
        testing::connect_sleep_reset(&rt).await;
    });
    assert!(matches!(
        rt.spawn_local(async {}),
        Err(SpawnError::Unsupported)
    ));
}

#[test]
fn timeout_none_never_fires_and_a_short_one_does() {
    let rt = Runtime::portable();
    futures::executor::block_on(async {
        assert_eq!(rt.timeout(None, async { 7 }).await, Ok(7));
        let never = futures::future::pending::<()>();
        assert_eq!(
            rt.timeout(Some(Duration::from_millis(5)), never).await,
            Err(Elapsed)
        );
    });
}
