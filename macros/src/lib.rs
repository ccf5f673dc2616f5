//! The `command!` macro of mikrotik-rs (placeholder until the macro lands).
