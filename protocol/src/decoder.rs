//! The incremental sentence decoder.
//!
//! Feed it whatever a read returned, from one byte to megabytes, and take out
//! complete sentences. A sentence that lies whole in the input is found by
//! walking its prefixes and copied once, straight into its own buffer (or,
//! through [`Decoder::decode_batch`], into one buffer with the whole
//! sentences beside it). One that spans reads is collected in a reusable
//! scratch buffer (a partial prefix in a five-byte scratch), then copied into
//! its own buffer at its end. Either way the total work is linear in the
//! input whatever the split, and memory grows only with bytes actually
//! received, never with what a prefix claims.

use crate::prelude::*;
use alloc::sync::Arc;

use super::ProtocolError;
use super::length::{MAX_PREFIX_LEN, decode_prefix, encode_length, encoded_len, prefix_len};
use super::sentence::Sentence;
use super::shared_bytes::SharedBytes;

/// Bounds on what the decoder accepts from the router.
///
/// Build it from the defaults, e.g.
/// `DecoderLimits::default().with_max_word_len(1 << 20)`, or with
/// [`new`](Self::new); more bounds may be added in later releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderLimits {
    /// The longest word, in bytes. Default 16 MiB.
    pub max_word_len: usize,
    /// The longest sentence, counting word bytes without prefixes. Default 64 MiB.
    pub max_sentence_len: usize,
    /// The most words in one sentence. Default 1,048,576.
    pub max_words: usize,
}

impl DecoderLimits {
    /// The defaults: words up to 16 MiB, sentences up to 64 MiB, 1,048,576 words.
    pub const DEFAULT: Self = Self::new(16 << 20, 64 << 20, 1 << 20);

    /// Limits of `max_word_len` bytes per word, `max_sentence_len` bytes per
    /// sentence and `max_words` words per sentence.
    pub const fn new(max_word_len: usize, max_sentence_len: usize, max_words: usize) -> Self {
        Self {
            max_word_len,
            max_sentence_len,
            max_words,
        }
    }

    /// These limits with the longest word `bytes` long.
    #[must_use]
    pub const fn with_max_word_len(mut self, bytes: usize) -> Self {
        self.max_word_len = bytes;
        self
    }

    /// These limits with the longest sentence `bytes` long (word bytes, without prefixes).
    #[must_use]
    pub const fn with_max_sentence_len(mut self, bytes: usize) -> Self {
        self.max_sentence_len = bytes;
        self
    }

    /// These limits with at most `words` words in a sentence.
    #[must_use]
    pub const fn with_max_words(mut self, words: usize) -> Self {
        self.max_words = words;
        self
    }
}

impl Default for DecoderLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A scratch buffer larger than this is not kept once its sentence is out
/// (idle connections stay small).
const KEEP_SCRATCH: usize = 4 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a length prefix; `have` of its bytes are in `prefix`.
    Prefix { have: u8 },
    /// Copying a word of which `remaining` bytes are still to come.
    Word { remaining: u32 },
}

/// A whole sentence at the front of the input, as the fast path found it.
struct Whole {
    /// Its length without the terminator.
    len: usize,
    words: usize,
    /// Where the value of its first `.tag=` word is.
    tag: Option<core::ops::Range<usize>>,
}

/// Turns a byte stream into [`Sentence`]s.
///
/// After a framing error the position in the stream is lost: the decoder keeps
/// returning that error.
#[derive(Debug)]
pub struct Decoder {
    limits: DecoderLimits,
    state: State,
    prefix: [u8; MAX_PREFIX_LEN],
    /// The words so far of a sentence that spans reads, in wire form
    /// (re-encoded with shortest prefixes).
    scratch: Vec<u8>,
    /// Words started in `scratch`.
    words: usize,
    /// Payload bytes (without prefixes) announced for `scratch`'s words.
    payload: usize,
    /// Wire size of the previous sentence that spanned reads, to size the
    /// scratch again after a large one was let go.
    last_len: usize,
    /// `decode_batch`'s run of whole sentences: offset, length and word
    /// count of each (kept to reuse its allocation).
    whole: Vec<(usize, usize, usize)>,
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
            prefix: [0; MAX_PREFIX_LEN],
            scratch: Vec::new(),
            words: 0,
            payload: 0,
            last_len: 0,
            whole: Vec::new(),
            failed: None,
        }
    }

    /// Whether the decoder holds part of a sentence (bytes received since the last one ended).
    pub fn is_mid_sentence(&self) -> bool {
        self.words > 0 || self.state != State::Prefix { have: 0 }
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
        if !self.is_mid_sentence() {
            // Empty sentences.
            while let [0, rest @ ..] = *input {
                *input = rest;
            }
            if let Some(Whole { len, words, .. }) = self.whole_sentence(input) {
                let wire = SharedBytes::from(Arc::from(&input[..len]));
                let sentence = Sentence::from_wire(wire, words);
                *input = &input[len + 1..];
                return Ok(Some(sentence));
            }
        }
        let result = self.decode_inner(input);
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// Decodes up to `max` sentences from the front of `input` into `out`, as
    /// [`decode`](Self::decode) called until it returns `None` would, but
    /// with each run of whole sentences of one command (one `.tag`) that lie
    /// back to back in `input` copied into one buffer they share: one
    /// allocation per run, not one per sentence. A run never mixes commands,
    /// so a reply kept alive (queued unread, say) keeps alive only replies of
    /// its own command, which that command's buffer accounting counts.
    ///
    /// On an error, the sentences before it are in `out`.
    #[doc(hidden)]
    pub fn decode_batch(
        &mut self,
        input: &mut &[u8],
        max: usize,
        out: &mut Vec<Sentence>,
    ) -> Result<(), ProtocolError> {
        let mut left = max;
        while left > 0 {
            if self.failed.is_none() && !self.is_mid_sentence() {
                let taken = self.whole_run(input, left, out);
                left -= taken;
                if taken > 0 {
                    // The next run may start at another command's reply.
                    continue;
                }
            }
            // What the fast path leaves: a sentence cut by the end of the
            // input, one with a longer prefix form, an error, or nothing.
            match self.decode(input)? {
                Some(sentence) => {
                    out.push(sentence);
                    left -= 1;
                }
                None => break,
            }
        }
        Ok(())
    }

    /// Takes up to `max` whole fast-path sentences with the same `.tag` (and
    /// the empty sentences between them) off the front of `input` into `out`,
    /// sharing one buffer; returns how many. A sentence without a tag is a
    /// run of its own.
    fn whole_run(&mut self, input: &mut &[u8], max: usize, out: &mut Vec<Sentence>) -> usize {
        let bytes = *input;
        let (mut at, mut end) = (0, 0);
        let mut run_tag = None;
        self.whole.clear();
        while self.whole.len() < max {
            let mut start = at;
            while bytes.get(start) == Some(&0) {
                start += 1;
            }
            let Some(whole) = self.whole_sentence(&bytes[start..]) else {
                at = start;
                break;
            };
            let tag = whole
                .tag
                .map(|tag| &bytes[start + tag.start..start + tag.end]);
            if self.whole.is_empty() {
                run_tag = tag;
            } else if tag.is_none() || tag != run_tag {
                break;
            }
            self.whole.push((start, whole.len, whole.words));
            end = start + whole.len;
            // The terminator follows: `whole_sentence` saw it.
            at = end + 1;
        }
        let Some(&(first, ..)) = self.whole.first() else {
            *input = &bytes[at..];
            return 0;
        };
        let shared: Arc<[u8]> = Arc::from(&bytes[first..end]);
        out.extend(self.whole.iter().map(|&(offset, len, count)| {
            let start = offset - first;
            Sentence::from_wire(SharedBytes::new(&shared, start..start + len), count)
        }));
        *input = &bytes[at..];
        self.whole.len()
    }

    /// The fast path: when `input` starts with a whole sentence whose words
    /// are within the limits and have shortest-form prefixes (so it already is
    /// in the form a [`Sentence`] keeps), where it ends and what it holds.
    /// Anything else (a sentence cut by the end of the input, an error, a
    /// longer prefix form) is left to [`Self::decode_inner`].
    fn whole_sentence(&self, input: &[u8]) -> Option<Whole> {
        let limits = &self.limits;
        // `at` never passes the end of `input`; `prefixes` counts prefix bytes.
        let (mut at, mut count, mut prefixes) = (0usize, 0usize, 0usize);
        let mut tag = None;
        loop {
            let first = *input.get(at)?;
            let (len, n) = if first < 0x80 {
                if first == 0 {
                    break;
                }
                (usize::from(first), 1)
            } else {
                let n = prefix_len(first).ok()?;
                let len = decode_prefix(input.get(at..at + n)?);
                if encoded_len(len) != n {
                    return None;
                }
                (len as usize, n)
            };
            if len > limits.max_word_len || len > input.len() - at - n {
                return None;
            }
            let word = at + n;
            if tag.is_none() && input[word..word + len].starts_with(b".tag=") {
                tag = Some(word + 5..word + len);
            }
            at = word + len;
            prefixes += n;
            count += 1;
        }
        // Both only grow word by word, so checking the totals is enough.
        let payload = at - prefixes;
        let within = count <= limits.max_words && payload <= limits.max_sentence_len;
        (count > 0 && within).then_some(Whole {
            len: at,
            words: count,
            tag,
        })
    }

    fn decode_inner(&mut self, input: &mut &[u8]) -> Result<Option<Sentence>, ProtocolError> {
        loop {
            match self.state {
                State::Word { remaining } => {
                    let take = input.len().min(remaining as usize);
                    let (head, rest) = input.split_at(take);
                    self.scratch.extend_from_slice(head);
                    *input = rest;
                    let remaining = remaining - take as u32;
                    if remaining > 0 {
                        self.state = State::Word { remaining };
                        return Ok(None);
                    }
                    self.state = State::Prefix { have: 0 };
                }
                State::Prefix { have } => {
                    let Some(len) = self.take_prefix(have, input)? else {
                        return Ok(None);
                    };
                    if len == 0 {
                        if self.words == 0 {
                            continue;
                        }
                        return Ok(Some(self.finish_sentence()));
                    }
                    self.start_word(len)?;
                }
            }
        }
    }

    /// Moves the collected sentence into its own buffer.
    fn finish_sentence(&mut self) -> Sentence {
        let wire = SharedBytes::from(Arc::from(&self.scratch[..]));
        let sentence = Sentence::from_wire(wire, self.words);
        self.last_len = self.scratch.len();
        if self.scratch.capacity() > KEEP_SCRATCH {
            self.scratch = Vec::new();
        } else {
            self.scratch.clear();
        }
        self.words = 0;
        self.payload = 0;
        sentence
    }

    /// Reads the rest of a prefix of which `have` bytes are already in `prefix`.
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
        let first = if have == 0 { input[0] } else { self.prefix[0] };
        let need = prefix_len(first)?;
        let take = (need - have).min(input.len());
        self.prefix[have..have + take].copy_from_slice(&input[..take]);
        *input = &input[take..];
        if have + take < need {
            self.state = State::Prefix {
                have: (have + take) as u8,
            };
            return Ok(None);
        }
        self.state = State::Prefix { have: 0 };
        Ok(Some(decode_prefix(&self.prefix[..need])))
    }

    /// Checks a word's prefix against the limits, before any of its bytes is
    /// stored, then stores the prefix (shortest form).
    fn start_word(&mut self, len: u32) -> Result<(), ProtocolError> {
        let limits = &self.limits;
        if len as usize > limits.max_word_len {
            return Err(ProtocolError::WordTooLong {
                len: len.into(),
                limit: limits.max_word_len,
            });
        }
        let total = self.payload as u64 + u64::from(len);
        if total > limits.max_sentence_len as u64 {
            return Err(ProtocolError::SentenceTooLong {
                len: total,
                limit: limits.max_sentence_len,
            });
        }
        if self.words >= limits.max_words {
            return Err(ProtocolError::TooManyWords {
                limit: limits.max_words,
            });
        }
        if self.words == 0 && self.scratch.capacity() < self.last_len {
            // Size the scratch like the previous sentence that needed it
            // (bounded by bytes that really arrived): a large sentence after
            // a large one then grows it without a chain of reallocations.
            self.scratch.reserve(self.last_len);
        }
        self.words += 1;
        self.payload = total as usize;
        encode_length(len, &mut self.scratch);
        self.state = State::Word { remaining: len };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode_word;
    use proptest::prelude::*;

    #[test]
    fn limits_are_built_from_the_defaults_or_new() {
        let defaults = DecoderLimits::default();
        assert_eq!(defaults, DecoderLimits::DEFAULT);
        assert_eq!(
            (
                defaults.max_word_len,
                defaults.max_sentence_len,
                defaults.max_words
            ),
            (16 << 20, 64 << 20, 1 << 20)
        );
        let built = defaults
            .with_max_word_len(1)
            .with_max_sentence_len(2)
            .with_max_words(3);
        assert_eq!(built, DecoderLimits::new(1, 2, 3));
        assert_eq!(
            (built.max_word_len, built.max_sentence_len, built.max_words),
            (1, 2, 3)
        );
    }

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

    fn words_of(sentences: &[&[&[u8]]]) -> Vec<Vec<Vec<u8>>> {
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
            words_of(&[
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
                words_of(&[&[b"!re", &big], &[b"!done"]]),
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
            d.scratch.capacity() < 1024,
            "capacity {}",
            d.scratch.capacity()
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

    /// The whole sentences before a framing error arrive; the error after
    /// them, and from then on.
    #[test]
    fn a_batch_ends_at_an_error_with_the_sentences_before_it() {
        let mut bytes = wire(&[&[b"!re", b"=a=1"], &[b"!done"]]);
        bytes.extend_from_slice(&[0xF8, 1, 2]);
        let mut d = Decoder::default();
        let mut batch = Vec::new();
        let mut input = &bytes[..];
        assert!(d.decode_batch(&mut input, 64, &mut batch).is_err());
        assert_eq!(
            batch,
            [
                Sentence::from_words(["!re", "=a=1"]),
                Sentence::from_words(["!done"])
            ]
        );
        batch.clear();
        assert!(
            d.decode_batch(&mut &b"\x01a\x00"[..], 64, &mut batch)
                .is_err()
        );
        assert!(batch.is_empty());
    }

    /// A run of one command's sentences is one allocation: each sentence a
    /// view of the same buffer, which lives as long as any of them. Another
    /// command's sentence, or one without a tag, starts a run of its own.
    #[test]
    fn a_run_of_one_command_shares_one_buffer_that_outlives_its_neighbours() {
        let bytes = wire(&[
            &[b"!re", b".tag=a", b"=x=1"],
            &[b"!re", b"=x=2", b".tag=a"],
            &[b"!re", b".tag=b", b"=x=3"],
            &[b"!done", b".tag=a"],
            &[b"!done", b".tag=a"],
            &[b"!fatal"],
            &[b"!fatal"],
        ]);
        let mut d = Decoder::default();
        let mut batch = Vec::new();
        d.decode_batch(&mut &bytes[..], 64, &mut batch).unwrap();
        assert_eq!(batch.len(), 7);
        // In one buffer, a sentence's words start right after the previous
        // sentence and its terminator; in two allocations they cannot.
        let adjacent = |i: usize| {
            let start = |s: &Sentence| s.word(0).unwrap().as_ptr() as usize;
            start(&batch[i + 1]).wrapping_sub(start(&batch[i])) == batch[i].wire_len() + 1
        };
        let shared: Vec<bool> = (0..6).map(adjacent).collect();
        assert_eq!(shared, [true, false, false, true, false, false]);
        let second = batch.swap_remove(1);
        drop(batch);
        assert_eq!(second, Sentence::from_words(["!re", "=x=2", ".tag=a"]));
    }

    /// The budget cuts a run: what is left is decoded by the next call.
    #[test]
    fn the_budget_ends_a_run() {
        let bytes = wire(&[
            &[b"!re", b".tag=a"],
            &[b"!re", b".tag=a"],
            &[b"!done", b".tag=a"],
        ]);
        let mut d = Decoder::default();
        let (mut first, mut rest) = (Vec::new(), Vec::new());
        let mut input = &bytes[..];
        d.decode_batch(&mut input, 2, &mut first).unwrap();
        d.decode_batch(&mut input, 2, &mut rest).unwrap();
        assert_eq!((first.len(), rest.len()), (2, 1));
        assert!(input.is_empty());
        assert_eq!(rest[0], Sentence::from_words(["!done", ".tag=a"]));
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

    /// `word` behind a prefix of `width` bytes (at least its shortest form).
    fn wide_word(word: &[u8], width: usize, out: &mut Vec<u8>) {
        let len = word.len() as u32;
        let width = width.max(crate::length::encoded_len(len));
        match width {
            1 => out.push(len as u8),
            2 => out.extend_from_slice(&(len as u16 | 0x8000).to_be_bytes()),
            3 => out.extend_from_slice(&(len | 0xC0_0000).to_be_bytes()[1..]),
            4 => out.extend_from_slice(&(len | 0xE000_0000).to_be_bytes()),
            _ => {
                out.push(0xF0);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        out.extend_from_slice(word);
    }

    #[test]
    fn longer_prefix_forms_decode_to_the_same_sentence() {
        let words: [&[u8]; 3] = [b"!re", b"=a=1", &[b'x'; 200]];
        for width in 1..=5 {
            let mut bytes = Vec::new();
            for w in words {
                wide_word(w, width, &mut bytes);
            }
            bytes.push(0);
            // Whole in one input, and cut after every byte.
            for cut in 0..=bytes.len() {
                let mut d = Decoder::default();
                let mut got = decode_all(&mut d, &bytes[..cut]).unwrap();
                got.extend(decode_all(&mut d, &bytes[cut..]).unwrap());
                assert_eq!(got, words_of(&[&words]), "width {width}, cut {cut}");
            }
            let s = Decoder::default().decode(&mut &bytes[..]).unwrap().unwrap();
            assert_eq!(s, Sentence::from_words(words), "width {width}");
            let mut wire = Vec::new();
            s.encode_into(&mut wire);
            assert_eq!(wire, self::wire(&[&words]), "kept in the shortest form");
        }
    }

    #[test]
    fn a_long_form_zero_length_ends_the_sentence() {
        let bytes = [
            3, b'!', b'r', b'e', 0x80, 0x00, 5, b'!', b'd', b'o', b'n', b'e', 0,
        ];
        let got = decode_all(&mut Decoder::default(), &bytes).unwrap();
        assert_eq!(got, words_of(&[&[b"!re"], &[b"!done"]]));
    }

    #[test]
    fn the_scratch_is_reused_and_a_large_one_let_go() {
        let mut d = Decoder::default();
        let small = wire(&[&[b"!re", &[b'a'; 100]]]);
        for _ in 0..3 {
            let (a, b) = small.split_at(50);
            assert_eq!(decode_all(&mut d, a).unwrap().len(), 0);
            assert_eq!(decode_all(&mut d, b).unwrap().len(), 1);
        }
        let kept = d.scratch.capacity();
        assert!((100..=KEEP_SCRATCH).contains(&kept));
        let big = vec![b'b'; 3 * KEEP_SCRATCH];
        let large = wire(&[&[b"!re", &big]]);
        let (a, b) = large.split_at(1000);
        assert_eq!(decode_all(&mut d, a).unwrap().len(), 0);
        assert_eq!(decode_all(&mut d, b).unwrap(), words_of(&[&[b"!re", &big]]));
        assert!(d.scratch.capacity() <= KEEP_SCRATCH);
        // Sentences whole in one input never touch the scratch.
        let mut fresh = Decoder::default();
        assert_eq!(decode_all(&mut fresh, &large).unwrap().len(), 1);
        assert_eq!(fresh.scratch.capacity(), 0);
    }

    #[test]
    fn limits_are_the_same_whole_or_cut() {
        let limits = DecoderLimits {
            max_word_len: 8,
            max_sentence_len: 12,
            max_words: 3,
        };
        let cases: [(&[&[u8]], Option<ProtocolError>); 4] = [
            (
                &[b"123456789"],
                Some(ProtocolError::WordTooLong { len: 9, limit: 8 }),
            ),
            (
                &[b"12345678", b"12345"],
                Some(ProtocolError::SentenceTooLong { len: 13, limit: 12 }),
            ),
            (
                &[b"a", b"b", b"c", b"d"],
                Some(ProtocolError::TooManyWords { limit: 3 }),
            ),
            (&[b"12345678", b"1234"], None),
        ];
        for (words, error) in cases {
            let bytes = wire(&[words]);
            for cut in 0..=bytes.len() {
                let mut d = Decoder::new(limits);
                let got = decode_all(&mut d, &bytes[..cut])
                    .and_then(|_| decode_all(&mut d, &bytes[cut..]));
                match &error {
                    Some(e) => assert_eq!(got.as_ref(), Err(e), "cut {cut}"),
                    None => assert!(got.is_ok(), "cut {cut}"),
                }
            }
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
        fn any_prefix_form_over_any_split(
            sentences in arb_sentences(),
            widths in prop::collection::vec(1usize..=5, 36),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = Vec::new();
            let mut widths = widths.iter().cycle();
            for s in &sentences {
                for w in s { wide_word(w, *widths.next().unwrap(), &mut bytes); }
                bytes.push(0);
            }
            let cut = cut.index(bytes.len() + 1);
            let mut d = Decoder::default();
            let mut got = decode_all(&mut d, &bytes[..cut]).unwrap();
            got.extend(decode_all(&mut d, &bytes[cut..]).unwrap());
            prop_assert_eq!(got, sentences);
        }

        /// Batches of any size, over any split, with prefixes of any form
        /// (so the fast path and the slow one take turns), give what
        /// `decode` gives one at a time.
        #[test]
        fn batches_decode_as_one_at_a_time(
            sentences in arb_sentences(),
            widths in prop::collection::vec(1usize..=2, 36),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            max in 1usize..8,
            empties in prop::collection::vec(any::<bool>(), 8),
            tags in prop::collection::vec(0u8..3, 8),
        ) {
            // Most sentences get one of two tags (2 is none), so runs of one
            // command form and break.
            let mut tags = tags.iter().cycle();
            let sentences: Vec<Vec<Vec<u8>>> = sentences
                .into_iter()
                .map(|mut s| {
                    let tag = *tags.next().unwrap();
                    if tag < 2 { s.push(format!(".tag={tag}").into_bytes()); }
                    s
                })
                .collect();
            let mut bytes = Vec::new();
            let mut widths = widths.iter().cycle();
            let mut empties = empties.iter().cycle();
            for s in &sentences {
                if *empties.next().unwrap() { bytes.push(0); }
                for w in s { wide_word(w, *widths.next().unwrap(), &mut bytes); }
                bytes.push(0);
            }
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.extend([0, bytes.len()]);
            points.sort_unstable();
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for pair in points.windows(2) {
                let mut input = &bytes[pair[0]..pair[1]];
                loop {
                    let mut batch = Vec::new();
                    d.decode_batch(&mut input, max, &mut batch).unwrap();
                    prop_assert!(batch.len() <= max);
                    let full = batch.len() == max;
                    got.extend(batch.iter().map(|s| s.words().map(<[u8]>::to_vec).collect::<Vec<_>>()));
                    if !full {
                        prop_assert!(input.is_empty(), "a batch short of its max used up the input");
                        break;
                    }
                }
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
                got.extend(decode_all(&mut d, core::slice::from_ref(b)).unwrap());
            }
            prop_assert_eq!(got, sentences);
        }
    }
}
