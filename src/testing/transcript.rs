//! Transcripts: the sentences of one API session, both directions, as text
//! that reads well and diffs well; the format and its parser.
//!
//! # Format (version 1)
//!
//! One sentence per line; lines starting with `#` are comments, blank
//! lines are ignored. The first line of a file written by the
//! [`Recorder`](super::Recorder) is `# mikrotik-rs transcript 1`.
//!
//! ```text
//! # mikrotik-rs transcript 1
//! > 0.000 - /login =name=admin =password=<redacted>
//! < 0.002 - !done
//! > 0.003 7 /interface/print ?type=ether =.proplist=name,running
//! < 0.004 7 !re =name=ether1 =running=true
//! < 0.004 7 !done
//! < 0.010 - !fatal "session terminated on request"
//! ```
//!
//! The columns, separated by one space:
//! 1. the direction: `>` sent by the client, `<` sent by the router;
//! 2. seconds since the recording started, with millisecond precision;
//! 3. the sentence's `.tag` (`-` when it has none); the `.tag=` word itself
//!    is not repeated among the words (its position inside the sentence is
//!    not kept: replay puts it right after the reply word, as RouterOS 7 does);
//! 4. the words, in order.
//!
//! A word (or tag) made only of printable ASCII other than `"` and `\` is
//! written as it is; any other is written in double quotes, where `\\` is a
//! backslash, `\"` a quote, and `\xHH` any byte that is not printable ASCII
//! (space included as itself). Values are raw bytes and stay raw bytes.
//!
//! Secrets never reach a transcript: every value the crate's secrets policy
//! ([`protocol::secrets`](crate::protocol::secrets): RouterOS's secret
//! arguments, script sources, the `/login` response, names you added) calls
//! secret is written as `<redacted>`, in commands and in the replies the
//! router prints back. The [`Recorder`](super::Recorder) writes the
//! `/login` password (or challenge response) as
//! `<redacted:md5x10000:SALT:HASH>`: a salted, iterated hash replay checks a
//! login against, never the password. How replay matches a redacted value:
//! [`ReplayMode`](super::ReplayMode).

use std::fmt::{self, Write as _};
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::protocol::{Sentence, secrets};
use std::borrow::Cow;

/// The first line of every transcript the recorder writes.
pub const TRANSCRIPT_HEADER: &str = "# mikrotik-rs transcript 1";

/// What a secret's value is replaced with.
pub const REDACTED: &[u8] = secrets::REDACTED;

/// Who sent a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The client (`>`).
    Sent,
    /// The router (`<`).
    Received,
}

/// One sentence of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Who sent it.
    pub direction: Direction,
    /// When, since the recording started.
    pub offset: Duration,
    /// Its `.tag`, if it had one.
    pub tag: Option<Vec<u8>>,
    /// Its words, without the `.tag=` word.
    pub words: Vec<Vec<u8>>,
}

impl Entry {
    /// The entry of a sentence seen `offset` after the start, secrets
    /// redacted. A reply's command is not known here, so a key secret in any
    /// menu is redacted; the [`Recorder`](super::Recorder) uses
    /// [`for_command`](Self::for_command).
    pub fn from_sentence(direction: Direction, offset: Duration, sentence: &Sentence) -> Self {
        Self::for_command(direction, offset, sentence, None)
    }

    /// As [`from_sentence`](Self::from_sentence), for a sentence that belongs
    /// to the command of `path` (a reply's command, when known), whose
    /// secrets are then those of that menu ([`secrets`](crate::protocol::secrets)).
    pub fn for_command(
        direction: Direction,
        offset: Duration,
        sentence: &Sentence,
        path: Option<&[u8]>,
    ) -> Self {
        let mut tag = None;
        let mut words = Vec::with_capacity(sentence.len());
        for word in sentence.words() {
            match word.strip_prefix(b".tag=") {
                Some(t) if tag.is_none() => tag = Some(t.to_vec()),
                _ => words.push(word.to_vec()),
            }
        }
        let own_path = words.first().filter(|w| w.starts_with(b"/")).cloned();
        let path = own_path.as_deref().or(path);
        for word in words.iter_mut().skip(1) {
            if let Cow::Owned(redacted) = secrets::redact_word(path, word) {
                word.fill(0);
                *word = redacted;
            }
        }
        Self {
            direction,
            offset,
            tag,
            words,
        }
    }

    /// The first word (the command or reply word), as text.
    pub fn head(&self) -> String {
        self.words
            .first()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .unwrap_or_default()
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::Sent => '>',
            Direction::Received => '<',
        };
        let millis = self.offset.as_millis();
        write!(f, "{arrow} {}.{:03} ", millis / 1000, millis % 1000)?;
        match &self.tag {
            None => f.write_char('-')?,
            Some(tag) if tag == b"-" => f.write_str("\"-\"")?,
            Some(tag) => write_word(f, tag)?,
        }
        for word in &self.words {
            f.write_char(' ')?;
            write_word(f, word)?;
        }
        Ok(())
    }
}

fn is_bare(word: &[u8]) -> bool {
    !word.is_empty()
        && word
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

fn write_word(f: &mut fmt::Formatter<'_>, word: &[u8]) -> fmt::Result {
    if is_bare(word) {
        // Printable ASCII only, hence UTF-8.
        return f.write_str(std::str::from_utf8(word).unwrap_or_default());
    }
    f.write_char('"')?;
    for &b in word {
        match b {
            b'\\' => f.write_str("\\\\")?,
            b'"' => f.write_str("\\\"")?,
            b' ' => f.write_char(' ')?,
            _ if b.is_ascii_graphic() => f.write_char(char::from(b))?,
            _ => write!(f, "\\x{b:02x}")?,
        }
    }
    f.write_char('"')
}

/// A transcript that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}:{line}: {reason}")]
pub struct TranscriptError {
    /// The transcript's name (its file name when loaded from a file).
    pub name: String,
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The sentences of one session, in the order they were seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// A name for messages (the file name when loaded from a file).
    pub name: String,
    /// Every sentence, in order.
    pub entries: Vec<Entry>,
}

impl Transcript {
    /// Parses the text of a transcript.
    pub fn parse(name: impl Into<String>, text: &str) -> Result<Self, TranscriptError> {
        let name = name.into();
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = parse_line(line).map_err(|reason| TranscriptError {
                name: name.clone(),
                line: index + 1,
                reason,
            })?;
            entries.push(entry);
        }
        Ok(Self { name, entries })
    }

    /// Reads and parses a transcript file; its name is the file name.
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Self::parse(name, &text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// The transcript as text, header included (parses back to the same entries).
    pub fn to_text(&self) -> String {
        let mut text = String::from(TRANSCRIPT_HEADER);
        text.push('\n');
        for entry in &self.entries {
            let _ = writeln!(text, "{entry}");
        }
        text
    }
}

fn parse_line(line: &str) -> Result<Entry, String> {
    let mut rest = line.as_bytes();
    let direction = match rest.first() {
        Some(b'>') => Direction::Sent,
        Some(b'<') => Direction::Received,
        _ => return Err("a line starts with `>` or `<`".into()),
    };
    rest = &rest[1..];
    let offset = token(&mut rest)?.ok_or("no time offset")?;
    let offset = std::str::from_utf8(&offset)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or("the time offset is not a number of seconds")?;
    let quoted_tag = rest.iter().find(|b| **b != b' ') == Some(&b'"');
    let tag = token(&mut rest)?.ok_or("no tag column")?;
    let tag = (quoted_tag || tag != b"-").then_some(tag);
    let mut words = Vec::new();
    while let Some(word) = token(&mut rest)? {
        words.push(word);
    }
    if words.is_empty() {
        return Err("a sentence has at least one word".into());
    }
    Ok(Entry {
        direction,
        offset,
        tag,
        words,
    })
}

/// The next space-separated token, unquoted; `None` at the end of the line.
fn token(rest: &mut &[u8]) -> Result<Option<Vec<u8>>, String> {
    while let [b' ', tail @ ..] = rest {
        *rest = tail;
    }
    if rest.is_empty() {
        return Ok(None);
    }
    if rest[0] != b'"' {
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let word = rest[..end].to_vec();
        *rest = &rest[end..];
        return Ok(Some(word));
    }
    let mut word = Vec::new();
    let mut i = 1;
    loop {
        match rest.get(i) {
            None => return Err("a quoted word is not closed".into()),
            Some(b'"') => {
                i += 1;
                break;
            }
            Some(b'\\') => {
                match rest.get(i + 1) {
                    Some(b'\\') => word.push(b'\\'),
                    Some(b'"') => word.push(b'"'),
                    Some(b'x') => {
                        let hex = rest.get(i + 2..i + 4).ok_or("a cut `\\x` escape")?;
                        let hex = std::str::from_utf8(hex).map_err(|_| "a bad `\\x` escape")?;
                        let byte = u8::from_str_radix(hex, 16).map_err(|_| "a bad `\\x` escape")?;
                        word.push(byte);
                        i += 2;
                    }
                    _ => return Err("an unknown escape (use \\\\, \\\" or \\xHH)".into()),
                }
                i += 2;
            }
            Some(&b) => {
                word.push(b);
                i += 1;
            }
        }
    }
    if rest.get(i).is_some_and(|&b| b != b' ') {
        return Err("a quoted word runs into the next".into());
    }
    *rest = &rest[i..];
    Ok(Some(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(words: &[&[u8]]) -> Sentence {
        Sentence::from_words(words.iter().copied())
    }

    #[test]
    fn entries_round_trip_through_text() {
        let odd: &[u8] = b"=comment=caf\xe9 \"quoted\" back\\slash\x00\n";
        let entries = vec![
            Entry::from_sentence(
                Direction::Sent,
                Duration::from_millis(1234),
                &sentence(&[b"/interface/print", b"?type=ether", b".tag=a b"]),
            ),
            Entry::from_sentence(
                Direction::Received,
                Duration::from_millis(1240),
                &sentence(&[b"!re", b".tag=a b", b"=name=ether1", odd]),
            ),
            Entry::from_sentence(
                Direction::Received,
                Duration::ZERO,
                &sentence(&[b"!fatal", b"session terminated on request"]),
            ),
            Entry::from_sentence(
                Direction::Sent,
                Duration::ZERO,
                &sentence(&[b"/x", b".tag=-"]),
            ),
        ];
        let transcript = Transcript {
            name: "t".into(),
            entries,
        };
        let text = transcript.to_text();
        assert!(text.starts_with(TRANSCRIPT_HEADER));
        assert!(
            text.contains("> 1.234 \"a b\" /interface/print ?type=ether\n"),
            "{text}"
        );
        assert!(
            text.contains(r#""=comment=caf\xe9 \"quoted\" back\\slash\x00\x0a""#),
            "{text}"
        );
        assert_eq!(Transcript::parse("t", &text).unwrap(), transcript);
    }

    #[test]
    fn secrets_are_redacted() {
        let login = Entry::from_sentence(
            Direction::Sent,
            Duration::ZERO,
            &sentence(&[
                b"/login",
                b"=name=admin",
                b"=password=hunter2",
                b"=response=00ab",
            ]),
        );
        let text = login.to_string();
        assert_eq!(
            text,
            "> 0.000 - /login =name=admin =password=<redacted> =response=<redacted>"
        );
        let user = Entry::from_sentence(
            Direction::Received,
            Duration::ZERO,
            &sentence(&[
                b"!re",
                b"=name=ppp1",
                b"=secret=s3",
                b"=wpa2-pre-shared-key=k",
            ]),
        );
        let text = user.to_string();
        assert!(!text.contains("s3") && !text.contains("=k"), "{text}");
        // `response` is only a secret in /login; a reply whose command is
        // unknown hides it (the policy fails closed).
        let reply = sentence(&[b"!re", b"=response=200", b"=source=x"]);
        let other = Entry::for_command(
            Direction::Received,
            Duration::ZERO,
            &reply,
            Some(b"/tool/fetch"),
        );
        assert!(other.to_string().ends_with("=response=200 =source=x"));
        let unknown = Entry::from_sentence(Direction::Received, Duration::ZERO, &reply);
        assert!(
            unknown
                .to_string()
                .ends_with("=response=<redacted> =source=<redacted>")
        );
        // A script's source, in the command and in the row printed back.
        let script = Entry::for_command(
            Direction::Received,
            Duration::ZERO,
            &sentence(&[
                b"!re",
                b"=name=s",
                b"=source=/tool/fetch url=https://u:pw@h",
            ]),
            Some(b"/system/script/print"),
        );
        assert!(!script.to_string().contains("pw@"), "{script}");
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, reason) in [
            ("? 0 - /x", "starts with"),
            ("> x - /x", "time offset"),
            ("> 0 -", "at least one word"),
            ("> 0 - \"open", "not closed"),
            ("> 0 - \"\\q\"", "unknown escape"),
            ("> 0 - \"\\x4\"", "escape"),
            ("> 0 - \"a\"b", "runs into"),
        ] {
            let error = Transcript::parse("f.txt", &format!("# c\n\n{text}\n")).unwrap_err();
            assert_eq!(error.line, 3, "{text}");
            assert!(error.reason.contains(reason), "{text}: {error}");
            assert!(error.to_string().starts_with("f.txt:3: "));
        }
    }
}
