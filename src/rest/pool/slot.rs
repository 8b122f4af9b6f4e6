//! [`ClientSlot`] and [`PoolStats`]: what the pool lends and what it counts, apart from
//! the pool machinery so that the free lists and the healing import them one way.

use std::fmt;
use std::time::Instant;

use crate::proto::http::reader::ResponseReader;
use crate::proto::http::writer::RequestWriter;
use crate::rest::connection::{ClientConnection, HttpConnection};
use crate::rest::error::RestError;

/// One pooled connection with its request writer and response reader.
///
/// The fields are public so a request built from `writer` and the response read into
/// `reader` can be used together: [`conn_and_reader`](Self::conn_and_reader) borrows the
/// connection and the reader while a finished [`Request`](crate::rest::Request) (which owns its
/// bytes) is alive.
pub struct ClientSlot {
    /// Builds requests for this connection (host, base path, default headers).
    pub writer: RequestWriter,
    /// Holds the response of the last request.
    pub reader: ResponseReader,
    /// The connection; `None` while the slot waits to reconnect.
    pub conn: Option<ClientConnection>,
    pub(super) id: usize,
    /// When the slot was last returned (tracked only with an idle timeout).
    pub(super) idle_since: Option<Instant>,
}

impl ClientSlot {
    /// The slot's index in its pool (`0..connections`), stable across reconnects.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Whether the connection is missing, poisoned or retired, so the slot must reconnect.
    pub fn needs_reconnect(&self) -> bool {
        !self.conn.as_ref().is_some_and(HttpConnection::is_reusable)
    }

    /// The connection and the reader together, for
    /// [`HttpConnection::send`].
    ///
    /// # Errors
    ///
    /// [`RestError::ConnectionPoisoned`] when the slot has no connection.
    pub fn conn_and_reader(
        &mut self,
    ) -> Result<(&mut ClientConnection, &mut ResponseReader), RestError> {
        match &mut self.conn {
            Some(conn) => Ok((conn, &mut self.reader)),
            None => Err(RestError::ConnectionPoisoned),
        }
    }
}

impl fmt::Debug for ClientSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSlot")
            .field("id", &self.id)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// A snapshot of a pool's counters. Each field is read with one relaxed atomic load (or a
/// `RefCell` read for [`ClientPool`](crate::rest::ClientPool)); the fields are not read atomically together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Slots in the pool.
    pub connections: usize,
    /// Healthy slots free for `try_acquire` (may include one that turns out dead when met).
    pub idle: usize,
    /// Slots held by callers.
    pub in_use: usize,
    /// Slots reconnecting (in a task or waiting for an inline attempt).
    pub healing: usize,
    /// Successful reconnects since the pool was built.
    pub reconnects: u64,
    /// Failed connect attempts while healing.
    pub failed_connects: u64,
}
