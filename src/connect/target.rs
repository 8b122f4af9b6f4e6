//! [`Target`]: where a `ws://`, `wss://`, `http://` or `https://` URL points.

use std::fmt;

/// The URL schemes a connection can be opened to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `ws://`: WebSocket over TCP.
    Ws,
    /// `wss://`: WebSocket over TLS.
    Wss,
    /// `http://`: HTTP/1.1 over TCP.
    Http,
    /// `https://`: HTTP/1.1 over TLS.
    Https,
}

impl Scheme {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "ws" => Some(Self::Ws),
            "wss" => Some(Self::Wss),
            "http" => Some(Self::Http),
            "https" => Some(Self::Https),
            _ => None,
        }
    }

    /// Whether the scheme runs over TLS.
    pub(crate) fn is_tls(self) -> bool {
        matches!(self, Self::Wss | Self::Https)
    }

    /// The port used when the URL names none.
    pub(crate) fn default_port(self) -> u16 {
        if self.is_tls() { 443 } else { 80 }
    }
}

/// Why a URL was refused: the URL as given and the reason. The WebSocket and REST errors
/// format it their own way (`"{url}: {why}"` and `"{why}: {url}"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetError {
    pub(crate) url: String,
    pub(crate) why: String,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.why)
    }
}

/// A parsed URL: scheme, host, port, path and query, and the `Host` header.
///
/// One `Host` rule for every scheme: the host as written in the URL (IPv6 literals in
/// brackets), with `:port` only when the port is not the scheme's default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) scheme: Scheme,
    /// Host for DNS, TCP and the TLS server name (IPv6 without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The `Host` header value.
    host_header: String,
    /// The URL path as written (`/` for none).
    pub(crate) path: String,
    /// The query, without the `?`.
    pub(crate) query: Option<String>,
}

impl Target {
    /// Parses a `ws://` or `wss://` URL.
    pub(crate) fn parse_ws(url: &str) -> Result<Self, TargetError> {
        Self::parse(url, &[Scheme::Ws, Scheme::Wss], "scheme must be ws or wss")
    }

    /// Parses an `http://` or `https://` URL.
    pub(crate) fn parse_http(url: &str) -> Result<Self, TargetError> {
        Self::parse(
            url,
            &[Scheme::Http, Scheme::Https],
            "scheme must be http or https",
        )
    }

    fn parse(input: &str, allowed: &[Scheme], wrong_scheme: &str) -> Result<Self, TargetError> {
        let bad = |why: &str| TargetError {
            url: input.to_owned(),
            why: why.to_owned(),
        };
        let url = url::Url::parse(input).map_err(|e| bad(&e.to_string()))?;
        let scheme = Scheme::from_name(url.scheme())
            .filter(|s| allowed.contains(s))
            .ok_or_else(|| bad(wrong_scheme))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(bad("missing host")),
        };
        let port = url.port().unwrap_or_else(|| scheme.default_port());
        // `host_str` keeps the brackets of an IPv6 literal.
        let mut host_header = url.host_str().unwrap_or_default().to_owned();
        if port != scheme.default_port() {
            host_header.push(':');
            host_header.push_str(&port.to_string());
        }
        Ok(Self {
            scheme,
            host,
            port,
            host_header,
            path: url.path().to_owned(),
            query: url.query().map(str::to_owned),
        })
    }

    /// Whether the connection runs over TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.scheme.is_tls()
    }

    /// The `Host` header value.
    pub(crate) fn host_header(&self) -> String {
        self.host_header.clone()
    }

    /// The request target: the path, with `?query` when the URL has one.
    pub(crate) fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_gives_its_tls_flag_and_default_port() {
        for (url, scheme, tls, port) in [
            ("ws://h.example/", Scheme::Ws, false, 80),
            ("wss://h.example/", Scheme::Wss, true, 443),
            ("http://h.example/", Scheme::Http, false, 80),
            ("https://h.example/", Scheme::Https, true, 443),
        ] {
            let t = match scheme {
                Scheme::Ws | Scheme::Wss => Target::parse_ws(url),
                Scheme::Http | Scheme::Https => Target::parse_http(url),
            }
            .unwrap();
            assert_eq!((t.scheme, t.is_tls(), t.port), (scheme, tls, port), "{url}");
            assert_eq!(t.host, "h.example");
            assert_eq!(t.host_header(), "h.example", "{url}");
        }
    }

    #[test]
    fn ipv6_is_bracketed_in_the_host_header_and_bare_for_dns() {
        let t = Target::parse_ws("ws://[::1]:9001/feed?x=1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9001));
        assert_eq!(t.host_header(), "[::1]:9001");
        assert_eq!(t.path_and_query(), "/feed?x=1");
        let t = Target::parse_http("https://[2001:db8::1]/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("2001:db8::1", 443));
        assert_eq!(t.host_header(), "[2001:db8::1]");
    }

    #[test]
    fn the_port_is_in_the_host_header_only_when_not_the_default() {
        let header = |url: &str| {
            let t = Target::parse_http(url).or_else(|_| Target::parse_ws(url));
            t.unwrap().host_header()
        };
        assert_eq!(header("http://h:80/"), "h");
        assert_eq!(header("https://h:443/"), "h");
        assert_eq!(header("wss://h:443/"), "h");
        assert_eq!(header("ws://h:80/"), "h");
        assert_eq!(header("http://h:443/"), "h:443");
        assert_eq!(header("https://h:80/"), "h:80");
        assert_eq!(header("ws://h:8080/"), "h:8080");
        assert_eq!(header("wss://Example.COM:9443/"), "example.com:9443");
    }

    #[test]
    fn paths_and_queries_are_kept_as_written() {
        let t = Target::parse_ws("wss://h/ws/v1?streams=a@b&x=%20y").unwrap();
        assert_eq!(t.path, "/ws/v1");
        assert_eq!(t.query.as_deref(), Some("streams=a@b&x=%20y"));
        assert_eq!(t.path_and_query(), "/ws/v1?streams=a@b&x=%20y");
        let t = Target::parse_ws("ws://h").unwrap();
        assert_eq!(t.path_and_query(), "/");
        let t = Target::parse_http("https://api.example.com/api/v3/").unwrap();
        assert_eq!(t.path, "/api/v3/");
        assert_eq!(t.query, None);
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for url in ["ws://h/", "ftp://h", "not a url", "http://", "wss:///x"] {
            let err = Target::parse_http(url).unwrap_err();
            assert_eq!(err.url, url);
            assert!(!err.why.is_empty(), "{url}");
        }
        let err = Target::parse_ws("http://example.com").unwrap_err();
        assert_eq!(err.why, "scheme must be ws or wss");
        assert_eq!(
            err.to_string(),
            "http://example.com: scheme must be ws or wss"
        );
        let err = Target::parse_http("ws://h/").unwrap_err();
        assert_eq!(err.why, "scheme must be http or https");
        assert!(Target::parse_ws("ws://[::1/").is_err());
    }
}
