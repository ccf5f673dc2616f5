//! 20,000 sequential short commands (`/system/identity/print`: one `!re`, then
//! `!done`), each awaited before the next is sent: commands/s on Tokio and on
//! smol (async-io), beside a bare-socket request/response loop (write the
//! sentence, walk the reply's length prefixes to `!done`) and beside
//! `mikrotik-rs` 0.6.1 (Tokio only), against the MockRouter on 127.0.0.1.
//!
//! `cargo bench --bench roundtrip` (add `-- --quick`, or set `CI`, for a smoke run).
//! `BENCH_ONLY=tokio` (or `bare`, `smol`, `legacy`, comma-separated) runs only those.
//!
//! The mock runs in a child process; contenders alternate round by round and
//! each figure is the median of its rounds.

mod common;

use std::time::Instant;

use common::*;
use mikrotik_rs::MikrotikDevice;

async fn ours(device: &MikrotikDevice, commands: usize) {
    for _ in 0..commands {
        count_rows(device, SHORT_PATH).await;
    }
}

async fn legacy(device: &mikrotik_rs_061::MikrotikDevice, commands: usize) {
    for _ in 0..commands {
        legacy_count_rows(device, SHORT_PATH).await;
    }
}

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let commands = if quick { 500 } else { 20_000 };
    let rounds = if quick { 2 } else { 5 };
    let mock = MockChild::start(0);

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
    let bare_command = BareClient::command(&[SHORT_PATH, ".tag=b"]);

    let per_s = |start: Instant| commands as f64 / start.elapsed().as_secs_f64();
    let (mut t_bare, mut t_tokio, mut t_smol, mut t_old) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        if wanted("bare") {
            let start = Instant::now();
            for _ in 0..commands {
                bare.send(&bare_command);
                assert_eq!(bare.until_done(), 2);
            }
            t_bare.push(per_s(start));
        }
        if wanted("tokio") {
            let start = Instant::now();
            tokio.block_on(ours(&on_tokio, commands));
            t_tokio.push(per_s(start));
        }
        if wanted("smol") {
            let start = Instant::now();
            smol::block_on(ours(&on_smol, commands));
            t_smol.push(per_s(start));
        }
        if wanted("legacy") {
            let start = Instant::now();
            tokio.block_on(legacy(&old, commands));
            t_old.push(per_s(start));
        }
    }
    let standings = Standings::new(t_bare, t_tokio, t_smol, t_old);
    println!(
        "roundtrip: {commands} sequential {SHORT_PATH}, medians of {rounds} alternating rounds"
    );
    standings.print("bare socket loop", "commands/s", 0.85, None);
    drop(mock);
}
