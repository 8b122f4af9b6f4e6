//! REST: keep-alive request/response round trips against one local server.

pub mod clients;
#[cfg(feature = "ours-rest")]
mod ours;
pub mod server;

/// The request every client sends: `POST /api/v3/order` with this JSON body.
pub const PATH: &str = "/api/v3/order";
/// An order-entry sized JSON body.
pub const BODY: &[u8] =
    br#"{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","quantity":"0.01","price":"97000.00"}"#;

use std::net::SocketAddr;

use crate::clients::{Lib, Op, Outcome};

fn tokio_rt() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Runs one REST measurement on a fresh current-thread tokio runtime (inside a `LocalSet`,
/// which the published crate's pool needs for its background reconnects).
pub fn run(lib: Lib, addr: SocketAddr, op: &Op) -> anyhow::Result<Outcome> {
    let rt = tokio_rt()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        match *op {
            Op::Rest {
                conns,
                callers,
                warmup,
                count,
            } => {
                let (elapsed, samples) = match lib {
                    Lib::Reqwest => clients::reqwest(addr, callers, warmup, count).await?,
                    Lib::HyperConn => clients::hyper_conn(addr, callers, warmup, count).await?,
                    Lib::HyperClient => clients::hyper_client(addr, callers, warmup, count).await?,
                    Lib::RestPublished if callers == 1 => {
                        clients::published_conn(addr, warmup, count).await?
                    }
                    Lib::RestPublishedPool => {
                        clients::published_pool(addr, conns, callers, warmup, count).await?
                    }
                    #[cfg(feature = "ours-rest")]
                    Lib::RestOurs if callers == 1 => ours::conn(addr, None, warmup, count).await?,
                    #[cfg(feature = "ours-rest")]
                    Lib::RestOursBusy if callers == 1 => {
                        ours::conn(addr, Some(ours::BUSY_POLL), warmup, count).await?
                    }
                    #[cfg(feature = "ours-pool")]
                    Lib::RestOursPool => ours::pooled(addr, conns, callers, warmup, count).await?,
                    #[cfg(feature = "ours-pool")]
                    Lib::RestOursAtomicPool => {
                        ours::atomic_pool::pooled(addr, conns, callers, warmup, count).await?
                    }
                    other => anyhow::bail!("{} does not run this case", other.name()),
                };
                Ok(Outcome::Rest(elapsed, samples))
            }
            Op::PoolCycle { count } => match lib {
                Lib::RestPublishedPool => Ok(Outcome::Elapsed(
                    clients::published_cycle(addr, count).await?,
                )),
                #[cfg(feature = "ours-pool")]
                Lib::RestOursPool => Ok(Outcome::Elapsed(ours::cycle(addr, count).await?)),
                #[cfg(feature = "ours-pool")]
                Lib::RestOursAtomicPool => Ok(Outcome::Elapsed(
                    ours::atomic_pool::cycle(addr, count).await?,
                )),
                other => anyhow::bail!("{} has no pool", other.name()),
            },
            _ => anyhow::bail!("not a REST case"),
        }
    })
}
