//! Payload masking (RFC 6455 §5.3), in safe code.
//!
//! Masking XORs byte `i` of the payload with `key[i % 4]`. To unmask a payload in pieces
//! as it arrives, [`apply_mask`] takes the offset of the piece within the payload and
//! rotates the key accordingly. The body works on 8 bytes at a time through `u64` XOR
//! (the compiler vectorises the loop); the tail is done byte by byte.

/// XORs `buf` with `key`, where `buf` starts `offset` bytes into the masked payload.
pub(crate) fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let (chunks, tail) = buf.as_chunks_mut::<8>();
    for chunk in chunks {
        *chunk = (u64::from_ne_bytes(*chunk) ^ wide).to_ne_bytes();
    }
    // Chunks are a multiple of 4 bytes long, so the tail starts at key phase 0.
    for (byte, k) in tail.iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// The key as seen from `offset` bytes into the payload.
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset % 4);
    rotated
}

#[cfg(test)]
mod tests {
    use super::apply_mask;

    fn oracle(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn mask_matches_byte_by_byte_oracle_for_every_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for offset in 0..=64 {
            for len in 0..=64 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + offset) as u8).collect();
                let mut fast = data.clone();
                let mut slow = data.clone();
                apply_mask(&mut fast, key, offset);
                oracle(&mut slow, key, offset);
                assert_eq!(fast, slow, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn masking_in_pieces_equals_masking_at_once() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..=data.len() {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(pieces, whole, "cut {cut}");
        }
    }

    #[test]
    fn masking_twice_restores_the_payload() {
        let data = b"Hello, world! This is longer than eight bytes.".to_vec();
        let mut buf = data.clone();
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        assert_ne!(buf, data);
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        assert_eq!(buf, data);
    }
}
