//! What a gateway runs: connect, log in, stream a print until told to stop.
//!
//! `mikrotik-gateway ADDRESS USER PASSWORD [SHA256-FINGERPRINT]` (the
//! fingerprint, with the `tls` feature, pins the router's API-SSL
//! certificate). Prints `logged in`, then `idle` after a second, then
//! `streaming` once a hundred rows of `/interface/monitor-traffic` have
//! arrived, and ends after 5,000 rows: `scripts/gateway-size.sh` reads the
//! resident memory at each line.
//!
//! The connection runs on smol's global executor (`smol::spawn`), or, with
//! the `crate-thread` feature, on the crate's own background thread.

use std::time::Duration;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::{MikrotikDevice, command};

fn main() {
    if let Err(error) = smol::block_on(run()) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> mikrotik_rs::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:8728".into());
    let user = args.next().unwrap_or_else(|| "admin".into());
    let password = args.next();
    let builder = MikrotikDevice::builder(&address).credentials(&user, password.as_deref());
    #[cfg(not(feature = "crate-thread"))]
    let builder = builder.spawner(|future| smol::spawn(future).detach());
    #[cfg(feature = "tls")]
    let builder = match args.next() {
        Some(fingerprint) => {
            builder.tls(mikrotik_rs::tls::TlsOptions::pinned_sha256(&fingerprint)?)
        }
        None => builder,
    };
    let device = builder.connect().await?;
    println!("logged in");
    smol::Timer::after(Duration::from_secs(1)).await;
    println!("idle");
    smol::Timer::after(Duration::from_secs(1)).await;
    let mut monitor = device
        .send_command(command!("/interface/monitor-traffic", interface = "ether1"))
        .await?;
    let mut rows = 0u32;
    while let Some(reply) = monitor.recv().await {
        if let CommandResponse::Reply(row) = reply? {
            rows += 1;
            if rows == 100 {
                println!("streaming");
            }
            if row.get("rx-bits-per-second").is_none() {
                eprintln!("a row without rx-bits-per-second");
            }
            if rows == 5_000 {
                break;
            }
        }
    }
    println!("done: {rows} rows");
    Ok(())
}
