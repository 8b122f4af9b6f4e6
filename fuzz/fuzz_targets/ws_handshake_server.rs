//! Server handshake: parsing an arbitrary upgrade request never panics; the 101 written
//! for an accepted one has no injected header line; a rejected one maps to 400/426/431.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::handshake_request(data));
