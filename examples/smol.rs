//! The same client without Tokio: smol (async-io) runs the connection.
//! For the connection on your own `smol::Executor`, beside the code that reads
//! its replies (the fastest way on smol), see `examples/smol-executor.rs`.
//!
//! `cargo run --example smol`

mod common;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::{MikrotikDevice, command};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    smol::block_on(async {
        let device = MikrotikDevice::builder(&target.address)
            .credentials(&target.user, target.password.as_deref())
            // Run the connection on smol's executor (without this it runs on
            // the crate's own background thread).
            .spawner(|future| smol::spawn(future).detach())
            .connect()
            .await?;
        let mut identity = device
            .send_command(command!("/system/identity/print"))
            .await?;
        while let Some(reply) = identity.recv().await {
            if let CommandResponse::Reply(row) = reply? {
                println!("router identity: {}", row.get("name").unwrap_or("?"));
            }
        }
        Ok(())
    })
}
