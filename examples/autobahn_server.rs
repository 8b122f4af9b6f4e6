//! Echo server for the Autobahn|Testsuite `fuzzingclient` (it tests WebSocket *servers*).
//!
//! Built only on the public API. Every text and binary message is echoed with the same
//! opcode through the stream's split halves (zero copy: the reader's borrowed message is
//! written by the writer half); pings are answered by auto-pong (or by hand with
//! `--manual-pong`).
//!
//! ```text
//! cargo run --release --example autobahn_server -- --port 9002 --runtime tokio
//! cargo run --release --example autobahn_server -- --port 9002 --runtime smol
//! cargo run --release --example autobahn_server -- --tls-cert chain.pem --tls-key key.pem
//! ```
//!
//! `runtime-tests/autobahn/ci.sh` runs the whole suite against it.

use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_io::{AsyncRead, AsyncWrite};
use nexus_async_net::rt::{Runtime, TcpStream};
use nexus_async_net::tls::TlsConfig;
use nexus_async_net::ws::{Message, WsStreamBuilder};

/// Case 9.1.6 / 9.2.6 send 16 MiB messages: allow them with room to spare.
const MAX_MESSAGE: usize = 32 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rt {
    Tokio,
    Smol,
}

#[derive(Debug, Clone)]
struct Args {
    port: u16,
    runtime: Rt,
    manual_pong: bool,
    /// Serve `wss://` with this PEM certificate chain and key.
    tls: Option<(String, String)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        port: 9002,
        runtime: Rt::Tokio,
        manual_pong: false,
        tls: None,
    };
    let (mut cert, mut key) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let v = it.next().context("--port needs a value")?;
                args.port = v.parse().with_context(|| format!("bad port {v:?}"))?;
            }
            "--runtime" => {
                args.runtime = match it.next().as_deref() {
                    Some("tokio") => Rt::Tokio,
                    Some("smol") => Rt::Smol,
                    other => bail!("--runtime tokio|smol, got {other:?}"),
                };
            }
            "--manual-pong" => args.manual_pong = true,
            "--tls-cert" => cert = Some(it.next().context("--tls-cert needs a path")?),
            "--tls-key" => key = Some(it.next().context("--tls-key needs a path")?),
            "-h" | "--help" => {
                println!(
                    "usage: autobahn_server [--port N] [--runtime tokio|smol] [--manual-pong] \
                     [--tls-cert CHAIN.pem --tls-key KEY.pem]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    args.tls = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => bail!("--tls-cert and --tls-key go together"),
    };
    Ok(args)
}

/// What every connection shares.
#[derive(Debug, Clone)]
struct Shared {
    rt: Runtime,
    manual_pong: bool,
    tls: Option<TlsConfig>,
}

fn shared(args: &Args, rt: Runtime) -> anyhow::Result<Shared> {
    let tls = match &args.tls {
        Some((cert, key)) => Some(TlsConfig::server_from_pem(
            &std::fs::read(cert).with_context(|| format!("reading {cert}"))?,
            &std::fs::read(key).with_context(|| format!("reading {key}"))?,
        )?),
        None => None,
    };
    Ok(Shared {
        rt,
        manual_pong: args.manual_pong,
        tls,
    })
}

/// One connection: upgrade, then echo until the peer closes or breaks the protocol.
async fn serve<S>(sock: S, shared: Shared)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let manual_pong = shared.manual_pong;
    let mut builder = WsStreamBuilder::new();
    if let Some(tls) = &shared.tls {
        builder = builder.tls(tls);
    }
    let ws = match builder
        .runtime(shared.rt)
        .buffer_capacity(1 << 20)
        .max_message_size(MAX_MESSAGE)
        .auto_pong(!manual_pong)
        .close_timeout(Duration::from_secs(2))
        .accept(sock)
        .await
    {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("handshake failed: {e}");
            return;
        }
    };
    let (mut rx, mut tx) = ws.split();
    loop {
        let sent = match rx.recv().await {
            Ok(Some(Message::Text(text))) => tx.send_text(text).await,
            Ok(Some(Message::Binary(data))) => tx.send_binary(data).await,
            Ok(Some(Message::Ping(data))) if manual_pong => tx.send_pong(data).await,
            // Pongs are ignored; the peer's Close is answered by the library and `recv`
            // then returns `Ok(None)`.
            Ok(Some(_)) => Ok(()),
            Ok(None) => break,
            Err(e) => {
                // A protocol violation (the suite sends plenty): the library has already
                // sent the Close frame with the matching code.
                eprintln!("recv: {e}");
                break;
            }
        };
        if let Err(e) = sent {
            eprintln!("send: {e}");
            break;
        }
    }
}

fn run_tokio(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        let shared = shared(&args, Runtime::tokio().context("no tokio runtime")?)?;
        println!(
            "listening on {}:{} (tokio)",
            scheme(&shared),
            listener.local_addr()?
        );
        loop {
            let (sock, _) = listener.accept().await?;
            sock.set_nodelay(true)?;
            tokio::spawn(serve(TcpStream::from_tokio(sock), shared.clone()));
        }
    })
}

fn run_smol(args: Args) -> anyhow::Result<()> {
    smol::block_on(async move {
        let listener = smol::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        let shared = shared(&args, Runtime::smol())?;
        println!(
            "listening on {}:{} (smol)",
            scheme(&shared),
            listener.local_addr()?
        );
        loop {
            let (sock, _) = listener.accept().await?;
            sock.set_nodelay(true)?;
            smol::spawn(serve(sock, shared.clone())).detach();
        }
    })
}

fn scheme(shared: &Shared) -> &'static str {
    if shared.tls.is_some() { "wss" } else { "ws" }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    match args.runtime {
        Rt::Tokio => run_tokio(args),
        Rt::Smol => run_smol(args),
    }
}
