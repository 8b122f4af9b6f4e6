//! HttpConnection against a scripted raw HTTP/1.1 server on loopback.
//!
//! Each behaviour is an `async fn(Runtime) -> anyhow::Result<()>` named as a sentence, so
//! `behaviour_suite!` instantiates it on every executor. The server is plain `std::net` on its own threads, so it
//! works under any executor, counts accepted connections, and stops when dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{Context, ensure};
use nexus_async_net::rest::{
    HttpConnection, HttpConnectionBuilder, Method, ParseError, RequestWriter, ResponseReader,
    RestError,
};
use nexus_async_net::rt::Runtime;

// ---------------------------------------------------------------------------------------
// The scripted server
// ---------------------------------------------------------------------------------------

/// What the server does for one request.
#[derive(Clone, Debug)]
enum Step {
    /// Write these bytes.
    Send(&'static [u8]),
    /// Write these bytes one at a time with a pause between them.
    Trickle(&'static [u8], Duration),
    /// Write `n` bytes of `b'x'` (for bodies larger than any buffer).
    Fill(usize),
    /// Close the connection (FIN).
    Close,
    /// Reset the connection (RST).
    Reset,
    /// Never answer; keep the connection open until the server stops.
    Hang,
}

/// A loopback server answering the n-th request (over all connections) with `script[n]`
/// (the last entry repeats).
struct Server {
    port: u16,
    accepted: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(script: Vec<Vec<Step>>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (acc, reqs, stp) = (accepted.clone(), requests.clone(), stop.clone());
        thread::spawn(move || {
            for sock in listener.incoming() {
                if stp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(sock) = sock else { continue };
                acc.fetch_add(1, Ordering::SeqCst);
                let (script, reqs, stp) = (script.clone(), reqs.clone(), stp.clone());
                thread::spawn(move || serve(sock, &script, &reqs, &stp));
            }
        });
        Ok(Self {
            port,
            accepted,
            requests,
            stop,
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut sock: TcpStream,
    script: &[Vec<Step>],
    requests: &Mutex<Vec<Vec<u8>>>,
    stop: &AtomicBool,
) {
    let _ = sock.set_nodelay(true);
    loop {
        let Some(request) = read_request(&mut sock) else {
            return;
        };
        let index = {
            let Ok(mut all) = requests.lock() else { return };
            all.push(request);
            all.len() - 1
        };
        let Some(steps) = script.get(index).or(script.last()) else {
            return;
        };
        for step in steps {
            let ok = match step {
                Step::Send(bytes) => sock.write_all(bytes).is_ok(),
                Step::Trickle(bytes, pause) => bytes.iter().all(|b| {
                    thread::sleep(*pause);
                    sock.write_all(&[*b]).is_ok()
                }),
                Step::Fill(n) => sock.write_all(&vec![b'x'; *n]).is_ok(),
                Step::Close => {
                    let _ = sock.shutdown(Shutdown::Both);
                    return;
                }
                Step::Reset => {
                    let sock = socket2::Socket::from(sock);
                    let _ = sock.set_linger(Some(Duration::ZERO));
                    return;
                }
                Step::Hang => {
                    while !stop.load(Ordering::SeqCst) {
                        thread::sleep(Duration::from_millis(20));
                    }
                    return;
                }
            };
            if !ok {
                return;
            }
        }
    }
}

/// Reads one request head plus its Content-Length body; `None` at EOF or on error.
fn read_request(sock: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    sock.read_exact(&mut body).ok()?;
    buf.extend_from_slice(&body);
    Some(buf)
}

const OK_HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

async fn connect(
    server: &Server,
    rt: &Runtime,
) -> Result<HttpConnection<impl futures::io::AsyncRead + futures::io::AsyncWrite + Unpin>, RestError>
{
    HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .disable_nagle()
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(10))
        .connect(&server.url())
        .await
}

/// Five keep-alive `GET /ping?i=N` on `conn`, each answered `200 hello`.
async fn five_pings<S>(
    conn: &mut HttpConnection<S>,
    writer: &mut RequestWriter,
    reader: &mut ResponseReader,
) -> anyhow::Result<()>
where
    S: futures::io::AsyncRead + futures::io::AsyncWrite + Unpin,
{
    for i in 0..5 {
        let req = writer.get("/ping").query("i", &i.to_string()).finish()?;
        let resp = conn.send(req, reader).await?;
        ensure!(resp.status() == 200 && resp.body() == b"hello");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------

pub async fn keep_alive_reuses_one_connection_for_many_requests(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(OK_HELLO)]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::new(1024);
    five_pings(&mut conn, &mut writer, &mut reader).await?;
    ensure!(conn.is_reusable() && !conn.is_poisoned());
    ensure!(
        server.accepted() == 1,
        "accepted {} connections",
        server.accepted()
    );
    ensure!(server.requests().len() == 5);
    Ok(())
}

pub async fn post_sends_headers_and_body_with_content_length(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(
        b"HTTP/1.1 201 Created\r\nX-Id: 7\r\nContent-Length: 2\r\n\r\nok",
    )]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&format!("{}/api/v3", server.url()))?;
    writer.default_header("X-API-KEY", "k")?;
    let mut reader = ResponseReader::default();
    let req = writer
        .post("/order")
        .header("Content-Type", "application/json")
        .body(br#"{"qty":1}"#)
        .finish()?;
    let resp = conn.send(req, &mut reader).await?;
    ensure!(resp.status() == 201 && resp.reason() == "Created" && resp.header("x-id") == Some("7"));
    let seen = server.requests();
    let text = String::from_utf8_lossy(&seen[0]);
    ensure!(
        text.starts_with("POST /api/v3/order HTTP/1.1\r\nHost: 127.0.0.1:"),
        "{text}"
    );
    ensure!(
        text.contains("X-API-KEY: k\r\n") && text.ends_with("Content-Length: 9\r\n\r\n{\"qty\":1}"),
        "{text}"
    );
    Ok(())
}

pub async fn chunked_body_with_extensions_and_trailers_is_decoded(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
    )]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::new(16);
    for _ in 0..2 {
        let resp = conn.send(writer.get("/c").finish()?, &mut reader).await?;
        ensure!(resp.body_str()? == "hello world");
    }
    ensure!(conn.is_reusable() && server.accepted() == 1);
    Ok(())
}

pub async fn http10_close_delimited_body_is_read_and_retires_the_connection(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.0 200 OK\r\n\r\nuntil close"),
        Step::Close,
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let resp = conn.send(writer.get("/").finish()?, &mut reader).await?;
    ensure!(resp.body() == b"until close");
    ensure!(!conn.is_reusable() && !conn.is_poisoned());
    let again = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(again, Err(RestError::ConnectionClosed(_))),
        "{again:?}"
    );
    ensure!(
        server.requests().len() == 1,
        "nothing is written to a retired connection"
    );
    Ok(())
}

pub async fn connection_close_retires_the_connection_without_writing_again(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    )]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let resp = conn
        .send(writer.post("/order").body(b"{}").finish()?, &mut reader)
        .await?;
    ensure!(resp.body() == b"ok");
    ensure!(!conn.is_reusable());
    let again = conn
        .send(writer.post("/order").body(b"{}").finish()?, &mut reader)
        .await;
    ensure!(
        matches!(again, Err(RestError::ConnectionClosed(_))),
        "{again:?}"
    );
    ensure!(server.requests().len() == 1);
    Ok(())
}

pub async fn continue_100_before_the_final_response_is_skipped(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 100 Continue\r\n\r\n"),
        Step::Send(
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone",
        ),
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    for _ in 0..2 {
        let resp = conn
            .send(writer.post("/").body(b"x").finish()?, &mut reader)
            .await?;
        ensure!(resp.status() == 200 && resp.body() == b"done");
    }
    ensure!(server.accepted() == 1);
    Ok(())
}

pub async fn no_body_is_read_for_204_304_and_head(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![
        vec![Step::Send(b"HTTP/1.1 204 No Content\r\n\r\n")],
        vec![Step::Send(
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
        )],
        vec![Step::Send(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        )],
        vec![Step::Send(OK_HELLO)],
    ])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let statuses = [
        (writer.delete("/a").finish()?, 204),
        (writer.get("/b").finish()?, 304),
        (writer.head("/c").finish()?, 200),
    ];
    for (req, status) in statuses {
        let resp = conn.send(req, &mut reader).await?;
        ensure!(resp.status() == status && resp.body().is_empty());
    }
    // Framing stayed in step: the next response is read correctly on the same connection.
    let resp = conn.send(writer.get("/d").finish()?, &mut reader).await?;
    ensure!(resp.body() == b"hello" && server.accepted() == 1);
    Ok(())
}

pub async fn truncated_body_is_a_typed_error_and_poisons(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"),
        Step::Close,
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(got, Err(RestError::ConnectionClosed(_))),
        "{got:?}"
    );
    ensure!(conn.is_poisoned());
    let again = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(again, Err(RestError::ConnectionPoisoned)),
        "{again:?}"
    );
    ensure!(
        server.requests().len() == 1,
        "a poisoned connection does no I/O"
    );
    Ok(())
}

pub async fn reset_mid_response_is_an_io_error_and_poisons(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"),
        Step::Reset,
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(
            got,
            Err(RestError::Io(_)) | Err(RestError::ConnectionClosed(_))
        ),
        "{got:?}"
    );
    ensure!(conn.is_poisoned());
    Ok(())
}

pub async fn malformed_status_line_is_a_parse_error_and_poisons(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(b"HTTP/1.1 OK 200\r\n\r\n")]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(got, Err(RestError::Parse(ParseError::MalformedHead(_)))),
        "{got:?}"
    );
    ensure!(conn.is_poisoned());
    Ok(())
}

pub async fn oversize_head_is_head_too_large(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nX-Big: "),
        Step::Fill(64 * 1024),
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::new(1024).max_head_size(8 * 1024);
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(got, Err(RestError::HeadTooLarge { max: 8192 })),
        "{got:?}"
    );
    ensure!(reader.buffer_capacity() <= 2 * 8192 + reader.limits().max_body_size + 4096);
    ensure!(conn.is_poisoned());
    Ok(())
}

pub async fn oversize_body_is_body_too_large_with_bounded_memory(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![
        vec![
            Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n"),
            Step::Fill(100),
        ],
        vec![
            Step::Send(b"HTTP/1.1 200 OK\r\n\r\n"),
            Step::Fill(4 * 1024 * 1024),
            Step::Close,
        ],
        vec![
            Step::Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n"),
            Step::Fill(4 * 1024 * 1024),
        ],
    ])?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    for _ in 0..3 {
        let mut conn = connect(&server, &rt).await?;
        let mut reader = ResponseReader::new(1024).max_body_size(64 * 1024);
        let got = conn.send(writer.get("/").finish()?, &mut reader).await;
        ensure!(
            matches!(got, Err(RestError::BodyTooLarge { max: 65536 })),
            "{got:?}"
        );
        ensure!(reader.buffer_capacity() <= 2 * reader.limits().max_head_size + 64 * 1024 + 4096);
        ensure!(conn.is_poisoned());
    }
    Ok(())
}

pub async fn body_larger_than_the_initial_buffer_grows_the_reader(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n"),
        Step::Fill(200_000),
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::new(1024);
    for _ in 0..2 {
        let resp = conn.send(writer.get("/").finish()?, &mut reader).await?;
        ensure!(resp.body().len() == 200_000 && resp.body().iter().all(|&b| b == b'x'));
    }
    ensure!(server.accepted() == 1);
    Ok(())
}

pub async fn invalid_chunk_size_line_is_a_parse_error(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(got, Err(RestError::Parse(ParseError::InvalidChunkSize))),
        "{got:?}"
    );
    ensure!(conn.is_poisoned());
    Ok(())
}

pub async fn silent_server_gives_read_timeout_and_poisons(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Hang]])?;
    let mut conn = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .read_timeout(Duration::from_millis(200))
        .connect(&server.url())
        .await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(matches!(got, Err(RestError::ReadTimeout)), "{got:?}");
    ensure!(conn.is_poisoned());
    Ok(())
}

/// `send_timeout` bounds one request without a read timeout on the connection, poisons
/// it once the request was written, and leaves the connection's read timeout alone.
pub async fn send_timeout_bounds_one_request_and_leaves_the_read_timeout_alone(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Hang]])?;
    let mut conn = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .connect(&server.url())
        .await?;
    ensure!(conn.read_timeout().is_none());
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let guard = Some(Duration::from_secs(20));
    let got = rt
        .timeout(
            guard,
            conn.send_timeout(
                writer.get("/").finish()?,
                &mut reader,
                Duration::from_millis(200),
            ),
        )
        .await
        .context("send_timeout did not end by itself")?;
    ensure!(matches!(got, Err(RestError::ReadTimeout)), "{got:?}");
    ensure!(got.as_ref().is_err_and(RestError::is_timeout));
    ensure!(
        conn.is_poisoned(),
        "the request was written: the framing is unknown"
    );
    ensure!(
        conn.read_timeout().is_none(),
        "the per-request deadline leaked"
    );
    Ok(())
}

pub async fn body_trickling_slower_than_the_read_timeout_times_out(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"),
        Step::Trickle(
            b"0123456789012345678901234567890123456789012345678",
            Duration::from_millis(50),
        ),
        Step::Hang,
    ]])?;
    let mut conn = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .read_timeout(Duration::from_millis(300))
        .connect(&server.url())
        .await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(matches!(got, Err(RestError::ReadTimeout)), "{got:?}");
    Ok(())
}

pub async fn cancelled_send_poisons_the_connection(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![
        Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart"),
        Step::Hang,
    ]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    let req = writer.get("/").finish()?;
    let outer = rt
        .timeout(
            Some(Duration::from_millis(200)),
            conn.send(req, &mut reader),
        )
        .await;
    ensure!(outer.is_err(), "the send should have been cut off");
    ensure!(conn.is_poisoned());
    let again = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(again, Err(RestError::ConnectionPoisoned)),
        "{again:?}"
    );
    Ok(())
}

pub async fn keep_alive_closed_by_the_server_is_reported_stale(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(OK_HELLO)], vec![Step::Close]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    conn.send(writer.get("/").finish()?, &mut reader).await?;
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(matches!(got, Err(RestError::ConnectionStale)), "{got:?}");
    ensure!(got.err().is_some_and(|e| e.is_transport()));
    Ok(())
}

pub async fn idle_connection_closed_by_the_server_is_stale_and_nothing_is_written(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(OK_HELLO), Step::Close]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    conn.send(writer.get("/").finish()?, &mut reader).await?;
    // Let the FIN arrive while the connection sits idle.
    rt.sleep(Duration::from_millis(200)).await;
    let got = conn
        .send(writer.post("/order").body(b"{}").finish()?, &mut reader)
        .await;
    ensure!(matches!(got, Err(RestError::ConnectionStale)), "{got:?}");
    ensure!(!conn.is_reusable());
    let again = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(again, Err(RestError::ConnectionClosed(_))),
        "{again:?}"
    );
    ensure!(server.requests().len() == 1);
    Ok(())
}

pub async fn keep_alive_reset_before_the_response_is_reported_stale(
    rt: Runtime,
) -> anyhow::Result<()> {
    let server = Server::start(vec![vec![Step::Send(OK_HELLO)], vec![Step::Reset]])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    conn.send(writer.get("/").finish()?, &mut reader).await?;
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(matches!(got, Err(RestError::ConnectionStale)), "{got:?}");
    ensure!(conn.is_poisoned());
    Ok(())
}

pub async fn reset_mid_body_on_a_reused_connection_is_not_stale(rt: Runtime) -> anyhow::Result<()> {
    let server = Server::start(vec![
        vec![Step::Send(OK_HELLO)],
        vec![
            Step::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart"),
            Step::Reset,
        ],
    ])?;
    let mut conn = connect(&server, &rt).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::default();
    conn.send(writer.get("/").finish()?, &mut reader).await?;
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(
        matches!(
            got,
            Err(RestError::Io(_)) | Err(RestError::ConnectionClosed(_))
        ),
        "{got:?}"
    );
    Ok(())
}

pub async fn invalid_url_and_refused_connection_are_errors(rt: Runtime) -> anyhow::Result<()> {
    let got = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .connect("ftp://x")
        .await;
    ensure!(matches!(got, Err(RestError::InvalidUrl(_))));
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let got = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await;
    ensure!(matches!(got, Err(RestError::Io(_))), "{got:?}");
    Ok(())
}

/// The seed's request sequence, as written in recipe 2, over a slot of this shape.
pub async fn seed_request_sequence_compiles_and_runs(rt: Runtime) -> anyhow::Result<()> {
    struct Slot<S> {
        writer: RequestWriter,
        reader: ResponseReader,
        conn: Option<HttpConnection<S>>,
    }
    impl<S: futures::io::AsyncRead + futures::io::AsyncWrite + Unpin> Slot<S> {
        fn conn_and_reader(
            &mut self,
        ) -> Result<(&mut HttpConnection<S>, &mut ResponseReader), RestError> {
            let conn = self.conn.as_mut().ok_or(RestError::ConnectionPoisoned)?;
            Ok((conn, &mut self.reader))
        }
    }
    let server = Server::start(vec![vec![Step::Send(OK_HELLO)]])?;
    let mut slot = Slot {
        writer: RequestWriter::for_url(&server.url())?,
        reader: ResponseReader::default(),
        conn: Some(connect(&server, &rt).await?),
    };
    let path = "/x";
    let s = &mut slot;
    let req = s.writer.get(path).finish()?;
    let (conn, reader) = s.conn_and_reader()?;
    let resp = conn.send(req, reader).await?;
    ensure!(resp.status() < 500 && resp.body().to_vec() == b"hello");
    let body: &[u8] = b"{}";
    let req = s
        .writer
        .post("/order")
        .header("Content-Type", "application/json")
        .body(body)
        .finish()?;
    let (conn, reader) = s.conn_and_reader()?;
    let resp = conn.send(req, reader).await?;
    ensure!(resp.body() == b"hello");
    ensure!(req_method_is_post());
    Ok(())
}

fn req_method_is_post() -> bool {
    RequestWriter::new("h")
        .and_then(|mut w| w.post("/").finish())
        .is_ok_and(|r| r.method() == Method::Post)
}

// ---------------------------------------------------------------------------------------
// https://
// ---------------------------------------------------------------------------------------

/// A CA and a server config for `127.0.0.1` signed by it.
pub(crate) fn test_pki() -> anyhow::Result<(
    nexus_async_net::tls::TlsConfig,
    nexus_async_net::tls::TlsConfig,
)> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned()])?.signed_by(&key, &ca, &ca_key)?;
    let server = nexus_async_net::tls::TlsConfig::server_from_pem(
        leaf.pem().as_bytes(),
        key.serialize_pem().as_bytes(),
    )?;
    let client = nexus_async_net::tls::TlsConfig::builder()
        .no_default_roots()
        .add_root_pem(ca.pem().as_bytes())?
        .build()?;
    Ok((server, client))
}

/// A TLS server answering every request with `OK_HELLO` on `conns` connections, each on a
/// thread of its own.
pub(crate) fn tls_server(
    config: nexus_async_net::tls::TlsConfig,
    conns: usize,
) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    thread::spawn(move || {
        for sock in listener.incoming().take(conns).flatten() {
            let config = config.clone();
            thread::spawn(move || async_io::block_on(serve_tls(config, sock)));
        }
    });
    Ok(port)
}

async fn serve_tls(config: nexus_async_net::tls::TlsConfig, sock: TcpStream) {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(sock) = async_io::Async::new(sock) else {
        return;
    };
    let Ok(mut tls) = config.accept(sock).await else {
        return;
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let Ok(n) = tls.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            if tls.write_all(OK_HELLO).await.is_err() || tls.flush().await.is_err() {
                return;
            }
        }
    }
}

pub async fn https_requests_run_over_tls_with_a_custom_ca(rt: Runtime) -> anyhow::Result<()> {
    let (server, client) = test_pki()?;
    let port = tls_server(server, 1)?;
    let url = format!("https://127.0.0.1:{port}");
    let mut conn = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .tls(&client)
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
        .connect(&url)
        .await?;
    ensure!(conn.stream().is_tls());
    let mut writer = RequestWriter::for_url(&url)?;
    let mut reader = ResponseReader::default();
    for _ in 0..3 {
        let resp = conn
            .send(writer.get("/secure").finish()?, &mut reader)
            .await?;
        ensure!(resp.body() == b"hello");
    }
    ensure!(conn.is_reusable());
    Ok(())
}

pub async fn https_with_an_untrusted_certificate_is_a_tls_error(rt: Runtime) -> anyhow::Result<()> {
    let (server, _) = test_pki()?;
    let port = tls_server(server, 1)?;
    let got = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .connect_timeout(Duration::from_secs(5))
        .connect(&format!("https://127.0.0.1:{port}"))
        .await;
    ensure!(matches!(got, Err(RestError::Tls(_))), "{got:?}");
    Ok(())
}

pub async fn connect_timeout_covers_a_server_that_never_finishes_tls(
    rt: Runtime,
) -> anyhow::Result<()> {
    // Accepts TCP, never answers the ClientHello.
    let server = Server::start(vec![vec![Step::Hang]])?;
    let url = format!("https://127.0.0.1:{}", server.port);
    let got = HttpConnectionBuilder::new()
        .runtime(rt.clone())
        .connect_timeout(Duration::from_millis(300))
        .connect(&url)
        .await;
    ensure!(matches!(got, Err(RestError::ConnectTimeout)), "{got:?}");
    Ok(())
}

/// Busy-polling reads on a keep-alive connection: responses read as without it, and the
/// check for a server-closed connection before each reuse (a read that expects nothing)
/// never spins — with a 20-second budget, a spinning check would run the behaviour past
/// the watchdog. A connection the server closed while idle is still reported stale.
pub async fn busy_poll_reads_responses_and_never_spins_on_the_idle_check(
    rt: Runtime,
) -> anyhow::Result<()> {
    let busy = |server: &Server| {
        let (rt, url) = (rt.clone(), server.url());
        async move {
            HttpConnectionBuilder::new()
                .runtime(rt)
                .disable_nagle()
                .busy_poll(Duration::from_secs(20))
                .connect(&url)
                .await
        }
    };
    let server = Server::start(vec![vec![Step::Send(OK_HELLO)]])?;
    let mut conn = busy(&server).await?;
    let mut writer = RequestWriter::for_url(&server.url())?;
    let mut reader = ResponseReader::new(1024);
    five_pings(&mut conn, &mut writer, &mut reader).await?;
    ensure!(server.accepted() == 1 && server.requests().len() == 5);

    let server = Server::start(vec![vec![Step::Send(OK_HELLO), Step::Close]])?;
    let mut conn = busy(&server).await?;
    conn.send(writer.get("/").finish()?, &mut reader).await?;
    rt.sleep(Duration::from_millis(200)).await;
    let got = conn.send(writer.get("/").finish()?, &mut reader).await;
    ensure!(matches!(got, Err(RestError::ConnectionStale)), "{got:?}");
    ensure!(server.requests().len() == 1);
    Ok(())
}
