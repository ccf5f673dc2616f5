//! Many commands at once over one connection: add 50 addresses concurrently,
//! then remove them all with one command.
//!
//! On a real router this adds and then removes 198.51.100.1–50/32 (a
//! documentation range) on `MIKROTIK_INTERFACE` (default ether1), each with the
//! comment `mikrotik-rs bulk example`.
//!
//! `cargo run --example bulk`

mod common;

use futures_util::future::try_join_all;
use mikrotik_rs::MikrotikDevice;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;
    let interface = std::env::var("MIKROTIK_INTERFACE").unwrap_or_else(|_| "ether1".into());
    let addresses = device.menu("/ip/address");

    // Every `add` is its own command; all 50 are in flight together.
    let adds = (1..=50).map(|n| {
        let properties = [
            ("address", format!("198.51.100.{n}/32")),
            ("interface", interface.clone()),
            ("comment", "mikrotik-rs bulk example".to_owned()),
        ];
        addresses.add(properties)
    });
    let ids: Vec<String> = try_join_all(adds).await?;
    println!(
        "added {} addresses: {} … {}",
        ids.len(),
        ids[0],
        ids[ids.len() - 1]
    );

    let ours = addresses
        .print()
        .query_equal("comment", "mikrotik-rs bulk example")
        .count()
        .await?;
    println!("the router lists {ours} of them");

    // One command removes them all (`=numbers=*1,*2,…`).
    addresses.remove_many(&ids).await?;
    println!("removed {} addresses", ids.len());
    device.close().await;
    Ok(())
}
