//! Replays the committed inputs through the fuzz harness on a stable compiler, so CI checks
//! them without cargo-fuzz: `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! - `fuzz/seeds/<target>/`: the hand-made seed vectors (written by `fuzz/seeds.py`);
//! - `fuzz/regressions/<target>/`: every (minimised) crashing input ever found, kept so the
//!   bug stays fixed.

use std::path::Path;

use nexus_async_net::proto::Role;

/// Runs `check` on every file of `seeds/<target>` and `regressions/<target>`; returns how
/// many inputs it saw.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let data = std::fs::read(&path).expect("readable input");
            eprintln!("{}", path.display());
            check(&data);
            seen += 1;
        }
    }
    seen
}

#[test]
fn client_role_frame_inputs_replay_without_findings() {
    assert!(replay("ws_frame_client", |d| nexus_fuzz::frames(Role::Client, d)) > 0);
}

#[test]
fn server_role_frame_inputs_replay_without_findings() {
    assert!(replay("ws_frame_server", |d| nexus_fuzz::frames(Role::Server, d)) > 0);
}

#[test]
fn handshake_responses_replay_without_findings() {
    assert!(replay("ws_handshake_client", nexus_fuzz::handshake_response) > 0);
}

#[test]
fn handshake_requests_replay_without_findings() {
    assert!(replay("ws_handshake_server", nexus_fuzz::handshake_request) > 0);
}

#[test]
fn close_payloads_replay_without_findings() {
    assert!(replay("ws_close", nexus_fuzz::close_payload) > 0);
}

#[test]
fn fragmented_text_inputs_replay_without_findings() {
    assert!(replay("utf8_split", nexus_fuzz::utf8_split) > 0);
}

#[test]
fn http_responses_replay_without_findings() {
    assert!(replay("http_response", nexus_fuzz::http_response) > 0);
}

#[test]
fn chunked_bodies_replay_without_findings() {
    assert!(replay("http_chunked", nexus_fuzz::http_chunked) > 0);
}
