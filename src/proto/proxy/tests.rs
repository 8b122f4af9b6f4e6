//! Every reply split at every byte, every refusal, every limit.

use std::fmt;

use super::*;

/// Feeds `bytes` to `parse` one byte more at a time: every prefix is `Need` (never an
/// error, never past the end), and the whole is `Done` with its length.
fn byte_by_byte<T: fmt::Debug + PartialEq>(
    bytes: &[u8],
    parse: impl Fn(&[u8]) -> Result<Step<T>, ProxyErrorKind>,
) -> T {
    for end in 0..bytes.len() {
        match parse(&bytes[..end]) {
            Ok(Step::Need(n)) => assert!(n > end && n <= bytes.len(), "need {n} at {end}"),
            other => panic!("prefix of {end} bytes gave {other:?}"),
        }
    }
    match parse(bytes) {
        Ok(Step::Done(v, n)) => {
            assert_eq!(n, bytes.len());
            v
        }
        other => panic!("whole reply gave {other:?}"),
    }
}

#[test]
fn connect_request_has_host_and_extra_headers() {
    let mut out = Vec::new();
    let auth = basic_auth("alice", "s3cret");
    encode_connect("[::1]:443", &[("Proxy-Authorization", &auth)], &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\
         Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
    );
}

#[test]
fn a_connect_response_split_anywhere_is_parsed_and_leaves_tunnel_bytes_alone() {
    let head = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n";
    byte_by_byte(head, |b| parse_connect_response(b, MAX_CONNECT_HEAD));
    let mut with_data = head.to_vec();
    with_data.extend_from_slice(b"\x81\x02hi");
    assert_eq!(
        parse_connect_response(&with_data, MAX_CONNECT_HEAD),
        Ok(Step::Done((), head.len()))
    );
    // HTTP/1.0 proxies answer too; an interim 100 is skipped.
    let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n";
    byte_by_byte(interim, |b| parse_connect_response(b, MAX_CONNECT_HEAD));
}

#[test]
fn a_refused_connect_carries_its_status_and_says_what_to_do() {
    let err = parse_connect_response(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
        MAX_CONNECT_HEAD,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ProxyErrorKind::HttpStatus { status: 407, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the proxy refused the tunnel: 407 Proxy Authentication Required; the proxy wants \
         credentials or refused the ones sent: put them in the proxy URL \
         (http://user:pass@host:port) or set them with Proxy::basic_auth"
    );
    let err = parse_connect_response(b"HTTP/1.1 403 Forbidden\r\n\r\n", 8192).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the proxy refused the tunnel: 403 Forbidden; the proxy does not allow a tunnel to \
         this host or port"
    );
}

#[test]
fn a_connect_response_that_is_garbage_or_endless_is_an_error() {
    assert_eq!(
        parse_connect_response(b"SSH-2.0-OpenSSH\r\n\r\n", 8192),
        Err(ProxyErrorKind::Malformed("not an HTTP response to CONNECT"))
    );
    let endless = [b"HTTP/1.1 200 OK\r\n".as_slice(), &[b'x'; 100]].concat();
    assert_eq!(
        parse_connect_response(&endless, 64),
        Err(ProxyErrorKind::HeadTooLarge(64))
    );
}

#[test]
fn socks5_greeting_offers_password_only_with_credentials() {
    let mut out = Vec::new();
    socks5_greeting(true, &mut out);
    assert_eq!(out, [5, 2, 0, 2]);
    assert_eq!(
        byte_by_byte(&[5, 2], parse_socks5_method),
        Socks5Method::UserPassword
    );
    assert!(matches!(
        parse_socks5_method(&[5, 0xff]),
        Err(ProxyErrorKind::SocksNoAcceptableMethod { .. })
    ));
    assert!(matches!(
        parse_socks5_method(&[4, 0]),
        Err(ProxyErrorKind::Malformed(_))
    ));
    assert!(matches!(
        parse_socks5_method(&[5, 1]),
        Err(ProxyErrorKind::Malformed(_))
    ));
}

#[test]
fn socks5_password_round_and_limits() {
    let mut out = Vec::new();
    socks5_password("u", "pw", &mut out).unwrap();
    assert_eq!(out, [1, 1, b'u', 2, b'p', b'w']);
    byte_by_byte(&[1, 0], parse_socks5_password_reply);
    assert_eq!(
        parse_socks5_password_reply(&[1, 1]),
        Err(ProxyErrorKind::SocksAuthRejected(1))
    );
    let long = "x".repeat(256);
    assert_eq!(
        socks5_password(&long, "", &mut out),
        Err(ProxyErrorKind::TooLong("user name"))
    );
    assert_eq!(
        socks5_connect(&Socks5Target::Domain(&long), 1, &mut out),
        Err(ProxyErrorKind::TooLong("host name"))
    );
}

#[test]
fn socks5_connect_encodes_every_address_type() {
    let mut out = Vec::new();
    socks5_connect(&Socks5Target::Ip("10.0.0.1".parse().unwrap()), 80, &mut out).unwrap();
    assert_eq!(out, [5, 1, 0, 1, 10, 0, 0, 1, 0, 80]);
    out.clear();
    socks5_connect(&Socks5Target::Ip("::1".parse().unwrap()), 443, &mut out).unwrap();
    assert_eq!(out.len(), 4 + 16 + 2);
    assert_eq!(out[3], 4);
    assert_eq!(out[19], 1);
    out.clear();
    socks5_connect(&Socks5Target::Domain("ex.io"), 9001, &mut out).unwrap();
    assert_eq!(
        out,
        [5, 1, 0, 3, 5, b'e', b'x', b'.', b'i', b'o', 0x23, 0x29]
    );
}

#[test]
fn socks5_replies_of_every_address_type_parse_split_anywhere() {
    byte_by_byte(&[5, 0, 0, 1, 1, 2, 3, 4, 0, 80], parse_socks5_reply);
    let mut v6 = vec![5, 0, 0, 4];
    v6.extend_from_slice(&[0; 16]);
    v6.extend_from_slice(&[1, 187]);
    byte_by_byte(&v6, parse_socks5_reply);
    byte_by_byte(
        &[5, 0, 0, 3, 3, b'a', b'.', b'b', 0, 80],
        parse_socks5_reply,
    );
    // Tunnel bytes after the reply are not part of it.
    assert_eq!(
        parse_socks5_reply(&[5, 0, 0, 1, 1, 2, 3, 4, 0, 80, 0x81]),
        Ok(Step::Done((), 10))
    );
}

#[test]
fn every_socks5_failure_code_is_its_own_error() {
    for code in 1..=9u8 {
        let err = parse_socks5_reply(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap_err();
        let ProxyErrorKind::Socks(reply) = err else {
            panic!("{err:?}")
        };
        assert_eq!(reply.code(), code);
        // Known from the first two bytes already.
        assert_eq!(
            parse_socks5_reply(&[5, code]),
            Err(ProxyErrorKind::Socks(reply))
        );
    }
    assert_eq!(
        ProxyErrorKind::Socks(SocksReply::ConnectionRefused).to_string(),
        "the SOCKS5 proxy did not connect to the target: the target refused the connection \
         (reply 5)"
    );
    assert!(matches!(
        parse_socks5_reply(&[5, 0, 0, 9, 0]),
        Err(ProxyErrorKind::Malformed(_))
    ));
    assert!(matches!(
        parse_socks5_reply(&[4, 0, 0, 1, 0]),
        Err(ProxyErrorKind::Malformed(_))
    ));
}
