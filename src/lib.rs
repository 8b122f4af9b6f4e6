//! # nexus-async-net
//!
//! Low-latency WebSocket market-data feeds and HTTP/1.1 REST order entry for trading
//! systems, on **any async runtime**: tokio, smol, async-std or your own executor.
//!
//! The crate has three layers:
//!
//! - [`proto`]: a sans-IO protocol core (WebSocket framing, handshakes, close machine,
//!   UTF-8 validation; HTTP/1.1 request writer and response parser). No futures, no
//!   sockets, no clocks: bytes in, bytes and events out.
//! - thin async adapters over any `futures_io::AsyncRead + AsyncWrite` transport:
//!   [`ws`] (WebSocket client and server) and [`rest`] (keep-alive HTTP/1.1 client and pools);
//! - [`rt`]: a small runtime seam (spawn, timers, connect) with shims for tokio, smol,
//!   async-std and a portable `async-io` default that works under any executor.
//!
//! ## Using the `nexus_net::` import paths
//!
//! Code written against the published crate family imports message types from
//! `nexus_net::...`. Everything lives in this one crate; keep those lines by writing
//! `extern crate nexus_async_net as nexus_net;` at your crate root.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls` | yes | `wss://` / `https://` through rustls (ring) and futures-rustls |
//! | `aws-lc-rs` | no | rustls' aws-lc-rs provider instead of ring |
//! | `tokio` | no | the tokio shim: tokio's own reactor and timer, never a second reactor |
//! | `smol` | no | the smol shim: smol's executor for background tasks |
//! | `async-std` | no | the async-std shim (async-std is discontinued; prefer smol) |
//!
//! Features are additive: any combination compiles, and turning one on never changes
//! behaviour for code that does not run on that runtime.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]

#[macro_use]
mod trace;

pub mod connect;
pub mod proto;
pub mod rest;
pub mod rt;
pub mod tls;
pub mod ws;

mod io;
