//! Replays every committed fuzz input (`fuzz/corpus/<target>/*`) through the
//! same check the fuzz target runs (`mikrotik_rs::testing::fuzz`), so the
//! corpus guards against regressions in the ordinary test suite. (The
//! decoder and reply targets moved with the protocol core: their corpus is
//! replayed by `protocol/tests/fuzz_corpus.rs`.)
#![cfg(feature = "__fuzz")]

use std::path::Path;

use mikrotik_rs::testing::fuzz;

fn replay(target: &str, check: fn(&[u8])) {
    fuzz::replay_corpus(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        target,
        check,
    );
}

#[test]
fn connection_corpus() {
    replay("connection", fuzz::check_connection);
}
