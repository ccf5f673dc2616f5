//! Polls a fleet: `/system/resource/print` and `/interface/print` on every
//! router, a live progress bar, then a summary with the slowest and the
//! failed routers.
//!
//! `cargo run --example fleet` starts 200 mock routers on 127.0.0.1 (a few
//! refuse the password, stay silent, or answer slowly) and polls them.
//! `cargo run --example fleet -- --routers 1000` starts more.
//! `cargo run --example fleet -- routers.csv [--shard 0/4]` polls real
//! routers instead, one a line: `name,address,user,password[,tls]` (tls:
//! empty, `pin:<sha256>`, `ca:<file>` or `insecure`).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::fleet::{Fleet, Inventory, ProgressSnapshot, Shard, Summary};
use mikrotik_rs::testing::{MockRouter, Reply};

#[derive(Debug, serde::Deserialize)]
struct Resource {
    board_name: String,
    version: String,
    cpu_load: u8,
}

/// Mock routers, with these many of each kind of trouble.
const WRONG_PASSWORD: usize = 2;
const SILENT: usize = 2;
const SLOW: usize = 3;

fn mock_fleet(n: usize) -> (Vec<MockRouter>, Inventory) {
    let mut mocks = Vec::with_capacity(n);
    let mut routers = Vec::with_capacity(n);
    for i in 0..n {
        let (name, mock, password) = if i < WRONG_PASSWORD {
            let mock = MockRouter::builder().user("admin", "secret").start();
            (format!("refuses-{i}"), mock, Some("guess"))
        } else if i < WRONG_PASSWORD + SILENT {
            (
                format!("silent-{i}"),
                MockRouter::builder().never_answer().start(),
                None,
            )
        } else if i < WRONG_PASSWORD + SILENT + SLOW {
            let slow = Reply::new()
                .row([("name", "ether1"), ("type", "ether")])
                .delay(Duration::from_millis(800 + 300 * i as u64));
            let mock = MockRouter::builder()
                .script("/interface/print", slow.into())
                .start();
            (format!("slow-{i}"), mock, None)
        } else {
            (format!("site-{i:04}"), MockRouter::start(), None)
        };
        routers.push((
            name,
            MikrotikDevice::builder(mock.address()).credentials("admin", password),
        ));
        mocks.push(mock);
    }
    (mocks, Inventory::new(routers).expect("unique names"))
}

fn arg_after(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn draw(snapshot: ProgressSnapshot, live: bool) {
    if !live {
        return;
    }
    const WIDTH: usize = 40;
    let filled = (snapshot.done() * WIDTH)
        .checked_div(snapshot.total)
        .unwrap_or(WIDTH);
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\x1b[2K\r[\x1b[32m{}\x1b[0m{}] {}/{}  ok {}  \x1b[31mfailed {}\x1b[0m  \x1b[33mtimed out {}\x1b[0m  pending {}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        snapshot.done(),
        snapshot.total,
        snapshot.succeeded,
        snapshot.failed,
        snapshot.timed_out,
        snapshot.pending()
    );
    let _ = err.flush();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let csv = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--") && std::path::Path::new(a).is_file());
    let shard: Shard = arg_after("--shard").map_or(Ok(Shard::all()), |s| s.parse())?;
    let (_mocks, inventory) = match &csv {
        Some(path) => (
            Vec::new(),
            Inventory::from_csv(&std::fs::read_to_string(path)?)?,
        ),
        None => {
            let n = arg_after("--routers").map_or(Ok(200), |n| n.parse())?;
            println!(
                "starting {n} mock routers on 127.0.0.1 ({WRONG_PASSWORD} refuse the password, {SILENT} are silent, {SLOW} are slow)"
            );
            mock_fleet(n)
        }
    };
    let inventory = inventory.configure(|_, builder| {
        builder
            .connect_timeout(Duration::from_secs(5))
            .login_timeout(Duration::from_secs(5))
    });
    let fleet = Fleet::builder()
        .connect_limit(64)
        .job_limit(512)
        .deadline(Duration::from_secs(3))
        .shard(shard)
        .build(inventory)?;
    println!("polling {} routers (shard {shard})", fleet.len());

    let live = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut run = fleet
        .run(|device| async move {
            let resource = device
                .menu("/system/resource")
                .print()
                .collect_typed::<Resource>();
            let interfaces = device.menu("/interface").print().collect();
            let (resource, interfaces) = futures_util::future::join(resource, interfaces).await;
            // A job fails with its own error as easily as with the crate's.
            let resource = resource?
                .into_iter()
                .next()
                .ok_or("no /system/resource row")?;
            Ok((resource, interfaces?.len()))
        })
        .on_progress({
            // Redraw at most every 50 ms: a terminal is slower than a fleet.
            let mut drawn = Instant::now();
            move |snapshot| {
                if snapshot.is_complete() || drawn.elapsed() >= Duration::from_millis(50) {
                    drawn = Instant::now();
                    draw(snapshot, live);
                }
            }
        });
    draw(run.progress().snapshot(), live);
    let mut summary = Summary::new();
    let mut first = None;
    let mut example = None;
    while let Some(done) = run.next().await {
        first.get_or_insert_with(|| start.elapsed());
        if let (None, Ok((resource, interfaces))) = (&example, &done.result) {
            example = Some(format!(
                "{}: {} RouterOS {}, cpu {}%, {interfaces} interfaces",
                done.name, resource.board_name, resource.version, resource.cpu_load
            ));
        }
        summary.record(&done);
    }
    if live {
        eprintln!();
    }
    let all = start.elapsed();

    println!("\n{summary}");
    println!(
        "first result after {:.1} ms, all after {:.2} s",
        first.unwrap_or_default().as_secs_f64() * 1e3,
        all.as_secs_f64()
    );
    if let Some(example) = example {
        println!("e.g. {example}");
    }
    println!("\nslowest:");
    for (name, took) in summary.slowest(5) {
        println!("  {name:<24}{:>10.1} ms", took.as_secs_f64() * 1e3);
    }
    if !summary.failures().is_empty() {
        println!("\nfailed:");
        for (name, error) in summary.failures() {
            println!("  {name:<24}{error}");
        }
    }
    Ok(())
}
