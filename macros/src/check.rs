//! The compile-time checks: string literals, command paths, names and `?#` operations.
//!
//! Each check returns the message a user sees, saying what is wrong and how to fix it.

use proc_macro::Literal;

/// The text of a string literal (`"…"` with escapes, or a raw `r#"…"#`), or a
/// description of what the literal is instead ("a number", …), for error messages.
pub(crate) fn string_literal(literal: &Literal) -> Result<String, &'static str> {
    let repr = literal.to_string();
    if let Some(text) = parse_string(&repr) {
        return Ok(text);
    }
    Err(describe_literal(&repr))
}

/// What a non-string literal is, in words.
fn describe_literal(repr: &str) -> &'static str {
    if repr.starts_with("b\"") || repr.starts_with("br") {
        "a byte string"
    } else if repr.starts_with("c\"") || repr.starts_with("cr") {
        "a C string"
    } else if repr.starts_with('\'') || repr.starts_with("b'") {
        "a character"
    } else if repr.starts_with(|c: char| c.is_ascii_digit()) {
        "a number"
    } else if repr.starts_with('"') || repr.starts_with('r') {
        "a string literal with a suffix"
    } else {
        "this literal"
    }
}

/// Parses the source text of a plain or raw string literal without suffix.
fn parse_string(repr: &str) -> Option<String> {
    if let Some(rest) = repr.strip_prefix('r') {
        let hashes = rest.bytes().take_while(|&b| b == b'#').count();
        let closing = format!("\"{}", "#".repeat(hashes));
        let inner = rest[hashes..].strip_prefix('"')?.strip_suffix(&closing)?;
        return Some(inner.to_owned());
    }
    unescape(repr.strip_prefix('"')?.strip_suffix('"')?)
}

/// Resolves the escapes of a (non-raw) string literal's contents.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next()? {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                char::from(u8::from_str_radix(&hex, 16).ok().filter(|b| b.is_ascii())?)
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let mut hex = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '_' => {}
                        digit => hex.push(digit),
                    }
                }
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            '\n' => {
                // A line continuation: the newline and the whitespace after it vanish.
                while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
                continue;
            }
            _ => return None,
        };
        out.push(escaped);
    }
    Some(out)
}

/// Checks a command path such as `/interface/print`.
pub(crate) fn path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(
            "the command path is empty: write a RouterOS API path such as \"/interface/print\""
                .into(),
        );
    }
    if !path.starts_with('/') {
        return Err(format!(
            "the command path must start with `/`: write \"{}\"",
            suggest_path(path)
        ));
    }
    if let Some(bad) = path.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "the command path contains {}: spaces are console syntax, not API syntax; \
             the API separates menus and commands with `/`, so write \"{}\"",
            describe_char(bad),
            suggest_path(path)
        ));
    }
    if path == "/" {
        return Err(
            "the path \"/\" names no command: add the menu and the command, \
             e.g. \"/interface/print\""
                .into(),
        );
    }
    if path.contains("//") {
        return Err(format!(
            "the command path has an empty segment (`//`): write \"{}\"",
            suggest_path(path)
        ));
    }
    if path.ends_with('/') {
        return Err(format!(
            "the command path ends with `/`: remove it and end with the command, \
             e.g. \"{}\"",
            suggest_path(path)
        ));
    }
    if let Some(bad) = path
        .chars()
        .find(|&c| !(c == '/' || c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit()))
    {
        if bad.is_ascii_uppercase() {
            return Err(format!(
                "RouterOS menu and command names are lower-case: write \"{}\"",
                suggest_path(path)
            ));
        }
        return Err(format!(
            "{} never appears in a RouterOS menu or command name, which use only \
             lower-case ASCII letters, digits and `-`: check the path against the RouterOS manual",
            describe_char(bad)
        ));
    }
    Ok(())
}

/// The path a user most likely meant: words split at whitespace and `/`, lower-cased.
fn suggest_path(path: &str) -> String {
    let words = path
        .split(|c: char| c == '/' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>();
    if words.is_empty() {
        "/interface/print".into()
    } else {
        format!("/{}", words.join("/"))
    }
}

/// A character for a message: "a space", "a tab", "`_`".
fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        '\n' | '\r' => "a line break".into(),
        c if c.is_whitespace() || c.is_control() => format!("`{}`", c.escape_unicode()),
        c => format!("`{c}`"),
    }
}

/// What a name is used for, in messages.
#[derive(Clone, Copy)]
pub(crate) enum NameKind {
    /// `=name=value`.
    Attribute,
    /// `?name=value` and friends.
    Query,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            Self::Attribute => "an attribute name",
            Self::Query => "a query property name",
        }
    }
}

/// Checks an attribute or query property name given as a string literal.
pub(crate) fn name(name: &str, kind: NameKind) -> Result<(), String> {
    let noun = kind.noun();
    if name.is_empty() {
        return Err(format!(
            "{noun} cannot be empty: write the name between the quotes, e.g. \"numbers\""
        ));
    }
    if let Some((key, value)) = name.split_once('=') {
        let fix = if key.is_empty() {
            "write just the name".to_owned()
        } else {
            format!("write the name and the value apart: \"{key}\" = \"{value}\"")
        };
        return Err(format!(
            "{noun} cannot contain `=`, which the API uses to separate name and value: {fix}"
        ));
    }
    if let Some(bad) = name.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "{noun} cannot contain {}: RouterOS names join words with `-`, e.g. \"{}\"",
            describe_char(bad),
            name.split_whitespace().collect::<Vec<_>>().join("-")
        ));
    }
    Ok(())
}

/// One `?#` operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `!`
    Not,
    /// `&`
    And,
    /// `|`
    Or,
    /// `.`
    Dot,
    /// A decimal stack index.
    Index(usize),
}

const OPERATIONS_HELP: &str = "`?#` takes the operations `!` (not), `&` (and), `|` (or), \
     `.` (copy the top value) and decimal stack indexes, e.g. `?#|!` or `?#1.2&`";

/// Parses and checks (part of) the operations of a `?#` word, e.g. `|!` or `1.12&`.
pub(crate) fn operations(text: &str) -> Result<Vec<Operation>, String> {
    if text.is_empty() {
        return Err(format!("the `?#` operations are empty: {OPERATIONS_HELP}"));
    }
    let mut operations = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let operation = match c {
            '!' => Operation::Not,
            '&' => Operation::And,
            '|' => Operation::Or,
            '.' => Operation::Dot,
            '0'..='9' => {
                let mut end = start + 1;
                while let Some((i, _)) = chars.next_if(|(_, c)| c.is_ascii_digit()) {
                    end = i + 1;
                }
                let digits = &text[start..end];
                let index = digits.parse().map_err(|_| {
                    format!("the `?#` stack index {digits} is too large: {OPERATIONS_HELP}")
                })?;
                Operation::Index(index)
            }
            other => {
                let shown = if text.chars().count() == 1 {
                    describe_char(other)
                } else {
                    format!("{} in `{text}`", describe_char(other))
                };
                return Err(format!(
                    "{shown} is not a `?#` operation: {OPERATIONS_HELP}"
                ));
            }
        };
        operations.push(operation);
    }
    Ok(operations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_unescape() {
        assert_eq!(parse_string(r#""a\"b\\c\n""#).unwrap(), "a\"b\\c\n");
        assert_eq!(parse_string(r#""\x41\u{1F600}\u{4_1}""#).unwrap(), "A😀A");
        assert_eq!(parse_string("\"a\\\n   b\"").unwrap(), "ab");
        assert_eq!(parse_string(r###"r#"a"b"#"###).unwrap(), "a\"b");
        assert_eq!(parse_string(r#"r"x\n""#).unwrap(), "x\\n");
        assert_eq!(parse_string(r#""abc"suffix"#), None);
        assert_eq!(parse_string(r#"b"abc""#), None);
        assert_eq!(parse_string("12"), None);
    }

    #[test]
    fn paths() {
        assert!(path("/interface/print").is_ok());
        assert!(path("/ip/dhcp-server/lease/print").is_ok());
        assert!(path("/interface/6to4/add").is_ok());
        let bad = [
            ("", "empty"),
            (
                "interface/print",
                "start with `/`: write \"/interface/print\"",
            ),
            ("/interface print", "write \"/interface/print\""),
            ("/", "names no command"),
            ("/interface//print", "empty segment"),
            ("/interface/print/", "ends with `/`"),
            ("/Interface/print", "lower-case: write \"/interface/print\""),
            ("/ip_address/print", "`_` never appears"),
        ];
        for (input, expected) in bad {
            let message = path(input).unwrap_err();
            assert!(message.contains(expected), "{input:?}: {message}");
        }
    }

    #[test]
    fn names() {
        assert!(name("mac-address", NameKind::Attribute).is_ok());
        assert!(name(".proplist", NameKind::Attribute).is_ok());
        assert!(name("", NameKind::Attribute).unwrap_err().contains("empty"));
        let message = name("a=b", NameKind::Query).unwrap_err();
        assert!(message.contains("\"a\" = \"b\""), "{message}");
        let message = name("mac address", NameKind::Attribute).unwrap_err();
        assert!(message.contains("\"mac-address\""), "{message}");
    }

    #[test]
    fn operations_parse() {
        use Operation::*;
        assert_eq!(operations("|!&.").unwrap(), [Or, Not, And, Dot]);
        assert_eq!(
            operations("1.12&").unwrap(),
            [Index(1), Dot, Index(12), And]
        );
        assert!(operations("").unwrap_err().contains("empty"));
        assert!(operations("x").unwrap_err().starts_with("`x` is not"));
        assert!(
            operations("|x")
                .unwrap_err()
                .starts_with("`x` in `|x` is not")
        );
        assert!(operations("99999999999999999999999").is_err());
    }
}
