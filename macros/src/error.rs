//! Compile errors: a message and the tokens it points at, turned into `compile_error!`.

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// One compile error, spanning from `start` to `end` (often the same token).
pub(crate) struct Error {
    start: Span,
    end: Span,
    message: String,
}

impl Error {
    /// An error pointing at one token.
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Self {
        Self::spanning(span, span, message)
    }

    /// An error pointing at the tokens from `start` to `end`.
    pub(crate) fn spanning(start: Span, end: Span, message: impl Into<String>) -> Self {
        Self {
            start,
            end,
            message: message.into(),
        }
    }

    /// `::core::compile_error!("message")`. The path and `!` carry the start span and
    /// the parenthesized message the end span, so rustc underlines the whole range.
    fn to_tokens(&self) -> TokenStream {
        let mut message = Literal::string(&self.message);
        message.set_span(self.end);
        let mut args = Group::new(
            Delimiter::Parenthesis,
            TokenStream::from(TokenTree::from(message)),
        );
        args.set_span(self.end);
        let mut tokens = Vec::with_capacity(8);
        for name in ["core", "compile_error"] {
            for spacing in [Spacing::Joint, Spacing::Alone] {
                let mut colon = Punct::new(':', spacing);
                colon.set_span(self.start);
                tokens.push(TokenTree::from(colon));
            }
            tokens.push(TokenTree::from(Ident::new(name, self.start)));
        }
        let mut bang = Punct::new('!', Spacing::Alone);
        bang.set_span(self.start);
        tokens.push(TokenTree::from(bang));
        tokens.push(TokenTree::from(args));
        tokens.into_iter().collect()
    }
}

/// The expansion for one or more errors: each becomes a `compile_error!`, inside a
/// block so that the macro call stays a single expression.
pub(crate) fn to_compile_errors(errors: &[Error]) -> TokenStream {
    match errors {
        [single] => single.to_tokens(),
        many => {
            let mut body = TokenStream::new();
            for error in many {
                body.extend(error.to_tokens());
                body.extend([TokenTree::from(Punct::new(';', Spacing::Alone))]);
            }
            TokenStream::from(TokenTree::from(Group::new(Delimiter::Brace, body)))
        }
    }
}
