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
//! Prints `observe_cost <contender> <per CPU second>` lines, medians of the
//! rounds: rows (or roundtrips) per second of CPU time that this process's
//! threads used (from /proc/self/task/*/schedstat, on Linux; wall time
//! elsewhere). The mock runs in a child process, so none of its work is
//! counted, and CPU time hardly moves when other processes load the machine.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// CPU time used so far by every thread of this process (Linux), or `None`.
fn cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// Measures `work` (of `n` units) in units per CPU second (wall second
/// where CPU time cannot be read).
fn rate(n: usize, work: impl FnOnce()) -> f64 {
    let (cpu, wall) = (cpu_time(), Instant::now());
    work();
    let spent = match (cpu, cpu_time()) {
        (Some(before), Some(after)) => after - before,
        _ => wall.elapsed(),
    };
    n as f64 / spent.as_secs_f64()
}

/// The mock in a child process (this binary, re-executed): its work never
/// counts in this process's CPU time.
fn mock_child(rows: usize) -> ! {
    let router = MockRouter::builder()
        .script(STREAM_PATH, Script::bulk(rows, row()))
        .script(
            SHORT_PATH,
            Script::Reply(Reply::new().row([("name", "MikroTik")])),
        )
        .start();
    println!("ADDR {}", router.address());
    std::io::stdout().flush().unwrap();
    // Runs until the parent closes our stdin (or dies).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(router);
    std::process::exit(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `OBSERVE_COST_WORK=stream:N` or `roundtrip:N`: one fixed piece of work on
/// the current-thread Tokio runtime and nothing else, for counting
/// instructions under callgrind (`observe_cost.sh --instructions`), where
/// two sizes of the same work subtract the start-up away.
fn fixed_work() -> Option<(String, usize)> {
    let work = std::env::var("OBSERVE_COST_WORK").ok()?;
    let (kind, n) = work.split_once(':').expect("OBSERVE_COST_WORK=kind:n");
    Some((kind.to_owned(), n.parse().expect("a count")))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick") || std::env::var_os("CI").is_some();
    let fixed = fixed_work();
    let (rows, trips, rounds) = match &fixed {
        Some((_, n)) => (*n, *n, 1),
        None if quick => (5_000, 200, 2),
        None => (100_000, 3_000, 7),
    };
    if let Some(at) = std::env::args().position(|a| a == "--mock-child") {
        let rows = std::env::args().nth(at + 1).and_then(|n| n.parse().ok());
        mock_child(rows.expect("--mock-child ROWS"));
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--mock-child".to_owned(), rows.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the mock child");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("ADDR ")
        .expect("the mock's address")
        .to_owned();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let on_tokio = tokio
        .block_on(MikrotikDevice::connect(&address, "admin", None))
        .unwrap();
    if let Some((kind, n)) = fixed {
        match kind.as_str() {
            "stream" => assert_eq!(tokio.block_on(stream(&on_tokio)), n),
            "roundtrip" => tokio.block_on(roundtrips(&on_tokio, n)),
            other => panic!("unknown work {other}"),
        }
        drop(child.stdin.take());
        let _ = child.wait();
        return;
    }
    let on_smol = smol::block_on(MikrotikDevice::connect(&address, "admin", None)).unwrap();

    let mut figures: [(&str, Vec<f64>); 4] = [
        ("stream_tokio_rows", vec![]),
        ("stream_smol_rows", vec![]),
        ("roundtrip_tokio", vec![]),
        ("roundtrip_smol", vec![]),
    ];
    for _ in 0..rounds {
        figures[0].1.push(rate(rows, || {
            assert_eq!(tokio.block_on(stream(&on_tokio)), rows)
        }));
        figures[1].1.push(rate(rows, || {
            assert_eq!(smol::block_on(stream(&on_smol)), rows)
        }));
        figures[2]
            .1
            .push(rate(trips, || tokio.block_on(roundtrips(&on_tokio, trips))));
        figures[3]
            .1
            .push(rate(trips, || smol::block_on(roundtrips(&on_smol, trips))));
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
    drop(child.stdin.take());
    let _ = child.wait();
}
