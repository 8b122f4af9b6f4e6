//! Heap held per connection by permessage-deflate, by window bits and context takeover:
//! a compressor and a decompressor after one 4 KiB message each way, measured with a
//! counting allocator (zlib-rs allocates through Rust's allocator).
//!
//! ```text
//! cargo run --release --example deflate_memory --features deflate
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use nexus_async_net::proto::Role;
use nexus_async_net::proto::ws::{DeflateParams, MessageDeflater, MessageInflater};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same layout, as the caller promised.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let message: Vec<u8> = (0..4096u32)
        .map(|i| b"{\"p\":\"64000.1\",\"q\":3}"[(i % 21) as usize])
        .collect();
    println!("| window bits | context takeover | compressor | decompressor | total |");
    println!("|---|---|---|---|---|");
    for bits in [9u8, 12, 15] {
        for takeover in [true, false] {
            let params = DeflateParams {
                server_no_context_takeover: !takeover,
                client_no_context_takeover: !takeover,
                server_max_window_bits: bits,
                client_max_window_bits: bits,
            };
            let before = LIVE.load(Ordering::Relaxed);
            let mut tx = MessageDeflater::new(&params, Role::Server, 6);
            let mut wire = Vec::with_capacity(8192);
            tx.compress(&message, &mut wire);
            let after_tx = LIVE.load(Ordering::Relaxed);
            let mut rx = MessageInflater::new(&params, Role::Client);
            rx.begin();
            rx.push(&wire, 1 << 20).expect("inflate");
            assert_eq!(rx.finish(1 << 20).expect("inflate"), message.as_slice());
            let after_rx = LIVE.load(Ordering::Relaxed);
            // The wire buffer and the inflated message are the connection's buffers, not
            // the codec's: leave them out.
            let codec_rx = after_rx - after_tx - message.len() as isize;
            let codec_tx = after_tx - before - wire.capacity() as isize;
            println!(
                "| {bits} | {} | {:.1} KiB | {:.1} KiB | {:.1} KiB |",
                if takeover { "yes" } else { "no" },
                codec_tx as f64 / 1024.0,
                codec_rx as f64 / 1024.0,
                (codec_tx + codec_rx) as f64 / 1024.0
            );
            drop((tx, rx, wire));
        }
    }
}
