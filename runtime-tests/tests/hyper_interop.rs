//! Interop with an independent HTTP/1.1 implementation: hyper's server (on its own tokio
//! thread, loopback only) against our `HttpConnection` and `ClientPool`, with the clients
//! on tokio and on smol. Covers fixed-length, chunked (hyper's own framing for streamed
//! bodies), large and empty bodies, echoing a POST body, keep-alive reuse and
//! `Connection: close`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use nexus_async_net::rest::{
    ClientPool, HttpConnectionBuilder, RequestWriter, ResponseReader, RestError,
};
use nexus_async_net::rt::Runtime;

type Body = BoxBody<Bytes, Infallible>;

const BIG: usize = 1 << 20;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

async fn handle(req: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    let resp = match (req.method().clone(), req.uri().path()) {
        (Method::GET | Method::HEAD, "/json") => {
            let key = req
                .headers()
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let query = req.uri().query().unwrap_or("").to_owned();
            Response::new(full(format!(r#"{{"key":"{key}","query":"{query}"}}"#)))
        }
        (Method::POST, "/echo") => {
            let body = req.into_body().collect().await?.to_bytes();
            Response::new(full(body))
        }
        (Method::GET, "/chunked") => {
            let frames = ["alpha,", "beta,", "gamma"]
                .map(|s| Ok::<_, Infallible>(Frame::data(Bytes::from_static(s.as_bytes()))));
            Response::new(StreamBody::new(futures::stream::iter(frames)).boxed())
        }
        (Method::GET, "/big") => Response::new(full(vec![b'z'; BIG])),
        (Method::GET, "/empty") => {
            let mut resp = Response::new(full(Bytes::new()));
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        }
        (Method::GET, "/close") => {
            let mut resp = Response::new(full("bye"));
            resp.headers_mut().insert(
                "connection",
                hyper::header::HeaderValue::from_static("close"),
            );
            resp
        }
        _ => {
            let mut resp = Response::new(full("no such route"));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp
        }
    };
    Ok(resp)
}

/// Starts hyper on a tokio runtime of its own thread; returns the address and the count of
/// accepted connections. The thread ends with the test process.
fn hyper_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(listener.local_addr().expect("addr"))
                .expect("report address");
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(sock), service_fn(handle))
                        .await;
                });
            }
        });
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("server address");
    (addr, accepted)
}

/// Every route over one keep-alive `HttpConnection`, then the pool.
async fn exercise(rt: Runtime, addr: SocketAddr, accepted: &AtomicUsize) -> Result<(), RestError> {
    let base = format!("http://{addr}");
    let mut conn = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(10))
        .connect(&base)
        .await?;
    let mut writer = RequestWriter::for_url(&base)?;
    writer.default_header("X-API-KEY", "k1")?;
    let mut reader = ResponseReader::new(1024).max_body_size(2 * BIG);

    let req = writer.get("/json").query("symbol", "BTC USDT").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.body_str().expect("utf-8"),
        r#"{"key":"k1","query":"symbol=BTC%20USDT"}"#
    );

    let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let req = writer
        .post("/echo")
        .header("Content-Type", "application/octet-stream")
        .body(&payload)
        .finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!((resp.status(), resp.body()), (200, &payload[..]));

    let req = writer.get("/chunked").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.body(), b"alpha,beta,gamma");

    let req = writer.get("/big").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!(resp.body().len(), BIG);
    assert!(resp.body().iter().all(|&b| b == b'z'));

    let req = writer.get("/empty").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!((resp.status(), resp.body().len()), (204, 0));

    let req = writer.head("/json").finish()?;
    let resp = conn.send(req, &mut reader).await?;
    assert_eq!((resp.status(), resp.body().len()), (200, 0));

    let req = writer.get("/missing").finish()?;
    assert_eq!(conn.send(req, &mut reader).await?.status(), 404);
    assert!(conn.is_reusable());
    assert_eq!(conn.responses(), 7, "all on one keep-alive connection");

    let req = writer.get("/close").finish()?;
    assert_eq!(conn.send(req, &mut reader).await?.body(), b"bye");
    assert!(!conn.is_reusable(), "retired after Connection: close");
    let req = writer.get("/json").finish()?;
    assert!(matches!(
        conn.send(req, &mut reader).await,
        Err(RestError::ConnectionClosed(_))
    ));

    // The pool against the same server: a closing response is replaced silently.
    let before = accepted.load(Ordering::SeqCst);
    let pool = ClientPool::builder()
        .url(&base)
        .connections(2)
        .runtime(rt)
        .build()
        .await?;
    for path in ["/json", "/close", "/json", "/close", "/chunked", "/json"] {
        let mut slot = pool.acquire().await?;
        let s = &mut *slot;
        let req = s.writer.get(path).finish()?;
        let (conn, reader) = s.conn_and_reader()?;
        assert_eq!(conn.send(req, reader).await?.status(), 200, "{path}");
    }
    assert!(accepted.load(Ordering::SeqCst) >= before + 2);
    Ok(())
}

#[test]
fn hyper_server_interop_on_tokio() {
    let (addr, accepted) = hyper_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async {
        let ours = Runtime::tokio().expect("inside tokio");
        exercise(ours, addr, &accepted).await.expect("interop");
    });
}

#[test]
fn hyper_server_interop_on_smol() {
    let (addr, accepted) = hyper_server();
    smol::block_on(async {
        exercise(Runtime::smol(), addr, &accepted)
            .await
            .expect("interop");
    });
}
