//! `Sec-WebSocket-Extensions` parsing (RFC 6455 §9.1) and permessage-deflate parameter
//! validation (RFC 7692 §7.1).

use super::DeflateError;

/// One extension of a `Sec-WebSocket-Extensions` list: its name and raw parameters.
#[derive(Debug)]
pub(super) struct Extension<'a> {
    pub(super) name: &'a str,
    pub(super) params: Vec<(&'a str, Option<String>)>,
}

/// Parses `ext; p; p=v, ext2` (RFC 6455 §9.1; quoted-string values unquoted).
pub(super) fn parse_extensions(header: &str) -> Result<Vec<Extension<'_>>, DeflateError> {
    let mut out = Vec::new();
    for item in split_outside_quotes(header, ',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let mut parts = split_outside_quotes(item, ';').into_iter();
        let name = parts.next().unwrap_or("").trim();
        if name.is_empty() || !is_token(name) {
            return Err(DeflateError::Malformed("an extension name is not a token"));
        }
        let mut params = Vec::new();
        for part in parts {
            let part = part.trim();
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.trim(), Some(unquote(v.trim())?)),
                None => (part, None),
            };
            if key.is_empty() || !is_token(key) {
                return Err(DeflateError::Malformed("a parameter name is not a token"));
            }
            params.push((key, value));
        }
        out.push(Extension { name, params });
    }
    Ok(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(v: &str) -> Result<String, DeflateError> {
    let Some(inner) = v.strip_prefix('"') else {
        return Ok(v.to_owned());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or(DeflateError::Malformed("an unterminated quoted value"))?;
    let mut out = String::with_capacity(inner.len());
    let mut escaped = false;
    for c in inner.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    Ok(out)
}

fn is_token(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Where a parameter list appears: some values are allowed only in one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Offer,
    Response,
}

/// A validated permessage-deflate parameter list. `Some(None)`: present without a value.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub(super) server_no_context_takeover: bool,
    pub(super) client_no_context_takeover: bool,
    pub(super) server_max_window_bits: Option<Option<u8>>,
    pub(super) client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    pub(super) fn parse(raw: &[(&str, Option<String>)], side: Side) -> Result<Self, DeflateError> {
        let mut p = Self::default();
        let mut seen = [false; 4];
        for (key, value) in raw {
            let (index, name) = match key.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" => (0, "server_no_context_takeover"),
                "client_no_context_takeover" => (1, "client_no_context_takeover"),
                "server_max_window_bits" => (2, "server_max_window_bits"),
                "client_max_window_bits" => (3, "client_max_window_bits"),
                _ => return Err(DeflateError::UnknownParameter((*key).to_owned())),
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(DeflateError::DuplicateParameter(name));
            }
            let invalid = |v: &str| DeflateError::InvalidValue {
                param: name,
                value: v.to_owned(),
            };
            match index {
                0 | 1 => {
                    if let Some(v) = value {
                        return Err(invalid(v));
                    }
                    if index == 0 {
                        p.server_no_context_takeover = true;
                    } else {
                        p.client_no_context_takeover = true;
                    }
                }
                _ => {
                    let bits = match value {
                        Some(v) => Some(window_bits(v).ok_or_else(|| invalid(v))?),
                        // Only client_max_window_bits, only in an offer, may come bare.
                        None if index == 3 && side == Side::Offer => None,
                        None => return Err(invalid("")),
                    };
                    if index == 2 {
                        p.server_max_window_bits = Some(bits);
                    } else {
                        p.client_max_window_bits = Some(bits);
                    }
                }
            }
        }
        Ok(p)
    }
}

/// `8..=15` written as decimal digits with no leading zero (§7.1.2.1).
fn window_bits(v: &str) -> Option<u8> {
    if v.is_empty() || v.len() > 2 || v.starts_with('0') || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().filter(|b| (8..=15).contains(b))
}
