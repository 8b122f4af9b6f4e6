//! Proxies: HTTP `CONNECT` (to a plain or a TLS proxy) and SOCKS5, one step of the one
//! connect path, so the WebSocket builder, the HTTP connection and both pools get them.
//!
//! - [`Proxy`]: one proxy, from a URL: `http://`, `https://`, `socks5://` (the client
//!   resolves the target) or `socks5h://` (the proxy resolves it), credentials from the
//!   URL's userinfo or [`Proxy::basic_auth`].
//! - [`ProxyConfig`]: which proxy a connection uses. [`ProxyConfig::all`] sends everything
//!   through one proxy; [`Proxy::from_env`] reads the environment the way curl and reqwest
//!   do (below).
//! - [`NoProxy`]: the targets that bypass the proxy.
//!
//! Builders take `.proxy(Proxy)` or `.proxy_from_env()`; without either no proxy is used,
//! whatever the environment says. The connect timeout covers the proxy handshake, TLS to
//! the target runs inside the tunnel (the server name and the certificate check name the
//! target, not the proxy), and nothing of this touches a connection after it is open
//! (except that a tunnel through a TLS proxy reads through two TLS layers).
//!
//! # The environment
//!
//! | target | variables tried, first set wins |
//! |---|---|
//! | `ws://`, `http://` | `HTTP_PROXY`, `http_proxy`, then `ALL_PROXY`, `all_proxy` |
//! | `wss://`, `https://` | `HTTPS_PROXY`, `https_proxy`, then `ALL_PROXY`, `all_proxy` |
//!
//! `HTTP_PROXY` (upper case) is ignored when `REQUEST_METHOD` is set: in a CGI program a
//! client's `Proxy:` header arrives as `HTTP_PROXY` (httpoxy). A value without a scheme
//! is an HTTP proxy; an empty or unparsable value is skipped. `NO_PROXY` / `no_proxy`
//! list exceptions, see [`NoProxy`].
//!
//! ```
//! use nexus_async_net::connect::{NoProxy, Proxy, ProxyConfig};
//!
//! let env = [
//!     ("HTTPS_PROXY", "http://user:pw@proxy.corp:3128"),
//!     ("ALL_PROXY", "socks5h://127.0.0.1:1080"),
//!     ("NO_PROXY", "localhost,.internal,10.0.0.0/8"),
//! ];
//! let config = ProxyConfig::from_vars(|name| {
//!     env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
//! });
//! assert_eq!(config.proxy_for(true, "api.exchange.com", 443).unwrap().addr(), "proxy.corp:3128");
//! assert_eq!(config.proxy_for(false, "api.exchange.com", 80).unwrap().addr(), "127.0.0.1:1080");
//! assert!(config.proxy_for(true, "db.internal", 443).is_none());
//! assert!(config.proxy_for(false, "10.1.2.3", 80).is_none());
//! ```

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{AsyncReadExt, AsyncWriteExt};

use crate::proto::proxy::{self as wire, ProxyErrorKind, Socks5Method, Socks5Target, Step};
use crate::rt::{Runtime, TcpStream};

use super::{ConnectError, ConnectOptions, Target};

/// A proxy failed to open the tunnel: which proxy, and why.
///
/// ```
/// use nexus_async_net::connect::Proxy;
///
/// let err = Proxy::socks5("ftp://example.com").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "proxy ftp://example.com: invalid proxy URL: the scheme must be socks5 or socks5h"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("proxy {proxy}: {kind}")]
pub struct ProxyError {
    proxy: Box<str>,
    kind: ProxyErrorKind,
}

impl ProxyError {
    fn new(proxy: impl Into<Box<str>>, kind: ProxyErrorKind) -> Self {
        Self {
            proxy: proxy.into(),
            kind,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ProxyErrorKind {
        &self.kind
    }

    /// The proxy, as `host:port` (never with credentials).
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    /// The HTTP status an HTTP proxy refused `CONNECT` with (407: credentials).
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ProxyErrorKind::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The kinds of proxy, by URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `http://`: `CONNECT` over TCP.
    Http,
    /// `https://`: `CONNECT` over TLS to the proxy.
    Https,
    /// `socks5://`: the client resolves the target's name.
    Socks5,
    /// `socks5h://`: the proxy resolves it.
    Socks5h,
}

/// One proxy server. Cheap to clone.
///
/// ```
/// use nexus_async_net::connect::Proxy;
/// use nexus_async_net::ws::WsStreamBuilder;
///
/// let proxy = Proxy::http("http://proxy.corp:3128")?.basic_auth("alice", "s3cret");
/// let builder = WsStreamBuilder::new().proxy(proxy);
/// # drop(builder);
/// # Ok::<(), nexus_async_net::connect::ProxyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: Kind,
    host: String,
    port: u16,
    auth: Option<(String, String)>,
    headers: Vec<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("addr", &self.addr())
            .field("user", &self.auth.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// An HTTP proxy, reached with `CONNECT`: `http://host[:port]` (default port 80) or
    /// `https://host[:port]` (TLS to the proxy, default 443). `user:password@` in the URL
    /// (percent-encoded) becomes `Proxy-Authorization: Basic`.
    ///
    /// # Errors
    ///
    /// [`ProxyErrorKind::InvalidUrl`] for another scheme or a URL without a host.
    pub fn http(url: &str) -> Result<Self, ProxyError> {
        Self::parse_with(url, &[Kind::Http, Kind::Https], "http or https")
    }

    /// A SOCKS5 proxy: `socks5://host[:port]` (the target's name is resolved here and
    /// the proxy gets an address) or `socks5h://host[:port]` (the proxy resolves the name;
    /// what you want when only the proxy can see DNS). Default port 1080; `user:password@`
    /// selects RFC 1929 authentication.
    ///
    /// # Errors
    ///
    /// [`ProxyErrorKind::InvalidUrl`] for another scheme or a URL without a host.
    pub fn socks5(url: &str) -> Result<Self, ProxyError> {
        Self::parse_with(url, &[Kind::Socks5, Kind::Socks5h], "socks5 or socks5h")
    }

    /// A proxy of any supported scheme: `http`, `https`, `socks5`, `socks5h`; a URL
    /// without a scheme is `http://` (as curl reads one).
    ///
    /// # Errors
    ///
    /// [`ProxyErrorKind::InvalidUrl`].
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        Self::parse_with(
            url,
            &[Kind::Http, Kind::Https, Kind::Socks5, Kind::Socks5h],
            "http, https, socks5 or socks5h",
        )
    }

    fn parse_with(input: &str, allowed: &[Kind], expected: &str) -> Result<Self, ProxyError> {
        let bad = |why: String| {
            ProxyError::new(
                redact(input),
                ProxyErrorKind::InvalidUrl(why.into_boxed_str()),
            )
        };
        let with_scheme;
        let text = if input.contains("://") {
            input
        } else {
            with_scheme = format!("http://{input}");
            &with_scheme
        };
        let url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
        let kind = match url.scheme() {
            "http" => Kind::Http,
            "https" => Kind::Https,
            "socks5" => Kind::Socks5,
            "socks5h" => Kind::Socks5h,
            _ => return Err(bad(format!("the scheme must be {expected}"))),
        };
        if !allowed.contains(&kind) {
            return Err(bad(format!("the scheme must be {expected}")));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(bad("missing host".to_owned())),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(bad("missing host".to_owned()));
        }
        let port = url.port().unwrap_or(match kind {
            Kind::Http => 80,
            Kind::Https => 443,
            Kind::Socks5 | Kind::Socks5h => 1080,
        });
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let auth = (!url.username().is_empty())
            .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(Self {
            kind,
            host,
            port,
            auth,
            headers: Vec::new(),
        })
    }

    /// Sets the credentials (HTTP: `Proxy-Authorization: Basic`; SOCKS5: RFC 1929),
    /// replacing any from the URL.
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some((user.into(), password.into()));
        self
    }

    /// Adds a header to the `CONNECT` request (HTTP proxies only; ignored for SOCKS5).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Reads the proxy settings from the environment (see the [module docs](self)):
    /// shorthand for [`ProxyConfig::from_env`].
    pub fn from_env() -> ProxyConfig {
        ProxyConfig::from_env()
    }

    /// `host:port` of the proxy (IPv6 in brackets), as errors name it.
    pub fn addr(&self) -> String {
        authority(&self.host, self.port)
    }

    /// Whether this is a SOCKS5 proxy.
    pub fn is_socks5(&self) -> bool {
        matches!(self.kind, Kind::Socks5 | Kind::Socks5h)
    }

    fn error(&self, kind: ProxyErrorKind) -> ConnectError {
        ConnectError::Proxy(ProxyError::new(self.addr(), kind))
    }
}

/// `input` with any `user:password@` removed, for error messages.
fn redact(input: &str) -> String {
    match (input.find("://"), input.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &input[..s + 3], &input[at + 1..]),
        (None, Some(at)) => input[at + 1..].to_owned(),
        _ => input.to_owned(),
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Which proxy each connection uses: one for plain targets (`ws://`, `http://`), one
/// for TLS targets (`wss://`, `https://`), and the exceptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    plain: Option<Proxy>,
    tls: Option<Proxy>,
    no_proxy: NoProxy,
}

impl ProxyConfig {
    /// Every connection through `proxy`, with no exceptions.
    pub fn all(proxy: Proxy) -> Self {
        Self {
            plain: Some(proxy.clone()),
            tls: Some(proxy),
            no_proxy: NoProxy::default(),
        }
    }

    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The proxy settings of the process environment (the [module docs](self) say which
    /// variables, in which order).
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxy settings from `var`, which looks up an environment variable by name: for
    /// tests, or an environment of your own.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names.iter().find_map(|name| {
                let value = var(name)?;
                let value = value.trim();
                if value.is_empty() {
                    return None;
                }
                Proxy::parse(value).ok()
            })
        };
        let cgi = var("REQUEST_METHOD").is_some();
        let http_names: &[&str] = if cgi {
            &["http_proxy"]
        } else {
            &["HTTP_PROXY", "http_proxy"]
        };
        let all = first(&["ALL_PROXY", "all_proxy"]);
        let no_proxy = var("NO_PROXY")
            .or_else(|| var("no_proxy"))
            .map(|v| NoProxy::parse(&v))
            .unwrap_or_default();
        Self {
            plain: first(http_names).or_else(|| all.clone()),
            tls: first(&["HTTPS_PROXY", "https_proxy"]).or(all),
            no_proxy,
        }
    }

    /// Replaces the exceptions.
    #[must_use]
    pub fn no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// Whether no connection would use a proxy.
    pub fn is_empty(&self) -> bool {
        self.plain.is_none() && self.tls.is_none()
    }

    /// The proxy for a connection to `host:port` (`tls`: a `wss://` or `https://`
    /// target), or `None` to connect directly.
    pub fn proxy_for(&self, tls: bool, host: &str, port: u16) -> Option<&Proxy> {
        let proxy = if tls { &self.tls } else { &self.plain }.as_ref()?;
        (!self.no_proxy.matches(host, port)).then_some(proxy)
    }
}

/// Targets that bypass the proxy, as `NO_PROXY` lists them: comma- or space-separated
/// host names (`example.com` also matches its subdomains, with or without a leading
/// dot), IP addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`), any of them with a
/// `:port` to match that port only, and `*` for everything. Case does not matter.
///
/// ```
/// use nexus_async_net::connect::NoProxy;
///
/// let no = NoProxy::parse("localhost, .corp.example, 192.168.0.0/16, ::1, feed.io:9443");
/// assert!(no.matches("localhost", 80));
/// assert!(no.matches("api.corp.example", 443) && no.matches("corp.example", 443));
/// assert!(!no.matches("notcorp.example", 443));
/// assert!(no.matches("192.168.7.7", 80) && no.matches("[::1]", 80));
/// assert!(no.matches("feed.io", 9443) && !no.matches("feed.io", 443));
/// assert!(NoProxy::parse("*").matches("anything", 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    rules: Vec<(Rule, Option<u16>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// A domain and its subdomains (lower case, no leading dot).
    Domain(String),
    /// An address, or a range with a prefix length.
    Net(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `NO_PROXY` value; entries that cannot be understood are skipped.
    pub fn parse(list: &str) -> Self {
        let mut no = Self::default();
        for entry in list
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                no.everything = true;
                continue;
            }
            if let Some(rule) = Self::parse_entry(&entry.to_ascii_lowercase()) {
                no.rules.push(rule);
            }
        }
        no
    }

    fn parse_entry(entry: &str) -> Option<(Rule, Option<u16>)> {
        // CIDR first: "fd00::/8" holds colons that are not a port.
        if let Some((addr, bits)) = entry.split_once('/') {
            let ip: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some((Rule::Net(ip, bits), None));
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Some((Rule::Net(ip, full(ip)), None));
        }
        // "[::1]:443", "host:443", "[::1]".
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, Some(p.parse().ok()?)),
            _ => (entry, None),
        };
        let host = host.trim_matches(['[', ']']);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some((Rule::Net(ip, full(ip)), port));
        }
        let domain = host.trim_start_matches("*.").trim_start_matches('.');
        (!domain.is_empty()).then(|| (Rule::Domain(domain.to_owned()), port))
    }

    /// Whether a connection to `host:port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = host
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.rules.iter().any(|(rule, rule_port)| {
            rule_port.is_none_or(|p| p == port)
                && match (rule, ip) {
                    (Rule::Net(net, bits), Some(ip)) => in_net(ip, *net, *bits),
                    (Rule::Domain(d), None) => {
                        host == *d
                            || host
                                .strip_suffix(d.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

fn full(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

/// Opens a tunnel to `target` through `proxy`: TCP (and TLS for an `https://` proxy) to
/// the proxy, then its handshake. The stream is the tunnel: what is written goes to the
/// target.
pub(super) async fn tunnel(
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
struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    fn new(prefix: Vec<u8>, inner: S) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyConfig {
        ProxyConfig::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn addr_for(config: &ProxyConfig, tls: bool, host: &str) -> Option<String> {
        config
            .proxy_for(tls, host, if tls { 443 } else { 80 })
            .map(Proxy::addr)
    }

    #[test]
    fn proxy_urls_give_kind_port_and_decoded_credentials() {
        let p = Proxy::http("http://al%40ice:p%3Ass@proxy:3128").unwrap();
        assert_eq!((p.kind, p.addr()), (Kind::Http, "proxy:3128".to_owned()));
        assert_eq!(p.auth, Some(("al@ice".to_owned(), "p:ss".to_owned())));
        assert_eq!(Proxy::http("https://proxy").unwrap().port, 443);
        assert_eq!(Proxy::http("http://proxy").unwrap().port, 80);
        let s = Proxy::socks5("socks5h://[::1]").unwrap();
        assert_eq!((s.kind, s.addr()), (Kind::Socks5h, "[::1]:1080".to_owned()));
        assert_eq!(Proxy::parse("proxy.corp:8080").unwrap().kind, Kind::Http);
        assert!(Proxy::http("socks5://x").is_err());
        let err = Proxy::parse("ftp://user:secret@x").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(!format!("{:?}", Proxy::http("http://u:secret@x").unwrap()).contains("secret"));
    }

    #[test]
    fn env_upper_case_wins_and_scheme_specific_wins_over_all_proxy() {
        let c = env(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
            ("https_proxy", "http://tls-lower:1"),
            ("ALL_PROXY", "socks5h://all:1"),
            ("all_proxy", "socks5h://all-lower:1"),
        ]);
        assert_eq!(addr_for(&c, false, "x").as_deref(), Some("upper:1"));
        assert_eq!(addr_for(&c, true, "x").as_deref(), Some("tls-lower:1"));
        let c = env(&[("all_proxy", "socks5://all-lower:1"), ("HTTPS_PROXY", "")]);
        assert_eq!(addr_for(&c, false, "x").as_deref(), Some("all-lower:1"));
        assert_eq!(addr_for(&c, true, "x").as_deref(), Some("all-lower:1"));
        assert!(env(&[]).is_empty());
        assert!(env(&[("HTTPS_PROXY", "not a url at all ://")]).is_empty());
    }

    #[test]
    fn cgi_ignores_upper_case_http_proxy_only() {
        let c = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]);
        assert_eq!(addr_for(&c, false, "x"), None);
        let c = env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://evil:1"),
            ("http_proxy", "http://mine:1"),
            ("HTTPS_PROXY", "http://tls:1"),
        ]);
        assert_eq!(addr_for(&c, false, "x").as_deref(), Some("mine:1"));
        assert_eq!(addr_for(&c, true, "x").as_deref(), Some("tls:1"));
    }

    #[test]
    fn no_proxy_from_env_exempts_targets() {
        let c = env(&[("ALL_PROXY", "http://p:1"), ("no_proxy", "example.com")]);
        assert_eq!(addr_for(&c, true, "api.example.com"), None);
        assert_eq!(addr_for(&c, true, "example.com"), None);
        assert!(addr_for(&c, true, "example.org").is_some());
        let c = env(&[
            ("ALL_PROXY", "http://p:1"),
            ("NO_PROXY", "*"),
            ("no_proxy", "nothing"),
        ]);
        assert_eq!(addr_for(&c, false, "anything"), None);
    }

    #[test]
    fn no_proxy_matches_domains_ips_cidrs_and_ports() {
        let no = NoProxy::parse(
            ".Example.COM,10.0.0.0/8 fd00::/8,127.0.0.1,[::1]:8443,*.wild.io,bad/99",
        );
        assert!(no.matches("example.com", 1));
        assert!(no.matches("a.b.EXAMPLE.com.", 1));
        assert!(!no.matches("badexample.com", 1));
        assert!(no.matches("10.255.0.1", 1));
        assert!(!no.matches("11.0.0.1", 1));
        assert!(no.matches("fd12::1", 1));
        assert!(!no.matches("fe80::1", 1));
        assert!(no.matches("127.0.0.1", 5));
        assert!(!no.matches("127.0.0.2", 5));
        assert!(no.matches("::1", 8443) && !no.matches("::1", 443));
        assert!(no.matches("x.wild.io", 1) && no.matches("wild.io", 1));
        assert_eq!(no.rules.len(), 6, "the invalid CIDR is skipped: {no:?}");
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 1));
        assert!(!NoProxy::parse("").matches("x", 1));
    }

    #[test]
    fn prefixed_yields_the_early_bytes_then_the_stream() {
        futures::executor::block_on(async {
            let inner = futures::io::Cursor::new(b" world".to_vec());
            let mut s = Prefixed::new(b"hello".to_vec(), inner);
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            assert_eq!(out, "hello world");
        });
    }
}
