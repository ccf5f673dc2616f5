//! API-SSL (port 8729), verified by pinning the router certificate's SHA-256
//! fingerprint: the right answer for a router with a self-signed certificate.
//!
//! `cargo run --example tls`
//!
//! Against a real router set `MIKROTIK_ADDR` (port 8729 is the default with
//! TLS), `MIKROTIK_USER`, `MIKROTIK_PASSWORD` and `MIKROTIK_FINGERPRINT`
//! (`/certificate print detail` on the router shows it). Without
//! `MIKROTIK_ADDR` a mock router speaking TLS with a fresh self-signed
//! certificate is started in this process.

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use mikrotik_rs::tls::{CertificateFingerprint, TlsOptions};
use mikrotik_rs::{MikrotikDevice, command};

/// A mock router on 127.0.0.1 with a self-signed certificate, and that certificate's fingerprint.
fn tls_mock() -> Result<(MockRouter, String), Box<dyn std::error::Error>> {
    let key = rcgen::KeyPair::generate()?;
    let certificate =
        rcgen::CertificateParams::new(vec!["router.lan".to_owned()])?.self_signed(&key)?;
    let fingerprint = CertificateFingerprint::of_certificate(certificate.der()).to_string();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = mikrotik_rs::testing::tls_server_config(vec![certificate.der().clone()], key)?;
    Ok((MockRouter::builder().tls(config).start(), fingerprint))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _mock = None;
    let (address, user, password, fingerprint) = match std::env::var("MIKROTIK_ADDR") {
        Ok(address) => {
            let fingerprint = std::env::var("MIKROTIK_FINGERPRINT").map_err(
                |_| "set MIKROTIK_FINGERPRINT to the router certificate's SHA-256 fingerprint",
            )?;
            println!("Connecting to the router at {address} over TLS, pinning {fingerprint}");
            let user = std::env::var("MIKROTIK_USER").unwrap_or_else(|_| "admin".into());
            (
                address,
                user,
                std::env::var("MIKROTIK_PASSWORD").ok(),
                fingerprint,
            )
        }
        Err(_) => {
            let (mock, fingerprint) = tls_mock()?;
            println!(
                "MIKROTIK_ADDR is not set: running against the built-in mock router speaking TLS at {}, \
                 certificate fingerprint {fingerprint}",
                mock.address()
            );
            let address = mock.address();
            _mock = Some(mock);
            (address, "admin".into(), None, fingerprint)
        }
    };

    let device = MikrotikDevice::builder(&address)
        .credentials(&user, password.as_deref())
        .tls(TlsOptions::pinned_sha256(&fingerprint)?)
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
