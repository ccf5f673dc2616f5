//! Length prefixes: the 1–5 byte big-endian word lengths of the RouterOS API.
//!
//! A multi-byte prefix often contains 0x00 bytes (256 is `81 00`), which is why
//! sentence ends must be found by walking prefixes, never by searching for 0x00.

use super::ProtocolError;
use crate::prelude::*;

/// The largest prefix is five bytes: `0xF0` followed by the length as a `u32`.
pub(crate) const MAX_PREFIX_LEN: usize = 5;

/// Appends the shortest length prefix for `len` to `out`.
pub fn encode_length(len: u32, out: &mut Vec<u8>) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0x3FFF => out.extend_from_slice(&(len as u16 | 0x8000).to_be_bytes()),
        0x4000..=0x1F_FFFF => out.extend_from_slice(&(len | 0xC0_0000).to_be_bytes()[1..]),
        0x20_0000..=0xFFF_FFFF => out.extend_from_slice(&(len | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// How many bytes the shortest prefix of `len` has (what [`encode_length`] writes).
pub(crate) fn encoded_len(len: u32) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

/// Splits the first prefixed word off `wire`: the word's bytes and what follows it.
///
/// `None` when `wire` is empty or does not start with a whole, valid word.
/// Never panics, whatever the bytes.
pub(crate) fn split_word(wire: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = prefix_len(*wire.first()?).ok()?;
    let len = usize::try_from(decode_prefix(wire.get(..n)?)).ok()?;
    let rest = wire.get(n..)?;
    if len > rest.len() {
        return None;
    }
    Some(rest.split_at(len))
}

/// How many bytes the prefix that starts with `first` has in total.
///
/// First bytes 0xF8–0xFF are reserved control bytes, and 0xF1–0xF7 are read
/// differently by different implementations: both are protocol errors.
pub(crate) fn prefix_len(first: u8) -> Result<usize, ProtocolError> {
    match first {
        0x00..=0x7F => Ok(1),
        0x80..=0xBF => Ok(2),
        0xC0..=0xDF => Ok(3),
        0xE0..=0xEF => Ok(4),
        0xF0 => Ok(5),
        0xF1..=0xF7 => Err(ProtocolError::UnsupportedLengthPrefix(first)),
        0xF8..=0xFF => Err(ProtocolError::ControlByte(first)),
    }
}

/// Decodes a complete prefix whose length `prefix.len()` was given by [`prefix_len`].
pub(crate) fn decode_prefix(prefix: &[u8]) -> u32 {
    match *prefix {
        [a] => u32::from(a),
        [a, b] => u32::from(u16::from_be_bytes([a & 0x3F, b])),
        [a, b, c] => u32::from_be_bytes([0, a & 0x1F, b, c]),
        [a, b, c, d] => u32::from_be_bytes([a & 0x0F, b, c, d]),
        [_, a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => unreachable!("prefix_len only returns 1 to 5"),
    }
}

/// Decodes the prefix at the start of `input`.
///
/// Returns `Ok(None)` when `input` holds only part of the prefix, otherwise the
/// length and the number of prefix bytes.
pub fn decode_length(input: &[u8]) -> Result<Option<(u32, usize)>, ProtocolError> {
    let Some(&first) = input.first() else {
        return Ok(None);
    };
    let n = prefix_len(first)?;
    Ok(input.get(..n).map(|prefix| (decode_prefix(prefix), n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encoded(len: u32) -> Vec<u8> {
        let mut out = Vec::new();
        encode_length(len, &mut out);
        out
    }

    #[test]
    fn every_form_at_its_boundaries() {
        let cases: &[(u32, &[u8])] = &[
            (0, &[0x00]),
            (0x7F, &[0x7F]),
            (0x80, &[0x80, 0x80]),
            (256, &[0x81, 0x00]),
            (0x3FFF, &[0xBF, 0xFF]),
            (0x4000, &[0xC0, 0x40, 0x00]),
            (65_536, &[0xC1, 0x00, 0x00]),
            (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
            (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
            (0xFFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
            (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
            (u32::MAX, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
        ];
        for &(len, bytes) in cases {
            assert_eq!(encoded(len), bytes, "encoding {len:#x}");
            assert_eq!(
                decode_length(bytes).unwrap(),
                Some((len, bytes.len())),
                "decoding {len:#x}"
            );
        }
    }

    #[test]
    fn reserved_first_bytes_are_errors() {
        for b in 0xF8..=0xFF {
            assert_eq!(
                decode_length(&[b, 0, 0, 0, 0]),
                Err(ProtocolError::ControlByte(b))
            );
        }
        for b in 0xF1..=0xF7 {
            assert_eq!(
                decode_length(&[b, 0, 0, 0, 0]),
                Err(ProtocolError::UnsupportedLengthPrefix(b))
            );
        }
    }

    #[test]
    fn partial_prefix_needs_more() {
        assert_eq!(decode_length(&[]), Ok(None));
        assert_eq!(decode_length(&[0xC1, 0x00]), Ok(None));
        assert_eq!(decode_length(&[0xF0, 1, 2, 3]), Ok(None));
    }

    #[test]
    fn split_word_walks_every_prefix_form_and_refuses_short_input() {
        for len in [0usize, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
            let word = vec![b'w'; len];
            let mut wire = Vec::new();
            crate::encode_word(&word, &mut wire);
            wire.extend_from_slice(b"\x01z");
            let (got, rest) = split_word(&wire).expect("a whole word");
            assert_eq!(got, &word[..], "word of {len} bytes");
            assert_eq!(rest, b"\x01z");
            // Any truncation is refused, never a panic.
            if len > 0 {
                for cut in [0, 1, wire.len() - 3] {
                    assert_eq!(split_word(&wire[..cut]), None, "cut at {cut} of {len}");
                }
            }
        }
        // The 5-byte form, claiming more than there is.
        assert_eq!(split_word(&[0xF0, 0, 0, 0, 2, b'a']), None);
        assert_eq!(
            split_word(&[0xF0, 0, 0, 0, 2, b'a', b'b']),
            Some((&b"ab"[..], &[][..]))
        );
        // Reserved first bytes are no word.
        assert_eq!(split_word(&[0xF8, 0]), None);
        assert_eq!(split_word(&[0xF1, 0, 0, 0, 0]), None);
        assert_eq!(split_word(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]), None);
    }

    proptest! {
        #[test]
        fn round_trip_over_the_whole_u32_range(len in any::<u32>()) {
            let bytes = encoded(len);
            prop_assert_eq!(decode_length(&bytes).unwrap(), Some((len, bytes.len())));
            prop_assert_eq!(encoded_len(len), bytes.len());
        }

        #[test]
        fn split_word_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            if let Some((word, rest)) = split_word(&bytes) {
                prop_assert!(word.len() + rest.len() < bytes.len());
            }
        }

        #[test]
        fn encoding_is_the_shortest_form(len in any::<u32>()) {
            let expected = match len {
                0..=0x7F => 1,
                0x80..=0x3FFF => 2,
                0x4000..=0x1F_FFFF => 3,
                0x20_0000..=0xFFF_FFFF => 4,
                _ => 5,
            };
            prop_assert_eq!(encoded(len).len(), expected);
        }
    }
}
