//! Tests of `mikrotik_rs::command!`, kept out of the main crate so that its dev-dependencies
//! (trybuild) build only here.
//!
//! - `tests/expand.rs`: each accepted form gives the builder's bytes (tag aside).
//! - `tests/ui.rs`: trybuild compile tests, `tests/ui/pass` and `tests/ui/fail` (with the
//!   expected compiler messages); regenerate with `TRYBUILD=overwrite`.
//! - The macro's documentation, included below, runs here as doctests.
//!
//! ---
//!
#![doc = include_str!("../../../src/command.md")]
