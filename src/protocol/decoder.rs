//! The incremental sentence decoder.
//!
//! Feed it whatever a read returned, from one byte to megabytes, and take out
//! complete sentences. Every input byte is looked at once: a partial prefix is
//! kept in a five-byte scratch, word bytes go straight into the sentence being
//! built, so the total work is linear in the input whatever the split. Memory
//! grows only with bytes actually received, never with what a prefix claims.

use super::ProtocolError;
use super::length::{MAX_PREFIX_LEN, decode_prefix, prefix_len};
use super::sentence::{Sentence, Span};

/// Bounds on what the decoder accepts from the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// The longest word, in bytes. Default 16 MiB.
    pub max_word_len: usize,
    /// The longest sentence, counting word bytes without prefixes. Default 64 MiB.
    pub max_sentence_len: usize,
    /// The most words in one sentence. Default 1,048,576.
    pub max_words: usize,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        Self {
            max_word_len: 16 << 20,
            max_sentence_len: 64 << 20,
            max_words: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Collecting a length prefix; `have` of its bytes are in `scratch`.
    Prefix { have: u8 },
    /// Copying a word of which `remaining` bytes are still to come.
    Word { remaining: u32 },
}

/// Turns a byte stream into [`Sentence`]s.
///
/// After a framing error the position in the stream is lost: the decoder keeps
/// returning that error.
#[derive(Debug)]
pub struct Decoder {
    limits: DecoderLimits,
    state: State,
    scratch: [u8; MAX_PREFIX_LEN],
    current: Sentence,
    /// Payload size of the previous sentence, to size the next one's buffer.
    last_len: usize,
    /// Word count of the previous sentence, to size the next one's spans.
    last_words: usize,
    failed: Option<ProtocolError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DecoderLimits::default())
    }
}

impl Decoder {
    /// A decoder that enforces `limits`.
    pub fn new(limits: DecoderLimits) -> Self {
        Self {
            limits,
            state: State::Prefix { have: 0 },
            scratch: [0; MAX_PREFIX_LEN],
            current: Sentence::default(),
            last_len: 0,
            last_words: 0,
            failed: None,
        }
    }

    /// Whether the decoder holds part of a sentence (bytes received since the last one ended).
    pub fn is_mid_sentence(&self) -> bool {
        !self.current.is_empty() || !matches!(self.state, State::Prefix { have: 0 })
    }

    /// Consumes bytes from the front of `input` until a sentence is complete
    /// (returned) or `input` is used up (`Ok(None)`).
    ///
    /// Call it again with the rest of `input` to get the next sentence. Empty
    /// sentences (a lone 0x00) are skipped.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<Sentence>, ProtocolError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decode_inner(input);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    fn decode_inner(&mut self, input: &mut &[u8]) -> Result<Option<Sentence>, ProtocolError> {
        loop {
            match self.state {
                State::Word { remaining } => {
                    let take = input.len().min(remaining as usize);
                    let (head, rest) = input.split_at(take);
                    self.current.data.extend_from_slice(head);
                    *input = rest;
                    let remaining = remaining - take as u32;
                    if remaining > 0 {
                        self.state = State::Word { remaining };
                        return Ok(None);
                    }
                    let end = self.current.data.len() as u32;
                    let start = self.current.words.last().map_or(0, |w| w.end);
                    self.current.words.push(Span { start, end });
                    self.state = State::Prefix { have: 0 };
                }
                State::Prefix { have } => {
                    let Some(len) = self.take_prefix(have, input)? else {
                        return Ok(None);
                    };
                    if len == 0 {
                        if self.current.is_empty() {
                            continue;
                        }
                        self.last_len = self.current.data.len();
                        self.last_words = self.current.words.len();
                        return Ok(Some(std::mem::take(&mut self.current)));
                    }
                    self.start_word(len)?;
                }
            }
        }
    }

    /// Reads the rest of a prefix of which `have` bytes are already in `scratch`.
    fn take_prefix(&mut self, have: u8, input: &mut &[u8]) -> Result<Option<u32>, ProtocolError> {
        let have = have as usize;
        // The common case: a whole prefix in the input, nothing buffered.
        if have == 0 {
            let Some(&first) = input.first() else {
                return Ok(None);
            };
            let need = prefix_len(first)?;
            if let Some(prefix) = input.get(..need) {
                let len = decode_prefix(prefix);
                *input = &input[need..];
                return Ok(Some(len));
            }
        }
        let first = if have == 0 { input[0] } else { self.scratch[0] };
        let need = prefix_len(first)?;
        let take = (need - have).min(input.len());
        self.scratch[have..have + take].copy_from_slice(&input[..take]);
        *input = &input[take..];
        if have + take < need {
            self.state = State::Prefix {
                have: (have + take) as u8,
            };
            return Ok(None);
        }
        self.state = State::Prefix { have: 0 };
        Ok(Some(decode_prefix(&self.scratch[..need])))
    }

    fn start_word(&mut self, len: u32) -> Result<(), ProtocolError> {
        let limits = &self.limits;
        if len as usize > limits.max_word_len {
            return Err(ProtocolError::WordTooLong {
                len: len.into(),
                limit: limits.max_word_len,
            });
        }
        let total = self.current.data.len() as u64 + u64::from(len);
        if total > limits.max_sentence_len as u64 {
            return Err(ProtocolError::SentenceTooLong {
                len: total,
                limit: limits.max_sentence_len,
            });
        }
        if self.current.words.len() >= limits.max_words {
            return Err(ProtocolError::TooManyWords {
                limit: limits.max_words,
            });
        }
        if self.current.data.capacity() == 0 {
            // Size the new sentence like the previous one: bounded by bytes
            // that really arrived, and it saves the doubling reallocations.
            self.current.data.reserve(self.last_len);
            // Likewise the spans: a row of 10 attributes would otherwise
            // grow them 4 → 8 → 16, two reallocations per sentence.
            self.current.words.reserve(self.last_words.min(self.limits.max_words));
        }
        self.state = State::Word { remaining: len };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encode_word;
    use proptest::prelude::*;

    fn wire(sentences: &[&[&[u8]]]) -> Vec<u8> {
        let mut out = Vec::new();
        for words in sentences {
            for w in *words {
                encode_word(w, &mut out);
            }
            out.push(0);
        }
        out
    }

    fn decode_all(
        decoder: &mut Decoder,
        mut input: &[u8],
    ) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut out = Vec::new();
        while let Some(s) = decoder.decode(&mut input)? {
            out.push(s.words().map(<[u8]>::to_vec).collect());
        }
        assert!(
            input.is_empty(),
            "decode returns None only when the input is used up"
        );
        Ok(out)
    }

    fn words(sentences: &[&[&[u8]]]) -> Vec<Vec<Vec<u8>>> {
        sentences
            .iter()
            .map(|s| s.iter().map(|w| w.to_vec()).collect())
            .collect()
    }

    #[test]
    fn decodes_sentences_and_skips_empty_ones() {
        let mut bytes = vec![0, 0];
        bytes.extend(wire(&[
            &[b"!re", b"=name=ether1", b".tag=a"],
            &[b"!done", b".tag=a"],
        ]));
        bytes.push(0);
        let got = decode_all(&mut Decoder::default(), &bytes).unwrap();
        assert_eq!(
            got,
            words(&[
                &[b"!re", b"=name=ether1", b".tag=a"],
                &[b"!done", b".tag=a"]
            ])
        );
    }

    #[test]
    fn words_whose_prefix_contains_zero_bytes_stay_in_sync() {
        for len in [256usize, 512, 16128, 16384, 65_536, 1 << 20] {
            let big = vec![b'x'; len];
            let bytes = wire(&[&[b"!re", &big], &[b"!done"]]);
            let got = decode_all(&mut Decoder::default(), &bytes).unwrap();
            assert_eq!(
                got,
                words(&[&[b"!re", &big], &[b"!done"]]),
                "word of {len} bytes"
            );
        }
    }

    #[test]
    fn zero_and_arbitrary_bytes_inside_words_survive() {
        let value: Vec<u8> = (0..=255u8).collect();
        let bytes = wire(&[&[b"!re", &value]]);
        let got = decode_all(&mut Decoder::default(), &bytes).unwrap();
        assert_eq!(got[0][1], value);
    }

    #[test]
    fn control_bytes_and_ambiguous_prefixes_are_errors() {
        for b in 0xF1..=0xFFu8 {
            let mut d = Decoder::default();
            let mut bytes = wire(&[&[b"!done"]]);
            bytes.push(b);
            let err = decode_all(&mut d, &bytes).unwrap_err();
            assert!(err.is_framing());
            assert!(
                matches!(err, ProtocolError::ControlByte(x) | ProtocolError::UnsupportedLengthPrefix(x) if x == b)
            );
            // The decoder stays failed.
            assert_eq!(d.decode(&mut &b"\x00"[..]), Err(err));
        }
    }

    #[test]
    fn a_prefix_claiming_gigabytes_allocates_nothing() {
        let mut d = Decoder::new(DecoderLimits {
            max_word_len: usize::MAX,
            max_sentence_len: usize::MAX,
            max_words: 10,
        });
        let mut input: &[u8] = &[0xF0, 0xFF, 0xFF, 0xFF, 0xF0, b'a', b'b'];
        assert_eq!(d.decode(&mut input), Ok(None));
        assert!(
            d.current.data.capacity() < 1024,
            "capacity {}",
            d.current.data.capacity()
        );
        assert!(d.is_mid_sentence());
    }

    #[test]
    fn limits_are_enforced() {
        let limits = DecoderLimits {
            max_word_len: 8,
            max_sentence_len: 12,
            max_words: 3,
        };
        let word_too_long = wire(&[&[b"123456789"]]);
        assert_eq!(
            decode_all(&mut Decoder::new(limits), &word_too_long),
            Err(ProtocolError::WordTooLong { len: 9, limit: 8 })
        );
        let sentence_too_long = wire(&[&[b"12345678", b"12345"]]);
        assert_eq!(
            decode_all(&mut Decoder::new(limits), &sentence_too_long),
            Err(ProtocolError::SentenceTooLong { len: 13, limit: 12 })
        );
        let too_many_words = wire(&[&[b"a", b"b", b"c", b"d"]]);
        assert_eq!(
            decode_all(&mut Decoder::new(limits), &too_many_words),
            Err(ProtocolError::TooManyWords { limit: 3 })
        );
        let at_the_limits = wire(&[&[b"12345678", b"1234"], &[b"a", b"b", b"c"]]);
        assert_eq!(
            decode_all(&mut Decoder::new(limits), &at_the_limits)
                .unwrap()
                .len(),
            2
        );
        // The gigabyte claim is refused on its prefix, before any byte of it.
        let mut d = Decoder::default();
        assert!(matches!(
            d.decode(&mut &[0xF0u8, 0xFF, 0xFF, 0xFF, 0xF0][..]),
            Err(ProtocolError::WordTooLong { .. })
        ));
    }

    #[test]
    fn mid_sentence_tracks_partial_input() {
        let bytes = wire(&[&[b"!done", b".tag=1"]]);
        let mut d = Decoder::default();
        assert!(!d.is_mid_sentence());
        for (i, b) in bytes.iter().enumerate() {
            let got = d.decode(&mut &[*b][..]).unwrap();
            assert_eq!(got.is_some(), i == bytes.len() - 1);
            assert_eq!(d.is_mid_sentence(), i != bytes.len() - 1);
        }
    }

    fn arb_sentences() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
        let word = prop_oneof![
            prop::collection::vec(any::<u8>(), 1..20),
            prop::collection::vec(any::<u8>(), 120..140),
            prop::collection::vec(any::<u8>(), 250..300),
            prop::collection::vec(any::<u8>(), 16_380..16_390),
        ];
        prop::collection::vec(prop::collection::vec(word, 1..6), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_split_yields_the_same_sentences(
            sentences in arb_sentences(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let mut bytes = Vec::new();
            for s in &sentences {
                for w in s { encode_word(w, &mut bytes); }
                bytes.push(0);
            }
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.push(0);
            points.push(bytes.len());
            points.sort_unstable();
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for pair in points.windows(2) {
                got.extend(decode_all(&mut d, &bytes[pair[0]..pair[1]]).unwrap());
            }
            prop_assert_eq!(got, sentences);
            prop_assert!(!d.is_mid_sentence());
        }

        #[test]
        fn byte_at_a_time_equals_all_at_once(sentences in arb_sentences()) {
            let mut bytes = Vec::new();
            for s in &sentences {
                for w in s { encode_word(w, &mut bytes); }
                bytes.push(0);
            }
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for b in &bytes {
                got.extend(decode_all(&mut d, std::slice::from_ref(b)).unwrap());
            }
            prop_assert_eq!(got, sentences);
        }
    }
}
