//! Byte buffers for the protocol cores.
//!
//! [`ReadBuf`] has a fixed capacity chosen at construction and never grows: a peer cannot
//! make it allocate. Unread bytes live in `start..end`; compaction moves them to the front.
//! [`WriteBuf`] holds encoded output until the transport has taken it; it may grow for a
//! large send, and once drained shrinks back to its initial capacity if it grew past twice
//! that.

/// Fixed-capacity receive buffer: `data[start..end]` holds bytes received but not consumed.
#[derive(Debug)]
pub(crate) struct ReadBuf {
    data: Box<[u8]>,
    start: usize,
    end: usize,
}

impl ReadBuf {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            data: vec![0; capacity].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Bytes received and not consumed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// Offset of the first unconsumed byte from the front of the storage.
    #[inline]
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    #[inline]
    pub(crate) fn filled(&self) -> &[u8] {
        self.data.get(self.start..self.end).unwrap_or(&[])
    }

    #[inline]
    pub(crate) fn filled_mut(&mut self) -> &mut [u8] {
        self.data.get_mut(self.start..self.end).unwrap_or(&mut [])
    }

    /// Marks `n` unconsumed bytes as consumed (clamped to what is there).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Drops every unconsumed byte.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Moves the unconsumed bytes to the front of the storage.
    pub(crate) fn compact(&mut self) {
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// The free room after the unconsumed bytes.
    #[inline]
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        self.data.get_mut(self.end..).unwrap_or(&mut [])
    }

    /// Commits `n` bytes written into [`spare`](Self::spare) (clamped to its length).
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        self.end += n.min(self.data.len() - self.end);
    }

    /// Copies as much of `bytes` as fits into the spare room; returns how much.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> usize {
        let spare = self.spare();
        let n = bytes.len().min(spare.len());
        if let (Some(dst), Some(src)) = (spare.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.commit(n);
        n
    }
}

/// Growable send buffer drained from the front: `data[written..]` is still to be written.
#[derive(Debug)]
pub(crate) struct WriteBuf {
    data: Vec<u8>,
    written: usize,
    initial_capacity: usize,
}

impl WriteBuf {
    pub(crate) fn new(initial_capacity: usize) -> Self {
        Self {
            data: Vec::with_capacity(initial_capacity),
            written: 0,
            initial_capacity,
        }
    }

    /// Bytes encoded but not yet taken by the transport.
    pub(crate) fn pending(&self) -> &[u8] {
        self.data.get(self.written..).unwrap_or(&[])
    }

    /// Offset of the first unwritten byte in [`vec`](Self::vec).
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    /// The whole storage, written prefix included, for appending frames.
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Records that the transport took `n` more bytes (clamped); resets when drained.
    pub(crate) fn advance(&mut self, n: usize) {
        self.written = self.written.saturating_add(n).min(self.data.len());
        if self.written == self.data.len() {
            self.data.clear();
            self.written = 0;
            if self.data.capacity() > self.initial_capacity.saturating_mul(2) {
                // A large send grew the buffer; give the memory back now that it is empty.
                // Up to twice the initial capacity is kept, so messages just over it (a
                // payload the size of the buffer plus its header) do not reallocate on
                // every send.
                self.data.shrink_to(self.initial_capacity);
            }
        }
    }

    /// Drops the written prefix when it is at least half the storage, so a transport that
    /// keeps up with partial writes does not make the buffer grow. Returns how many bytes
    /// were removed from the front.
    pub(crate) fn reclaim(&mut self) -> usize {
        let w = self.written;
        if w > 0 && w * 2 >= self.data.len() {
            self.data.drain(..w);
            self.written = 0;
            return w;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadBuf, WriteBuf};

    #[test]
    fn read_buf_compaction_keeps_unread_bytes() {
        let mut b = ReadBuf::new(8);
        assert_eq!(b.append(b"abcdefghij"), 8);
        assert!(b.spare().is_empty());
        b.consume(5);
        assert_eq!(b.filled(), b"fgh");
        b.compact();
        assert_eq!(b.filled(), b"fgh");
        assert_eq!(b.spare().len(), 5);
        b.consume(3);
        assert_eq!(b.start(), 0);
        assert_eq!(b.spare().len(), 8);
    }

    #[test]
    fn write_buf_shrinks_back_after_a_large_send_is_drained() {
        let mut w = WriteBuf::new(16);
        w.vec().extend_from_slice(&[7; 1000]);
        assert!(w.vec().capacity() >= 1000);
        w.advance(600);
        assert_eq!(w.pending().len(), 400);
        assert_eq!(w.reclaim(), 600);
        assert_eq!(w.pending().len(), 400);
        w.advance(400);
        assert!(w.pending().is_empty());
        assert!(w.vec().capacity() <= 16);
    }

    #[test]
    fn write_buf_keeps_up_to_twice_its_initial_capacity() {
        let mut w = WriteBuf::new(1000);
        w.vec().extend_from_slice(&[7; 1014]);
        let grown = w.vec().capacity();
        assert!(grown <= 2000);
        w.advance(1014);
        assert_eq!(w.vec().capacity(), grown);
    }
}
