//! [`WsListener`]: bind, accept and upgrade, on any runtime, plain or TLS.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;

use crate::rt::{TcpListener, TcpStream};
use crate::tls::MaybeTls;

use super::{WsError, WsStream, WsStreamBuilder};

/// A connection accepted and upgraded by a [`WsListener`]: TCP, with TLS when the
/// builder has a server TLS config.
pub type ServerStream = WsStream<MaybeTls<TcpStream>>;

/// How many handshakes a [`WsListener`] runs at once unless told otherwise.
pub const DEFAULT_MAX_PENDING_HANDSHAKES: usize = 128;

type Handshake = BoxFuture<'static, (SocketAddr, Result<ServerStream, WsError>)>;

/// Why [`WsListener::accept`] returned without a connection.
///
/// Neither variant closes the listener: log it and call `accept` again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// One client's TLS or WebSocket handshake failed or timed out (the client's fault,
    /// or a configuration mismatch); other clients are unaffected.
    #[error("the handshake with {peer} failed: {error}")]
    Handshake {
        /// The client's address.
        peer: SocketAddr,
        /// What failed: [`WsError::Handshake`], [`WsError::Tls`], [`WsError::Io`] or
        /// [`WsError::Timeout`] (the accept timeout).
        error: WsError,
    },
    /// `accept(2)` itself failed, usually `EMFILE`/`ENFILE` (out of file descriptors).
    /// The listener stays open; wait a moment before accepting again, or the loop spins.
    #[error(
        "accepting a connection failed: {0}; the listener stays open: wait a moment and call accept again"
    )]
    Listener(#[source] io::Error),
}

impl AcceptError {
    /// The client's address, for [`AcceptError::Handshake`].
    pub fn peer(&self) -> Option<SocketAddr> {
        match self {
            Self::Handshake { peer, .. } => Some(*peer),
            Self::Listener(_) => None,
        }
    }
}

/// A WebSocket server socket: accepts TCP connections and runs their (TLS and) upgrade
/// handshakes concurrently, so one slow or silent client never holds up the next.
///
/// Made by [`WsStreamBuilder::bind`] (binds on the builder's runtime) or
/// [`WsStreamBuilder::listen`] (a [`TcpListener`] you bound). Every accepted connection
/// gets the builder's options: socket options, buffers and limits, accept timeout,
/// subprotocols, TLS. No task is spawned: the handshakes advance while the caller awaits
/// [`accept`](Self::accept), which is cancel-safe. Users who accept sockets themselves keep
/// [`WsStreamBuilder::accept`].
///
/// ```
/// use nexus_async_net::ws::{Message, WsStreamBuilder};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// futures::executor::block_on(async {
///     let mut listener = WsStreamBuilder::new()
///         .disable_nagle()
///         .bind("127.0.0.1:0".parse()?)?;
///     let url = format!("ws://{}/", listener.local_addr()?);
///     let server = async {
///         let (mut ws, _peer) = listener.accept().await?;
///         if let Some(Message::Text(t)) = ws.recv().await? {
///             let reply = t.to_uppercase();
///             ws.send_text(&reply).await?;
///         }
///         Ok::<_, Box<dyn std::error::Error>>(())
///     };
///     let client = async {
///         let mut ws = WsStreamBuilder::new().connect(&url).await?;
///         ws.send_text("hello").await?;
///         assert!(matches!(ws.recv().await?, Some(Message::Text("HELLO"))));
///         Ok::<_, Box<dyn std::error::Error>>(())
///     };
///     let (s, c) = futures::join!(server, client);
///     s?;
///     c
/// })
/// # }
/// ```
#[must_use]
pub struct WsListener {
    tcp: TcpListener,
    builder: WsStreamBuilder,
    pending: FuturesUnordered<Handshake>,
    max_pending: usize,
}

impl fmt::Debug for WsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsListener")
            .field("tcp", &self.tcp)
            .field("pending", &self.pending.len())
            .field("max_pending", &self.max_pending)
            .finish_non_exhaustive()
    }
}

impl WsListener {
    pub(super) fn new(tcp: TcpListener, builder: WsStreamBuilder) -> Self {
        Self {
            tcp,
            builder,
            pending: FuturesUnordered::new(),
            max_pending: DEFAULT_MAX_PENDING_HANDSHAKES,
        }
    }

    /// At most `n` handshakes (minimum 1) run at once (default
    /// [`DEFAULT_MAX_PENDING_HANDSHAKES`]); further clients wait in the kernel's accept
    /// queue. This bounds the memory a flood of clients that never finish their handshake
    /// can take: each holds its buffers until the accept timeout cuts it off.
    pub fn max_pending_handshakes(mut self, n: usize) -> Self {
        self.max_pending = n.max(1);
        self
    }

    /// The bound address (with the port the OS picked for port 0).
    ///
    /// # Errors
    ///
    /// The OS error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// How many accepted clients are in their handshake now.
    pub fn pending_handshakes(&self) -> usize {
        self.pending.len()
    }

    /// Waits for the next client whose handshake succeeded, or for one that failed.
    /// Cancel-safe: handshakes in flight live in the listener and go on at the next call.
    ///
    /// ```no_run
    /// # use nexus_async_net::ws::{AcceptError, WsStreamBuilder};
    /// # async fn serve(rt: nexus_async_net::rt::Runtime) -> std::io::Result<()> {
    /// let mut listener = WsStreamBuilder::new().runtime(rt.clone()).bind("0.0.0.0:9000".parse().unwrap())?;
    /// loop {
    ///     match listener.accept().await {
    ///         Ok((mut ws, peer)) => drop(rt.spawn(async move {
    ///             while let Ok(Some(_msg)) = ws.recv().await {}
    ///             let _ = peer;
    ///         })),
    ///         Err(e @ AcceptError::Handshake { .. }) => eprintln!("{e}"),
    ///         Err(e) => {
    ///             eprintln!("{e}");
    ///             rt.sleep(std::time::Duration::from_millis(100)).await;
    ///         }
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`AcceptError::Handshake`] for one client that failed its handshake (the others
    /// go on), [`AcceptError::Listener`] when `accept(2)` failed. A client that gave up
    /// while queued (`ECONNABORTED`, a reset) is skipped silently.
    pub async fn accept(&mut self) -> Result<(ServerStream, SocketAddr), AcceptError> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](Self::accept).
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept).
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(ServerStream, SocketAddr), AcceptError>> {
        loop {
            if let Poll::Ready(Some((peer, res))) = self.pending.poll_next_unpin(cx) {
                return Poll::Ready(match res {
                    Ok(ws) => Ok((ws, peer)),
                    Err(error) => Err(AcceptError::Handshake { peer, error }),
                });
            }
            if self.pending.len() >= self.max_pending {
                // Woken when a handshake finishes and frees a slot.
                return Poll::Pending;
            }
            match self.tcp.poll_accept(cx) {
                Poll::Ready(Ok((stream, peer))) => {
                    let handshake = self.start(stream, peer);
                    // Polled by the next turn of the loop, which registers its waker.
                    self.pending.push(handshake);
                }
                Poll::Ready(Err(e)) if is_transient(&e) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(AcceptError::Listener(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn start(&self, mut stream: TcpStream, peer: SocketAddr) -> Handshake {
        let opts = &self.builder.connect_opts().tcp;
        let applied = stream.apply_options(opts);
        stream.set_busy_poll(opts.busy_poll);
        let builder = self.builder.clone();
        Box::pin(async move {
            if let Err(e) = applied {
                return (peer, Err(WsError::Io(e)));
            }
            (peer, builder.accept(stream).await)
        })
    }
}

/// A client that went away while queued is not the listener's failure.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

impl WsStreamBuilder {
    /// Binds a listening socket on `addr` on the builder's runtime and returns a
    /// [`WsListener`] that accepts and upgrades with this builder's options.
    ///
    /// # Errors
    ///
    /// The OS error of binding (`AddrInUse`, `PermissionDenied`, ...).
    pub fn bind(self, addr: SocketAddr) -> io::Result<WsListener> {
        let tcp = self.connect_opts().runtime_or_current().bind(addr)?;
        Ok(WsListener::new(tcp, self))
    }

    /// A [`WsListener`] over a listener you bound yourself (e.g. with your own socket
    /// options, or handed over by systemd).
    pub fn listen(self, tcp: TcpListener) -> WsListener {
        WsListener::new(tcp, self)
    }
}
