//! One command streaming 200,000 `!re` rows (10 attributes × 16-byte values)
//! from the MockRouter on 127.0.0.1, consumed to `!done` as parsed
//! `CommandResponse`s: replies/s on Tokio and on smol (async-io), beside a
//! bare socket that only walks the length prefixes of the same bytes, and
//! beside `mikrotik-rs` 0.6.1 (Tokio only).
//!
//! `cargo bench --bench stream` (add `-- --quick`, or set `CI`, for a smoke run).
//!
//! The mock runs in a child process. The contenders run alternately, round
//! after round, against the same mock, and each figure is the median of its
//! rounds, so the noise of a shared machine hits them alike. Tokio runs a
//! current-thread runtime (like the bare loop, one client thread); smol runs
//! the caller on the main thread and the connection on the crate's
//! background executor (its default without a spawner).

mod common;

use std::time::Instant;

use common::*;

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let rows = if quick { 5_000 } else { 200_000 };
    let rounds = if quick { 2 } else { 9 };
    // 0.6.1 is ~70× slower: fewer rounds of it keep the run short.
    let legacy_rounds = if quick { 1 } else { 3 };
    let mock = MockChild::start(rows);

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Contenders {
        on_tokio,
        on_smol,
        old,
    } = Contenders::connect(&tokio, &mock.address);
    let mut bare = BareClient::connect(&mock.address);
    let bare_command = BareClient::command(&[STREAM_PATH, ".tag=b"]);

    let (mut t_bare, mut t_tokio, mut t_smol, mut t_old) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        if wanted("bare") {
            let start = Instant::now();
            bare.send(&bare_command);
            assert_eq!(bare.until_done(), rows + 1);
            t_bare.push(rows as f64 / start.elapsed().as_secs_f64());
        }
        if wanted("tokio") {
            let start = Instant::now();
            assert_eq!(tokio.block_on(count_rows(&on_tokio, STREAM_PATH)), rows);
            t_tokio.push(rows as f64 / start.elapsed().as_secs_f64());
        }
        if wanted("smol") {
            let start = Instant::now();
            assert_eq!(smol::block_on(count_rows(&on_smol, STREAM_PATH)), rows);
            t_smol.push(rows as f64 / start.elapsed().as_secs_f64());
        }
        if round < legacy_rounds && wanted("legacy") {
            let start = Instant::now();
            assert_eq!(tokio.block_on(legacy_count_rows(&old, STREAM_PATH)), rows);
            t_old.push(rows as f64 / start.elapsed().as_secs_f64());
        }
    }
    let standings = Standings::new(t_bare, t_tokio, t_smol, t_old);
    println!(
        "stream: {rows} rows of 10 × 16-byte attributes, medians of {rounds} alternating rounds \
         ({legacy_rounds} for 0.6.1)"
    );
    standings.print("bare socket (prefix walk)", "replies/s", 0.4, Some(20.0));
    drop(mock);
}
