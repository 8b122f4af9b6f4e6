//! The only futures-io glue: fill the sans-IO cores' buffers from an `AsyncRead` and drain
//! their output into an `AsyncWrite`.
//!
//! Every function here is a poll function that commits its progress inside the same poll
//! (bytes read are handed to the core before returning; bytes written are removed from the
//! core's buffer before returning), which is what makes the async adapters cancel-safe.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// Reads once into `buf`. `Ok(0)` is end of stream.
///
/// An `Interrupted` error is retried; every other error is returned as is.
pub(crate) fn poll_read_some<S: AsyncRead + Unpin>(
    io: &mut S,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    loop {
        match ready!(Pin::new(&mut *io).poll_read(cx, buf)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return Poll::Ready(other),
        }
    }
}

/// A buffer of outbound bytes that the glue can drain.
pub(crate) trait Outbound {
    /// Bytes not yet written.
    fn pending(&self) -> &[u8];
    /// `n` bytes of `pending()` were accepted by the transport.
    fn consume(&mut self, n: usize);
}

/// Writes everything `out` holds, without flushing the transport.
pub(crate) fn poll_drain<S: AsyncWrite + Unpin, O: Outbound + ?Sized>(
    io: &mut S,
    cx: &mut Context<'_>,
    out: &mut O,
) -> Poll<io::Result<()>> {
    while !out.pending().is_empty() {
        match ready!(Pin::new(&mut *io).poll_write(cx, out.pending())) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => out.consume(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
    Poll::Ready(Ok(()))
}

/// Writes everything `out` holds, then flushes the transport (TLS records included).
pub(crate) fn poll_drain_flush<S: AsyncWrite + Unpin, O: Outbound + ?Sized>(
    io: &mut S,
    cx: &mut Context<'_>,
    out: &mut O,
) -> Poll<io::Result<()>> {
    ready!(poll_drain(io, cx, out))?;
    Pin::new(&mut *io).poll_flush(cx)
}

/// Matches `$value` against the listed tuple variants (each may carry attributes, such as
/// a `#[cfg]`), binds the field to `$s` and evaluates `$e` in every arm: one poll method
/// dispatched over an enum of streams with one predictable branch and no virtual call.
///
/// ```text
/// dispatch!(&mut self.inner, s => Pin::new(s).poll_flush(cx);
///     Inner::A, #[cfg(feature = "b")] Inner::B)
/// ```
macro_rules! dispatch {
    ($value:expr, $s:ident => $e:expr; $($(#[$attr:meta])* $variant:path),+ $(,)?) => {
        match $value {
            $($(#[$attr])* $variant($s) => $e,)+
        }
    };
}

pub(crate) use dispatch;

/// Expands `poll_write`, `poll_write_vectored` and `poll_flush` of an `AsyncWrite` impl,
/// each forwarded to the variant through the type's own dispatch macro `$dispatch`
/// (called as `$dispatch!(self, s => expr)`). `poll_close` stays with the type: what
/// closing means differs.
macro_rules! forward_write {
    ($dispatch:ident) => {
        fn poll_write(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            $dispatch!(self, s => ::std::pin::Pin::new(s).poll_write(cx, buf))
        }

        fn poll_write_vectored(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
            bufs: &[::std::io::IoSlice<'_>],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            $dispatch!(self, s => ::std::pin::Pin::new(s).poll_write_vectored(cx, bufs))
        }

        fn poll_flush(
            self: ::std::pin::Pin<&mut Self>,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            $dispatch!(self, s => ::std::pin::Pin::new(s).poll_flush(cx))
        }
    };
}

pub(crate) use forward_write;
