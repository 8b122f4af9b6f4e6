//! Embedded loopback peers. Every one binds `127.0.0.1:0`, runs on a thread of its own
//! (so it never depends on the runtime under test), and stops by itself: after the number
//! of connections it was asked to serve, or when its idle deadline passes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use nexus_async_net::rt::Runtime;
use nexus_async_net::tls::TlsConfig;
use nexus_async_net::ws::{Message, WsStreamBuilder};

/// How long a raw peer waits on a socket before giving up.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(20);

/// A WebSocket echo server built on this library (portable runtime, own thread). It serves
/// `conns` connections one after another and echoes every data message with its opcode.
pub fn ws_echo_server(conns: usize, tls: Option<TlsConfig>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        async_io::block_on(async move {
            let listener = async_net::TcpListener::try_from(listener).expect("async listener");
            for _ in 0..conns {
                let accept = async_io::Timer::after(PEER_TIMEOUT);
                let sock = match futures::future::select(Box::pin(listener.accept()), accept).await
                {
                    futures::future::Either::Left((Ok((s, _)), _)) => s,
                    _ => return,
                };
                let mut builder = WsStreamBuilder::new()
                    .runtime(Runtime::portable())
                    .buffer_capacity(64 * 1024)
                    .max_message_size(32 << 20);
                if let Some(tls) = &tls {
                    builder = builder.tls(tls);
                }
                let Ok(mut ws) = builder.accept(sock).await else {
                    continue;
                };
                while let Ok(Some(msg)) = ws.recv().await {
                    let res = match msg {
                        Message::Text(t) => {
                            let t = t.to_owned();
                            ws.send_text(&t).await
                        }
                        Message::Binary(b) => {
                            let b = b.to_vec();
                            ws.send_binary(&b).await
                        }
                        Message::Ping(p) => ws.send_pong(p).await,
                        Message::Pong(_) | Message::Close(_) => Ok(()),
                    };
                    if res.is_err() {
                        break;
                    }
                }
            }
        });
    });
    addr
}

/// A raw TCP peer running `script` on each of `conns` accepted connections (blocking std
/// sockets with read/write timeouts).
pub fn raw_server<F>(conns: usize, script: F) -> SocketAddr
where
    F: Fn(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    thread::spawn(move || {
        let deadline = std::time::Instant::now() + PEER_TIMEOUT;
        let mut served = 0;
        while served < conns && std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((sock, _)) => {
                    served += 1;
                    let _ = sock.set_nonblocking(false);
                    let _ = sock.set_read_timeout(Some(PEER_TIMEOUT));
                    let _ = sock.set_write_timeout(Some(PEER_TIMEOUT));
                    let _ = sock.set_nodelay(true);
                    script(sock);
                }
                Err(_) => thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    addr
}

/// Reads an HTTP head (up to the blank line) from a raw socket.
pub fn read_head(sock: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The `Sec-WebSocket-Accept` value for a key (RFC 6455 §4.2.2), computed independently
/// of the library with a tiny SHA-1 so raw peers do not trust the code under test.
pub fn accept_key(key: &str) -> String {
    use base64::Engine;
    let mut input = key.as_bytes().to_vec();
    input.extend_from_slice(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha1_digest(&input))
}

fn sha1_digest(data: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(data).into()
}

/// Answers a client's upgrade request on a raw socket with a 101 and returns the head.
pub fn raw_accept(sock: &mut TcpStream) -> std::io::Result<String> {
    let head = read_head(sock)?;
    let key = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&key)
    );
    sock.write_all(resp.as_bytes())?;
    Ok(head)
}

/// Sends a client upgrade request on a raw socket and reads the response head.
pub fn raw_connect(sock: &mut TcpStream, extra: &str) -> std::io::Result<String> {
    let req = format!(
        "GET /raw HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    );
    sock.write_all(req.as_bytes())?;
    read_head(sock)
}

/// Encodes one frame by hand (independent of the library). `mask` for client frames.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(m) => {
            out.extend_from_slice(&m);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// One frame read by a raw peer: (fin, opcode, unmasked payload).
pub fn read_frame(sock: &mut TcpStream) -> std::io::Result<(bool, u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    sock.read_exact(&mut h)?;
    let mut len = u64::from(h[1] & 0x7F);
    if len == 126 {
        let mut b = [0u8; 2];
        sock.read_exact(&mut b)?;
        len = u64::from(u16::from_be_bytes(b));
    } else if len == 127 {
        let mut b = [0u8; 8];
        sock.read_exact(&mut b)?;
        len = u64::from_be_bytes(b);
    }
    let mask = if h[1] & 0x80 != 0 {
        let mut m = [0u8; 4];
        sock.read_exact(&mut m)?;
        Some(m)
    } else {
        None
    };
    let mut payload = vec![0u8; usize::try_from(len).map_err(|_| std::io::ErrorKind::InvalidData)?];
    sock.read_exact(&mut payload)?;
    if let Some(m) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= m[i % 4];
        }
    }
    Ok((h[0] & 0x80 != 0, h[0] & 0x0F, payload))
}

/// A throw-away PKI made at test time: a CA and a leaf for `localhost` / `127.0.0.1`.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate (PEM), to trust on the client.
    pub ca_pem: String,
    /// The leaf certificate followed by the CA (PEM).
    pub chain_pem: String,
    /// The leaf's private key (PEM).
    pub key_pem: String,
}

impl TestPki {
    /// Makes a CA and a leaf signed by it, with `intermediates` extra CAs in between.
    pub fn new(intermediates: usize) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let ca_pem = ca.pem();
        let mut issuer = (ca, ca_key);
        let mut chain_tail = vec![ca_pem.clone()];
        for _ in 0..intermediates {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params
                .signed_by(&key, &issuer.0, &issuer.1)
                .expect("intermediate");
            chain_tail.insert(0, cert.pem());
            issuer = (cert, key);
        }
        let leaf_key = KeyPair::generate().expect("key");
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("params");
        let leaf = params
            .signed_by(&leaf_key, &issuer.0, &issuer.1)
            .expect("leaf");
        let mut chain_pem = leaf.pem();
        for c in chain_tail {
            chain_pem.push_str(&c);
        }
        Self {
            ca_pem,
            chain_pem,
            key_pem: leaf_key.serialize_pem(),
        }
    }

    /// A client config trusting only this CA.
    pub fn client(&self) -> TlsConfig {
        TlsConfig::builder()
            .no_default_roots()
            .add_root_pem(self.ca_pem.as_bytes())
            .expect("ca pem")
            .build()
            .expect("client config")
    }

    /// A server config presenting the leaf.
    pub fn server(&self) -> TlsConfig {
        TlsConfig::server_from_pem(self.chain_pem.as_bytes(), self.key_pem.as_bytes())
            .expect("server config")
    }
}

/// A one-way channel from a peer thread to the async test: the test awaits it instead of
/// blocking an executor thread (smol's and async-std's executors have few threads).
pub fn report<T>() -> (Reporter<T>, Report<T>) {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    (Reporter(tx), Report(rx))
}

/// The sending side of [`report`]; usable from any thread.
#[derive(Debug)]
pub struct Reporter<T>(futures::channel::mpsc::UnboundedSender<T>);

impl<T> Clone for Reporter<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Reporter<T> {
    /// Sends a value; a test that stopped listening is ignored.
    pub fn send(&self, value: T) {
        let _ = self.0.unbounded_send(value);
    }
}

/// The receiving side of [`report`].
#[derive(Debug)]
pub struct Report<T>(futures::channel::mpsc::UnboundedReceiver<T>);

impl<T> Report<T> {
    /// The next value, waiting at most 10 s without blocking the executor.
    pub async fn recv(&mut self) -> anyhow::Result<T> {
        use futures::StreamExt;
        let timer = async_io::Timer::after(Duration::from_secs(10));
        match futures::future::select(self.0.next(), timer).await {
            futures::future::Either::Left((Some(v), _)) => Ok(v),
            futures::future::Either::Left((None, _)) => Err(anyhow::anyhow!("peer hung up")),
            futures::future::Either::Right(_) => Err(anyhow::anyhow!("peer report timed out")),
        }
    }
}

/// Runs blocking peer code on a thread of its own and reports its result.
pub fn peer_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Report<T> {
    let (tx, rx) = report();
    thread::spawn(move || tx.send(f()));
    rx
}

/// Yields to the executor once (lets the other futures of the same task run).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// The client builder of the feed and proxy behaviours: the runtime under test, Nagle off,
/// a 10 s connect timeout.
pub fn ws_client(rt: &nexus_async_net::rt::Runtime) -> WsStreamBuilder {
    WsStreamBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .connect_timeout(Duration::from_secs(10))
}
