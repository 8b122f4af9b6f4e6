//! The tokio shim: tokio's own reactor, timer and resolver.
//!
//! Sockets stay on tokio's reactor (wrapped by `tokio_util::compat` into futures-io);
//! nothing here touches async-io, so no second reactor thread is ever started. Every
//! operation enters the captured [`Handle`] first, so a [`Runtime`](super::Runtime) built
//! with [`Runtime::tokio_from_handle`](super::Runtime::tokio_from_handle) also works when
//! used from a thread outside the tokio runtime (the runtime must still be running).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::tokio::runtime::Handle;

use super::{
    BoxFuture, ConnectFuture, Connector, LocalBoxFuture, Sleep, SpawnError, Spawner, TcpListener,
    TcpOptions, TcpStream, Timer, connect_any, strip_brackets,
};

/// Spawner, timer and connector over one tokio [`Handle`].
#[derive(Debug, Clone)]
pub struct Tokio {
    handle: Handle,
    local: bool,
}

impl Tokio {
    /// The shim for `handle`. With `local`, `spawn_local` calls `tokio::task::spawn_local`
    /// (which panics outside a `LocalSet`); without it, `spawn_local` returns
    /// [`SpawnError::Unsupported`].
    pub fn new(handle: Handle, local: bool) -> Self {
        Self { handle, local }
    }

    /// The captured handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Spawner for Tokio {
    fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        drop(self.handle.spawn(fut));
        Ok(())
    }

    fn spawn_local(&self, fut: LocalBoxFuture<'static, ()>) -> Result<(), SpawnError> {
        if !self.local {
            return Err(SpawnError::Unsupported);
        }
        drop(::tokio::task::spawn_local(fut));
        Ok(())
    }
}

impl Timer for Tokio {
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        // Creating a tokio sleep needs the runtime context; polling it later does not.
        let _entered = self.handle.enter();
        Box::pin(::tokio::time::sleep_until(deadline.into()))
    }

    fn now(&self) -> Instant {
        // tokio's clock, which tests may pause and advance.
        let _entered = self.handle.enter();
        ::tokio::time::Instant::now().into_std()
    }
}

impl Sleep for ::tokio::time::Sleep {
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        ::tokio::time::Sleep::reset(self, deadline.into());
    }
}

impl Connector for Tokio {
    fn connect<'a>(&'a self, host: &'a str, port: u16, opts: &'a TcpOptions) -> ConnectFuture<'a> {
        Box::pin(Entered {
            handle: &self.handle,
            fut: async move {
                // lookup_host parses IP literals inline and resolves names on tokio's
                // blocking pool, never on a worker thread.
                let addrs = ::tokio::net::lookup_host((strip_brackets(host), port)).await?;
                connect_any(addrs, |addr| async move {
                    let stream = ::tokio::net::TcpStream::connect(addr).await?;
                    opts.apply(&stream)?;
                    Ok(TcpStream::from_tokio(stream))
                })
                .await
            },
        })
    }

    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<std::net::SocketAddr>>> {
        Box::pin(Entered {
            handle: &self.handle,
            fut: async move {
                let addrs = ::tokio::net::lookup_host((strip_brackets(host), port)).await?;
                Ok(addrs.collect())
            },
        })
    }

    fn adopt(&self, listener: std::net::TcpListener) -> std::io::Result<TcpListener> {
        // Registering with tokio's reactor needs the runtime context.
        let _entered = self.handle.enter();
        listener.set_nonblocking(true)?;
        let listener = ::tokio::net::TcpListener::from_std(listener)?;
        Ok(TcpListener::tokio_with(listener, Some(self.handle.clone())))
    }
}

pin_project_lite::pin_project! {
    /// Polls `fut` with `handle` entered, so tokio resources can be created from any
    /// thread. The guard lives only inside one `poll`, which keeps the future `Send`.
    struct Entered<'h, F> {
        handle: &'h Handle,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Entered<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.handle.enter();
        this.fut.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Runtime, RuntimeKind, SpawnError, testing};

    fn runtimes() -> Vec<::tokio::runtime::Runtime> {
        vec![
            ::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            ::tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        ]
    }

    #[test]
    fn tokio_runtime_connects_sleeps_resets_and_spawns() {
        for tokio_rt in runtimes() {
            tokio_rt.block_on(async {
                let rt = Runtime::tokio().unwrap();
                assert_eq!(rt.kind(), RuntimeKind::Tokio);
                testing::connect_sleep_reset(&rt).await;
                testing::connect_by_name(&rt).await;
                testing::spawn_runs(&rt).await;
            });
        }
    }

    #[test]
    fn tokio_is_none_outside_a_tokio_runtime() {
        assert!(Runtime::tokio().is_none());
        assert!(Runtime::tokio_local().is_none());
    }

    #[test]
    fn tokio_spawn_local_is_unsupported_unless_opted_in() {
        let tokio_rt = ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio_rt.block_on(async {
            let rt = Runtime::tokio().unwrap();
            assert!(matches!(
                rt.spawn_local(async {}),
                Err(SpawnError::Unsupported)
            ));
        });
        let local = ::tokio::task::LocalSet::new();
        local.block_on(&tokio_rt, async {
            let rt = Runtime::tokio_local().unwrap();
            let (tx, rx) = futures::channel::oneshot::channel();
            let not_send = std::rc::Rc::new(5);
            rt.spawn_local(async move {
                let _ = tx.send(*not_send);
            })
            .unwrap();
            assert_eq!(rx.await, Ok(5));
        });
    }

    #[test]
    fn a_handle_runtime_works_from_a_thread_outside_tokio() {
        let tokio_rt = ::tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let rt = Runtime::tokio_from_handle(tokio_rt.handle().clone());
        futures::executor::block_on(async {
            testing::connect_sleep_reset(&rt).await;
            testing::spawn_runs(&rt).await;
        });
    }
}
