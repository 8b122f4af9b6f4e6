//! The heartbeat rules, without a clock: a Ping every interval, a deadline for its Pong,
//! and an idle deadline for inbound bytes.
//!
//! The caller supplies the time (`now`) with every event and asks
//! [`Receiver::poll_timeout`](super::Receiver::poll_timeout) when to come back; the state
//! here only compares instants, so it is tested without sleeping.

use std::time::{Duration, Instant};

/// Heartbeat settings: a Ping every `ping_interval` with `pong_timeout` for its Pong, and
/// an `idle_timeout` for any inbound bytes. Both are off by default.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nexus_async_net::proto::ws::HeartbeatConfig;
///
/// let mut hb = HeartbeatConfig::default();
/// hb.ping_interval = Some(Duration::from_secs(15));
/// hb.pong_timeout = Duration::from_secs(5);
/// assert!(hb.is_enabled());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeartbeatConfig {
    /// Send a Ping when this long has passed since the last one (none: no pings).
    pub ping_interval: Option<Duration>,
    /// How long the peer has to answer a heartbeat Ping.
    pub pong_timeout: Duration,
    /// Give up when nothing at all arrives for this long (none: no idle deadline).
    pub idle_timeout: Option<Duration>,
}

impl HeartbeatConfig {
    /// Whether any deadline is set.
    pub fn is_enabled(&self) -> bool {
        self.ping_interval.is_some() || self.idle_timeout.is_some()
    }
}

/// A heartbeat deadline passed: the peer is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeartbeatTimeout {
    /// Nothing arrived for the idle timeout.
    Idle,
    /// The Pong for a heartbeat Ping did not arrive within the pong timeout.
    Pong,
}

impl HeartbeatTimeout {
    /// A short name for error texts (`"idle"`, `"heartbeat pong"`).
    pub fn what(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Pong => "heartbeat pong",
        }
    }
}

/// The heartbeat state of one connection.
#[derive(Debug, Clone)]
pub(crate) struct Heartbeat {
    config: HeartbeatConfig,
    last_rx: Instant,
    next_ping: Option<Instant>,
    ping_outstanding: Option<Instant>,
}

impl Heartbeat {
    /// A heartbeat starting at `now`, or `None` when the config enables nothing.
    pub(crate) fn new(config: HeartbeatConfig, now: Instant) -> Option<Self> {
        config.is_enabled().then(|| Self {
            config,
            last_rx: now,
            next_ping: config.ping_interval.map(|i| now + i),
            ping_outstanding: None,
        })
    }

    /// Bytes arrived from the peer at `now`.
    pub(crate) fn on_read(&mut self, now: Instant) {
        self.last_rx = now;
    }

    /// A Pong arrived.
    pub(crate) fn on_pong(&mut self) {
        self.ping_outstanding = None;
    }

    /// Applies the deadlines at `now`: `Ok(true)` when a Ping is due now (it is then
    /// outstanding), `Ok(false)` when nothing is due.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Result<bool, HeartbeatTimeout> {
        if let Some(idle) = self.config.idle_timeout
            && now.saturating_duration_since(self.last_rx) >= idle
        {
            return Err(HeartbeatTimeout::Idle);
        }
        if let Some(sent) = self.ping_outstanding
            && now.saturating_duration_since(sent) >= self.config.pong_timeout
        {
            return Err(HeartbeatTimeout::Pong);
        }
        if let (Some(at), Some(interval)) = (self.next_ping, self.config.ping_interval)
            && now >= at
            && self.ping_outstanding.is_none()
        {
            self.ping_outstanding = Some(now);
            self.next_ping = Some(now + interval);
            return Ok(true);
        }
        Ok(false)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let idle = self.config.idle_timeout.map(|i| self.last_rx + i);
        let pong = self
            .ping_outstanding
            .map(|sent| sent + self.config.pong_timeout);
        let ping = self.next_ping.filter(|_| self.ping_outstanding.is_none());
        [idle, pong, ping].into_iter().flatten().min()
    }
}
