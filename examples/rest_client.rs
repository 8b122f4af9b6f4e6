//! A keep-alive REST client: GET with a query string and POST with a JSON body, over one
//! connection, against an embedded HTTP/1.1 server this example starts on `127.0.0.1:0`.
//!
//! ```text
//! cargo run --example rest_client                    # on tokio
//! cargo run --example rest_client -- --runtime smol  # the same code on smol
//! ```
//!
//! The client code names no runtime: the library uses the one it runs under. The server
//! is plain `std::net` on its own thread, answers this one client and stops when the
//! client disconnects.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use nexus_async_net::rest::{HttpConnectionBuilder, RequestWriter, ResponseReader, RestError};

async fn run(base_url: &str) -> Result<(), RestError> {
    let mut conn = HttpConnectionBuilder::new()
        .disable_nagle()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(5))
        .proxy_from_env() // HTTP_PROXY / ALL_PROXY / NO_PROXY, as curl reads them
        .connect(base_url)
        .await?;
    let mut writer = RequestWriter::for_url(&format!("{base_url}/api/v3"))?;
    writer.default_header("X-API-KEY", "demo-key")?;
    let mut reader = ResponseReader::new(16 * 1024).max_body_size(1 << 20);

    // GET with a query string (percent-encoded by the writer).
    let req = writer
        .get("/ticker/price")
        .query("symbol", "BTCUSDT")
        .query("note", "a b&c")
        .finish()?;
    let resp = conn.send(req, &mut reader).await?;
    println!("GET  /ticker/price -> {} {}", resp.status(), resp.reason());
    println!("     content-type: {:?}", resp.header("content-type"));
    println!("     body: {}", resp.body_str().unwrap_or("<not UTF-8>"));

    // POST with a JSON body; the response comes back chunked.
    let order = br#"{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.010","price":"64000.00"}"#;
    let req = writer
        .post("/order")
        .header("Content-Type", "application/json")
        .body(order)
        .finish()?;
    let resp = conn.send(req, &mut reader).await?;
    println!("POST /order        -> {} {}", resp.status(), resp.reason());
    println!("     body: {}", resp.body_str().unwrap_or("<not UTF-8>"));

    println!(
        "{} responses on one keep-alive connection (reusable: {})",
        conn.responses(),
        conn.is_reusable()
    );
    conn.close().await
}

fn main() -> anyhow::Result<()> {
    let runtime = std::env::args()
        .skip_while(|a| a != "--runtime")
        .nth(1)
        .unwrap_or_else(|| "tokio".to_owned());
    let addr = spawn_server()?;
    let url = format!("http://{addr}");
    println!("embedded server on {url}, client on {runtime}");
    match runtime.as_str() {
        "tokio" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(run(&url))?,
        "smol" => smol::block_on(run(&url))?,
        other => anyhow::bail!("unknown runtime {other:?} (tokio or smol)"),
    }
    Ok(())
}

/// Starts a tiny exchange-like HTTP/1.1 server for one client connection.
fn spawn_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        if let Ok((sock, _)) = listener.accept() {
            let _ = serve(sock);
        }
    });
    Ok(addr)
}

/// Answers requests on one connection until the client closes it.
fn serve(sock: TcpStream) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let mut out = sock.try_clone()?;
    let mut input = BufReader::new(sock);
    loop {
        let mut request_line = String::new();
        if input.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut content_length = 0;
        loop {
            let mut line = String::new();
            input.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        input.read_exact(&mut body)?;
        let target = request_line.split(' ').nth(1).unwrap_or("/");
        if request_line.starts_with("GET ") {
            let json = format!(r#"{{"symbol":"BTCUSDT","price":"64000.50","target":"{target}"}}"#);
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                json.len()
            )?;
        } else {
            let json = format!(
                r#"{{"orderId":1,"status":"NEW","echo":{}}}"#,
                String::from_utf8_lossy(&body)
            );
            let (first, second) = json.split_at(json.len() / 2);
            write!(
                out,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                first.len(),
                second.len()
            )?;
        }
        out.flush()?;
    }
}
