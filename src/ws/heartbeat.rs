//! Opt-in heartbeat: a Ping every `interval`, a deadline for its Pong, and an idle
//! deadline for any inbound bytes, driven by the runtime's [`Timer`](crate::rt::Timer).
//!
//! It needs no background task: `recv` polls it whenever it would otherwise wait for the
//! transport, which is exactly when a dead peer would go unnoticed. One `Sleep` is
//! allocated when the stream is built and re-armed in place afterwards.

use std::fmt;
use std::pin::Pin;
use std::task::Context;
use std::time::{Duration, Instant};

use crate::rt::{Runtime, Sleep};

/// Heartbeat settings; see [`WsStreamBuilder::heartbeat`](super::WsStreamBuilder::heartbeat)
/// and [`WsStreamBuilder::idle_timeout`](super::WsStreamBuilder::idle_timeout).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeartbeatConfig {
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) pong_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
}

impl HeartbeatConfig {
    pub(crate) fn is_enabled(&self) -> bool {
        self.ping_interval.is_some() || self.idle_timeout.is_some()
    }
}

/// What the heartbeat wants from the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Nothing to do; the waker is registered for the next deadline.
    Wait,
    /// Send a Ping now.
    Ping,
    /// A deadline passed: the peer is gone.
    Dead(&'static str),
}

/// The heartbeat state of one connection.
pub(crate) struct Heartbeat {
    config: HeartbeatConfig,
    runtime: Runtime,
    sleep: Pin<Box<dyn Sleep>>,
    last_rx: Instant,
    next_ping: Option<Instant>,
    ping_outstanding: Option<Instant>,
}

impl fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heartbeat")
            .field("config", &self.config)
            .field("ping_outstanding", &self.ping_outstanding)
            .finish_non_exhaustive()
    }
}

impl Heartbeat {
    /// A heartbeat, or `None` when the config enables nothing.
    pub(crate) fn new(config: HeartbeatConfig, runtime: &Runtime) -> Option<Self> {
        if !config.is_enabled() {
            return None;
        }
        let now = runtime.now();
        let next_ping = config.ping_interval.map(|i| now + i);
        let first = next_ping
            .into_iter()
            .chain(config.idle_timeout.map(|i| now + i))
            .min()
            .unwrap_or(now);
        Some(Self {
            config,
            runtime: runtime.clone(),
            sleep: runtime.sleep_until(first),
            last_rx: now,
            next_ping,
            ping_outstanding: None,
        })
    }

    /// Bytes arrived from the peer.
    pub(crate) fn on_read(&mut self) {
        self.last_rx = self.runtime.now();
    }

    /// A Pong arrived.
    pub(crate) fn on_pong(&mut self) {
        self.ping_outstanding = None;
    }

    /// Checks the deadlines; registers the waker for the next one when nothing is due.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Beat {
        loop {
            let now = self.runtime.now();
            if let Some(idle) = self.config.idle_timeout
                && now.saturating_duration_since(self.last_rx) >= idle
            {
                return Beat::Dead("idle");
            }
            if let Some(sent) = self.ping_outstanding
                && now.saturating_duration_since(sent) >= self.config.pong_timeout
            {
                return Beat::Dead("heartbeat pong");
            }
            if let (Some(at), Some(interval)) = (self.next_ping, self.config.ping_interval)
                && now >= at
                && self.ping_outstanding.is_none()
            {
                self.ping_outstanding = Some(now);
                self.next_ping = Some(now + interval);
                return Beat::Ping;
            }
            let deadline = self.next_deadline();
            self.sleep.as_mut().reset(deadline);
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Beat::Wait;
            }
        }
    }

    fn next_deadline(&self) -> Instant {
        let idle = self.config.idle_timeout.map(|i| self.last_rx + i);
        let pong = self
            .ping_outstanding
            .map(|sent| sent + self.config.pong_timeout);
        let ping = if self.ping_outstanding.is_none() {
            self.next_ping
        } else {
            None
        };
        [idle, pong, ping]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| self.runtime.now() + Duration::from_secs(3600))
    }
}
