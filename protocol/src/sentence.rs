//! A decoded sentence: its words in wire form, in one shared buffer.

use super::length::split_word;
use super::shared_bytes::SharedBytes;
use crate::prelude::*;
use core::fmt;
use core::iter::FusedIterator;

/// One sentence as it came off the wire: its words, each behind the shortest
/// length prefix, back to back in one shared buffer (the terminator stripped).
///
/// Words are found by walking the prefixes and are views into that buffer;
/// cloning a sentence, or taking its attribute views, shares the buffer. The
/// sentences decoded from one read together share one allocation (see
/// `shared_bytes`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sentence {
    /// Prefixed words; always whole, valid, shortest-form words.
    wire: SharedBytes,
    /// How many words `wire` holds.
    count: usize,
}

impl Sentence {
    /// Builds a sentence from its words (mostly for tests and the mock router).
    ///
    /// # Panics
    /// If a word is 4 GiB or longer, which the protocol cannot express.
    pub fn from_words<W: AsRef<[u8]>>(words: impl IntoIterator<Item = W>) -> Self {
        let mut wire = Vec::new();
        let mut count = 0;
        for word in words {
            super::encode_word(word.as_ref(), &mut wire);
            count += 1;
        }
        Self::from_wire(SharedBytes::from(alloc::sync::Arc::from(wire)), count)
    }

    /// A sentence of `count` shortest-form prefixed words (the decoder's output).
    pub(crate) fn from_wire(wire: SharedBytes, count: usize) -> Self {
        debug_assert_eq!(WireWords(&wire).count(), count);
        Self { wire, count }
    }

    /// The buffer of prefixed words, to share with the attribute views.
    pub(crate) fn into_wire(self) -> SharedBytes {
        self.wire
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the sentence has no words.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The word at `index`.
    pub fn word(&self, index: usize) -> Option<&[u8]> {
        WireWords(&self.wire).nth(index)
    }

    /// The words in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        Words {
            inner: WireWords(&self.wire),
            remaining: self.count,
        }
    }

    /// Bytes the sentence occupies in memory (its prefixed words).
    #[doc(hidden)]
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// Total payload bytes of all words.
    pub fn payload_len(&self) -> usize {
        WireWords(&self.wire).map(<[u8]>::len).sum()
    }

    /// Appends the sentence in wire form (prefixed words, then the 0x00 terminator).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.wire.len() + 1);
        out.extend_from_slice(&self.wire);
        out.push(0);
    }
}

/// The words of a buffer of prefixed words, in order. Stops at the end of the
/// buffer (or, were the buffer ever malformed, at the first word that is not
/// whole: walking never panics).
#[derive(Clone)]
pub(crate) struct WireWords<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for WireWords<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        // The one-byte prefix (words under 128 bytes) is by far the most common.
        let (word, rest) = match *self.0 {
            [] => return None,
            [len @ 0..=0x7F, ref rest @ ..] if usize::from(len) <= rest.len() => {
                rest.split_at(usize::from(len))
            }
            _ => match split_word(self.0) {
                Some(split) => split,
                None => {
                    self.0 = &[];
                    return None;
                }
            },
        };
        self.0 = rest;
        Some(word)
    }
}

impl FusedIterator for WireWords<'_> {}

/// [`WireWords`] with the count known in advance.
struct Words<'a> {
    inner: WireWords<'a>,
    remaining: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let word = self.inner.next()?;
        self.remaining = self.remaining.saturating_sub(1);
        Some(word)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Words<'_> {}

impl FusedIterator for Words<'_> {}

impl fmt::Debug for Sentence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A command's path tells its secrets; a reply's menu is unknown here.
        let path = self.words().next().filter(|w| w.starts_with(b"/"));
        f.debug_list()
            .entries(self.words().enumerate().map(|(i, w)| {
                let w = if i == 0 {
                    w.into()
                } else {
                    super::secrets::redact_word(path, w)
                };
                String::from_utf8_lossy(&w).into_owned()
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode_sentence;

    /// Words whose shortest prefixes take 1, 2, 3, 4 and 5 bytes (the last
    /// is faked: a 5-byte prefix needs a 256 MiB word, so it is written by hand).
    #[test]
    fn walks_words_behind_prefixes_of_every_width() {
        let lens = [
            0usize, 1, 0x7F, 0x80, 300, 0x3FFF, 0x4000, 70_000, 0x20_0000,
        ];
        let words: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| vec![b'a' + i as u8; n])
            .collect();
        let s = Sentence::from_words(&words);
        assert_eq!(s.len(), words.len());
        assert!(!s.is_empty());
        assert_eq!(s.words().len(), words.len());
        assert_eq!(s.words().collect::<Vec<_>>(), words);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(s.word(i), Some(&w[..]));
        }
        assert_eq!(s.word(words.len()), None);
        assert_eq!(s.payload_len(), lens.iter().sum::<usize>());

        let mut five = vec![0xF0, 0, 0, 0, 3, b'x', b'y', b'z', 1, b'q'];
        let walked: Vec<&[u8]> = WireWords(&five).collect();
        assert_eq!(walked, [&b"xyz"[..], b"q"]);
        // A buffer cut short ends the walk instead of panicking.
        five.truncate(7);
        assert_eq!(WireWords(&five).count(), 0);
        assert_eq!(WireWords(&[2, b'a']).count(), 0);
        assert_eq!(WireWords(&[1, b'a', 0xF8]).count(), 1);
    }

    #[test]
    fn the_iterator_knows_how_many_words_are_left() {
        let s = Sentence::from_words(["!re", "=a=1", ".tag=x"]);
        let mut words = s.words();
        assert_eq!(words.len(), 3);
        words.next();
        assert_eq!(words.len(), 2);
        assert_eq!(words.size_hint(), (2, Some(2)));
        words.next();
        words.next();
        assert_eq!(words.len(), 0);
        assert_eq!(words.next(), None);
    }

    #[test]
    fn encodes_back_to_the_wire_and_compares_by_words() {
        let words: [&[u8]; 4] = [b"!re", b"", &[0u8; 200], b"=x=\x00\xff"];
        let s = Sentence::from_words(words);
        let mut expected = Vec::new();
        encode_sentence(words, &mut expected);
        let mut out = vec![9];
        s.encode_into(&mut out);
        assert_eq!(out[0], 9);
        assert_eq!(&out[1..], &expected[..]);
        assert_eq!(s.clone(), s);
        assert_ne!(
            Sentence::from_words(["a", "b"]),
            Sentence::from_words(["ab"])
        );
        assert_eq!(
            format!("{s:?}"),
            format!("{:?}", words.map(String::from_utf8_lossy))
        );
    }

    #[test]
    fn the_empty_sentence() {
        let s = Sentence::default();
        assert_eq!(s, Sentence::from_words(Vec::<&[u8]>::new()));
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
        assert_eq!(s.word(0), None);
        assert_eq!(s.words().next(), None);
        assert_eq!(s.payload_len(), 0);
        let mut out = Vec::new();
        s.encode_into(&mut out);
        assert_eq!(out, [0]);
        assert_eq!(format!("{s:?}"), "[]");
    }
}
