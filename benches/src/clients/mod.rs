//! One module per client library; each offers the same three measurements.

use std::net::SocketAddr;
use std::time::Duration;

mod fastws;
pub mod idle;
#[cfg(feature = "ours")]
pub(crate) mod ours;
mod published;
mod tungstenite;

/// The WebSocket clients compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lib {
    /// This crate on a tokio current-thread runtime.
    OursTokio,
    /// This crate on smol.
    OursSmol,
    /// This crate on async-std.
    OursAsyncStd,
    /// This crate on tokio with the small-buffer configuration (receive cases only).
    OursTokioSmall,
    /// This crate on tokio with busy-polling reads (echo cases only).
    OursTokioBusy,
    /// nexus-async-net 0.9.1 from crates.io (tokio current-thread).
    Published,
    /// tokio-tungstenite (tokio current-thread).
    TokioTungstenite,
    /// fastwebsockets (tokio current-thread).
    FastWebSockets,
    /// async-tungstenite on smol.
    AsyncTungstenite,
    /// REST: this crate's `HttpConnection` (tokio).
    RestOurs,
    /// REST: this crate's `HttpConnection` with busy-polling reads (1 connection only).
    RestOursBusy,
    /// REST: this crate's pool (tokio).
    RestOursPool,
    /// REST: this crate's thread-safe pool (tokio).
    RestOursAtomicPool,
    /// REST: the published crate's `HttpConnection`.
    RestPublished,
    /// REST: the published crate's `ClientPool`.
    RestPublishedPool,
    /// REST: reqwest.
    Reqwest,
    /// REST: hyper's `client::conn::http1`.
    HyperConn,
    /// REST: hyper-util's pooled legacy `Client`.
    HyperClient,
}

impl Lib {
    /// Every WebSocket client, ours first.
    pub const WS: [Lib; 7] = [
        Lib::OursTokio,
        Lib::OursSmol,
        Lib::OursAsyncStd,
        Lib::Published,
        Lib::FastWebSockets,
        Lib::TokioTungstenite,
        Lib::AsyncTungstenite,
    ];

    /// Every REST client, ours first.
    pub const REST: [Lib; 8] = [
        Lib::RestOurs,
        Lib::RestOursPool,
        Lib::RestOursAtomicPool,
        Lib::RestPublished,
        Lib::RestPublishedPool,
        Lib::HyperConn,
        Lib::HyperClient,
        Lib::Reqwest,
    ];

    /// Every client.
    pub fn all() -> impl Iterator<Item = Lib> {
        let (ours, peers) = Lib::WS.split_at(3);
        ours.iter()
            .copied()
            .chain([Lib::OursTokioSmall, Lib::OursTokioBusy])
            .chain(peers.iter().copied())
            .chain(Lib::REST)
            .chain([Lib::RestOursBusy])
    }

    /// The label used in tables and plots.
    pub fn name(self) -> &'static str {
        match self {
            Lib::OursTokio => "ours (tokio)",
            Lib::OursSmol => "ours (smol)",
            Lib::OursAsyncStd => "ours (async-std)",
            Lib::OursTokioSmall => "ours (tokio, 1 KiB buffers)",
            Lib::OursTokioBusy => "ours (tokio, busy-poll)",
            Lib::Published => "nexus-async-net 0.9.1",
            Lib::TokioTungstenite => "tokio-tungstenite",
            Lib::FastWebSockets => "fastwebsockets",
            Lib::AsyncTungstenite => "async-tungstenite (smol)",
            Lib::RestOurs => "ours HttpConnection",
            Lib::RestOursBusy => "ours HttpConnection (busy-poll)",
            Lib::RestOursPool => "ours ClientPool",
            Lib::RestOursAtomicPool => "ours AtomicClientPool",
            Lib::RestPublished => "nexus-async-net 0.9.1 HttpConnection",
            Lib::RestPublishedPool => "nexus-async-net 0.9.1 ClientPool",
            Lib::Reqwest => "reqwest",
            Lib::HyperConn => "hyper conn::http1",
            Lib::HyperClient => "hyper-util Client",
        }
    }

    /// A short name for the command line.
    pub fn key(self) -> &'static str {
        match self {
            Lib::OursTokio => "ours-tokio",
            Lib::OursSmol => "ours-smol",
            Lib::OursAsyncStd => "ours-async-std",
            Lib::OursTokioSmall => "ours-tokio-small",
            Lib::OursTokioBusy => "ours-tokio-busy",
            Lib::Published => "published",
            Lib::TokioTungstenite => "tokio-tungstenite",
            Lib::FastWebSockets => "fastwebsockets",
            Lib::AsyncTungstenite => "async-tungstenite",
            Lib::RestOurs => "rest-ours",
            Lib::RestOursBusy => "rest-ours-busy",
            Lib::RestOursPool => "rest-ours-pool",
            Lib::RestOursAtomicPool => "rest-ours-atomic-pool",
            Lib::RestPublished => "rest-published",
            Lib::RestPublishedPool => "rest-published-pool",
            Lib::Reqwest => "reqwest",
            Lib::HyperConn => "hyper-conn",
            Lib::HyperClient => "hyper-client",
        }
    }

    /// Whether this build has the client (ours are behind cargo features).
    #[allow(
        clippy::match_like_matches_macro,
        reason = "reads better as a table; with every feature on, clippy sees no match"
    )]
    pub fn available(self) -> bool {
        match self {
            Lib::OursTokio
            | Lib::OursSmol
            | Lib::OursAsyncStd
            | Lib::OursTokioSmall
            | Lib::OursTokioBusy => cfg!(feature = "ours"),
            Lib::RestOurs | Lib::RestOursBusy => cfg!(feature = "ours-rest"),
            Lib::RestOursPool | Lib::RestOursAtomicPool => cfg!(feature = "ours-pool"),
            _ => true,
        }
    }

    /// Whether this is one of our own rows.
    pub fn is_ours(self) -> bool {
        matches!(
            self,
            Lib::OursTokio
                | Lib::OursSmol
                | Lib::OursAsyncStd
                | Lib::OursTokioSmall
                | Lib::OursTokioBusy
                | Lib::RestOurs
                | Lib::RestOursBusy
                | Lib::RestOursPool
                | Lib::RestOursAtomicPool
        )
    }

    /// The published crate, REST side, for ratios.
    pub fn is_published(self) -> bool {
        matches!(
            self,
            Lib::Published | Lib::RestPublished | Lib::RestPublishedPool
        )
    }
}

/// Text or binary frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Binary,
    Text,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Binary => "binary",
            Kind::Text => "text",
        }
    }
}

/// One measurement.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    /// Receive `count` server frames of `size` bytes.
    Recv { kind: Kind, size: usize, count: u64 },
    /// `warmup + count` round trips of `size`-byte binary messages, timing the last `count`.
    Echo {
        size: usize,
        count: usize,
        warmup: usize,
    },
    /// Send `count` binary messages of `size` bytes and wait for the server's `done`.
    Send { size: usize, count: u64 },
    /// Hold `conns` connections that each received one message; resident memory per
    /// connection. `small` selects each library's small-buffer settings, where it has any.
    Idle { conns: usize, small: bool },
    /// REST: `callers` concurrent callers over `conns` connections, `warmup` then `count`
    /// requests per caller.
    Rest {
        conns: usize,
        callers: usize,
        warmup: usize,
        count: usize,
    },
    /// REST pool: `count` times try_acquire + release, no I/O.
    PoolCycle { count: u64 },
}

/// What one measurement produced.
pub enum Outcome {
    /// Wall time for all the messages.
    Elapsed(Duration),
    /// Nanoseconds per round trip.
    Latency(Vec<u64>),
    /// Resident bytes per connection.
    Memory(f64),
    /// Wall time of the timed phase and every request's latency (ns).
    Rest(Duration, Vec<u64>),
}

/// The two servers.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    pub ws: SocketAddr,
    pub rest: SocketAddr,
}

fn url(addr: SocketAddr, op: &Op) -> String {
    match *op {
        Op::Recv { kind, size, count } => {
            format!(
                "ws://{addr}/blast?kind={}&size={size}&count={count}",
                kind.name()
            )
        }
        Op::Echo { .. } => format!("ws://{addr}/echo"),
        Op::Send { count, .. } => format!("ws://{addr}/discard?count={count}"),
        Op::Idle { .. } => format!("ws://{addr}/idle"),
        Op::Rest { .. } | Op::PoolCycle { .. } => String::new(),
    }
}

/// `host:port` of a `ws://host:port/...` URL.
pub(crate) fn host_port(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| anyhow::anyhow!("not ws://"))?;
    Ok(rest.split('/').next().unwrap_or(rest).to_owned())
}

fn check_len(got: usize, want: usize) -> anyhow::Result<()> {
    anyhow::ensure!(got == want, "message of {got} bytes, expected {want}");
    Ok(())
}

pub(crate) fn tokio_rt() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn outcome_d(r: anyhow::Result<Duration>) -> anyhow::Result<Outcome> {
    r.map(Outcome::Elapsed)
}

fn outcome_l(r: anyhow::Result<Vec<u64>>) -> anyhow::Result<Outcome> {
    r.map(Outcome::Latency)
}

/// Runs one measurement with one client, on a fresh runtime on the calling thread.
pub fn run(lib: Lib, addrs: Addrs, op: &Op) -> anyhow::Result<Outcome> {
    let addr = addrs.ws;
    match *op {
        Op::Idle { conns, small } => {
            return idle::in_child(lib, addr, conns, small).map(Outcome::Memory);
        }
        Op::Rest { .. } | Op::PoolCycle { .. } => return crate::rest::run(lib, addrs.rest, op),
        _ => {}
    }
    let url = url(addr, op);
    let url = url.as_str();
    match lib {
        #[cfg(feature = "ours")]
        Lib::OursTokio => tokio_rt()?.block_on(async {
            let rt = nexus_async_net::rt::Runtime::tokio()
                .ok_or_else(|| anyhow::anyhow!("no tokio runtime"))?;
            run_ours(rt, url, op).await
        }),
        #[cfg(feature = "ours")]
        Lib::OursSmol => smol::block_on(run_ours(nexus_async_net::rt::Runtime::smol(), url, op)),
        #[cfg(feature = "ours")]
        Lib::OursAsyncStd => {
            async_std::task::block_on(run_ours(nexus_async_net::rt::Runtime::async_std(), url, op))
        }
        #[cfg(feature = "ours")]
        Lib::OursTokioSmall => tokio_rt()?.block_on(async {
            let rt = nexus_async_net::rt::Runtime::tokio()
                .ok_or_else(|| anyhow::anyhow!("no tokio runtime"))?;
            match *op {
                Op::Recv { kind, size, count } => outcome_d(
                    ours::recv_with(ours::small_builder().runtime(rt), url, kind, size, count)
                        .await,
                ),
                _ => anyhow::bail!("the small-buffer client runs the receive cases only"),
            }
        }),
        #[cfg(feature = "ours")]
        Lib::OursTokioBusy => tokio_rt()?.block_on(async {
            let rt = nexus_async_net::rt::Runtime::tokio()
                .ok_or_else(|| anyhow::anyhow!("no tokio runtime"))?;
            match *op {
                Op::Echo {
                    size,
                    count,
                    warmup,
                } => outcome_l(
                    ours::echo_with(ours::busy_builder().runtime(rt), url, size, count, warmup)
                        .await,
                ),
                _ => anyhow::bail!("the busy-poll client runs the echo cases only"),
            }
        }),
        #[cfg(not(feature = "ours"))]
        Lib::OursTokio
        | Lib::OursSmol
        | Lib::OursAsyncStd
        | Lib::OursTokioSmall
        | Lib::OursTokioBusy => anyhow::bail!("built without the `ours` feature"),
        Lib::RestOurs
        | Lib::RestOursBusy
        | Lib::RestOursPool
        | Lib::RestOursAtomicPool
        | Lib::RestPublished
        | Lib::RestPublishedPool
        | Lib::Reqwest
        | Lib::HyperConn
        | Lib::HyperClient => anyhow::bail!("{} is a REST client", lib.name()),
        Lib::Published => tokio_rt()?.block_on(async {
            match *op {
                Op::Recv { kind, size, count } => {
                    outcome_d(published::recv(url, kind, size, count).await)
                }
                Op::Echo {
                    size,
                    count,
                    warmup,
                } => outcome_l(published::echo(url, size, count, warmup).await),
                Op::Send { size, count } => outcome_d(published::send(url, size, count).await),
                _ => unreachable!("handled above"),
            }
        }),
        Lib::FastWebSockets => tokio_rt()?.block_on(async {
            match *op {
                Op::Recv { kind, size, count } => {
                    outcome_d(fastws::recv(url, kind, size, count).await)
                }
                Op::Echo {
                    size,
                    count,
                    warmup,
                } => outcome_l(fastws::echo(url, size, count, warmup).await),
                Op::Send { size, count } => outcome_d(fastws::send(url, size, count).await),
                _ => unreachable!("handled above"),
            }
        }),
        Lib::TokioTungstenite => tokio_rt()?.block_on(async {
            let ws = tungstenite::connect_tokio(url).await?;
            match *op {
                Op::Recv { kind, size, count } => {
                    outcome_d(tungstenite::recv(ws, kind, size, count).await)
                }
                Op::Echo {
                    size,
                    count,
                    warmup,
                } => outcome_l(tungstenite::echo(ws, size, count, warmup).await),
                Op::Send { size, count } => outcome_d(tungstenite::send(ws, size, count).await),
                _ => unreachable!("handled above"),
            }
        }),
        Lib::AsyncTungstenite => smol::block_on(async {
            let ws = tungstenite::connect_smol(url).await?;
            match *op {
                Op::Recv { kind, size, count } => {
                    outcome_d(tungstenite::recv(ws, kind, size, count).await)
                }
                Op::Echo {
                    size,
                    count,
                    warmup,
                } => outcome_l(tungstenite::echo(ws, size, count, warmup).await),
                Op::Send { size, count } => outcome_d(tungstenite::send(ws, size, count).await),
                _ => unreachable!("handled above"),
            }
        }),
    }
}

#[cfg(feature = "ours")]
async fn run_ours(rt: nexus_async_net::rt::Runtime, url: &str, op: &Op) -> anyhow::Result<Outcome> {
    match *op {
        Op::Recv { kind, size, count } => outcome_d(ours::recv(rt, url, kind, size, count).await),
        Op::Echo {
            size,
            count,
            warmup,
        } => outcome_l(ours::echo(rt, url, size, count, warmup).await),
        Op::Send { size, count } => outcome_d(ours::send(rt, url, size, count).await),
        _ => unreachable!("handled above"),
    }
}
