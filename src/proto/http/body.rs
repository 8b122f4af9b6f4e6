//! [`BodyDecoder`]: the response body as an explicit byte-state machine.
//!
//! Content-Length bodies and close-delimited bodies are counted; chunked bodies
//! (RFC 9112 §7.1) are walked one byte at a time through the size line, extensions, the
//! CRLF after each chunk and the trailer section, so a chunk split at any byte boundary
//! decodes the same as one read whole. Data bytes are never copied here: each call reports
//! which part of its input is body, and the caller moves it where it wants (the
//! [`rest`](crate::rest) reader compacts it in place).

use std::ops::Range;

use super::error::ParseError;
use super::response::{Framing, Limits};

/// Longest chunk extension accepted on one size line, in bytes. Extensions carry no
/// meaning for this client and are skipped; the bound keeps a peer from streaming
/// an endless size line.
pub const MAX_CHUNK_EXTENSION: usize = 4096;

/// Hex digits accepted in a chunk size (16 fill a `u64`; leading zeros count too).
const MAX_SIZE_DIGITS: u8 = 16;

/// Decodes one response body.
///
/// Feed it input with [`decode`](Self::decode) until [`is_done`](Self::is_done), and call
/// [`handle_eof`](Self::handle_eof) if the stream ends first. The body size limit is
/// enforced as bytes arrive, and up front when the length is announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyDecoder {
    state: State,
    max_body: u64,
    max_trailer: usize,
    decoded: u64,
}

/// The result of one [`BodyDecoder::decode`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// How many input bytes were consumed (body bytes and framing bytes).
    pub consumed: usize,
    /// The body bytes among them, as a range of the input (`data.end <= consumed`); empty
    /// when this step consumed only framing.
    pub data: Range<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Content-Length: this many bytes still to come.
    Length { remaining: u64 },
    /// Everything until the peer closes.
    UntilClose,
    /// Reading the hex digits of a chunk size.
    Size { size: u64, digits: u8 },
    /// Whitespace after the size digits (tolerated, as many servers send it).
    SizeSpace { size: u64 },
    /// Inside `;ext=value` after the size: skipped up to CR.
    Extension { size: u64, len: usize },
    /// Saw the CR ending the size line.
    SizeLf { size: u64 },
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line (or the final blank line).
    TrailerStart { seen: usize },
    /// Inside a trailer field line: skipped up to CR.
    TrailerLine { seen: usize },
    /// Saw the CR ending a trailer field line.
    TrailerLf { seen: usize },
    /// Saw the CR of the final blank line.
    EndLf,
    /// The body is complete.
    Done,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, under `limits` (`max_body_size` for the
    /// body, `max_head_size` for a chunked body's trailer section).
    ///
    /// # Errors
    ///
    /// [`ParseError::BodyTooLarge`] when a `Content-Length` already exceeds the limit.
    pub fn new(framing: Framing, limits: &Limits) -> Result<Self, ParseError> {
        let max_body = u64::try_from(limits.max_body_size).unwrap_or(u64::MAX);
        let state = match framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) if n > max_body => {
                return Err(ParseError::BodyTooLarge {
                    max: limits.max_body_size,
                });
            }
            Framing::Length(n) => State::Length { remaining: n },
            Framing::Chunked => State::Size { size: 0, digits: 0 },
            Framing::UntilClose => State::UntilClose,
        };
        Ok(Self {
            state,
            max_body,
            max_trailer: limits.max_head_size,
            decoded: 0,
        })
    }

    /// Whether the whole body has been decoded. Input after that point is not consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Body bytes decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Consumes a prefix of `input`: framing bytes, then at most one contiguous run of
    /// body bytes. Call it again with the rest while `consumed > 0` and the body is not
    /// done.
    ///
    /// # Errors
    ///
    /// [`ParseError::BodyTooLarge`] past the body limit, [`ParseError::InvalidChunkSize`],
    /// [`ParseError::ChunkExtensionTooLong`], [`ParseError::InvalidChunkDelimiter`],
    /// [`ParseError::TrailersTooLarge`]. The decoder must not be used after an error.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, ParseError> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Done => return Ok(Step::framing(pos)),
                State::Length { remaining } | State::Data { remaining } => {
                    let rest = input.get(pos..).unwrap_or(&[]);
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    return self.take_data(pos, take);
                }
                State::UntilClose => {
                    let take = input.len().saturating_sub(pos);
                    return self.take_data(pos, take);
                }
                _ => {
                    let Some(&b) = input.get(pos) else {
                        return Ok(Step::framing(pos));
                    };
                    pos += 1;
                    self.state = self.on_framing_byte(b)?;
                }
            }
        }
    }

    /// The stream ended. A close-delimited body is complete now.
    ///
    /// # Errors
    ///
    /// [`ParseError::IncompleteBody`] when the framing said more was to come.
    pub fn handle_eof(&mut self) -> Result<(), ParseError> {
        match self.state {
            State::Done => Ok(()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(ParseError::IncompleteBody),
        }
    }

    /// Accounts for `take` body bytes at `input[pos..]` and moves the state on.
    fn take_data(&mut self, pos: usize, take: usize) -> Result<Step, ParseError> {
        let n = u64::try_from(take).unwrap_or(u64::MAX);
        let decoded = self.decoded.saturating_add(n);
        if decoded > self.max_body {
            return Err(self.too_large());
        }
        self.decoded = decoded;
        self.state = match self.state {
            State::Length { remaining } if remaining == n => State::Done,
            State::Length { remaining } => State::Length {
                remaining: remaining - n,
            },
            State::Data { remaining } if remaining == n => State::DataCr,
            State::Data { remaining } => State::Data {
                remaining: remaining - n,
            },
            other => other,
        };
        Ok(Step {
            consumed: pos + take,
            data: pos..pos + take,
        })
    }

    fn too_large(&self) -> ParseError {
        ParseError::BodyTooLarge {
            max: usize::try_from(self.max_body).unwrap_or(usize::MAX),
        }
    }

    /// One byte of chunked framing (RFC 9112 §7.1):
    /// `chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... 0 [ chunk-ext ] CRLF trailer CRLF`.
    fn on_framing_byte(&self, b: u8) -> Result<State, ParseError> {
        Ok(match self.state {
            State::Size { size, digits } => match (hex_value(b), b) {
                (Some(d), _) => {
                    if digits >= MAX_SIZE_DIGITS {
                        return Err(ParseError::InvalidChunkSize);
                    }
                    State::Size {
                        size: (size << 4) | u64::from(d),
                        digits: digits + 1,
                    }
                }
                (None, _) if digits == 0 => return Err(ParseError::InvalidChunkSize),
                (None, b' ' | b'\t') => State::SizeSpace { size },
                (None, b';') => State::Extension { size, len: 0 },
                (None, b'\r') => State::SizeLf { size },
                (None, _) => return Err(ParseError::InvalidChunkSize),
            },
            State::SizeSpace { size } => match b {
                b' ' | b'\t' => State::SizeSpace { size },
                b';' => State::Extension { size, len: 0 },
                b'\r' => State::SizeLf { size },
                _ => return Err(ParseError::InvalidChunkSize),
            },
            State::Extension { size, len } => match b {
                b'\r' => State::SizeLf { size },
                b'\n' => return Err(ParseError::InvalidChunkDelimiter),
                _ if len >= MAX_CHUNK_EXTENSION => return Err(ParseError::ChunkExtensionTooLong),
                _ => State::Extension { size, len: len + 1 },
            },
            State::SizeLf { size } => match b {
                b'\n' if size == 0 => State::TrailerStart { seen: 0 },
                b'\n' if self.decoded.saturating_add(size) > self.max_body => {
                    return Err(self.too_large());
                }
                b'\n' => State::Data { remaining: size },
                _ => return Err(ParseError::InvalidChunkDelimiter),
            },
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(ParseError::InvalidChunkDelimiter),
            },
            State::DataLf => match b {
                b'\n' => State::Size { size: 0, digits: 0 },
                _ => return Err(ParseError::InvalidChunkDelimiter),
            },
            State::TrailerStart { seen } => match b {
                b'\r' => State::EndLf,
                _ => State::TrailerLine {
                    seen: self.trailer_byte(seen)?,
                },
            },
            State::TrailerLine { seen } => match b {
                b'\r' => State::TrailerLf {
                    seen: self.trailer_byte(seen)?,
                },
                _ => State::TrailerLine {
                    seen: self.trailer_byte(seen)?,
                },
            },
            State::TrailerLf { seen } => match b {
                b'\n' => State::TrailerStart {
                    seen: self.trailer_byte(seen)?,
                },
                _ => return Err(ParseError::InvalidChunkDelimiter),
            },
            State::EndLf => match b {
                b'\n' => State::Done,
                _ => return Err(ParseError::InvalidChunkDelimiter),
            },
            // Data states are handled by `decode` and never reach here.
            other => other,
        })
    }

    fn trailer_byte(&self, seen: usize) -> Result<usize, ParseError> {
        let seen = seen + 1;
        if seen > self.max_trailer {
            return Err(ParseError::TrailersTooLarge);
        }
        Ok(seen)
    }
}

impl Step {
    fn framing(consumed: usize) -> Self {
        Self {
            consumed,
            data: consumed..consumed,
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
