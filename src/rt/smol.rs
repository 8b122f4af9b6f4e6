//! The smol shim: background tasks on smol's global executor; timers and sockets come from
//! the [portable](super::portable) shim, since smol itself is built on async-io.

use super::{BoxFuture, SpawnError, Spawner};

/// Spawns onto `smol`'s global executor (`smol::spawn(..).detach()`).
///
/// `spawn_local` returns [`SpawnError::Unsupported`]: smol's local executors are values the
/// caller owns, not something reachable from here.
#[derive(Debug, Default, Clone)]
pub struct SmolSpawner {
    _priv: (),
}

impl SmolSpawner {
    /// The spawner.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Spawner for SmolSpawner {
    fn spawn(&self, fut: BoxFuture<'static, ()>) -> Result<(), SpawnError> {
        ::smol::spawn(fut).detach();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Runtime, RuntimeKind, SpawnError, testing};

    #[test]
    fn smol_runtime_connects_sleeps_resets_and_spawns() {
        ::smol::block_on(async {
            let rt = Runtime::smol();
            assert_eq!(rt.kind(), RuntimeKind::Smol);
            testing::connect_sleep_reset(&rt).await;
            testing::connect_by_name(&rt).await;
            testing::spawn_runs(&rt).await;
            assert!(matches!(
                rt.spawn_local(async {}),
                Err(SpawnError::Unsupported)
            ));
        });
    }
}
