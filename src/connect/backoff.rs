//! [`Backoff`]: the one reconnect schedule, used by the pools' healing and by the
//! supervised WebSocket [`Feed`](crate::ws::Feed).

use std::time::Duration;

/// Reconnect delays: the first retry after `initial`, each next one `multiplier` times
/// longer up to `max`, each shortened by a random fraction up to `jitter` so that slots
/// (and clients) do not reconnect in lockstep.
///
/// The first attempt after a connection dies starts at once. Default: 100 ms initial,
/// 5 s max, multiplier 2, jitter 0.2.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    multiplier: f64,
    jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

impl Backoff {
    /// Delays from `initial` doubling up to `max` (`max` below `initial` is raised to it).
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }

    /// Growth factor per failed attempt (clamped to 1.0..=16.0).
    pub fn multiplier(mut self, m: f64) -> Self {
        self.multiplier = if m.is_finite() {
            m.clamp(1.0, 16.0)
        } else {
            2.0
        };
        self
    }

    /// Fraction of each delay that may be cut at random (clamped to 0.0..=1.0; 0 turns
    /// jitter off).
    pub fn jitter(mut self, j: f64) -> Self {
        self.jitter = if j.is_finite() {
            j.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// The delay after the first failed attempt.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The delay that follows `d`.
    pub(crate) fn next(&self, d: Duration) -> Duration {
        Duration::try_from_secs_f64(d.as_secs_f64() * self.multiplier)
            .map_or(self.max, |next| next.min(self.max))
    }

    /// `d` shortened by `jitter * unit` (`unit` in `0.0..1.0`).
    pub(crate) fn jittered(&self, d: Duration, unit: f64) -> Duration {
        d.mul_f64(1.0 - self.jitter * unit)
    }

    /// `d` shortened by a random fraction of at most `jitter`: in `(d * (1 - jitter), d]`.
    /// The unit comes from `rand`'s thread-local generator (enough to spread reconnects;
    /// not for anything secret).
    pub(crate) fn jittered_at_random(&self, d: Duration) -> Duration {
        self.jittered(d, rand::random::<f64>())
    }
}
