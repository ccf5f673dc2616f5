//! Resident memory of the client: per idle logged-in connection (1,000 open
//! to the MockRouter on 127.0.0.1) and per in-flight command (10,000 open
//! `/interface/listen` on one connection, no replies buffered), in each
//! configuration users run: Tokio multi-thread as `#[tokio::main]` builds it,
//! Tokio current-thread, smol with the crate's background executor, smol with
//! the connections on the caller's executor.
//!
//! `cargo bench --bench memory` (add `-- --quick`, or set `CI`, for a smoke run).
//!
//! The mock runs in one child process, and each configuration is measured in
//! a fresh child process of its own, so neither the mock's sessions nor
//! another configuration's leftovers count. RSS comes from /proc/self/statm, read
//! after a warm-up connection (runtime threads, lazy statics) and again after
//! opening the connections or commands; the difference is divided by their
//! number. What is counted: everything the client process holds (the
//! actor, its buffers, channels, the handle, the runtime's per-socket state,
//! allocator overhead); what is not: kernel socket buffers.

mod common;

use std::time::Duration;

use common::*;
use mikrotik_rs::protocol::command::CommandBuilder;

fn child(runner: &Runner, address: &str, connections: usize, listens: usize) {
    runner.block_on(async {
        // Warm-up: runtime threads, executor, one connection's worth of lazy state.
        let warm = runner.connect_many(address, 8, 8).await;
        for device in &warm {
            identity(device).await;
        }
        sleep(Duration::from_millis(200)).await;

        let before = rss_bytes();
        let devices = runner.connect_many(address, connections, 64).await;
        sleep(Duration::from_millis(300)).await;
        let after = rss_bytes();
        println!(
            "idle_per_connection {}",
            (after - before) as f64 / connections as f64
        );

        let device = &warm[0];
        let before = rss_bytes();
        let mut streams = Vec::with_capacity(listens);
        for _ in 0..listens {
            let command = CommandBuilder::new().command("/interface/listen").build();
            streams.push(device.send_command(command).await.expect("listen"));
        }
        while device.in_flight() < listens {
            sleep(Duration::from_millis(10)).await;
        }
        sleep(Duration::from_millis(300)).await;
        let after = rss_bytes();
        assert!(
            streams.iter().all(|s| s.unread() == 0),
            "no replies are buffered"
        );
        println!(
            "per_in_flight_command {}",
            (after - before) as f64 / listens as f64
        );
        drop(devices);
    });
}

fn main() {
    run_mock_child_if_asked();
    let quick = quick();
    let (connections, listens) = if quick { (50, 500) } else { (1_000, 10_000) };
    if let Some(config) = arg("--measure") {
        let address = arg("--addr").expect("--addr");
        child(
            &Runner::new(Config::parse(&config)),
            &address,
            connections,
            listens,
        );
        return;
    }
    let mock = MockChild::start(0);
    println!(
        "memory: RSS of the client per idle logged-in connection ({connections} open) \
         and per in-flight command ({listens} open listens on one connection)"
    );
    for config in Config::ALL {
        if !config.wanted() {
            continue;
        }
        let mut args = vec!["--measure", config.name(), "--addr", mock.address.as_str()];
        if quick {
            args.push("--quick");
        }
        let lines = measure_in_child(&args);
        let idle = value(&lines, "idle_per_connection");
        let command = value(&lines, "per_in_flight_command");
        println!(
            "{:>26}: {idle:>8.0} bytes per idle connection (target <= 12288), \
             {command:>6.0} bytes per in-flight command (target <= 1024)",
            config.label()
        );
    }
    drop(mock);
}
