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

use crate::proto::proxy::ProxyErrorKind;

use super::ConnectError;

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

mod no_proxy;
#[cfg(test)]
mod tests;
mod tunnel;

pub use no_proxy::NoProxy;
pub(crate) use tunnel::tunnel;
