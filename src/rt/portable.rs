//! The portable shim: async-io timers and sockets, usable under any executor.
//!
//! [`PortableTimer`] and [`PortableConnector`] are public so a custom executor can reuse
//! them (see the [`rt`](super) module docs). They need no executor: async-io drives its
//! reactor from its own "async-io" thread (or from `async_io::block_on`).

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::{
    BoxFuture, ConnectFuture, Connector, LocalBoxFuture, Sleep, SpawnError, Spawner, TcpOptions,
    TcpStream, Timer, connect_any, strip_brackets,
};

/// async-io's timer behind the [`Timer`] trait.
#[derive(Debug, Default, Clone)]
pub struct PortableTimer {
    _priv: (),
}

impl PortableTimer {
    /// The timer (stateless: async-io's reactor is process-global).
    pub fn new() -> Self {
        Self::default()
    }
}

impl Timer for PortableTimer {
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(PortableSleep(async_io::Timer::at(deadline)))
    }
}

/// A [`Sleep`] over `async_io::Timer`; `reset` calls `Timer::set_at`.
#[derive(Debug)]
pub struct PortableSleep(async_io::Timer);

impl Future for PortableSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().0).poll(cx).map(drop)
    }
}

impl Sleep for PortableSleep {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().0.set_at(deadline);
    }
}

/// DNS through async-net (IP literals parsed inline, names on the blocking thread pool,
/// never on an executor thread) and TCP through `async_io::Async<TcpStream>`.
#[derive(Debug, Default, Clone)]
pub struct PortableConnector {
    _priv: (),
}

impl PortableConnector {
    /// The connector.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Connector for PortableConnector {
    fn connect<'a>(&'a self, host: &'a str, port: u16, opts: &'a TcpOptions) -> ConnectFuture<'a> {
        Box::pin(async move {
            let host = strip_brackets(host);
            let addrs = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => async_net::resolve((host, port)).await?,
            };
            connect_any(addrs, |addr| async move {
                let stream = async_io::Async::<std::net::TcpStream>::connect(addr).await?;
                opts.apply(stream.get_ref())?;
                Ok(TcpStream::from_async_io(stream))
            })
            .await
        })
    }
}

/// A [`Spawner`] that has no executor: both methods return [`SpawnError::NoExecutor`], and
/// callers run background work inline instead.
#[derive(Default, Clone)]
pub struct NoSpawner {
    _priv: (),
}

impl NoSpawner {
    /// The spawner.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for NoSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoSpawner")
    }
}

impl Spawner for NoSpawner {
    fn spawn(&self, _fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::NoExecutor)
    }

    fn spawn_local(&self, _fut: LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        Err(SpawnError::NoExecutor)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Runtime, RuntimeKind, SpawnError, testing};

    #[test]
    fn portable_runtime_connects_sleeps_and_resets_under_block_on() {
        let rt = Runtime::portable();
        assert_eq!(rt.kind(), RuntimeKind::Portable);
        futures::executor::block_on(testing::connect_sleep_reset(&rt));
    }

    #[test]
    fn portable_runtime_has_no_executor_for_either_spawn() {
        let rt = Runtime::portable();
        assert!(matches!(rt.spawn(async {}), Err(SpawnError::NoExecutor)));
        assert!(matches!(
            rt.spawn_local(async {}),
            Err(SpawnError::NoExecutor)
        ));
    }

    #[test]
    fn portable_connector_resolves_localhost_by_name() {
        let rt = Runtime::portable();
        futures::executor::block_on(testing::connect_by_name(&rt));
    }
}
