//! The certificate bootstrap on routers that are not fresh: certificates
//! that cannot serve, a port that presents another certificate, a working
//! certificate, changed options, failed and concurrent runs, reconnects,
//! and a deadline on the runtime's clock. Each test fails with the
//! bootstrap before these rules (issue 28).
#![cfg(feature = "testing-tls")]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mikrotik_rs::runtime::default_runtime;
use mikrotik_rs::testing::{MockRouter, Reply, Script, VirtualTime};
use mikrotik_rs::tls::{
    BootstrapOptions, CertificateAction, DEFAULT_CERTIFICATE_NAME, bootstrap_certificate,
};
use mikrotik_rs::{MikrotikDevice, ReconnectPolicy};

/// The bootstrap's defaults, checking the pin on the mock's address.
fn bootstrap_options() -> BootstrapOptions {
    BootstrapOptions::new().verify_host("127.0.0.1")
}

async fn plain(address: &str) -> MikrotikDevice {
    MikrotikDevice::builder(address).connect().await.unwrap()
}

async fn reconnecting(router: &MockRouter) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(50)),
        )
        .connect()
        .await
        .unwrap()
}

const SERVER: &str = "digital-signature,key-encipherment,tls-server";

/// Item 1: a certificate named like the bootstrap's own is reused only if
/// it can serve API-SSL.
async fn item1_an_unfit_certificate_is_not_reused() {
    let cases: [&[(&str, &str)]; 5] = [
        &[(
            "key-usage",
            "digital-signature,key-cert-sign,crl-sign,tls-server",
        )],
        &[("key-usage", "digital-signature,key-encipherment,tls-client")],
        &[("key-usage", SERVER), ("expired", "true")],
        &[("key-usage", SERVER), ("revoked", "true")],
        &[("key-usage", SERVER), ("private-key", "false")],
    ];
    for case in cases {
        let router = MockRouter::builder().api_ssl().start();
        let mut attributes = vec![
            ("name", DEFAULT_CERTIFICATE_NAME),
            ("common-name", DEFAULT_CERTIFICATE_NAME),
        ];
        attributes.extend_from_slice(case);
        let unfit = router.add_certificate(attributes).unwrap();
        let device = plain(&router.address()).await;
        let made = bootstrap_certificate(&device, bootstrap_options())
            .await
            .unwrap();
        assert_ne!(made.fingerprint, unfit, "{case:?} was reused");
        assert!(made.created, "{case:?}");
        assert_eq!(made.action, CertificateAction::Made, "{case:?}");
        // The unfit one is left alone; the new one takes the next name.
        assert_eq!(made.name, format!("{DEFAULT_CERTIFICATE_NAME}-2"));
        assert!(made.reason.contains("cannot serve"), "{}", made.reason);
        assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));

        // Asked for by name, it is refused with the reason, not assigned.
        let error = bootstrap_certificate(
            &device,
            bootstrap_options().existing(DEFAULT_CERTIFICATE_NAME),
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("cannot serve"), "{error}");
        assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
    }

    // A CA is reused when the user asks for one.
    let router = MockRouter::builder().api_ssl().start();
    let ca = router
        .add_certificate([
            ("name", DEFAULT_CERTIFICATE_NAME),
            ("common-name", DEFAULT_CERTIFICATE_NAME),
        ])
        .unwrap();
    let device = plain(&router.address()).await;
    let made = bootstrap_certificate(&device, bootstrap_options().allow_ca(true))
        .await
        .unwrap();
    assert_eq!(made.fingerprint, ca);
    assert_eq!(made.action, CertificateAction::Reused);
}

/// Item 2: the pin is checked with a handshake; a port that presents
/// another certificate fails the bootstrap, saying which.
async fn item2_the_pin_is_checked_against_the_port() {
    let router = MockRouter::builder().api_ssl().start();
    let other = router
        .add_certificate([
            ("name", "other"),
            ("common-name", "other"),
            ("key-usage", SERVER),
        ])
        .unwrap();
    router.api_ssl_present_instead(Some("other"));
    let device = plain(&router.address()).await;
    let error = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap_err();
    assert!(error.to_string().contains(&other.to_string()), "{error}");
    assert!(error.to_string().contains("presents"), "{error}");
    assert!(matches!(error, mikrotik_rs::Error::Tls { .. }), "{error:?}");

    // Presenting what it was given, the port is returned with the pin.
    router.api_ssl_present_instead(None);
    let made = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert_eq!(made.port, router.api_ssl_addr().unwrap().port());
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
}

/// Item 3: what api-ssl serves and can serve is pinned, not replaced; an
/// unfit one it serves is replaced, and the result says so.
async fn item3_a_working_certificate_is_not_replaced() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let before = router.api_ssl_fingerprint().unwrap();
    let device = plain(&router.address()).await;
    let made = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert_eq!(made.fingerprint, before);
    assert_eq!(router.api_ssl_fingerprint(), Some(before));
    assert_eq!(router.items("/certificate").len(), 1, "nothing made");
    assert_eq!(made.action, CertificateAction::Reused);
    assert_eq!(made.name, "mock-api-ssl");
    assert!(made.replaced.is_none());

    // Served but expired: replaced, and reported.
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let old = router.api_ssl_fingerprint().unwrap();
    router.set_item("/certificate", "mock-api-ssl", [("expired", "true")]);
    let device = plain(&router.address()).await;
    let made = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert_eq!(made.action, CertificateAction::Made);
    let replaced = made.replaced.expect("the expired one is reported");
    assert_eq!(replaced.name, "mock-api-ssl");
    assert_eq!(replaced.fingerprint, Some(old));
    assert!(replaced.reason.contains("expired"), "{}", replaced.reason);
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
}

/// Item 4: changed options are reported, not silently dropped, and applied
/// only by an explicit rotation, which reports the old and new pins.
async fn item4_changed_options_are_reported_and_applied_by_rotation() {
    let router = MockRouter::builder().api_ssl().start();
    let device = plain(&router.address()).await;
    let first = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert!(first.differences.is_empty(), "{:?}", first.differences);

    let changed = || {
        bootstrap_options()
            .subject_alt_name("IP:127.0.0.1")
            .days_valid(30)
    };
    let again = bootstrap_certificate(&device, changed()).await.unwrap();
    assert_eq!(again.fingerprint, first.fingerprint, "not applied");
    assert_eq!(again.action, CertificateAction::Reused);
    let attributes: Vec<_> = again.differences.iter().map(|d| d.attribute).collect();
    assert_eq!(attributes, ["subject-alt-name", "days-valid"]);
    assert_eq!(again.differences[0].wanted, "IP:127.0.0.1");
    assert_eq!(again.differences[1].found, "3650");

    let rotated = bootstrap_certificate(&device, changed().rotate(true))
        .await
        .unwrap();
    assert_ne!(rotated.fingerprint, first.fingerprint);
    assert_eq!(rotated.action, CertificateAction::Made);
    assert!(rotated.differences.is_empty());
    let replaced = rotated.replaced.expect("the old certificate is reported");
    assert_eq!(replaced.fingerprint, Some(first.fingerprint));
    assert_eq!(router.api_ssl_fingerprint(), Some(rotated.fingerprint));
    let rows = router.items("/certificate");
    let new = rows
        .iter()
        .find(|row| {
            row.iter()
                .any(|(k, v)| k == "name" && *v == rotated.name.as_bytes())
        })
        .unwrap();
    assert!(
        new.iter()
            .any(|(k, v)| k == "subject-alt-name" && v == b"IP:127.0.0.1")
    );
}

/// Item 5: a run the router refuses leaves nothing that blocks the next,
/// and a template an earlier run left with other options is made again.
async fn item5_a_failed_run_does_not_block_the_next() {
    let router = MockRouter::builder().api_ssl().start();
    let device = plain(&router.address()).await;
    let error = bootstrap_certificate(&device, bootstrap_options().subject_alt_name("IP:nope"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("IP:nope"), "{error}");
    assert!(
        router.items("/certificate").is_empty(),
        "the refused template is removed"
    );
    let made = bootstrap_certificate(
        &device,
        bootstrap_options().subject_alt_name("IP:127.0.0.1"),
    )
    .await
    .unwrap();
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));

    // A run killed before it could clean up: its template is recognised.
    let router = MockRouter::builder().api_ssl().start();
    router
        .add_item(
            "/certificate",
            [
                ("name", DEFAULT_CERTIFICATE_NAME),
                ("common-name", DEFAULT_CERTIFICATE_NAME),
                ("subject-alt-name", "IP:nope"),
                ("key-usage", SERVER),
            ],
        )
        .unwrap();
    let device = plain(&router.address()).await;
    let made = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert_eq!(made.action, CertificateAction::Made);
    assert_eq!(router.items("/certificate").len(), 1);
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
}

/// Item 6: two runs at once, on two connections, end with one certificate.
async fn item6_two_runs_at_once_agree() {
    let router = MockRouter::builder().api_ssl().start();
    let first = plain(&router.address()).await;
    let second = plain(&router.address()).await;
    let (a, b) = futures_util::future::join(
        bootstrap_certificate(&first, bootstrap_options()),
        bootstrap_certificate(&second, bootstrap_options()),
    )
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(router.api_ssl_fingerprint(), Some(a.fingerprint));
    assert_eq!(router.items("/certificate").len(), 1);
    let signs = router
        .received_paths()
        .iter()
        .filter(|p| *p == "/certificate/sign")
        .count();
    // The run that loses the add waits for the winner's signature; one that
    // reads the certificates after the winner's add finds its template and
    // signs it too, and the sign that ends second finds it signed.
    assert!(
        (1..=2).contains(&signs),
        "{signs} signs: {:?}",
        router.received_paths()
    );
    assert!(
        a.action == CertificateAction::Made || b.action == CertificateAction::Made,
        "{:?} {:?}",
        a.action,
        b.action
    );
}

/// Item 7: a reconnect while waiting for the signature resumes the wait.
async fn item7_a_reconnect_while_waiting_for_the_signature_resumes() {
    let router = MockRouter::builder()
        .api_ssl()
        .script("/certificate/sign", Script::done())
        .start();
    let device = reconnecting(&router).await;
    let signer = async {
        common::wait_until(
            || {
                router
                    .received_paths()
                    .iter()
                    .any(|p| p == "/certificate/listen")
            },
            "the bootstrap listens",
        )
        .await;
        router.drop_connections();
        common::wait_until(|| router.sessions_accepted() >= 2, "reconnected").await;
        router.sign_certificate(DEFAULT_CERTIFICATE_NAME).unwrap();
    };
    let (made, ()) =
        futures_util::future::join(bootstrap_certificate(&device, bootstrap_options()), signer)
            .await;
    let made = made.unwrap();
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
}

/// Item 7: a connection lost while signing (the router restarted, the sign
/// never finished) is signed again once reconnected.
async fn item7_a_restart_while_signing_signs_again() {
    let router = MockRouter::builder()
        .api_ssl()
        .certificate_signing_time(Duration::from_secs(2))
        .start();
    let device = reconnecting(&router).await;
    let restart = async {
        common::wait_until(
            || {
                router
                    .received_paths()
                    .iter()
                    .any(|p| p == "/certificate/sign")
            },
            "signing",
        )
        .await;
        router.drop_connections();
    };
    let (made, ()) =
        futures_util::future::join(bootstrap_certificate(&device, bootstrap_options()), restart)
            .await;
    let made = made.unwrap();
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
    assert_eq!(router.items("/certificate").len(), 1);
    let signs = router
        .received_paths()
        .iter()
        .filter(|p| *p == "/certificate/sign")
        .count();
    assert_eq!(signs, 2, "signed again after the reconnect");
}

/// Item 7: the overall limit runs on the runtime's clock: a 10 s limit fails
/// once 10 virtual seconds have passed, however little real time did.
async fn item7_the_timeout_runs_on_the_runtime_clock() {
    let router = MockRouter::builder()
        .api_ssl()
        .script(
            "/certificate/sign",
            Script::Reply(Reply::new().delay(Duration::from_millis(500))),
        )
        .start();
    let time = VirtualTime::new(default_runtime().unwrap());
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .connect()
        .await
        .unwrap();
    let options = bootstrap_options()
        .runtime(Arc::new(time.clone()))
        .timeout(Duration::from_secs(10));
    let finished = AtomicBool::new(false);
    let clock = async {
        common::wait_until(
            || {
                router
                    .received_paths()
                    .iter()
                    .any(|p| p == "/certificate/sign")
            },
            "signing",
        )
        .await;
        time.advance(Duration::from_secs(9));
        common::wait_until(
            || {
                router
                    .received_paths()
                    .iter()
                    .any(|p| p == "/certificate/listen")
            },
            "listening",
        )
        .await;
        // Still waiting at 9 virtual seconds (the listen is answered at once;
        // a real moment passes for the bootstrap to read it).
        async_io::Timer::after(Duration::from_millis(200)).await;
        assert!(!finished.load(Ordering::SeqCst), "ended before its limit");
        time.advance(Duration::from_secs(2));
    };
    let run = async {
        let limit = async_io::Timer::after(Duration::from_secs(10));
        let bootstrap = async {
            let result = bootstrap_certificate(&device, options).await;
            finished.store(true, Ordering::SeqCst);
            result
        };
        futures_util::future::select(Box::pin(bootstrap), Box::pin(limit)).await
    };
    let (outcome, ()) = futures_util::future::join(run, clock).await;
    match outcome {
        futures_util::future::Either::Left((result, _)) => {
            let error = result.unwrap_err();
            assert!(error.is_timeout(), "{error:?}");
        }
        futures_util::future::Either::Right(_) => {
            panic!("11 virtual seconds passed and a 10 s bootstrap went on")
        }
    }
}

on_every_runtime![
    item1_an_unfit_certificate_is_not_reused,
    item2_the_pin_is_checked_against_the_port,
    item3_a_working_certificate_is_not_replaced,
    item4_changed_options_are_reported_and_applied_by_rotation,
    item5_a_failed_run_does_not_block_the_next,
    item6_two_runs_at_once_agree,
    item7_a_reconnect_while_waiting_for_the_signature_resumes,
    item7_a_restart_while_signing_signs_again,
    item7_the_timeout_runs_on_the_runtime_clock,
];
