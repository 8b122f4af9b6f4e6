//! UTF-8 across fragments and reads: a text message is accepted exactly when
//! `std::str::from_utf8` accepts it, and an invalid one fails as soon as it is invalid.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexus_fuzz::utf8_split(data));
