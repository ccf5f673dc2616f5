//! Ask the router whether a RouterOS update is available.
//!
//! `cargo run --example check-update`

mod common;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::{MikrotikDevice, command};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let mut progress = device
        .send_command(command!("/system/package/update/check-for-updates"))
        .await?;
    while let Some(reply) = progress.recv().await {
        match reply? {
            CommandResponse::Reply(row) => println!(
                "channel {}: installed {}, latest {}: {}",
                row.get("channel").unwrap_or("?"),
                row.get("installed-version").unwrap_or("?"),
                row.get("latest-version").unwrap_or("?"),
                row.get("status").unwrap_or("")
            ),
            CommandResponse::Trap(trap) => eprintln!("the router refused: {trap}"),
            _ => {}
        }
    }
    Ok(())
}
