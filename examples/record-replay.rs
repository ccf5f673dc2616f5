//! Record a session, then run the same code against its replay.
//!
//! `cargo run --example record-replay`
//!
//! Against the router named by `MIKROTIK_ADDR` (`MIKROTIK_USER`,
//! `MIKROTIK_PASSWORD`) if set, else against the built-in mock: the session
//! is recorded through `DeviceBuilder::record` into `target/record-replay.txt`
//! (secrets redacted; the password kept only as a salted hash), then a
//! MockRouter serves that transcript (strictly: the same password, each
//! write once) and the
//! same code runs again, offline. Both runs print the rows they saw, and the
//! example fails if they differ.

mod common;

use mikrotik_rs::testing::{MockRouter, Recording, Transcript};
use mikrotik_rs::{DeviceBuilder, MikrotikDevice};

/// The code under test: what a user's program would do.
async fn inventory(device: &MikrotikDevice) -> mikrotik_rs::Result<Vec<String>> {
    let mut lines = Vec::new();
    let identity = device.menu("/system/identity").print().await?;
    for row in &identity {
        lines.push(format!("identity: {}", row.get("name").unwrap_or("?")));
    }
    let interfaces = device
        .menu("/interface")
        .print()
        .proplist(["name", "type", "running"])
        .await?;
    for row in &interfaces {
        lines.push(format!(
            "interface {} ({}) running={}",
            row.get("name").unwrap_or("?"),
            row.get("type").unwrap_or("?"),
            row.get("running").unwrap_or("?"),
        ));
    }
    let addresses = device.menu("/ip/address").print().await?;
    for row in &addresses {
        lines.push(format!(
            "address {} on {}",
            row.get("address").unwrap_or("?"),
            row.get("interface").unwrap_or("?")
        ));
    }
    Ok(lines)
}

fn builder(address: &str, user: &str, password: Option<&str>) -> DeviceBuilder {
    MikrotikDevice::builder(address).credentials(user, password)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/record-replay.txt");
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;

    // 1. Record: the builder records every connection it opens (plain or
    // TLS, across reconnects); no stream to open by hand.
    let device = builder(&target.address, &target.user, target.password.as_deref())
        .record(Recording::to_file(&path)?)
        .connect()
        .await?;
    let recorded = inventory(&device).await?;
    drop(device);
    println!("\nrecorded into {}:", path.display());
    for line in &recorded {
        println!("  {line}");
    }

    // 2. Replay: no router involved; the password is checked against the
    // transcript's salted hash of it.
    let replay = MockRouter::builder()
        .replay(Transcript::load(&path)?)
        .start();
    let device = builder(&replay.address(), &target.user, target.password.as_deref())
        .connect()
        .await?;
    let replayed = inventory(&device).await?;
    println!("\nreplayed from the transcript:");
    for line in &replayed {
        println!("  {line}");
    }
    if replayed != recorded {
        return Err("the replay saw other rows than the recording".into());
    }
    println!("\nsame rows: the transcript can stand in for the router in tests");
    Ok(())
}
