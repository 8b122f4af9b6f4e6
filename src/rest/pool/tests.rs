use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use super::heal::{Healing, Shared, heal_task};
use super::*;
use crate::rt::Runtime;

/// A loopback listener that accepts and holds connections until the process ends
/// (the pool under test never sends a request).
fn holding_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        let mut held = Vec::new();
        for sock in listener.incoming().flatten() {
            held.push(sock);
            if held.len() >= 64 {
                break;
            }
        }
        // Keep them open while tests run; the thread ends with the test process.
        thread::sleep(Duration::from_secs(120));
    });
    url
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
}

#[test]
fn pools_are_send_and_sync_as_documented() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<AtomicClientPool>();
    send::<AtomicPooledSlot<'static>>();
    send::<ClientSlot>();
    send::<ClientPoolBuilder>();
    send::<AtomicClientPoolBuilder>();
    send::<PoolStats>();
    // Building and acquiring can happen inside spawned (`Send`) tasks.
    fn send_future<F: std::future::Future + Send>(_: F) {}
    send_future(AtomicClientPool::builder().build());
    send_future(ClientPool::builder().build());
    fn acquire_is_send(pool: &AtomicClientPool) {
        send_future(pool.acquire());
    }
    let _ = acquire_is_send;
}

#[test]
fn backoff_grows_to_its_max_and_jitter_only_shortens() {
    let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    let mut d = b.initial();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(d.as_millis());
        d = b.next(d);
    }
    assert_eq!(seen, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(b.jittered(d, 0.0), d);
    assert_eq!(b.jittered(d, 0.5), Duration::from_millis(900));
    let flat = b.multiplier(0.5).jitter(7.0);
    assert_eq!(
        flat.next(b.initial()),
        b.initial(),
        "multiplier clamps to 1"
    );
    assert_eq!(flat.jittered(d, 0.999).as_millis(), 1, "jitter clamps to 1");
    let nan = b.multiplier(f64::NAN).jitter(f64::NAN);
    assert_eq!(nan.next(b.initial()), Duration::from_millis(200));
    assert_eq!(nan.jittered(d, 0.5), d);
    assert_eq!(
        Backoff::new(Duration::from_secs(2), Duration::ZERO).max(),
        Duration::from_secs(2)
    );
}

#[test]
fn healing_tasks_are_send() {
    fn is_send<T: Send>() {}
    is_send::<Healing>();
    is_send::<Shared>();
    fn task_is_send<F: std::future::Future<Output = ()> + Send>(_: fn(Healing) -> F) {}
    task_is_send(heal_task);
}

#[test]
fn random_jitter_stays_within_its_fraction_and_varies() {
    const DRAWS: usize = 10_000;
    let d = Duration::from_millis(1000);
    for jitter in [0.0, 0.2, 0.5, 1.0] {
        let b = Backoff::default().jitter(jitter);
        // `unit` in 0.0..1.0: the wait is in (d * (1 - jitter), d].
        let floor = d.mul_f64(1.0 - jitter);
        let waits: Vec<Duration> = (0..DRAWS).map(|_| b.jittered_at_random(d)).collect();
        assert!(
            waits.iter().all(|w| *w >= floor && *w <= d),
            "jitter {jitter}: a wait outside [{floor:?}, {d:?}]"
        );
        if jitter == 0.0 {
            assert!(waits.iter().all(|w| *w == d), "no jitter, no change");
            continue;
        }
        assert!(
            waits.iter().any(|w| *w > floor),
            "jitter {jitter} reaches the floor only"
        );
        // The mean cut is jitter / 2 of the delay; over 10 000 draws the mean's standard
        // deviation is under 0.3% of it, so 2% is a seven-sigma bound.
        let mean = waits.iter().map(Duration::as_secs_f64).sum::<f64>() / DRAWS as f64;
        let expected = 1.0 - jitter / 2.0;
        assert!(
            (mean - expected).abs() < 0.02,
            "jitter {jitter}: mean wait {mean} s, expected about {expected} s"
        );
        let distinct: std::collections::HashSet<Duration> = waits.iter().copied().collect();
        assert!(
            distinct.len() > DRAWS / 2,
            "jitter {jitter}: waits barely vary"
        );
    }
}

#[test]
fn atomic_pool_never_hands_one_slot_to_two_threads() {
    const SLOTS: usize = 4;
    const THREADS: usize = 8;
    const ROUNDS: usize = 20_000;
    let url = holding_server();
    let pool = tokio_rt().block_on(async {
        AtomicClientPool::builder()
            .url(&url)
            .connections(SLOTS)
            .runtime(Runtime::tokio().expect("inside tokio"))
            .build()
            .await
            .expect("build")
    });
    let pool = Arc::new(pool);
    let in_use: Arc<Vec<AtomicBool>> =
        Arc::new((0..SLOTS).map(|_| AtomicBool::new(false)).collect());
    let acquired = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (pool, in_use, acquired) = (pool.clone(), in_use.clone(), acquired.clone());
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let Some(slot) = pool.try_acquire() else {
                        thread::yield_now();
                        continue;
                    };
                    let flag = &in_use[slot.id()];
                    assert!(
                        !flag.swap(true, Ordering::AcqRel),
                        "slot {} handed out twice",
                        slot.id()
                    );
                    acquired.fetch_add(1, Ordering::Relaxed);
                    std::hint::spin_loop();
                    flag.store(false, Ordering::Release);
                    drop(slot);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker panicked");
    }
    assert!(
        acquired.load(Ordering::Relaxed) > ROUNDS,
        "threads did share the pool"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.idle, stats.in_use, stats.healing),
        (SLOTS, 0, 0),
        "{stats:?}"
    );
}

#[test]
fn local_pool_recipe_sequence_compiles_and_slots_return_on_drop() {
    let url = holding_server();
    let rt = tokio_rt();
    rt.block_on(async {
        let pool = ClientPool::builder()
            .url(&url)
            .base_path("/api/v3")
            .default_header("X-MBX-APIKEY", "key")
            .expect("header")
            .connections(2)
            .write_buffer_capacity(1024)
            .response_buffer_capacity(1024)
            .max_body_size(1 << 20)
            .runtime(Runtime::tokio().expect("inside tokio"))
            .build()
            .await
            .expect("build");
        assert_eq!(pool.healing_mode(), HealingMode::Spawned);
        let mut slot = pool.try_acquire().expect("slot");
        let s = &mut *slot;
        let req = s.writer.get("/ticker").finish().expect("request");
        assert!(
            req.as_bytes()
                .starts_with(b"GET /api/v3/ticker HTTP/1.1\r\n")
        );
        let (conn, reader) = s.conn_and_reader().expect("connection");
        assert!(conn.is_reusable() && reader.buffer_capacity() >= 1024);
        drop(req);
        assert_eq!(pool.available(), 1);
        drop(slot);
        assert_eq!(pool.available(), 2);
        pool.close().await;
    });
}

#[test]
fn the_acquire_future_stays_small() {
    // Inline healing's connect future is boxed, so waiting callers do not carry it.
    let url = holding_server();
    tokio_rt().block_on(async {
        let pool = ClientPool::builder()
            .url(&url)
            .build()
            .await
            .expect("build");
        let size = std::mem::size_of_val(&pool.acquire());
        assert!(size <= 512, "acquire future is {size} bytes");
    });
}
