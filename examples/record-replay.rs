//! Record a session, then run the same code against its replay.
//!
//! `cargo run --example record-replay`
//!
//! Against the router named by `MIKROTIK_ADDR` (`MIKROTIK_USER`,
//! `MIKROTIK_PASSWORD`) if set, else against the built-in mock: the session
//! is recorded through `testing::Recorder` into `target/record-replay.txt`
//! (secrets redacted; the password kept only as a salted hash), then a
//! MockRouter serves that transcript (strictly: the same password, each
//! write once) and the
//! same code runs again, offline. Both runs print the rows they saw, and the
//! example fails if they differ.

mod common;

use std::net::TcpStream;

use async_io::Async;
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::runtime::AsyncStream;
use mikrotik_rs::testing::{MockRouter, Recorder, Transcript};

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

async fn login(
    stream: impl AsyncStream,
    user: &str,
    password: Option<&str>,
) -> mikrotik_rs::Result<MikrotikDevice> {
    MikrotikDevice::builder("recorded")
        .credentials(user, password)
        .connect_stream(stream)
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/record-replay.txt");
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;

    // 1. Record.
    let has_port = target
        .address
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    let host_port = if has_port {
        target.address.clone()
    } else {
        format!("{}:8728", target.address)
    };
    let address: std::net::SocketAddr = tokio::net::lookup_host(&host_port)
        .await?
        .next()
        .ok_or("the address does not resolve")?;
    let tcp = Async::<TcpStream>::connect(address).await?;
    let recorder = Recorder::to_file(tcp, &path)?;
    let device = login(recorder, &target.user, target.password.as_deref()).await?;
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
    let tcp = Async::<TcpStream>::connect(replay.addr()).await?;
    let device = login(tcp, &target.user, target.password.as_deref()).await?;
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
