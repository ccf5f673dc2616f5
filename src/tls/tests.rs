//! Real TLS handshakes on 127.0.0.1 against a small echo server, with
//! certificates generated at test time.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use futures_rustls::TlsAcceptor;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::{CipherSuite, ClientConfig, RootCertStore, ServerConfig};
use smol::Async;

use super::error::{NO_COMMON_SUITE, utc};
use super::test_certs::{TestCa, TestCert};
use super::*;
use crate::runtime::BoxedStream;

/// Runs `future` to completion, failing the test after 20 seconds.
fn run<T>(future: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(future, async {
        smol::Timer::after(Duration::from_secs(20)).await;
        panic!("test timed out after 20 s");
    }))
}

/// A one-connection TLS echo server; the task yields the server's outcome.
fn echo_server(config: Arc<ServerConfig>) -> (SocketAddr, smol::Task<io::Result<()>>) {
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    let addr = listener.get_ref().local_addr().expect("local address");
    let task = smol::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = TlsAcceptor::from(config).accept(tcp).await?;
        let mut buffer = [0u8; 256];
        loop {
            let read = tls.read(&mut buffer).await?;
            if read == 0 {
                return Ok(());
            }
            tls.write_all(&buffer[..read]).await?;
            tls.flush().await?;
        }
    });
    (addr, task)
}

/// A server that answers the first bytes with `reply` and closes, the way a
/// router without a certificate turns rustls away.
fn raw_server(reply: &'static [u8]) -> SocketAddr {
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    let addr = listener.get_ref().local_addr().expect("local address");
    smol::spawn(async move {
        let (mut tcp, _) = listener.accept().await?;
        let mut hello = [0u8; 5];
        tcp.read_exact(&mut hello).await?;
        tcp.write_all(reply).await?;
        tcp.flush().await?;
        io::Result::Ok(())
    })
    .detach();
    addr
}

async fn tcp(addr: SocketAddr) -> BoxedStream {
    Box::new(Async::<TcpStream>::connect(addr).await.expect("connect"))
}

/// Connects with `options` as `host`, and checks that data goes both ways.
async fn handshake(
    config: Arc<ServerConfig>,
    host: &str,
    options: &TlsOptions,
) -> Result<(), Error> {
    let (addr, server) = echo_server(config);
    let mut stream = connect(tcp(addr).await, host, options).await?;
    stream
        .write_all(b"/system/identity/print")
        .await
        .expect("write");
    stream.flush().await.expect("flush");
    let mut echoed = [0u8; 22];
    stream.read_exact(&mut echoed).await.expect("read");
    assert_eq!(&echoed, b"/system/identity/print");
    stream.close().await.expect("close");
    drop(stream);
    server.await.expect("server side");
    Ok(())
}

fn tls_message(error: &Error) -> &str {
    match error {
        Error::Tls { message, .. } => message,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

fn rustls_source(error: &Error) -> &rustls::Error {
    match error {
        Error::Tls {
            source: Some(source),
            ..
        } => source
            .downcast_ref::<rustls::Error>()
            .expect("the source is a rustls error"),
        other => panic!("expected a TLS error with a source, got {other:?}"),
    }
}

fn ca_options(ca: &TestCa) -> TlsOptions {
    TlsOptions::custom_ca_pem(ca.pem()).expect("CA PEM")
}

#[test]
fn custom_ca_accepted_by_dns_name() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue(&["router.test", "localhost"]);
    run(handshake(
        cert.server_config(),
        "localhost",
        &ca_options(&ca),
    ))
    .expect("handshake");
}

#[test]
fn custom_ca_accepted_by_ip_san() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue(&["127.0.0.1"]);
    run(handshake(
        cert.server_config(),
        "127.0.0.1",
        &ca_options(&ca),
    ))
    .expect("handshake");
}

#[test]
fn ip_address_without_ip_san_is_rejected_in_ca_mode() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue(&["localhost"]);
    let error = run(handshake(
        cert.server_config(),
        "127.0.0.1",
        &ca_options(&ca),
    ))
    .expect_err("must be rejected");
    let message = tls_message(&error);
    assert!(
        message.contains("not valid for 127.0.0.1") && message.contains("localhost"),
        "{message}"
    );
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::NotValidForName {
            presented: Some(cert.fingerprint())
        })
    );
}

#[test]
fn server_name_override_is_verified() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue(&["router.lan"]);
    let options = ca_options(&ca)
        .with_server_name("router.lan")
        .expect("server name");
    run(handshake(cert.server_config(), "127.0.0.1", &options)).expect("handshake");
}

#[test]
fn wrong_ca_rejected_with_fingerprint() {
    let ca = TestCa::new("router CA");
    let other = TestCa::new("some other CA");
    let cert = ca.issue(&["localhost"]);
    let error = run(handshake(
        cert.server_config(),
        "localhost",
        &ca_options(&other),
    ))
    .expect_err("must be rejected");
    let message = tls_message(&error);
    assert!(message.contains("not trusted"), "{message}");
    assert!(message.contains("unknown issuer"), "{message}");
    assert!(
        message.contains(&cert.fingerprint().to_string()),
        "{message}"
    );
    assert_eq!(presented_fingerprint(&error), Some(cert.fingerprint()));
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::UnknownIssuer {
            presented: Some(cert.fingerprint())
        })
    );
    assert!(error.is_connection_error());
}

#[test]
fn expired_certificate_rejected_in_ca_mode() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue_with(&["localhost"], |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let error = run(handshake(
        cert.server_config(),
        "localhost",
        &ca_options(&ca),
    ))
    .expect_err("must be rejected");
    let message = tls_message(&error);
    assert!(message.contains("expired"), "{message}");
    assert!(message.contains("2001-01-01 00:00:00 UTC"), "{message}");
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::Expired {
            presented: Some(cert.fingerprint())
        })
    );
}

#[test]
fn not_yet_valid_certificate_rejected_in_ca_mode() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue_with(&["localhost"], |params| {
        params.not_before = rcgen::date_time_ymd(2090, 1, 1);
        params.not_after = rcgen::date_time_ymd(2091, 1, 1);
    });
    let error = run(handshake(
        cert.server_config(),
        "localhost",
        &ca_options(&ca),
    ))
    .expect_err("must be rejected");
    let message = tls_message(&error);
    assert!(message.contains("not valid yet"), "{message}");
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::NotValidYet {
            presented: Some(cert.fingerprint())
        })
    );
}

#[test]
fn self_signed_certificate_as_its_own_ca() {
    // What a user gets by exporting a router's self-signed certificate and
    // passing it as the CA: webpki takes a self-signed end-entity
    // certificate as its own trust anchor (names and dates still count).
    let cert = TestCert::self_signed(&["localhost"], |_| {});
    let options = TlsOptions::custom_ca_pem(cert.pem()).expect("PEM");
    run(handshake(cert.server_config(), "localhost", &options)).expect("handshake");

    // A self-signed certificate that is also marked as a CA, as RouterOS
    // makes when `key-cert-sign` is among its key usages.
    let cert = TestCert::self_signed(&["localhost"], |params| {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    });
    let options = TlsOptions::custom_ca_pem(cert.pem()).expect("PEM");
    let error = run(handshake(cert.server_config(), "localhost", &options))
        .expect_err("webpki refuses a CA as end entity");
    let message = tls_message(&error);
    assert!(message.contains("presented a CA certificate"), "{message}");
    assert!(
        message.contains(&cert.fingerprint().to_string()),
        "{message}"
    );
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::CertificateRejected {
            presented: Some(cert.fingerprint())
        })
    );
}

#[test]
fn pin_accepted_regardless_of_name_and_dates() {
    let cert = TestCert::self_signed(&["router.example"], |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    // OpenSSL's spelling: upper case with colons.
    let options = TlsOptions::pinned_sha256(&format!("{:#}", cert.fingerprint())).expect("pin");
    run(handshake(cert.server_config(), "127.0.0.1", &options)).expect("handshake");
}

#[test]
fn wrong_pin_rejected_with_presented_fingerprint() {
    let cert = TestCert::self_signed(&["localhost"], |_| {});
    let other = TestCert::self_signed(&["localhost"], |_| {});
    let options = TlsOptions::pinned_sha256(&other.fingerprint().to_string()).expect("pin");
    let error =
        run(handshake(cert.server_config(), "127.0.0.1", &options)).expect_err("must be rejected");
    let message = tls_message(&error);
    assert!(message.contains("does not match the pinned"), "{message}");
    assert!(
        message.contains(&cert.fingerprint().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&other.fingerprint().to_string()),
        "{message}"
    );
    assert_eq!(presented_fingerprint(&error), Some(cert.fingerprint()));
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::PinMismatch {
            presented: cert.fingerprint()
        })
    );
}

/// Presents one certificate but signs the handshake with another key.
#[derive(Debug)]
struct Impostor(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Impostor {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

#[test]
fn pinned_certificate_replayed_without_its_key_is_rejected() {
    let router = TestCert::self_signed(&["localhost"], |_| {});
    let attacker = TestCert::self_signed(&["localhost"], |_| {});
    let provider = crypto_provider();
    let key = provider
        .key_provider
        .load_private_key(attacker.key())
        .expect("signing key");
    let replay = Arc::new(rustls::sign::CertifiedKey::new(
        vec![router.der().clone()],
        key,
    ));
    for versions in [
        &[&rustls::version::TLS13][..],
        &[&rustls::version::TLS12][..],
    ] {
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .expect("versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Impostor(Arc::clone(&replay))));
        for options in [
            TlsOptions::pinned([router.fingerprint()]).expect("pin"),
            TlsOptions::dangerous_accept_any_certificate(),
        ] {
            let error = run(handshake(Arc::new(server.clone()), "localhost", &options))
                .expect_err("a replayed certificate must be rejected");
            let message = tls_message(&error);
            assert!(message.contains("private key"), "{versions:?}: {message}");
        }
    }
}

#[test]
fn one_of_several_pins_accepted() {
    let cert = TestCert::self_signed(&["localhost"], |_| {});
    let other = TestCert::self_signed(&["localhost"], |_| {});
    let options = TlsOptions::pinned([other.fingerprint(), cert.fingerprint()]).expect("pins");
    run(handshake(cert.server_config(), "localhost", &options)).expect("handshake");
    assert!(TlsOptions::pinned([]).is_err());
}

#[test]
fn accept_any_accepted() {
    let cert = TestCert::self_signed(&["somewhere.else"], |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let options = TlsOptions::dangerous_accept_any_certificate();
    run(handshake(cert.server_config(), "127.0.0.1", &options)).expect("handshake");
    assert!(format!("{options:?}").contains("DANGEROUS"));
}

#[test]
fn user_client_config_is_used() {
    let ca = TestCa::new("test CA");
    let cert = ca.issue(&["localhost"]);
    let mut roots = RootCertStore::empty();
    roots.add(pem_to_der(ca.pem())).expect("CA certificate");
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"routeros-api".to_vec()];
    let options = TlsOptions::client_config(Arc::new(config));
    run(handshake(cert.server_config(), "localhost", &options)).expect("handshake");

    // The user's configuration is used as is: with an empty root store the
    // same server is rejected, and the message still says why.
    let empty = ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let cert = ca.issue(&["localhost"]);
    let error = run(handshake(
        cert.server_config(),
        "localhost",
        &TlsOptions::client_config(Arc::new(empty)),
    ))
    .expect_err("must be rejected");
    assert!(tls_message(&error).contains("unknown issuer"), "{error}");
    assert_eq!(presented_fingerprint(&error), None);
    assert_eq!(
        error.tls_failure(),
        Some(TlsFailure::UnknownIssuer { presented: None })
    );
}

/// The crypto provider restricted to one TLS 1.2 suite.
fn provider_with_suite(suite: CipherSuite) -> Arc<CryptoProvider> {
    let mut provider = (*crypto_provider()).clone();
    provider.cipher_suites.retain(|s| s.suite() == suite);
    assert_eq!(provider.cipher_suites.len(), 1, "{suite:?} is available");
    Arc::new(provider)
}

#[test]
fn no_common_cipher_suite_explains_the_anonymous_dh_case() {
    let cert = TestCert::self_signed(&["localhost"], |_| {});
    let server = ServerConfig::builder_with_provider(provider_with_suite(
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], cert.key())
    .expect("server config");
    let client = ClientConfig::builder_with_provider(provider_with_suite(
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .expect("versions")
    .with_root_certificates(RootCertStore::empty())
    .with_no_client_auth();
    let error = run(handshake(
        Arc::new(server),
        "localhost",
        &TlsOptions::client_config(Arc::new(client)),
    ))
    .expect_err("must fail");
    assert_eq!(tls_message(&error), NO_COMMON_SUITE);
    assert_eq!(error.tls_failure(), Some(TlsFailure::NoCommonCipherSuite));
    assert!(tls_message(&error).contains("anonymous Diffie-Hellman"));
    assert!(tls_message(&error).contains("/ip service set api-ssl certificate=<name>"));
    assert!(matches!(
        rustls_source(&error),
        rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)
    ));
}

#[test]
fn router_without_certificate_explains_the_fix() {
    // A RouterOS api-ssl service without a certificate answers rustls's
    // ClientHello (no ADH suites in it) with a fatal handshake_failure alert.
    const HANDSHAKE_FAILURE_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    let addr = raw_server(HANDSHAKE_FAILURE_ALERT);
    let options = TlsOptions::dangerous_accept_any_certificate();
    let error = run(async { connect(tcp(addr).await, "192.0.2.1", &options).await })
        .err()
        .expect("must fail");
    let message = tls_message(&error);
    assert!(message.contains("anonymous Diffie-Hellman"), "{message}");
    assert!(
        message.contains("/ip service set api-ssl certificate="),
        "{message}"
    );
}

#[test]
fn connection_closed_during_handshake_is_explained() {
    let addr = raw_server(b"");
    let options = TlsOptions::dangerous_accept_any_certificate();
    let error = run(async { connect(tcp(addr).await, "localhost", &options).await })
        .err()
        .expect("must fail");
    let message = tls_message(&error);
    assert!(message.contains("closed the connection"), "{message}");
    assert!(message.contains("8729"), "{message}");
    assert_eq!(error.tls_failure(), None, "not a verification failure");
}

#[test]
fn options_are_shared_by_clones_and_reused() {
    let cert = TestCert::self_signed(&["localhost"], |_| {});
    let options = TlsOptions::pinned([cert.fingerprint()]).expect("pin");
    let clone = options.clone();
    let first = options.client_config_for_connect().expect("config");
    let second = clone.client_config_for_connect().expect("config");
    assert!(Arc::ptr_eq(&first, &second));
    run(handshake(cert.server_config(), "localhost", &clone)).expect("handshake");
    run(handshake(cert.server_config(), "localhost", &options)).expect("handshake");
}

#[test]
fn connect_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let options = TlsOptions::dangerous_accept_any_certificate();
    let (client, _server) = smol::block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
        let addr = listener.get_ref().local_addr().expect("address");
        let client = tcp(addr).await;
        let server = listener.accept().await.expect("accept");
        (client, server)
    });
    let future = connect(client, "localhost", &options);
    assert_send(&future);
}

#[test]
fn fingerprints_parse_in_every_spelling() {
    let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37));
    let fingerprint = CertificateFingerprint::from_bytes(bytes);
    let plain = fingerprint.to_string();
    let openssl = format!("{fingerprint:#}");
    assert_eq!(plain.len(), 64);
    assert_eq!(openssl.len(), 95);
    assert!(openssl.contains(':'));
    for text in [
        plain.clone(),
        plain.to_uppercase(),
        openssl.clone(),
        openssl.to_lowercase(),
        format!("  {openssl}\n"),
    ] {
        assert_eq!(
            text.parse::<CertificateFingerprint>().expect(&text),
            fingerprint
        );
    }
    assert_eq!(fingerprint.as_bytes(), &bytes);
    for bad in [
        "",
        "abc",
        &plain[..62],
        &format!("{plain}00"),
        &format!("{}zz", &plain[..62]),
    ] {
        let error = bad.parse::<CertificateFingerprint>().expect_err(bad);
        assert!(matches!(error, Error::Config(_)), "{error:?}");
    }
    assert!(TlsOptions::pinned_sha256("not a fingerprint").is_err());
}

#[test]
fn server_names_from_hosts() {
    let ip = |text: &str| ServerName::IpAddress(text.parse::<std::net::IpAddr>().unwrap().into());
    assert_eq!(
        server_name_from_host("192.168.88.1").unwrap(),
        ip("192.168.88.1")
    );
    assert_eq!(server_name_from_host("::1").unwrap(), ip("::1"));
    assert_eq!(server_name_from_host("[fe80::1]").unwrap(), ip("fe80::1"));
    assert_eq!(
        server_name_from_host("fe80::1%eth0").unwrap(),
        ip("fe80::1")
    );
    assert_eq!(
        server_name_from_host("router.lan").unwrap(),
        ServerName::try_from("router.lan").unwrap()
    );
    let error = server_name_from_host("not a host").unwrap_err();
    assert!(tls_message(&error).contains("with_server_name"));
    assert!(
        TlsOptions::dangerous_accept_any_certificate()
            .with_server_name("bad name!")
            .is_err()
    );
}

#[test]
fn custom_ca_pem_must_hold_a_certificate() {
    let error = TlsOptions::custom_ca_pem("no PEM here").unwrap_err();
    assert!(tls_message(&error).contains("no certificate"));
    let ca = TestCa::new("test CA");
    let two = format!("{}{}", ca.pem(), TestCa::new("second CA").pem());
    assert!(
        format!("{:?}", TlsOptions::custom_ca_pem(two).unwrap()).contains("custom_ca_roots: 2")
    );
}

#[test]
fn dates_are_formatted_in_utc() {
    let at = |secs| {
        utc(rustls::pki_types::UnixTime::since_unix_epoch(
            Duration::from_secs(secs),
        ))
    };
    assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(at(1_700_000_000), "2023-11-14 22:13:20 UTC");
    assert_eq!(at(978_307_199), "2000-12-31 23:59:59 UTC");
}

#[test]
fn provider_follows_the_features() {
    let provider = crypto_provider();
    assert!(!provider.cipher_suites.is_empty());
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return; // an installed default wins; nothing here installs one
    }
    #[cfg(feature = "tls")]
    #[allow(deprecated)] // since rustls 0.23.48; see `provider::feature_provider`
    let expected = rustls::crypto::ring::default_provider();
    #[cfg(not(feature = "tls"))]
    let expected = rustls::crypto::aws_lc_rs::default_provider();
    assert_eq!(
        format!("{:?}", provider.secure_random),
        format!("{:?}", expected.secure_random)
    );
}

fn pem_to_der(pem: &str) -> rustls::pki_types::CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM")
}

#[test]
fn the_crates_own_configurations_negotiate_the_same_but_load_no_private_key() {
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return; // an installed default is used as it is; nothing here installs one
    }
    let public = crypto_provider();
    let own = super::provider::verifying_provider();
    // Everything the handshake negotiates and verifies with is the same.
    assert_eq!(
        format!("{:?}", own.cipher_suites),
        format!("{:?}", public.cipher_suites)
    );
    assert_eq!(
        format!("{:?}", own.kx_groups),
        format!("{:?}", public.kx_groups)
    );
    assert_eq!(
        format!("{:?}", own.signature_verification_algorithms),
        format!("{:?}", public.signature_verification_algorithms)
    );
    // Only the private-key loader differs: the public provider (what users
    // build client-certificate configurations with) still loads keys.
    let client = TestCert::self_signed(&["client"], |_| {});
    assert!(public.key_provider.load_private_key(client.key()).is_ok());
    let refused = own
        .key_provider
        .load_private_key(client.key())
        .expect_err("no private key is loaded");
    assert!(
        refused.to_string().contains("TlsOptions::client_config"),
        "{refused}"
    );
}
