//! Desired state against the MockRouter in a child process: apply 10,000
//! address-list entries to an empty list, then a plan that changes 1 % of
//! them, then a no-op plan: time and commands sent for each, beside a loop
//! that adds the same entries one at a time with `collect` (each waiting for
//! its answer). The ratio is the loop's time over the apply's (target ≥ 20×);
//! the no-op plan must send only its read.
//!
//! Measured in the configurations users run: Tokio multi-thread (as
//! `#[tokio::main]` builds it) and smol (`block_on`, the connection on the
//! crate's background executor). `BENCH_ONLY=tokio-multi` or
//! `smol-background` picks one.
//!
//! The loop's time is round trips on loopback, so it moves with how quickly
//! an idle core wakes; run on a quiet machine, and read the ratio beside the
//! apply's own time and the floor (the same adds all in flight, no plan).
//!
//! `cargo bench --bench desired` (add `-- --quick`, or set `CI`, for a smoke
//! run of 500 entries; `BENCH_UNITS=N` sets the number of entries).

mod common;

use std::time::Instant;

use common::{Config, MockChild, Runner, quick, report};
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::desired::{ApplyOptions, Desired, Managed};
use mikrotik_rs::protocol::command::{Command, CommandBuilder};

const LIST: &str = "/ip/firewall/address-list";

fn address(n: usize) -> String {
    format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255)
}

/// The desired list: `entries` addresses, every `changed_every`-th with a new comment.
fn desired(entries: usize, changed_every: Option<usize>) -> Desired {
    let mut desired =
        Desired::new(LIST, ["list", "address"]).managed(Managed::all().equal("list", "bench"));
    for n in 0..entries {
        let comment = match changed_every {
            Some(every) if n % every == 0 => "changed",
            _ => "first",
        };
        desired.push([
            ("list", "bench"),
            ("address", &address(n)),
            ("comment", comment),
        ]);
    }
    desired
}

/// The add the loop and the floor send for entry `n`.
fn add(n: usize) -> Command {
    CommandBuilder::new()
        .command(&format!("{LIST}/add"))
        .attribute("list", Some("bench"))
        .attribute("address", Some(&address(n)))
        .attribute("comment", Some("first"))
        .build()
}

/// Runs `step` and returns (seconds, commands the device sent, its value).
async fn measured<T>(
    device: &MikrotikDevice,
    step: impl std::future::Future<Output = T>,
) -> (f64, u64, T) {
    let before = device.snapshot().commands_started;
    let start = Instant::now();
    let value = step.await;
    let seconds = start.elapsed().as_secs_f64();
    (seconds, device.snapshot().commands_started - before, value)
}

/// A fresh mock (an empty address list) and a device logged in to it.
async fn fresh(runner: &Runner) -> (MockChild, MikrotikDevice) {
    let mock = MockChild::plain();
    let device = runner.connect(&mock.address).await;
    (mock, device)
}

/// Every measurement in one configuration; returns the loop's time over the apply's.
async fn measure(runner: &Runner, entries: usize) -> f64 {
    let (mock, device) = fresh(runner).await;
    let full = desired(entries, None);
    let (apply_s, apply_commands, applied) = measured(&device, async {
        let plan = full.plan(&device).await.expect("plan");
        plan.apply(&device, ApplyOptions::default())
            .await
            .expect("apply")
    })
    .await;
    assert_eq!(applied.applied(), entries);
    assert_eq!(applied.converged(), Some(true), "{:?}", applied.remaining);
    report("apply all (plan, apply, verify)", apply_s * 1e3, "ms");
    report("  commands sent", apply_commands as f64, "");

    let one_percent = desired(entries, Some(100));
    let (change_s, change_commands, changed) = measured(&device, async {
        let plan = one_percent.plan(&device).await.expect("plan");
        assert_eq!(plan.sets.len(), entries.div_ceil(100));
        plan.apply(&device, ApplyOptions::default())
            .await
            .expect("apply")
    })
    .await;
    assert_eq!(changed.converged(), Some(true));
    report("change 1 % (plan, apply, verify)", change_s * 1e3, "ms");
    report("  commands sent", change_commands as f64, "");

    let (noop_s, noop_commands, plan) = measured(&device, async {
        one_percent.plan(&device).await.expect("plan")
    })
    .await;
    assert!(plan.is_empty());
    assert_eq!(noop_commands, 1, "a no-op plan sends only its read");
    report("no-op plan", noop_s * 1e3, "ms");
    report("  commands sent", noop_commands as f64, "");
    drop((device, mock));

    // The loop users write: one add at a time, each awaited.
    let (mock, device) = fresh(runner).await;
    let (loop_s, loop_commands, ()) = measured(&device, async {
        for n in 0..entries {
            device.collect(add(n)).await.expect("add");
        }
    })
    .await;
    report("one add at a time with collect", loop_s * 1e3, "ms");
    report("  commands sent", loop_commands as f64, "");
    drop((device, mock));

    // The floor: the same adds all in flight at once, no plan, no reads.
    let (mock, device) = fresh(runner).await;
    let (floor_s, _, ()) = measured(&device, async {
        futures_util::future::try_join_all((0..entries).map(|n| device.collect(add(n))))
            .await
            .expect("adds");
    })
    .await;
    report("all adds in flight, no plan (floor)", floor_s * 1e3, "ms");
    drop((device, mock));

    // Where an apply's time goes: the plan, the apply without its verifying
    // read (its precondition read and the writes), the verify.
    let (mock, device) = fresh(runner).await;
    let (plan_s, _, plan) =
        measured(&device, async { full.plan(&device).await.expect("plan") }).await;
    let (write_s, _, _) = measured(&device, async {
        plan.apply(&device, ApplyOptions::default().verify(false))
            .await
            .expect("apply")
    })
    .await;
    let (verify_s, _, after) =
        measured(&device, async { full.plan(&device).await.expect("plan") }).await;
    assert!(after.is_empty());
    report("  of which: plan (empty list)", plan_s * 1e3, "ms");
    report("  precondition read and writes", write_s * 1e3, "ms");
    report("  verifying read and plan", verify_s * 1e3, "ms");
    drop((device, mock));
    let ratio = loop_s / apply_s;
    println!("{:>40}: {ratio:>12.1}× (target ≥ 20×)", "apply vs the loop");
    ratio
}

fn main() {
    common::run_mock_child_if_asked();
    let entries = common::size("BENCH_UNITS", if quick() { 500 } else { 10_000 });
    println!("desired state: {entries} address-list entries, the mock in a child process");
    let mut ratios = Vec::new();
    for config in [Config::TokioMulti, Config::SmolBackground] {
        if !config.wanted() {
            continue;
        }
        println!("== {}", config.label());
        let runner = Runner::new(config);
        ratios.push((config.label(), runner.block_on(measure(&runner, entries))));
    }
    for (label, ratio) in ratios {
        println!("{label:>40}: {ratio:>12.1}× apply vs the loop (target ≥ 20×)");
    }
}
