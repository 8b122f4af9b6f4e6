//! Allocation and memory-bound proofs, with a counting global allocator (dhat in testing
//! mode). Everything runs on this one thread over an in-memory transport, so no other
//! thread's allocations are counted; the scenarios run in sequence inside one test because
//! the allocator is global.

use futures::executor::block_on;
use nexus_async_net::ws::{Message, WsStreamBuilder};
use runtime_tests::mem::{MemStream, quiet_runtime, upgrade_request};
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
    // A 2^63-byte claim, then fragments summing past the limit. (The ping flood against a
    // peer that never reads runs over real sockets in the behaviour suite.)
    let mut claim = upgrade_request();
    claim.extend_from_slice(&[0x82, 0xFF]);
    claim.extend_from_slice(&(1u64 << 62).to_be_bytes());
    claim.extend_from_slice(&[0; 4]);

    let mut fragments = upgrade_request();
    fragments.extend(masked(false, 0x2, &vec![1u8; 60_000]));
    for _ in 0..40 {
        fragments.extend(masked(false, 0x0, &vec![1u8; 60_000]));
    }

    let base = dhat::HeapStats::get().curr_bytes;
    for (name, wire, auto_pong) in [("claim", claim, false), ("fragments", fragments, false)] {
        let wire_len = wire.len();
        block_on(async {
            let mut io = MemStream::new(wire, 16 * 1024);
            io.stalled = name == "pings";
            let mut ws = server()
                .auto_pong(auto_pong)
                .accept(io)
                .await
                .expect("accept");
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

#[test]
fn allocation_and_memory_bounds() {
    let _profiler = dhat::Profiler::builder().testing().build();
    hostile_inputs_stay_within_buffer_plus_message_limit();
    steady_state_recv_and_send_allocate_nothing();
}
