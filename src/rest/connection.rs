//! [`HttpConnection`]: one keep-alive HTTP/1.1 connection over any futures-io transport,
//! and [`HttpConnectionBuilder`] to open one.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};

use super::error::RestError;
use crate::connect::{self, ConnectOptions, Target, connect_setters};
use crate::proto::http::reader::{Progress, Response, ResponseReader};
use crate::proto::http::writer::Request;
use crate::rt::{Runtime, Sleep, TcpStream};
use crate::tls::MaybeTls;

/// What [`HttpConnectionBuilder::connect`] returns: TCP, with TLS for `https://`.
pub type ClientConnection = HttpConnection<MaybeTls<TcpStream>>;

const RETIRED: &str =
    "connection retired after a Connection: close, HTTP/1.0 or close-delimited response";
const CLOSED_WHILE_IDLE: &str = "server closed the idle keep-alive connection";

/// One HTTP/1.1 connection: one request at a time, kept alive between requests.
///
/// # State
///
/// - **Ready**: [`send`](Self::send) writes the request and reads the response.
/// - **Poisoned**: a request failed or was cancelled midway, so the position in the
///   byte stream is unknown. `send` is marked poisoned when it starts and cleared only when
///   the response is complete; any error, and dropping the `send` future early, leaves it
///   set. Every later `send` returns [`RestError::ConnectionPoisoned`] without I/O.
/// - **Retired**: the server closed the connection while it was idle (detected before
///   writing), or the last response said the connection ends (`Connection: close`,
///   HTTP/1.0 without `keep-alive`, a close-delimited body, or stray bytes after the
///   response). Later `send`s return [`RestError::ConnectionClosed`] without writing, so a
///   request is never written into a socket the server is closing.
///
/// [`is_reusable`](Self::is_reusable) is true only in Ready.
///
/// # Cancel safety
///
/// `send` is not cancel safe in the sense that the request may or may not have reached the
/// server; the connection is poisoned and must be replaced. The [`Request`]'s buffer
/// still returns to its writer.
pub struct HttpConnection<S> {
    stream: S,
    poisoned: bool,
    /// Why the connection may not carry another request, when it may not.
    retired: Option<&'static str>,
    responses: u64,
    read_timeout: Option<Duration>,
    runtime: Option<Runtime>,
    /// Created on the first timed request and re-armed in place afterwards (no allocation).
    sleep: Option<Pin<Box<dyn Sleep>>>,
    /// The current request has a deadline (the read timeout or `send_timeout`'s).
    timed: bool,
}

impl<S> HttpConnection<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// A connection over an already connected transport, with no read timeout.
    pub fn from_stream(stream: S) -> Self {
        Self {
            stream,
            poisoned: false,
            retired: None,
            responses: 0,
            read_timeout: None,
            runtime: None,
            sleep: None,
            timed: false,
        }
    }

    /// A builder for connecting by URL.
    pub fn builder() -> HttpConnectionBuilder {
        HttpConnectionBuilder::new()
    }

    /// Sends `req` and reads the whole response into `reader`. The response borrows the
    /// reader until it is dropped.
    ///
    /// The read timeout, when set, bounds writing the request and reading the complete
    /// response together.
    ///
    /// On a reused connection, one non-blocking read attempt first checks whether the
    /// server closed it while it sat idle (or sent unsolicited bytes, such as a `408`);
    /// then nothing is written and the error is [`RestError::ConnectionStale`].
    ///
    /// # Errors
    ///
    /// - [`RestError::ConnectionPoisoned`] / [`RestError::ConnectionClosed`] before any
    ///   I/O when the connection is poisoned or retired.
    /// - [`RestError::Io`] from the transport, [`RestError::ReadTimeout`],
    ///   [`RestError::ConnectionStale`] (a reused connection ended before any response
    ///   byte), [`RestError::ConnectionClosed`] (it ended mid-response),
    ///   [`RestError::Parse`], [`RestError::HeadTooLarge`], [`RestError::BodyTooLarge`].
    ///   Each of these poisons the connection.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes poisons the connection.
    pub async fn send<'r>(
        &mut self,
        req: Request,
        reader: &'r mut ResponseReader,
    ) -> Result<Response<'r>, RestError> {
        let deadline = self.read_timeout;
        self.send_within(req, reader, deadline).await
    }

    /// [`send`](Self::send) with a deadline for this one request: writing it and reading
    /// the whole response must finish within `timeout` (or the read timeout, if that is
    /// shorter). For order entry, where one call must not wait past its deadline.
    ///
    /// A request that timed out before any of its bytes was written leaves the connection
    /// usable; once bytes went out the server may be acting on it, the framing is
    /// unknown, and the connection is poisoned (a pool slot reconnects). The read timeout
    /// of the connection is unchanged.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nexus_async_net::rest::RestError> {
    /// use std::time::Duration;
    /// use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader};
    ///
    /// let mut conn = HttpConnectionBuilder::new().connect("http://127.0.0.1:8080").await?;
    /// let mut writer = RequestWriter::for_url("http://127.0.0.1:8080")?;
    /// let mut reader = ResponseReader::default();
    /// let order = writer.post("/order").body(br#"{"qty":1}"#).finish()?;
    /// match conn.send_timeout(order, &mut reader, Duration::from_millis(50)).await {
    ///     Ok(resp) => println!("{}", resp.status()),
    ///     Err(e) if e.is_timeout() => println!("no answer within 50 ms: {e}"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); [`RestError::ReadTimeout`] when the deadline passes.
    pub async fn send_timeout<'r>(
        &mut self,
        req: Request,
        reader: &'r mut ResponseReader,
        timeout: Duration,
    ) -> Result<Response<'r>, RestError> {
        let deadline = Some(self.read_timeout.map_or(timeout, |t| t.min(timeout)));
        self.send_within(req, reader, deadline).await
    }

    async fn send_within<'r>(
        &mut self,
        req: Request,
        reader: &'r mut ResponseReader,
        deadline: Option<Duration>,
    ) -> Result<Response<'r>, RestError> {
        if self.poisoned {
            return Err(RestError::ConnectionPoisoned);
        }
        if let Some(why) = self.retired {
            return Err(RestError::ConnectionClosed(why));
        }
        let method = req.method();
        reader.start(method);
        if self.responses > 0 && self.closed_while_idle(reader.spare()?) {
            // Nothing was written: the request can be retried on a new connection.
            self.retired = Some(CLOSED_WHILE_IDLE);
            return Err(RestError::ConnectionStale);
        }
        self.poisoned = true;
        self.arm_timer(deadline);
        if let Err((e, wrote_any)) = self.write_all(req.as_bytes()).await {
            if !wrote_any && matches!(e, RestError::ReadTimeout) {
                // Not a byte reached the server: the connection is as good as before.
                self.poisoned = false;
            }
            return Err(e);
        }
        drop(req);
        loop {
            let spare = reader.spare()?;
            let n = match self.read(spare).await {
                Ok(n) => n,
                Err(e) if reader.has_received_bytes() => return Err(e),
                Err(e) => return Err(self.stale_or(e)),
            };
            let progress = if n == 0 {
                if !reader.has_received_bytes() {
                    return Err(self.closed_before_response());
                }
                reader.handle_eof()?
            } else {
                reader.handle_read(n)?
            };
            if progress == Progress::Complete {
                break;
            }
        }
        self.poisoned = false;
        self.responses += 1;
        self.retired = (!reader.keep_alive()).then_some(RETIRED);
        reader
            .response()
            .ok_or(RestError::ConnectionClosed("response incomplete"))
    }

    /// Whether a failed or cancelled request left the connection unusable.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Whether the connection can carry another request: neither poisoned nor retired.
    pub fn is_reusable(&self) -> bool {
        !self.poisoned && self.retired.is_none()
    }

    /// How many responses this connection has completed.
    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// The read timeout (see [`HttpConnectionBuilder::read_timeout`]).
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// Sets the read timeout; `None` disables it.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// Sets the runtime whose timer runs the read timeout (default:
    /// [`Runtime::current`] at the first timed request).
    pub fn set_runtime(&mut self, runtime: Runtime) {
        self.runtime = Some(runtime);
        self.sleep = None;
    }

    /// The transport.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The transport, mutably. Writing to it directly desynchronises the connection.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The transport, consuming the connection.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Closes the transport (for TLS, sends close_notify first).
    ///
    /// # Errors
    ///
    /// [`RestError::Io`] from the transport.
    pub async fn close(mut self) -> Result<(), RestError> {
        poll_fn(|cx| Pin::new(&mut self.stream).poll_close(cx)).await?;
        Ok(())
    }

    fn arm_timer(&mut self, deadline: Option<Duration>) {
        self.timed = deadline.is_some();
        let Some(timeout) = deadline else {
            return;
        };
        let runtime = self.runtime.get_or_insert_with(Runtime::current);
        let deadline = runtime.now() + timeout;
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(runtime.sleep_until(deadline)),
        }
    }

    /// Checks, without waiting, whether the server closed the connection (or sent
    /// unsolicited bytes, such as a `408` before closing) while it sat idle in the pool.
    /// One non-blocking read attempt; nothing is written.
    fn closed_while_idle(&mut self, scratch: &mut [u8]) -> bool {
        // The probe waker: a busy-polling stream must not spin on a read that expects
        // nothing.
        let mut cx = Context::from_waker(crate::rt::probe_waker());
        match Pin::new(&mut self.stream).poll_read(&mut cx, scratch) {
            Poll::Pending => false,
            Poll::Ready(Err(e)) => e.kind() != io::ErrorKind::WouldBlock,
            Poll::Ready(Ok(_)) => true,
        }
    }

    /// Whether the read timeout has passed (registers the waker otherwise).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        match (self.timed, &mut self.sleep) {
            (true, Some(sleep)) => sleep.as_mut().poll(cx).is_ready(),
            _ => false,
        }
    }

    /// Writes and flushes `bytes`; on failure, also whether any byte was written.
    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), (RestError, bool)> {
        let mut written = 0;
        let result = poll_fn(|cx| {
            loop {
                let rest = bytes.get(written..).unwrap_or_default();
                let poll = if rest.is_empty() {
                    Pin::new(&mut self.stream).poll_flush(cx).map_ok(|()| 0)
                } else {
                    Pin::new(&mut self.stream).poll_write(cx, rest)
                };
                match poll {
                    Poll::Ready(Ok(0)) if rest.is_empty() => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
                    }
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => break,
                }
            }
            if self.poll_deadline(cx) {
                return Poll::Ready(Err(RestError::ReadTimeout));
            }
            Poll::Pending
        })
        .await;
        result.map_err(|e| (self.stale_or(e), written > 0))
    }

    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, RestError> {
        poll_fn(|cx| {
            if let Poll::Ready(r) = Pin::new(&mut self.stream).poll_read(cx, buf) {
                return Poll::Ready(r.map_err(RestError::from));
            }
            if self.poll_deadline(cx) {
                return Poll::Ready(Err(RestError::ReadTimeout));
            }
            Poll::Pending
        })
        .await
    }

    /// A reset or broken pipe before any response byte on a reused connection means the
    /// server had already closed it: report it as stale, which callers may retry.
    fn stale_or(&self, e: RestError) -> RestError {
        match &e {
            RestError::Io(io) if self.responses > 0 && is_disconnect(io.kind()) => {
                RestError::ConnectionStale
            }
            _ => e,
        }
    }

    fn closed_before_response(&self) -> RestError {
        if self.responses > 0 {
            RestError::ConnectionStale
        } else {
            RestError::ConnectionClosed("server closed the connection before responding")
        }
    }
}

fn is_disconnect(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

impl<S> fmt::Debug for HttpConnection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnection")
            .field("poisoned", &self.poisoned)
            .field("retired", &self.retired)
            .field("responses", &self.responses)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

/// Opens [`HttpConnection`]s: `http://` over TCP, `https://` over TLS.
///
/// Defaults: Nagle on (call [`disable_nagle`](Self::disable_nagle) for trading), no TCP
/// keepalive, a 5 s connect timeout
/// ([`DEFAULT_CONNECT_TIMEOUT`](crate::connect::DEFAULT_CONNECT_TIMEOUT)), no read timeout,
/// [`Runtime::current`], the built-in root certificates for `https://`. Every timeout and
/// its default is listed in one place: [`connect`](crate::connect#timeouts-and-their-defaults).
#[derive(Clone, Default)]
#[must_use]
pub struct HttpConnectionBuilder {
    connect: ConnectOptions,
    read_timeout: Option<Duration>,
}

impl HttpConnectionBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self::default()
    }

    connect_setters! {
        connect;
        /// Bounds DNS, TCP connect and the TLS handshake together (default
        /// [`DEFAULT_CONNECT_TIMEOUT`](crate::connect::DEFAULT_CONNECT_TIMEOUT); `None`:
        /// no deadline).
        connect_timeout;
        /// The runtime for connecting and timers (default [`Runtime::current`]).
        runtime;
    }

    /// Bounds each request on the connection: writing it and reading the whole response.
    /// Past it, `send` returns [`RestError::ReadTimeout`] and the connection is poisoned.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Connects to the server of `url` (`http://host[:port]` or `https://...`; the path is
    /// not used here: give it to [`RequestWriter::for_url`](super::RequestWriter::for_url)).
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidUrl`], [`RestError::Io`] (DNS or TCP), [`RestError::Tls`],
    /// [`RestError::TlsNotEnabled`], [`RestError::ConnectTimeout`].
    pub async fn connect(self, url: &str) -> Result<ClientConnection, RestError> {
        let target = Target::parse_http(url)?;
        let (stream, runtime) = connect::connect_then(&self.connect, &target, |io, rt| async {
            Ok::<_, RestError>((io, rt))
        })
        .await?;
        let mut conn = self.connect_with(stream);
        conn.runtime = Some(runtime);
        Ok(conn)
    }

    /// Wraps a transport the caller connected (and wrapped in TLS, if needed), applying
    /// the read timeout and runtime.
    pub fn connect_with<S>(self, stream: S) -> HttpConnection<S>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut conn = HttpConnection::from_stream(stream);
        conn.read_timeout = self.read_timeout;
        conn.runtime = self.connect.runtime;
        conn
    }
}

impl fmt::Debug for HttpConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConnectionBuilder")
            .field("connect", &self.connect)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_invalid_with_the_reason_first() {
        for url in ["ws://h/", "ftp://h", "not a url", "http://"] {
            let err = Target::parse_http(url).map_err(RestError::from);
            assert!(matches!(err, Err(RestError::InvalidUrl(_))), "{url}");
        }
        let Err(RestError::InvalidUrl(why)) =
            Target::parse_http("ws://h/").map_err(RestError::from)
        else {
            panic!("expected InvalidUrl");
        };
        assert_eq!(&*why, "scheme must be http or https: ws://h/");
    }

    #[test]
    fn connections_are_send() {
        fn assert_send<T: Send>() {}
        assert_send::<ClientConnection>();
        assert_send::<HttpConnectionBuilder>();
    }
}
