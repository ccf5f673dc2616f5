//! 10,000 logged-in connections in one client process, each answering a
//! command (`/system/identity/print`), against one MockRouter on 127.0.0.1
//! with 10,000 sessions: time to connect and log them all in, time for all of
//! them to answer one command at once, and the client's RSS, on Tokio and on
//! smol (async-io).
//!
//! `cargo bench --bench scale` (add `-- --quick`, or set `CI`, for a smoke run).
//!
//! The mock runs in a child process (its own descriptor limit and memory);
//! each runtime is measured in a fresh child process. At most 256 connects
//! are in flight at once (the mock's accept backlog is 4,096). Needs a
//! descriptor limit above 10,000 (`ulimit -n`).

mod common;

use std::time::{Duration, Instant};

use common::*;

fn child(rt: Rt, address: &str, connections: usize) {
    rt.block_on(async {
        let warm = connect_many(address, 8, 8).await;
        identity(&warm[0]).await;
        sleep(Duration::from_millis(100)).await;
        let before = rss_bytes();
        let start = Instant::now();
        let devices = connect_many(address, connections, 256).await;
        let connect = start.elapsed();
        let start = Instant::now();
        futures_util::future::join_all(devices.iter().map(identity)).await;
        let answer = start.elapsed();
        let after = rss_bytes();
        println!("connect_s {}", connect.as_secs_f64());
        println!("answer_s {}", answer.as_secs_f64());
        println!("rss_bytes {}", after - before);
        drop(devices);
    });
}

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let connections = if quick { 200 } else { 10_000 };
    if let Some(rt) = arg("--measure") {
        let address = arg("--addr").expect("--addr");
        child(Rt::parse(&rt), &address, connections);
        return;
    }
    let mock = MockChild::start(0);
    println!("scale: {connections} logged-in connections in one process, each answering a command");
    for rt in [Rt::Tokio, Rt::Smol] {
        if !wanted(rt.name()) {
            continue;
        }
        let mut args = vec!["--measure", rt.name(), "--addr", mock.address.as_str()];
        if quick {
            args.push("--quick");
        }
        let lines = measure_in_child(&args);
        let connect = value(&lines, "connect_s");
        let answer = value(&lines, "answer_s");
        let rss = value(&lines, "rss_bytes");
        println!(
            "{:>8}: connect+login all {connect:.2} s ({:.0} connections/s), \
             all answer one command {answer:.3} s, client RSS +{:.1} MiB ({:.0} bytes per connection)",
            rt.name(),
            connections as f64 / connect,
            rss / (1 << 20) as f64,
            rss / connections as f64
        );
    }
    drop(mock);
}
