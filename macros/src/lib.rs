//! The `command!` macro of mikrotik-rs: RouterOS API commands checked at compile time.
//!
//! Use it through `mikrotik_rs::command!`, a `macro_rules!` wrapper that passes
//! `$crate` in (`$crate; PATH, WORDS…`), so the expansion names the crate however the
//! user's Cargo.toml renames it; called without that prefix, it names `::mikrotik_rs`.
//! The macro works on plain `proc_macro` token trees (no `syn` or `quote`), which keeps
//! its own build time near zero. Paths and argument names are checked against the
//! RouterOS command tree of `mikrotik-rs-schema` (see `schema_check`).

mod check;
mod error;
mod expand;
mod parse;
mod schema_check;

use proc_macro::TokenStream;

/// Builds a RouterOS API command whose path and names are checked at compile time.
///
/// The implementation of `mikrotik_rs::command!`; see its documentation there. Invoke
/// it through that wrapper, which tells it the path of the `mikrotik-rs` crate.
#[proc_macro]
pub fn command(input: TokenStream) -> TokenStream {
    let (krate, input) = parse::crate_path(input);
    match parse::invocation(input) {
        Ok(invocation) => match schema_check::errors(&invocation).as_slice() {
            [] => expand::expand(&invocation, krate),
            errors => error::to_compile_errors(errors),
        },
        Err(errors) => error::to_compile_errors(&errors),
    }
}
