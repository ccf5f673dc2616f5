//! Watch a menu's changes for a few seconds, then stop: `listen` in a
//! `tokio::select!` against a timer. `recv()` is cancel-safe, so the timer
//! winning loses no change; dropping the stream cancels the listen on the router.
//!
//! `cargo run --example listen-for-a-while` (seconds: `MIKROTIK_SECONDS`, default 3)

mod common;

use std::time::Duration;

use mikrotik_rs::{Change, MikrotikDevice};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let seconds: u64 = std::env::var("MIKROTIK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);

    let mut changes = device.menu("/interface").listen().await?;
    if target.is_mock() {
        // Something to see on the mock: another task changes an interface.
        let other = device.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let interfaces = other.menu("/interface");
            let comment = [("comment", "changed by the example")];
            interfaces
                .set("ether5", comment)
                .await
                .expect("set on the mock");
        });
    }
    println!("listening to /interface for {seconds} s");
    let stop = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(stop);
    let mut seen = 0;
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Some(Ok(Change::Upsert(row))) => {
                    seen += 1;
                    println!("changed: {} ({})", row.get("name").unwrap_or("?"), row.get("comment").unwrap_or(""));
                }
                Some(Ok(Change::Removed { id, .. })) => {
                    seen += 1;
                    println!("removed: {id}");
                }
                Some(Ok(Change::Resumed { gap, .. })) => println!("resumed after {gap:?}"),
                Some(Err(error)) => return Err(error.into()),
                None => break,
            },
            () = &mut stop => break,
        }
    }
    drop(changes); // cancels the listen on the router
    println!("stopped after {seconds} s, {seen} change(s)");
    device.close().await;
    Ok(())
}
