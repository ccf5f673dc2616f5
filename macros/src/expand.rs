//! Writes the expansion: a `CommandBuilder` chain, with the values borrowed first
//! (like `format!`, the macro never moves or consumes them).
//!
//! ```text
//! {
//!     let value0 = &(EXPR);
//!     let value0: &str = ::core::convert::AsRef::<str>::as_ref(value0);
//!     ::mikrotik_rs::protocol::command::CommandBuilder::new()
//!         .command("/path")
//!         .attribute("key", ::core::option::Option::Some(value0))
//!         .build()
//! }
//! ```
//!
//! Generated identifiers use `Span::mixed_site()`, so the bindings can neither see
//! nor shadow the caller's variables.

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

const BUILDER: &str = "::mikrotik_rs::protocol::command::CommandBuilder";
const OPERATOR: &str = "::mikrotik_rs::protocol::command::QueryOperator";

/// The expansion of a checked invocation.
pub(crate) fn expand(invocation: &Invocation) -> TokenStream {
    let site = Span::mixed_site();
    let mut lets = Tokens::new(site);
    let mut chain = Tokens::new(site);
    let mut values = 0;
    // Binds a value to a fresh name and returns that name.
    let mut bind = |value: &Value| -> Ident {
        // Located at the value, so a value that is not a string is reported there.
        let span = site.located_at(value.span);
        let name = Ident::new(&format!("value{values}"), span);
        values += 1;
        let mut at_value = Tokens::new(span);
        at_value
            .ident("let")
            .extend([TokenTree::from(name.clone())])
            .punct('=', Spacing::Alone)
            .punct('&', Spacing::Alone)
            .group(Delimiter::Parenthesis, value.tokens.clone())
            .punct(';', Spacing::Alone);
        at_value
            .ident("let")
            .extend([TokenTree::from(name.clone())])
            .punct(':', Spacing::Alone)
            .punct('&', Spacing::Alone)
            .ident("str")
            .punct('=', Spacing::Alone)
            .path("::core::convert::AsRef")
            .punct(':', Spacing::Joint)
            .punct(':', Spacing::Alone)
            .punct('<', Spacing::Alone)
            .ident("str")
            .punct('>', Spacing::Alone)
            .punct(':', Spacing::Joint)
            .punct(':', Spacing::Alone)
            .ident("as_ref");
        at_value
            .group(Delimiter::Parenthesis, TokenTree::from(name.clone()).into())
            .punct(';', Spacing::Alone);
        lets.extend(at_value.finish());
        name
    };

    chain
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
                            .group(Delimiter::Parenthesis, TokenTree::from(value).into());
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
            Word::QueryOperations(operations) => ("query_operations", operations_iter(operations)),
        };
        chain.call(method, args);
    }
    chain.call("build", TokenStream::new());

    if values == 0 {
        return chain.finish();
    }
    let mut body = lets.finish();
    body.extend(chain.finish());
    Tokens::new(site).group(Delimiter::Brace, body).finish()
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
fn key_value(name: &Name, value: Ident) -> TokenStream {
    let mut tokens = key(name);
    tokens.extend([TokenTree::from(value)]);
    tokens.finish()
}

/// `::core::iter::IntoIterator::into_iter([QueryOperator::Or, …])`: by value in
/// every edition, unlike `[…].into_iter()` in editions before 2021.
fn operations_iter(operations: &[Operation]) -> TokenStream {
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
        array.path(&format!("{OPERATOR}::{variant}"));
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
