//! What observability costs on the hot paths: the stream (one command of
//! many rows) and the roundtrip (short commands one after another), on
//! Tokio and on smol, against an in-process MockRouter.
//!
//! One run measures one build. The comparison needs three builds, run
//! alternately so the noise of a shared machine hits them alike:
//! `bash benches/observe_cost.sh` builds them (default features; the
//! `tracing` feature with no subscriber; `MIKROTIK_BENCH_NO_COUNTERS=1`,
//! which compiles the counters without their increments), runs them in
//! turn and prints each one's figures and the ratios.
//!
//! `cargo bench --bench observe_cost` (add `-- --quick` for a smoke run).
//! Prints `observe_cost <contender> <per second>` lines, medians of the rounds.

use std::time::Instant;

use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{BufferPolicy, MikrotikDevice};

const STREAM_PATH: &str = "/ip/firewall/address-list/print";
const SHORT_PATH: &str = "/system/identity/print";

fn row() -> Vec<(String, String)> {
    (0..10)
        .map(|i| (format!("attr-{i}"), format!("{:016}", i)))
        .collect()
}

async fn stream(device: &MikrotikDevice) -> usize {
    let command = CommandBuilder::new().command(STREAM_PATH).build();
    let mut replies = device
        .send_command_with(command, BufferPolicy::Unbounded)
        .await
        .expect("send");
    let mut rows = 0;
    while let Some(reply) = replies.recv().await {
        if matches!(
            reply.expect("a reply"),
            mikrotik_rs::protocol::CommandResponse::Reply(_)
        ) {
            rows += 1;
        }
    }
    rows
}

async fn roundtrips(device: &MikrotikDevice, n: usize) {
    for _ in 0..n {
        let command = CommandBuilder::new().command(SHORT_PATH).build();
        let mut replies = device.send_command(command).await.expect("send");
        while replies.recv().await.is_some() {}
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick") || std::env::var_os("CI").is_some();
    let (rows, trips, rounds) = if quick {
        (5_000, 200, 2)
    } else {
        (100_000, 3_000, 7)
    };
    let router = MockRouter::builder()
        .script(STREAM_PATH, Script::bulk(rows, row()))
        .script(
            SHORT_PATH,
            Script::Reply(Reply::new().row([("name", "MikroTik")])),
        )
        .start();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let on_tokio = tokio
        .block_on(MikrotikDevice::connect(&router.address(), "admin", None))
        .unwrap();
    let on_smol =
        smol::block_on(MikrotikDevice::connect(&router.address(), "admin", None)).unwrap();

    let mut figures: [(&str, Vec<f64>); 4] = [
        ("stream_tokio_rows", vec![]),
        ("stream_smol_rows", vec![]),
        ("roundtrip_tokio", vec![]),
        ("roundtrip_smol", vec![]),
    ];
    for _ in 0..rounds {
        let start = Instant::now();
        assert_eq!(tokio.block_on(stream(&on_tokio)), rows);
        figures[0]
            .1
            .push(rows as f64 / start.elapsed().as_secs_f64());
        let start = Instant::now();
        assert_eq!(smol::block_on(stream(&on_smol)), rows);
        figures[1]
            .1
            .push(rows as f64 / start.elapsed().as_secs_f64());
        let start = Instant::now();
        tokio.block_on(roundtrips(&on_tokio, trips));
        figures[2]
            .1
            .push(trips as f64 / start.elapsed().as_secs_f64());
        let start = Instant::now();
        smol::block_on(roundtrips(&on_smol, trips));
        figures[3]
            .1
            .push(trips as f64 / start.elapsed().as_secs_f64());
    }
    for (name, values) in figures {
        println!("observe_cost {name} {:.0}", median(values));
    }
    // The counters counted (or, in the no-counters build, did not).
    let stats = on_tokio.snapshot();
    println!(
        "observe_cost counted_sentences {}",
        stats.sentences_received
    );
}
