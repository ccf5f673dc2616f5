//! The sans-IO protocol core: bytes in, sentences and replies out; commands in, bytes out.
//!
//! Nothing here does I/O, awaits, or knows a runtime, so every rule of the
//! wire format is tested deterministically. The connection layer feeds it.

mod attributes;
#[cfg(feature = "schema")]
mod check;
pub mod command;
mod decoder;
mod error;
mod length;
pub mod login;
mod path;
mod quote;
mod response;
pub mod secrets;
mod sentence;
mod shared_bytes;
mod tag;
mod traps;

pub use attributes::{Attributes, RawAttributes};
#[cfg(feature = "schema")]
pub use check::{CheckErrorKind, CommandCheckError};
pub use decoder::{Decoder, DecoderLimits};
pub use error::ProtocolError;
pub use length::{decode_length, encode_length};
pub(crate) use path::path_problem;
pub use quote::QUOTE_LIMIT;
pub use response::{
    CommandResponse, DoneResponse, EmptyResponse, InvalidReply, ReplyResponse, TrapCategory,
    TrapResponse,
};
pub use sentence::Sentence;
pub use traps::Traps;

/// Appends one word (its length prefix, then its bytes) to `out`.
///
/// # Panics
/// If the word is 4 GiB or longer, which the protocol cannot express.
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(word.len()).expect("a RouterOS word is shorter than 4 GiB");
    encode_length(len, out);
    out.extend_from_slice(word);
}

/// Appends one word made of `parts` back to back (its length prefix, then
/// the parts): `=key=value` without building it first.
///
/// # Panics
/// If the word is 4 GiB or longer, which the protocol cannot express.
pub fn encode_word_parts(parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len).expect("a RouterOS word is shorter than 4 GiB");
    encode_length(len, out);
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// Encodes whole sentences of words, each followed by the 0x00 terminator.
pub fn encode_sentence<W: AsRef<[u8]>>(words: impl IntoIterator<Item = W>, out: &mut Vec<u8>) {
    for word in words {
        encode_word(word.as_ref(), out);
    }
    out.push(0);
}
