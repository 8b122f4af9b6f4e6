//! The proxy step of the connect path: TCP (and TLS) to the proxy, then its handshake
//! (HTTP `CONNECT` or SOCKS5), driven over our own I/O traits with the sans-IO parsers of
//! [`proto::proxy`](crate::proto::proxy).

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt, AsyncWriteExt};

use crate::connect::{ConnectError, ConnectOptions, Target};
use crate::proto::proxy::{self as wire, ProxyErrorKind, Socks5Method, Socks5Target, Step};
use crate::rt::{Runtime, TcpStream};

use super::{Kind, Proxy, authority};

/// Opens a tunnel to `target` through `proxy`: TCP (and TLS for an `https://` proxy) to
/// the proxy, then its handshake. The stream is the tunnel: what is written goes to the
/// target.
pub(crate) async fn tunnel(
    proxy: &Proxy,
    target: &Target,
    runtime: &Runtime,
    opts: &ConnectOptions,
) -> Result<TcpStream, ConnectError> {
    let mut tcp = runtime.connect(&proxy.host, proxy.port, &opts.tcp).await?;
    trace!(debug, "nexus_async_net::connect", proxy = %proxy.addr(), kind = ?proxy.kind, target = %authority(&target.host, target.port), "opening a proxy tunnel");
    match proxy.kind {
        Kind::Http => match http_connect(proxy, target, &mut tcp).await? {
            Some(early) => Ok(TcpStream::from_custom(Box::new(Prefixed::new(early, tcp)))),
            None => Ok(tcp),
        },
        Kind::Https => https_connect(proxy, target, tcp, opts).await,
        Kind::Socks5 | Kind::Socks5h => {
            socks5(proxy, target, runtime, &mut tcp).await?;
            Ok(tcp)
        }
    }
}

#[cfg(feature = "tls")]
async fn https_connect(
    proxy: &Proxy,
    target: &Target,
    tcp: TcpStream,
    opts: &ConnectOptions,
) -> Result<TcpStream, ConnectError> {
    let config = match &opts.tls {
        Some(config) => config.clone(),
        None => crate::tls::TlsConfig::new()?,
    };
    let mut tls = config.connect(&proxy.host, tcp).await?;
    Ok(match http_connect(proxy, target, &mut tls).await? {
        Some(early) => TcpStream::from_custom(Box::new(Prefixed::new(early, tls))),
        None => TcpStream::from_custom(Box::new(tls)),
    })
}

#[cfg(not(feature = "tls"))]
async fn https_connect(
    _: &Proxy,
    _: &Target,
    _: TcpStream,
    _: &ConnectOptions,
) -> Result<TcpStream, ConnectError> {
    Err(ConnectError::TlsNotEnabled)
}

/// Reads from `io` into `buf` until `parse` is done. With `exact`, never reads past what
/// `parse` says it needs (so nothing after the reply is consumed).
async fn read_reply<S, T>(
    proxy: &Proxy,
    io: &mut S,
    buf: &mut Vec<u8>,
    exact: bool,
    parse: impl Fn(&[u8]) -> Result<Step<T>, ProxyErrorKind>,
) -> Result<(T, usize), ConnectError>
where
    S: AsyncRead + Unpin,
{
    buf.clear();
    loop {
        let need = match parse(buf).map_err(|k| proxy.error(k))? {
            Step::Done(value, n) => return Ok((value, n)),
            Step::Need(n) => n,
        };
        let start = buf.len();
        let want = if exact {
            need.saturating_sub(start).max(1)
        } else {
            1024
        };
        buf.resize(start + want, 0);
        let n = io.read(&mut buf[start..]).await?;
        buf.truncate(start + n);
        if n == 0 {
            return Err(proxy.error(ProxyErrorKind::Closed));
        }
    }
}

/// `CONNECT`; returns the tunnel bytes the proxy sent after its response, if any.
async fn http_connect<S>(
    proxy: &Proxy,
    target: &Target,
    io: &mut S,
) -> Result<Option<Vec<u8>>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let auth = proxy.auth.as_ref().map(|(u, p)| wire::basic_auth(u, p));
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(proxy.headers.len() + 1);
    if let Some(auth) = &auth {
        headers.push(("Proxy-Authorization", auth));
    }
    headers.extend(proxy.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = Vec::with_capacity(128);
    wire::encode_connect(&authority(&target.host, target.port), &headers, &mut out);
    io.write_all(&out).await?;
    io.flush().await?;
    let mut buf = Vec::with_capacity(1024);
    let ((), head) = read_reply(proxy, io, &mut buf, false, |b| {
        wire::parse_connect_response(b, wire::MAX_CONNECT_HEAD)
    })
    .await?;
    Ok((buf.len() > head).then(|| buf.split_off(head)))
}

/// The SOCKS5 exchange, one message at a time: greeting, (authentication,) `CONNECT`.
async fn socks5<S>(
    proxy: &Proxy,
    target: &Target,
    runtime: &Runtime,
    io: &mut S,
) -> Result<(), ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Resolve first (socks5://): a name that does not resolve fails before the proxy is
    // bothered, with the resolver's error.
    let resolved;
    let dest = match (target.host.parse::<IpAddr>(), proxy.kind) {
        (Ok(ip), _) => Socks5Target::Ip(ip),
        (Err(_), Kind::Socks5h) => Socks5Target::Domain(&target.host),
        (Err(_), _) => {
            resolved = runtime.resolve(&target.host, target.port).await?;
            let addr = resolved.first().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} did not resolve", target.host),
                )
            })?;
            Socks5Target::Ip(addr.ip())
        }
    };
    let mut out = Vec::with_capacity(64);
    let mut buf = Vec::with_capacity(32);
    wire::socks5_greeting(proxy.auth.is_some(), &mut out);
    io.write_all(&out).await?;
    io.flush().await?;
    let offered_password = proxy.auth.is_some();
    let (method, _) = read_reply(proxy, io, &mut buf, true, |b| {
        wire::parse_socks5_method(b).map_err(|k| match k {
            ProxyErrorKind::SocksNoAcceptableMethod { .. } => {
                ProxyErrorKind::SocksNoAcceptableMethod { offered_password }
            }
            k => k,
        })
    })
    .await?;
    if method == Socks5Method::UserPassword {
        let Some((user, password)) = &proxy.auth else {
            return Err(proxy.error(ProxyErrorKind::SocksCredentialsRequired));
        };
        out.clear();
        wire::socks5_password(user, password, &mut out).map_err(|k| proxy.error(k))?;
        io.write_all(&out).await?;
        io.flush().await?;
        read_reply(proxy, io, &mut buf, true, wire::parse_socks5_password_reply).await?;
    }
    out.clear();
    wire::socks5_connect(&dest, target.port, &mut out).map_err(|k| proxy.error(k))?;
    io.write_all(&out).await?;
    io.flush().await?;
    read_reply(proxy, io, &mut buf, true, wire::parse_socks5_reply).await?;
    Ok(())
}

/// A stream that first yields bytes already read from it (what a proxy sent right after
/// its `CONNECT` response), then reads on.
#[derive(Debug)]
pub(super) struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub(super) fn new(prefix: Vec<u8>, inner: S) -> Self {
        Self {
            prefix,
            pos: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(rest) = this.prefix.get(this.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
