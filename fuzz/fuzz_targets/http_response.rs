//! HTTP/1.1 responses through the REST client's `ResponseReader`: never a panic, bounded memory, the same outcome however the stream is split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::http_response(data));
