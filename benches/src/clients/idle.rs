//! Resident memory per mostly idle connection, measured in a child process so that the
//! server and the other clients do not blur the numbers.

use std::future::Future;
use std::net::SocketAddr;

use futures::StreamExt;

use super::{Lib, fastws, published, tungstenite};

/// The first argument that turns the binary into an idle-connection child.
pub const CHILD_FLAG: &str = "--idle-child";

/// Connections opened before the baseline, so that runtime start-up costs are excluded.
const WARMUP: usize = 16;

/// Resident set size of this process, bytes.
fn rss() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/self/status"))?;
    Ok(kb * 1024)
}

/// Opens `WARMUP + conns` connections with `open`, keeps them all, and returns the RSS
/// growth per connection over the last `conns`.
async fn hold<C, F, Fut>(conns: usize, mut open: F) -> anyhow::Result<f64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<C>>,
{
    let mut held = Vec::with_capacity(WARMUP + conns);
    for _ in 0..WARMUP {
        held.push(open().await?);
    }
    let before = rss()?;
    for _ in 0..conns {
        held.push(open().await?);
    }
    let after = rss()?;
    drop(held);
    Ok(after.saturating_sub(before) as f64 / conns as f64)
}

/// Runs the child and parses what it prints.
pub fn in_child(lib: Lib, addr: SocketAddr, conns: usize, small: bool) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args([
            CHILD_FLAG,
            lib.key(),
            &addr.to_string(),
            &conns.to_string(),
            if small { "small" } else { "default" },
        ])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "idle child failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// The child's entry point: `--idle-child <lib> <addr> <conns> <small|default>`; prints
/// bytes per connection.
pub fn child_main(args: &[String]) -> anyhow::Result<()> {
    let [lib, addr, conns, config] = args else {
        anyhow::bail!("usage: {CHILD_FLAG} <lib> <addr> <conns> <small|default>");
    };
    let lib = Lib::all()
        .find(|l| l.key() == lib)
        .ok_or_else(|| anyhow::anyhow!("unknown client {lib}"))?;
    let addr: SocketAddr = addr.parse()?;
    let conns: usize = conns.parse()?;
    let small = config == "small";
    let per_conn = measure(lib, addr, conns, small)?;
    println!("{per_conn}");
    Ok(())
}

fn measure(lib: Lib, addr: SocketAddr, conns: usize, small: bool) -> anyhow::Result<f64> {
    let url = format!("ws://{addr}/idle");
    let url = url.as_str();
    match lib {
        #[cfg(feature = "ours")]
        Lib::OursTokio => super::tokio_rt()?.block_on(async {
            let rt = nexus_async_net::rt::Runtime::tokio()
                .ok_or_else(|| anyhow::anyhow!("no tokio runtime"))?;
            hold(conns, || super::ours::connect_first(rt.clone(), url, small)).await
        }),
        #[cfg(feature = "ours")]
        Lib::OursSmol => smol::block_on(hold(conns, || {
            super::ours::connect_first(nexus_async_net::rt::Runtime::smol(), url, small)
        })),
        #[cfg(feature = "ours")]
        Lib::OursAsyncStd => async_std::task::block_on(hold(conns, || {
            super::ours::connect_first(nexus_async_net::rt::Runtime::async_std(), url, small)
        })),
        #[cfg(not(feature = "ours"))]
        Lib::OursTokio | Lib::OursSmol | Lib::OursAsyncStd => {
            anyhow::bail!("built without the `ours` feature")
        }
        Lib::Published => {
            super::tokio_rt()?.block_on(hold(conns, || published::connect_first(url, small)))
        }
        Lib::FastWebSockets => super::tokio_rt()?.block_on(hold(conns, || async {
            let mut ws = fastws::connect(url).await?;
            ws.read_frame().await?;
            Ok(ws)
        })),
        Lib::TokioTungstenite => super::tokio_rt()?.block_on(hold(conns, || async {
            let config = small.then(tungstenite::small_config);
            let mut ws = tungstenite::connect_tokio_with(url, config).await?;
            ws.next().await.transpose()?;
            Ok(ws)
        })),
        Lib::AsyncTungstenite => smol::block_on(hold(conns, || async {
            let config = small.then(tungstenite::small_config);
            let mut ws = tungstenite::connect_smol_with(url, config).await?;
            ws.next().await.transpose()?;
            Ok(ws)
        })),
        other => anyhow::bail!("{} is not a WebSocket client", other.name()),
    }
}
