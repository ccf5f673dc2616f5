//! Views of a reply's `=key=value` words, without copying them out of the sentence.

use super::sentence::{Sentence, WireWords};
use super::shared_bytes::SharedBytes;
use crate::prelude::*;
use alloc::borrow::Cow;
use core::fmt;

/// Splits `=key=value` at the second `=`; a word with no second `=` is a key with an empty value.
fn split_attribute(word: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = word.strip_prefix(b"=")?;
    Some(match body.iter().position(|&b| b == b'=') {
        Some(eq) => (&body[..eq], &body[eq + 1..]),
        None => (body, &[][..]),
    })
}

/// The `=key=value` pairs of a sentence's prefixed words, in order.
fn pairs(wire: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
    WireWords(wire).filter_map(split_attribute)
}

/// The attributes of one reply as raw bytes, in the order the router sent them.
///
/// RouterOS does no charset conversion, so values are whatever bytes were
/// stored (often cp1252, sometimes UTF-8, possibly 0x00). Duplicate keys are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct RawAttributes {
    /// The sentence's prefixed words (shared with the other view).
    wire: SharedBytes,
}

/// The attributes of one reply as text, in the order the router sent them.
///
/// A view of the same bytes as [`RawAttributes`]: [`get`](Self::get) returns
/// `None` for a value that is not UTF-8, which is then still readable raw.
#[derive(Clone, PartialEq, Eq)]
pub struct Attributes {
    /// The sentence's prefixed words (shared with the other view).
    wire: SharedBytes,
}

/// Both views of one sentence, sharing its buffer (no allocation, no copy).
pub(crate) fn views(sentence: Sentence) -> (Attributes, RawAttributes) {
    let wire = sentence.into_wire();
    (Attributes { wire: wire.clone() }, RawAttributes { wire })
}

fn get_all<'s, 'k>(wire: &'s [u8], key: &'k str) -> impl Iterator<Item = &'s [u8]> + use<'s, 'k> {
    pairs(wire)
        .filter(move |(k, _)| *k == key.as_bytes())
        .map(|(_, v)| v)
}

impl RawAttributes {
    /// The value of the first attribute named `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        get_all(&self.wire, key).next()
    }

    /// The values of every attribute named `key` (RouterOS may repeat a key).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        get_all(&self.wire, key)
    }

    /// Whether an attribute named `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every `(key, value)` pair in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        pairs(&self.wire)
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl Attributes {
    /// The value of the first attribute named `key`, if present and valid UTF-8.
    pub fn get(&self, key: &str) -> Option<&str> {
        get_all(&self.wire, key)
            .next()
            .and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The values of every attribute named `key`, invalid UTF-8 replaced by U+FFFD.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        get_all(&self.wire, key).map(String::from_utf8_lossy)
    }

    /// The value of `key` with invalid UTF-8 replaced by U+FFFD.
    pub fn get_lossy(&self, key: &str) -> Option<Cow<'_, str>> {
        get_all(&self.wire, key).next().map(String::from_utf8_lossy)
    }

    /// Whether an attribute named `key` is present (whatever its bytes).
    pub fn contains_key(&self, key: &str) -> bool {
        get_all(&self.wire, key).next().is_some()
    }

    /// Every `(key, value)` pair in wire order, invalid UTF-8 replaced by U+FFFD.
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> + '_ {
        pairs(&self.wire).map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        pairs(&self.wire).count()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        pairs(&self.wire).next().is_none()
    }
}

/// Shows bytes as text where they are printable and as `\xNN` escapes elsewhere.
struct ByteStr<'a>(&'a [u8]);

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// A value as `Debug` shows it: [`REDACTED`](super::secrets::REDACTED) for
/// a secret's (the reply's command is unknown here, so a key secret in any
/// menu is hidden). A `ret` is shown only when it is an id or a count: what
/// a `get` reads back may be a secret, and the command is unknown here.
fn shown_value<'v>(key: &[u8], value: &'v [u8]) -> &'v [u8] {
    if super::secrets::is_secret(None, key)
        || key == b"ret" && !value.is_empty() && !super::secrets::ret_may_be_shown(value)
    {
        super::secrets::REDACTED
    } else {
        value
    }
}

impl fmt::Debug for RawAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (ByteStr(k), ByteStr(shown_value(k, v)))),
            )
            .finish()
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(pairs(&self.wire).map(|(k, v)| {
                (
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(shown_value(k, v)),
                )
            }))
            .finish()
    }
}
