//! The quick start: connect, run one command, print its replies.
//!
//! `cargo run --example system-resource`

mod common;

use mikrotik_rs::{MikrotikDevice, protocol::command::CommandBuilder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    // Connect to the router
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;

    // Build a command
    let cmd = CommandBuilder::new()
        .command("/system/resource/print")
        .build();

    // Send it -- returns a dedicated stream for this command's responses
    let mut responses = device.send_command(cmd).await?;
    while let Some(result) = responses.recv().await {
        println!("{:?}", result?);
    }
    Ok(())
}
