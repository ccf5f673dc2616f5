//! How long a resumed stream is dark after the router is back: from the
//! moment the MockRouter (in this process, on its own thread) listens again
//! to the first reply of a `print follow` resumed on the new connection —
//! the reconnect attempt, TCP, login, the command sent again and its first
//! row — median of 20 restarts, beside the configured backoff cap and a
//! plain round trip on the same machine in the same run.
//!
//! `cargo bench --bench reconnect` (add `-- --quick`, or set `CI`, for a smoke run).

mod common;

use std::time::{Duration, Instant};

use common::{median, quick};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{Error, MikrotikDevice, ReconnectPolicy};

/// The backoffs measured: none (attempts back to back, so the figure is the
/// client's own work: connect, login, resend, first row) and 1 ms (the
/// wait for the next attempt adds up to that).
const BACKOFFS: [Duration; 2] = [Duration::ZERO, Duration::from_millis(1)];

async fn round_trip(device: &MikrotikDevice) -> f64 {
    let start = Instant::now();
    let command = CommandBuilder::new()
        .command("/system/identity/print")
        .build();
    device.collect(command).await.expect("identity");
    start.elapsed().as_secs_f64()
}

fn main() {
    for backoff in BACKOFFS {
        measure(backoff);
    }
}

fn measure(backoff: Duration) {
    let restarts = if quick() { 5 } else { 20 };
    let router = MockRouter::builder().received_capacity(0).start();
    smol::block_on(async {
        let device = MikrotikDevice::builder(router.address())
            .reconnect(
                ReconnectPolicy::new()
                    .initial_delay(backoff)
                    .max_delay(backoff)
                    .jitter(false),
            )
            .connect()
            .await
            .expect("connect to the mock");
        let follow = CommandBuilder::new()
            .command("/interface/print")
            .attribute("follow", None)
            .build();
        let mut stream = device.send_command(follow).await.expect("follow");
        let existing = router.items("/interface").len();
        for _ in 0..existing {
            stream.recv().await.expect("a row").expect("a row");
        }
        let mut trips = Vec::new();
        for _ in 0..50 {
            trips.push(round_trip(&device).await);
        }
        let mut dark = Vec::new();
        for _ in 0..restarts {
            router.stop_listening();
            // Down for a moment: the device notices and backs off.
            async_io::Timer::after(Duration::from_millis(20)).await;
            router.start_listening().expect("listen again");
            let back = Instant::now();
            loop {
                match stream.recv().await.expect("the stream goes on") {
                    Err(Error::Resumed { .. }) => {}
                    Ok(CommandResponse::Reply(_)) => break,
                    other => panic!("{other:?}"),
                }
            }
            dark.push(back.elapsed().as_secs_f64());
            // Drain the rest of the resumed snapshot.
            for _ in 1..existing {
                stream.recv().await.expect("a row").expect("a row");
            }
        }
        let dark = median(dark) * 1e6;
        let trip = median(trips) * 1e6;
        println!(
            "reconnect: router back -> first resumed reply: median {dark:.0} µs over {restarts} restarts \
             (backoff cap {} µs; a round trip {trip:.0} µs; ratio {:.1} round trips)",
            backoff.as_micros(),
            dark / trip
        );
    });
}
