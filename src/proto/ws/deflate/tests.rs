//! The negotiation, every rule of RFC 7692 §5-§7 that an offer or answer can break.

use super::*;

fn params(s: bool, c: bool, sb: u8, cb: u8) -> DeflateParams {
    DeflateParams {
        server_no_context_takeover: s,
        client_no_context_takeover: c,
        server_max_window_bits: sb,
        client_max_window_bits: cb,
    }
}

#[test]
fn the_default_offer_and_a_plain_acceptance() {
    let d = Deflate::default();
    assert_eq!(d.offer(), "permessage-deflate; client_max_window_bits");
    let (agreed, answer) = d.accept([d.offer().as_str()]).unwrap();
    assert_eq!(answer, "permessage-deflate");
    assert_eq!(agreed, params(false, false, 15, 15));
    assert_eq!(d.check_response(Some(&answer)), Ok(Some(agreed)));
    assert_eq!(d.check_response(None), Ok(None), "declined: uncompressed");
}

#[test]
fn a_server_answering_server_max_window_bits_15_is_accepted() {
    // What one large exchange answers to a plain offer.
    let d = Deflate::default();
    assert_eq!(
        d.check_response(Some("permessage-deflate; server_max_window_bits=15")),
        Ok(Some(params(false, false, 15, 15)))
    );
    assert_eq!(
        d.check_response(Some("permessage-deflate; server_max_window_bits=8")),
        Ok(Some(params(false, false, 8, 15))),
        "a 15-bit inflater reads an 8-bit window"
    );
}

#[test]
fn every_parameter_round_trips_through_offer_accept_and_check() {
    let client = Deflate::default()
        .client_no_context_takeover(true)
        .server_no_context_takeover(true)
        .client_max_window_bits(12)
        .server_max_window_bits(10);
    let server = Deflate::default();
    let (agreed, answer) = server.accept([client.offer().as_str()]).unwrap();
    assert_eq!(agreed, params(true, true, 10, 12));
    assert_eq!(
        answer,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=12"
    );
    assert_eq!(client.check_response(Some(&answer)), Ok(Some(agreed)));
}

#[test]
fn the_server_narrows_windows_it_may_and_never_answers_what_was_not_offered() {
    let server = Deflate::default()
        .client_max_window_bits(9)
        .server_max_window_bits(11);
    // client_max_window_bits offered without a value: the server may choose it.
    let (agreed, answer) = server
        .accept(["permessage-deflate; client_max_window_bits"])
        .unwrap();
    assert_eq!(agreed, params(false, false, 11, 9));
    assert_eq!(
        answer,
        "permessage-deflate; server_max_window_bits=11; client_max_window_bits=9"
    );
    // Not offered: the server must not answer it, and cannot limit the client.
    let (agreed, answer) = server.accept(["permessage-deflate"]).unwrap();
    assert_eq!(agreed, params(false, false, 11, 15));
    assert!(!answer.contains("client_max_window_bits"), "{answer}");
}

#[test]
fn a_server_picks_the_first_offer_it_can_satisfy() {
    let server = Deflate::default();
    let (agreed, _) = server
        .accept([
            "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, \
             permessage-deflate; server_max_window_bits=10",
            "permessage-deflate",
        ])
        .unwrap();
    // The 8-bit offer is declined (zlib), the 10-bit one taken.
    assert_eq!(agreed.server_max_window_bits, 10);
    // Invalid offers are declined, not fatal.
    for bad in [
        "permessage-deflate; foo=1",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=07",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; \"quoted\"",
    ] {
        assert_eq!(server.accept([bad]), None, "{bad}");
        assert!(
            server.accept([bad, "permessage-deflate"]).is_some(),
            "{bad}"
        );
    }
    assert_eq!(server.accept(["x-other"]), None);
    assert_eq!(server.accept(Vec::<&str>::new()), None);
}

#[test]
fn quoted_values_are_accepted_where_a_token_would_be() {
    let (agreed, _) = Deflate::default()
        .accept(["permessage-deflate; client_max_window_bits=\"10\""])
        .unwrap();
    assert_eq!(agreed.client_max_window_bits, 10);
}

#[test]
fn the_client_refuses_answers_its_offer_does_not_allow() {
    let d = Deflate::default()
        .server_max_window_bits(10)
        .server_no_context_takeover(true);
    let cases: [(&str, DeflateError); 9] = [
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
            DeflateError::AboveOffer {
                param: "server_max_window_bits",
                got: 12,
                offered: 10,
            },
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            DeflateError::Missing("server_no_context_takeover"),
        ),
        (
            "permessage-deflate; server_no_context_takeover",
            DeflateError::Missing("server_max_window_bits"),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; mystery",
            DeflateError::UnknownParameter("mystery".into()),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            DeflateError::DuplicateParameter("server_no_context_takeover"),
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
             client_max_window_bits",
            DeflateError::InvalidValue {
                param: "client_max_window_bits",
                value: String::new(),
            },
        ),
        (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; \
             client_max_window_bits=8",
            DeflateError::WindowTooSmall,
        ),
        (
            "x-webkit-deflate-frame",
            DeflateError::UnexpectedExtension("x-webkit-deflate-frame".into()),
        ),
        (
            "permessage-deflate, permessage-deflate",
            DeflateError::UnexpectedExtension("permessage-deflate, permessage-deflate".into()),
        ),
    ];
    for (answer, want) in cases {
        assert_eq!(d.check_response(Some(answer)), Err(want), "{answer}");
    }
    // A client that offered a smaller client window refuses a larger one.
    let small = Deflate::default().client_max_window_bits(10);
    assert_eq!(
        small.check_response(Some("permessage-deflate; client_max_window_bits=12")),
        Err(DeflateError::AboveOffer {
            param: "client_max_window_bits",
            got: 12,
            offered: 10
        })
    );
    // The server may ask for client_no_context_takeover even if not offered.
    assert_eq!(
        Deflate::default().check_response(Some("permessage-deflate; client_no_context_takeover")),
        Ok(Some(params(false, true, 15, 15)))
    );
}

#[test]
fn a_client_that_did_not_offer_client_max_window_bits_refuses_it_in_the_answer() {
    let d = Deflate::default().offer_client_max_window_bits(false);
    assert_eq!(d.offer(), "permessage-deflate");
    assert_eq!(
        d.check_response(Some("permessage-deflate; client_max_window_bits=10")),
        Err(DeflateError::NotOffered("client_max_window_bits"))
    );
    assert_eq!(
        d.check_response(Some("permessage-deflate")),
        Ok(Some(params(false, false, 15, 15)))
    );
}

#[test]
fn errors_read_as_sentences() {
    assert_eq!(
        DeflateError::NotOffered("client_max_window_bits").to_string(),
        "the server answered client_max_window_bits, which the client did not offer"
    );
    assert_eq!(
        DeflateError::WindowTooSmall.to_string(),
        "the server requires client_max_window_bits=8, which zlib cannot honour (it uses 9)"
    );
    assert_eq!(
        params(true, false, 10, 15).to_string(),
        "permessage-deflate (server window 10 bits, no context takeover, client window 15 bits)"
    );
}

#[test]
fn window_settings_are_clamped_to_what_zlib_can_do() {
    let d = Deflate::default()
        .client_max_window_bits(8)
        .server_max_window_bits(99);
    assert_eq!(d.offer(), "permessage-deflate; client_max_window_bits=9");
    assert_eq!(Deflate::default().level(42).get_level(), 9);
}
