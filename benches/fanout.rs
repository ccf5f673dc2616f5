//! 10,000 commands (`/system/identity/print`) issued at once, each from its
//! own task, over one connection to the MockRouter on 127.0.0.1: commands/s
//! from the first send to the last `!done`, on Tokio and on smol (async-io),
//! beside `mikrotik-rs` 0.6.1 (Tokio only).
//!
//! `cargo bench --bench fanout` (add `-- --quick`, or set `CI`, for a smoke run).
//! `BENCH_ONLY=tokio` (or `smol`, `legacy`, comma-separated) runs only those.
//!
//! Tokio runs a two-worker multi-thread runtime (the `#[tokio::main]`
//! default on this machine); smol spawns the tasks on `smol::spawn` and the
//! connection runs on the crate's background executor. The mock runs in a
//! child process; contenders alternate round by round; medians.

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
    let rounds = if quick { 2 } else { 5 };
    let mock = MockChild::start(0);

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Contenders {
        on_tokio,
        on_smol,
        old,
    } = Contenders::connect(&tokio, &mock.address);

    let per_s = |start: Instant| commands as f64 / start.elapsed().as_secs_f64();
    let (mut t_tokio, mut t_smol, mut t_old) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        if wanted("tokio") {
            let start = Instant::now();
            tokio.block_on(async {
                let tasks: Vec<_> = (0..commands)
                    .map(|_| tokio::spawn(one(on_tokio.clone())))
                    .collect();
                for task in tasks {
                    assert_eq!(task.await.unwrap(), 1);
                }
            });
            t_tokio.push(per_s(start));
        }
        if wanted("smol") {
            let start = Instant::now();
            smol::block_on(async {
                let tasks: Vec<_> = (0..commands)
                    .map(|_| smol::spawn(one(on_smol.clone())))
                    .collect();
                for task in tasks {
                    assert_eq!(task.await, 1);
                }
            });
            t_smol.push(per_s(start));
        }
        if wanted("legacy") {
            let start = Instant::now();
            tokio.block_on(async {
                let tasks: Vec<_> = (0..commands)
                    .map(|_| tokio::spawn(one_legacy(old.clone())))
                    .collect();
                for task in tasks {
                    assert_eq!(task.await.unwrap(), 1);
                }
            });
            t_old.push(per_s(start));
        }
    }
    let (tokio_r, smol_r, old_r) = (median(t_tokio), median(t_smol), median(t_old));
    println!(
        "fanout: {commands} concurrent {SHORT_PATH} on one connection, medians of {rounds} alternating rounds"
    );
    report("mikrotik-rs tokio", tokio_r, "commands/s");
    report("mikrotik-rs smol", smol_r, "commands/s");
    report("mikrotik-rs 0.6.1 tokio", old_r, "commands/s");
    println!("ratio tokio / 0.6.1: {:.2} (target >= 2)", tokio_r / old_r);
    println!("ratio smol / 0.6.1: {:.2} (target >= 2)", smol_r / old_r);
    drop(mock);
}
