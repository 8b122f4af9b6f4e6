//! Client handshake: parsing an arbitrary server response never panics and only accepts
//! a complete, bounded 101 with an offered subprotocol.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::handshake_response(data));
