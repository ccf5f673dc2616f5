//! A streaming command: watch an interface's traffic for a few updates, then
//! stop. Dropping the stream sends `/cancel` to the router.
//!
//! `cargo run --example network-monitor` (interface: `MIKROTIK_INTERFACE`, default ether1)

mod common;

use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let interface = std::env::var("MIKROTIK_INTERFACE").unwrap_or_else(|_| "ether1".into());

    let monitor = CommandBuilder::new()
        .command("/interface/monitor-traffic")
        .attribute("interface", Some(&interface))
        .build();
    let mut updates = device.send_command(monitor).await?;
    let mut seen = 0;
    while let Some(update) = updates.recv().await {
        if let CommandResponse::Reply(row) = update? {
            seen += 1;
            println!(
                "{interface}: rx {} bit/s, tx {} bit/s",
                row.get("rx-bits-per-second").unwrap_or("?"),
                row.get("tx-bits-per-second").unwrap_or("?")
            );
            if seen == 5 {
                break;
            }
        }
    }
    drop(updates); // cancels the monitor on the router
    println!("stopped after {seen} updates");
    Ok(())
}
