//! The sans-IO protocol core.
//!
//! Everything under `proto` is a deterministic state machine: bytes from the peer go in
//! through `handle_*` methods, and bytes to send plus events come out. Nothing here knows
//! about tasks, sockets, clocks or runtimes, so every protocol rule is unit-tested by
//! feeding byte slices, and the same code serves any transport.
//!
//! - [`ws`]: WebSocket (RFC 6455) framing, masking, UTF-8 validation, the close handshake
//!   and the opening handshake.
//! - [`http`]: the HTTP/1.1 client core.
//! - [`proxy`]: the HTTP `CONNECT` and SOCKS5 handshakes.
//! - [`reader`]: the bounds-checked byte cursor the parsers read peer bytes through.

pub(crate) mod buf;
pub mod http;
pub mod proxy;
pub mod reader;
pub mod ws;

/// Which end of a connection this endpoint is.
///
/// It decides masking (RFC 6455 §5.3): a client masks every frame it sends and requires
/// unmasked frames from the server; a server requires masked frames and sends unmasked ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The endpoint that opened the connection.
    Client,
    /// The endpoint that accepted the connection.
    Server,
}
