//! Tests of mikrotik-rs as a dependency of another crate, in `tests/`: the dependency
//! is renamed to `mikrotik`, and only the default features are on (when this package is
//! tested alone: `cargo test -p mikrotik-rs-downstream`, as `.ci/run` does).
