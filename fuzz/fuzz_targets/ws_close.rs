//! Close frames: any payload is delivered as the RFC 6455 §5.5.1/§7.4 oracle says, or
//! fails with 1002/1007.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::close_payload(data));
