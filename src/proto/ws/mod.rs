//! The sans-IO WebSocket core (RFC 6455).
//!
//! - [`Decoder`]: peer bytes in, [`Message`]s out (framing, unmasking, UTF-8, limits).
//! - [`Encoder`]: messages in, frame bytes out (masking for clients).
//! - [`Receiver`]: the decoder plus the rules that decide what the peer is owed (Close
//!   reply, error Close, auto-pong, heartbeat Pings and deadlines), handed out as [`Owed`].
//! - [`Conn`]: a [`Receiver`] and an [`Encoder`] that encodes what is owed at once.
//! - [`handshake`]: the HTTP/1.1 opening handshake, client and server.
//!
//! No extension is ever negotiated, so the RSV bits must be clear.
//!
//! # Polling order
//!
//! The driver of a connection (the I/O layer, or a test) repeats:
//!
//! 1. **Read**: read transport bytes into [`Decoder::read_buf`] and commit them with
//!    [`Decoder::handle_read`] (or copy them with [`Decoder::handle_input`]); on end of
//!    stream call [`Decoder::handle_eof`].
//! 2. **Advance**: call [`Conn::advance`] until it returns [`Advance::NeedInput`] or
//!    [`Advance::Closed`]. After each [`Advance::Message`], [`Conn::message`] borrows the
//!    message; it stays valid until the next `&mut` call on the connection.
//! 3. **Write**: write [`Conn::pending`] to the transport and report progress with
//!    [`Conn::handle_written`]. `advance` may have queued frames (a Close reply, a Pong, a
//!    Close after a protocol error), so write after advancing, not only after sending.
//! 4. When [`Conn::is_closed`] is true and `pending` is empty, shut the transport down.
//!
//! Sends (`send_*`, `close`) may happen at any point between these steps; each appends a
//! whole frame to the send buffer.
//!
//! # Close state diagram
//!
//! ```text
//!                       we call close()                 peer's Close arrives
//!            ┌──────────────────────────────► CloseSent ───────────────────────┐
//!            │                                                                 ▼
//!          Open ──── peer's Close arrives: Conn encodes the reply ───────► Closed
//!            │       (echoes the peer's code, 1000 if it had none)             ▲
//!            └──── protocol error: Close(1002/1007/1009) encoded, ─────────────┘
//!                  error returned once; or EOF (nothing encoded)
//! ```
//!
//! In `Closed`, [`Decoder::advance`] returns [`Advance::Closed`] forever and bytes that
//! still arrive are discarded; the encoder refuses anything after its Close
//! ([`EncodeError::AfterClose`]). The client side of TCP should be closed by the server
//! first (RFC 6455 §7.1.1); the I/O layer waits for it with a timeout.
//!
//! # Memory
//!
//! The read buffer has a fixed capacity ([`Config::read_buffer_capacity`]); the assembly
//! buffer for fragmented or oversized messages grows only up to
//! [`Config::max_message_size`], and a frame header that announces more is rejected
//! before anything is allocated. In steady state (messages that fit the buffers),
//! receiving and sending do not allocate.

mod close;
mod config;
mod conn;
mod decoder;
#[cfg(feature = "deflate")]
mod deflate;
mod encoder;
mod error;
mod frame;
pub mod handshake;
mod heartbeat;
mod mask;
mod message;
mod prepared;
mod receiver;
mod utf8;

#[cfg(test)]
mod testing;

#[cfg(test)]
mod decoder_tests;

#[cfg(test)]
mod conn_tests;
#[cfg(test)]
mod heartbeat_tests;
#[cfg(test)]
mod receiver_tests;

#[cfg(test)]
mod proptests;

pub use super::Role;
pub use close::{CloseCode, CloseFrame, MAX_CLOSE_REASON};
pub use config::{Config, MIN_READ_BUFFER_CAPACITY};
pub use conn::{CloseState, Conn};
pub use decoder::{Advance, Decoder};
#[cfg(feature = "deflate")]
pub use deflate::{
    Deflate, DeflateError, DeflateParams, InflateError, MAX_WINDOW_BITS, MIN_WINDOW_BITS,
    MessageDeflater, MessageInflater, PERMESSAGE_DEFLATE,
};
pub use encoder::{Encoder, MAX_QUEUED_PONGS};
pub use error::{EncodeError, ProtocolError};
pub use frame::OpCode;
pub use heartbeat::{HeartbeatConfig, HeartbeatTimeout};
pub use message::{Control, MAX_CONTROL_PAYLOAD, Message, OwnedMessage};
pub use prepared::PreparedMessage;
pub use receiver::{HEARTBEAT_PING, Owed, Receiver};
