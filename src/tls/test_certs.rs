//! Certificates generated at test time with rcgen: a CA, certificates it
//! issues, and self-signed router-like certificates.
//!
//! Only compiled for this crate's own tests (rcgen is a dev-dependency here).
//! The mock router's own server configuration lives in `testing/tls.rs`;
//! these tests build theirs directly, so they need no `testing` feature.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::fingerprint::CertificateFingerprint;
use super::provider::crypto_provider;

/// A test certificate authority.
pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    /// A new CA with a fresh key.
    pub(crate) fn new(common_name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let certificate = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate as PEM, as `TlsOptions::custom_ca_pem` takes it.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid
    /// now.
    pub(crate) fn issue(&self, names: &[&str]) -> TestCert {
        self.issue_with(names, |_| {})
    }

    /// A server certificate for `names`, with `adjust` changing the
    /// parameters (dates, for example) before signing.
    pub(crate) fn issue_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> TestCert {
        let mut params = leaf_params(names);
        adjust(&mut params);
        let key = KeyPair::generate().expect("server key");
        let certificate = params.signed_by(&key, &self.issuer).expect("sign");
        TestCert::new(&certificate, &key)
    }
}

/// A server certificate with its private key.
pub(crate) struct TestCert {
    certificate: CertificateDer<'static>,
    pem: String,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TestCert {
    fn new(certificate: &rcgen::Certificate, key: &KeyPair) -> Self {
        Self {
            certificate: certificate.der().clone(),
            pem: certificate.pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    /// A self-signed certificate for `names`, like the one a router makes
    /// for itself; `adjust` changes the parameters before signing.
    pub(crate) fn self_signed(names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut params = leaf_params(names);
        adjust(&mut params);
        let key = KeyPair::generate().expect("key");
        let certificate = params.self_signed(&key).expect("self-sign");
        Self::new(&certificate, &key)
    }

    /// The certificate's SHA-256 fingerprint.
    pub(crate) fn fingerprint(&self) -> CertificateFingerprint {
        CertificateFingerprint::of_certificate(&self.certificate)
    }

    /// The certificate in DER.
    pub(crate) fn der(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// The certificate in PEM.
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// The private key.
    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// A server configuration presenting this certificate.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        let config = ServerConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_single_cert(vec![self.certificate.clone()], self.key())
            .expect("server config");
        Arc::new(config)
    }
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "mikrotik-rs test router");
    // rcgen's default dates (1975 to 4096) make a certificate that is valid
    // now; tests that need other dates set them with `adjust`.
    params
}
