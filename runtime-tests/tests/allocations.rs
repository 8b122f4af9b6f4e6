//! Allocation and memory-bound proofs, with a counting global allocator (dhat in testing
//! mode): WebSocket recv/send and REST requests over in-memory transports, and pool
//! acquire/release (over idle loopback connections, no I/O while measured). Measurements
//! run on this one thread while no other thread of the process is active; the scenarios
//! run in sequence inside one test because the allocator is global.

use futures::executor::block_on;
use nexus_async_net::rest::{
    AtomicClientPool, ClientPool, HttpConnection, RequestWriter, ResponseReader,
};
use nexus_async_net::rt::Runtime;
use nexus_async_net::tls::MaybeTls;
use nexus_async_net::ws::{Message, WsStreamBuilder};
use runtime_tests::mem::{MemHttpServer, MemStream, quiet_runtime, upgrade_request};
use runtime_tests::servers::frame;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const BUFFER: usize = 64 * 1024;
const MAX_MESSAGE: usize = 1 << 20;
/// Room for everything that is not a buffer: the stream, handshake scratch, test vectors.
const SLACK: usize = 256 * 1024;

fn server() -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(quiet_runtime())
        .buffer_capacity(BUFFER)
        .max_message_size(MAX_MESSAGE)
}

fn masked(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    frame(fin, op, payload, Some([0x11, 0x22, 0x33, 0x44]))
}

fn hostile_inputs_stay_within_buffer_plus_message_limit() {
    // A 2^63-byte claim, fragments summing past the limit, and a ping flood against a peer
    // that never reads.
    let mut claim = upgrade_request();
    claim.extend_from_slice(&[0x82, 0xFF]);
    claim.extend_from_slice(&(1u64 << 62).to_be_bytes());
    claim.extend_from_slice(&[0; 4]);

    let mut fragments = upgrade_request();
    fragments.extend(masked(false, 0x2, &vec![1u8; 60_000]));
    for _ in 0..40 {
        fragments.extend(masked(false, 0x0, &vec![1u8; 60_000]));
    }

    // A ping flood (auto-pong on) against a peer that never reads: the pongs cannot be
    // written, so they must be coalesced, not queued.
    let mut pings = upgrade_request();
    for i in 0..20_000u32 {
        pings.extend(masked(true, 0x9, &[(i % 251) as u8; 125]));
    }
    pings.extend(masked(true, 0x1, b"end"));

    let base = dhat::HeapStats::get().curr_bytes;
    for (name, wire, auto_pong) in [
        ("claim", claim, false),
        ("fragments", fragments, false),
        ("pings", pings, true),
    ] {
        let wire_len = wire.len();
        block_on(async {
            let io = MemStream::new(wire, 16 * 1024);
            let mut ws = server()
                .auto_pong(auto_pong)
                .accept(io)
                .await
                .expect("accept");
            // The peer stops reading once the handshake is done.
            if let MaybeTls::Plain(io) = ws.get_mut() {
                io.stalled = name == "pings";
            }
            loop {
                let msg = match ws.recv().await {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("{name}: ended with {e}");
                        break;
                    }
                };
                // The stalled peer never takes our close: stop at its last message.
                if matches!(msg, Message::Text("end")) {
                    break;
                }
            }
        });
        let peak = dhat::HeapStats::get().max_bytes;
        let bound = base + wire_len + BUFFER + MAX_MESSAGE + SLACK;
        assert!(
            peak <= bound,
            "{name}: peak {peak} bytes over bound {bound}"
        );
    }
}

fn steady_state_recv_and_send_allocate_nothing() {
    const WARM: usize = 2_000;
    const MEASURED: usize = 5_000;
    let mut wire = upgrade_request();
    for i in 0..(WARM + MEASURED) {
        if i % 2 == 0 {
            wire.extend(masked(true, 0x2, &[7u8; 128]));
        } else {
            wire.extend(masked(true, 0x1, &[b'q'; 40]));
        }
    }
    block_on(async {
        let io = MemStream::new(wire, 1460);
        let mut ws = server().accept(io).await.expect("accept");
        for _ in 0..WARM {
            ws.recv().await.expect("recv").expect("message");
            ws.send_binary(&[1u8; 128]).await.expect("send");
        }
        let before = dhat::HeapStats::get().total_blocks;
        let mut bytes = 0;
        for _ in 0..MEASURED {
            match ws.recv().await.expect("recv") {
                Some(Message::Binary(b)) => bytes += b.len(),
                Some(Message::Text(t)) => bytes += t.len(),
                other => panic!("unexpected {other:?}"),
            }
            ws.send_binary(&[1u8; 128]).await.expect("send");
            ws.send_text("{\"op\":\"order\"}").await.expect("send");
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert!(bytes > 0);
        assert_eq!(
            after - before,
            0,
            "allocations in {MEASURED} recv + 2 sends each"
        );
    });
}

/// One order entry request and its response, checked.
async fn order(
    conn: &mut HttpConnection<MemHttpServer>,
    writer: &mut RequestWriter,
    reader: &mut ResponseReader,
    i: usize,
) {
    let side: &[u8] = if i.is_multiple_of(2) {
        b"{\"side\":\"BUY\"}"
    } else {
        b"{\"side\":\"SELL\"}"
    };
    let req = writer
        .post("/order")
        .query("symbol", "BTCUSDT")
        .header("Content-Type", "application/json")
        .body(side)
        .finish()
        .expect("request");
    let resp = conn.send(req, reader).await.expect("send");
    assert_eq!((resp.status(), resp.body().len()), (200, 28));
}

fn steady_state_rest_requests_allocate_nothing() {
    const WARM: usize = 200;
    const MEASURED: usize = 2_000;
    static RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{\"orderId\":1,\"status\":\"NEW\"}";
    block_on(async {
        let mut conn = HttpConnection::from_stream(MemHttpServer::new(RESPONSE));
        let mut writer = RequestWriter::new("api.example.com").expect("writer");
        writer.set_base_path("/api/v3").expect("base path");
        writer.default_header("X-API-KEY", "key").expect("header");
        let mut reader = ResponseReader::new(4096);
        for i in 0..WARM {
            order(&mut conn, &mut writer, &mut reader, i).await;
        }
        let before = dhat::HeapStats::get().total_blocks;
        for i in 0..MEASURED {
            order(&mut conn, &mut writer, &mut reader, i).await;
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert_eq!(conn.stream().requests, WARM + MEASURED);
        assert_eq!(after - before, 0, "allocations in {MEASURED} REST requests");
    });
}

fn pool_acquire_and_release_allocate_nothing() {
    const MEASURED: usize = 10_000;
    // A loopback listener that accepts and holds the pool's connections; its thread is
    // blocked in `accept` while the measurement runs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    // The thread must be done accepting (and growing nothing) before the measurement: a
    // late accept pushing into a growing Vec was one stray allocation on a loaded machine.
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::with_capacity(4);
        for conn in listener.incoming().take(4) {
            held.push(conn);
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(held);
    });
    block_on(async {
        let rt = Runtime::portable();
        let local = ClientPool::builder()
            .url(&url)
            .connections(2)
            .runtime(rt.clone())
            .build()
            .await
            .expect("local pool");
        let shared = AtomicClientPool::builder()
            .url(&url)
            .connections(2)
            .runtime(rt)
            .build()
            .await
            .expect("atomic pool");
        for _ in 0..100 {
            drop(local.try_acquire().expect("slot"));
            drop(shared.acquire().await.expect("slot"));
        }
        while accepted.load(std::sync::atomic::Ordering::SeqCst) < 4 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let before = dhat::HeapStats::get().total_blocks;
        for _ in 0..MEASURED {
            drop(local.try_acquire().expect("slot"));
            drop(local.acquire().await.expect("slot"));
            drop(shared.try_acquire().expect("slot"));
            drop(shared.acquire().await.expect("slot"));
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert_eq!(
            after - before,
            0,
            "allocations in {MEASURED} x 4 acquire + release"
        );
    });
}

#[test]
fn allocation_and_memory_bounds() {
    let _profiler = dhat::Profiler::builder().testing().build();
    hostile_inputs_stay_within_buffer_plus_message_limit();
    steady_state_recv_and_send_allocate_nothing();
    steady_state_rest_requests_allocate_nothing();
    pool_acquire_and_release_allocate_nothing();
}
