//! `cargo run --release --bin report`: runs every benchmark case against the common
//! loopback server, several runs interleaved, and writes `docs/performance.md` with its
//! plots. `--help` lists the options.

mod clients;
mod plot;
mod report;
mod rest;
mod server;
mod stats;
mod wire;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clients::{Addrs, Kind, Lib, Op, Outcome};

/// Which part of the suite a case belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Recv,
    Echo,
    Send,
    Idle,
    Rest,
    Pool,
}

impl Group {
    const ALL: [Group; 6] = [
        Group::Recv,
        Group::Echo,
        Group::Send,
        Group::Idle,
        Group::Rest,
        Group::Pool,
    ];

    fn key(self) -> &'static str {
        match self {
            Group::Recv => "recv",
            Group::Echo => "echo",
            Group::Send => "send",
            Group::Idle => "idle",
            Group::Rest => "rest",
            Group::Pool => "pool",
        }
    }
}

/// One benchmark case (the same for every client).
#[derive(Clone, Debug)]
pub struct Case {
    pub group: Group,
    pub label: String,
    pub size: usize,
    pub kind: Kind,
    pub op: Op,
    /// The clients that run this case.
    pub libs: Vec<Lib>,
}

/// Everything measured for one (case, client).
#[derive(Default)]
pub struct Cell {
    /// Messages per second, one per successful run (throughput cases).
    pub rates: Vec<f64>,
    /// p50/p90/p99/p99.9 in ns, one per successful run (echo cases).
    pub lat: Vec<[u64; 4]>,
    /// All round-trip samples of every run, pooled (for the plots).
    pub samples: Vec<u64>,
    /// Resident bytes per connection, one per successful run (idle cases).
    pub mem: Vec<f64>,
    /// Failures, with the run they happened in.
    pub errors: Vec<String>,
}

/// The whole run's results and settings.
pub struct Results {
    pub cases: Vec<Case>,
    pub libs: Vec<Lib>,
    pub cells: HashMap<(usize, Lib), Cell>,
    pub runs: usize,
    pub scale: f64,
    pub wall: Duration,
    pub command: String,
}

impl Results {
    pub fn cell(&self, case: usize, lib: Lib) -> Option<&Cell> {
        self.cells.get(&(case, lib))
    }
}

struct Args {
    runs: usize,
    scale: f64,
    libs: Vec<Lib>,
    groups: Vec<Group>,
    out: Option<PathBuf>,
    timeout: Duration,
    /// Only cases whose label contains this text.
    only: Option<String>,
}

const HELP: &str = "\
report [options]
  --runs N          runs per case, interleaved across clients (default 7)
  --scale F         message counts times F (default 1.0; 0.1 for a smoke test)
  --libs a,b        only these clients: ours-tokio ours-smol ours-async-std
                    ours-tokio-small ours-tokio-busy published
                    fastwebsockets tokio-tungstenite async-tungstenite rest-ours rest-ours-busy
                    rest-ours-pool rest-ours-atomic-pool rest-published rest-published-pool reqwest
                    hyper-conn hyper-client
  --groups a,b      only these groups: recv echo send idle rest pool
  --out PATH        markdown to write (default: <repo>/docs/performance.md);
                    '-' prints it instead, and plots are not written
  --cases TEXT      only cases whose label contains TEXT (e.g. \"40 B binary\")
  --timeout SECS    give up on one measurement after SECS (default 120)";

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        runs: 7,
        scale: 1.0,
        libs: Lib::all().filter(|l| l.available()).collect(),
        groups: Group::ALL.to_vec(),
        out: Some(repo_root().join("docs/performance.md")),
        timeout: Duration::from_secs(120),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--runs" => args.runs = val()?.parse()?,
            "--scale" => args.scale = val()?.parse()?,
            "--cases" => args.only = Some(val()?),
            "--timeout" => args.timeout = Duration::from_secs(val()?.parse()?),
            "--out" => {
                let v = val()?;
                args.out = (v != "-").then(|| PathBuf::from(v));
            }
            "--libs" => {
                let v = val()?;
                args.libs = v
                    .split(',')
                    .map(|k| {
                        Lib::all()
                            .find(|l| l.key() == k)
                            .ok_or_else(|| anyhow::anyhow!("unknown client {k}"))
                    })
                    .collect::<anyhow::Result<_>>()?;
            }
            "--groups" => {
                let v = val()?;
                args.groups = v
                    .split(',')
                    .map(|k| {
                        Group::ALL
                            .into_iter()
                            .find(|g| g.key() == k)
                            .ok_or_else(|| anyhow::anyhow!("unknown group {k}"))
                    })
                    .collect::<anyhow::Result<_>>()?;
            }
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown option {other}\n{HELP}"),
        }
    }
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    Ok(args)
}

/// The repository root (the parent of this benches project).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scaled(n: u64, scale: f64) -> u64 {
    ((n as f64 * scale) as u64).max(100)
}

fn cases(args: &Args) -> Vec<Case> {
    let mut out = Vec::new();
    let s = args.scale;
    if args.groups.contains(&Group::Recv) {
        for size in [40usize, 128, 512, 16 * 1024] {
            // About 0.2-0.5 s per run for the fastest clients.
            let count = match size {
                40 => 4_000_000,
                128 => 2_500_000,
                512 => 1_000_000,
                _ => 40_000,
            };
            for kind in [Kind::Binary, Kind::Text] {
                out.push(Case {
                    group: Group::Recv,
                    label: format!("{} {}", size_label(size), kind.name()),
                    size,
                    kind,
                    op: Op::Recv {
                        kind,
                        size,
                        count: scaled(count, s),
                    },
                    // The small-buffer variant shows the buffer trade-off; binary is enough.
                    libs: Lib::WS
                        .into_iter()
                        .chain((kind == Kind::Binary).then_some(Lib::OursTokioSmall))
                        .collect(),
                });
            }
        }
    }
    if args.groups.contains(&Group::Echo) {
        for size in [64usize, 512] {
            out.push(Case {
                group: Group::Echo,
                label: format!("{} binary", size_label(size)),
                size,
                kind: Kind::Binary,
                op: Op::Echo {
                    size,
                    count: scaled(20_000, s) as usize,
                    warmup: scaled(2_000, s) as usize,
                },
                libs: Lib::WS.into_iter().chain([Lib::OursTokioBusy]).collect(),
            });
        }
    }
    if args.groups.contains(&Group::Send) {
        out.push(Case {
            group: Group::Send,
            label: "128 B binary".into(),
            size: 128,
            kind: Kind::Binary,
            op: Op::Send {
                size: 128,
                count: scaled(300_000, s),
            },
            libs: Lib::WS.to_vec(),
        });
    }
    if args.groups.contains(&Group::Idle) {
        let conns = (1000.0 * s.min(1.0)).max(50.0) as usize;
        for small in [false, true] {
            out.push(Case {
                group: Group::Idle,
                label: if small {
                    "small buffers".into()
                } else {
                    "defaults".into()
                },
                size: conns,
                kind: Kind::Text,
                op: Op::Idle { conns, small },
                libs: Lib::WS.to_vec(),
            });
        }
    }
    if args.groups.contains(&Group::Rest) {
        // Total requests per run, split over the callers.
        let total = scaled(30_000, s) as usize;
        for (conns, callers) in [(1usize, 1usize), (4, 4)] {
            let libs = if callers == 1 {
                Lib::REST.into_iter().chain([Lib::RestOursBusy]).collect()
            } else {
                vec![
                    Lib::RestOursPool,
                    Lib::RestOursAtomicPool,
                    Lib::RestPublishedPool,
                    Lib::HyperConn,
                    Lib::HyperClient,
                    Lib::Reqwest,
                ]
            };
            out.push(Case {
                group: Group::Rest,
                label: if callers == 1 {
                    "1 connection".into()
                } else {
                    format!("{conns} connections, {callers} callers")
                },
                size: super_body_len(),
                kind: Kind::Binary,
                op: Op::Rest {
                    conns,
                    callers,
                    warmup: total / callers / 10,
                    count: total / callers,
                },
                libs,
            });
        }
    }
    if args.groups.contains(&Group::Pool) {
        out.push(Case {
            group: Group::Pool,
            label: "try_acquire + release".into(),
            size: 0,
            kind: Kind::Binary,
            op: Op::PoolCycle {
                count: scaled(5_000_000, s),
            },
            libs: vec![
                Lib::RestOursPool,
                Lib::RestOursAtomicPool,
                Lib::RestPublishedPool,
            ],
        });
    }
    out
}

/// Request body size, for the tables.
fn super_body_len() -> usize {
    rest::BODY.len()
}

/// "40 B", "16 KiB".
pub fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

/// Runs one measurement on a fresh thread so that a hung client cannot stop the suite.
fn measure(lib: Lib, addr: Addrs, op: Op, timeout: Duration) -> anyhow::Result<Outcome> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("client-{}", lib.key()))
        .spawn(move || {
            let _ = tx.send(clients::run(lib, addr, &op));
        })?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => anyhow::bail!("no result within {timeout:?} (thread abandoned)"),
    }
}

fn main() -> anyhow::Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some(clients::idle::CHILD_FLAG) {
        return clients::idle::child_main(&argv[1..]);
    }
    let args = parse_args()?;
    let started = Instant::now();
    let addr = Addrs {
        ws: server::start()?,
        rest: rest::server::start()?,
    };
    let mut cases = cases(&args);
    if let Some(only) = &args.only {
        cases.retain(|c| c.label.contains(only.as_str()));
    }
    let mut cells: HashMap<(usize, Lib), Cell> = HashMap::new();
    eprintln!(
        "servers on {} (WebSocket) and {} (HTTP); {} cases, {} runs",
        addr.ws,
        addr.rest,
        cases.len(),
        args.runs
    );
    for run in 0..args.runs {
        for (ci, case) in cases.iter().enumerate() {
            // Rotate the client order every run so that no client always goes first.
            let libs: Vec<Lib> = case
                .libs
                .iter()
                .copied()
                .filter(|l| args.libs.contains(l))
                .collect();
            let n = libs.len();
            for k in 0..n {
                let lib = libs[(k + run + ci) % n];
                let cell = cells.entry((ci, lib)).or_default();
                let t0 = Instant::now();
                let res = measure(lib, addr, case.op, args.timeout);
                let line = match res {
                    Ok(Outcome::Elapsed(d)) => {
                        let count = match case.op {
                            Op::Recv { count, .. } | Op::Send { count, .. } => count,
                            Op::PoolCycle { count } => count,
                            Op::Echo { .. } | Op::Idle { .. } | Op::Rest { .. } => 0,
                        };
                        let rate = count as f64 / d.as_secs_f64();
                        cell.rates.push(rate);
                        format!("{:.3} M msg/s", rate / 1e6)
                    }
                    Ok(Outcome::Latency(samples)) => {
                        let p = stats::percentiles(&samples);
                        cell.lat.push(p);
                        cell.samples.extend_from_slice(&samples);
                        format!(
                            "p50 {:.2} us  p99 {:.2} us  p99.9 {:.2} us",
                            p[0] as f64 / 1e3,
                            p[2] as f64 / 1e3,
                            p[3] as f64 / 1e3
                        )
                    }
                    Ok(Outcome::Rest(elapsed, samples)) => {
                        let rate = samples.len() as f64 / elapsed.as_secs_f64();
                        cell.rates.push(rate);
                        let p = stats::percentiles(&samples);
                        cell.lat.push(p);
                        cell.samples.extend_from_slice(&samples);
                        format!(
                            "{:.1} k req/s  p50 {:.2} us  p99 {:.2} us",
                            rate / 1e3,
                            p[0] as f64 / 1e3,
                            p[2] as f64 / 1e3
                        )
                    }
                    Ok(Outcome::Memory(bytes)) => {
                        cell.mem.push(bytes);
                        format!("{:.1} KB per connection", bytes / 1e3)
                    }
                    Err(e) => {
                        cell.errors.push(format!("run {}: {e:#}", run + 1));
                        format!("ERROR {e:#}")
                    }
                };
                eprintln!(
                    "[run {}/{}] {:<5} {:<14} {:<26} {line}  ({:.2}s)",
                    run + 1,
                    args.runs,
                    case.group.key(),
                    case.label,
                    lib.name(),
                    t0.elapsed().as_secs_f64()
                );
            }
        }
    }
    let results = Results {
        cases,
        libs: args.libs.clone(),
        cells,
        runs: args.runs,
        scale: args.scale,
        wall: started.elapsed(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    match &args.out {
        Some(path) => {
            let md = report::write(&results, path)?;
            std::fs::write(path, md)?;
            eprintln!(
                "wrote {} in {:.0}s",
                path.display(),
                results.wall.as_secs_f64()
            );
        }
        None => print!("{}", report::markdown(&results, None)),
    }
    Ok(())
}
