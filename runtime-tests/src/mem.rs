//! An in-memory transport for single-threaded tests that must not touch sockets: the
//! allocation and memory-bound tests, where no other thread may allocate.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::io::{AsyncRead, AsyncWrite};
use nexus_async_net::rt::{self, Runtime, SpawnError};

/// Serves `input` in reads of at most `chunk` bytes, then end of stream. Writes are
/// discarded (and counted), or refused forever with `Pending` when `stalled`.
#[derive(Debug)]
pub struct MemStream {
    input: Vec<u8>,
    pos: usize,
    chunk: usize,
    /// Bytes accepted by writes.
    pub written: usize,
    /// A peer that never reads: every write is `Pending`.
    pub stalled: bool,
}

impl MemStream {
    /// A stream that will read `input` in `chunk`-byte pieces.
    pub fn new(input: Vec<u8>, chunk: usize) -> Self {
        Self {
            input,
            pos: 0,
            chunk,
            written: 0,
            stalled: false,
        }
    }
}

impl AsyncRead for MemStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let rest = &self.input[self.pos..];
        let n = rest.len().min(buf.len()).min(self.chunk);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.stalled {
            return Poll::Pending;
        }
        self.written += buf.len();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stalled {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// An HTTP server in memory: after each request (marked by the client's flush) it serves
/// `response` once; with no request outstanding a read is `Pending`, as on an idle
/// keep-alive socket.
#[derive(Debug)]
pub struct MemHttpServer {
    response: &'static [u8],
    /// Bytes of the current response already served.
    served: usize,
    /// Responses owed (one per flushed request).
    owed: usize,
    /// Requests seen (flushes).
    pub requests: usize,
}

impl MemHttpServer {
    /// A server answering every request with `response`.
    pub fn new(response: &'static [u8]) -> Self {
        Self {
            response,
            served: 0,
            owed: 0,
            requests: 0,
        }
    }
}

impl AsyncRead for MemHttpServer {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.owed == 0 {
            return Poll::Pending;
        }
        let rest = &self.response[self.served..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.served += n;
        if self.served == self.response.len() {
            self.served = 0;
            self.owed -= 1;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemHttpServer {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.requests += 1;
        self.owed += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A timer that never fires and a runtime built on it: no reactor thread, no allocation
/// behind the test's back.
#[derive(Debug, Default)]
pub struct NeverTimer;

/// The sleep of [`NeverTimer`].
#[derive(Debug)]
pub struct NeverSleep;

impl std::future::Future for NeverSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl rt::Sleep for NeverSleep {
    fn reset(self: Pin<&mut Self>, _: Instant) {}
}

impl rt::Timer for NeverTimer {
    fn sleep_until(&self, _: Instant) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(NeverSleep)
    }
}

#[derive(Debug)]
struct NoSpawn;

impl rt::Spawner for NoSpawn {
    fn spawn(&self, _: rt::BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::NoExecutor)
    }
    fn spawn_local(&self, _: rt::LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::NoExecutor)
    }
}

/// A runtime with no threads at all (connecting is never used with [`MemStream`]).
pub fn quiet_runtime() -> Runtime {
    Runtime::new(
        std::sync::Arc::new(NoSpawn),
        std::sync::Arc::new(NeverTimer),
        std::sync::Arc::new(rt::portable::PortableConnector::default()),
    )
}

/// A client upgrade request with a fixed key, as the first bytes a server reads.
pub fn upgrade_request() -> Vec<u8> {
    b"GET /mem HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec()
}
