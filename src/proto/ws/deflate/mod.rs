//! permessage-deflate (RFC 7692): the options ([`Deflate`]) and the negotiation, sans-IO.
//!
//! The client offers with [`Deflate::offer`] and checks the server's answer with
//! [`Deflate::check_response`]; a server picks among a client's offers with
//! [`Deflate::accept`]. Both give the [`DeflateParams`] the two ends agreed on. Every
//! rule of RFC 7692 §5-§7 is here, once:
//!
//! - parameters are known, not duplicated, and valid for where they appear (§7.1);
//! - a server never answers `client_max_window_bits` to a client that did not offer it,
//!   and answers `server_no_context_takeover` / `server_max_window_bits` when offered;
//! - an offer the server cannot satisfy is declined, and the next one is tried (the
//!   connection goes on uncompressed when none fits);
//! - a window of 8 bits is never used: zlib silently widens it to 9, which would break
//!   the agreement (a client that asked for `server_max_window_bits=8` is declined, and
//!   a server that imposes `client_max_window_bits=8` fails the handshake).

use std::fmt;

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// Smallest window this crate compresses with (zlib turns 8 into 9).
pub const MIN_WINDOW_BITS: u8 = 9;
/// Largest LZ77 window (32 KiB).
pub const MAX_WINDOW_BITS: u8 = 15;

/// permessage-deflate options: what a client offers and what a server accepts.
///
/// `Deflate::default()` is the common offer: context takeover both ways, 15-bit windows,
/// `client_max_window_bits` offered without a value (so a server may ask for a smaller
/// client window), compression level 6, and messages under 64 bytes sent uncompressed.
///
/// ```
/// use nexus_async_net::proto::ws::Deflate;
///
/// assert_eq!(Deflate::default().offer(), "permessage-deflate; client_max_window_bits");
/// let small = Deflate::default()
///     .client_no_context_takeover(true)
///     .server_max_window_bits(10);
/// assert_eq!(
///     small.offer(),
///     "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; \
///      client_max_window_bits"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deflate {
    client_no_context_takeover: bool,
    server_no_context_takeover: bool,
    client_max_window_bits: u8,
    server_max_window_bits: u8,
    level: u8,
    threshold: usize,
    offer_client_window: bool,
}

impl Default for Deflate {
    fn default() -> Self {
        Self {
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            client_max_window_bits: MAX_WINDOW_BITS,
            server_max_window_bits: MAX_WINDOW_BITS,
            level: 6,
            threshold: 64,
            offer_client_window: true,
        }
    }
}

/// What the two ends agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (9..=15).
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with (9..=15).
    pub client_max_window_bits: u8,
}

/// Why a server's permessage-deflate answer was refused (the client fails the
/// handshake: §7 says so, since it cannot know how the server will compress).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateError {
    /// The header does not parse as a list of extensions.
    #[error("malformed Sec-WebSocket-Extensions: {0}")]
    Malformed(&'static str),
    /// The server selected an extension other than permessage-deflate, or two.
    #[error("the server selected an extension that was not offered: {0}")]
    UnexpectedExtension(String),
    /// A parameter RFC 7692 does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(String),
    /// A parameter given twice.
    #[error("permessage-deflate parameter {0} given twice")]
    DuplicateParameter(&'static str),
    /// A value that is not allowed there.
    #[error("invalid value {value:?} for permessage-deflate parameter {param}")]
    InvalidValue {
        /// The parameter.
        param: &'static str,
        /// The value as sent.
        value: String,
    },
    /// The server answered a parameter the client did not offer.
    #[error("the server answered {0}, which the client did not offer")]
    NotOffered(&'static str),
    /// The server left out a parameter it must answer when it accepts the offer.
    #[error("the server accepted permessage-deflate without {0}, which the client required")]
    Missing(&'static str),
    /// The server asked for a window larger than the client offered.
    #[error("the server answered {param}={got}, above the {offered} the client offered")]
    AboveOffer {
        /// The parameter.
        param: &'static str,
        /// The server's value.
        got: u8,
        /// The client's.
        offered: u8,
    },
    /// The server requires an 8-bit client window, which zlib cannot produce.
    #[error("the server requires client_max_window_bits=8, which zlib cannot honour (it uses 9)")]
    WindowTooSmall,
}

impl Deflate {
    /// Default options (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// The client resets its compressor after every message (less memory on both ends,
    /// worse ratio on repetitive feeds).
    #[must_use]
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The server resets its compressor after every message.
    #[must_use]
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Largest window the client compresses with, clamped to 9..=15 (default 15).
    #[must_use]
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
        self
    }

    /// Largest window the server compresses with, clamped to 9..=15 (default 15).
    #[must_use]
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
        self
    }

    /// Whether the offer carries `client_max_window_bits` (default `true`; needed to offer
    /// a client window under 15). Without it a server may not limit the client's window,
    /// and one that answers it anyway is refused.
    #[must_use]
    pub fn offer_client_max_window_bits(mut self, on: bool) -> Self {
        self.offer_client_window = on;
        self
    }

    /// zlib compression level, clamped to 0..=9 (default 6).
    #[must_use]
    pub fn level(mut self, level: u8) -> Self {
        self.level = level.min(9);
        self
    }

    /// Messages shorter than this go out uncompressed (default 64 bytes).
    #[must_use]
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The compression level.
    pub fn get_level(&self) -> u8 {
        self.level
    }

    /// The size under which messages are not compressed.
    pub fn get_threshold(&self) -> usize {
        self.threshold
    }

    /// The client's offer: the value of `Sec-WebSocket-Extensions`.
    pub fn offer(&self) -> String {
        let mut out = String::from(PERMESSAGE_DEFLATE);
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.server_max_window_bits < MAX_WINDOW_BITS {
            out.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits < MAX_WINDOW_BITS {
            out.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        } else if self.offer_client_window {
            // Without a value: "I can limit my window if you ask".
            out.push_str("; client_max_window_bits");
        }
        out
    }

    /// Client side: checks the server's `Sec-WebSocket-Extensions` answer to
    /// [`offer`](Self::offer). `None` (no header) means the server declined: the
    /// connection goes on uncompressed.
    ///
    /// # Errors
    ///
    /// A [`DeflateError`] when the answer is not one this offer allows.
    pub fn check_response(
        &self,
        header: Option<&str>,
    ) -> Result<Option<DeflateParams>, DeflateError> {
        let Some(header) = header.filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let mut extensions = parse_extensions(header)?;
        let Some(ext) = extensions.pop() else {
            return Ok(None);
        };
        if !extensions.is_empty() || !ext.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
            return Err(DeflateError::UnexpectedExtension(header.trim().to_owned()));
        }
        let p = Params::parse(&ext.params, Side::Response)?;
        if self.server_no_context_takeover && !p.server_no_context_takeover {
            return Err(DeflateError::Missing("server_no_context_takeover"));
        }
        // In an answer every window parameter carries a value (the parser refused a bare
        // one), so "absent" and "present" are all there is to tell apart.
        let server_max_window_bits = match p.server_max_window_bits.flatten() {
            Some(bits) if bits > self.server_max_window_bits => {
                return Err(DeflateError::AboveOffer {
                    param: "server_max_window_bits",
                    got: bits,
                    offered: self.server_max_window_bits,
                });
            }
            // 8 is fine here: a 15-bit inflater reads any smaller window.
            Some(bits) => bits,
            None if self.server_max_window_bits < MAX_WINDOW_BITS => {
                return Err(DeflateError::Missing("server_max_window_bits"));
            }
            None => MAX_WINDOW_BITS,
        };
        let offered_client_window =
            self.offer_client_window || self.client_max_window_bits < MAX_WINDOW_BITS;
        let client_max_window_bits = match p.client_max_window_bits.flatten() {
            Some(_) if !offered_client_window => {
                return Err(DeflateError::NotOffered("client_max_window_bits"));
            }
            Some(8) => return Err(DeflateError::WindowTooSmall),
            Some(bits) if bits > self.client_max_window_bits => {
                return Err(DeflateError::AboveOffer {
                    param: "client_max_window_bits",
                    got: bits,
                    offered: self.client_max_window_bits,
                });
            }
            Some(bits) => bits,
            None => self.client_max_window_bits,
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        }))
    }

    /// Server side: picks the first of the client's offers (every `Sec-WebSocket-
    /// Extensions` value, in order) that these options can satisfy, and returns the
    /// agreement with the answer to send. `None`: no acceptable offer; the connection goes
    /// on uncompressed (invalid offers are declined, not fatal).
    pub fn accept<'a>(
        &self,
        headers: impl IntoIterator<Item = &'a str>,
    ) -> Option<(DeflateParams, String)> {
        for header in headers {
            let Ok(extensions) = parse_extensions(header) else {
                continue;
            };
            for ext in extensions {
                if !ext.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
                    continue;
                }
                let Ok(p) = Params::parse(&ext.params, Side::Offer) else {
                    continue;
                };
                if let Some(answer) = self.answer(&p) {
                    return Some(answer);
                }
            }
        }
        None
    }

    /// The answer to one valid offer, or `None` to decline it.
    fn answer(&self, offer: &Params) -> Option<(DeflateParams, String)> {
        let server_max_window_bits = match offer.server_max_window_bits {
            // zlib cannot compress with 8: decline rather than break the agreement.
            Some(Some(bits)) if bits < MIN_WINDOW_BITS => return None,
            Some(Some(bits)) => bits.min(self.server_max_window_bits),
            _ => self.server_max_window_bits,
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            Some(limit) => limit
                .unwrap_or(MAX_WINDOW_BITS)
                .min(self.client_max_window_bits),
            // Not offered: the client cannot be asked to limit its window.
            None => MAX_WINDOW_BITS,
        };
        let params = DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover
                || self.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        };
        let mut answer = String::from(PERMESSAGE_DEFLATE);
        if params.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if params.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        if offer.server_max_window_bits.is_some() || server_max_window_bits < MAX_WINDOW_BITS {
            answer.push_str(&format!(
                "; server_max_window_bits={server_max_window_bits}"
            ));
        }
        if offer.client_max_window_bits.is_some() && client_max_window_bits < MAX_WINDOW_BITS {
            answer.push_str(&format!(
                "; client_max_window_bits={client_max_window_bits}"
            ));
        }
        Some((params, answer))
    }
}

impl fmt::Display for DeflateParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "permessage-deflate (server window {} bits{}, client window {} bits{})",
            self.server_max_window_bits,
            if self.server_no_context_takeover {
                ", no context takeover"
            } else {
                ""
            },
            self.client_max_window_bits,
            if self.client_no_context_takeover {
                ", no context takeover"
            } else {
                ""
            },
        )
    }
}

mod codec;
mod header;
#[cfg(test)]
mod tests;

pub use codec::{InflateError, MessageDeflater, MessageInflater};
use header::{Params, Side, parse_extensions};
