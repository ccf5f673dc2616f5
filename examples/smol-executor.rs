//! The fast path on smol (or any async-io executor): the connection runs on
//! your own executor, on the thread that reads its replies, instead of on the
//! crate's background thread, so no reply has to cross threads to reach you.
//!
//! Two ways, both shown here: give the builder a spawner that puts the
//! connection on your executor, or open the stream yourself, take the
//! connection's driver future from `connection::new` and spawn it wherever
//! you like (it completes when the connection ends).
//!
//! `cargo run --example smol-executor`

mod common;

use std::sync::Arc;

use mikrotik_rs::connection::{self, ConnectionOptions};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::runtime::AsyncIoRuntime;
use mikrotik_rs::{MikrotikDevice, command};
use smol::Executor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    // Your executor. `block_on(executor.run(..))` runs its tasks, the
    // connection among them, on this thread beside the future you give it.
    let executor = Arc::new(Executor::new());
    smol::block_on(executor.run(async {
        // 1. The builder: connect as usual, the spawner picks where the
        //    connection runs (sockets and timers still come from async-io).
        let spawn_on = Arc::clone(&executor);
        let device = MikrotikDevice::builder(&target.address)
            .credentials(&target.user, target.password.as_deref())
            .spawner(move |connection| spawn_on.spawn(connection).detach())
            .connect()
            .await?;
        print_identity(&device, "through the builder's spawner").await?;
        drop(device);

        // 2. The driver future: you open the stream (here plain TCP; a tunnel
        //    or your own TLS works the same) and hold the connection yourself.
        //    (`MIKROTIK_ADDR` is `host:port`; the builder would add the port.)
        let stream = smol::net::TcpStream::connect(&target.address).await?;
        let runtime = Arc::new(AsyncIoRuntime::new());
        let (handle, driver) = connection::new(stream, runtime, ConnectionOptions::default());
        let device = MikrotikDevice::from(handle);
        let driver = executor.spawn(driver);
        device
            .login(&target.user, target.password.as_deref())
            .await?;
        print_identity(&device, "through the driver from connection::new").await?;
        // The last handle gone, the connection says `/quit` and its driver ends.
        drop(device);
        driver.await;
        Ok(())
    }))
}

async fn print_identity(device: &MikrotikDevice, how: &str) -> mikrotik_rs::Result<()> {
    let mut identity = device
        .send_command(command!("/system/identity/print"))
        .await?;
    while let Some(reply) = identity.recv().await {
        if let CommandResponse::Reply(row) = reply? {
            println!(
                "router identity ({how}): {}",
                row.get("name").unwrap_or("?")
            );
        }
    }
    Ok(())
}
