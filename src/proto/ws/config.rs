//! Limits and buffer sizes of a WebSocket connection.

/// Smallest read buffer: a maximal control frame (125 bytes + 14 header bytes) must fit.
pub const MIN_READ_BUFFER_CAPACITY: usize = 256;

/// Limits and buffer sizes shared by the [`Decoder`](super::Decoder), the
/// [`Encoder`](super::Encoder), [`Conn`](super::Conn) and the handshake parsers.
///
/// Every limit has a default suited to exchange market-data feeds; lower them for servers
/// with many low-rate clients (each connection owns a read buffer of
/// [`read_buffer_capacity`](Self::read_buffer_capacity) bytes).
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::ws::Config;
///
/// let config = Config::default()
///     .read_buffer_capacity(64 * 1024)
///     .max_message_size(1 << 20)
///     .auto_pong(true);
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    pub(crate) read_buffer_capacity: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) auto_pong: bool,
    pub(crate) write_buffer_capacity: usize,
    pub(crate) max_handshake_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            read_buffer_capacity: 1 << 20,
            max_frame_size: 16 << 20,
            max_message_size: 16 << 20,
            auto_pong: false,
            write_buffer_capacity: 64 << 10,
            max_handshake_size: 8 << 10,
        }
    }
}

impl Config {
    /// Capacity of the fixed receive buffer (default 1 MiB, at least 256 bytes).
    ///
    /// A data frame that fits is delivered straight from this buffer without a copy; a
    /// larger frame, or a fragmented message, is copied into a separate assembly buffer
    /// that grows up to [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub fn read_buffer_capacity(mut self, bytes: usize) -> Self {
        self.read_buffer_capacity = bytes.max(MIN_READ_BUFFER_CAPACITY);
        self
    }

    /// Largest payload accepted in one frame (default 16 MiB); larger frames fail with
    /// close code 1009 before anything is allocated.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Largest message accepted, all fragments together (default 16 MiB); larger messages
    /// fail with close code 1009 as soon as a frame header announces the excess.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Whether [`Conn`](super::Conn) answers every Ping with a Pong by itself (default off).
    ///
    /// At most [`MAX_QUEUED_PONGS`](super::MAX_QUEUED_PONGS) answers wait unsent; beyond
    /// that the newest replaces the last queued (RFC 6455 §5.5.3 allows answering only the
    /// most recent Ping), so a ping flood cannot grow memory.
    #[must_use]
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Initial capacity of the send buffer (default 64 KiB).
    ///
    /// A larger message grows it for that send; once drained, it shrinks back if it grew
    /// past twice this size.
    #[must_use]
    pub fn write_buffer_capacity(mut self, bytes: usize) -> Self {
        self.write_buffer_capacity = bytes;
        self
    }

    /// Largest opening-handshake head accepted (default 8 KiB); a larger head fails with
    /// [`HandshakeError::TooLarge`](super::handshake::HandshakeError::TooLarge) (HTTP 431).
    #[must_use]
    pub fn max_handshake_size(mut self, bytes: usize) -> Self {
        self.max_handshake_size = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_capacity_is_clamped_to_hold_a_control_frame() {
        assert_eq!(
            Config::default()
                .read_buffer_capacity(10)
                .read_buffer_capacity,
            MIN_READ_BUFFER_CAPACITY
        );
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::default();
        assert_eq!(c.read_buffer_capacity, 1 << 20);
        assert_eq!(c.max_frame_size, 16 << 20);
        assert_eq!(c.max_message_size, 16 << 20);
        assert!(!c.auto_pong);
        assert_eq!(c.write_buffer_capacity, 64 << 10);
        assert_eq!(c.max_handshake_size, 8 << 10);
    }
}
