//! API-SSL end to end: real TLS handshakes between the device and a MockRouter
//! speaking TLS, with certificates generated for each test.
#![cfg(feature = "_tls")]

mod common;

#[cfg(feature = "tls-aws-lc-rs")]
use std::sync::Arc;
use std::time::Duration;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use mikrotik_rs::tls::{self, CertificateFingerprint, TlsFailure, TlsOptions};
use mikrotik_rs::{Error, MikrotikDevice};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A CA and a router certificate it signed, made fresh for one test.
struct Pki {
    ca_pem: String,
    router_der: CertificateDer<'static>,
    router_key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    fn new(router_names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca_pem = ca_params.self_signed(&ca_key).unwrap().pem();
        let issuer = Issuer::new(ca_params, ca_key);
        let mut params = CertificateParams::new(
            router_names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let router = params.signed_by(&key, &issuer).unwrap();
        Self {
            ca_pem,
            router_der: router.der().clone(),
            router_key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    fn router(&self) -> MockRouter {
        let key = PrivateKeyDer::Pkcs8(self.router_key.clone_key());
        let config =
            mikrotik_rs::testing::tls_server_config(vec![self.router_der.clone()], key).unwrap();
        MockRouter::builder().tls(config).start()
    }

    fn fingerprint(&self) -> CertificateFingerprint {
        CertificateFingerprint::of_certificate(&self.router_der)
    }
}

async fn identity(device: &MikrotikDevice) -> String {
    let mut replies = device
        .send_command(
            CommandBuilder::new()
                .command("/system/identity/print")
                .build(),
        )
        .await
        .unwrap();
    let mut name = String::new();
    while let Some(reply) = replies.recv().await {
        if let CommandResponse::Reply(row) = reply.unwrap() {
            name = row.get("name").unwrap().to_owned();
        }
    }
    name
}

async fn connect(router: &MockRouter, options: TlsOptions) -> Result<MikrotikDevice, Error> {
    MikrotikDevice::builder(router.address())
        .tls(options)
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

async fn custom_ca_by_ip_san() {
    let pki = Pki::new(&["127.0.0.1"], |_| {});
    let router = pki.router();
    let device = connect(&router, TlsOptions::custom_ca_pem(&pki.ca_pem).unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

async fn pinned_fingerprint_of_a_certificate_for_another_name() {
    // Pinning identifies the exact certificate: names do not matter.
    let pki = Pki::new(&["router.invalid"], |_| {});
    let router = pki.router();
    let pin = pki.fingerprint().to_string();
    let device = connect(&router, TlsOptions::pinned_sha256(&pin).unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

async fn wrong_pin_is_rejected_and_names_the_presented_fingerprint() {
    let pki = Pki::new(&["127.0.0.1"], |_| {});
    let router = pki.router();
    let wrong = "00".repeat(32);
    let error = connect(&router, TlsOptions::pinned_sha256(&wrong).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&pki.fingerprint().to_string()),
        "{error}"
    );
    assert_eq!(tls::presented_fingerprint(&error), Some(pki.fingerprint()));
    match error.tls_failure() {
        Some(TlsFailure::PinMismatch { presented, .. }) => assert_eq!(presented, pki.fingerprint()),
        other => panic!("not a pin mismatch: {other:?}"),
    }
}

async fn wrong_ca_is_rejected() {
    let pki = Pki::new(&["127.0.0.1"], |_| {});
    let other = Pki::new(&["127.0.0.1"], |_| {});
    let router = pki.router();
    let error = connect(&router, TlsOptions::custom_ca_pem(&other.ca_pem).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert_eq!(
        error.tls_failure().and_then(|failure| failure.presented()),
        Some(pki.fingerprint())
    );
    // Both CAs have the same (empty) name, so the certificate seems to be
    // the other CA's and its signature does not verify.
    assert!(
        matches!(
            error.tls_failure(),
            Some(TlsFailure::CertificateRejected { .. })
        ),
        "{error:?}"
    );
}

async fn expired_certificate_is_rejected_by_ca_verification() {
    let pki = Pki::new(&["127.0.0.1"], |params| {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let router = pki.router();
    let error = connect(&router, TlsOptions::custom_ca_pem(&pki.ca_pem).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(
        error.to_string().to_lowercase().contains("expired"),
        "{error}"
    );
    assert!(
        matches!(error.tls_failure(), Some(TlsFailure::Expired { .. })),
        "{error:?}"
    );
}

async fn accept_any_is_explicit_and_works() {
    let pki = Pki::new(&["router.invalid"], |_| {});
    let router = pki.router();
    let device = connect(&router, TlsOptions::dangerous_accept_any_certificate())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

async fn tls_to_a_plain_port_fails_instead_of_talking_plain_text() {
    let plain = MockRouter::start();
    let error = connect(&plain, TlsOptions::dangerous_accept_any_certificate())
        .await
        .unwrap_err();
    // Never a bare connect timeout: the handshake's silence is explained.
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(
        plain.received().iter().all(|s| s.path() != "/login"),
        "no login was sent in clear text"
    );
}

async fn the_default_port_is_8729_with_tls() {
    // Nothing listens on 127.0.0.1:8729 here (or it is not ours): the attempt
    // must go there, not to 8728.
    let result = MikrotikDevice::builder("127.0.0.1")
        .tls(TlsOptions::dangerous_accept_any_certificate())
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await;
    match result {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => assert!(other.is_err(), "{other:?}"),
    }
}

/// A user-supplied `ClientConfig` is used as given: here one on the aws-lc-rs
/// provider, so both providers see a real handshake in one test run.
#[cfg(feature = "tls-aws-lc-rs")]
async fn user_client_config_on_aws_lc_rs() {
    use mikrotik_rs::tls::rustls::{ClientConfig, RootCertStore, crypto::aws_lc_rs};
    let pki = Pki::new(&["127.0.0.1"], |_| {});
    let router = pki.router();
    let mut roots = RootCertStore::empty();
    let ca = rustls_pki_ca(&pki.ca_pem);
    roots.add(ca).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let device = connect(&router, TlsOptions::client_config(Arc::new(config)))
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

#[cfg(feature = "tls-aws-lc-rs")]
fn rustls_pki_ca(pem: &str) -> CertificateDer<'static> {
    use mikrotik_rs::tls::rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

#[cfg(feature = "tls-aws-lc-rs")]
on_every_runtime![user_client_config_on_aws_lc_rs];

on_every_runtime![
    custom_ca_by_ip_san,
    pinned_fingerprint_of_a_certificate_for_another_name,
    wrong_pin_is_rejected_and_names_the_presented_fingerprint,
    wrong_ca_is_rejected,
    expired_certificate_is_rejected_by_ca_verification,
    accept_any_is_explicit_and_works,
    tls_to_a_plain_port_fails_instead_of_talking_plain_text,
    the_default_port_is_8729_with_tls,
];

/// A router that drops the TCP connection without TLS's close_notify: the
/// streams see a close by the router, as over plain TCP, not an I/O error.
async fn close_without_close_notify_reads_as_a_close() {
    let pki = Pki::new(&["127.0.0.1"], |_| {});
    let router = pki.router();
    let pin = pki.fingerprint().to_string();
    let device = connect(&router, TlsOptions::pinned_sha256(&pin).unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
    let mut listen = device
        .send_command(CommandBuilder::new().command("/interface/listen").build())
        .await
        .unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/interface/listen"),
                Duration::from_secs(10)
            )
            .await
    );
    router.drop_connections();
    let last = listen.recv().await;
    assert!(
        matches!(last, Some(Err(Error::ConnectionClosed { .. }))),
        "{last:?}"
    );
    assert!(matches!(
        device.closed_reason(),
        Some(Error::ConnectionClosed { .. })
    ));
}

on_every_runtime![close_without_close_notify_reads_as_a_close];
