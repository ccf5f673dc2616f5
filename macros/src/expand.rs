//! Writes the expansion: a `CommandBuilder` chain inside a `match` on the borrowed
//! values, as `format_args!` does, so temporaries in a value (`format!(…).as_str()`,
//! `&format!(…)`) live for the whole expression, and nothing is moved or consumed.
//!
//! ```text
//! match (::core::convert::AsRef::<str>::as_ref(&(EXPR)),) {
//!     (value0,) => $crate::protocol::command::CommandBuilder::new()
//!         .command("/path")
//!         .attribute("key", ::core::option::Option::Some(value0))
//!         .attribute("mtu", ::core::option::Option::Some("1500"))
//!         .build(),
//! }
//! ```
//!
//! Literal values (strings, integers, `true`/`false`) are written into the chain as
//! string literals. The crate is named by the path the caller passed (`$crate` from the
//! `mikrotik_rs::command!` wrapper). Generated identifiers use `Span::mixed_site()`, so
//! the bindings can neither see nor shadow the caller's variables.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

use crate::check::Operation;
use crate::parse::{Invocation, Name, Value, Word};

/// Token stream under construction.
struct Tokens {
    tokens: Vec<TokenTree>,
    span: Span,
}

impl Tokens {
    fn new(span: Span) -> Self {
        Self {
            tokens: Vec::new(),
            span,
        }
    }

    fn ident(&mut self, name: &str) -> &mut Self {
        self.tokens.push(Ident::new(name, self.span).into());
        self
    }

    fn punct(&mut self, c: char, spacing: Spacing) -> &mut Self {
        let mut punct = Punct::new(c, spacing);
        punct.set_span(self.span);
        self.tokens.push(punct.into());
        self
    }

    /// An absolute path such as `::core::option::Option`.
    fn path(&mut self, path: &str) -> &mut Self {
        for segment in path.split("::").skip(1) {
            self.punct(':', Spacing::Joint).punct(':', Spacing::Alone);
            self.ident(segment);
        }
        self
    }

    fn group(&mut self, delimiter: Delimiter, inner: TokenStream) -> &mut Self {
        let mut group = Group::new(delimiter, inner);
        group.set_span(self.span);
        self.tokens.push(group.into());
        self
    }

    fn string(&mut self, text: &str, span: Span) -> &mut Self {
        let mut literal = Literal::string(text);
        literal.set_span(span);
        self.tokens.push(literal.into());
        self
    }

    fn extend(&mut self, tokens: impl IntoIterator<Item = TokenTree>) -> &mut Self {
        self.tokens.extend(tokens);
        self
    }

    /// `.name(args)`.
    fn call(&mut self, name: &str, args: TokenStream) -> &mut Self {
        self.punct('.', Spacing::Alone)
            .ident(name)
            .group(Delimiter::Parenthesis, args)
    }

    fn finish(&mut self) -> TokenStream {
        std::mem::take(&mut self.tokens).into_iter().collect()
    }
}

const BUILDER: &str = "::protocol::command::CommandBuilder";
const OPERATOR: &str = "::protocol::command::QueryOperator";

/// The expansion of a checked invocation; `krate` is the path of `mikrotik-rs`.
pub(crate) fn expand(invocation: &Invocation, krate: TokenStream) -> TokenStream {
    let site = Span::mixed_site();
    // `as_ref(&(EXPR)),` per value, and the matching `valueN,` pattern.
    let mut scrutinees = Tokens::new(site);
    let mut patterns = Tokens::new(site);
    let mut chain = Tokens::new(site);
    let mut values = 0;
    // The tokens that stand for a value in the chain: its literal text, or a fresh name
    // bound by the `match`.
    let mut bind = |value: &Value| -> TokenStream {
        if let Some(text) = &value.constant {
            return Tokens::new(site).string(text, value.span).finish();
        }
        // Located at the value, so a value that is not a string is reported there.
        let span = site.located_at(value.span);
        let name = Ident::new(&format!("value{values}"), span);
        values += 1;
        let mut borrowed = Tokens::new(span);
        borrowed
            .punct('&', Spacing::Alone)
            .group(Delimiter::Parenthesis, value.tokens.clone());
        let mut at_value = Tokens::new(span);
        at_value
            .path("::core::convert::AsRef")
            .punct(':', Spacing::Joint)
            .punct(':', Spacing::Alone)
            .punct('<', Spacing::Alone)
            .ident("str")
            .punct('>', Spacing::Alone)
            .punct(':', Spacing::Joint)
            .punct(':', Spacing::Alone)
            .ident("as_ref")
            .group(Delimiter::Parenthesis, borrowed.finish())
            .punct(',', Spacing::Alone);
        scrutinees.extend(at_value.finish());
        patterns
            .extend([TokenTree::from(name.clone())])
            .punct(',', Spacing::Alone);
        TokenTree::from(name).into()
    };

    chain
        .extend(krate.clone())
        .path(BUILDER)
        .punct(':', Spacing::Joint)
        .punct(':', Spacing::Alone)
        .ident("new")
        .group(Delimiter::Parenthesis, TokenStream::new());
    let path = Tokens::new(site)
        .string(&invocation.path, invocation.path_span)
        .finish();
    chain.call("command", path);

    for word in &invocation.words {
        let (method, args) = match word {
            Word::Attribute(name, value) => {
                let mut args = key(name);
                match value {
                    Some(value) => {
                        let value = bind(value);
                        args.path("::core::option::Option::Some")
                            .group(Delimiter::Parenthesis, value);
                    }
                    None => {
                        args.path("::core::option::Option::None");
                    }
                }
                ("attribute", args.finish())
            }
            Word::QueryEqual(name, value) => ("query_equal", key_value(name, bind(value))),
            Word::QueryGreater(name, value) => ("query_gt", key_value(name, bind(value))),
            Word::QueryLess(name, value) => ("query_lt", key_value(name, bind(value))),
            Word::QueryPresent(name) => ("query_is_present", without_comma(key(name))),
            Word::QueryAbsent(name) => ("query_not_present", without_comma(key(name))),
            Word::QueryOperations(operations) => {
                ("query_operations", operations_iter(operations, &krate))
            }
        };
        chain.call(method, args);
    }
    chain.call("build", TokenStream::new());

    if values == 0 {
        return chain.finish();
    }
    let mut arm = Tokens::new(site);
    arm.group(Delimiter::Parenthesis, patterns.finish())
        .punct('=', Spacing::Joint)
        .punct('>', Spacing::Alone)
        .extend(chain.finish())
        .punct(',', Spacing::Alone);
    Tokens::new(site)
        .ident("match")
        .group(Delimiter::Parenthesis, scrutinees.finish())
        .group(Delimiter::Brace, arm.finish())
        .finish()
}

/// `"name",` (the first argument of a builder method).
fn key(name: &Name) -> Tokens {
    let mut tokens = Tokens::new(Span::mixed_site());
    tokens
        .string(&name.text, name.start)
        .punct(',', Spacing::Alone);
    tokens
}

fn without_comma(mut tokens: Tokens) -> TokenStream {
    tokens.tokens.pop();
    tokens.finish()
}

/// `"name", value`.
fn key_value(name: &Name, value: TokenStream) -> TokenStream {
    let mut tokens = key(name);
    tokens.extend(value);
    tokens.finish()
}

/// `::core::iter::IntoIterator::into_iter([QueryOperator::Or, …])`: by value in
/// every edition, unlike `[…].into_iter()` in editions before 2021.
fn operations_iter(operations: &[Operation], krate: &TokenStream) -> TokenStream {
    let site = Span::mixed_site();
    let mut array = Tokens::new(site);
    for operation in operations {
        let variant = match operation {
            Operation::Not => "Not",
            Operation::And => "And",
            Operation::Or => "Or",
            Operation::Dot => "Dot",
            Operation::Index(_) => "Index",
        };
        array
            .extend(krate.clone())
            .path(&format!("{OPERATOR}::{variant}"));
        if let Operation::Index(index) = operation {
            let mut literal = Literal::usize_suffixed(*index);
            literal.set_span(site);
            array.group(Delimiter::Parenthesis, TokenTree::from(literal).into());
        }
        array.punct(',', Spacing::Alone);
    }
    let array = array.finish();
    let mut call = Tokens::new(site);
    call.path("::core::iter::IntoIterator::into_iter");
    let mut bracketed = Tokens::new(site);
    bracketed.group(Delimiter::Bracket, array);
    call.group(Delimiter::Parenthesis, bracketed.finish());
    call.finish()
}
