//! 10,000 commands (`/system/identity/print`) issued at once, each from its
//! own task, over one connection to the MockRouter on 127.0.0.1: commands/s
//! from the first send to the last `!done`, in each configuration users run
//! (Tokio multi-thread as `#[tokio::main]` builds it, Tokio current-thread,
//! smol with the crate's background executor, smol with the connection on the
//! caller's executor), beside `mikrotik-rs` 0.6.1 on Tokio multi-thread.
//!
//! `cargo bench --bench fanout` (add `-- --quick`, or set `CI`, for a smoke run).
//! `BENCH_ONLY=tokio-multi` (or `legacy`, `tokio`, `smol`, any
//! configuration's name, comma-separated) runs only those.
//!
//! Each configuration spawns the tasks where its users would: on the Tokio
//! runtime, on `smol::spawn` (beside the background executor), or on the
//! caller's `smol::Executor` (beside the connection). The mock runs in a
//! child process; contenders alternate round by round (the order of ours
//! turns each round); medians.

mod common;

use std::time::Instant;

use common::*;
use mikrotik_rs::MikrotikDevice;

async fn one(device: MikrotikDevice) -> usize {
    count_rows(&device, SHORT_PATH).await
}

async fn one_legacy(device: mikrotik_rs_061::MikrotikDevice) -> usize {
    legacy_count_rows(&device, SHORT_PATH).await
}

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let commands = if quick { 500 } else { 10_000 };
    let rounds = if quick { 2 } else { 11 };
    let mock = MockChild::start(0);

    let contenders = Contenders::connect(&mock.address);

    let per_s = |start: Instant| commands as f64 / start.elapsed().as_secs_f64();
    let mut standings = Standings::default();
    for round in 0..rounds {
        for (runner, device) in contenders.ours_in_turn(round) {
            let start = Instant::now();
            runner.block_on(async {
                let tasks: Vec<_> = (0..commands)
                    .map(|_| runner.spawn(one(device.clone())))
                    .collect();
                for task in tasks {
                    assert_eq!(task.await, 1);
                }
            });
            standings.config(runner.config(), per_s(start));
        }
        if let Some((runner, old)) = &contenders.legacy {
            let start = Instant::now();
            runner.block_on(async {
                let tasks: Vec<_> = (0..commands)
                    .map(|_| runner.spawn(one_legacy(old.clone())))
                    .collect();
                for task in tasks {
                    assert_eq!(task.await, 1);
                }
            });
            standings.legacy(per_s(start));
        }
    }
    println!(
        "fanout: {commands} concurrent {SHORT_PATH} on one connection, medians of {rounds} alternating rounds"
    );
    standings.print("", "commands/s", |_, versus| {
        (versus == Versus::Legacy).then_some(3.0)
    });
    drop(mock);
}
