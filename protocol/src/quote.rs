//! Router text quoted in errors, cut to a sane length.
//!
//! An error may be cloned into every open stream of a connection, so text the
//! router chose (a reply word, a tag, a `!fatal` reason) must not make it
//! large: a hostile 4 MiB word would otherwise be copied per stream.

use crate::prelude::*;
/// How many bytes of router text an error quotes at most.
pub const QUOTE_LIMIT: usize = 256;

/// `bytes` as text (lossy UTF-8), whole when at most [`QUOTE_LIMIT`] bytes;
/// otherwise its first [`QUOTE_LIMIT`] bytes (cut back to a character
/// boundary) followed by `… (N bytes)`, N being the original length.
pub(crate) fn quote(bytes: &[u8]) -> String {
    if bytes.len() <= QUOTE_LIMIT {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    // Do not cut a UTF-8 character in two: step back over continuation bytes
    // (at most three; text that is not UTF-8 is replaced anyway).
    let mut end = QUOTE_LIMIT;
    while end > QUOTE_LIMIT - 3 && is_continuation(bytes[end]) {
        end -= 1;
    }
    format!(
        "{}… ({} bytes)",
        String::from_utf8_lossy(&bytes[..end]),
        bytes.len()
    )
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(quote(b"!bogus"), "!bogus");
        assert_eq!(quote(&[b'a'; QUOTE_LIMIT]), "a".repeat(QUOTE_LIMIT));
        assert_eq!(quote(b"caf\xe9"), "caf\u{fffd}");
    }

    #[test]
    fn long_text_is_cut_and_says_how_long_it_was() {
        let quoted = quote(&vec![b'x'; 4 << 20]);
        assert_eq!(
            quoted,
            format!("{}… (4194304 bytes)", "x".repeat(QUOTE_LIMIT))
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        for shift in 0..4 {
            let text = format!("{}{}", "a".repeat(shift), "é€😀".repeat(200));
            let quoted = quote(text.as_bytes());
            assert!(!quoted.contains('\u{fffd}'), "{shift}: {quoted}");
            let kept = quoted.split('…').next().unwrap();
            assert!(text.starts_with(kept) && kept.len() > QUOTE_LIMIT - 4);
        }
    }
}
