//! What to do with text that is not UTF-8: RouterOS stores the bytes a client
//! sent, so a comment typed in Winbox on Windows arrives in Windows-1252
//! (`B\xFCro LAN`). One policy, chosen by you, for every place text is read.

use std::borrow::Cow;

/// How a value's bytes become text when they are not valid UTF-8 (valid
/// UTF-8 is always taken as is).
///
/// Where each applies:
/// - typed rows (feature `serde`: `Rows::typed`, `Print::collect_typed`,
///   `api::from_reply`) use [`Lossy`](Self::Lossy); their `_with` forms
///   (`Rows::typed_with`, `Print::collect_typed_with`, `api::from_reply_with`) take
///   a policy;
/// - [`ReplyResponse::get`](crate::protocol::ReplyResponse::get) is
///   [`Strict`](Self::Strict) (`None` for bytes that are not UTF-8),
///   `get_lossy` is [`Lossy`](Self::Lossy), and
///   [`TextPolicy::decode`] applies any policy to
///   [`get_raw`](crate::protocol::ReplyResponse::get_raw)'s bytes, which
///   are always reachable;
/// - errors quote router text lossily, whatever the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextPolicy {
    /// Invalid sequences become U+FFFD (`B�ro LAN`): never fails, loses the
    /// original characters. The default.
    #[default]
    Lossy,
    /// Text that is not UTF-8 is an error ([`Error::Decode`](crate::Error::Decode)
    /// naming the key in typed rows; `None` from [`decode`](Self::decode)).
    Strict,
    /// Text that is not UTF-8 is decoded from this code page (feature
    /// `encoding`), e.g. `TextPolicy::Fallback(encoding_rs::WINDOWS_1252)`
    /// for routers configured from Windows.
    #[cfg(feature = "encoding")]
    Fallback(&'static encoding_rs::Encoding),
}

impl TextPolicy {
    /// `bytes` as text under this policy; `None` only under
    /// [`Strict`](Self::Strict) for bytes that are not UTF-8.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Some(Cow::Borrowed(text));
        }
        match self {
            Self::Lossy => Some(String::from_utf8_lossy(bytes)),
            Self::Strict => None,
            #[cfg(feature = "encoding")]
            Self::Fallback(encoding) => Some(encoding.decode_without_bom_handling(bytes).0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TextPolicy;

    #[test]
    fn utf8_is_kept_and_the_rest_follows_the_policy() {
        for policy in [TextPolicy::Lossy, TextPolicy::Strict] {
            assert_eq!(policy.decode("Büro".as_bytes()).as_deref(), Some("Büro"));
        }
        assert_eq!(
            TextPolicy::Lossy.decode(b"B\xFCro").as_deref(),
            Some("B\u{FFFD}ro")
        );
        assert_eq!(TextPolicy::Strict.decode(b"B\xFCro"), None);
        #[cfg(feature = "encoding")]
        assert_eq!(
            TextPolicy::Fallback(encoding_rs::WINDOWS_1252)
                .decode(b"B\xFCro \x80")
                .as_deref(),
            Some("Büro €")
        );
    }
}
