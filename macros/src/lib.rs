//! The `command!` macro of mikrotik-rs: RouterOS API commands checked at compile time.
//!
//! Use it through its re-export, `mikrotik_rs::command!`; its expansion names
//! `::mikrotik_rs`. The macro works on plain `proc_macro` token trees (no `syn` or
//! `quote`), which keeps its own build time near zero.

mod check;
mod error;
mod expand;
mod parse;

use proc_macro::TokenStream;

/// Builds a RouterOS API command whose path and names are checked at compile time.
///
// The full text lives in command.md so the test crate `macros/ui` can run its examples
// as doctests (a proc-macro crate's doctests cannot use `mikrotik_rs`). Here it is left
// out of doctest collection only.
#[cfg_attr(not(doctest), doc = include_str!("command.md"))]
#[proc_macro]
pub fn command(input: TokenStream) -> TokenStream {
    match parse::invocation(input) {
        Ok(invocation) => expand::expand(&invocation),
        Err(errors) => error::to_compile_errors(&errors),
    }
}
