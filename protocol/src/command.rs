//! Commands: the typestate builder and the encoded [`Command`].

use crate::prelude::*;
use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;

use uuid::Uuid;

use super::length::encoded_len;

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
/// use mikrotik_rs_protocol::command::CommandBuilder;
/// let cmd = CommandBuilder::new().attribute("numbers", Some("0")).build();
/// ```
///
/// ```
/// use mikrotik_rs_protocol::command::CommandBuilder;
/// let cmd = CommandBuilder::new()
///     .command("/interface/ethernet/monitor")
///     .attribute("numbers", Some("0,1"))
///     .attribute("once", None)
///     .build();
/// ```
///
/// # Misuse is remembered, not written
///
/// A word the protocol cannot carry is never encoded: an empty word (it would
/// end the sentence early, so the router would run half a command and then
/// a second, untagged one), or an attribute or query key that is empty or
/// contains `=` (`attribute("comment=disabled", Some("yes"))` would set
/// `comment` to `disabled=yes`), or a path not in the API's form
/// (`interface/print`, `/ip address print`: the router's answer would
/// mislead; the error names the path meant). The builder remembers the first such misuse,
/// the built [`Command`] reports it with [`Command::invalid`], and
/// a client (`mikrotik_rs`'s `MikrotikDevice::send_command`, the embedded
/// `Client::send`) refuses it with an invalid-command error before anything
/// is written. (The `command!` macro refuses the same
/// mistakes at compile time.)
///
/// ```
/// use mikrotik_rs_protocol::command::CommandBuilder;
/// let cmd = CommandBuilder::new()
///     .command("/ip/address/add")
///     .attribute("comment=disabled", Some("yes"))
///     .build();
/// assert!(cmd.invalid().unwrap().contains("contains `=`"));
/// ```
pub struct CommandBuilder<State = NoCmd> {
    tag: Uuid,
    data: Vec<u8>,
    /// Words written so far (the path is word 1), to say where a misuse is.
    words: usize,
    /// The first misuse, if any; the command carries it and is never sent.
    invalid: Option<Box<str>>,
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
///
/// Cloning gives a *new* command: the same words under a fresh tag, so the
/// original and its clones may all be sent, even at the same time, and each
/// gets its own replies (a tag must be unique among the commands running on
/// one connection). Compare clones by [`words`](Self::words), not with `==`,
/// which includes the tag.
#[derive(PartialEq, Eq)]
pub struct Command {
    tag: Uuid,
    data: Vec<u8>,
    timeout: Option<Duration>,
    /// Carries a secret (a login): its bytes are wiped when dropped.
    sensitive: bool,
    /// Why the command must not be sent (see [`Command::invalid`]).
    invalid: Option<Box<str>>,
    /// Set by [`Command::resumable`]; `None`: inferred from the words.
    resumable: Option<bool>,
    /// Sent by the crate for itself (the identity lookup), not by the user:
    /// left out of the command counters.
    internal: bool,
}

/// The bytes of a hyphenated tag (`0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11`).
const TAG_LEN: usize = uuid::fmt::Hyphenated::LENGTH;
/// The tag word as the builder writes it: a one-byte prefix, `.tag=`, the tag.
const TAG_WORD_LEN: usize = 1 + b".tag=".len() + TAG_LEN;

/// How many bytes one word of `len` bytes takes on the wire, prefix included.
fn wire_len(len: usize) -> usize {
    encoded_len(u32::try_from(len).unwrap_or(u32::MAX)) + len
}

/// Where the tag's 36 bytes sit in an encoded command: just before the
/// terminating 0x00, after `.tag=` (the builder always writes the tag last).
fn tag_bytes(data: &mut [u8]) -> Option<&mut [u8]> {
    let end = data.len().checked_sub(1)?;
    let start = end.checked_sub(TAG_LEN)?;
    let word = start.checked_sub(b".tag=".len())?;
    if &data[word..start] == b".tag=" {
        Some(&mut data[start..end])
    } else {
        None
    }
}

impl Clone for Command {
    /// The same words under a fresh tag (see [`Command`]). The timeout, the
    /// [`sensitive`](Command::sensitive) mark and any
    /// [`invalid`](Command::invalid) reason are kept. (Without the `std`
    /// feature the fresh tag is the nil placeholder: see [`tag`](crate::tag).)
    fn clone(&self) -> Self {
        Self {
            tag: self.tag,
            data: self.data.clone(),
            timeout: self.timeout,
            sensitive: self.sensitive,
            internal: self.internal,
            invalid: self.invalid.clone(),
            resumable: self.resumable,
        }
        .retagged(super::tag::fresh_tag())
    }
}

/// Writes one word made of `parts` (prefix first, then the parts back to back).
fn encode_parts(parts: &[&[u8]], out: &mut Vec<u8>) {
    super::encode_word_parts(parts, out);
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
    /// commands running on one connection. (A [`clone`](Command::clone) of
    /// the built command gets a fresh tag, not this one.)
    pub fn with_tag(tag: Uuid) -> Self {
        // Room for a typical command (a path, a few attributes, the tag)
        // without growing while it is built.
        Self::with_tag_and_capacity(tag, 192)
    }

    fn with_tag_and_capacity(tag: Uuid, capacity: usize) -> Self {
        Self {
            tag,
            data: Vec::with_capacity(capacity),
            words: 0,
            invalid: None,
            state: PhantomData,
        }
    }

    /// A builder whose buffer holds exactly a command of words of these
    /// lengths (path first, tag excluded), so it never grows while they are
    /// added: a growing buffer leaves freed, unwiped copies of what it held,
    /// which matters for a password.
    pub(crate) fn exactly_for(word_lens: impl IntoIterator<Item = usize>) -> Self {
        let words: usize = word_lens.into_iter().map(wire_len).sum();
        Self::with_tag_and_capacity(super::tag::fresh_tag(), words + TAG_WORD_LEN + 1)
    }

    /// Sets the command path, e.g. `/interface/print`.
    ///
    /// A path not in the API's form (empty, without the leading `/`, with
    /// spaces for `/`, an empty segment, a trailing `/`) is refused before
    /// anything is sent, with the path it probably meant (see
    /// [Misuse](CommandBuilder#misuse-is-remembered-not-written)): the
    /// router's own answer to `interface/print` would mislead.
    pub fn command(mut self, path: &str) -> CommandBuilder<Cmd> {
        self.words += 1;
        if path.is_empty() {
            self.refuse(|| "the command path is empty".to_owned());
        } else if let Some(problem) = super::path_problem("command path", path) {
            self.refuse(|| problem);
        } else {
            encode_parts(&[path.as_bytes()], &mut self.data);
        }
        CommandBuilder {
            tag: self.tag,
            data: self.data,
            words: self.words,
            invalid: self.invalid,
            state: PhantomData,
        }
    }
}

impl<State> CommandBuilder<State> {
    /// Remembers the first misuse; later ones are not worth a second report.
    fn refuse(&mut self, problem: impl FnOnce() -> String) {
        if self.invalid.is_none() {
            let reason = format!("word {}: {}", self.words, problem());
            self.invalid = Some(reason.into_boxed_str());
        }
    }

    /// Whether `key` can be the key of a `kind` word (non-empty, no `=`);
    /// remembers why not.
    fn key_ok(&mut self, kind: &str, key: &str) -> bool {
        if key.is_empty() {
            self.refuse(|| format!("{kind} key is empty"));
            return false;
        }
        if let Some(end) = key.find('=') {
            // Quote only what comes before the `=`: the rest was meant as a
            // value, and values may be secret.
            let start = &key[..end];
            self.refuse(|| {
                format!(
                    "{kind} key {start:?}… contains `=` (a key ends at the first `=`; \
                     put the rest in the value)"
                )
            });
            return false;
        }
        true
    }
}

impl CommandBuilder<Cmd> {
    /// Adds `=key=value`; `None` sends `=key=` (a flag such as `once`).
    ///
    /// A key that is empty or contains `=` is refused (see
    /// [Misuse](CommandBuilder#misuse-is-remembered-not-written)); the value
    /// may hold anything.
    pub fn attribute(self, key: &str, value: Option<&str>) -> Self {
        self.attribute_raw(key, value.map(str::as_bytes))
    }

    /// Adds `=key=value` with a value of arbitrary bytes. Keys as for
    /// [`attribute`](Self::attribute).
    pub fn attribute_raw(mut self, key: &str, value: Option<&[u8]>) -> Self {
        self.words += 1;
        if self.key_ok("attribute", key) {
            encode_parts(
                &[b"=", key.as_bytes(), b"=", value.unwrap_or_default()],
                &mut self.data,
            );
        }
        self
    }

    /// Asks for only these properties (`=.proplist=a,b,c`).
    pub fn proplist<'a>(self, properties: impl IntoIterator<Item = &'a str>) -> Self {
        let list = properties.into_iter().collect::<Vec<_>>().join(",");
        self.attribute(".proplist", Some(&list))
    }

    /// Adds a raw word as is (for API words this builder has no method for).
    ///
    /// An empty word is refused (see
    /// [Misuse](CommandBuilder#misuse-is-remembered-not-written)): on the
    /// wire it would end the sentence.
    pub fn word(mut self, word: &[u8]) -> Self {
        self.words += 1;
        if word.is_empty() {
            self.refuse(|| "empty word (it would end the sentence here)".to_owned());
        } else {
            encode_parts(&[word], &mut self.data);
        }
        self
    }

    /// Appends a query word `prefix key [= value]` once `key` is fit for it.
    fn query(mut self, prefix: &[u8], key: &str, value: Option<&str>) -> Self {
        self.words += 1;
        if self.key_ok("query", key) {
            match value {
                Some(value) => encode_parts(
                    &[prefix, key.as_bytes(), b"=", value.as_bytes()],
                    &mut self.data,
                ),
                None => encode_parts(&[prefix, key.as_bytes()], &mut self.data),
            }
        }
        self
    }

    /// Query: property `key` equals `value` (`?key=value`).
    ///
    /// For every `query_*` method, a key that is empty or contains `=` is
    /// refused (see [Misuse](CommandBuilder#misuse-is-remembered-not-written)).
    pub fn query_equal(self, key: &str, value: &str) -> Self {
        self.query(b"?", key, Some(value))
    }

    /// Query: property `key` is greater than `value` (`?>key=value`).
    pub fn query_gt(self, key: &str, value: &str) -> Self {
        self.query(b"?>", key, Some(value))
    }

    /// Query: property `key` is less than `value` (`?<key=value`).
    pub fn query_lt(self, key: &str, value: &str) -> Self {
        self.query(b"?<", key, Some(value))
    }

    /// Query: property `key` is present (`?key`).
    pub fn query_is_present(self, key: &str) -> Self {
        self.query(b"?", key, None)
    }

    /// Query: property `key` is absent (`?-key`).
    pub fn query_not_present(self, key: &str) -> Self {
        self.query(b"?-", key, None)
    }

    /// Query: stack operations combining the previous query words (`?#…`).
    pub fn query_operations(mut self, operations: impl Iterator<Item = QueryOperator>) -> Self {
        self.words += 1;
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
    ///
    /// The tag is always the last word ([`Command::clone`] relies on it).
    pub fn build(mut self) -> Command {
        let mut tag = [0u8; TAG_LEN];
        self.tag.hyphenated().encode_lower(&mut tag);
        encode_parts(&[b".tag=", &tag], &mut self.data);
        self.data.push(0);
        Command {
            tag: self.tag,
            data: self.data,
            timeout: None,
            sensitive: false,
            invalid: self.invalid,
            resumable: None,
            internal: false,
        }
    }
}

impl Command {
    /// `/cancel =tag=<target>`, with a tag of its own (never the target's).
    pub fn cancel(target: Uuid) -> Self {
        Self::cancel_with_tag(target, super::tag::fresh_tag())
    }

    /// `/cancel =tag=<target>` under the tag `tag` (from a
    /// [`Tags`](crate::tag::Tags) where there is no `std`).
    pub fn cancel_with_tag(target: Uuid, tag: Uuid) -> Self {
        let mut target_tag = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let target_tag = target.hyphenated().encode_lower(&mut target_tag);
        CommandBuilder::with_tag(tag)
            .command("/cancel")
            .attribute("tag", Some(target_tag))
            .build()
    }

    /// The same command under the tag `tag`, rewritten in place (no copy of
    /// the words, so a login's secret is not duplicated). A client that
    /// draws its own tags retags each command it sends.
    #[must_use]
    pub fn retagged(mut self, tag: Uuid) -> Self {
        if let Some(bytes) = tag_bytes(&mut self.data) {
            tag.hyphenated().encode_lower(bytes);
            self.tag = tag;
        }
        // Otherwise unreachable: every command is built with its tag last.
        self
    }

    /// The tag this command's replies carry.
    pub fn tag(&self) -> Uuid {
        self.tag
    }

    /// Why this command must not be sent, if it must not: the first misuse
    /// of its builder (an empty word, a key that is empty or contains `=`),
    /// and which word it was. Such a word was never encoded, and
    /// a client refuses to send the command (`mikrotik_rs`:
    /// `Error::InvalidCommand`).
    pub fn invalid(&self) -> Option<&str> {
        self.invalid.as_deref()
    }

    /// The encoded sentence, ready to write.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The capacity of the encoded sentence's buffer (tests of pre-sizing).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
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
    ///
    /// Best effort: only the buffer the command owns when it is dropped is
    /// wiped. A buffer that grew while words were added left its earlier
    /// copies to the allocator unwiped, so the login commands of
    /// [`login`](super::login) are built in a buffer sized exactly in
    /// advance; a command you build yourself should be, too.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Whether the command carries a secret (see [`sensitive`](Self::sensitive)).
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// Marks a command a client sends for itself: not counted as one of the
    /// user's commands (`mikrotik_rs::Stats`).
    #[doc(hidden)]
    pub fn internal(mut self) -> Self {
        self.internal = true;
        self
    }

    /// Whether the command counts in a client's statistics (see [`internal`](Self::internal)).
    #[doc(hidden)]
    pub fn is_counted(&self) -> bool {
        !self.internal
    }

    /// The deadline set with [`with_timeout`](Self::with_timeout), if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Says whether the command may be sent again after a reconnect (see
    /// [`is_resumable`](Self::is_resumable)), overriding what its words suggest.
    pub fn resumable(mut self, resumable: bool) -> Self {
        self.resumable = Some(resumable);
        self
    }

    /// Whether a reconnecting device sends this command again on the new
    /// connection instead of ending it: only commands that merely *watch*
    /// and never change anything, so that sending one twice is harmless.
    ///
    /// Unless set with [`resumable`](Self::resumable), inferred from the
    /// words: the path ends in `/listen`, `/monitor` or `/monitor-traffic`,
    /// or the path ends in `/print` and an attribute is `follow`,
    /// `follow-only` or `interval`. Everything else (`add`, `set`, `remove`,
    /// scripts, a plain `print`) is never sent twice.
    pub fn is_resumable(&self) -> bool {
        if let Some(resumable) = self.resumable {
            return resumable;
        }
        let words = self.words();
        let Some(path) = words.first() else {
            return false;
        };
        let ends = |suffix: &[u8]| path.ends_with(suffix);
        if ends(b"/listen") || ends(b"/monitor") || ends(b"/monitor-traffic") {
            return true;
        }
        ends(b"/print")
            && words[1..].iter().any(|word| {
                let key = word.split(|&b| b == b'=').nth(1).unwrap_or_default();
                word.starts_with(b"=") && matches!(key, b"follow" | b"follow-only" | b"interval")
            })
    }
}

impl Drop for Command {
    fn drop(&mut self) {
        if self.sensitive {
            self.data.fill(0);
            core::hint::black_box(&self.data);
        }
    }
}

impl From<CommandBuilder<Cmd>> for Command {
    fn from(builder: CommandBuilder<Cmd>) -> Self {
        builder.build()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("tag", &self.tag)
            .field("words", &shown_words(&self.words()))
            .finish()
    }
}

/// Shown like [`Command`]'s: its words so far, secrets redacted (never the
/// encoded bytes, which hold the secrets in clear).
impl<State> fmt::Debug for CommandBuilder<State> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sentence = self.data.clone();
        sentence.push(0);
        let mut input = &sentence[..];
        let words = match super::Decoder::default().decode(&mut input) {
            Ok(Some(decoded)) => decoded.words().map(<[u8]>::to_vec).collect(),
            _ => Vec::new(),
        };
        sentence.fill(0);
        f.debug_struct("CommandBuilder")
            .field("tag", &self.tag)
            .field("words", &shown_words(&words))
            .field("invalid", &self.invalid)
            .finish()
    }
}

/// `words` as `Debug` shows them: the path, then each word with a secret's
/// value redacted by the [secrets policy](super::secrets).
fn shown_words(words: &[Vec<u8>]) -> Vec<String> {
    let path = words.first().map(Vec::as_slice);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let w = if i == 0 {
                w.into()
            } else {
                super::secrets::redact_word(path, w)
            };
            String::from_utf8_lossy(&w).into_owned()
        })
        .collect()
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

    #[test]
    fn only_commands_that_watch_are_resumable() {
        let cmd = |path: &str, attrs: &[(&str, Option<&str>)]| {
            let mut b = CommandBuilder::new().command(path);
            for (k, v) in attrs {
                b = b.attribute(k, *v);
            }
            b.build()
        };
        assert!(cmd("/interface/listen", &[]).is_resumable());
        assert!(cmd("/interface/monitor-traffic", &[("interface", Some("e1"))]).is_resumable());
        assert!(cmd("/ip/address/print", &[("follow", None)]).is_resumable());
        assert!(cmd("/ip/address/print", &[("follow-only", Some(""))]).is_resumable());
        assert!(cmd("/interface/print", &[("interval", Some("1s"))]).is_resumable());
        assert!(!cmd("/interface/print", &[]).is_resumable());
        assert!(!cmd("/ip/address/add", &[("interval", Some("1s"))]).is_resumable());
        assert!(!cmd("/system/script/run", &[("follow", None)]).is_resumable());
        assert!(!cmd("/interface/print", &[("comment", Some("follow"))]).is_resumable());
        let marked = cmd("/tool/fetch", &[]).resumable(true);
        assert!(marked.is_resumable());
        assert!(marked.clone().is_resumable(), "a clone keeps the mark");
        assert!(
            !cmd("/interface/listen", &[])
                .resumable(false)
                .is_resumable()
        );
    }

    fn tag_word(tag: Uuid) -> String {
        format!(".tag={}", tag.hyphenated())
    }

    #[cfg(feature = "std")]
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

    #[cfg(feature = "std")]
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
    fn retagging_rewrites_the_tag_word_in_place() {
        let first = Uuid::from_u128(1);
        let second = Uuid::from_u128(2);
        let login = crate::login::login("admin", "secret").retagged(first);
        let again = login.retagged(second);
        assert_eq!(again.tag(), second);
        assert_eq!(words(&again)[3], tag_word(second));
        assert!(again.is_sensitive());
        let cancel = Command::cancel_with_tag(first, second);
        assert_eq!(
            words(&cancel),
            [
                "/cancel",
                &format!("=tag={}", first.hyphenated()),
                &tag_word(second)
            ]
        );
    }

    #[cfg(feature = "std")]
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

    #[cfg(feature = "std")]
    #[test]
    fn a_clone_is_the_same_command_under_a_fresh_tag() {
        let original = CommandBuilder::new()
            .command("/interface/print")
            .attribute("numbers", Some("0"))
            .build()
            .with_timeout(Duration::from_secs(3));
        let copy = original.clone();
        assert_ne!(copy.tag(), original.tag());
        assert_eq!(copy.tag().get_version_num(), 4);
        assert_eq!(copy.timeout(), original.timeout());
        assert_eq!(words(&copy)[..2], words(&original)[..2]);
        assert_eq!(
            words(&copy)[2],
            tag_word(copy.tag()),
            "the wire carries the new tag"
        );
        assert_eq!(
            words(&original)[2],
            tag_word(original.tag()),
            "the original is untouched"
        );
        assert_eq!(copy.as_bytes().len(), original.as_bytes().len());
        // A builder's chosen tag is not copied either.
        let chosen = Uuid::new_v4();
        let tagged = CommandBuilder::with_tag(chosen).command("/x").build();
        assert_eq!(tagged.tag(), chosen);
        assert_ne!(tagged.clone().tag(), chosen);
        assert!(tagged.clone().as_bytes().ends_with(b"\0"));
    }

    #[test]
    fn misuse_is_remembered_and_never_encoded() {
        let fine = CommandBuilder::new()
            .command("/x")
            .attribute("a", Some("b=c"))
            .query_equal("k", "v=w")
            .build();
        assert_eq!(fine.invalid(), None, "`=` in a value is fine");
        let cases: Vec<(Command, &str)> = vec![
            (
                CommandBuilder::new().command("/x").word(b"").build(),
                "word 2: empty word",
            ),
            (
                CommandBuilder::new().command("").build(),
                "word 1: the command path is empty",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .attribute("a=b", Some("c"))
                    .build(),
                "word 2: attribute key \"a\"… contains `=`",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .attribute_raw("", None)
                    .build(),
                "word 2: attribute key is empty",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .query_equal("a=b", "c")
                    .build(),
                "word 2: query key \"a\"… contains `=`",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .query_gt("", "1")
                    .build(),
                "query key is empty",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .query_lt("=", "1")
                    .build(),
                "contains `=`",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .query_is_present("")
                    .build(),
                "key is empty",
            ),
            (
                CommandBuilder::new()
                    .command("/x")
                    .query_not_present("a=")
                    .build(),
                "contains `=`",
            ),
        ];
        for (cmd, expected) in cases {
            let reason = cmd.invalid().expect("refused");
            assert!(
                reason.contains(expected),
                "{reason:?} should contain {expected:?}"
            );
            // What was encoded is still one well-formed sentence, without the bad word.
            let words = cmd.words();
            assert!(words.iter().all(|w| !w.is_empty()), "{words:?}");
            assert_eq!(words.last().unwrap(), tag_word(cmd.tag()).as_bytes());
            assert_eq!(
                cmd.clone().invalid(),
                Some(reason),
                "a clone keeps the reason"
            );
        }
        // Only the first misuse is reported, and a value never shows up in it.
        let cmd = CommandBuilder::new()
            .command("/x")
            .attribute("password=hunter2", None)
            .word(b"")
            .build();
        let reason = cmd.invalid().unwrap();
        assert!(
            reason.starts_with("word 2:") && !reason.contains("hunter2"),
            "{reason}"
        );
    }

    #[test]
    fn a_builder_sized_for_its_words_never_reallocates() {
        for len in [0, 1, 117, 118, 127, 128, 300, 16_383, 16_384, 70_000] {
            let value = "v".repeat(len);
            let words = [
                b"/login".len(),
                b"=name=".len() + 5,
                b"=password=".len() + len,
            ];
            let builder = CommandBuilder::exactly_for(words);
            let before = (builder.data.as_ptr(), builder.data.capacity());
            let builder = builder
                .command("/login")
                .attribute("name", Some("admin"))
                .attribute("password", Some(&value));
            let cmd = builder.build();
            assert_eq!(
                (cmd.data.as_ptr(), cmd.data.capacity()),
                before,
                "len {len}"
            );
            assert_eq!(
                cmd.data.len(),
                cmd.data.capacity(),
                "len {len}: sized exactly"
            );
        }
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
