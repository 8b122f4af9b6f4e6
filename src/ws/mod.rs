//! Async WebSocket client and server over any futures-io transport.
//!
//! - [`WsStreamBuilder`] connects (`ws://`, `wss://`) or accepts (any
//!   `AsyncRead + AsyncWrite` stream, plain or TLS).
//! - [`WsStream`] receives zero-copy [`Message`]s and sends frames; it is also a
//!   `Stream<Item = Result<OwnedMessage, WsError>>` and a `Sink<OwnedMessage>`.
//! - [`WsListener`] ([`WsStreamBuilder::bind`]) accepts and upgrades many clients at
//!   once on any runtime.
//! - [`WsStream::split`] gives a [`WsReader`] and a [`WsWriter`] for two tasks.
//!
//! Everything below runs on any runtime: the examples use `futures::executor::block_on`
//! with the portable default runtime.
//!
//! ```
//! use nexus_async_net::ws::{Message, WsStreamBuilder};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! futures::executor::block_on(async {
//!     // A server on loopback that echoes one message.
//!     let listener = async_net::TcpListener::bind("127.0.0.1:0").await?;
//!     let url = format!("ws://{}/echo", listener.local_addr()?);
//!     let server = async move {
//!         let (sock, _) = listener.accept().await?;
//!         let mut ws = WsStreamBuilder::new().accept(sock).await?;
//!         if let Some(Message::Text(t)) = ws.recv().await? {
//!             let t = t.to_owned();
//!             ws.send_text(&t).await?;
//!         }
//!         while ws.recv().await?.is_some() {}
//!         Ok::<_, Box<dyn std::error::Error>>(())
//!     };
//!     let client = async {
//!         let mut ws = WsStreamBuilder::new().connect(&url).await?;
//!         ws.send_text("hello").await?;
//!         assert!(matches!(ws.recv().await?, Some(Message::Text("hello"))));
//!         ws.close(nexus_async_net::ws::CloseCode::Normal, "bye").await?;
//!         Ok::<_, Box<dyn std::error::Error>>(())
//!     };
//!     let (s, c) = futures::join!(server, client);
//!     s?;
//!     c
//! })
//! # }
//! ```

mod broadcast;
mod builder;
mod driver;
mod error;
mod feed;
mod listener;
mod send;
mod split;
mod stream;

pub use crate::proto::ws::handshake::{HandshakeError, ServerRequest};
pub use crate::proto::ws::{
    CloseCode, CloseFrame, Control, Message, OwnedMessage, PreparedMessage, ProtocolError,
};
pub use broadcast::{Broadcast, Lag, LagPolicy, Subscriber};
pub use builder::{ClientStream, WsStreamBuilder};
pub use error::WsError;
pub use feed::{
    Disconnect, Feed, FeedBuilder, FeedError, FeedEvent, FeedShutdown, FeedStats, NoSubscribe,
    Subscribe, default_backoff,
};
pub use listener::{AcceptError, DEFAULT_MAX_PENDING_HANDSHAKES, ServerStream, WsListener};
pub use split::{WsReader, WsWriter};
pub use stream::WsStream;
