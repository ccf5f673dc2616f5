//! The quick start: connect, read the router's one `/system/resource` row, and
//! print it as `key: value` lines.
//!
//! `cargo run --example system-resource`

mod common;

use mikrotik_rs::MikrotikDevice;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let device =
        MikrotikDevice::connect(&target.address, &target.user, target.password.as_deref()).await?;

    // `/system/resource` is a single-row menu: `one()` returns that row.
    let resource = device.menu("/system/resource").print().one().await?;
    for (key, value) in resource.attributes.iter() {
        println!("{key}: {value}");
    }

    device.close().await;
    Ok(())
}
