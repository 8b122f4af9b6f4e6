//! The async-std shim, kept thin: async-std is discontinued upstream (smol is its
//! successor). Background tasks go to async-std's executor; timers and sockets come from
//! the [portable](super::portable) shim, since async-std itself is built on async-io.

use super::{BoxFuture, SpawnError, Spawner};

/// Spawns onto async-std's executor (`async_std::task::spawn`, detached).
///
/// `spawn_local` returns [`SpawnError::Unsupported`].
#[derive(Debug, Default, Clone)]
pub struct AsyncStdSpawner {
    _priv: (),
}

impl AsyncStdSpawner {
    /// The spawner.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Spawner for AsyncStdSpawner {
    fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        // Dropping an async-std JoinHandle detaches the task.
        drop(::async_std::task::spawn(fut));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Runtime, RuntimeKind, testing};

    #[test]
    fn async_std_runtime_connects_sleeps_resets_and_spawns() {
        ::async_std::task::block_on(async {
            let rt = Runtime::async_std();
            assert_eq!(rt.kind(), RuntimeKind::AsyncStd);
            testing::connect_sleep_reset(&rt).await;
            testing::spawn_runs(&rt).await;
        });
    }
}
