//! `trace!`: the crate's `tracing` events, compiled out without the `tracing` feature.
//!
//! Targets and levels (documented in `docs/tracing.md`):
//!
//! | target | level | events |
//! |---|---|---|
//! | `nexus_async_net::connect` | debug | TCP connected, proxy tunnel open, TLS handshake done, connect failed |
//! | `nexus_async_net::ws` | debug | WebSocket handshake done, close sent (code, reason) |
//! | `nexus_async_net::feed` | info / warn / debug | feed connected, disconnected (reason), connect failed, backoff |
//! | `nexus_async_net::pool` | debug / warn | a slot healed, a reconnect failed |
//!
//! Nothing is emitted per message.

/// `trace!(level, target, fields…, message)`: a `tracing::level!` event with the target,
/// or nothing at all when the feature is off (the arguments are not evaluated).
macro_rules! trace {
    ($level:ident, $target:expr, $($rest:tt)+) => {
        #[cfg(feature = "tracing")]
        {
            ::tracing::$level!(target: $target, $($rest)+);
        }
    };
}
