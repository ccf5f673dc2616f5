//! Compile tests of `command!` with trybuild: the seed's examples compile, and each
//! invalid form fails with the message in its `.stderr` file.
//!
//! After changing a message, regenerate the files with
//! `TRYBUILD=overwrite cargo test -p mikrotik-rs-macro-tests --test ui` and review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
