//! The feed's `tracing` events, through a capturing subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Feed, FeedError};
use crate::connect::Backoff;
use crate::rt::Runtime;
use crate::ws::WsStreamBuilder;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connect failures, backoff and giving up are `tracing` events with the documented
/// targets and levels.
#[test]
fn feed_failures_and_backoff_are_traced_with_their_targets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    tracing::subscriber::with_default(subscriber, || {
        futures::executor::block_on(async {
            let ws = WsStreamBuilder::new().runtime(Runtime::portable());
            let mut feed = Feed::builder(ws, [format!("ws://127.0.0.1:{port}/")])
                .backoff(Backoff::new(
                    Duration::from_millis(1),
                    Duration::from_millis(2),
                ))
                .max_attempts(2)
                .build();
            assert!(matches!(
                feed.recv().await,
                Err(FeedError::GaveUp { attempts: 2, .. })
            ));
        });
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("WARN nexus_async_net::feed: feed connect failed"),
        "{text}"
    );
    assert!(
        text.contains("DEBUG nexus_async_net::feed: backing off before reconnecting"),
        "{text}"
    );
    assert!(
        text.contains("DEBUG nexus_async_net::ws: WebSocket connect failed"),
        "{text}"
    );
}
