//! The sans-IO core of the MikroTik RouterOS API: bytes in, sentences and
//! replies out; commands in, bytes out.
//!
//! Nothing here does I/O, awaits, or knows a runtime, so every rule of the
//! wire format is tested deterministically, and the same core runs in
//! `mikrotik_rs` (where it is `mikrotik_rs::protocol`) and on a
//! microcontroller (`mikrotik_rs_embedded`). It is `#![no_std]` and needs
//! only `alloc`: replies own their bytes (shared, one allocation per run of
//! a command's sentences), and a word longer than the decoder's limits is
//! refused before anything is allocated for it. Nothing panics on any input.
//!
//! Tags: with the `std` feature, [`CommandBuilder::new`](command::CommandBuilder::new)
//! draws a fresh random tag on its own; without it there is no operating
//! system to ask, so tags come from a [`tag::Tags`] generator the caller
//! seeds from its own random source (a board's RNG).

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude would bring, from `alloc`.
mod prelude {
    #[allow(unused_imports)]
    pub(crate) use alloc::{
        borrow::ToOwned,
        boxed::Box,
        format,
        string::{String, ToString},
        vec,
        vec::Vec,
    };
}

use prelude::Vec;

/// The `uuid` crate, whose [`Uuid`](uuid::Uuid) is every command's tag.
pub use uuid;

mod attributes;
#[cfg(feature = "schema")]
mod check;
pub mod command;
mod decoder;
mod error;
#[cfg(feature = "__fuzz")]
#[doc(hidden)]
pub mod fuzz;
mod length;
pub mod login;
mod path;
mod quote;
mod response;
pub mod secrets;
mod sentence;
mod shared_bytes;
pub mod tag;
mod traps;

pub use attributes::{Attributes, RawAttributes};
#[cfg(feature = "schema")]
pub use check::{CheckErrorKind, CommandCheckError};
pub use decoder::{Decoder, DecoderLimits};
pub use error::ProtocolError;
pub use length::{decode_length, encode_length};
#[doc(hidden)]
pub use path::path_problem;
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
