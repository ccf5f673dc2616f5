//! The `command!` macro of mikrotik-rs (placeholder until the macro lands).
use proc_macro::TokenStream;
/// Placeholder.
#[proc_macro]
pub fn command(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
