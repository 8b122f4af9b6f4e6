//! [`WsStreamBuilder`]: options, `connect(url)` and `accept(stream)`.

use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt, AsyncWriteExt};

use crate::connect::{
    self, ConnectOptions, DEFAULT_ACCEPT_TIMEOUT, DEFAULT_CLOSE_TIMEOUT, Target, connect_setters,
};
use crate::proto::Role;
use crate::proto::ws::handshake::{self, ClientHandshake, HandshakeError};
use crate::proto::ws::{Config, Conn};
use crate::rt::{Runtime, TcpStream};
use crate::tls::MaybeTls;

use super::driver::StreamOptions;
use super::{WsError, WsStream};
use crate::proto::ws::HeartbeatConfig;

/// Setters that hand their value to the embedded `proto::ws::Config` (defaults and
/// clamping live there, once).
macro_rules! config_setters {
    ($($(#[$doc:meta])* $name:ident => $method:ident($ty:ty);)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.config = self.config.$method(value);
                self
            }
        )*
    };
}

/// A client connection made by [`WsStreamBuilder::connect`]: TCP, with TLS for `wss://`.
pub type ClientStream = WsStream<MaybeTls<TcpStream>>;

/// Handshake reads are capped so that bytes read past the head always fit the (empty)
/// frame read buffer.
const HANDSHAKE_READ: usize = 256;

/// Builds WebSocket connections: client side with [`connect`](Self::connect), server side
/// with [`accept`](Self::accept).
///
/// ```no_run
/// use nexus_async_net::ws::{Message, WsStreamBuilder};
/// use std::time::Duration;
/// # async fn run() -> Result<(), nexus_async_net::ws::WsError> {
/// let mut ws = WsStreamBuilder::new()
///     .disable_nagle()
///     .buffer_capacity(1 << 20)
///     .max_message_size(16 << 20)
///     .connect_timeout(Duration::from_secs(3))
///     .connect("wss://stream.example.com/ws")
///     .await?;
/// ws.send_text(r#"{"op":"subscribe"}"#).await?;
/// while let Some(msg) = ws.recv().await? {
///     if let Message::Text(json) = msg { println!("{json}") }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WsStreamBuilder {
    /// Buffer sizes and limits, with the defaults and clamping of [`Config`].
    config: Config,
    /// Set explicitly; otherwise the message limit.
    max_frame_size: Option<usize>,
    connect: ConnectOptions,
    accept_timeout: Option<Duration>,
    close_timeout: Duration,
    headers: Vec<(String, String)>,
    subprotocols: Vec<String>,
    heartbeat: HeartbeatConfig,
}

impl Default for WsStreamBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WsStreamBuilder {
    /// A builder with the defaults: 1 MiB read buffer, 16 MiB messages, Nagle on, 5 s
    /// connect timeout, 10 s accept timeout, 5 s close timeout, auto-pong off, no heartbeat.
    /// Every timeout and its default is listed in one place:
    /// [`connect`](crate::connect#timeouts-and-their-defaults).
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            max_frame_size: None,
            connect: ConnectOptions::default(),
            accept_timeout: Some(DEFAULT_ACCEPT_TIMEOUT),
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            headers: Vec::new(),
            subprotocols: Vec::new(),
            heartbeat: HeartbeatConfig::default(),
        }
    }

    connect_setters! {
        connect;
        /// Deadline for the whole of `connect`: DNS, TCP, TLS and the upgrade (default
        /// [`DEFAULT_CONNECT_TIMEOUT`](crate::connect::DEFAULT_CONNECT_TIMEOUT); `None`: no
        /// deadline). `connect_with` applies it to the upgrade.
        connect_timeout;
        /// The runtime for connecting and timers. Default: [`Runtime::current`].
        runtime;
    }

    config_setters! {
        /// Read buffer size per connection (default 1 MiB, minimum 256 bytes). Unfragmented
        /// messages that fit are delivered without a copy; larger ones stream into the message
        /// buffer.
        ///
        /// For many mostly idle, low-rate connections use 1 KiB, with a 256-byte write buffer:
        /// `.buffer_capacity(1024).write_buffer_capacity(256)` keeps each connection at about
        /// 2.7 kB resident. A 4 KiB buffer is worse than it looks: it comes from the malloc
        /// heap, where the zero fill makes all of it resident. Keep the default for busy feeds:
        /// a small buffer costs throughput (more reads, larger messages copied). See
        /// `docs/decisions/idle-connection-memory.md`.
        ///
        /// ```
        /// use nexus_async_net::ws::WsStreamBuilder;
        ///
        /// // Thousands of quiet connections.
        /// let idle = WsStreamBuilder::new()
        ///     .buffer_capacity(1024)
        ///     .write_buffer_capacity(256);
        /// # drop(idle);
        /// ```
        buffer_capacity => read_buffer_capacity(usize);
        /// Largest message accepted from the peer (default 16 MiB); a larger one closes the
        /// connection with 1009 before it is buffered.
        max_message_size => max_message_size(usize);
        /// Initial write buffer size (default 64 KiB). Larger sends grow it; it shrinks back.
        write_buffer_capacity => write_buffer_capacity(usize);
        /// Largest opening-handshake head accepted (default 8 KiB).
        max_handshake_size => max_handshake_size(usize);
        /// Answers every Ping with a Pong automatically (also across split halves). Off by
        /// default; pings are delivered to `recv` either way.
        auto_pong => auto_pong(bool);
    }

    /// Largest single frame accepted from the peer (default: the message limit).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = Some(bytes);
        self
    }

    /// Sends a Ping every `interval` of the connection's life and fails `recv` with
    /// [`WsError::Timeout`] when its Pong does not arrive within `pong_timeout`. Driven by
    /// the runtime's timer from inside `recv` (and the split reader): no background task.
    /// Off by default.
    pub fn heartbeat(mut self, interval: Duration, pong_timeout: Duration) -> Self {
        self.heartbeat.ping_interval = Some(interval);
        self.heartbeat.pong_timeout = pong_timeout;
        self
    }

    /// Fails `recv` with [`WsError::Timeout`] when nothing at all arrives for `timeout`
    /// (detects half-open connections). Off by default.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat.idle_timeout = Some(timeout);
        self
    }

    /// Deadline for the whole of `accept`: TLS and the upgrade request (default
    /// [`DEFAULT_ACCEPT_TIMEOUT`](crate::connect::DEFAULT_ACCEPT_TIMEOUT), 10 s), so a
    /// client that never finishes its handshake cannot hold a connection. `None`: no
    /// deadline.
    pub fn accept_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.accept_timeout = timeout.into();
        self
    }

    /// How long `close` waits for the peer's Close (default 5 s).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Adds a header to the client's upgrade request (auth tokens, cookies, origin).
    /// Values with CR, LF or NUL are rejected when connecting.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Offers a subprotocol (client) or supports one (server, first match in the client's
    /// order of preference wins).
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Connects to a `ws://` or `wss://` URL and performs the opening handshake.
    ///
    /// # Errors
    ///
    /// [`WsError::InvalidUrl`], [`WsError::Io`] (DNS, TCP), [`WsError::Tls`],
    /// [`WsError::Handshake`] (the server refused the upgrade), [`WsError::Timeout`] when
    /// `connect_timeout` passed.
    pub async fn connect(self, url: &str) -> Result<ClientStream, WsError> {
        let target = Target::parse_ws(url)?;
        let ws = connect::connect_then(&self.connect, &target, |io, rt| {
            self.client_handshake(io, &target, rt)
        })
        .await;
        #[cfg(feature = "tracing")]
        match &ws {
            Ok(_) => {
                trace!(
                    debug,
                    "nexus_async_net::ws", url, "WebSocket handshake done"
                );
            }
            Err(e) => {
                trace!(debug, "nexus_async_net::ws", url, error = %e, "WebSocket connect failed");
            }
        }
        ws
    }

    /// Performs the client handshake over a transport the caller already connected (and
    /// wrapped in TLS, if needed). `url` supplies the Host header and the path.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn connect_with<S>(self, stream: S, url: &str) -> Result<WsStream<S>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let target = Target::parse_ws(url)?;
        let rt = self.connect.runtime_or_current();
        match rt
            .timeout(
                self.connect.connect_timeout,
                self.client_handshake(stream, &target, rt.clone()),
            )
            .await
        {
            Ok(res) => res,
            Err(_) => Err(WsError::Timeout("connect")),
        }
    }

    /// Server side: accepts the upgrade on an accepted connection (any futures-io stream;
    /// a tokio socket goes in as `rt::TcpStream::from_tokio(sock)`). When the builder has a
    /// TLS config with a server side, the TLS handshake runs first.
    ///
    /// A bad upgrade is answered with `400 Bad Request` (`426 Upgrade Required` for a wrong
    /// version, `431` for an oversized head) before the error is returned.
    ///
    /// # Errors
    ///
    /// [`WsError::Handshake`], [`WsError::Io`], [`WsError::Tls`], or [`WsError::Timeout`]
    /// when the client did not finish within the accept timeout.
    pub async fn accept<S>(self, stream: S) -> Result<WsStream<MaybeTls<S>>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let rt = self.connect.runtime_or_current();
        let attempt = async {
            let io = self.server_transport(stream).await?;
            self.server_handshake(io, rt.clone()).await
        };
        match rt.timeout(self.accept_timeout, attempt).await {
            Ok(res) => res,
            Err(_) => Err(WsError::Timeout("accept")),
        }
    }

    /// The connect options (socket options, runtime, TLS) for the listener.
    pub(super) fn connect_opts(&self) -> &ConnectOptions {
        &self.connect
    }

    fn config(&self) -> Config {
        let max_frame = self.max_frame_size.unwrap_or(self.config.max_message_size);
        self.config.clone().max_frame_size(max_frame)
    }

    fn stream_options(&self, runtime: Runtime, subprotocol: Option<String>) -> StreamOptions {
        StreamOptions {
            runtime,
            close_timeout: self.close_timeout,
            write_high_water: self.config.write_buffer_capacity.max(1),
            subprotocol: subprotocol.map(String::into_boxed_str),
            heartbeat: self.heartbeat,
        }
    }

    #[cfg(feature = "tls")]
    async fn server_transport<S>(&self, stream: S) -> Result<MaybeTls<S>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match &self.connect.tls {
            Some(config) if config.server_config().is_some() => Ok(config.accept(stream).await?),
            _ => Ok(MaybeTls::Plain(stream)),
        }
    }

    #[cfg(not(feature = "tls"))]
    async fn server_transport<S>(&self, stream: S) -> Result<MaybeTls<S>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        Ok(MaybeTls::Plain(stream))
    }

    /// The extra headers as the handshake encoders take them.
    fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    async fn client_handshake<S>(
        &self,
        mut io: S,
        target: &Target,
        rt: Runtime,
    ) -> Result<WsStream<S>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut out = Vec::with_capacity(256);
        let headers = self.header_pairs();
        let protocols: Vec<&str> = self.subprotocols.iter().map(String::as_str).collect();
        let hs = ClientHandshake::new(
            &target.host_header(),
            &target.path_and_query(),
            &headers,
            &protocols,
            &mut out,
        )?;
        io.write_all(&out).await?;
        io.flush().await?;

        let mut conn = Conn::new(Role::Client, self.config());
        let mut head = Vec::with_capacity(HANDSHAKE_READ);
        loop {
            let (resp, len) = match hs.parse_response(&head, self.config.max_handshake_size)? {
                Some(done) => done,
                None => {
                    read_more(&mut io, &mut head, self.config.max_handshake_size).await?;
                    continue;
                }
            };
            feed_leftover(&mut conn, head.get(len..).unwrap_or_default());
            let opts = self.stream_options(rt, resp.subprotocol().map(str::to_owned));
            return Ok(WsStream::new(io, conn, opts));
        }
    }

    async fn server_handshake<S>(&self, mut io: S, rt: Runtime) -> Result<WsStream<S>, WsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut head = Vec::with_capacity(HANDSHAKE_READ);
        let (req, len) = loop {
            match handshake::parse_request(&head, self.config.max_handshake_size, 64) {
                Ok(Some(done)) => break done,
                Ok(None) => {}
                Err(e) => return Err(reject(&mut io, e).await),
            }
            if let Err(e) = read_more(&mut io, &mut head, self.config.max_handshake_size).await {
                return Err(match e {
                    WsError::Handshake(h) => reject(&mut io, *h).await,
                    other => other,
                });
            }
        };
        let chosen = req
            .protocols()
            .iter()
            .find(|p| self.subprotocols.contains(p))
            .cloned();
        let mut out = Vec::with_capacity(256);
        let headers = self.header_pairs();
        handshake::accept_response(&req, chosen.as_deref(), &headers, &mut out)?;
        io.write_all(&out).await?;
        io.flush().await?;

        let mut conn = Conn::new(Role::Server, self.config());
        feed_leftover(&mut conn, head.get(len..).unwrap_or_default());
        let mut ws = WsStream::new(io, conn, self.stream_options(rt, chosen));
        ws.set_request(req);
        Ok(ws)
    }
}

/// Frames that arrived in the same reads as the handshake head belong to the decoder.
fn feed_leftover(conn: &mut Conn, mut rest: &[u8]) {
    // HANDSHAKE_READ bounds `rest` below the decoder's minimum buffer, so one call takes
    // it all; the loop only guards that invariant.
    while !rest.is_empty() {
        let n = conn.decoder_mut().handle_input(rest);
        if n == 0 {
            break;
        }
        rest = rest.get(n..).unwrap_or_default();
    }
}

/// Reads up to [`HANDSHAKE_READ`] more bytes of a handshake head.
async fn read_more<S: AsyncRead + Unpin>(
    io: &mut S,
    head: &mut Vec<u8>,
    max: usize,
) -> Result<(), WsError> {
    if head.len() >= max {
        return Err(HandshakeError::TooLarge { max }.into());
    }
    let mut chunk = [0u8; HANDSHAKE_READ];
    let n = io.read(&mut chunk).await?;
    if n == 0 {
        return Err(WsError::Io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    head.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(())
}

/// Answers a failed upgrade with the matching HTTP status, best effort.
async fn reject<S: AsyncWrite + Unpin>(io: &mut S, err: HandshakeError) -> WsError {
    let mut out = Vec::with_capacity(128);
    handshake::reject_response(err.http_status(), &mut out);
    let _ = io.write_all(&out).await;
    let _ = io.flush().await;
    let _ = io.close().await;
    err.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_websocket_schemes_are_rejected_with_the_url_first() {
        let Err(WsError::InvalidUrl(why)) =
            Target::parse_ws("http://example.com").map_err(WsError::from)
        else {
            panic!("expected InvalidUrl");
        };
        assert_eq!(&*why, "http://example.com: scheme must be ws or wss");
    }

    #[test]
    fn builder_sizes_are_clamped_by_the_config() {
        let b = WsStreamBuilder::new()
            .buffer_capacity(1)
            .max_message_size(100);
        let c = b.config();
        assert_eq!(
            c.read_buffer_capacity,
            crate::proto::ws::MIN_READ_BUFFER_CAPACITY
        );
        assert_eq!(c.max_frame_size, 100);
    }
}
