//! Replays every committed fuzz input (`fuzz/corpus/<target>/*`) through the
//! same check the fuzz target runs (`mikrotik_rs_protocol::fuzz`), so the
//! corpus guards against regressions in the ordinary test suite.
#![cfg(feature = "__fuzz")]

use std::path::Path;

use mikrotik_rs_protocol::fuzz;

fn replay(target: &str, check: fn(&[u8])) {
    fuzz::replay_corpus(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        target,
        check,
    );
}

#[test]
fn decoder_corpus() {
    replay("decoder", fuzz::check_decoder);
}

#[test]
fn reply_corpus() {
    replay("reply", fuzz::check_reply);
}
