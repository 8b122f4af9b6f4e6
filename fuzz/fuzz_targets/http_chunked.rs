//! HTTP/1.1 chunked bodies through `BodyDecoder`: never a panic, never past the body limit, the same bytes however the stream is split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::http_chunked(data));
