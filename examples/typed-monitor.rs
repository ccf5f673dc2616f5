//! A monitor decoded into a struct: `/interface/monitor-traffic` rows as
//! `Traffic`, five updates, then stop. A monitor keeps the latest rows when the
//! reader falls behind, and later rows may carry only what changed: fields that
//! may be missing are `Option`s.
//!
//! `cargo run --example typed-monitor` (interface: `MIKROTIK_INTERFACE`, default ether1)

mod common;

use mikrotik_rs::{BufferPolicy, MikrotikDevice, command};

#[derive(Debug, serde::Deserialize)]
struct Traffic {
    name: Option<String>,
    rx_bits_per_second: Option<u64>,
    tx_bits_per_second: Option<u64>,
    rx_packets_per_second: Option<u64>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let interface = std::env::var("MIKROTIK_INTERFACE").unwrap_or_else(|_| "ether1".into());

    // `monitor-traffic` is not `<menu>/monitor`, so send it yourself with a
    // keep-latest buffer, then take its rows typed.
    let command = command!("/interface/monitor-traffic", interface = interface);
    let mut traffic = device
        .send_command_with(command, BufferPolicy::KeepLatest(16))
        .await?
        .rows()
        .typed::<Traffic>();
    for _ in 0..5 {
        let Some(update) = traffic.recv().await else {
            break;
        };
        let update = update?;
        println!(
            "{}: rx {} bit/s ({} packets/s), tx {} bit/s",
            update.name.as_deref().unwrap_or(&interface),
            update.rx_bits_per_second.unwrap_or_default(),
            update.rx_packets_per_second.unwrap_or_default(),
            update.tx_bits_per_second.unwrap_or_default(),
        );
    }
    drop(traffic); // cancels the monitor on the router

    // `<menu>/monitor` has a helper that picks the keep-latest buffer itself.
    let mut link = device
        .menu("/interface/ethernet")
        .monitor([("numbers", interface.as_str())])
        .await?;
    if let Some(row) = link.recv().await {
        println!("{interface}: {}", row?.get("status").unwrap_or("?"));
    }
    drop(link);
    device.close().await;
    Ok(())
}
