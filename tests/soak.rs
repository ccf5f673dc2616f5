//! Load and soak: many commands over one connection, 1,000 in flight at a
//! time, mixed: short ones, streaming ones cancelled after their first row,
//! ones that time out (`Command::with_timeout`), and ones that overflow a tiny
//! `BufferPolicy::Bounded`. Afterwards nothing is left in the routing table
//! or running on the router, and the process RSS is back near where it was
//! after a warm-up.
//!
//! The short version runs in the normal suite. The full one (100,000
//! commands) is ignored; run it with
//!
//! ```text
//! cargo test --release --all-features --test soak -- --ignored --nocapture
//! ```

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::{cmd, drain};
use futures_util::{FutureExt, StreamExt};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{BufferPolicy, Error, MikrotikDevice, TimeoutKind};

const IN_FLIGHT: usize = 1_000;

/// Resident set size of this process, from `/proc/self/statm` (pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    short: usize,
    cancelled: usize,
    timed_out: usize,
    overflowed: usize,
}

impl Counts {
    fn total(&self) -> usize {
        self.short + self.cancelled + self.timed_out + self.overflowed
    }
}

enum Kind {
    Short,
    Cancelled,
    TimedOut,
    Overflowed,
}

async fn sleep(ms: u64) {
    async_io::Timer::after(Duration::from_millis(ms)).await;
}

/// One command of the mix; panics if it does not end the way its kind must.
async fn one(device: &MikrotikDevice, i: usize) -> Kind {
    match i % 10 {
        0..=5 => {
            let items = drain(device.send_command(cmd("/short")).await.unwrap()).await;
            assert!(
                matches!(
                    items.as_slice(),
                    [Ok(CommandResponse::Reply(row)), Ok(CommandResponse::Done(_))]
                        if row.get("i") == Some("1")
                ),
                "{items:?}"
            );
            Kind::Short
        }
        6 | 7 => {
            let monitor = CommandBuilder::new()
                .command("/interface/monitor-traffic")
                .attribute("interface", Some("ether1"))
                .build();
            let mut stream = device.send_command(monitor).await.unwrap();
            let first = stream.recv().await;
            assert!(
                matches!(first, Some(Ok(CommandResponse::Reply(_)))),
                "{first:?}"
            );
            drop(stream); // cancels on the router
            Kind::Cancelled
        }
        8 => {
            let silent = cmd("/silent").with_timeout(Duration::from_millis(20));
            let items = drain(device.send_command(silent).await.unwrap()).await;
            assert!(
                matches!(
                    items.as_slice(),
                    [Err(Error::Timeout {
                        what: TimeoutKind::Command,
                        ..
                    })]
                ),
                "{items:?}"
            );
            Kind::TimedOut
        }
        _ => {
            let stream = device
                .send_command_with(cmd("/bulk"), BufferPolicy::Bounded(4))
                .await
                .unwrap();
            // Read nothing until the buffer has overflowed: a reader that
            // takes nothing overflows at 8 × the capacity, or 256 replies for
            // small capacities, so 256 rows and the error.
            let start = Instant::now();
            while stream.unread() < 257 {
                assert!(start.elapsed() < Duration::from_secs(20), "no overflow");
                sleep(2).await;
            }
            let items = drain(stream).await;
            assert_eq!(items.len(), 257, "{items:?}");
            assert!(
                matches!(items[256], Err(Error::Overflow { capacity: 4 })),
                "{items:?}"
            );
            Kind::Overflowed
        }
    }
}

/// Runs `total` commands of the mix with up to [`IN_FLIGHT`] at once.
async fn run(device: &MikrotikDevice, offset: usize, total: usize) -> Counts {
    futures_util::stream::iter(offset..offset + total)
        .map(|i| one(device, i))
        .buffer_unordered(IN_FLIGHT)
        .fold(Counts::default(), |mut counts, kind| async move {
            match kind {
                Kind::Short => counts.short += 1,
                Kind::Cancelled => counts.cancelled += 1,
                Kind::TimedOut => counts.timed_out += 1,
                Kind::Overflowed => counts.overflowed += 1,
            }
            counts
        })
        .await
}

/// Waits until the cancels of the last commands are answered.
async fn settle(device: &MikrotikDevice, router: &MockRouter) {
    let start = Instant::now();
    while device.in_flight() != 0 || router.running_commands() != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still in flight: {} on the client, {} running on the router",
            device.in_flight(),
            router.running_commands()
        );
        sleep(5).await;
    }
}

fn soak(warm_up: usize, total: usize, limit: Duration) {
    let router = MockRouter::builder()
        .script("/short", Reply::new().row([("i", "1")]).into())
        .script("/silent", Script::Silent)
        .script("/bulk", Script::bulk(300, [("k", "0123456789")]))
        .monitor_interval(Duration::from_millis(2))
        // The log of received sentences would grow with the run; keep none.
        .received_capacity(0)
        .start();
    let body = async {
        let device = MikrotikDevice::connect(&router.address(), "admin", None)
            .await
            .unwrap();
        run(&device, 0, warm_up).await;
        settle(&device, &router).await;
        let before = rss_bytes();
        let started = Instant::now();
        let counts = run(&device, warm_up, total).await;
        let elapsed = started.elapsed();
        settle(&device, &router).await;
        let after = rss_bytes();
        assert_eq!(counts.total(), total);
        assert!(
            counts.short > 0
                && counts.cancelled > 0
                && counts.timed_out > 0
                && counts.overflowed > 0
        );
        assert_eq!(device.in_flight(), 0);
        assert_eq!(router.running_commands(), 0);
        assert!(!device.is_closed(), "{:?}", device.closed_reason());
        println!(
            "{total} commands ({counts:?}), {IN_FLIGHT} in flight, in {elapsed:?}; \
             RSS after a {warm_up}-command warm-up {:.1} MiB, after the run {:.1} MiB ({:+.1} MiB)",
            mib(before),
            mib(after),
            mib(after) - mib(before)
        );
        // Generous: what matters is that memory does not grow with the
        // number of commands run, not the allocator's exact behaviour.
        assert!(
            after <= before + (32 << 20),
            "RSS grew from {:.1} MiB to {:.1} MiB",
            mib(before),
            mib(after)
        );
    };
    with_limit(limit, body);
}

/// Runs `body` on a multi-thread Tokio runtime, failing after `limit`.
fn with_limit(limit: Duration, body: impl Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut body = std::pin::pin!(body);
        let mut timer = async_io::Timer::after(limit);
        std::future::poll_fn(|cx| {
            if body.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
            if timer.poll_unpin(cx).is_ready() {
                panic!("the soak did not finish within {limit:?}");
            }
            std::task::Poll::Pending
        })
        .await;
    });
}

#[test]
fn soak_short() {
    soak(1_000, 5_000, common::TEST_LIMIT);
}

#[test]
#[ignore = "long: cargo test --release --all-features --test soak -- --ignored --nocapture"]
fn soak_100_000_commands() {
    soak(10_000, 100_000, Duration::from_secs(600));
}
