//! The bootstrap's last step: a TLS handshake with the service's port, which
//! must present exactly the certificate the bootstrap pins.
//!
//! `/certificate/print` says what the router holds, not what its port
//! serves (a service that has not picked up a change, another service on the
//! port, a port forward to another router): only a handshake shows that.

use std::sync::Arc;
use std::time::Instant;

use crate::device::Address;
use crate::runtime::{self, Runtime};
use crate::tls::{CertificateFingerprint, TlsOptions, presented_fingerprint};
use crate::{Error, Result};

/// Handshakes with `host` (a `host:port` there wins over `port`) pinned to
/// `fingerprint`, by `deadline`; `timed_out` is the error past it.
pub(super) async fn presents(
    runtime: &dyn Runtime,
    host: &str,
    port: u16,
    fingerprint: CertificateFingerprint,
    deadline: Option<Instant>,
    timed_out: impl FnOnce() -> Error,
) -> Result<()> {
    let address = Address::parse(host, port)?;
    let where_ = format!("{}:{}", address.host, address.port);
    let options = TlsOptions::pinned([fingerprint])?;
    let handshake = async {
        let addrs = address.resolve().await?;
        let mut last = None;
        for addr in addrs {
            match runtime.connect(addr).await {
                Ok(stream) => {
                    return crate::tls::connect(stream, &address.host, &options)
                        .await
                        .map(drop);
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.map_or(Error::Closed, Error::from))
    };
    let outcome = runtime::with_deadline(runtime, deadline, handshake, || Err(timed_out())).await;
    match outcome {
        Ok(()) => Ok(()),
        Err(error) if error.is_timeout() => Err(error),
        Err(error) => Err(mismatch_error(&where_, fingerprint, error)),
    }
}

/// What the port presents instead, or why it could not be asked.
fn mismatch_error(at: &str, pinned: CertificateFingerprint, error: Error) -> Error {
    let message = match presented_fingerprint(&error) {
        Some(presented) => format!(
            "api-ssl was given the certificate {pinned}, but {at} presents another one: \
             {presented}. The service has not picked up the change, another service holds the \
             port, or {at} is not this router (a port forward?); the pin was not returned"
        ),
        None => format!(
            "could not check that {at} presents the certificate {pinned} given to api-ssl: \
             {error}. Check BootstrapOptions::verify_host and that the port is reachable"
        ),
    };
    Error::Tls {
        message,
        source: Some(Arc::new(error)),
    }
}
