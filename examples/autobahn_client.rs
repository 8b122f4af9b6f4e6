//! Client for the Autobahn|Testsuite `fuzzingserver` (it tests WebSocket *clients*).
//!
//! Built only on the public API. The protocol: `GET /getCaseCount` answers one text
//! message N; for each case 1..=N connect to `/runCase?case=i&agent=A` and echo every
//! message (same opcode) until the server closes; finally `/updateReports?agent=A` makes
//! the server write its report.
//!
//! ```text
//! cargo run --release --example autobahn_client -- --url ws://127.0.0.1:9001 --runtime smol
//! AUTOBAHN_URL=ws://127.0.0.1:9001 cargo run --release --example autobahn_client
//! cargo run --release --example autobahn_client -- --url wss://127.0.0.1:9001 --ca ca.pem
//! ```
//!
//! `runtime-tests/autobahn/ci.sh` runs the whole suite with it. The whole stream is used
//! here (the server example uses split halves), so both paths meet the suite.

use std::time::Duration;

use anyhow::{Context as _, bail};
use nexus_async_net::rt::Runtime;
use nexus_async_net::tls::TlsConfig;
use nexus_async_net::ws::{CloseCode, Message, WsError, WsStreamBuilder};

/// Case 9.1.6 / 9.2.6 send 16 MiB messages: allow them with room to spare.
const MAX_MESSAGE: usize = 32 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rt {
    Tokio,
    Smol,
}

#[derive(Debug, Clone)]
struct Args {
    url: String,
    runtime: Rt,
    agent: Option<String>,
    manual_pong: bool,
    /// A PEM root certificate to trust for `wss://` (else `AUTOBAHN_CA`).
    ca: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into()),
        runtime: Rt::Tokio,
        agent: None,
        manual_pong: false,
        ca: std::env::var("AUTOBAHN_CA").ok().filter(|p| !p.is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => args.url = it.next().context("--url needs a value")?,
            "--agent" => args.agent = Some(it.next().context("--agent needs a value")?),
            "--runtime" => {
                args.runtime = match it.next().as_deref() {
                    Some("tokio") => Rt::Tokio,
                    Some("smol") => Rt::Smol,
                    other => bail!("--runtime tokio|smol, got {other:?}"),
                };
            }
            "--manual-pong" => args.manual_pong = true,
            "--ca" => args.ca = Some(it.next().context("--ca needs a path")?),
            "-h" | "--help" => {
                println!(
                    "usage: autobahn_client [--url ws[s]://HOST:PORT] [--runtime tokio|smol] \
                     [--agent NAME] [--manual-pong] [--ca CA.pem]   (AUTOBAHN_URL and \
                     AUTOBAHN_CA set the defaults)"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(args)
}

/// Connection settings shared by every case.
#[derive(Debug, Clone)]
struct Client {
    rt: Runtime,
    tls: Option<TlsConfig>,
}

impl Client {
    fn new(args: &Args, rt: Runtime) -> anyhow::Result<Self> {
        let tls = match &args.ca {
            Some(path) => {
                let pem = std::fs::read(path).with_context(|| format!("reading {path}"))?;
                Some(TlsConfig::builder().add_root_pem(&pem)?.build()?)
            }
            None => None,
        };
        Ok(Self { rt, tls })
    }
}

fn builder(client: &Client, manual_pong: bool) -> WsStreamBuilder {
    let mut b = WsStreamBuilder::new();
    if let Some(tls) = &client.tls {
        b = b.tls(tls);
    }
    b.runtime(client.rt.clone())
        .disable_nagle()
        .buffer_capacity(1 << 20)
        .max_message_size(MAX_MESSAGE)
        .auto_pong(!manual_pong)
        .connect_timeout(Duration::from_secs(10))
        .close_timeout(Duration::from_secs(2))
}

/// Reads the number of cases from `/getCaseCount`.
async fn case_count(base: &str, client: &Client) -> anyhow::Result<u32> {
    let mut ws = builder(client, false)
        .connect(&format!("{base}/getCaseCount"))
        .await?;
    let count = match ws.recv().await? {
        Some(Message::Text(n)) => n.trim().parse().context("case count")?,
        other => bail!("unexpected answer to getCaseCount: {other:?}"),
    };
    ws.close(CloseCode::Normal, "").await?;
    Ok(count)
}

/// Runs one case: echo every data message until the server ends the connection.
///
/// Data is copied into reusable buffers before it is sent back, because a received message
/// borrows the stream.
async fn run_case(url: &str, client: &Client, manual_pong: bool) -> Result<(), WsError> {
    let mut ws = builder(client, manual_pong).connect(url).await?;
    let mut text = String::new();
    let mut binary = Vec::new();
    loop {
        match ws.recv().await? {
            Some(Message::Text(t)) => {
                text.clear();
                text.push_str(t);
                ws.send_text(&text).await?;
            }
            Some(Message::Binary(b)) => {
                binary.clear();
                binary.extend_from_slice(b);
                ws.send_binary(&binary).await?;
            }
            Some(Message::Ping(data)) if manual_pong => ws.send_pong(data).await?,
            Some(_) => {}
            None => return Ok(()),
        }
    }
}

async fn run(args: Args, rt: Runtime, agent: String) -> anyhow::Result<()> {
    let client = Client::new(&args, rt)?;
    let base = args.url.trim_end_matches('/');
    let count = case_count(base, &client).await?;
    println!("{count} cases, agent {agent}");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        // Protocol errors are what many cases are about: the report judges them.
        if let Err(e) = run_case(&url, &client, args.manual_pong).await {
            println!("case {case}: {e}");
        }
        if case % 50 == 0 {
            println!("... {case}/{count}");
        }
    }
    let mut ws = builder(&client, false)
        .connect(&format!("{base}/updateReports?agent={agent}"))
        .await?;
    while ws.recv().await?.is_some() {}
    println!("reports updated");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let name = match args.runtime {
        Rt::Tokio => "tokio",
        Rt::Smol => "smol",
    };
    let agent = args
        .agent
        .clone()
        .unwrap_or_else(|| format!("nexus-async-net-{name}"));
    match args.runtime {
        Rt::Tokio => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(async move {
                let rt = Runtime::tokio().context("no tokio runtime")?;
                run(args, rt, agent).await
            }),
        Rt::Smol => smol::block_on(run(args, Runtime::smol(), agent)),
    }
}
