//! Frame decoding in the client role: arbitrary bytes in arbitrary splits never
//! panic, respect the limits, and decode the same however they are split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexus_async_net::proto::Role;

fuzz_target!(|data: &[u8]| nexus_fuzz::frames(Role::Client, data));
