//! A decoded sentence: one buffer holding its words, and their spans.

use std::fmt;
use std::ops::Range;

/// Where a word lies in its sentence's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One sentence as it came off the wire: the words' bytes back to back in one
/// buffer (prefixes and terminator stripped), and where each word lies.
///
/// Words are views into that buffer; nothing is copied per word.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sentence {
    pub(crate) data: Vec<u8>,
    pub(crate) words: Vec<Span>,
}

impl Sentence {
    /// Builds a sentence from its words (mostly for tests and the mock router).
    pub fn from_words<W: AsRef<[u8]>>(words: impl IntoIterator<Item = W>) -> Self {
        let mut sentence = Self::default();
        for word in words {
            sentence.push_word(word.as_ref());
        }
        sentence
    }

    pub(crate) fn push_word(&mut self, word: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(word);
        self.words.push(Span {
            start,
            end: self.data.len() as u32,
        });
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the sentence has no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word at `index`.
    pub fn word(&self, index: usize) -> Option<&[u8]> {
        self.words.get(index).map(|span| &self.data[span.range()])
    }

    /// The words in order.
    pub fn words(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.words.iter().map(|span| &self.data[span.range()])
    }

    /// Total payload bytes of all words.
    pub fn payload_len(&self) -> usize {
        self.data.len()
    }

    /// Appends the sentence in wire form (prefixed words, then the 0x00 terminator).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        for word in self.words() {
            super::encode_word(word, out);
        }
        out.push(0);
    }
}

impl fmt::Debug for Sentence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.words().map(String::from_utf8_lossy))
            .finish()
    }
}
