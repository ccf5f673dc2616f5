//! Commands: the typestate builder and the encoded [`Command`].

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use uuid::Uuid;

use super::length::encode_length;

/// Builder state before the command path is set.
#[derive(Debug)]
pub struct NoCmd;

/// Builder state once the command path is set: attributes, queries and `build` are available.
#[derive(Debug)]
pub struct Cmd;

/// Builds a [`Command`], encoding each word as it is added.
///
/// The path must come first; the compiler enforces it:
///
/// ```compile_fail
/// use mikrotik_rs::protocol::command::CommandBuilder;
/// let cmd = CommandBuilder::new().attribute("numbers", Some("0")).build();
/// ```
///
/// ```
/// use mikrotik_rs::protocol::command::CommandBuilder;
/// let cmd = CommandBuilder::new()
///     .command("/interface/ethernet/monitor")
///     .attribute("numbers", Some("0,1"))
///     .attribute("once", None)
///     .build();
/// ```
#[derive(Debug)]
pub struct CommandBuilder<State = NoCmd> {
    tag: Uuid,
    data: Vec<u8>,
    state: PhantomData<State>,
}

/// One `?#` stack operation of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryOperator {
    /// `!`: negates the top value.
    Not,
    /// `&`: pops two values, pushes their AND.
    And,
    /// `|`: pops two values, pushes their OR.
    Or,
    /// `.`: pushes a copy of the top value.
    Dot,
    /// A decimal index: pushes a copy of the value at that depth (top = 0), or,
    /// as the last operation, replaces the whole stack with it.
    Index(usize),
}

impl QueryOperator {
    fn encode(self, out: &mut Vec<u8>) {
        match self {
            Self::Not => out.push(b'!'),
            Self::And => out.push(b'&'),
            Self::Or => out.push(b'|'),
            Self::Dot => out.push(b'.'),
            Self::Index(i) => out.extend_from_slice(i.to_string().as_bytes()),
        }
    }
}

/// A command encoded for the wire, with the `.tag` its replies will carry.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    tag: Uuid,
    data: Vec<u8>,
    timeout: Option<Duration>,
    /// Carries a secret (a login): its bytes are wiped when dropped.
    sensitive: bool,
}

/// Writes one word made of `parts` (prefix first, then the parts back to back).
fn encode_parts(parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len).expect("a RouterOS word is at most 4 GiB");
    encode_length(len, out);
    for part in parts {
        out.extend_from_slice(part);
    }
}

impl Default for CommandBuilder<NoCmd> {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandBuilder<NoCmd> {
    /// A builder with a fresh random (UUID v4) tag.
    pub fn new() -> Self {
        Self::with_tag(super::tag::fresh_tag())
    }

    /// A builder whose command will carry `tag`. Tags must be unique among the
    /// commands running on one connection.
    pub fn with_tag(tag: Uuid) -> Self {
        Self {
            tag,
            data: Vec::with_capacity(64),
            state: PhantomData,
        }
    }

    /// Sets the command path, e.g. `/interface/print`.
    pub fn command(mut self, path: &str) -> CommandBuilder<Cmd> {
        encode_parts(&[path.as_bytes()], &mut self.data);
        CommandBuilder {
            tag: self.tag,
            data: self.data,
            state: PhantomData,
        }
    }
}

impl CommandBuilder<Cmd> {
    /// Adds `=key=value`; `None` sends `=key=` (a flag such as `once`).
    pub fn attribute(self, key: &str, value: Option<&str>) -> Self {
        self.attribute_raw(key, value.map(str::as_bytes))
    }

    /// Adds `=key=value` with a value of arbitrary bytes.
    pub fn attribute_raw(mut self, key: &str, value: Option<&[u8]>) -> Self {
        encode_parts(
            &[b"=", key.as_bytes(), b"=", value.unwrap_or_default()],
            &mut self.data,
        );
        self
    }

    /// Asks for only these properties (`=.proplist=a,b,c`).
    pub fn proplist<'a>(self, properties: impl IntoIterator<Item = &'a str>) -> Self {
        let list = properties.into_iter().collect::<Vec<_>>().join(",");
        self.attribute(".proplist", Some(&list))
    }

    /// Adds a raw word as is (for API words this builder has no method for).
    pub fn word(mut self, word: &[u8]) -> Self {
        encode_parts(&[word], &mut self.data);
        self
    }

    /// Query: property `key` equals `value` (`?key=value`).
    pub fn query_equal(mut self, key: &str, value: &str) -> Self {
        encode_parts(
            &[b"?", key.as_bytes(), b"=", value.as_bytes()],
            &mut self.data,
        );
        self
    }

    /// Query: property `key` is greater than `value` (`?>key=value`).
    pub fn query_gt(mut self, key: &str, value: &str) -> Self {
        encode_parts(
            &[b"?>", key.as_bytes(), b"=", value.as_bytes()],
            &mut self.data,
        );
        self
    }

    /// Query: property `key` is less than `value` (`?<key=value`).
    pub fn query_lt(mut self, key: &str, value: &str) -> Self {
        encode_parts(
            &[b"?<", key.as_bytes(), b"=", value.as_bytes()],
            &mut self.data,
        );
        self
    }

    /// Query: property `key` is present (`?key`).
    pub fn query_is_present(mut self, key: &str) -> Self {
        encode_parts(&[b"?", key.as_bytes()], &mut self.data);
        self
    }

    /// Query: property `key` is absent (`?-key`).
    pub fn query_not_present(mut self, key: &str) -> Self {
        encode_parts(&[b"?-", key.as_bytes()], &mut self.data);
        self
    }

    /// Query: stack operations combining the previous query words (`?#…`).
    pub fn query_operations(mut self, operations: impl Iterator<Item = QueryOperator>) -> Self {
        let mut word = b"?#".to_vec();
        let mut previous_was_index = false;
        for op in operations {
            // Two indexes in a row would merge into one number: separate them with `.`
            // (after an index, `.` does nothing).
            let is_index = matches!(op, QueryOperator::Index(_));
            if is_index && previous_was_index {
                word.push(b'.');
            }
            op.encode(&mut word);
            previous_was_index = is_index;
        }
        encode_parts(&[&word], &mut self.data);
        self
    }

    /// Finishes the command: appends `.tag=<tag>` and the end of the sentence.
    pub fn build(mut self) -> Command {
        let mut tag = [0u8; uuid::fmt::Hyphenated::LENGTH];
        self.tag.hyphenated().encode_lower(&mut tag);
        encode_parts(&[b".tag=", &tag], &mut self.data);
        self.data.push(0);
        Command {
            tag: self.tag,
            data: self.data,
            timeout: None,
            sensitive: false,
        }
    }
}

impl Command {
    /// `/cancel =tag=<target>`, with a tag of its own (never the target's).
    pub fn cancel(target: Uuid) -> Self {
        let mut target_tag = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let target_tag = target.hyphenated().encode_lower(&mut target_tag);
        CommandBuilder::new()
            .command("/cancel")
            .attribute("tag", Some(target_tag))
            .build()
    }

    /// The tag this command's replies carry.
    pub fn tag(&self) -> Uuid {
        self.tag
    }

    /// The encoded sentence, ready to write.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The command's words, decoded back (for logs and tests).
    pub fn words(&self) -> Vec<Vec<u8>> {
        let mut input = &self.data[..];
        let mut decoder = super::Decoder::default();
        match decoder.decode(&mut input) {
            Ok(Some(sentence)) => sentence.words().map(<[u8]>::to_vec).collect(),
            _ => Vec::new(),
        }
    }

    /// The path (first word).
    pub fn path(&self) -> String {
        self.words()
            .first()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .unwrap_or_default()
    }

    /// Ends the command with a timeout error (and cancels it on the router)
    /// if it has not finished `timeout` after it was sent.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks the command as carrying a secret: its bytes (and the connection's
    /// copy of them) are overwritten once written, instead of lingering in
    /// freed memory.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Whether the command carries a secret (see [`sensitive`](Self::sensitive)).
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// The deadline set with [`with_timeout`](Self::with_timeout), if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        if self.sensitive {
            self.data.fill(0);
            std::hint::black_box(&self.data);
        }
    }
}

impl From<CommandBuilder<Cmd>> for Command {
    fn from(builder: CommandBuilder<Cmd>) -> Self {
        builder.build()
    }
}

/// Words whose values must never be printed.
const SECRET_KEYS: [&[u8]; 2] = [b"=password=", b"=response="];

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.words();
        let shown = words
            .iter()
            .map(|w| match SECRET_KEYS.iter().find(|k| w.starts_with(k)) {
                Some(key) => format!("{}<redacted>", String::from_utf8_lossy(key)),
                None => String::from_utf8_lossy(w).into_owned(),
            });
        f.debug_struct("Command")
            .field("tag", &self.tag)
            .field("words", &shown.collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmd: &Command) -> Vec<String> {
        cmd.words()
            .iter()
            .map(|w| String::from_utf8(w.clone()).unwrap())
            .collect()
    }

    fn tag_word(tag: Uuid) -> String {
        format!(".tag={}", tag.hyphenated())
    }

    #[test]
    fn builds_path_attributes_and_tag() {
        let cmd = CommandBuilder::new()
            .command("/interface/ethernet/monitor")
            .attribute("numbers", Some("0,1"))
            .attribute("once", None)
            .build();
        assert_eq!(
            words(&cmd),
            [
                "/interface/ethernet/monitor",
                "=numbers=0,1",
                "=once=",
                &tag_word(cmd.tag())
            ]
        );
        assert_eq!(
            *cmd.as_bytes().last().unwrap(),
            0,
            "a sentence ends with 0x00"
        );
        assert_eq!(cmd.tag().get_version_num(), 4);
    }

    #[test]
    fn every_command_gets_a_fresh_tag() {
        let a = CommandBuilder::new().command("/x").build();
        let b = CommandBuilder::new().command("/x").build();
        assert_ne!(a.tag(), b.tag());
    }

    #[test]
    fn queries_encode_as_the_manual_says() {
        let cmd = CommandBuilder::new()
            .command("/interface/print")
            .query_equal("type", "ether")
            .query_gt("mtu", "1500")
            .query_lt("mtu", "9000")
            .query_is_present("comment")
            .query_not_present("disabled")
            .query_operations(
                [
                    QueryOperator::Or,
                    QueryOperator::Not,
                    QueryOperator::And,
                    QueryOperator::Dot,
                ]
                .into_iter(),
            )
            .query_operations(
                [
                    QueryOperator::Index(1),
                    QueryOperator::Index(12),
                    QueryOperator::And,
                ]
                .into_iter(),
            )
            .proplist(["name", "mtu"])
            .build();
        assert_eq!(
            words(&cmd)[1..9],
            [
                "?type=ether",
                "?>mtu=1500",
                "?<mtu=9000",
                "?comment",
                "?-disabled",
                "?#|!&.",
                "?#1.12&",
                "=.proplist=name,mtu"
            ]
        );
    }

    #[test]
    fn raw_values_keep_every_byte() {
        let cmd = CommandBuilder::new()
            .command("/file/set")
            .attribute_raw("contents", Some(&[0x00, 0xFF, b'=']))
            .build();
        assert_eq!(cmd.words()[1], b"=contents=\x00\xFF=");
    }

    #[test]
    fn long_words_get_long_prefixes() {
        let value = "v".repeat(300);
        let cmd = CommandBuilder::new()
            .command("/x")
            .attribute("k", Some(&value))
            .build();
        assert_eq!(cmd.words()[1].len(), 303);
        assert_eq!(
            &cmd.as_bytes()[3..5],
            &[0x81, 0x2F],
            "2-byte prefix for 303"
        );
    }

    #[test]
    fn cancel_has_its_own_tag() {
        let target = Uuid::new_v4();
        let cancel = Command::cancel(target);
        assert_ne!(cancel.tag(), target);
        assert_eq!(
            words(&cancel),
            [
                "/cancel",
                &format!("=tag={}", target.hyphenated()),
                &tag_word(cancel.tag())
            ]
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let cmd = CommandBuilder::new()
            .command("/login")
            .attribute("name", Some("admin"))
            .attribute("password", Some("hunter2"))
            .build();
        let shown = format!("{cmd:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("=password=<redacted>"));
        assert!(shown.contains("=name=admin"));
    }
}
