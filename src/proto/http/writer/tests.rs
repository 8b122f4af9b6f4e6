use super::*;

fn text(req: &Request) -> &str {
    std::str::from_utf8(req.as_bytes()).unwrap()
}

#[test]
fn get_carries_host_default_headers_and_base_path() {
    let mut w = RequestWriter::new("api.example.com:8443").unwrap();
    w.set_base_path("/api/v3/").unwrap();
    w.default_header("X-MBX-APIKEY", "k").unwrap();
    let req = w
        .get("/ticker")
        .header("Accept", "application/json")
        .finish()
        .unwrap();
    assert_eq!(
        text(&req),
        "GET /api/v3/ticker HTTP/1.1\r\nHost: api.example.com:8443\r\nX-MBX-APIKEY: k\r\nAccept: application/json\r\n\r\n"
    );
    assert_eq!(req.method(), Method::Get);
}

#[test]
fn query_parameters_are_percent_encoded_and_joined() {
    let mut w = RequestWriter::new("h").unwrap();
    let req = w
        .get("/p")
        .query("a b", "1&2")
        .query("sym", "BTC/USDT")
        .finish()
        .unwrap();
    assert!(text(&req).starts_with("GET /p?a%20b=1%262&sym=BTC%2FUSDT HTTP/1.1\r\n"));
    let req = w.get("/p?x=1").query("y", "2").finish().unwrap();
    assert!(text(&req).starts_with("GET /p?x=1&y=2 HTTP/1.1\r\n"));
}

#[test]
fn paths_get_a_leading_slash_and_an_empty_path_names_the_base() {
    let mut w = RequestWriter::new("h").unwrap();
    assert!(text(&w.get("").finish().unwrap()).starts_with("GET / HTTP/1.1"));
    assert!(text(&w.get("x").finish().unwrap()).starts_with("GET /x HTTP/1.1"));
    w.set_base_path("api").unwrap();
    assert!(text(&w.get("").finish().unwrap()).starts_with("GET /api HTTP/1.1"));
    assert!(text(&w.get("x").finish().unwrap()).starts_with("GET /api/x HTTP/1.1"));
    assert!(text(&w.get("?q=1").finish().unwrap()).starts_with("GET /api?q=1 HTTP/1.1"));
}

#[test]
fn body_gets_content_length_and_bodyless_post_put_patch_get_zero() {
    let mut w = RequestWriter::new("h").unwrap();
    let req = w
        .post("/order")
        .header("Content-Type", "application/json")
        .body(br#"{"qty":1}"#)
        .finish()
        .unwrap();
    assert!(
        text(&req)
            .ends_with("Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"qty\":1}")
    );
    for m in [Method::Post, Method::Put, Method::Patch] {
        let req = w.request(m, "/x").finish().unwrap();
        assert!(text(&req).ends_with("\r\nContent-Length: 0\r\n\r\n"), "{m}");
    }
    for m in [Method::Get, Method::Delete, Method::Head] {
        let req = w.request(m, "/x").finish().unwrap();
        assert!(!text(&req).contains("Content-Length"), "{m}");
    }
}

#[test]
fn header_injection_is_refused_with_an_error() {
    let mut w = RequestWriter::new("h").unwrap();
    for (name, value) in [
        ("X", "a\r\nEvil: 1"),
        ("X", "a\nb"),
        ("X", "a\0"),
        ("Bad Name", "v"),
        ("X:Y", "v"),
    ] {
        let got = w.get("/").header(name, value).finish();
        assert!(
            matches!(got, Err(RequestError::InvalidHeader)),
            "{name:?}: {value:?}"
        );
    }
    assert!(matches!(
        w.default_header("X", "\r\n"),
        Err(RequestError::InvalidHeader)
    ));
    assert!(matches!(
        RequestWriter::new("h\r\nX: y"),
        Err(RequestError::InvalidHeader)
    ));
    // The writer still works after a refused request.
    assert!(text(&w.get("/ok").finish().unwrap()).starts_with("GET /ok "));
}

#[test]
fn paths_with_spaces_or_controls_are_refused() {
    let mut w = RequestWriter::new("h").unwrap();
    for path in ["/a b", "/a\r\nHost: x", "/\0"] {
        assert!(
            matches!(w.get(path).finish(), Err(RequestError::InvalidRequest(_))),
            "{path:?}"
        );
    }
    assert!(w.set_base_path("/a b").is_err());
}

#[test]
fn out_of_order_builder_calls_are_errors_not_garbage() {
    let mut w = RequestWriter::new("h").unwrap();
    assert!(matches!(
        w.get("/").header("A", "b").query("k", "v").finish(),
        Err(RequestError::InvalidRequest(_))
    ));
    assert!(matches!(
        w.post("/").body(b"1").header("A", "b").finish(),
        Err(RequestError::InvalidRequest(_))
    ));
    assert!(matches!(
        w.post("/").body(b"1").body(b"2").finish(),
        Err(RequestError::InvalidRequest(_))
    ));
}

#[test]
fn finished_request_returns_its_buffer_to_the_writer_when_dropped() {
    let mut w = RequestWriter::new("h").unwrap();
    w.set_write_buffer_capacity(256);
    let req = w.get("/a").finish().unwrap();
    let ptr = req.as_bytes().as_ptr();
    drop(req);
    // The same allocation comes back for every following request.
    for _ in 0..10 {
        let req = w.post("/b").body(b"xyz").finish().unwrap();
        assert_eq!(req.as_bytes().as_ptr(), ptr);
    }
}

#[test]
fn request_outlives_the_writer_borrow() {
    // The seed's sequence: finish, then borrow the slot again, then send.
    struct Slot {
        writer: RequestWriter,
        other: Vec<u8>,
    }
    let mut slot = Slot {
        writer: RequestWriter::new("h").unwrap(),
        other: Vec::new(),
    };
    let s = &mut slot;
    let req = s.writer.get("/x").finish().unwrap();
    let whole: &mut Slot = s;
    whole.other.extend_from_slice(req.as_bytes());
    assert!(!slot.other.is_empty());
}
