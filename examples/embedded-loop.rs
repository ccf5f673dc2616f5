//! The `no_std` client loop (`mikrotik-rs-embedded`), as a microcontroller
//! runs it, here on a host: a Tokio socket made an `embedded-io-async`
//! stream by `embedded-io-adapters` stands in for an Embassy TCP socket.
//!
//! `cargo run --example embedded-loop` (against the built-in mock router;
//! set `MIKROTIK_ADDR`, `MIKROTIK_USER`, `MIKROTIK_PASSWORD` for a real one).
//!
//! On a board, the same code takes `embassy_net::tcp::TcpSocket` instead of
//! `FromTokio<TcpStream>`, a seed from the board's RNG, and a buffer in a
//! `static`: nothing else changes.

mod common;

use embedded_io_adapters::tokio_1::FromTokio;
use mikrotik_rs_embedded::Client;
use mikrotik_rs_embedded::protocol::CommandResponse;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = common::target();
    let socket = tokio::net::TcpStream::connect(&target.address).await?;
    // Fixed capacities: 4 commands in flight, 8 unread replies each, reads
    // of at most 512 bytes. Nothing grows past them.
    let mut buffer = [0u8; 512];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    let mut client: Client<_, 4, 8> = Client::new(FromTokio::new(socket), &mut buffer, seed);
    client
        .login(&target.user, target.password.as_deref().unwrap_or(""))
        .await
        .map_err(|e| e.to_string())?;

    // Two commands at once: the monitor streams while the identity answers.
    let monitor = client
        .command("/interface/monitor-traffic")
        .attribute("interface", Some("ether1"))
        .build();
    let monitor = client.send(monitor).await.map_err(|e| e.to_string())?;
    let identity = client.command("/system/identity/print").build();
    let identity = client.send(identity).await.map_err(|e| e.to_string())?;
    while let Some(reply) = client.recv(identity).await.map_err(|e| e.to_string())? {
        if let CommandResponse::Reply(row) = reply {
            println!("router identity: {}", row.get("name").unwrap_or("?"));
        }
    }
    for _ in 0..3 {
        if let Some(CommandResponse::Reply(row)) =
            client.recv(monitor).await.map_err(|e| e.to_string())?
        {
            println!(
                "ether1 rx: {} bit/s",
                row.get("rx-bits-per-second").unwrap_or("?")
            );
        }
    }
    client.cancel(monitor).await.map_err(|e| e.to_string())?;
    println!("monitor cancelled");
    Ok(())
}
