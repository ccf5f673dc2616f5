//! Reads the macro input, a plain `proc_macro` token stream, into an [`Invocation`].
//!
//! Syntax errors stop the parse; the checks of names and paths are collected so that
//! one build reports all of them.

use proc_macro::{Delimiter, Literal, Spacing, Span, TokenStream, TokenTree};

use crate::check::{self, NameKind, Operation};
use crate::error::Error;

/// A parsed `command!` call.
pub(crate) struct Invocation {
    /// Whether the call opted out of the schema check (`command!(unchecked "/…")`).
    pub(crate) unchecked: bool,
    /// The command path, e.g. `/interface/print`.
    pub(crate) path: String,
    /// The path literal's span.
    pub(crate) path_span: Span,
    /// The words after the path, in the order written.
    pub(crate) words: Vec<Word>,
}

/// An attribute or query name, with the tokens it was written as.
pub(crate) struct Name {
    pub(crate) text: String,
    pub(crate) start: Span,
    pub(crate) end: Span,
}

/// A value expression: every token up to the next top-level `,`.
pub(crate) struct Value {
    pub(crate) tokens: TokenStream,
    /// The first token's span, where type errors about the value point.
    pub(crate) span: Span,
    /// The text sent, when the value is a literal known while compiling: a string,
    /// an unsuffixed integer (`1500`, `-1`), or `true` / `false` (sent as `yes` / `no`,
    /// which every RouterOS version takes).
    pub(crate) constant: Option<String>,
}

/// The text of a value that is a literal, if it is one (see [`Value::constant`]).
fn constant(tokens: &[TokenTree]) -> Option<String> {
    let tokens: Vec<TokenTree> = tokens.iter().map(peel).collect();
    let integer = |literal: &Literal| {
        let text = literal.to_string();
        (text.starts_with(|c: char| c.is_ascii_digit())
            && text.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
        .then(|| text.replace('_', ""))
    };
    match tokens.as_slice() {
        [TokenTree::Literal(literal)] => check::string_literal(literal)
            .ok()
            .or_else(|| integer(literal)),
        [TokenTree::Punct(minus), TokenTree::Literal(literal)] if minus.as_char() == '-' => {
            integer(literal).map(|digits| format!("-{digits}"))
        }
        [TokenTree::Ident(ident)] => match ident.to_string().as_str() {
            "true" => Some("yes".to_owned()),
            "false" => Some("no".to_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// One word after the path.
pub(crate) enum Word {
    /// `key = value` (`=key=value`) or `key` (`=key=`).
    Attribute(Name, Option<Value>),
    /// `?key = value` (`?key=value`).
    QueryEqual(Name, Value),
    /// `?>key = value` (`?>key=value`).
    QueryGreater(Name, Value),
    /// `?<key = value` (`?<key=value`).
    QueryLess(Name, Value),
    /// `?key` (`?key`).
    QueryPresent(Name),
    /// `?-key` (`?-key`).
    QueryAbsent(Name),
    /// `?#"ops"` (`?#ops`).
    QueryOperations(Vec<Operation>),
}

/// A token with any invisible (`Delimiter::None`) groups around it removed: tokens
/// passed in through `macro_rules!` fragments (`$path:expr`) arrive wrapped in one.
fn peel(token: &TokenTree) -> TokenTree {
    match token {
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            let mut inner = group.stream().into_iter();
            match (inner.next(), inner.next()) {
                (Some(only), None) => peel(&only),
                _ => token.clone(),
            }
        }
        other => other.clone(),
    }
}

fn is_punct(token: Option<&TokenTree>, c: char) -> bool {
    matches!(token.map(peel), Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// The input split at its top-level commas: each part with the comma after it, if any.
fn split_at_commas(input: TokenStream) -> Vec<(Vec<TokenTree>, Option<Span>)> {
    let mut parts = Vec::new();
    let mut current = Vec::new();
    for token in input {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                parts.push((std::mem::take(&mut current), Some(p.span())));
            }
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        parts.push((current, None));
    }
    parts
}

/// Splits off the `$crate;` that `mikrotik_rs::command!` puts first, as the path
/// the expansion names the crate by; without it, the crate is `::mikrotik_rs`.
pub(crate) fn crate_path(input: TokenStream) -> (TokenStream, TokenStream) {
    let mut tokens = input.clone().into_iter();
    if let (Some(TokenTree::Ident(krate)), Some(TokenTree::Punct(semicolon))) =
        (tokens.next(), tokens.next())
        && krate.to_string() == "$crate"
        && semicolon.as_char() == ';'
    {
        return (TokenTree::Ident(krate).into(), tokens.collect());
    }
    let mut absolute = Vec::<TokenTree>::new();
    for c in [':', ':'] {
        let spacing = if absolute.is_empty() {
            Spacing::Joint
        } else {
            Spacing::Alone
        };
        let mut punct = proc_macro::Punct::new(c, spacing);
        punct.set_span(Span::mixed_site());
        absolute.push(punct.into());
    }
    absolute.push(proc_macro::Ident::new("mikrotik_rs", Span::mixed_site()).into());
    (absolute.into_iter().collect(), input)
}

const PATH_HELP: &str = "the first argument of `command!` is the command path, a string literal such as \
     \"/interface/print\"";

/// Parses a whole macro input, or returns every error found.
pub(crate) fn invocation(input: TokenStream) -> Result<Invocation, Vec<Error>> {
    let mut parts = split_at_commas(input).into_iter();
    let Some((path_tokens, comma)) = parts.next() else {
        return Err(vec![Error::new(
            Span::call_site(),
            format!("missing command path: {PATH_HELP}"),
        )]);
    };
    let (unchecked, path_tokens) = match path_tokens.first().map(peel) {
        Some(TokenTree::Ident(word))
            if word.to_string() == "unchecked" && path_tokens.len() > 1 =>
        {
            (true, &path_tokens[1..])
        }
        _ => (false, &path_tokens[..]),
    };
    let (path, path_span) = path_literal(path_tokens, comma)?;
    let mut errors = Vec::new();
    if let Err(message) = check::path(&path) {
        errors.push(Error::new(path_span, message));
    }

    let mut words = Vec::new();
    let mut attributes: Vec<String> = Vec::new();
    for (tokens, comma) in parts {
        if tokens.is_empty() {
            // Only a trailing comma may close an empty part.
            let span = comma.unwrap_or_else(Span::call_site);
            return Err(vec![Error::new(
                span,
                "unexpected `,`: write one attribute or query between commas",
            )]);
        }
        let word = word(&tokens, &mut errors).map_err(|e| vec![e])?;
        if let Word::Attribute(name, _) = &word {
            if attributes.contains(&name.text) {
                errors.push(Error::spanning(
                    name.start,
                    name.end,
                    format!(
                        "duplicate attribute `{}`: RouterOS takes one value per attribute, \
                         so remove one of the two",
                        name.text
                    ),
                ));
            } else {
                attributes.push(name.text.clone());
            }
        }
        words.push(word);
    }
    if errors.is_empty() {
        Ok(Invocation {
            unchecked,
            path,
            path_span,
            words,
        })
    } else {
        Err(errors)
    }
}

/// The path: one string literal, followed by a comma or nothing.
fn path_literal(tokens: &[TokenTree], comma: Option<Span>) -> Result<(String, Span), Vec<Error>> {
    let Some(first) = tokens.first() else {
        let span = comma.unwrap_or_else(Span::call_site);
        return Err(vec![Error::new(
            span,
            format!("missing command path: {PATH_HELP}"),
        )]);
    };
    let text = match peel(first) {
        TokenTree::Literal(literal) => check::string_literal(&literal).map_err(|found| {
            vec![Error::new(
                first.span(),
                format!("{PATH_HELP}, not {found}"),
            )]
        })?,
        _ => {
            let last = tokens.last().map_or(first.span(), TokenTree::span);
            return Err(vec![Error::spanning(
                first.span(),
                last,
                "the command path must be a string literal written in the call, such as \
                 \"/interface/print\": the macro checks it at compile time, so it cannot be a \
                 variable, a constant or a macro call; build a path chosen at run time with \
                 `CommandBuilder::new().command(path)`",
            )]);
        }
    };
    if let Some(extra) = tokens.get(1) {
        return Err(vec![Error::new(
            extra.span(),
            "expected `,` after the command path",
        )]);
    }
    Ok((text, first.span()))
}

/// Parses one comma-separated part after the path.
fn word(tokens: &[TokenTree], errors: &mut Vec<Error>) -> Result<Word, Error> {
    if !is_punct(tokens.first(), '?') {
        let (name, rest) = name(tokens, NameKind::Attribute, Span::call_site(), errors)?;
        let value = optional_value(rest, &name)?;
        return Ok(Word::Attribute(name, value));
    }
    let question = tokens[0].span();
    let rest = &tokens[1..];
    let operator = match rest.first().map(peel) {
        Some(TokenTree::Punct(p)) => Some((p.as_char(), p.span())),
        _ => None,
    };
    match operator {
        Some(('#', hash)) => query_operations(&rest[1..], hash),
        Some((symbol @ ('>' | '<'), span)) => {
            let (name, after) = name(&rest[1..], NameKind::Query, span, errors)?;
            let Some(value) = optional_value(after, &name)? else {
                return Err(Error::spanning(
                    span,
                    name.end,
                    format!(
                        "`?{symbol}{0}` compares `{0}` with a value: write `?{symbol}{0} = \"…\"`",
                        name.text
                    ),
                ));
            };
            Ok(if symbol == '>' {
                Word::QueryGreater(name, value)
            } else {
                Word::QueryLess(name, value)
            })
        }
        Some(('-', span)) => {
            let (name, after) = name(&rest[1..], NameKind::Query, span, errors)?;
            if let Some(extra) = after.first() {
                return Err(Error::new(
                    extra.span(),
                    format!(
                        "`?-{0}` matches items without a `{0}` property and takes no value: \
                         remove what follows, or write `?{0} = …` to compare",
                        name.text
                    ),
                ));
            }
            Ok(Word::QueryAbsent(name))
        }
        _ => {
            if rest.is_empty() {
                return Err(Error::new(
                    question,
                    "expected a property name after `?`, e.g. `?type = \"ether\"` or `?disabled`",
                ));
            }
            let (name, after) = name(rest, NameKind::Query, question, errors)?;
            Ok(match optional_value(after, &name)? {
                Some(value) => Word::QueryEqual(name, value),
                None => Word::QueryPresent(name),
            })
        }
    }
}

/// `?#|!`: the operations written out (`!`, `&`, `|`, `.` and integers), or as
/// one string literal, `?# "|!"`.
fn query_operations(tokens: &[TokenTree], hash: Span) -> Result<Word, Error> {
    if tokens.is_empty() {
        return Err(Error::new(
            hash,
            "`?#` needs its operations: `!` (not), `&` (and), `|` (or), `.` (copy the top \
             value) and decimal stack indexes, e.g. `?#|` or `?#1.2&`",
        ));
    }
    let mut operations = Vec::new();
    for token in tokens {
        let text = match peel(token) {
            TokenTree::Punct(p) => p.as_char().to_string(),
            TokenTree::Literal(literal) => {
                check::string_literal(&literal).unwrap_or_else(|_| literal.to_string())
            }
            TokenTree::Ident(ident) => ident.to_string(),
            TokenTree::Group(group) => match group.delimiter() {
                Delimiter::Parenthesis => "(".to_owned(),
                Delimiter::Bracket => "[".to_owned(),
                Delimiter::Brace => "{".to_owned(),
                Delimiter::None => group.to_string(),
            },
        };
        let parsed =
            check::operations(&text).map_err(|message| Error::new(token.span(), message))?;
        operations.extend(parsed);
    }
    Ok(Word::QueryOperations(operations))
}

const NAME_HELP: &str = "an identifier such as `numbers` or `mac-address`, or a string literal \
     such as \".proplist\"";

/// A name: a string literal, or an identifier with optional `-`-joined parts
/// (`mac-address`, `rx-1024-max`). Returns it and the tokens after it.
/// `before` is the token before, where a missing name is reported.
fn name<'a>(
    tokens: &'a [TokenTree],
    kind: NameKind,
    before: Span,
    errors: &mut Vec<Error>,
) -> Result<(Name, &'a [TokenTree]), Error> {
    let what = match kind {
        NameKind::Attribute => "an attribute name",
        NameKind::Query => "a query property name",
    };
    let Some(first) = tokens.first() else {
        return Err(Error::new(
            before,
            format!("expected {what} after this: {NAME_HELP}"),
        ));
    };
    let start = first.span();
    match peel(first) {
        TokenTree::Literal(literal) => {
            let text = check::string_literal(&literal).map_err(|found| {
                Error::new(start, format!("expected {what}: {NAME_HELP}, not {found}"))
            })?;
            if let Err(message) = check::name(&text, kind) {
                errors.push(Error::new(start, message));
            }
            let name = Name {
                text,
                start,
                end: start,
            };
            Ok((name, &tokens[1..]))
        }
        TokenTree::Ident(ident) => {
            let mut text = ident.to_string();
            if let Some(raw) = text.strip_prefix("r#") {
                text = raw.to_owned();
            }
            let mut end = start;
            let mut rest = &tokens[1..];
            while is_punct(rest.first(), '-') {
                let dash = rest[0].span();
                match rest.get(1).map(peel) {
                    Some(TokenTree::Ident(part)) => text.push_str(&format!("-{part}")),
                    Some(TokenTree::Literal(part)) if is_name_part(&part) => {
                        text.push_str(&format!("-{part}"));
                    }
                    _ => {
                        return Err(Error::new(
                            dash,
                            format!(
                                "a `-` in a name must be followed by the rest of the name, \
                                 e.g. `mac-address`; for other names use a string literal: \
                                 \"{text}-…\""
                            ),
                        ));
                    }
                }
                end = rest[1].span();
                rest = &rest[2..];
            }
            Ok((Name { text, start, end }, rest))
        }
        _ => Err(Error::new(start, format!("expected {what}: {NAME_HELP}"))),
    }
}

/// A number-like literal in a dashed name, such as the `1024` of `rx-1024-max`.
fn is_name_part(literal: &Literal) -> bool {
    let text = literal.to_string();
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// After a name: nothing (`None`), or `=` and a value expression.
fn optional_value(tokens: &[TokenTree], name: &Name) -> Result<Option<Value>, Error> {
    let Some(first) = tokens.first() else {
        return Ok(None);
    };
    let equals = match peel(first) {
        TokenTree::Punct(p) if p.as_char() == '=' => p,
        _ => {
            return Err(Error::new(
                first.span(),
                format!(
                    "expected `=` or `,` after `{}`: write `{0} = value`, or `{0}` alone for \
                     a word with no value",
                    name.text
                ),
            ));
        }
    };
    let value = &tokens[1..];
    if equals.spacing() == Spacing::Joint
        && (is_punct(value.first(), '=') || is_punct(value.first(), '>'))
    {
        return Err(Error::spanning(
            equals.span(),
            value[0].span(),
            "write a single `=` between the name and its value",
        ));
    }
    let Some(value_first) = value.first() else {
        return Err(Error::new(
            equals.span(),
            format!(
                "expected a value after `=`: any expression giving a string, e.g. \
                 `{} = \"…\"`; for a word with no value write the name alone",
                name.text
            ),
        ));
    };
    if let Some(semicolon) = value.iter().find(|t| is_punct(Some(t), ';')) {
        return Err(Error::new(
            semicolon.span(),
            "unexpected `;` in a value: separate the words with `,`",
        ));
    }
    Ok(Some(Value {
        tokens: value.iter().cloned().collect(),
        span: value_first.span(),
        constant: constant(value),
    }))
}
