//! Replays every committed fuzz input (`fuzz/corpus/<target>/*`) through the
//! same check the fuzz target runs (`mikrotik_rs::testing::fuzz`), so the
//! corpus guards against regressions in the ordinary test suite. (The
//! decoder and reply targets moved with the protocol core: their corpus is
//! replayed by `protocol/tests/fuzz_corpus.rs`.)
#![cfg(feature = "__fuzz")]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mikrotik_rs::testing::fuzz;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

/// Runs `check` on every input of `target`, naming the input that fails.
/// The checks are synchronous and bounded by construction (the connection
/// check counts its polls); the time limit guards the suite anyway.
fn replay(target: &str, check: fn(&[u8])) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "the {target} corpus is committed");
    let start = Instant::now();
    for (path, bytes) in &inputs {
        let result = std::panic::catch_unwind(|| check(bytes));
        assert!(
            result.is_ok(),
            "{target}: {} fails its check",
            path.display()
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{target}: {} inputs took {:?}",
        inputs.len(),
        start.elapsed()
    );
    println!("{target}: {} inputs in {:?}", inputs.len(), start.elapsed());
}

#[test]
fn connection_corpus() {
    replay("connection", fuzz::check_connection);
}
