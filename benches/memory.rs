//! Resident memory of the client: per idle logged-in connection (1,000 open
//! to the MockRouter on 127.0.0.1) and per in-flight command (10,000 open
//! `/interface/listen` on one connection, no replies buffered), on Tokio and
//! on smol (async-io).
//!
//! `cargo bench --bench memory` (add `-- --quick`, or set `CI`, for a smoke run).
//!
//! The mock runs in one child process, and each runtime is measured in a
//! fresh child process of its own, so neither the mock's sessions nor the
//! other runtime's leftovers count. RSS comes from /proc/self/statm, read
//! after a warm-up connection (runtime threads, lazy statics) and again after
//! opening the connections or commands; the difference is divided by their
//! number. What is counted: everything the client process holds (the
//! actor, its buffers, channels, the handle, the runtime's per-socket state,
//! allocator overhead); what is not: kernel socket buffers.

mod common;

use std::time::Duration;

use common::*;
use mikrotik_rs::protocol::command::CommandBuilder;

fn child(rt: Rt, address: &str, connections: usize, listens: usize) {
    rt.block_on(async {
        // Warm-up: runtime threads, executor, one connection's worth of lazy state.
        let warm = connect_many(address, 8, 8).await;
        for device in &warm {
            identity(device).await;
        }
        sleep(Duration::from_millis(200)).await;

        let before = rss_bytes();
        let devices = connect_many(address, connections, 64).await;
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
    if let Some(rt) = arg("--measure") {
        let address = arg("--addr").expect("--addr");
        child(Rt::parse(&rt), &address, connections, listens);
        return;
    }
    let mock = MockChild::start(0);
    println!(
        "memory: RSS of the client per idle logged-in connection ({connections} open) \
         and per in-flight command ({listens} open listens on one connection)"
    );
    for rt in [Rt::Tokio, Rt::Smol] {
        if !wanted(rt.name()) {
            continue;
        }
        let mut args = vec!["--measure", rt.name(), "--addr", mock.address.as_str()];
        if quick {
            args.push("--quick");
        }
        let lines = measure_in_child(&args);
        let idle = value(&lines, "idle_per_connection");
        let command = value(&lines, "per_in_flight_command");
        println!(
            "{:>8}: {idle:>8.0} bytes per idle connection (target <= 32768), \
             {command:>6.0} bytes per in-flight command (target <= 1024)",
            rt.name()
        );
    }
    drop(mock);
}
