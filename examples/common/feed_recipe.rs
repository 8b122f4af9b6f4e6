//! Seed recipe 1, "Exchange client with reconnect", shared by the `exchange_feed` and
//! `combined` examples (each includes it with `#[path]`). The code between the markers is
//! the seed's, with the import root (`nexus_net` is this crate) and the URL
//! (`crate::feed_url()`) changed; `tokio::time::sleep` is the runtime-seam shim.

use crate::common::tokio_shim as tokio;
// ---- seed recipe 1, unchanged but for the import root and the URL ----
use nexus_async_net::ws::{WsError, WsStreamBuilder};
use nexus_net::tls::TlsConfig;
use nexus_net::ws::{CloseCode, Message};
use std::time::Duration;
pub async fn run_feed(tls: TlsConfig) {
    let mut backoff = Duration::from_millis(100);
    let max_backoff = Duration::from_secs(30);
    loop {
        match one_session(&tls).await {
            Ok(()) => {
                tracing::info!("feed closed cleanly, reconnecting");
                backoff = Duration::from_millis(100);
            }
            Err(e) => {
                tracing::warn!(error = %e, "feed disconnected");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
}
async fn one_session(tls: &TlsConfig) -> Result<(), WsError> {
    let mut ws = WsStreamBuilder::new()
        .tls(tls)
        .disable_nagle()
        .buffer_capacity(1 << 20)
        .max_message_size(16 << 20)
        .connect_timeout(Duration::from_secs(3))
        .proxy_from_env() // HTTPS_PROXY / ALL_PROXY / NO_PROXY, as curl reads them
        .connect(crate::feed_url())
        .await?;
    // Re-send subscription state on every reconnect.
    ws.send_text(
        r#"{
"method":"SUBSCRIBE",
"params":["btcusdt@trade","btcusdt@depth20@100ms"],
"id":1
}"#,
    )
    .await?;
    loop {
        match ws.recv().await? {
            Some(Message::Text(json)) => on_json(json),
            Some(Message::Binary(bytes)) => on_binary(bytes),
            Some(Message::Ping(data)) => ws.send_pong(data).await?,
            Some(Message::Pong(_)) => {}
            Some(Message::Close(_)) => {
                let _ = ws.close(CloseCode::Normal, "").await;
                return Ok(());
            }
            None => return Ok(()), // EOF
        }
    }
}
fn on_json(json: &str) {
    crate::on_json(json)
}
fn on_binary(_: &[u8]) {}
// ---- end of recipe ----
