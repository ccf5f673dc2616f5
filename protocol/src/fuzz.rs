//! Checks shared by the fuzz targets in `fuzz/` and their corpus replay in
//! `tests/fuzz_corpus.rs` (and the `mikrotik_rs` connection target, which
//! reads its input with [`Bytes`]).
//!
//! Not a stable API: it exists so that a fuzz input and a test run exactly
//! the same checks. Every check panics on a broken promise.

use crate::prelude::*;
use uuid::Uuid;

use crate::{CommandResponse, Decoder, DecoderLimits, ProtocolError, Sentence};

/// Limits small enough for a fuzzer to cross them.
pub const SMALL_LIMITS: DecoderLimits = DecoderLimits::new(64, 256, 8);

/// A tag no client ever sends (version 4 layout, fixed value).
pub const FOREIGN_TAG: Uuid = Uuid::from_u128(0x0bad_f00d_0000_4000_8000_0000_0000_0001);

/// Reads a fuzz input front to back; past the end every byte is 0.
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// Whether the input is used up.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The next byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        first
    }
    /// The next `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

// ------------------------------------------------------------------ decoder

/// What decoding a byte stream produced.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    sentences: Vec<Sentence>,
    error: Option<ProtocolError>,
    /// Whether bytes of an unfinished sentence are held (only without error).
    mid_sentence: bool,
}

fn decode_pieces<'a>(limits: DecoderLimits, pieces: impl IntoIterator<Item = &'a [u8]>) -> Decoded {
    let mut decoder = Decoder::new(limits);
    let mut sentences = Vec::new();
    for piece in pieces {
        let mut input = piece;
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(sentence)) => {
                    assert!(!sentence.is_empty(), "empty sentences are skipped");
                    assert!(sentence.len() <= limits.max_words, "too many words passed");
                    assert!(
                        sentence.payload_len() <= limits.max_sentence_len,
                        "a sentence over the limit passed"
                    );
                    assert!(
                        sentence.words().all(|w| w.len() <= limits.max_word_len),
                        "a word over the limit passed"
                    );
                    sentences.push(sentence);
                }
                Ok(None) => {
                    assert!(input.is_empty(), "Ok(None) before the input was used up");
                    break;
                }
                Err(error) => {
                    assert!(error.is_framing(), "the decoder failed with {error:?}");
                    assert_eq!(
                        decoder.decode(&mut &[0u8][..]),
                        Err(error.clone()),
                        "a failed decoder stays failed"
                    );
                    return Decoded {
                        sentences,
                        error: Some(error),
                        mid_sentence: false,
                    };
                }
            }
        }
    }
    Decoded {
        sentences,
        error: None,
        mid_sentence: decoder.is_mid_sentence(),
    }
}

/// Fuzz check of the [`Decoder`]. Input: a flags byte (bit 0: small limits;
/// bits 1–3: how many split points), two bytes per split point, then the
/// byte stream.
///
/// Decoding the stream whole, split at those points, and one byte at a time
/// must give the same sentences and the same error; nothing may panic; every
/// sentence keeps the limits; re-encoding what was decoded gives it back.
pub fn check_decoder(data: &[u8]) {
    let mut input = Bytes(data);
    let flags = input.byte();
    let limits = if flags & 1 == 1 {
        SMALL_LIMITS
    } else {
        DecoderLimits::default()
    };
    let cuts = usize::from((flags >> 1) & 7);
    let cut_bytes = input.take(2 * cuts);
    let stream = input.0;
    let mut points: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| {
            (usize::from(c[0]) << 8 | usize::from(c.get(1).copied().unwrap_or(0)))
                % (stream.len() + 1)
        })
        .collect();
    points.extend([0, stream.len()]);
    points.sort_unstable();
    let whole = decode_pieces(limits, [stream]);
    let split = decode_pieces(limits, points.windows(2).map(|w| &stream[w[0]..w[1]]));
    assert_eq!(whole, split, "split at {points:?}");
    let bytewise = decode_pieces(limits, stream.chunks(1));
    assert_eq!(whole, bytewise, "one byte at a time");
    let mut again = Vec::new();
    for sentence in &whole.sentences {
        sentence.encode_into(&mut again);
    }
    let round = decode_pieces(limits, [&again[..]]);
    assert_eq!(round.error, None, "re-encoded sentences decode");
    assert_eq!(round.sentences, whole.sentences, "re-encoding is lossless");
}

// -------------------------------------------------------------------- reply

/// Fuzz check of [`CommandResponse::parse`]. Input: words, each a length
/// byte (0–63) and its bytes; length bytes 0xF8–0xFF stand for whole words
/// a fuzzer would rarely guess (`.tag=` with a valid tag, reply words,
/// `=message=`, `=category=`).
///
/// Parsing must not panic, must agree with the first word, must take the
/// tag from the first `.tag=` word, and every view of the reply must be usable.
pub fn check_reply(data: &[u8]) {
    let mut input = Bytes(data);
    let mut words: Vec<Vec<u8>> = Vec::new();
    while !input.is_empty() {
        let word = match input.byte() {
            0xFF => format!(".tag={FOREIGN_TAG}").into_bytes(),
            0xFE => b"!re".to_vec(),
            0xFD => b"!done".to_vec(),
            0xFC => b"!trap".to_vec(),
            0xFB => b"!empty".to_vec(),
            0xFA => b"!fatal".to_vec(),
            0xF9 => b"=message=".to_vec(),
            0xF8 => b"=category=".to_vec(),
            n => input.take(usize::from(n % 64)).to_vec(),
        };
        words.push(word);
    }
    let first = words.first().cloned().unwrap_or_default();
    let first_tag = words.iter().find_map(|w| w.strip_prefix(b".tag="));
    match CommandResponse::parse(Sentence::from_words(&words)) {
        Ok(CommandResponse::Fatal(reason)) => {
            assert_eq!(first, b"!fatal");
            let _ = reason.len();
        }
        Ok(response) => {
            assert_eq!(response.reply_word().as_bytes(), first, "{response:?}");
            let tag = response.tag().expect("every reply but !fatal has a tag");
            let written = first_tag.expect("a tag came from a .tag= word");
            assert_eq!(Uuid::try_parse_ascii(written).ok(), Some(tag));
            exercise(&response);
        }
        Err(invalid) => {
            assert_ne!(first, b"!fatal", "!fatal always parses");
            assert!(!invalid.error.is_framing(), "{invalid:?}");
            assert!(!invalid.error.to_string().is_empty());
            if let Some(tag) = invalid.tag {
                let written = first_tag.expect("a tag came from a .tag= word");
                assert_eq!(Uuid::try_parse_ascii(written).ok(), Some(tag));
            }
        }
    }
}

/// Touches every view of a reply.
fn exercise(response: &CommandResponse) {
    let _ = format!("{response:?}");
    let (attributes, raw) = match response {
        CommandResponse::Reply(r) => (&r.attributes, &r.attributes_raw),
        CommandResponse::Done(d) => {
            let _ = (d.ret(), d.ret_raw());
            (&d.attributes, &d.attributes_raw)
        }
        CommandResponse::Trap(t) => {
            let _ = (
                t.to_string(),
                t.is_interrupted(),
                t.category.map(|c| c.code()),
            );
            assert_eq!(
                Some(t.message.as_str()),
                Some(
                    t.attributes
                        .get_lossy("message")
                        .unwrap_or_default()
                        .as_ref()
                )
            );
            (&t.attributes, &t.attributes_raw)
        }
        CommandResponse::Empty(_) | CommandResponse::Fatal(_) => return,
    };
    assert_eq!(attributes.len(), raw.len());
    assert_eq!(attributes.iter().count(), raw.iter().count());
    for (key, value) in raw.iter() {
        if let Ok(key) = core::str::from_utf8(key) {
            assert!(raw.contains_key(key) && attributes.contains_key(key));
            let first = raw.get(key).expect("an iterated key is found");
            assert!(raw.get_all(key).any(|v| v == value));
            assert_eq!(attributes.get(key), core::str::from_utf8(first).ok());
            let _ = attributes.get_all(key).count();
        }
    }
}

/// Runs `check` on every committed input of `corpus/<target>` under `root`
/// (a crate's `fuzz/` directory), naming the input that fails: the corpus
/// replay of this crate's tests and of `mikrotik-rs`'s. The checks are
/// synchronous and bounded by construction (the connection check counts its
/// polls); the time limit guards the suite anyway.
pub fn replay_corpus(root: &std::path::Path, target: &str, check: fn(&[u8])) {
    let dir = root.join("corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the {target} corpus is committed");
    let start = std::time::Instant::now();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let result = std::panic::catch_unwind(|| check(&bytes));
        assert!(
            result.is_ok(),
            "{target}: {} fails its check",
            path.display()
        );
    }
    let elapsed = start.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(120),
        "{target}: {} inputs took {elapsed:?}",
        files.len()
    );
    std::println!("{target}: {} inputs in {elapsed:?}", files.len());
}
