//! 20,000 sequential short commands (`/system/identity/print`: one `!re`, then
//! `!done`), each awaited before the next is sent: commands/s in each
//! configuration users run (Tokio multi-thread as `#[tokio::main]` builds it,
//! Tokio current-thread, smol with the crate's background executor, smol with
//! the connection on the caller's executor), beside a bare-socket
//! request/response loop (write the sentence, walk the reply's length
//! prefixes to `!done`) and beside `mikrotik-rs` 0.6.1 on Tokio multi-thread,
//! against the MockRouter on 127.0.0.1.
//!
//! `cargo bench --bench roundtrip` (add `-- --quick`, or set `CI`, for a smoke run).
//! `BENCH_ONLY=tokio-multi` (or `bare`, `legacy`, `tokio`, `smol`, any
//! configuration's name, comma-separated) runs only those.
//!
//! The mock runs in a child process; contenders alternate round by round (the
//! order of ours turns each round) and each figure is the median of its rounds.

mod common;

use std::time::Instant;

use common::*;
use mikrotik_rs::MikrotikDevice;

async fn ours(device: &MikrotikDevice, commands: usize) {
    for _ in 0..commands {
        assert_eq!(count_rows(device, SHORT_PATH).await, 1);
    }
}

async fn legacy(device: &mikrotik_rs_061::MikrotikDevice, commands: usize) {
    for _ in 0..commands {
        assert_eq!(legacy_count_rows(device, SHORT_PATH).await, 1);
    }
}

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let commands = size("BENCH_UNITS", if quick { 500 } else { 20_000 });
    let rounds = size("BENCH_ROUNDS", if quick { 2 } else { 5 });
    let mock = MockChild::start(0);

    let contenders = Contenders::connect(&mock.address);
    let mut bare = wanted("bare").then(|| BareClient::connect(&mock.address));
    let bare_command = BareClient::command(&[SHORT_PATH, ".tag=b"]);

    let per_s = |start: Instant| commands as f64 / start.elapsed().as_secs_f64();
    let mut standings = Standings::default();
    for round in 0..rounds {
        if let Some(bare) = &mut bare {
            let start = Instant::now();
            for _ in 0..commands {
                bare.send(&bare_command);
                assert_eq!(bare.until_done(), 2);
            }
            standings.bare(per_s(start));
        }
        for (runner, device) in contenders.ours_in_turn(round) {
            let start = Instant::now();
            runner.block_on(ours(device, commands));
            standings.config(runner.config(), per_s(start));
        }
        if let Some((runner, old)) = &contenders.legacy {
            let start = Instant::now();
            runner.block_on(legacy(old, commands));
            standings.legacy(per_s(start));
        }
    }
    println!(
        "roundtrip: {commands} sequential {SHORT_PATH}, medians of {rounds} alternating rounds"
    );
    standings.print("bare socket loop", "commands/s", |_, versus| {
        (versus == Versus::Bare).then_some(0.9)
    });
    drop(mock);
}
