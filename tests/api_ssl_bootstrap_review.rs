//! Review of issue 28 (branch i28): reproductions of ways the certificate
//! bootstrap still fails on routers that are not fresh. Each test states
//! what the bootstrap promises and FAILS on i28 where it does not hold.
#![cfg(feature = "testing-tls")]
mod common;

use std::sync::Arc;
use std::time::Duration;

use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs::tls::{
    BootstrapOptions, CertificateAction, DEFAULT_CERTIFICATE_NAME, bootstrap_certificate,
};

const SERVER: &str = "digital-signature,key-encipherment,tls-server";

fn options() -> BootstrapOptions {
    BootstrapOptions::new().verify_host("127.0.0.1")
}

async fn plain(router: &MockRouter) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .connect()
        .await
        .unwrap()
}

/// `(name, fingerprint or "UNSIGNED", authority)` of every certificate.
fn certificates(router: &MockRouter) -> Vec<(String, String, String)> {
    router
        .items("/certificate")
        .iter()
        .map(|row| {
            let get = |key: &str| {
                row.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            };
            let fingerprint = get("fingerprint").filter(|f| !f.is_empty());
            (
                get("name").unwrap_or_default(),
                fingerprint.map_or("UNSIGNED".into(), |f| f[..8].to_owned()),
                get("authority").unwrap_or_default(),
            )
        })
        .collect()
}

/// A certificate with the bootstrap's name that cannot serve (a CA: RouterOS's
/// default key usage), so the bootstrap works on `<name>-2`.
fn unfit_base_certificate(router: &MockRouter) {
    router
        .add_certificate([
            ("name", DEFAULT_CERTIFICATE_NAME),
            ("common-name", DEFAULT_CERTIFICATE_NAME),
        ])
        .unwrap();
}

/// Docs: "A run cut short while signing leaves an unsigned template, which
/// the next run signs." Not when the run worked on `<name>-2`: the next run
/// looks only at `<name>`, skips the taken `-2` and makes `-3`; the `-2`
/// template stays unsigned on the router for good.
async fn a_suffixed_template_left_by_a_cut_short_run_is_signed_by_the_next() {
    let router = MockRouter::builder()
        .api_ssl()
        .certificate_signing_time(Duration::from_secs(2))
        .start();
    unfit_base_certificate(&router);
    let device = plain(&router).await;
    let error = bootstrap_certificate(&device, options().timeout(Duration::from_millis(600)))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    let after_cut = certificates(&router);

    let made = bootstrap_certificate(&device, options()).await.unwrap();
    let names = certificates(&router);
    assert_eq!(
        made.name,
        format!("{DEFAULT_CERTIFICATE_NAME}-2"),
        "after the cut-short run: {after_cut:?}; after the rerun: {names:?}"
    );
}

/// Every rerun after a run cut short between signing and assigning (the
/// router stopped answering `/ip/service/set`) makes one more `<name>-N`:
/// the signed, fit `-2` it left is never looked at again.
async fn reruns_cut_short_before_assigning_do_not_pile_up_certificates() {
    let router = MockRouter::builder().api_ssl().start();
    unfit_base_certificate(&router);
    let device = plain(&router).await;
    router.set_script("/ip/service/set", Script::Silent);
    for _ in 0..3 {
        let error = bootstrap_certificate(&device, options().timeout(Duration::from_secs(2)))
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
    }
    router.remove_script("/ip/service/set");
    let made = bootstrap_certificate(&device, options()).await.unwrap();
    let names = certificates(&router);
    assert!(
        names.len() <= 2,
        "made {:?}; the router now holds {} certificates: {names:?}",
        made.name,
        names.len()
    );
}

/// `existing(name)` docs: "It must be fit to serve API-SSL". An unsigned
/// template is signed and assigned without that check: a template with
/// RouterOS's default key usage becomes a CA served by api-ssl, one with
/// tls-client usage a certificate "not meant for a TLS server".
async fn an_existing_template_is_checked_for_fitness_after_signing() {
    let mut accepted = Vec::new();
    for usage in [None, Some("digital-signature,key-encipherment,tls-client")] {
        let router = MockRouter::builder().api_ssl().start();
        let mut template = vec![("name", "manual"), ("common-name", "manual")];
        if let Some(usage) = usage {
            template.push(("key-usage", usage));
        }
        router.add_item("/certificate", template).unwrap();
        let device = plain(&router).await;
        let outcome = bootstrap_certificate(&device, options().existing("manual")).await;
        if let Ok(made) = &outcome {
            accepted.push(format!(
                "key usage {usage:?}: Ok({:?}, {:?}); api-ssl now serves {:?} \
                 (name, fingerprint, authority): {:?}",
                made.action,
                made.reason,
                made.name,
                certificates(&router)
            ));
        }
    }
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
}

/// Two runs at once with different options. `make` refuses the second with
/// "a concurrent run is making … with other options"; but a second run that
/// reads the certificates while the first is signing takes the first's
/// template for a leftover with other options and removes it under it.
async fn a_concurrent_run_with_other_options_leaves_the_running_template_alone() {
    let router = MockRouter::builder()
        .api_ssl()
        .certificate_signing_time(Duration::from_secs(2))
        .start();
    let first = plain(&router).await;
    let second = plain(&router).await;
    let later = async {
        common::wait_until(
            || {
                router
                    .received_paths()
                    .iter()
                    .any(|p| p == "/certificate/sign")
            },
            "the first run signs",
        )
        .await;
        bootstrap_certificate(&second, options().subject_alt_name("IP:127.0.0.1")).await
    };
    let (a, b) = futures_util::future::join(bootstrap_certificate(&first, options()), later).await;
    let paths: Vec<String> = router
        .received_paths()
        .into_iter()
        .filter(|p| p.starts_with("/certificate/") && p != "/certificate/print")
        .collect();
    let names = router
        .items("/certificate")
        .iter()
        .flat_map(|row| row.iter().filter(|(k, _)| k == "subject-alt-name"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect::<Vec<_>>();
    let summary = format!(
        "first (asked for no subject-alt-name): {:?}\nsecond: {:?}\ncertificates: {:?}\n\
         their subject-alt-name: {names:?}\ncommands: {paths:?}",
        a.as_ref()
            .map(|m| (&m.name, m.action, m.fingerprint.to_string())),
        b.as_ref()
            .map(|m| (&m.name, m.action, m.fingerprint.to_string())),
        certificates(&router),
    );
    assert!(
        !paths.iter().any(|p| p == "/certificate/remove"),
        "the second run removed the first's template\n{summary}"
    );
    let a = a.expect(&summary);
    assert_eq!(a.action, CertificateAction::Made, "{summary}");
    assert_eq!(
        router.api_ssl_fingerprint(),
        Some(a.fingerprint),
        "{summary}"
    );
}

/// The run that loses `/certificate/add` waits for the winner's signature.
/// When the winner dies after its add (killed, its future dropped, its
/// router link gone), nobody signs: the loser waits out its whole timeout
/// (forever with `timeout(None)`) on an idle router, then fails, though it
/// could sign the template itself as a run that finds it leftover does.
async fn a_run_whose_concurrent_winner_died_does_not_wait_out_its_timeout() {
    let router = Arc::new(MockRouter::builder().api_ssl().start());
    // The winner's add lands between this run's print and its add; then the
    // winner dies without signing.
    winner_adds_first(
        &router,
        false,
        &[
            ("name", DEFAULT_CERTIFICATE_NAME),
            ("common-name", DEFAULT_CERTIFICATE_NAME),
            ("key-size", "prime256v1"),
            ("days-valid", "3650"),
            ("key-usage", SERVER),
        ],
    );
    let device = plain(&router).await;
    let outcome = bootstrap_certificate(&device, options().timeout(Duration::from_secs(3))).await;
    let left = certificates(&router);
    let made = outcome.unwrap_or_else(|error| {
        panic!(
            "{error}\ncertificates: {left:?}\ncommands: {:?}",
            router.received_paths()
        )
    });
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
}

/// Makes every `/certificate/add` lose the race: a concurrent run's add of
/// `attributes` (signed already when `signed`) lands just before it, and the
/// router answers "already exists".
fn winner_adds_first(
    router: &Arc<MockRouter>,
    signed: bool,
    attributes: &'static [(&'static str, &'static str)],
) {
    let weak = Arc::downgrade(router);
    router.set_script(
        "/certificate/add",
        Script::custom(move |sentence| {
            if let Some(router) = weak.upgrade() {
                if signed {
                    let _ = router.add_certificate(attributes.iter().copied());
                } else {
                    let _ = router.add_item("/certificate", attributes.iter().copied());
                }
            }
            let tag = sentence
                .words()
                .find_map(|w| w.strip_prefix(b".tag=").map(<[u8]>::to_vec))
                .unwrap_or_default();
            let tag = [b".tag=".as_slice(), &tag].concat();
            vec![
                vec![
                    b"!trap".to_vec(),
                    tag.clone(),
                    b"=category=1".to_vec(),
                    b"=message=failure: item with such name already exists".to_vec(),
                ],
                vec![b"!done".to_vec(), tag],
            ]
        }),
    );
}

/// Item 4 again, through the race: a run asking for a subject-alt-name that
/// loses the add to a run without one takes the winner's certificate as
/// `Reused` with NO differences reported: the option is silently dropped.
async fn a_run_that_loses_the_race_reports_its_differing_options() {
    let router = Arc::new(MockRouter::builder().api_ssl().start());
    winner_adds_first(
        &router,
        true,
        &[
            ("name", DEFAULT_CERTIFICATE_NAME),
            ("common-name", DEFAULT_CERTIFICATE_NAME),
            ("key-size", "prime256v1"),
            ("days-valid", "3650"),
            ("key-usage", SERVER),
        ],
    );
    let device = plain(&router).await;
    let made = bootstrap_certificate(&device, options().subject_alt_name("IP:127.0.0.1"))
        .await
        .unwrap();
    let names: Vec<Vec<String>> = router
        .items("/certificate")
        .iter()
        .map(|row| {
            row.iter()
                .filter(|(k, _)| k == "name" || k == "subject-alt-name")
                .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v)))
                .collect()
        })
        .collect();
    assert!(
        !made.differences.is_empty(),
        "{:?} {:?} ({:?}), differences {:?}; certificates: {names:?}",
        made.name,
        made.action,
        made.reason,
        made.differences,
    );
}

/// A run whose final check fails has already switched api-ssl: with
/// `rotate(true)` and a `verify_host` that does not answer, the call fails,
/// returns no pin, and every client pinned to the old certificate is cut off.
async fn a_failed_verification_leaves_the_service_as_it_was() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let before = router.api_ssl_fingerprint().unwrap();
    let device = plain(&router).await;
    let error = bootstrap_certificate(
        &device,
        BootstrapOptions::new()
            .verify_host("127.0.0.1:1")
            .rotate(true),
    )
    .await
    .unwrap_err();
    assert_eq!(
        router.api_ssl_fingerprint(),
        Some(before),
        "the call failed ({error}) but api-ssl was switched; certificates: {:?}",
        certificates(&router)
    );
}

/// `verify_host("host:port")` (a port forward) is where the check
/// handshakes, yet `port` (documented "the port ... the handshake checked:
/// the one to dial") and `BootstrapStage::Verifying` report the service's
/// own port, which is not reachable from here.
async fn the_returned_port_is_the_one_the_handshake_checked() {
    let router = MockRouter::builder().api_ssl().start();
    let forwarded = router.api_ssl_addr().unwrap().port();
    // The router's service listens on 8729; the client reaches it forwarded.
    assert!(router.set_item("/ip/service", "api-ssl", [("port", "8729")]));
    let device = plain(&router).await;
    let made = bootstrap_certificate(
        &device,
        BootstrapOptions::new().verify_host(format!("127.0.0.1:{forwarded}")),
    )
    .await
    .unwrap();
    assert_eq!(made.port, forwarded, "the handshake checked {forwarded}");
}

/// Mock fidelity: with `enable_service(false)` and api-ssl disabled, the
/// bootstrap "verifies" the pin against a service that a router would not
/// run at all, and returns Ok: the mock presents the certificate whatever
/// `disabled` says, so no test can show what a disabled service does.
async fn a_disabled_service_is_not_verified_as_serving() {
    let router = MockRouter::builder().api_ssl().start();
    assert!(router.set_item("/ip/service", "api-ssl", [("disabled", "true")]));
    let device = plain(&router).await;
    let outcome = bootstrap_certificate(&device, options().enable_service(false)).await;
    assert!(
        outcome.is_err(),
        "Ok for a disabled api-ssl: {:?}",
        outcome.map(|m| (m.action, m.port))
    );
}

macro_rules! on_smol {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            common::on_smol(super::$name());
        }
    )*};
}

mod smol_runtime {
    use super::common;
    on_smol![
        a_suffixed_template_left_by_a_cut_short_run_is_signed_by_the_next,
        reruns_cut_short_before_assigning_do_not_pile_up_certificates,
        an_existing_template_is_checked_for_fitness_after_signing,
        a_concurrent_run_with_other_options_leaves_the_running_template_alone,
        a_run_whose_concurrent_winner_died_does_not_wait_out_its_timeout,
        a_run_that_loses_the_race_reports_its_differing_options,
        a_failed_verification_leaves_the_service_as_it_was,
        the_returned_port_is_the_one_the_handshake_checked,
        a_disabled_service_is_not_verified_as_serving,
    ];
}
