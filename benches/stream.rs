//! One command streaming 200,000 `!re` rows (10 attributes × 16-byte values)
//! from the MockRouter on 127.0.0.1, consumed to `!done` as parsed
//! `CommandResponse`s: replies/s in each configuration users run (Tokio
//! multi-thread as `#[tokio::main]` builds it, Tokio current-thread, smol with
//! the crate's background executor, smol with the connection on the caller's
//! executor), beside a bare socket that only walks the length prefixes of the
//! same bytes, and beside `mikrotik-rs` 0.6.1 on Tokio multi-thread.
//!
//! `cargo bench --bench stream` (add `-- --quick`, or set `CI`, for a smoke run).
//! `BENCH_ONLY=tokio-multi` (or `bare`, `legacy`, `tokio`, `smol`, any
//! configuration's name, comma-separated) runs only those.
//!
//! The mock runs in a child process. The contenders run alternately, round
//! after round, against the same mock (the order of ours turns each round),
//! and each figure is the median of its rounds, so the noise of a shared
//! machine hits them alike.

mod common;

use std::time::Instant;

use common::*;

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let rows = size("BENCH_UNITS", if quick { 5_000 } else { 200_000 });
    let rounds = size("BENCH_ROUNDS", if quick { 2 } else { 9 });
    // 0.6.1 is 10-25× slower: fewer rounds of it keep the run short.
    let legacy_rounds = if quick { 1 } else { 3 };
    let mock = MockChild::start(rows);

    let contenders = Contenders::connect(&mock.address);
    let mut bare = wanted("bare").then(|| BareClient::connect(&mock.address));
    let bare_command = BareClient::command(&[STREAM_PATH, ".tag=b"]);
    let per_s = |start: Instant| rows as f64 / start.elapsed().as_secs_f64();

    let mut standings = Standings::default();
    for round in 0..rounds {
        if let Some(bare) = &mut bare {
            let start = Instant::now();
            bare.send(&bare_command);
            assert_eq!(bare.until_done(), rows + 1);
            standings.bare(per_s(start));
        }
        for (runner, device) in contenders.ours_in_turn(round) {
            let start = Instant::now();
            assert_eq!(runner.block_on(count_rows(device, STREAM_PATH)), rows);
            standings.config(runner.config(), per_s(start));
        }
        if let Some((runner, old)) = contenders.legacy.as_ref().filter(|_| round < legacy_rounds) {
            let start = Instant::now();
            assert_eq!(runner.block_on(legacy_count_rows(old, STREAM_PATH)), rows);
            standings.legacy(per_s(start));
        }
    }
    println!(
        "stream: {rows} rows of 10 × 16-byte attributes, medians of {rounds} alternating rounds \
         ({legacy_rounds} for 0.6.1)"
    );
    standings.print(
        "bare socket (prefix walk)",
        "replies/s",
        |config, versus| match (config, versus) {
            (_, Versus::CurrentThread) => Some(0.8),
            (Config::TokioCurrent, Versus::Bare) => Some(0.7),
            (Config::TokioMulti, Versus::Legacy) => Some(20.0),
            _ => None,
        },
    );
    drop(mock);
}
