//! TLS behaviour over real loopback sockets, with certificates generated at test time.

use std::io::{Read, Write};
use std::sync::Arc;

use async_net::TcpStream;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
};

use super::{MaybeTls, TlsConfig, TlsError};

/// A CA (PEM) and a server chain signed by it through `intermediates` sub-CAs.
struct Pki {
    ca_pem: String,
    /// Leaf first, then the intermediates, nearest first.
    chain: Vec<Pem>,
    key_pem: String,
}

impl Pki {
    fn new(names: &[&str], intermediates: usize) -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params("test root").self_signed(&ca_key).unwrap();
        let ca_pem = ca.pem();
        let (mut issuer, mut issuer_key) = (ca, ca_key);
        let mut subs = Vec::new();
        for i in 0..intermediates {
            let key = KeyPair::generate().unwrap();
            let cert = ca_params(&format!("test intermediate {i}"))
                .signed_by(&key, &issuer, &issuer_key)
                .unwrap();
            subs.push(Pem::of(&cert));
            (issuer, issuer_key) = (cert, key);
        }
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let leaf = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &issuer, &issuer_key)
            .unwrap();
        let mut chain = vec![Pem::of(&leaf)];
        chain.extend(subs.into_iter().rev());
        Self {
            ca_pem,
            chain,
            key_pem: key.serialize_pem(),
        }
    }

    fn chain_pem(&self) -> String {
        self.chain.iter().map(|c| c.pem.as_str()).collect()
    }

    fn server(&self) -> TlsConfig {
        TlsConfig::server_from_pem(self.chain_pem().as_bytes(), self.key_pem.as_bytes()).unwrap()
    }

    fn client(&self) -> TlsConfig {
        TlsConfig::builder()
            .no_default_roots()
            .add_root_pem(self.ca_pem.as_bytes())
            .unwrap()
            .build()
            .unwrap()
    }
}

/// One certificate, kept as PEM (rcgen's `Certificate` is not `Clone`).
struct Pem {
    pem: String,
    der_len: usize,
}

impl Pem {
    fn of(cert: &Certificate) -> Self {
        Self {
            pem: cert.pem(),
            der_len: cert.der().len(),
        }
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params
}

/// A connected loopback TCP pair (client, server).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), server.unwrap().0)
}

type Pair = (MaybeTls<TcpStream>, MaybeTls<TcpStream>);

async fn tls_pair(client: &TlsConfig, server: &TlsConfig, name: &str) -> Pair {
    let (c, s) = tcp_pair().await;
    let (c, s) = futures::join!(client.connect(name, c), server.accept(s));
    (c.unwrap(), s.unwrap())
}

#[test]
fn client_and_server_echo_over_tls_with_a_custom_ca() {
    let pki = Pki::new(&["localhost"], 0);
    smol::block_on(async {
        let (mut c, mut s) = tls_pair(&pki.client(), &pki.server(), "localhost").await;
        assert!(c.is_tls() && s.is_tls());
        let echo = async {
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
            s.flush().await.unwrap();
        };
        let client = async {
            c.write_all(b"hello").await.unwrap();
            c.flush().await.unwrap();
            let mut buf = [0u8; 5];
            c.read_exact(&mut buf).await.unwrap();
            buf
        };
        let ((), got) = futures::join!(echo, client);
        assert_eq!(&got, b"hello");
    });
}

/// Writes `data` with one `write_all` call while reading `expect` from the peer.
async fn exchange(stream: MaybeTls<TcpStream>, data: &[u8], expect: &[u8]) {
    let (mut r, mut w) = stream.split();
    let write = async {
        w.write_all(data).await.unwrap();
        w.flush().await.unwrap();
    };
    let read = async {
        let mut got = vec![0u8; expect.len()];
        r.read_exact(&mut got).await.unwrap();
        assert!(got == expect, "payload corrupted");
    };
    futures::join!(write, read);
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn messages_over_64_kib_cross_both_ways_in_single_writes() {
    let pki = Pki::new(&["localhost"], 0);
    let up = pattern(200 * 1024, 0x5a);
    let down = pattern(300 * 1024 + 7, 0xa5);
    smol::block_on(async {
        let (c, s) = tls_pair(&pki.client(), &pki.server(), "localhost").await;
        futures::join!(exchange(c, &up, &down), exchange(s, &down, &up));
    });
}

#[test]
fn a_burst_of_small_records_over_16_kib_is_read_through_a_tiny_buffer() {
    let pki = Pki::new(&["localhost"], 0);
    let total = 256 * 1024;
    smol::block_on(async {
        let (mut c, mut s) = tls_pair(&pki.client(), &pki.server(), "localhost").await;
        let burst = async {
            // Many records queued before one flush: far more than rustls' plaintext buffer.
            for chunk in pattern(total, 1).chunks(1000) {
                s.write_all(chunk).await.unwrap();
            }
            s.flush().await.unwrap();
        };
        let read = async {
            let mut got = Vec::with_capacity(total);
            let mut buf = [0u8; 7];
            while got.len() < total {
                let n = c.read(&mut buf).await.unwrap();
                assert_ne!(n, 0, "early EOF");
                got.extend_from_slice(&buf[..n]);
            }
            got
        };
        let ((), got) = futures::join!(burst, read);
        assert!(got == pattern(total, 1));
    });
}

#[test]
fn a_ten_certificate_chain_larger_than_4_kib_completes_the_handshake() {
    // webpki accepts at most 6 intermediates on a path, so the flight carries leaf + 6
    // intermediates + three unrelated CA certificates: ten in all.
    // Long names make the flight larger than rustls' 4096-byte read step however small
    // ECDSA certificates get.
    let names: Vec<String> = (0..40)
        .map(|i| format!("replica-{i:02}.feed.example.test"))
        .collect();
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.push("localhost");
    let pki = Pki::new(&names, 6);
    let mut chain_pem = pki.chain_pem();
    let mut flight: usize = pki.chain.iter().map(|c| c.der_len).sum();
    for i in 0..3 {
        let key = KeyPair::generate().unwrap();
        let extra = ca_params(&format!("unrelated {i}"))
            .self_signed(&key)
            .unwrap();
        chain_pem.push_str(&extra.pem());
        flight += extra.der().len();
    }
    assert_eq!(pki.chain.len() + 3, 10);
    assert!(flight > 4096, "chain is only {flight} bytes");
    let server = TlsConfig::server_from_pem(chain_pem.as_bytes(), pki.key_pem.as_bytes()).unwrap();
    smol::block_on(async {
        let (mut c, mut s) = tls_pair(&pki.client(), &server, "localhost").await;
        let (w, r) = futures::join!(
            async {
                s.write_all(b"chain ok").await.unwrap();
                s.flush().await.unwrap();
            },
            async {
                let mut buf = [0u8; 8];
                c.read_exact(&mut buf).await.unwrap();
                buf
            }
        );
        let () = w;
        assert_eq!(&r, b"chain ok");
    });
}

#[test]
fn tls13_data_sent_with_the_servers_handshake_flight_is_received() {
    let pki = Pki::new(&["localhost"], 0);
    let chain = super::config::certs_from_pem(pki.chain_pem().as_bytes()).unwrap();
    let key = super::config::key_from_pem(pki.key_pem.as_bytes()).unwrap();
    let mut server_cfg = rustls::ServerConfig::builder_with_provider(super::config::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    // 0.5-RTT: the server's first application data leaves with its Finished message.
    server_cfg.send_half_rtt_data = true;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(server_cfg)).unwrap();
        conn.writer().write_all(b"snapshot").unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).unwrap();
        }
        while conn.wants_write() {
            conn.write_tls(&mut tcp).unwrap();
        }
        // Wait for the client to finish, then stop by ourselves.
        let _ = tcp.read(&mut [0u8; 1024]);
    });
    smol::block_on(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client = TlsConfig::builder()
            .no_default_roots()
            .add_root_pem(pki.ca_pem.as_bytes())
            .unwrap()
            .tls13_only()
            .build()
            .unwrap();
        let mut c = client.connect("localhost", tcp).await.unwrap();
        let mut buf = [0u8; 8];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"snapshot");
        c.close().await.unwrap();
    });
    server.join().unwrap();
}

#[test]
fn closing_sends_close_notify_so_the_peer_reads_a_clean_eof() {
    let pki = Pki::new(&["localhost"], 0);
    smol::block_on(async {
        let (mut c, mut s) = tls_pair(&pki.client(), &pki.server(), "localhost").await;
        c.write_all(b"bye").await.unwrap();
        c.close().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"bye");
    });
}

#[test]
fn closing_only_the_transport_is_seen_by_the_peer_as_truncation() {
    // The control for the test above: without close_notify the peer must not see a clean EOF.
    let pki = Pki::new(&["localhost"], 0);
    smol::block_on(async {
        let (mut c, mut s) = tls_pair(&pki.client(), &pki.server(), "localhost").await;
        c.get_mut().close().await.unwrap();
        let err = s.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    });
}

/// The client's handshake error against `server`, as `name`.
fn client_error(client: &TlsConfig, server: &TlsConfig, name: &str) -> TlsError {
    smol::block_on(async {
        let (c, s) = tcp_pair().await;
        let (c, _s) = futures::join!(client.connect(name, c), server.accept(s));
        match c {
            Err(e) => e,
            Ok(_) => panic!("the handshake with {name} succeeded"),
        }
    })
}

#[test]
fn a_wrong_host_name_names_the_host_asked_and_the_names_in_the_certificate() {
    let pki = Pki::new(&["localhost", "feed.local"], 0);
    let err = client_error(&pki.client(), &pki.server(), "example.com");
    assert!(
        matches!(&err, TlsError::Handshake(f) if f.is_certificate()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "TLS handshake with example.com failed: the server's certificate is not valid for \
         example.com: it is for localhost, feed.local; connect with a name it holds, or fix \
         its subjectAltName"
    );
}

#[test]
fn an_unknown_issuer_says_which_roots_were_trusted() {
    let pki = Pki::new(&["localhost"], 0);
    let other_key = KeyPair::generate().unwrap();
    let other_ca = ca_params("another root").self_signed(&other_key).unwrap();
    let other = TlsConfig::builder()
        .no_default_roots()
        .add_root_pem(other_ca.pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let err = client_error(&other, &pki.server(), "localhost");
    assert_eq!(
        err.to_string(),
        "TLS handshake with localhost failed: the server's certificate is not signed by a \
         trusted root (trusted: only the 1 root(s) added with add_root_pem/add_root_der; the \
         built-in roots are off); for a private CA, trust it with \
         TlsConfigBuilder::add_root_pem; a public server may be leaving out its intermediate \
         certificates"
    );
    let builtin = TlsConfig::new().unwrap();
    let text = client_error(&builtin, &pki.server(), "localhost").to_string();
    assert!(text.contains("(trusted: the "), "{text}");
    assert!(text.contains(" built-in Mozilla roots)"), "{text}");
}

/// What a plain `openssl req -x509` makes: a self-signed certificate marked CA:TRUE.
#[test]
fn a_self_signed_ca_certificate_as_the_servers_own_is_explained() {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let server =
        TlsConfig::server_from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let client = TlsConfig::builder()
        .no_default_roots()
        .add_root_pem(cert.pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    let text = client_error(&client, &server, "localhost").to_string();
    assert!(
        text.starts_with(
            "TLS handshake with localhost failed: the server presented a CA certificate \
             (basicConstraints CA:TRUE) as its own"
        ),
        "{text}"
    );
    assert!(text.contains("openssl req -x509"), "{text}");
}

/// The recipe the `tls` module docs give: a self-signed leaf (CA:FALSE, with a
/// subjectAltName), trusted with `add_root_pem`, works.
#[test]
fn a_self_signed_leaf_trusted_as_a_root_verifies() {
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let server =
        TlsConfig::server_from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap();
    let client = TlsConfig::builder()
        .no_default_roots()
        .add_root_pem(cert.pem().as_bytes())
        .unwrap()
        .build()
        .unwrap();
    smol::block_on(async {
        let (mut c, _s) = tls_pair(&client, &server, "localhost").await;
        assert!(c.is_tls());
        c.close().await.unwrap();
    });
}

/// `wss://` or `https://` to a server that answers in plain HTTP.
#[test]
fn a_server_that_does_not_speak_tls_is_named_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let err = smol::block_on(async {
        let tcp = TcpStream::connect(addr).await.unwrap();
        TlsConfig::new()
            .unwrap()
            .connect("localhost", tcp)
            .await
            .unwrap_err()
    });
    server.join().unwrap();
    assert_eq!(
        err.to_string(),
        "TLS handshake with localhost failed: the server did not answer in TLS (what it sent \
         is not a TLS record): it probably speaks plain HTTP or WebSocket on this port; use \
         ws:// or http://, or check the port"
    );
}

#[test]
fn ip_literals_verify_against_ip_addresses_and_lose_their_brackets() {
    let pki = Pki::new(&["127.0.0.1", "::1"], 0);
    smol::block_on(async {
        for name in ["127.0.0.1", "[::1]", "::1"] {
            let (mut c, _s) = tls_pair(&pki.client(), &pki.server(), name).await;
            assert!(c.is_tls());
            c.close().await.unwrap();
        }
    });
}

#[test]
fn a_malformed_server_name_is_rejected_before_any_io() {
    let pki = Pki::new(&["localhost"], 0);
    smol::block_on(async {
        let (c, _s) = tcp_pair().await;
        let err = pki.client().connect("not a name!", c).await.unwrap_err();
        assert!(matches!(err, TlsError::InvalidServerName(n) if n == "not a name!"));
    });
}

#[test]
fn accept_without_a_server_side_is_a_typed_error() {
    smol::block_on(async {
        let (_c, s) = tcp_pair().await;
        let err = TlsConfig::new().unwrap().accept(s).await.unwrap_err();
        assert!(matches!(err, TlsError::NoServerConfig));
    });
}

#[test]
fn dangerous_no_verify_accepts_a_certificate_for_another_name() {
    let pki = Pki::new(&["localhost"], 0);
    let client = TlsConfig::builder().dangerous_no_verify().build().unwrap();
    smol::block_on(async {
        let (mut c, _s) = tls_pair(&client, &pki.server(), "example.com").await;
        assert!(c.is_tls());
        c.close().await.unwrap();
    });
}

#[test]
fn builder_errors_are_typed() {
    let no_roots = TlsConfig::builder().no_default_roots().build();
    assert!(matches!(no_roots, Err(TlsError::NoRootCerts)));
    let garbage = TlsConfig::builder().add_root_pem(b"not pem at all");
    assert!(matches!(garbage, Err(TlsError::Pem(_))));
    let no_key = TlsConfig::server_from_pem(Pki::new(&["a"], 0).chain_pem().as_bytes(), b"");
    assert!(matches!(no_key, Err(TlsError::Pem(_))));
}

#[test]
fn the_default_config_is_built_once_and_shared() {
    let a = TlsConfig::new().unwrap();
    let b = TlsConfig::new().unwrap();
    assert!(Arc::ptr_eq(a.client_config(), b.client_config()));
}

#[test]
fn alpn_is_offered_and_reported() {
    let pki = Pki::new(&["localhost"], 0);
    let client = TlsConfig::builder()
        .no_default_roots()
        .add_root_pem(pki.ca_pem.as_bytes())
        .unwrap()
        .alpn(vec![b"http/1.1".to_vec()])
        .build()
        .unwrap();
    let mut server_cfg = (**pki.server().server_config().unwrap()).clone();
    server_cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = TlsConfig::from_server_config(Arc::new(server_cfg)).unwrap();
    smol::block_on(async {
        let (c, s) = tls_pair(&client, &server, "localhost").await;
        assert_eq!(c.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(s.alpn_protocol(), Some(&b"http/1.1"[..]));
    });
}

#[test]
fn tls_error_is_thread_safe_and_no_bigger_than_rustls_error_plus_a_tag() {
    fn assert_err<E: std::error::Error + Send + Sync + 'static>() {}
    assert_err::<TlsError>();
    // The handshake failure is boxed: the error stays small.
    let size = std::mem::size_of::<TlsError>();
    assert!(size <= 64, "TlsError grew to {size} bytes");
}

/// What futures-rustls returns from a read after a TLS 1.3 server refused the session
/// for want of a client certificate: the alert inside an I/O error. Both error types turn
/// it into a TLS error that names the builder option.
#[test]
fn a_client_certificate_alert_after_the_handshake_becomes_a_tls_error() {
    let alert = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        )
    };
    let ws = crate::ws::WsError::from(alert());
    assert!(matches!(ws, crate::ws::WsError::Tls(_)), "{ws:?}");
    assert_eq!(
        ws.to_string(),
        "TLS session failed: the server requires a client certificate and none was sent \
         (alert certificate_required); configure one with TlsConfigBuilder::client_auth_pem"
    );
    let rest = crate::rest::RestError::from(alert());
    assert!(matches!(rest, crate::rest::RestError::Tls(_)), "{rest:?}");
    assert_eq!(rest.to_string(), ws.to_string());
    // A plain I/O error stays one.
    let reset = crate::ws::WsError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
    assert!(matches!(reset, crate::ws::WsError::Io(_)), "{reset:?}");
}
