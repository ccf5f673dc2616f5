//! API-SSL on a router as it comes: the certificate bootstrap end to end
//! against the mock's plain and API-SSL ports, the mock's own self-signed
//! certificate, and port mix-ups that explain themselves.
#![cfg(feature = "testing-tls")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs::tls::{
    BootstrapOptions, BootstrapStage, DEFAULT_CERTIFICATE_NAME, TlsOptions, bootstrap_certificate,
};
use mikrotik_rs::{Error, MikrotikDevice};

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

async fn plain(address: &str) -> Result<MikrotikDevice, Error> {
    MikrotikDevice::builder(address)
        .connect_timeout(Duration::from_secs(5))
        .login_timeout(Duration::from_secs(5))
        .connect()
        .await
}

async fn secure(address: &str, options: TlsOptions) -> Result<MikrotikDevice, Error> {
    MikrotikDevice::builder(address)
        .tls(options)
        .connect_timeout(Duration::from_secs(5))
        .login_timeout(Duration::from_secs(5))
        .connect()
        .await
}

/// The bootstrap's defaults, checking the pin on the mock's address.
fn bootstrap_options() -> BootstrapOptions {
    BootstrapOptions::new().verify_host("127.0.0.1")
}

/// Bootstrap options that record every stage they report.
fn recorded(options: BootstrapOptions) -> (BootstrapOptions, Arc<Mutex<Vec<BootstrapStage>>>) {
    let stages = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&stages);
    let options = options.on_progress(move |stage| sink.lock().unwrap().push(stage.clone()));
    (options, stages)
}

fn certificates(router: &MockRouter) -> Vec<Vec<(String, Vec<u8>)>> {
    router.items("/certificate")
}

fn value<'a>(row: &'a [(String, Vec<u8>)], key: &str) -> Option<&'a str> {
    row.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

async fn bootstrap_over_the_plain_port_then_connect_over_api_ssl_then_reuse() {
    let router = MockRouter::builder().api_ssl().start();
    let api_ssl = router.api_ssl_address().unwrap();

    // As it comes: no certificate, and the error points to the bootstrap.
    let error = secure(&api_ssl, TlsOptions::dangerous_accept_any_certificate())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(
        error.to_string().contains("bootstrap_certificate"),
        "{error}"
    );
    assert_eq!(router.api_ssl_fingerprint(), None);

    let device = plain(&router.address()).await.unwrap();
    let (options, stages) = recorded(bootstrap_options());
    let made = bootstrap_certificate(&device, options).await.unwrap();
    assert!(made.created);
    assert_eq!(made.name, DEFAULT_CERTIFICATE_NAME);
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
    {
        let stages = stages.lock().unwrap();
        assert_eq!(stages.first(), Some(&BootstrapStage::Checking));
        assert!(stages.contains(&BootstrapStage::Creating), "{stages:?}");
        assert!(
            stages.iter().any(|s| matches!(
                s,
                BootstrapStage::Signing { progress: Some(p) } if p == "done"
            )),
            "the router's own progress is reported: {stages:?}"
        );
        assert!(stages.contains(&BootstrapStage::Assigning), "{stages:?}");
        assert_eq!(
            stages.last(),
            Some(&BootstrapStage::Done {
                fingerprint: made.fingerprint
            })
        );
    }
    // A server certificate with a fast key, not a CA.
    let [certificate] = &certificates(&router)[..] else {
        panic!("one certificate: {:?}", certificates(&router))
    };
    assert_eq!(
        value(certificate, "key-usage"),
        Some("digital-signature,key-encipherment,tls-server")
    );
    assert_eq!(value(certificate, "key-size"), Some("prime256v1"));
    assert_eq!(value(certificate, "authority"), Some("false"));

    // The returned pin reaches the router over API-SSL.
    let tls_device = secure(&api_ssl, made.tls.clone()).await.unwrap();
    assert_eq!(identity(&tls_device).await, "MikroTik");

    // A second run, over TLS this time, reuses what the first one made.
    let (options, stages) = recorded(bootstrap_options());
    let again = bootstrap_certificate(&tls_device, options).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.fingerprint, made.fingerprint);
    assert_eq!(certificates(&router).len(), 1, "no certificate piles up");
    let stages = stages.lock().unwrap();
    assert!(stages.contains(&BootstrapStage::Reusing), "{stages:?}");
    assert!(!stages.contains(&BootstrapStage::Creating), "{stages:?}");
    assert!(!stages.contains(&BootstrapStage::Assigning), "{stages:?}");
    assert!(
        router.received_count("/certificate/sign") == 1,
        "signed once: {:?}",
        router.received_paths()
    );
}

async fn a_bootstrap_past_its_timeout_fails_and_cancels_the_signing() {
    let router = MockRouter::builder()
        .api_ssl()
        .certificate_signing_time(Duration::from_secs(600))
        .start();
    let device = plain(&router.address()).await.unwrap();
    let error = bootstrap_certificate(
        &device,
        bootstrap_options().timeout(Duration::from_millis(300)),
    )
    .await
    .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        error.to_string().contains("certificate bootstrap"),
        "{error}"
    );
    assert!(!error.is_connection_error(), "the connection is fine");
    assert_eq!(identity(&device).await, "MikroTik");
    // The sign was cancelled on the router; the template is left unsigned.
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/cancel"),
                Duration::from_secs(10)
            )
            .await
    );
    let [template] = &certificates(&router)[..] else {
        panic!("one template: {:?}", certificates(&router))
    };
    assert_eq!(value(template, "fingerprint"), None);
    assert_eq!(router.api_ssl_fingerprint(), None);
}

async fn an_interrupted_template_is_signed_by_the_next_run() {
    let router = MockRouter::builder().api_ssl().start();
    let device = plain(&router.address()).await.unwrap();
    // What an interrupted run leaves behind: an unsigned template.
    let id = router
        .add_item(
            "/certificate",
            [
                ("name", DEFAULT_CERTIFICATE_NAME),
                ("common-name", DEFAULT_CERTIFICATE_NAME),
                ("key-size", "prime256v1"),
                ("key-usage", "digital-signature,key-encipherment,tls-server"),
            ],
        )
        .unwrap();
    let made = bootstrap_certificate(&device, bootstrap_options())
        .await
        .unwrap();
    assert!(made.created);
    assert!(
        router
            .received_paths()
            .iter()
            .all(|p| p != "/certificate/add"),
        "the template is signed, not added again"
    );
    assert_eq!(certificates(&router).len(), 1);
    assert_eq!(value(&certificates(&router)[0], ".id"), Some(id.as_str()));
    let tls_device = secure(&router.api_ssl_address().unwrap(), made.tls)
        .await
        .unwrap();
    assert_eq!(identity(&tls_device).await, "MikroTik");
}

/// A router that answers `/certificate/sign` before the certificate is
/// signed: the bootstrap listens for the change instead of failing.
async fn a_sign_answered_early_is_waited_for() {
    let router = MockRouter::builder()
        .api_ssl()
        .script("/certificate/sign", Script::done())
        .start();
    let device = plain(&router.address()).await.unwrap();
    let signer = async {
        let listening = router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/certificate/listen"),
                Duration::from_secs(10),
            )
            .await;
        assert!(
            listening,
            "the bootstrap listens: {:?}",
            router.received_paths()
        );
        router.sign_certificate(DEFAULT_CERTIFICATE_NAME).unwrap();
    };
    let (made, ()) =
        futures_util::future::join(bootstrap_certificate(&device, bootstrap_options()), signer)
            .await;
    let made = made.unwrap();
    assert_eq!(router.api_ssl_fingerprint(), Some(made.fingerprint));
    let services = router.items("/ip/service");
    let api_ssl = services
        .iter()
        .find(|row| value(row, "name") == Some("api-ssl"))
        .unwrap();
    assert_eq!(
        value(api_ssl, "certificate"),
        Some(DEFAULT_CERTIFICATE_NAME)
    );
}

async fn an_existing_certificate_is_assigned_and_a_missing_one_is_an_error() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let device = plain(&router.address()).await.unwrap();
    let before = router.api_ssl_fingerprint().unwrap();
    let found = bootstrap_certificate(&device, bootstrap_options().existing("mock-api-ssl"))
        .await
        .unwrap();
    assert!(!found.created);
    assert_eq!(found.fingerprint, before);

    let error = bootstrap_certificate(&device, bootstrap_options().existing("not-there"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(error.to_string().contains("not-there"), "{error}");
    assert_eq!(certificates(&router).len(), 1, "nothing was created");
}

async fn the_mock_speaks_api_ssl_with_its_own_certificate_in_one_line() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let address = router.api_ssl_address().unwrap();
    let device = secure(&address, router.api_ssl_tls_options().unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
    // Its PEM works as a trust anchor for CA verification of 127.0.0.1.
    let pem = router.api_ssl_certificate_pem().unwrap();
    let device = secure(&address, TlsOptions::custom_ca_pem(&pem).unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
    // The plain port of the same router still speaks the plain API.
    let device = plain(&router.address()).await.unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

/// As on RouterOS, the default key usage includes `key-cert-sign`, which
/// makes a certificate a CA: CA verification refuses it as the router's own
/// (and says why), pinning does not care. The bootstrap's usage avoids that.
async fn a_certificate_with_the_default_key_usage_is_a_ca_only_pinning_accepts() {
    let router = MockRouter::builder().api_ssl().start();
    let device = plain(&router.address()).await.unwrap();
    let run = |path: &str, attributes: &[(&str, &str)]| {
        let mut command = CommandBuilder::new().command(path);
        for (key, value) in attributes {
            command = command.attribute(key, Some(value));
        }
        device.collect(command.build())
    };
    let add = [
        ("name", "by-hand"),
        ("common-name", "127.0.0.1"),
        ("subject-alt-name", "IP:127.0.0.1"),
    ];
    run("/certificate/add", &add).await.unwrap();
    run("/certificate/sign", &[("number", "by-hand")])
        .await
        .unwrap();
    let certificate = [("numbers", "api-ssl"), ("certificate", "by-hand")];
    run("/ip/service/set", &certificate).await.unwrap();
    let [row] = &certificates(&router)[..] else {
        panic!("one certificate")
    };
    assert_eq!(value(row, "authority"), Some("true"));

    let address = router.api_ssl_address().unwrap();
    let pem = router.api_ssl_certificate_pem().unwrap();
    let error = secure(&address, TlsOptions::custom_ca_pem(&pem).unwrap())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("CA certificate"), "{error}");
    let device = secure(&address, router.api_ssl_tls_options().unwrap())
        .await
        .unwrap();
    assert_eq!(identity(&device).await, "MikroTik");
}

/// TLS to the plain port: whatever the plain listener makes of a ClientHello,
/// the error is a TLS one that names the API-SSL port, and no login went out.
async fn tls_to_the_plain_port_names_the_api_ssl_port() {
    let router = MockRouter::start();
    let error = MikrotikDevice::builder(router.address())
        .tls(TlsOptions::dangerous_accept_any_certificate())
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(error.to_string().contains("8729"), "{error}");
    assert!(router.received().iter().all(|s| s.path() != "/login"));
}

/// TLS to the plain port in every mode (pinned, CA, accept-any): the same
/// clear message, promptly. The ClientHellos differ by mode, and so did what
/// the plain listener made of them: one mode failed at once with rustls's
/// "corrupt message", another waited out the whole timeout.
async fn tls_to_the_plain_port_fails_alike_and_promptly_in_every_mode() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let modes = [
        ("pinned", router.api_ssl_tls_options().unwrap()),
        (
            "ca",
            TlsOptions::custom_ca_pem(router.api_ssl_certificate_pem().unwrap()).unwrap(),
        ),
        ("accept-any", TlsOptions::dangerous_accept_any_certificate()),
    ];
    let limit = Duration::from_secs(10);
    for (mode, options) in modes {
        let started = std::time::Instant::now();
        let error = MikrotikDevice::builder(router.address())
            .tls(options)
            .connect_timeout(limit)
            .connect()
            .await
            .unwrap_err();
        let took = started.elapsed();
        assert!(matches!(error, Error::Tls { .. }), "{mode}: {error:?}");
        let text = error.to_string();
        assert!(
            text.contains("8728") && text.contains("8729"),
            "{mode}: {text}"
        );
        // Generous: well under the timeout, which a silent wait would reach.
        assert!(took < limit / 2, "{mode}: took {took:?}: {text}");
    }
    assert!(router.received().iter().all(|s| s.path() != "/login"));
}

/// A real API-SSL service that takes longer than a few seconds to answer
/// the ClientHello (a busy router signing with an RSA-4096 key, a WAN with a
/// long round trip) is still a TLS server: within the connect timeout the
/// handshake completes, it is not refused as "does not speak TLS".
async fn a_slow_api_ssl_server_within_the_connect_timeout_is_not_refused() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let slow = slow_relay(
        router.api_ssl_address().unwrap(),
        Duration::from_millis(3500),
    );
    let device = MikrotikDevice::builder(slow)
        .tls(router.api_ssl_tls_options().unwrap())
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("a slow TLS server within the connect timeout connects");
    assert!(!identity(&device).await.is_empty());
}

/// A plain API port whose parse of the ClientHello waits for more bytes
/// (silent), but that answers a plain sentence as RouterOS does: it is told
/// to be the plain API port well before the connect timeout.
async fn a_silent_plain_api_port_is_recognised_before_the_connect_timeout() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(mut connection) = connection else {
                return;
            };
            std::thread::spawn(move || {
                let mut first = [0u8; 1];
                // A ClientHello starts with 0x16; a plain sentence with a short word.
                if connection.read_exact(&mut first).is_ok() && first[0] != 0x16 {
                    let _ = connection.write_all(b"\x06!fatal\x0dnot logged in\x00");
                }
                let mut rest = [0u8; 1024];
                while matches!(connection.read(&mut rest), Ok(read) if read > 0) {}
            });
        }
    });
    let limit = Duration::from_secs(10);
    let started = std::time::Instant::now();
    let error = MikrotikDevice::builder(address)
        .tls(TlsOptions::dangerous_accept_any_certificate())
        .connect_timeout(limit)
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("plain RouterOS API"), "{text}");
    assert!(text.contains("8728") && text.contains("8729"), "{text}");
    assert!(
        started.elapsed() < limit / 2,
        "took {:?}",
        started.elapsed()
    );
}

/// A relay to `target` that holds the server's first answer for `delay`.
fn slow_relay(target: String, delay: Duration) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let target = target.clone();
            std::thread::spawn(move || {
                let Ok(mut server) = std::net::TcpStream::connect(&target) else {
                    return;
                };
                let (Ok(mut client_in), Ok(mut server_out)) =
                    (client.try_clone(), server.try_clone())
                else {
                    return;
                };
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_in, &mut server_out);
                    let _ = server_out.shutdown(std::net::Shutdown::Write);
                });
                let mut buffer = [0u8; 16 * 1024];
                let mut first = true;
                while let Ok(read) = server.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    if std::mem::take(&mut first) {
                        std::thread::sleep(delay);
                    }
                    if client.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    address
}

/// A port that accepts TCP and then stays silent, as a router's 8728 does
/// with a ClientHello: the handshake ends within the connect timeout and
/// says why. (A listener that never accepts: the kernel completes the TCP
/// handshake and holds what the client sends.)
async fn a_silent_port_ends_the_handshake_with_an_explanation() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let error = MikrotikDevice::builder(silent.local_addr().unwrap().to_string())
        .tls(TlsOptions::dangerous_accept_any_certificate())
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Tls { .. }),
        "not a bare timeout: {error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("no answer"), "{text}");
    assert!(text.contains("8728") && text.contains("8729"), "{text}");
}

/// Plain to an API-SSL port without a certificate: the alert comes back.
async fn plain_to_an_api_ssl_port_without_certificate_says_enable_tls() {
    let router = MockRouter::builder().api_ssl().start();
    let error = plain(&router.api_ssl_address().unwrap()).await.unwrap_err();
    assert!(matches!(error, Error::ProtocolMismatch { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("API-SSL") && text.contains("Enable TLS"),
        "{text}"
    );
    assert!(
        text.contains("15 03 03"),
        "the alert's header is shown: {text}"
    );
}

/// Plain to an API-SSL port with a certificate: rustls's own alert.
async fn plain_to_an_api_ssl_port_with_certificate_says_enable_tls() {
    let router = MockRouter::builder().api_ssl_self_signed().start();
    let error = plain(&router.api_ssl_address().unwrap()).await.unwrap_err();
    assert!(matches!(error, Error::ProtocolMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("API-SSL"), "{error}");
    assert!(error.is_connection_error());
}

/// A port that closes before answering the login is explained too.
async fn a_close_before_the_login_answer_is_explained() {
    let router = MockRouter::builder()
        .close_after_bytes_from_start(0)
        .start();
    let error = plain(&router.address()).await.unwrap_err();
    assert!(matches!(error, Error::ProtocolMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("Enable TLS"), "{error}");
}

/// A real refusal stays what it is.
async fn a_wrong_password_is_not_mistaken_for_a_port_mix_up() {
    let router = MockRouter::builder().user("admin", "secret").start();
    let error = MikrotikDevice::builder(router.address())
        .credentials("admin", Some("wrong"))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Authentication { .. }), "{error:?}");
}

on_every_runtime![
    bootstrap_over_the_plain_port_then_connect_over_api_ssl_then_reuse,
    a_bootstrap_past_its_timeout_fails_and_cancels_the_signing,
    an_interrupted_template_is_signed_by_the_next_run,
    a_sign_answered_early_is_waited_for,
    an_existing_certificate_is_assigned_and_a_missing_one_is_an_error,
    the_mock_speaks_api_ssl_with_its_own_certificate_in_one_line,
    a_certificate_with_the_default_key_usage_is_a_ca_only_pinning_accepts,
    tls_to_the_plain_port_names_the_api_ssl_port,
    tls_to_the_plain_port_fails_alike_and_promptly_in_every_mode,
    a_silent_port_ends_the_handshake_with_an_explanation,
    a_slow_api_ssl_server_within_the_connect_timeout_is_not_refused,
    a_silent_plain_api_port_is_recognised_before_the_connect_timeout,
    plain_to_an_api_ssl_port_without_certificate_says_enable_tls,
    plain_to_an_api_ssl_port_with_certificate_says_enable_tls,
    a_close_before_the_login_answer_is_explained,
    a_wrong_password_is_not_mistaken_for_a_port_mix_up,
];
