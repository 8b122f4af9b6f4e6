//! A bounds-checked byte cursor.
//!
//! Parsers read every byte that came from a peer through [`Reader`]: each accessor returns
//! `None` instead of panicking when the input is too short, so "need more bytes" is a value
//! and an out-of-range index cannot happen.

/// A forward-only cursor over a byte slice.
///
/// # Examples
///
/// ```
/// use nexus_async_net::proto::reader::Reader;
///
/// let mut r = Reader::new(&[0x81, 0x7e, 0x01, 0x00, 0xaa]);
/// assert_eq!(r.u8(), Some(0x81));
/// assert_eq!(r.u8(), Some(0x7e));
/// assert_eq!(r.u16_be(), Some(256));
/// assert_eq!(r.u64_be(), None); // only one byte left
/// assert_eq!(r.rest(), &[0xaa]);
/// ```
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts a cursor at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// How many bytes have been consumed.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The bytes not consumed yet (the cursor does not move).
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Consumes `n` bytes and returns them, or `None` (consuming nothing) if fewer remain.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    /// Consumes exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).ok()
    }

    /// Consumes one byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// Consumes a big-endian (network order) `u16`.
    pub fn u16_be(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    /// Consumes a big-endian (network order) `u32`.
    pub fn u32_be(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    /// Consumes a big-endian (network order) `u64`.
    pub fn u64_be(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::Reader;

    #[test]
    fn short_input_returns_none_and_consumes_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32_be(), None);
        assert_eq!(r.position(), 0);
        assert_eq!(r.take(3), Some(&[1u8, 2, 3][..]));
        assert_eq!(r.u8(), None);
        assert_eq!(r.remaining(), 0);
        assert!(r.rest().is_empty());
    }

    #[test]
    fn huge_take_does_not_overflow() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.take(usize::MAX), None);
        assert_eq!(r.u16_be(), Some(0x0203));
    }
}
