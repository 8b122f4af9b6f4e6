//! `tokio::time::sleep` and `tokio::task::spawn_local` for the seed recipes, on whatever
//! runtime is running (through the library's runtime seam), so the recipes' code stays
//! unchanged and runs on smol too: a recipe module says `use crate::common::tokio_shim as
//! tokio;`.

/// `tokio::time`.
pub mod time {
    /// Sleeps on the current runtime's timer.
    pub async fn sleep(d: std::time::Duration) {
        nexus_async_net::rt::Runtime::current().sleep(d).await;
    }
}

/// `tokio::task`.
pub mod task {
    /// Runs `fut` in the background on the current runtime (the recipes' futures are
    /// `Send`, so the runtime's `spawn` serves for tokio's `spawn_local`).
    pub fn spawn_local<F>(fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Err(e) = nexus_async_net::rt::Runtime::current().spawn(fut) {
            eprintln!("cannot spawn: {e}");
        }
    }
}
