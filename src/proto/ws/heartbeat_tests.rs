//! The heartbeat deadlines, at instants chosen by the test (no sleeping).

use std::time::{Duration, Instant};

use super::heartbeat::{Heartbeat, HeartbeatConfig, HeartbeatTimeout};

fn config(ping: Option<u64>, pong: u64, idle: Option<u64>) -> HeartbeatConfig {
    HeartbeatConfig {
        ping_interval: ping.map(Duration::from_secs),
        pong_timeout: Duration::from_secs(pong),
        idle_timeout: idle.map(Duration::from_secs),
    }
}

#[test]
fn disabled_config_makes_no_heartbeat() {
    assert!(Heartbeat::new(config(None, 5, None), Instant::now()).is_none());
}

#[test]
fn ping_is_due_at_the_interval_and_pong_deadline_follows() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut hb = Heartbeat::new(config(Some(10), 3, None), t0).unwrap();
    assert_eq!(hb.poll_timeout(), Some(t0 + s(10)));
    assert_eq!(hb.handle_timeout(t0 + s(9)), Ok(false));
    assert_eq!(hb.handle_timeout(t0 + s(10)), Ok(true));
    // The Ping is outstanding: only its Pong deadline counts.
    assert_eq!(hb.poll_timeout(), Some(t0 + s(13)));
    assert_eq!(hb.handle_timeout(t0 + s(12)), Ok(false));
    assert_eq!(hb.handle_timeout(t0 + s(13)), Err(HeartbeatTimeout::Pong));
}

#[test]
fn a_pong_clears_the_deadline_and_the_next_ping_is_scheduled() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut hb = Heartbeat::new(config(Some(10), 3, None), t0).unwrap();
    assert_eq!(hb.handle_timeout(t0 + s(10)), Ok(true));
    hb.on_pong();
    assert_eq!(hb.poll_timeout(), Some(t0 + s(20)));
    assert_eq!(hb.handle_timeout(t0 + s(15)), Ok(false));
    assert_eq!(hb.handle_timeout(t0 + s(20)), Ok(true));
}

#[test]
fn idle_deadline_moves_with_every_read() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut hb = Heartbeat::new(config(None, 0, Some(5)), t0).unwrap();
    assert_eq!(hb.poll_timeout(), Some(t0 + s(5)));
    hb.on_read(t0 + s(4));
    assert_eq!(hb.poll_timeout(), Some(t0 + s(9)));
    assert_eq!(hb.handle_timeout(t0 + s(8)), Ok(false));
    assert_eq!(hb.handle_timeout(t0 + s(9)), Err(HeartbeatTimeout::Idle));
    assert_eq!(HeartbeatTimeout::Idle.what(), "idle");
}
