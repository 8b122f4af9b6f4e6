//! Proxy URLs, the environment rules, `NO_PROXY` and the early-bytes stream.

use super::tunnel::Prefixed;
use super::*;
use futures_util::AsyncReadExt;

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
    let no =
        NoProxy::parse(".Example.COM,10.0.0.0/8 fd00::/8,127.0.0.1,[::1]:8443,*.wild.io,bad/99");
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
