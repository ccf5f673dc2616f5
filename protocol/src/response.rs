//! The router's replies: `!re`, `!done`, `!trap`, `!empty` and `!fatal`.

use crate::prelude::*;
use core::fmt;

use uuid::Uuid;

use super::ProtocolError;
use super::attributes::{Attributes, RawAttributes, views};
use super::quote::quote;
use super::sentence::Sentence;

/// One reply from the router, routed to the command whose tag it carries.
///
/// Every command ends with exactly one [`Done`](Self::Done); a
/// [`Trap`](Self::Trap) or [`Empty`](Self::Empty) comes before it, never
/// instead of it. [`Fatal`](Self::Fatal) means the router is closing the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandResponse {
    /// `!re`: one row of data.
    Reply(ReplyResponse),
    /// `!done`: the command has finished; no more replies follow for its tag.
    Done(DoneResponse),
    /// `!trap`: an error or exceptional condition; `!done` still follows.
    Trap(TrapResponse),
    /// `!fatal`: the router is closing the connection, for the reason given
    /// (at most [`QUOTE_LIMIT`](super::QUOTE_LIMIT) bytes of it, then
    /// `… (N bytes)` with its full length).
    Fatal(String),
    /// `!empty` (RouterOS 7.18+): the command had no data; `!done` still follows.
    Empty(EmptyResponse),
}

/// A `!re` row.
///
/// Its bytes are shared with the rows of the same command decoded with it
/// (up to 64 from one read, in one allocation): keeping one row keeps those
/// rows' bytes alive. Copy out what you keep for long.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplyResponse {
    /// The tag of the command this row answers.
    pub tag: Uuid,
    /// The row's `=key=value` attributes as text.
    pub attributes: Attributes,
    /// The same attributes as raw bytes.
    pub attributes_raw: RawAttributes,
}

/// The `!done` that ends a command.
#[derive(Clone, PartialEq, Eq)]
pub struct DoneResponse {
    /// The tag of the command that finished.
    pub tag: Uuid,
    /// Attributes of the `!done`, usually none or only `ret`.
    pub attributes: Attributes,
    /// The same attributes as raw bytes.
    pub attributes_raw: RawAttributes,
}

/// A `!trap`: the router reports an error for one command.
#[derive(Clone, PartialEq, Eq)]
pub struct TrapResponse {
    /// The tag of the command that failed.
    pub tag: Uuid,
    /// The `=category=`, when the router sent one.
    pub category: Option<TrapCategory>,
    /// The `=message=` (empty when the router sent none; non-UTF-8 bytes replaced).
    pub message: String,
    /// Every attribute of the trap, `message` and `category` included.
    pub attributes: Attributes,
    /// The same attributes as raw bytes.
    pub attributes_raw: RawAttributes,
}

/// An `!empty` (RouterOS 7.18+): the command matched nothing. `!done` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyResponse {
    /// The tag of the command.
    pub tag: Uuid,
}

/// What kind of error a `!trap` reports (its `=category=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCategory {
    /// 0: missing item or command.
    MissingItemOrCommand,
    /// 1: argument value failure.
    ArgumentValueFailure,
    /// 2: execution of the command was interrupted (for example by `/cancel`).
    CommandInterrupted,
    /// 3: scripting related failure.
    ScriptingFailure,
    /// 4: general failure.
    GeneralFailure,
    /// 5: API related failure.
    ApiFailure,
    /// 6: TTY related failure.
    TtyFailure,
    /// 7: value generated with `:return`.
    ReturnValue,
    /// A number this client does not know, kept as sent.
    Other(u32),
}

impl TrapCategory {
    /// The category for the number RouterOS sends.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => Self::MissingItemOrCommand,
            1 => Self::ArgumentValueFailure,
            2 => Self::CommandInterrupted,
            3 => Self::ScriptingFailure,
            4 => Self::GeneralFailure,
            5 => Self::ApiFailure,
            6 => Self::TtyFailure,
            7 => Self::ReturnValue,
            other => Self::Other(other),
        }
    }

    /// The number RouterOS uses for this category.
    pub fn code(self) -> u32 {
        match self {
            Self::MissingItemOrCommand => 0,
            Self::ArgumentValueFailure => 1,
            Self::CommandInterrupted => 2,
            Self::ScriptingFailure => 3,
            Self::GeneralFailure => 4,
            Self::ApiFailure => 5,
            Self::TtyFailure => 6,
            Self::ReturnValue => 7,
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for TrapCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::MissingItemOrCommand => "missing item or command",
            Self::ArgumentValueFailure => "argument value failure",
            Self::CommandInterrupted => "command interrupted",
            Self::ScriptingFailure => "scripting failure",
            Self::GeneralFailure => "general failure",
            Self::ApiFailure => "API failure",
            Self::TtyFailure => "TTY failure",
            Self::ReturnValue => "return value",
            Self::Other(code) => return write!(f, "category {code}"),
        };
        f.write_str(text)
    }
}

/// A sentence that could not be read as a reply, with the tag it carried if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidReply {
    /// The command the sentence was meant for, when its `.tag` was readable.
    pub tag: Option<Uuid>,
    /// What is wrong with it.
    pub error: ProtocolError,
}

impl CommandResponse {
    /// Reads a decoded sentence as a reply.
    pub fn parse(sentence: Sentence) -> Result<Self, InvalidReply> {
        Self::parse_with(sentence, Self::read_tag)
    }

    /// Reads a `.tag=` value; a tag we could not have sent is an error.
    #[doc(hidden)]
    pub fn read_tag(value: &[u8]) -> Result<Uuid, ProtocolError> {
        Uuid::try_parse_ascii(value).map_err(|_| ProtocolError::UnknownTag(quote(value)))
    }

    /// [`parse`](Self::parse) with the `.tag=` value read by `read_tag`, which
    /// must do what [`read_tag`](Self::read_tag) does (it may remember tags).
    #[doc(hidden)]
    pub fn parse_with(
        sentence: Sentence,
        read_tag: impl FnOnce(&[u8]) -> Result<Uuid, ProtocolError>,
    ) -> Result<Self, InvalidReply> {
        // One walk over the words: the reply word, then up to the first `.tag=`.
        let mut words = sentence.words();
        let first = words.next().unwrap_or_default();
        if first == b"!fatal" {
            return Ok(Self::Fatal(fatal_reason(&sentence)));
        }
        let tag = match first.strip_prefix(b".tag=") {
            Some(value) => Some(value),
            None => words.find_map(|w| w.strip_prefix(b".tag=")),
        };
        drop(words);
        let tag = tag
            .map(read_tag)
            .transpose()
            .map_err(|error| InvalidReply { tag: None, error })?;
        let kind = match first {
            b"!re" => Kind::Reply,
            b"!done" => Kind::Done,
            b"!trap" => Kind::Trap,
            b"!empty" => Kind::Empty,
            _ => {
                let word = quote(&super::secrets::redact_word(None, first));
                let error = if first.starts_with(b"!") {
                    ProtocolError::UnknownReplyWord(word)
                } else {
                    ProtocolError::MissingReplyWord(word)
                };
                return Err(InvalidReply { tag, error });
            }
        };
        let Some(tag) = tag else {
            let error = ProtocolError::MissingTag(kind.word().to_owned());
            return Err(InvalidReply { tag: None, error });
        };
        if kind == Kind::Empty {
            return Ok(Self::Empty(EmptyResponse { tag }));
        }
        let (attributes, attributes_raw) = views(sentence);
        Ok(match kind {
            Kind::Reply => Self::Reply(ReplyResponse {
                tag,
                attributes,
                attributes_raw,
            }),
            Kind::Done => Self::Done(DoneResponse {
                tag,
                attributes,
                attributes_raw,
            }),
            _ => Self::Trap(TrapResponse {
                tag,
                category: attributes
                    .get("category")
                    .and_then(|c| c.parse().ok())
                    .map(TrapCategory::from_code),
                message: attributes
                    .get_lossy("message")
                    .map(|m| m.into_owned())
                    .unwrap_or_default(),
                attributes,
                attributes_raw,
            }),
        })
    }

    /// The tag of the command this reply belongs to (`None` for `!fatal`).
    pub fn tag(&self) -> Option<Uuid> {
        match self {
            Self::Reply(r) => Some(r.tag),
            Self::Done(d) => Some(d.tag),
            Self::Trap(t) => Some(t.tag),
            Self::Empty(e) => Some(e.tag),
            Self::Fatal(_) => None,
        }
    }

    /// The reply word this response came as (`"!re"`, `"!done"`, …).
    pub fn reply_word(&self) -> &'static str {
        match self {
            Self::Reply(_) => "!re",
            Self::Done(_) => "!done",
            Self::Trap(_) => "!trap",
            Self::Empty(_) => "!empty",
            Self::Fatal(_) => "!fatal",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reply,
    Done,
    Trap,
    Empty,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Self::Reply => "!re",
            Self::Done => "!done",
            Self::Trap => "!trap",
            Self::Empty => "!empty",
        }
    }
}

/// `!fatal` carries its reason as a bare word; accept `=message=` too.
/// Quoted short (see [`quote`]): the reason reaches every open stream.
fn fatal_reason(sentence: &Sentence) -> String {
    let bare = sentence
        .words()
        .skip(1)
        .find(|w| !w.starts_with(b"=") && !w.starts_with(b"."));
    let reason = bare.or_else(|| sentence.words().find_map(|w| w.strip_prefix(b"=message=")));
    quote(reason.unwrap_or_default())
}

impl ReplyResponse {
    /// The value of `key` as text (`None` when absent or not UTF-8).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes.get(key)
    }

    /// The value of `key` as raw bytes.
    pub fn get_raw(&self, key: &str) -> Option<&[u8]> {
        self.attributes_raw.get(key)
    }
}

impl DoneResponse {
    /// The `=ret=` value: the new item's id after `add`, the login challenge,
    /// the count of `count-only`, or a script's `:return`.
    pub fn ret(&self) -> Option<&str> {
        self.attributes.get("ret")
    }

    /// The `=ret=` value as raw bytes.
    pub fn ret_raw(&self) -> Option<&[u8]> {
        self.attributes_raw.get("ret")
    }
}

impl TrapResponse {
    /// Whether this trap reports the interruption of a cancelled command.
    pub fn is_interrupted(&self) -> bool {
        self.category == Some(TrapCategory::CommandInterrupted)
    }
}

impl fmt::Debug for ReplyResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyResponse")
            .field("tag", &self.tag)
            .field("attributes", &self.attributes)
            .finish()
    }
}

impl fmt::Debug for DoneResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoneResponse")
            .field("tag", &self.tag)
            .field("attributes", &self.attributes)
            .finish()
    }
}

impl fmt::Debug for TrapResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapResponse")
            .field("tag", &self.tag)
            .field("category", &self.category)
            .field("message", &self.message)
            .finish()
    }
}

impl fmt::Display for TrapResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.category {
            Some(category) => write!(f, "{} ({category})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11";

    fn tag() -> Uuid {
        TAG.parse().unwrap()
    }

    fn parse(words: &[&[u8]]) -> Result<CommandResponse, InvalidReply> {
        CommandResponse::parse(Sentence::from_words(words))
    }

    fn tag_word() -> Vec<u8> {
        format!(".tag={TAG}").into_bytes()
    }

    #[test]
    fn reply_values_split_at_the_second_equals_and_keep_raw_bytes() {
        let t = tag_word();
        let words: &[&[u8]] = &[
            b"!re",
            &t,
            b"=comment=a=b==c",
            b"=empty=",
            b"=name=caf\xe9",
            b"=nul=\x00x",
            b"=dup=1",
            b"=dup=2",
        ];
        let CommandResponse::Reply(reply) = parse(words).unwrap() else {
            panic!("not a reply")
        };
        assert_eq!(reply.tag, tag());
        assert_eq!(reply.get("comment"), Some("a=b==c"));
        assert_eq!(reply.get("empty"), Some(""));
        assert_eq!(reply.get("name"), None, "cp1252 is not UTF-8");
        assert_eq!(
            reply.get_raw("name"),
            Some(&b"caf\xe9"[..]),
            "but the bytes are kept"
        );
        assert_eq!(
            reply.attributes.get_lossy("name").as_deref(),
            Some("caf\u{fffd}")
        );
        assert_eq!(reply.get_raw("nul"), Some(&b"\x00x"[..]));
        assert_eq!(
            reply.attributes.get_all("dup").collect::<Vec<_>>(),
            ["1", "2"]
        );
        assert_eq!(reply.attributes.len(), 6, "the tag is not an attribute");
        assert!(reply.get("missing").is_none());
        let shown = format!("{:?}", reply.attributes);
        assert!(shown.contains(r#""comment": "a=b==c""#), "{shown}");
        assert!(format!("{:?}", reply.attributes_raw).contains(r#"b"name": b"caf\xe9""#));
    }

    #[test]
    fn tag_may_stand_anywhere() {
        let t = tag_word();
        for words in [&[b"!re" as &[u8], &t, b"=a=1"][..], &[b"!re", b"=a=1", &t]] {
            assert_eq!(parse(words).unwrap().tag(), Some(tag()));
        }
    }

    #[test]
    fn done_exposes_ret() {
        let t = tag_word();
        let CommandResponse::Done(done) = parse(&[b"!done", &t, b"=ret=*1A"]).unwrap() else {
            panic!()
        };
        assert_eq!(done.ret(), Some("*1A"));
        let CommandResponse::Done(done) = parse(&[b"!done", &t]).unwrap() else {
            panic!()
        };
        assert_eq!(done.ret(), None);
    }

    #[test]
    fn trap_category_and_message() {
        let t = tag_word();
        let CommandResponse::Trap(trap) =
            parse(&[b"!trap", &t, b"=category=2", b"=message=interrupted"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(trap.category, Some(TrapCategory::CommandInterrupted));
        assert!(trap.is_interrupted());
        assert_eq!(trap.message, "interrupted");
        let CommandResponse::Trap(trap) =
            parse(&[b"!trap", &t, b"=category=42", b"=extra=x"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(trap.category, Some(TrapCategory::Other(42)));
        assert_eq!(trap.category.unwrap().code(), 42);
        assert_eq!(trap.message, "", "a missing message is empty, not an error");
        assert_eq!(trap.attributes.get("extra"), Some("x"));
        let CommandResponse::Trap(trap) =
            parse(&[b"!trap", &t, b"=message=no such command"]).unwrap()
        else {
            panic!()
        };
        assert_eq!(trap.category, None);
        for code in 0..8 {
            assert_eq!(TrapCategory::from_code(code).code(), code);
        }
    }

    #[test]
    fn empty_is_tagged_and_not_the_end() {
        let t = tag_word();
        assert_eq!(
            parse(&[b"!empty", &t]).unwrap(),
            CommandResponse::Empty(EmptyResponse { tag: tag() })
        );
    }

    #[test]
    fn fatal_reason_is_a_bare_word() {
        assert_eq!(
            parse(&[b"!fatal", b"session terminated on request"]).unwrap(),
            CommandResponse::Fatal("session terminated on request".into())
        );
        assert_eq!(
            parse(&[b"!fatal", b"=message=not logged in"]).unwrap(),
            CommandResponse::Fatal("not logged in".into())
        );
        assert_eq!(parse(&[b"!fatal"]).unwrap().tag(), None);
    }

    #[test]
    fn huge_router_text_is_quoted_short() {
        let huge = vec![b'x'; 1 << 20];
        let short = |text: &str| text.len() < 300 && text.ends_with("(1048576 bytes)");
        let CommandResponse::Fatal(reason) = parse(&[b"!fatal", &huge]).unwrap() else {
            panic!()
        };
        assert!(short(&reason), "{}", reason.len());
        let mut word = huge.clone();
        word[0] = b'!';
        let Err(InvalidReply {
            error: ProtocolError::UnknownReplyWord(quoted),
            ..
        }) = parse(&[&word])
        else {
            panic!()
        };
        assert!(short(&quoted), "{}", quoted.len());
        let Err(InvalidReply {
            error: ProtocolError::MissingReplyWord(quoted),
            ..
        }) = parse(&[&huge])
        else {
            panic!()
        };
        assert!(short(&quoted));
        let mut tag = b".tag=".to_vec();
        tag.extend_from_slice(&huge);
        let Err(InvalidReply {
            error: ProtocolError::UnknownTag(quoted),
            ..
        }) = parse(&[b"!re", &tag])
        else {
            panic!()
        };
        assert!(short(&quoted));
    }

    #[test]
    fn malformed_replies_are_typed_errors_with_their_tag() {
        let t = tag_word();
        let err = parse(&[b"!future", &t]).unwrap_err();
        assert_eq!(
            err,
            InvalidReply {
                tag: Some(tag()),
                error: ProtocolError::UnknownReplyWord("!future".into())
            }
        );
        let err = parse(&[b"=a=b", &t]).unwrap_err();
        assert_eq!(err.error, ProtocolError::MissingReplyWord("=a=b".into()));
        assert_eq!(err.tag, Some(tag()));
        let err = parse(&[b"!re", b"=a=b"]).unwrap_err();
        assert_eq!(
            err,
            InvalidReply {
                tag: None,
                error: ProtocolError::MissingTag("!re".into())
            }
        );
        let err = parse(&[b"!done", b".tag=login"]).unwrap_err();
        assert_eq!(
            err,
            InvalidReply {
                tag: None,
                error: ProtocolError::UnknownTag("login".into())
            }
        );
    }
}
