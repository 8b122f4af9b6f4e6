use super::*;
use crate::proto::http::RequestError;
use crate::proto::http::writer::Request;

fn text(req: &Request) -> &str {
    std::str::from_utf8(req.as_bytes()).unwrap()
}

#[test]
fn for_url_takes_host_port_and_path_from_the_url() {
    let mut w = RequestWriter::for_url("https://api.example.com/api/v3").unwrap();
    assert_eq!(w.host(), "api.example.com");
    assert!(
        text(&w.get("/time").finish().unwrap())
            .starts_with("GET /api/v3/time HTTP/1.1\r\nHost: api.example.com\r\n")
    );
    let w = RequestWriter::for_url("http://127.0.0.1:8080").unwrap();
    assert_eq!(w.host(), "127.0.0.1:8080");
    assert_eq!(w.base_path(), "");
    let w = RequestWriter::for_url("http://[::1]:80/").unwrap();
    assert_eq!(w.host(), "[::1]");
}

#[test]
fn writer_errors_become_the_same_rest_errors_through_question_mark() {
    fn header(w: &mut RequestWriter) -> Result<(), RestError> {
        w.default_header("X", "a\r\nEvil: 1")?;
        Ok(())
    }
    fn path(w: &mut RequestWriter) -> Result<Request, RestError> {
        Ok(w.get("/a b").finish()?)
    }
    fn order(w: &mut RequestWriter) -> Result<Request, RestError> {
        Ok(w.post("/").body(b"1").body(b"2").finish()?)
    }
    let mut w = RequestWriter::new("h").unwrap();
    assert!(matches!(header(&mut w), Err(RestError::InvalidHeader)));
    assert!(matches!(
        path(&mut w),
        Err(RestError::InvalidRequest(
            "path contains spaces or control bytes"
        ))
    ));
    assert!(matches!(
        order(&mut w),
        Err(RestError::InvalidRequest("body() called twice"))
    ));
    assert!(matches!(
        RestError::from(RequestError::InvalidRequest("x")),
        RestError::InvalidRequest("x")
    ));
    // The text is unchanged too.
    assert_eq!(
        RestError::from(RequestError::InvalidHeader).to_string(),
        RequestError::InvalidHeader.to_string()
    );
}
