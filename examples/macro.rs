//! The `command!` macro: RouterOS commands checked at compile time.
//!
//! `cargo run --example macro`

mod common;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::{MikrotikDevice, command};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;

    // Simple command
    let cmd = command!("/interface/print");
    println!("{cmd:?}");

    // Attributes with and without a value; this one stops after one reading
    let monitor = command!("/interface/ethernet/monitor", numbers = "0,1", once);
    println!("{monitor:?}");

    // Queries: ethernet or VLAN interfaces, only some properties
    let wanted = "ether";
    let query = command!("/interface/print", ?type = wanted, ?type = "vlan", ?#|, ".proplist" = "name,type");
    let mut rows = device.send_command(query).await?;
    while let Some(row) = rows.recv().await {
        if let CommandResponse::Reply(row) = row? {
            println!(
                "{:<10} {}",
                row.get("name").unwrap_or("?"),
                row.get("type").unwrap_or("?")
            );
        }
    }
    // These fail at compile time:
    // command!("invalid//command"); // no empty segments
    // command!("no-leading-slash"); // must start with '/'
    Ok(())
}
