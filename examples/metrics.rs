//! Counters in the Prometheus text format: two routers (in-process mocks)
//! run a few commands, then their snapshots are rendered as a scrape would
//! see them. Serve the same text from any HTTP server as
//! `text/plain; version=0.0.4`.
//!
//! `cargo run --example metrics`

use mikrotik_rs::observe::prometheus_text;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{BufferPolicy, MikrotikDevice, Stats, command};

async fn run_some(device: &MikrotikDevice) -> mikrotik_rs::Result<()> {
    for _ in 0..3 {
        let mut rows = device.send_command(command!("/interface/print")).await?;
        while rows.recv().await.is_some() {}
    }
    // Refused by the router: ends trapped. (`unchecked`: `command!` would reject this
    // path at compile time, as it is no RouterOS command.)
    let mut refused = device
        .send_command(command!(unchecked "/nope/print"))
        .await?;
    while refused.recv().await.is_some() {}
    // A stream dropped early: cancelled.
    drop(
        device
            .send_command_with(command!("/interface/print"), BufferPolicy::Bounded(16))
            .await?,
    );
    // The connection handles the drop in its own time: wait for it (5 s at most).
    for _ in 0..500 {
        if device.snapshot().commands_cancelled == 1 && device.in_flight() == 0 {
            break;
        }
        smol::Timer::after(std::time::Duration::from_millis(10)).await;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let core = MockRouter::builder()
        .script(
            "/interface/print",
            Script::Reply(
                Reply::new()
                    .row([("name", "ether1")])
                    .row([("name", "ether2")]),
            ),
        )
        .script(
            "/nope/print",
            Script::Reply(Reply::new().trap(None, "no such command")),
        )
        .start();
    let edge = MockRouter::builder()
        .script("/interface/print", Script::bulk(50, [("name", "wlan")]))
        .script(
            "/nope/print",
            Script::Reply(Reply::new().trap(None, "no such command")),
        )
        .start();
    let snapshots: Vec<(&str, Stats)> = smol::block_on(async {
        let mut snapshots = Vec::new();
        for (name, router) in [("core", &core), ("edge", &edge)] {
            let device = MikrotikDevice::connect(&router.address(), "admin", None).await?;
            run_some(&device).await?;
            snapshots.push((name, device.snapshot()));
        }
        Ok::<_, mikrotik_rs::Error>(snapshots)
    })?;
    print!("{}", prometheus_text(&snapshots));
    Ok(())
}
