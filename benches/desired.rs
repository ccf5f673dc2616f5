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
//! run of 500 entries, once; `BENCH_UNITS=N` sets the number of entries,
//! `BENCH_RUNS=N` how many times each step runs, 3 by default: medians).

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

/// How many times each step runs (its median is reported): the loop's time
/// in particular moves from run to run with how quickly idle cores wake.
fn runs() -> usize {
    common::size("BENCH_RUNS", if quick() { 1 } else { 3 })
}

/// The median of `samples` (seconds) in milliseconds.
fn ms(samples: Vec<f64>) -> f64 {
    common::median(samples) * 1e3
}

/// Every measurement in one configuration; returns the loop's time over the apply's.
async fn measure(runner: &Runner, entries: usize) -> f64 {
    let (mut apply, mut change, mut noop) = (Vec::new(), Vec::new(), Vec::new());
    let (mut looped, mut floor) = (Vec::new(), Vec::new());
    let (mut plan_only, mut writes, mut verify) = (Vec::new(), Vec::new(), Vec::new());
    let mut sent = (0, 0, 0, 0);
    for _ in 0..runs() {
        // Built afresh each run: a `Desired` keeps what its first check found.
        let full = desired(entries, None);
        let one_percent = desired(entries, Some(100));
        let (mock, device) = fresh(runner).await;
        let (seconds, commands, applied) = measured(&device, async {
            let plan = full.plan(&device).await.expect("plan");
            plan.apply(&device, ApplyOptions::default())
                .await
                .expect("apply")
        })
        .await;
        assert_eq!(applied.applied(), entries);
        assert_eq!(applied.converged(), Some(true), "{:?}", applied.remaining);
        apply.push(seconds);
        sent.0 = commands;

        let (seconds, commands, changed) = measured(&device, async {
            let plan = one_percent.plan(&device).await.expect("plan");
            assert_eq!(plan.sets.len(), entries.div_ceil(100));
            plan.apply(&device, ApplyOptions::default())
                .await
                .expect("apply")
        })
        .await;
        assert_eq!(changed.converged(), Some(true));
        change.push(seconds);
        sent.1 = commands;

        let (seconds, commands, plan) = measured(&device, async {
            one_percent.plan(&device).await.expect("plan")
        })
        .await;
        assert!(plan.is_empty());
        assert_eq!(commands, 1, "a no-op plan sends only its read");
        noop.push(seconds);
        sent.2 = commands;
        drop((device, mock));

        // The loop users write: one add at a time, each awaited.
        let (mock, device) = fresh(runner).await;
        let (seconds, commands, ()) = measured(&device, async {
            for n in 0..entries {
                device.collect(add(n)).await.expect("add");
            }
        })
        .await;
        looped.push(seconds);
        sent.3 = commands;
        drop((device, mock));

        // The floor: the same adds all in flight at once, no plan, no reads.
        let (mock, device) = fresh(runner).await;
        let (seconds, _, ()) = measured(&device, async {
            futures_util::future::try_join_all((0..entries).map(|n| device.collect(add(n))))
                .await
                .expect("adds");
        })
        .await;
        floor.push(seconds);
        drop((device, mock));

        // Where an apply's time goes: the plan, the apply without its
        // verifying read (its precondition read and the writes), the verify.
        let full = desired(entries, None);
        let (mock, device) = fresh(runner).await;
        let (seconds, _, plan) =
            measured(&device, async { full.plan(&device).await.expect("plan") }).await;
        plan_only.push(seconds);
        let (seconds, _, _) = measured(&device, async {
            plan.apply(&device, ApplyOptions::default().verify(false))
                .await
                .expect("apply")
        })
        .await;
        writes.push(seconds);
        let (seconds, _, after) =
            measured(&device, async { full.plan(&device).await.expect("plan") }).await;
        assert!(after.is_empty());
        verify.push(seconds);
        drop((device, mock));
    }
    let (apply, looped) = (ms(apply), ms(looped));
    report("apply all (plan, apply, verify)", apply, "ms");
    report("  commands sent", sent.0 as f64, "");
    report("change 1 % (plan, apply, verify)", ms(change), "ms");
    report("  commands sent", sent.1 as f64, "");
    report("no-op plan", ms(noop), "ms");
    report("  commands sent", sent.2 as f64, "");
    report("one add at a time with collect", looped, "ms");
    report("  commands sent", sent.3 as f64, "");
    report("all adds in flight, no plan (floor)", ms(floor), "ms");
    report(
        "  of which: check and plan (empty list)",
        ms(plan_only),
        "ms",
    );
    report("  precondition read and writes", ms(writes), "ms");
    report("  verifying read and plan", ms(verify), "ms");
    let ratio = looped / apply;
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
