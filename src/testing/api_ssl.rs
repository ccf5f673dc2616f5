//! The mock's API-SSL port (feature `testing-tls`): a second listener, beside
//! the plain one and sharing its menus, that presents whatever certificate
//! the `api-ssl` service has at the moment of each handshake, as a router's
//! 8729 does.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_io::Timer;
use futures_rustls::TlsAcceptor;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};

use super::socket::SharedSocket;
use super::{
    Acceptor, MockRouter, MockRouterBuilder, Shared, accept_loop, bind_loopback, certificates,
    session,
};
use crate::runtime::{BackgroundExecutor, BoxedStream};
use crate::tls::{CertificateFingerprint, TlsOptions};

/// A TLS 1.2 fatal `handshake_failure` alert record.
const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

impl MockRouterBuilder {
    /// Also listens for API-SSL, on a second port
    /// ([`MockRouter::api_ssl_address`]) that shares every menu with the
    /// plain one, as a router's 8729 does with 8728.
    ///
    /// Each handshake presents the certificate assigned to the `api-ssl`
    /// service at that moment (`/ip/service/set certificate=<name>`). With
    /// none, as on a router fresh from the box, every handshake gets the
    /// `handshake_failure` alert that a rustls client gets from a router
    /// offering only anonymous Diffie-Hellman. `/certificate/add` and
    /// `/certificate/sign` make a certificate to assign, as
    /// [`bootstrap_certificate`](crate::tls::bootstrap_certificate) does.
    pub fn api_ssl(mut self) -> Self {
        self.certificates.listen = true;
        self
    }

    /// [`api_ssl`](Self::api_ssl), with a self-signed certificate made at
    /// start (named `mock-api-ssl`, for `127.0.0.1` and `localhost`) and
    /// assigned to `api-ssl`: a TLS test needs no certificate code.
    ///
    /// ```no_run
    /// # async fn demo() -> mikrotik_rs::Result<()> {
    /// use mikrotik_rs::{MikrotikDevice, testing::MockRouter};
    ///
    /// let router = MockRouter::builder().api_ssl_self_signed().start();
    /// let device = MikrotikDevice::builder(router.api_ssl_address().unwrap())
    ///     .tls(router.api_ssl_tls_options().unwrap())
    ///     .connect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn api_ssl_self_signed(mut self) -> Self {
        self.certificates.listen = true;
        self.certificates.self_signed = true;
        self
    }

    /// How long `/certificate/sign` takes (default 300 ms); progress rows
    /// are spread over it, and the command may be cancelled meanwhile.
    pub fn certificate_signing_time(mut self, time: Duration) -> Self {
        self.certificates.signing_time = time;
        self
    }
}

impl MockRouter {
    /// The API-SSL address, when the builder asked for one
    /// ([`MockRouterBuilder::api_ssl`]).
    pub fn api_ssl_addr(&self) -> Option<SocketAddr> {
        self.api_ssl_addr
    }

    /// The API-SSL address as `"127.0.0.1:<port>"`, when there is one.
    pub fn api_ssl_address(&self) -> Option<String> {
        self.api_ssl_addr.map(|addr| addr.to_string())
    }

    /// The SHA-256 fingerprint of the certificate the API-SSL port presents
    /// now (`None` while `api-ssl` has no certificate).
    pub fn api_ssl_fingerprint(&self) -> Option<CertificateFingerprint> {
        certificates::api_ssl_certificate(&self.shared).map(|(fingerprint, ..)| fingerprint)
    }

    /// The certificate the API-SSL port presents now, in PEM (for
    /// [`TlsOptions::custom_ca_pem`] tests, or to show to a user).
    pub fn api_ssl_certificate_pem(&self) -> Option<String> {
        certificates::api_ssl_certificate(&self.shared).map(|(_, pem, _)| pem)
    }

    /// [`TlsOptions`] pinned to the certificate the API-SSL port presents now.
    pub fn api_ssl_tls_options(&self) -> Option<TlsOptions> {
        TlsOptions::pinned([self.api_ssl_fingerprint()?]).ok()
    }

    /// Makes the API-SSL port present the certificate `name` whatever the
    /// `api-ssl` service names (`None`: what it names again): a router whose
    /// service still serves an older certificate than `print` shows.
    pub fn api_ssl_present_instead(&self, name: Option<&str>) {
        certificates::present_instead(&self.shared, name);
    }

    /// Adds a certificate signed now from the template `attributes`
    /// (`name`, `common-name`, `key-usage`…); attributes that `print` shows
    /// of a signed certificate (`expired`, `revoked`, `private-key`,
    /// `authority`) override what signing set, for a certificate in any
    /// state. Returns its fingerprint.
    ///
    /// # Errors
    ///
    /// The router's refusal: a template it cannot sign, or a name in use.
    pub fn add_certificate<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) -> Result<CertificateFingerprint, String> {
        certificates::add_signed(&self.shared, super::owned_pairs(attributes))
    }

    /// Signs the template `name` (or id) now, as a `/certificate/sign` that
    /// ran to its end would: for a router that answered `sign` early.
    ///
    /// # Errors
    ///
    /// The router's refusal: no such template, already signed, unsignable.
    pub fn sign_certificate(&self, name: &str) -> Result<(), String> {
        certificates::sign_now(&self.shared, name)
    }
}

/// Installs the self-signed certificate if asked, then starts the API-SSL
/// listener if asked; returns its address.
pub(super) fn start(
    shared: &Arc<Shared>,
    executor: &BackgroundExecutor,
    stopped: &async_channel::Receiver<()>,
) -> io::Result<Option<SocketAddr>> {
    if shared.certificates.self_signed {
        certificates::install_self_signed(shared).map_err(io::Error::other)?;
    }
    if !shared.certificates.listen {
        return Ok(None);
    }
    let listener = bind_loopback()?;
    let addr = listener.get_ref().local_addr()?;
    certificates::set_api_ssl_port(shared, addr.port()).map_err(io::Error::other)?;
    executor.spawn(Box::pin(accept_loop(
        listener,
        Arc::clone(shared),
        stopped.clone(),
        executor.clone(),
        Some(acceptor(Arc::clone(shared))),
    )));
    Ok(Some(addr))
}

/// The accept step of the API-SSL listener: a TLS handshake presenting the
/// certificate assigned to `api-ssl` at that moment, or, with none, the
/// alert a router without a certificate gives a rustls client.
fn acceptor(shared: Arc<Shared>) -> Acceptor {
    Arc::new(move |tcp: SharedSocket| {
        let config = certificates::api_ssl_certificate(&shared).and_then(|(.., config)| config);
        Box::pin(async move {
            match config {
                Some(config) => TlsAcceptor::from(config)
                    .accept(tcp)
                    .await
                    .ok()
                    .map(|tls| Box::new(tls) as BoxedStream),
                None => {
                    refuse_handshake(tcp).await;
                    None
                }
            }
        })
    })
}

/// Reads what the client sends first (a ClientHello, or anything else),
/// answers a `handshake_failure` alert and closes.
async fn refuse_handshake(mut tcp: SharedSocket) {
    let exchange = async {
        let mut hello = [0u8; 4096];
        if let Ok(1..) = tcp.read(&mut hello).await {
            let _ = tcp.write_all(&HANDSHAKE_FAILURE_ALERT).await;
            let _ = tcp.flush().await;
        }
        tcp.shutdown_write();
        // Read until the client closes: closing with unread input would
        // reset the connection and could destroy the alert before it is read.
        while let Ok(1..) = tcp.read(&mut hello).await {}
    };
    let limit = async {
        Timer::after(Duration::from_secs(5)).await;
    };
    session::race(exchange, limit).await;
}
