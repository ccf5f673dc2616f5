//! The one error type of the protocol core.

use crate::prelude::*;
use thiserror::Error;

/// A violation of the RouterOS API wire protocol, found in bytes from the router.
///
/// Framing errors ([`ControlByte`](Self::ControlByte) to
/// [`TooManyWords`](Self::TooManyWords)) lose the position in the byte stream,
/// so they end the connection. The others concern one sentence only.
///
/// Variants that quote the router's text keep at most
/// [`QUOTE_LIMIT`](super::QUOTE_LIMIT) bytes of it, followed by
/// `… (N bytes)` with the full length: an error may be cloned into every
/// open stream, and the router chooses how long its words are.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A reserved control byte (0xF8–0xFF) where a length prefix should start.
    #[error("reserved control byte {0:#04x} where a length prefix was expected")]
    ControlByte(u8),
    /// A length prefix starting with 0xF1–0xF7, which implementations read differently.
    #[error("unsupported length prefix starting with {0:#04x}")]
    UnsupportedLengthPrefix(u8),
    /// A word longer than the configured limit.
    #[error("word of {len} bytes exceeds the limit of {limit} bytes")]
    WordTooLong {
        /// The length the prefix announced.
        len: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A sentence longer than the configured limit.
    #[error("sentence of at least {len} bytes exceeds the limit of {limit} bytes")]
    SentenceTooLong {
        /// Bytes of the sentence so far, including the word that crossed the limit.
        len: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A sentence with more words than the configured limit.
    #[error("sentence has more than {limit} words")]
    TooManyWords {
        /// The configured limit.
        limit: usize,
    },
    /// A reply sentence whose first word is not a reply word (`!re`, `!done`, …).
    #[error("reply sentence starts with {0:?} instead of a reply word")]
    MissingReplyWord(String),
    /// A reply word this client does not know, e.g. from a future RouterOS.
    #[error("unknown reply word {0:?}")]
    UnknownReplyWord(String),
    /// A reply that needs a `.tag` (every reply but `!fatal`) came without one.
    #[error("{0} reply without a .tag")]
    MissingTag(String),
    /// A `.tag` that is not one this client could have sent.
    #[error("reply carries .tag={0:?}, which this client never sent")]
    UnknownTag(String),
    /// A login challenge (`=ret=` of a pre-6.43 router) that is not hex.
    #[error("login challenge {0:?} is not hexadecimal")]
    InvalidChallenge(String),
}

impl ProtocolError {
    /// Whether the error loses the stream position, so the connection cannot go on.
    pub fn is_framing(&self) -> bool {
        matches!(
            self,
            Self::ControlByte(_)
                | Self::UnsupportedLengthPrefix(_)
                | Self::WordTooLong { .. }
                | Self::SentenceTooLong { .. }
                | Self::TooManyWords { .. }
        )
    }
}
