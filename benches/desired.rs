//! Desired state against the MockRouter in a child process: apply 10,000
//! address-list entries to an empty list, then a plan that changes 1 % of
//! them, then a no-op plan: time and commands sent for each, beside a loop
//! that adds the same entries one at a time with `collect` (each waiting for
//! its answer). The ratio is the loop's time over the apply's (target ≥ 20×);
//! the no-op plan must send only its read.
//!
//! `cargo bench --bench desired` (add `-- --quick`, or set `CI`, for a smoke
//! run of 500 entries).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Instant;

use common::{quick, report};

// `BENCH_UNITS=N` sets the number of entries.
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::desired::{ApplyOptions, Desired, Managed};
use mikrotik_rs::protocol::command::CommandBuilder;

const LIST: &str = "/ip/firewall/address-list";

/// A mock with an empty address list, in a child process (this binary again).
struct Mock {
    child: Child,
    stdin: Option<ChildStdin>,
    address: String,
}

impl Mock {
    fn start() -> Self {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .arg("--desired-mock-child")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock child");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the mock's address");
        let address = line
            .trim()
            .strip_prefix("ADDR ")
            .expect("ADDR line")
            .to_owned();
        Self {
            child,
            stdin,
            address,
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn serve_if_child() {
    if !std::env::args().any(|a| a == "--desired-mock-child") {
        return;
    }
    let router = mikrotik_rs::testing::MockRouter::builder()
        .received_capacity(0)
        .menu(mikrotik_rs::testing::MockMenu::new(LIST))
        .start();
    println!("ADDR {}", router.address());
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(router);
    std::process::exit(0);
}

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

/// Runs `step` and returns (seconds, commands the device sent).
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

fn main() {
    serve_if_child();
    let entries = common::size("BENCH_UNITS", if quick() { 500 } else { 10_000 });
    println!("desired state: {entries} address-list entries, the mock in a child process");
    smol::block_on(async {
        let mock = Mock::start();
        let device = MikrotikDevice::connect(&mock.address, "admin", None)
            .await
            .expect("connect");

        let full = desired(entries, None);
        let (apply_s, apply_commands, applied) = measured(&device, async {
            let plan = full.plan(&device).await.expect("plan");
            plan.apply(&device, ApplyOptions::default())
                .await
                .expect("apply")
        })
        .await;
        assert_eq!(applied.applied(), entries);
        assert_eq!(applied.converged(), Some(true));
        report("apply all (plan, apply, verify)", apply_s * 1e3, "ms");
        report("  commands sent", apply_commands as f64, "");
        if std::env::var("ONLY_APPLY").is_ok() {
            drop(device);
            drop(mock);
            return;
        }

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
        drop(device);
        drop(mock);

        // The loop users write: one add at a time, each awaited.
        let mock = Mock::start();
        let device = MikrotikDevice::connect(&mock.address, "admin", None)
            .await
            .expect("connect");
        let (loop_s, loop_commands, ()) = measured(&device, async {
            for n in 0..entries {
                let add = CommandBuilder::new()
                    .command(&format!("{LIST}/add"))
                    .attribute("list", Some("bench"))
                    .attribute("address", Some(&address(n)))
                    .attribute("comment", Some("first"))
                    .build();
                device.collect(add).await.expect("add");
            }
        })
        .await;
        report("one add at a time with collect", loop_s * 1e3, "ms");
        report("  commands sent", loop_commands as f64, "");
        drop(device);
        drop(mock);

        // The floor: the same adds all in flight at once, no plan, no reads.
        let mock = Mock::start();
        let device = MikrotikDevice::connect(&mock.address, "admin", None)
            .await
            .expect("connect");
        let (floor_s, _, ()) = measured(&device, async {
            let adds = (0..entries).map(|n| {
                let add = CommandBuilder::new()
                    .command(&format!("{LIST}/add"))
                    .attribute("list", Some("bench"))
                    .attribute("address", Some(&address(n)))
                    .attribute("comment", Some("first"))
                    .build();
                device.collect(add)
            });
            futures_util::future::try_join_all(adds)
                .await
                .expect("adds");
        })
        .await;
        report("all adds in flight, no plan (floor)", floor_s * 1e3, "ms");
        drop(device);
        drop(mock);

        // Where an apply's time goes: the plan, the apply without its
        // verifying read (its precondition read and the writes), the verify.
        let mock = Mock::start();
        let device = MikrotikDevice::connect(&mock.address, "admin", None)
            .await
            .expect("connect");
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
        println!(
            "{:>40}: {:>12.1}× (target ≥ 20×)",
            "apply vs the loop",
            loop_s / apply_s
        );
    });
}
