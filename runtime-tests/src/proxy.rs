//! Proxies: WebSocket, REST and pools through HTTP `CONNECT` and SOCKS5.
//!
//! Two kinds of proxy: [`TestProxy`], a scripted one in this process that answers one
//! byte per write and reads one byte per read (the split-reply and optimistic-send bugs
//! show there), and real ones, tinyproxy and microsocks, started as child processes on
//! loopback and killed by PID when the test ends ([`RealProxy`]; `.ci/run` installs them).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use nexus_async_net::connect::{NoProxy, Proxy, ProxyConfig, ProxyErrorKind, SocksReply};
use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader, RestError};
use nexus_async_net::rt::Runtime;
use nexus_async_net::ws::{CloseCode, Message, WsError, WsStreamBuilder};

use crate::servers::{PEER_TIMEOUT, TestPki, raw_server, read_head, ws_echo_server};

/// How the scripted proxy behaves.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    /// HTTP `CONNECT`; with `auth`, anything but these credentials gets 407. With
    /// `coalesce`, the 200 and the target's first bytes leave in one write.
    Connect {
        auth: Option<(&'static str, &'static str)>,
        coalesce: bool,
    },
    /// SOCKS5; with `auth`, username/password is required. `reply` is the code sent for
    /// the `CONNECT` (0: success).
    Socks5 {
        auth: Option<(&'static str, &'static str)>,
        reply: u8,
    },
    /// Accepts and never answers.
    Silent,
}

/// What the scripted proxy saw, one line per event: `tunnel <target>` (SOCKS5 targets as
/// `ip:<addr>` or `domain:<name>:<port>`), `refused <why>`, `violation <what>`.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: String) {
        self.0.lock().unwrap().push(line);
    }

    /// Every event so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A scripted proxy on loopback. Stops when dropped (or after [`PEER_TIMEOUT`]).
pub struct TestProxy {
    pub addr: SocketAddr,
    pub log: Log,
    stop: Arc<AtomicBool>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl TestProxy {
    pub fn start(flavor: Flavor) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let log = Log::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (log.clone(), stop.clone());
        thread::spawn(move || {
            let deadline = Instant::now() + PEER_TIMEOUT;
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let l = l.clone();
                        thread::spawn(move || {
                            let _ = sock.set_nonblocking(false);
                            let _ = sock.set_read_timeout(Some(PEER_TIMEOUT));
                            let _ = sock.set_nodelay(true);
                            let _ = serve(sock, flavor, &l);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Self { addr, log, stop }
    }

    /// `scheme://[user:pass@]addr`.
    pub fn url(&self, scheme: &str, auth: Option<(&str, &str)>) -> String {
        match auth {
            Some((u, p)) => format!("{scheme}://{u}:{p}@{}", self.addr),
            None => format!("{scheme}://{}", self.addr),
        }
    }

    /// The `tunnel …` lines.
    pub fn tunnels(&self) -> Vec<String> {
        self.log
            .lines()
            .into_iter()
            .filter_map(|l| l.strip_prefix("tunnel ").map(str::to_owned))
            .collect()
    }

    fn violations(&self) -> Vec<String> {
        self.log
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("violation"))
            .collect()
    }
}

/// Writes `bytes` one byte per write, so the client sees the reply split across reads.
fn dribble(sock: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    for b in bytes {
        sock.write_all(std::slice::from_ref(b))?;
        sock.flush()?;
        thread::sleep(Duration::from_micros(300));
    }
    Ok(())
}

fn read_n(sock: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    // One byte per read: a client that waits for a whole message per read would hang.
    let mut out = vec![0; n];
    for b in &mut out {
        sock.read_exact(std::slice::from_mut(b))?;
    }
    Ok(out)
}

/// Whether the client already sent more, while it should be waiting for our answer.
fn sent_early(sock: &mut TcpStream) -> bool {
    thread::sleep(Duration::from_millis(30));
    sock.set_nonblocking(true).ok();
    let mut b = [0u8; 1];
    let early = !matches!(sock.read(&mut b), Err(e) if e.kind() == ErrorKind::WouldBlock);
    sock.set_nonblocking(false).ok();
    early
}

fn serve(mut sock: TcpStream, flavor: Flavor, log: &Log) -> anyhow::Result<()> {
    match flavor {
        Flavor::Silent => {
            thread::sleep(PEER_TIMEOUT);
            Ok(())
        }
        Flavor::Connect { auth, coalesce } => {
            let head = read_head(&mut sock)?;
            let target = head
                .strip_prefix("CONNECT ")
                .and_then(|r| r.split(' ').next())
                .context("not a CONNECT")?
                .to_owned();
            if let Some((u, p)) = auth {
                let want = format!(
                    "proxy-authorization: basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        format!("{u}:{p}")
                    )
                    .to_lowercase()
                );
                if !head.to_lowercase().contains(&want) {
                    log.push(format!("refused 407 {target}"));
                    dribble(
                        &mut sock,
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                          Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n",
                    )?;
                    return Ok(());
                }
            }
            if let Some(tag) = head.lines().find_map(|l| l.strip_prefix("X-Proxy-Tag: ")) {
                log.push(format!("header {tag}"));
            }
            let mut upstream = TcpStream::connect(&target)?;
            log.push(format!("tunnel {target}"));
            if coalesce {
                // The target speaks first: its bytes follow the 200 in the same segment.
                thread::sleep(Duration::from_millis(100));
                upstream.set_nonblocking(true)?;
                let mut early = vec![0; 4096];
                let n = upstream.read(&mut early).unwrap_or(0);
                upstream.set_nonblocking(false)?;
                let mut out = b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec();
                out.extend_from_slice(&early[..n]);
                sock.write_all(&out)?;
            } else {
                dribble(&mut sock, b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            }
            pump(sock, upstream)
        }
        Flavor::Socks5 { auth, reply } => {
            let hello = read_n(&mut sock, 2)?;
            ensure!(hello[0] == 5, "not SOCKS5");
            let methods = read_n(&mut sock, usize::from(hello[1]))?;
            if sent_early(&mut sock) {
                log.push("violation: request sent before the method reply".to_owned());
            }
            let method = match auth {
                Some(_) if methods.contains(&2) => 2,
                Some(_) => 0xff,
                None if methods.contains(&0) => 0,
                None => 0xff,
            };
            dribble(&mut sock, &[5, method])?;
            if method == 0xff {
                log.push("refused no acceptable method".to_owned());
                return Ok(());
            }
            if let Some((u, p)) = auth {
                let head = read_n(&mut sock, 2)?;
                let user = read_n(&mut sock, usize::from(head[1]))?;
                let plen = read_n(&mut sock, 1)?;
                let pass = read_n(&mut sock, usize::from(plen[0]))?;
                if sent_early(&mut sock) {
                    log.push("violation: request sent before the auth reply".to_owned());
                }
                if user != u.as_bytes() || pass != p.as_bytes() {
                    log.push("refused bad credentials".to_owned());
                    dribble(&mut sock, &[1, 1])?;
                    return Ok(());
                }
                dribble(&mut sock, &[1, 0])?;
            }
            let req = read_n(&mut sock, 4)?;
            ensure!(req[..3] == [5, 1, 0], "not CONNECT: {req:?}");
            let (target, connect_to) = match req[3] {
                1 => {
                    let a = read_n(&mut sock, 4)?;
                    let ip = std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]);
                    (format!("ip:{ip}"), ip.to_string())
                }
                4 => {
                    let a: [u8; 16] = read_n(&mut sock, 16)?.try_into().unwrap();
                    let ip = std::net::Ipv6Addr::from(a);
                    (format!("ip:[{ip}]"), format!("[{ip}]"))
                }
                3 => {
                    let len = read_n(&mut sock, 1)?;
                    let name = String::from_utf8(read_n(&mut sock, usize::from(len[0]))?)?;
                    (format!("domain:{name}"), name)
                }
                other => bail!("address type {other}"),
            };
            let port = u16::from_be_bytes(read_n(&mut sock, 2)?.try_into().unwrap());
            if reply != 0 {
                log.push(format!("refused reply {reply}"));
                dribble(&mut sock, &[5, reply, 0, 1, 0, 0, 0, 0, 0, 0])?;
                return Ok(());
            }
            let upstream = TcpStream::connect(format!("{connect_to}:{port}"))?;
            log.push(format!("tunnel {target}:{port}"));
            // A domain-typed bound address, to exercise the variable-length reply.
            dribble(
                &mut sock,
                &[5, 0, 0, 3, 4, b'p', b'r', b'x', b'y', 0x04, 0x38],
            )?;
            pump(sock, upstream)
        }
    }
}

/// Copies both ways until either side closes.
fn pump(client: TcpStream, upstream: TcpStream) -> anyhow::Result<()> {
    let _ = client.set_read_timeout(None);
    let (mut c2, mut u2) = (client.try_clone()?, upstream.try_clone()?);
    let up = thread::spawn(move || {
        let mut client = client;
        let mut upstream = upstream;
        let _ = std::io::copy(&mut client, &mut upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

use crate::servers::ws_client as ws;

/// One text echo over `ws`, then a clean close.
async fn echo_once(builder: WsStreamBuilder, url: &str) -> anyhow::Result<()> {
    let mut ws = builder.connect(url).await?;
    ws.send_text("through the tunnel").await?;
    match ws.recv().await? {
        Some(Message::Text("through the tunnel")) => {}
        other => bail!("expected the echo, got {other:?}"),
    }
    ws.close(CloseCode::Normal, "").await?;
    Ok(())
}

/// A one-response HTTP server: answers `GET` with `body`.
fn http_server(conns: usize, body: &'static str) -> SocketAddr {
    raw_server(conns, move |mut sock| {
        if read_head(&mut sock).is_ok() {
            let _ = write!(
                sock,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
    })
}

/// One GET through `builder`; the body.
async fn get(builder: HttpConnectionBuilder, url: &str) -> Result<String, RestError> {
    let mut conn = builder.connect(url).await?;
    let mut writer = RequestWriter::for_url(url)?;
    let mut reader = ResponseReader::new(1024);
    let req = writer.get("/").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    Ok(String::from_utf8_lossy(resp.body()).into_owned())
}

fn http(rt: &Runtime) -> HttpConnectionBuilder {
    HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(10))
}

/// An HTTP `CONNECT` proxy behind TLS (an `https://` proxy), built from this crate's own
/// server TLS and async-net; serves `conns` tunnels, stops after [`PEER_TIMEOUT`].
fn tls_connect_proxy(pki: &TestPki, conns: usize) -> SocketAddr {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = pki.server();
    thread::spawn(move || {
        async_io::block_on(async move {
            let listener = async_net::TcpListener::try_from(listener).expect("listener");
            for _ in 0..conns {
                let timeout = async_io::Timer::after(PEER_TIMEOUT);
                let sock = match futures::future::select(Box::pin(listener.accept()), timeout).await
                {
                    futures::future::Either::Left((Ok((s, _)), _)) => s,
                    _ => return,
                };
                let Ok(mut tls) = server.accept(sock).await else {
                    continue;
                };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if tls.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(target) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                else {
                    return;
                };
                let Ok(upstream) = async_net::TcpStream::connect(target).await else {
                    return;
                };
                if tls.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.is_err() {
                    return;
                }
                let (mut tr, mut tw) = tls.split();
                let (mut ur, mut uw) = (upstream.clone(), upstream);
                let up = async {
                    let _ = futures::io::copy(&mut tr, &mut uw).await;
                    let _ = uw.close().await;
                };
                let down = async {
                    let _ = futures::io::copy(&mut ur, &mut tw).await;
                    let _ = tw.close().await;
                };
                futures::join!(up, down);
            }
        });
    });
    addr
}

// ---------------------------------------------------------------------------------------
// Behaviours: the scripted proxy
// ---------------------------------------------------------------------------------------

/// `ws://`, `wss://` and REST go through an HTTP `CONNECT` proxy that wants credentials
/// and dribbles its reply; TLS names the target (`localhost`), not the proxy.
pub async fn ws_wss_and_rest_go_through_an_http_connect_proxy(rt: Runtime) -> anyhow::Result<()> {
    let auth = Some(("alice", "s3cret"));
    let proxy = TestProxy::start(Flavor::Connect {
        auth,
        coalesce: false,
    });
    let via = Proxy::http(&proxy.url("http", auth))?;
    let plain = ws_echo_server(1, None);
    echo_once(
        ws(&rt).proxy(via.clone()),
        &format!("ws://localhost:{}/", plain.port()),
    )
    .await?;
    let pki = TestPki::new(0);
    let secure = ws_echo_server(1, Some(pki.server()));
    echo_once(
        ws(&rt).proxy(via.clone()).tls(&pki.client()),
        &format!("wss://localhost:{}/", secure.port()),
    )
    .await?;
    let web = http_server(1, "hello via connect");
    let body = get(
        http(&rt).proxy(via),
        &format!("http://127.0.0.1:{}/", web.port()),
    )
    .await?;
    ensure!(body == "hello via connect", "{body}");
    ensure!(
        proxy.tunnels()
            == [
                format!("localhost:{}", plain.port()),
                format!("localhost:{}", secure.port()),
                format!("127.0.0.1:{}", web.port()),
            ],
        "{:?}",
        proxy.log.lines()
    );
    Ok(())
}

/// An `https://` proxy: TLS to the proxy (checked against the proxy's name), `CONNECT`
/// inside it, then TLS to the target inside the tunnel (checked against the target's
/// name); custom `CONNECT` headers reach the proxy.
pub async fn a_tls_proxy_carries_wss_and_custom_headers_reach_the_proxy(
    rt: Runtime,
) -> anyhow::Result<()> {
    let pki = TestPki::new(0);
    let tls_proxy = tls_connect_proxy(&pki, 1);
    let target = ws_echo_server(1, Some(pki.server()));
    echo_once(
        ws(&rt).tls(&pki.client()).proxy(Proxy::http(&format!(
            "https://localhost:{}",
            tls_proxy.port()
        ))?),
        &format!("wss://localhost:{}/", target.port()),
    )
    .await?;
    let tagging = TestProxy::start(Flavor::Connect {
        auth: None,
        coalesce: false,
    });
    let plain = ws_echo_server(1, None);
    echo_once(
        ws(&rt).proxy(Proxy::http(&tagging.url("http", None))?.header("X-Proxy-Tag", "desk-7")),
        &format!("ws://{plain}/"),
    )
    .await?;
    ensure!(
        tagging.log.lines().first().map(String::as_str) == Some("header desk-7"),
        "{:?}",
        tagging.log.lines()
    );
    Ok(())
}

/// Without the credentials the proxy wants, `connect` fails with the proxy's 407, as a
/// typed error that says what to do.
pub async fn a_proxy_refusal_is_a_typed_error_with_its_status(rt: Runtime) -> anyhow::Result<()> {
    let proxy = TestProxy::start(Flavor::Connect {
        auth: Some(("alice", "s3cret")),
        coalesce: false,
    });
    let target = ws_echo_server(0, None);
    for creds in [None, Some(("alice", "wrong"))] {
        let via = Proxy::http(&proxy.url("http", creds))?;
        let err = ws(&rt)
            .proxy(via.clone())
            .connect(&format!("ws://{target}/"))
            .await
            .err()
            .context("connected without credentials")?;
        let WsError::Proxy(e) = &err else {
            bail!("{err:?}")
        };
        ensure!(
            e.status() == Some(407) && e.proxy() == proxy.addr.to_string(),
            "{e:?}"
        );
        ensure!(
            err.to_string().starts_with(&format!(
                "proxy {}: the proxy refused the tunnel: 407 ",
                proxy.addr
            )),
            "{err}"
        );
        let rest = get(http(&rt).proxy(via), &format!("http://{target}/"))
            .await
            .err()
            .context("REST connected without credentials")?;
        ensure!(
            matches!(&rest, RestError::Proxy(e) if e.status() == Some(407)),
            "{rest:?}"
        );
    }
    Ok(())
}

/// A response the target sent before the client wrote anything, delivered by the proxy in
/// the same segment as its 200, is not lost.
pub async fn bytes_the_proxy_sent_after_its_response_are_kept(rt: Runtime) -> anyhow::Result<()> {
    let proxy = TestProxy::start(Flavor::Connect {
        auth: None,
        coalesce: true,
    });
    // Speaks first: the response is on the wire before the request.
    let eager = raw_server(1, |mut sock| {
        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly");
        let _ = read_head(&mut sock);
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
    });
    let via = Proxy::http(&proxy.url("http", None))?;
    let body = get(http(&rt).proxy(via), &format!("http://{eager}/")).await?;
    ensure!(body == "early", "{body:?}");
    Ok(())
}

/// SOCKS5 with username/password, every reply dribbled a byte at a time: `socks5h://`
/// hands the proxy the name, `socks5://` an address resolved here; WebSocket and REST
/// both work, and no request is sent before the proxy answered the one before.
pub async fn socks5_and_socks5h_tunnel_with_credentials(rt: Runtime) -> anyhow::Result<()> {
    let auth = Some(("bob", "pa:ss"));
    let proxy = TestProxy::start(Flavor::Socks5 { auth, reply: 0 });
    let target = ws_echo_server(2, None);
    let url = format!("ws://localhost:{}/", target.port());
    echo_once(
        ws(&rt).proxy(Proxy::socks5(
            &proxy.url("socks5h", Some(("bob", "pa%3Ass"))),
        )?),
        &url,
    )
    .await?;
    echo_once(
        ws(&rt).proxy(Proxy::socks5(&proxy.url("socks5", None))?.basic_auth("bob", "pa:ss")),
        &url,
    )
    .await?;
    let web = http_server(1, "hello via socks");
    let body = get(
        http(&rt).proxy(Proxy::socks5(
            &proxy.url("socks5h", Some(("bob", "pa%3Ass"))),
        )?),
        &format!("http://127.0.0.1:{}/", web.port()),
    )
    .await?;
    ensure!(body == "hello via socks", "{body}");
    let tunnels = proxy.tunnels();
    ensure!(tunnels.len() == 3, "{:?}", proxy.log.lines());
    ensure!(
        tunnels[0] == format!("domain:localhost:{}", target.port()),
        "{tunnels:?}"
    );
    ensure!(
        tunnels[1] == format!("ip:127.0.0.1:{}", target.port())
            || tunnels[1] == format!("ip:[::1]:{}", target.port()),
        "socks5:// resolves locally: {tunnels:?}"
    );
    ensure!(
        tunnels[2] == format!("ip:127.0.0.1:{}", web.port()),
        "{tunnels:?}"
    );
    ensure!(proxy.violations().is_empty(), "{:?}", proxy.violations());
    Ok(())
}

/// Every way a SOCKS5 proxy says no is its own typed error, and a proxy that never
/// answers is cut off by the connect timeout.
pub async fn socks5_refusals_and_a_silent_proxy_are_typed_errors(
    rt: Runtime,
) -> anyhow::Result<()> {
    let target = ws_echo_server(0, None);
    let url = format!("ws://{target}/");
    let kind_of = |res: Result<_, WsError>| match res {
        Err(WsError::Proxy(e)) => Ok(e.kind().clone()),
        Err(other) => bail!("not a proxy error: {other:?}"),
        Ok(_) => bail!("connected"),
    };
    let refusing = TestProxy::start(Flavor::Socks5 {
        auth: None,
        reply: 5,
    });
    let kind = kind_of(
        ws(&rt)
            .proxy(Proxy::socks5(&refusing.url("socks5h", None))?)
            .connect(&url)
            .await,
    )?;
    ensure!(
        kind == ProxyErrorKind::Socks(SocksReply::ConnectionRefused),
        "{kind:?}"
    );
    let locked = TestProxy::start(Flavor::Socks5 {
        auth: Some(("bob", "right")),
        reply: 0,
    });
    let kind = kind_of(
        ws(&rt)
            .proxy(Proxy::socks5(
                &locked.url("socks5", Some(("bob", "wrong"))),
            )?)
            .connect(&url)
            .await,
    )?;
    ensure!(kind == ProxyErrorKind::SocksAuthRejected(1), "{kind:?}");
    let kind = kind_of(
        ws(&rt)
            .proxy(Proxy::socks5(&locked.url("socks5", None))?)
            .connect(&url)
            .await,
    )?;
    ensure!(
        kind == ProxyErrorKind::SocksNoAcceptableMethod {
            offered_password: false
        },
        "{kind:?}"
    );
    let silent = TestProxy::start(Flavor::Silent);
    let res = ws(&rt)
        .connect_timeout(Duration::from_millis(300))
        .proxy(Proxy::socks5(&silent.url("socks5", None))?)
        .connect(&url)
        .await;
    ensure!(matches!(res, Err(WsError::Timeout("connect"))), "{res:?}");
    Ok(())
}

/// Environment-style settings pick the proxy by scheme, and `NO_PROXY` targets connect
/// directly.
pub async fn env_rules_pick_the_proxy_and_no_proxy_bypasses_it(rt: Runtime) -> anyhow::Result<()> {
    let proxy = TestProxy::start(Flavor::Connect {
        auth: None,
        coalesce: false,
    });
    let proxy_url = proxy.url("http", None);
    let vars = [
        ("http_proxy", proxy_url.as_str()),
        ("NO_PROXY", "localhost"),
    ];
    let config = ProxyConfig::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    });
    let target = ws_echo_server(2, None);
    let opts = |b: WsStreamBuilder| {
        let o = b.get_connect_options().clone().proxy_config(config.clone());
        b.connect_options(o)
    };
    echo_once(opts(ws(&rt)), &format!("ws://127.0.0.1:{}/", target.port())).await?;
    echo_once(opts(ws(&rt)), &format!("ws://localhost:{}/", target.port())).await?;
    ensure!(
        proxy.tunnels() == [format!("127.0.0.1:{}", target.port())],
        "only the first went through the proxy: {:?}",
        proxy.log.lines()
    );
    ensure!(NoProxy::parse("localhost").matches("localhost", 1));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Real proxies: tinyproxy (HTTP CONNECT) and microsocks (SOCKS5)
// ---------------------------------------------------------------------------------------

/// A proxy program running as a child process on loopback; killed by PID when dropped.
pub struct RealProxy {
    child: Child,
    pub port: u16,
    _dir: Option<std::path::PathBuf>,
}

impl Drop for RealProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(program: &str, args: &[&str]) -> anyhow::Result<Child> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "{program} is not installed: `apt-get install tinyproxy microsocks` (.ci/run does)"
            )
        })
}

impl RealProxy {
    /// tinyproxy, with Basic credentials when `auth` is set.
    pub fn tinyproxy(auth: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("nexus-tinyproxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nLogLevel Critical\n"
        );
        if let Some((u, p)) = auth {
            conf.push_str(&format!("BasicAuth {u} {p}\n"));
        }
        let path = dir.join("tinyproxy.conf");
        std::fs::write(&path, conf)?;
        let child = spawn("tinyproxy", &["-d", "-c", path.to_str().context("path")?])?;
        Self::ready(child, port, Some(dir))
    }

    /// microsocks, with username/password when `auth` is set.
    pub fn microsocks(auth: Option<(&str, &str)>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let port_s = port.to_string();
        let mut args = vec!["-i", "127.0.0.1", "-p", &port_s];
        if let Some((u, p)) = &auth {
            args.extend(["-u", u, "-P", p]);
        }
        let child = spawn("microsocks", &args)?;
        Self::ready(child, port, None)
    }

    fn ready(mut child: Child, port: u16, dir: Option<std::path::PathBuf>) -> anyhow::Result<Self> {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait()? {
                bail!("the proxy exited at start: {status}");
            }
            ensure!(
                start.elapsed() < Duration::from_secs(10),
                "the proxy did not start"
            );
            thread::sleep(Duration::from_millis(10));
        }
        Ok(Self {
            child,
            port,
            _dir: dir,
        })
    }
}

/// A WebSocket echo and a REST request through tinyproxy and microsocks, each with and
/// without credentials, and a refusal from each when the credentials are wrong.
pub async fn real_http_and_socks5_proxies_carry_ws_and_rest(rt: Runtime) -> anyhow::Result<()> {
    let creds = ("alice", "s3cret");
    for auth in [None, Some(creds)] {
        let tiny = RealProxy::tinyproxy(auth)?;
        let socks = RealProxy::microsocks(auth)?;
        let user = |scheme: &str, port: u16| match auth {
            Some((u, p)) => format!("{scheme}://{u}:{p}@127.0.0.1:{port}"),
            None => format!("{scheme}://127.0.0.1:{port}"),
        };
        for via in [
            Proxy::http(&user("http", tiny.port))?,
            Proxy::socks5(&user("socks5", socks.port))?,
            Proxy::socks5(&user("socks5h", socks.port))?,
        ] {
            let target = ws_echo_server(1, None);
            echo_once(
                ws(&rt).proxy(via.clone()),
                &format!("ws://localhost:{}/", target.port()),
            )
            .await
            .with_context(|| format!("ws through {via:?}"))?;
            let web = http_server(1, "real");
            let body = get(
                http(&rt).proxy(via.clone()),
                &format!("http://127.0.0.1:{}/", web.port()),
            )
            .await
            .with_context(|| format!("rest through {via:?}"))?;
            ensure!(body == "real", "{body}");
        }
        if auth.is_some() {
            let target = ws_echo_server(0, None);
            let url = format!("ws://{target}/");
            let wrong = ws(&rt)
                .proxy(Proxy::http(&format!("http://127.0.0.1:{}", tiny.port))?)
                .connect(&url)
                .await;
            ensure!(
                matches!(&wrong, Err(WsError::Proxy(e)) if e.status() == Some(407)),
                "tinyproxy without credentials: {wrong:?}"
            );
            let wrong = ws(&rt)
                .proxy(Proxy::socks5(&format!(
                    "socks5://bob:nope@127.0.0.1:{}",
                    socks.port
                ))?)
                .connect(&url)
                .await;
            ensure!(
                matches!(&wrong, Err(WsError::Proxy(e)) if matches!(e.kind(), ProxyErrorKind::SocksAuthRejected(_))),
                "microsocks with bad credentials: {wrong:?}"
            );
        }
    }
    Ok(())
}
