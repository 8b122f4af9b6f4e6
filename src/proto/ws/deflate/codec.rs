//! permessage-deflate's per-message codec (RFC 7692 §7.2), sans-IO: [`MessageDeflater`]
//! and [`MessageInflater`] over flate2's raw deflate streams (zlib-rs backend).
//!
//! - Compressing ends each message with a sync flush and strips its `00 00 ff ff` tail;
//!   inflating appends the tail back (§7.2.1, §7.2.2).
//! - No context takeover resets the stream after each message.
//! - Inflating is bounded while it runs: output past the limit is an error before it is
//!   produced (a small message that would inflate to gigabytes stops at the limit).
//! - A final block (`BFINAL=1`) ends the stream: the inflater resets and goes on with
//!   what follows, and every turn of its loop must consume input or produce output, so no
//!   input makes it spin.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::{DeflateParams, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::proto::Role;

/// The tail a sync flush ends with, stripped on the wire (§7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grows by at most this much per step, so a bomb stops within one step of the
/// limit.
const STEP: usize = 16 * 1024;

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// It inflates to more than the limit (close with 1009).
    #[error("the inflated message exceeds {0} bytes")]
    TooBig(usize),
    /// The deflate data is corrupt (close with 1007: invalid payload data).
    #[error("corrupt deflate data")]
    Corrupt,
}

fn window(bits: u8) -> u8 {
    bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS)
}

/// Compresses the messages one end sends.
pub struct MessageDeflater {
    z: Compress,
    reset_each: bool,
}

impl std::fmt::Debug for MessageDeflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageDeflater")
            .field("reset_each", &self.reset_each)
            .finish_non_exhaustive()
    }
}

impl MessageDeflater {
    /// The compressor for `role`'s side of `params`, at `level` (0..=9).
    pub fn new(params: &DeflateParams, role: Role, level: u8) -> Self {
        let (bits, reset_each) = match role {
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
            ),
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
        };
        Self {
            z: Compress::new_with_window_bits(
                Compression::new(u32::from(level.min(9))),
                false,
                window(bits),
            ),
            reset_each,
        }
    }

    /// Appends `payload` compressed to `out`, without the `00 00 ff ff` tail.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        let mut input = payload;
        loop {
            out.reserve(input.len() / 2 + 64);
            let before_in = self.z.total_in();
            // Cannot fail on a valid stream; stop rather than loop if it ever did.
            if self
                .z
                .compress_vec(input, out, FlushCompress::Sync)
                .is_err()
            {
                break;
            }
            let consumed = usize::try_from(self.z.total_in() - before_in).unwrap_or(usize::MAX);
            input = input.get(consumed..).unwrap_or(&[]);
            // Done when all input went in and the flush had room to complete.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.len() >= start + TAIL.len() && out[out.len() - TAIL.len()..] == TAIL {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == start {
            // zlib writes no second flush marker right after one (an empty message with
            // context takeover): send the empty block `00` (§7.2.3.6), so the peer's
            // appended tail still closes a block instead of being misread as one.
            out.push(0x00);
        }
        if self.reset_each {
            self.z.reset();
        }
    }
}

/// Inflates the compressed messages one end receives, into a reused buffer.
pub struct MessageInflater {
    z: Decompress,
    reset_each: bool,
    out: Vec<u8>,
}

impl std::fmt::Debug for MessageInflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageInflater")
            .field("reset_each", &self.reset_each)
            .field("buffered", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl MessageInflater {
    /// The decompressor for what the *other* end of `params` sends (`role` is ours).
    pub fn new(params: &DeflateParams, role: Role) -> Self {
        let (bits, reset_each) = match role {
            Role::Client => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
            Role::Server => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
            ),
        };
        Self {
            // The peer's window, at least 9: a window reads any smaller one (an 8-bit
            // stream with 9), and a small one saves memory.
            z: Decompress::new_with_window_bits(false, window(bits)),
            reset_each,
            out: Vec::new(),
        }
    }

    /// Starts a message: the output buffer is emptied (its capacity is kept).
    pub fn begin(&mut self) {
        self.out.clear();
    }

    /// Inflates the next part of the message (a frame's payload).
    ///
    /// # Errors
    ///
    /// [`InflateError::TooBig`] once the output would pass `max` bytes,
    /// [`InflateError::Corrupt`] for invalid data.
    pub fn push(&mut self, input: &[u8], max: usize) -> Result<(), InflateError> {
        self.inflate(input, max)
    }

    /// Ends the message (appends the stripped tail) and returns it inflated. With no
    /// context takeover the stream is reset for the next message.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push).
    pub fn finish(&mut self, max: usize) -> Result<&[u8], InflateError> {
        let res = self.inflate(&TAIL, max);
        if self.reset_each || res.is_err() {
            self.z.reset(false);
        }
        res.map(|()| self.out.as_slice())
    }

    /// The inflated bytes so far.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    fn inflate(&mut self, mut input: &[u8], max: usize) -> Result<(), InflateError> {
        loop {
            let len = self.out.len();
            if len > max {
                return Err(InflateError::TooBig(max));
            }
            // At most one step past what is there, never past the limit + 1 (to tell
            // "exactly the limit" from "over it"): memory stays bounded by the limit.
            let room = STEP.min(max + 1 - len);
            let want = len + room;
            if want > self.out.capacity() {
                let grown = (self.out.capacity() * 2).max(want).min(max + 1);
                self.out.reserve_exact(grown - len);
            }
            self.out.resize(want, 0);
            let before_in = self.z.total_in();
            let before_out = self.z.total_out();
            let status = self
                .z
                .decompress(input, &mut self.out[len..], FlushDecompress::Sync);
            let consumed = usize::try_from(self.z.total_in() - before_in).unwrap_or(usize::MAX);
            let produced = usize::try_from(self.z.total_out() - before_out).unwrap_or(0);
            self.out.truncate(len + produced.min(room));
            input = input.get(consumed..).unwrap_or(&[]);
            match status {
                Err(_) => return Err(InflateError::Corrupt),
                Ok(Status::StreamEnd) => {
                    // BFINAL: this deflate stream is over; a new one may follow.
                    self.z.reset(false);
                    if input.is_empty() || input == TAIL {
                        return self.check(max);
                    }
                }
                Ok(_) => {}
            }
            self.check(max)?;
            if input.is_empty() && produced < room {
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                // No progress: done if nothing is left, else the data is bad.
                return if input.is_empty() {
                    Ok(())
                } else {
                    Err(InflateError::Corrupt)
                };
            }
        }
    }

    fn check(&self, max: usize) -> Result<(), InflateError> {
        if self.out.len() > max {
            Err(InflateError::TooBig(max))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreed(no_takeover: bool, bits: u8) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: no_takeover,
            client_no_context_takeover: no_takeover,
            server_max_window_bits: bits,
            client_max_window_bits: bits,
        }
    }

    fn roundtrip(params: &DeflateParams, messages: &[Vec<u8>]) {
        let mut tx = MessageDeflater::new(params, Role::Server, 6);
        let mut rx = MessageInflater::new(params, Role::Client);
        for m in messages {
            let mut wire = Vec::new();
            tx.compress(m, &mut wire);
            assert!(!wire.ends_with(&TAIL), "the tail is stripped");
            rx.begin();
            // Split the compressed message across "frames" at an odd size.
            for part in wire.chunks(7) {
                rx.push(part, 1 << 20).unwrap();
            }
            assert_eq!(rx.finish(1 << 20).unwrap(), m.as_slice());
        }
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover_at_every_window() {
        let trade = br#"{"e":"trade","s":"BTCUSDT","p":"64000.10","q":"0.010"}"#.to_vec();
        let book: Vec<u8> = (0..8000u32)
            .map(|i| b"0123456789,[]"[(i % 13) as usize])
            .collect();
        let messages = vec![trade.clone(), trade.clone(), book, Vec::new(), trade];
        for bits in [9, 12, 15] {
            for no_takeover in [false, true] {
                roundtrip(&agreed(no_takeover, bits), &messages);
            }
        }
    }

    #[test]
    fn context_takeover_makes_a_repeated_message_smaller() {
        let m = br#"{"e":"trade","s":"BTCUSDT","p":"64000.10","q":"0.010","T":1733600000000}"#;
        let sizes = |no_takeover| {
            let mut tx = MessageDeflater::new(&agreed(no_takeover, 15), Role::Client, 6);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            tx.compress(m, &mut a);
            tx.compress(m, &mut b);
            (a.len(), b.len())
        };
        let (first, second) = sizes(false);
        assert!(second < first / 2, "{first} then {second}");
        let (first, second) = sizes(true);
        assert_eq!(first, second, "reset after each message");
    }

    #[test]
    fn a_bomb_stops_at_the_limit_with_bounded_memory() {
        // 16 MiB of zeros compress to a few KiB.
        let zeros = vec![0u8; 16 << 20];
        let mut wire = Vec::new();
        MessageDeflater::new(&agreed(false, 15), Role::Client, 9).compress(&zeros, &mut wire);
        assert!(wire.len() < 32 * 1024, "{}", wire.len());
        let mut rx = MessageInflater::new(&agreed(false, 15), Role::Server);
        rx.begin();
        let limit = 1 << 20;
        let err = rx.push(&wire, limit).unwrap_err();
        assert_eq!(err, InflateError::TooBig(limit));
        assert!(
            rx.out.capacity() <= limit + 1,
            "buffer grew to {}",
            rx.out.capacity()
        );
    }

    #[test]
    fn corrupt_and_final_block_inputs_end_without_spinning() {
        let mut rx = MessageInflater::new(&agreed(false, 15), Role::Server);
        // A final (BFINAL=1) fixed-Huffman block, as a hostile peer sent a library into a
        // spin with: it must end, whatever it decodes to.
        rx.begin();
        let _ = rx.push(&[0xc2, 0x02, 0x03, 0x80], 1 << 20);
        let _ = rx.finish(1 << 20);
        // Garbage: a typed error.
        let mut rx = MessageInflater::new(&agreed(false, 15), Role::Server);
        rx.begin();
        let res = rx
            .push(&[0xff; 64], 1 << 20)
            .and_then(|()| rx.finish(1 << 20).map(|_| ()));
        assert_eq!(res, Err(InflateError::Corrupt));
        // A BFINAL stream followed by a new one in the same message is read through.
        let mut first = Vec::with_capacity(64);
        let mut z = Compress::new_with_window_bits(Compression::default(), false, 15);
        z.compress_vec(b"hello ", &mut first, FlushCompress::Finish)
            .unwrap();
        let mut second = Vec::with_capacity(64);
        let mut z = Compress::new_with_window_bits(Compression::default(), false, 15);
        z.compress_vec(b"world", &mut second, FlushCompress::Sync)
            .unwrap();
        second.truncate(second.len() - TAIL.len());
        let mut rx = MessageInflater::new(&agreed(false, 15), Role::Server);
        rx.begin();
        rx.push(&[first, second].concat(), 1 << 20).unwrap();
        assert_eq!(rx.finish(1 << 20).unwrap(), b"hello world");
    }

    #[test]
    fn after_warm_up_inflating_reuses_its_buffer() {
        let params = agreed(false, 15);
        let mut tx = MessageDeflater::new(&params, Role::Client, 6);
        let mut rx = MessageInflater::new(&params, Role::Server);
        let m = vec![b'a'; 4000];
        let mut wire = Vec::new();
        tx.compress(&m, &mut wire);
        rx.begin();
        rx.push(&wire, 1 << 20).unwrap();
        rx.finish(1 << 20).unwrap();
        let cap = rx.out.capacity();
        for _ in 0..100 {
            wire.clear();
            tx.compress(&m, &mut wire);
            rx.begin();
            rx.push(&wire, 1 << 20).unwrap();
            assert_eq!(rx.finish(1 << 20).unwrap().len(), 4000);
        }
        assert_eq!(rx.out.capacity(), cap, "the output buffer is reused");
    }
}
