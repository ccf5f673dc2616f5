//! A fleet of 10,000 mock routers polled from one process: time to the
//! first result, time for all, the client's RSS per (idle, pooled)
//! connection, and the client's CPU time per poll, on Tokio and on smol.
//! Then streaming over the pooled connections (`STREAM_ROWS` rows from each
//! router) as fleet jobs, beside the same work as one task per router
//! spawned by hand: their ratio says what the fleet's scheduling costs.
//!
//! `cargo bench --bench fleet` (add `-- --quick`, or set `CI`, for a smoke
//! run of 200 routers; `-- --routers N` for another size).
//!
//! The routers are served by several mock processes (this binary,
//! re-executed), each on its own port, so neither their descriptors nor
//! their memory count here, and no one destination runs out of ephemeral
//! ports. Each runtime is measured in a fresh child process. The client
//! needs one descriptor per router: with a soft limit (`ulimit -n`) too low
//! for the size asked, the bench says so and polls fewer routers (it does
//! not raise the limit itself: that would need `unsafe` or libc).

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::fleet::{Fleet, Summary};
use mikrotik_rs::protocol::command::CommandBuilder;

/// Routers per mock process.
const PER_MOCK: usize = 2_500;
/// Rows each router streams in the streaming comparison.
const STREAM_ROWS: usize = 200;
/// Descriptors the client keeps for itself (stdio, runtime, pipes).
const SPARE_FDS: u64 = 256;

/// The soft limit on open files, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
}

/// User + system CPU time of this process so far (/proc/self/stat, in
/// clock ticks of 1/100 s, Linux's USER_HZ).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Resident set size (VmRSS of /proc/self/status), in bytes.
fn vm_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

fn fleet_of(addresses: &[&str], n: usize) -> Fleet {
    let routers = (0..n).map(|i| {
        let address = addresses[i % addresses.len()];
        (format!("router-{i:06}"), MikrotikDevice::builder(address))
    });
    Fleet::builder()
        .connect_limit(256)
        .job_limit(n)
        .deadline(Duration::from_secs(120))
        .idle_timeout(None)
        .build(routers)
        .expect("fleet")
}

/// Polls every router once: (first result, all, summary).
async fn poll(fleet: &Fleet) -> (Duration, Duration, Summary) {
    let resource = CommandBuilder::new()
        .command("/system/resource/print")
        .build();
    let start = Instant::now();
    let mut first = None;
    let mut summary = Summary::new();
    let mut run = fleet.collect(resource);
    while let Some(done) = run.next().await {
        first.get_or_insert_with(|| start.elapsed());
        summary.record(&done);
    }
    (first.unwrap_or_default(), start.elapsed(), summary)
}

fn stream() -> mikrotik_rs::protocol::command::Command {
    CommandBuilder::new().command(STREAM_PATH).build()
}

/// Every router streams `STREAM_ROWS` rows, as fleet jobs.
async fn stream_as_jobs(fleet: &Fleet, n: usize) -> Duration {
    let start = Instant::now();
    let rows = fleet
        .run(|device| async move { Ok(device.collect(stream()).await?.len()) })
        .map(|done| done.result.expect("streamed"))
        .fold(0usize, |sum, n| async move { sum + n })
        .await;
    assert_eq!(rows, n * STREAM_ROWS);
    start.elapsed()
}

/// The same, one task per router spawned by hand.
async fn stream_by_hand(devices: &[MikrotikDevice], n: usize) -> Duration {
    let runtime = mikrotik_rs::runtime::default_runtime().expect("runtime");
    let (sender, counts) = async_channel::unbounded();
    let start = Instant::now();
    for device in devices {
        let (device, sender) = (device.clone(), sender.clone());
        runtime.spawn(Box::pin(async move {
            let rows = device.collect(stream()).await.expect("streamed").len();
            let _ = sender.send(rows).await;
        }));
    }
    drop(sender);
    let mut rows = 0;
    while let Ok(more) = counts.recv().await {
        rows += more;
    }
    assert_eq!(rows, n * STREAM_ROWS);
    start.elapsed()
}

fn child(rt: Rt, addresses: &[&str], n: usize) {
    rt.block_on(async {
        // Warm up: code paths, allocator arenas, the runtime's threads.
        let warm = fleet_of(addresses, 16);
        poll(&warm).await;
        drop(warm);
        sleep(Duration::from_millis(200)).await;

        let rss_before = vm_rss();
        let cpu_before = cpu_time();
        let fleet = fleet_of(addresses, n);
        let (first, all, summary) = poll(&fleet).await;
        let cpu_first = cpu_time() - cpu_before;
        assert_eq!(
            summary.succeeded(),
            n,
            "{summary}\n{:?}",
            &summary.failures()[..summary.failures().len().min(5)]
        );
        let p50 = summary.p50().unwrap_or_default();
        let p95 = summary.p95().unwrap_or_default();
        drop(summary);
        sleep(Duration::from_millis(200)).await;
        let rss_idle = vm_rss();

        let cpu_before = cpu_time();
        let (again_first, again_all, again) = poll(&fleet).await;
        let cpu_again = cpu_time() - cpu_before;
        assert_eq!(again.succeeded(), n, "{again}");
        assert_eq!(
            fleet.connections_opened(),
            n as u64,
            "the second poll reused every connection"
        );

        println!("first_s {}", first.as_secs_f64());
        println!("all_s {}", all.as_secs_f64());
        println!("p50_s {}", p50.as_secs_f64());
        println!("p95_s {}", p95.as_secs_f64());
        println!("cpu_first_s {}", cpu_first.as_secs_f64());
        println!("again_first_s {}", again_first.as_secs_f64());
        println!("again_all_s {}", again_all.as_secs_f64());
        println!("cpu_again_s {}", cpu_again.as_secs_f64());
        println!("rss_bytes {}", rss_idle.saturating_sub(rss_before));

        // Streaming: fleet jobs, and one task per router by hand on the same
        // pooled devices, alternately, twice each (the best of each kept, so
        // that neither pays alone for warming up).
        let devices: Vec<MikrotikDevice> = fleet
            .run(|device| async move { Ok(device) })
            .map(|done| done.result.expect("pooled"))
            .collect()
            .await;
        let (mut as_jobs, mut by_hand) = (Duration::MAX, Duration::MAX);
        for _ in 0..2 {
            as_jobs = as_jobs.min(stream_as_jobs(&fleet, n).await);
            by_hand = by_hand.min(stream_by_hand(&devices, n).await);
        }
        println!("stream_jobs_s {}", as_jobs.as_secs_f64());
        println!("stream_tasks_s {}", by_hand.as_secs_f64());
        drop(fleet);
    });
}

fn main() {
    run_mock_child_if_asked();
    let asked: usize = arg("--routers")
        .map(|n| n.parse().expect("--routers N"))
        .unwrap_or(if quick() { 200 } else { 10_000 });
    if let Some(rt) = arg("--measure") {
        let addresses = arg("--addrs").expect("--addrs");
        let addresses: Vec<&str> = addresses.split(',').collect();
        child(Rt::parse(&rt), &addresses, asked);
        return;
    }
    let limit = open_files_limit().unwrap_or(1024);
    let n = if (asked as u64).saturating_add(SPARE_FDS) > limit {
        let fits = limit.saturating_sub(SPARE_FDS) as usize;
        println!(
            "fleet: the open-files limit is {limit} (ulimit -n), too low for {asked} routers; \
             polling {fits} instead (raise it with `ulimit -n {}` to poll all)",
            asked as u64 + SPARE_FDS
        );
        fits
    } else {
        asked
    };
    let mocks: Vec<MockChild> = (0..n.div_ceil(PER_MOCK).max(2))
        .map(|_| MockChild::start(STREAM_ROWS))
        .collect();
    let addresses: Vec<&str> = mocks.iter().map(|m| m.address.as_str()).collect();
    let joined = addresses.join(",");
    println!(
        "fleet: {n} mock routers on {} ports, polled once (/system/resource/print), then again over the pooled connections",
        mocks.len()
    );
    for rt in [Rt::Tokio, Rt::Smol] {
        if !wanted(rt.name()) {
            continue;
        }
        let count = n.to_string();
        let args = [
            "--measure",
            rt.name(),
            "--addrs",
            &joined,
            "--routers",
            &count,
        ];
        let lines = measure_in_child(&args);
        let v = |key| value(&lines, key);
        let ms = |s: f64| s * 1e3;
        println!(
            "{:>6}: first result {:.1} ms, all {:.2} s (p50 {:.0} ms, p95 {:.0} ms), CPU {:.1} µs per poll with connect+login; \
             again: first {:.1} ms, all {:.3} s, CPU {:.1} µs per poll; RSS {:.1} KiB per idle connection",
            rt.name(),
            ms(v("first_s")),
            v("all_s"),
            ms(v("p50_s")),
            ms(v("p95_s")),
            v("cpu_first_s") * 1e6 / n as f64,
            ms(v("again_first_s")),
            v("again_all_s"),
            v("cpu_again_s") * 1e6 / n as f64,
            v("rss_bytes") / 1024.0 / n as f64,
        );
        println!(
            "{:>6}: streaming {STREAM_ROWS} rows from each router: as fleet jobs {:.3} s, \
             one task per router by hand {:.3} s (jobs / tasks = {:.2})",
            rt.name(),
            v("stream_jobs_s"),
            v("stream_tasks_s"),
            v("stream_jobs_s") / v("stream_tasks_s"),
        );
    }
    drop(mocks);
}
