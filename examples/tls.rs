//! API-SSL (port 8729) on a router as it comes: give `api-ssl` a
//! certificate over the plain API, then connect over TLS pinned to it.
//!
//! `cargo run --example tls`
//!
//! Against a real router set `MIKROTIK_ADDR` (its plain API, `host` or
//! `host:8728`), `MIKROTIK_USER` and `MIKROTIK_PASSWORD`. With
//! `MIKROTIK_FINGERPRINT` (from `/certificate print detail`) the example only
//! connects over TLS on port 8729 of the same host, pinning it; without it, it
//! first runs `bootstrap_certificate` over the plain API, which creates (or
//! reuses) a certificate on the router. That first exchange is not encrypted:
//! do it on a network you trust. Without `MIKROTIK_ADDR` a mock router with a
//! plain and an API-SSL port is started in this process.

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::tls::{BootstrapOptions, BootstrapStage, TlsOptions, bootstrap_certificate};
use mikrotik_rs::{MikrotikDevice, command};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _mock = None;
    let user = std::env::var("MIKROTIK_USER").unwrap_or_else(|_| "admin".into());
    let password = std::env::var("MIKROTIK_PASSWORD").ok();
    let (plain_address, tls_address) = match std::env::var("MIKROTIK_ADDR") {
        Ok(address) => {
            let host = match address.rsplit_once(':') {
                Some((host, port)) if port.parse::<u16>().is_ok() && !host.ends_with(':') => {
                    host.to_owned()
                }
                _ => address.clone(),
            };
            println!("Using the router at {address}");
            (address, host)
        }
        Err(_) => {
            let mock = MockRouter::builder().api_ssl().start();
            let tls_address = mock
                .api_ssl_address()
                .ok_or("the mock has no API-SSL port")?;
            println!(
                "MIKROTIK_ADDR is not set: running against the built-in mock router, plain API \
                 at {}, API-SSL at {tls_address} (no certificate yet, as a router comes)",
                mock.address()
            );
            let plain_address = mock.address();
            _mock = Some(mock);
            (plain_address, tls_address)
        }
    };

    let tls = match std::env::var("MIKROTIK_FINGERPRINT") {
        Ok(fingerprint) => TlsOptions::pinned_sha256(&fingerprint)?,
        Err(_) => {
            let plain = MikrotikDevice::connect(&plain_address, &user, password.as_deref()).await?;
            // The bootstrap ends with a handshake with api-ssl's port on this host.
            let verify_host = match tls_address.rsplit_once(':') {
                Some((host, port)) if port.parse::<u16>().is_ok() && _mock.is_some() => {
                    host.to_owned()
                }
                _ => tls_address.clone(),
            };
            let options = BootstrapOptions::new()
                .verify_host(verify_host)
                .on_progress(|stage| match stage {
                    BootstrapStage::Signing {
                        progress: Some(progress),
                    } => println!("  signing: {progress}"),
                    BootstrapStage::Done { .. } => {}
                    other => println!("  {other:?}"),
                });
            let made = bootstrap_certificate(&plain, options).await?;
            println!(
                "api-ssl presents certificate {:?} on port {} ({:?}: {}), fingerprint {}",
                made.name, made.port, made.action, made.reason, made.fingerprint
            );
            for difference in &made.differences {
                println!(
                    "  not applied (BootstrapOptions::rotate would): {} {:?}, the certificate has {:?}",
                    difference.attribute, difference.wanted, difference.found
                );
            }
            if let Some(replaced) = &made.replaced {
                println!("  replaced {:?}: {}", replaced.name, replaced.reason);
            }
            made.tls
        }
    };

    let device = MikrotikDevice::builder(&tls_address)
        .credentials(&user, password.as_deref())
        .tls(tls)
        .connect()
        .await?;
    let mut replies = device
        .send_command(command!("/system/resource/print"))
        .await?;
    while let Some(reply) = replies.recv().await {
        if let CommandResponse::Reply(row) = reply? {
            println!(
                "connected over TLS to {} running RouterOS {}",
                row.get("board-name").unwrap_or("?"),
                row.get("version").unwrap_or("?")
            );
        }
    }
    Ok(())
}
