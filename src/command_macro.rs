//! `command!`: the `macro_rules!` front of the proc macro in `mikrotik-rs-macros`.
//!
//! A proc macro cannot name the crate that re-exports it, and `::mikrotik_rs` breaks
//! when a user renames the dependency (`mikrotik = { package = "mikrotik-rs" }`).
//! `$crate` always names this crate, so the wrapper hands it to the proc macro first.

#[doc(hidden)]
pub use mikrotik_rs_macros::command as __command;

// The text lives in command.md so the test crate `macros/ui` runs its examples as
// doctests; here it is left out of doctest collection, so they run once.
#[cfg_attr(not(doctest), doc = include_str!("command.md"))]
#[macro_export]
macro_rules! command {
    ($($words:tt)*) => {
        $crate::__command!($crate; $($words)*)
    };
}
