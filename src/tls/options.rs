//! How the router's certificate is verified, and the rustls configuration
//! that follows from it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::fingerprint::CertificateFingerprint;
use super::provider::verifying_provider;
use super::verify::{CaVerifier, LeafPolicy, LeafVerifier};
use crate::Error;

/// How to verify the router during the API-SSL handshake, and under which
/// name.
///
/// Pick one constructor; each is a verification mode (see the
/// [module documentation](super) for when to use which). Cheap to clone: the
/// rustls configuration is built once, on first use, and shared by clones,
/// so reconnects can resume TLS sessions.
#[derive(Clone)]
pub struct TlsOptions {
    verification: Verification,
    server_name: Option<ServerName<'static>>,
    built: Arc<OnceLock<Arc<ClientConfig>>>,
}

#[derive(Clone)]
enum Verification {
    #[cfg(feature = "tls-webpki-roots")]
    WebPkiRoots(CaVerifierFn),
    Roots(Arc<RootCertStore>, CaVerifierFn),
    Pinned(Arc<[CertificateFingerprint]>),
    AcceptAny,
    Config(Arc<ClientConfig>),
}

impl TlsOptions {
    fn new(verification: Verification) -> Self {
        Self {
            verification,
            server_name: None,
            built: Arc::new(OnceLock::new()),
        }
    }

    /// Trusts Mozilla's public CA roots (the `webpki-roots` crate), for a
    /// router with a publicly trusted certificate. The certificate must name
    /// the host you connect to.
    #[cfg(feature = "tls-webpki-roots")]
    pub fn webpki_roots() -> Self {
        Self::new(Verification::WebPkiRoots(ca_verifier))
    }

    /// Trusts the CA certificates in `pem` (one or more `CERTIFICATE`
    /// blocks), typically the CA that signed the router's certificate. The
    /// certificate must name the host you connect to (DNS name, or IP
    /// address as an IP subject alternative name), and be within its dates.
    ///
    /// A router's self-signed certificate may be given as its own CA, unless
    /// it is marked as a CA itself (RouterOS does that when `key-cert-sign`
    /// is among its key usages; verification then refuses it). Pinning
    /// ([`TlsOptions::pinned_sha256`]) has neither that limit nor the name
    /// and date checks.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when `pem` holds no usable certificate.
    pub fn custom_ca_pem(pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        let mut roots = RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(pem.as_ref()) {
            let certificate = certificate.map_err(|source| Error::Tls {
                message: "the CA certificate PEM could not be read".into(),
                source: Some(Arc::new(source)),
            })?;
            roots.add(certificate).map_err(|source| Error::Tls {
                message: "a certificate in the CA PEM is not a usable CA certificate".into(),
                source: Some(Arc::new(source)),
            })?;
        }
        if roots.is_empty() {
            return Err(Error::Tls {
                message: "the CA PEM contains no certificate (expected a \
                          \"-----BEGIN CERTIFICATE-----\" block)"
                    .into(),
                source: None,
            });
        }
        Ok(Self::root_certificates(roots))
    }

    /// Trusts the CAs in `roots`: for example the system's roots, loaded
    /// with the `rustls-native-certs` crate. Verification is as in
    /// [`TlsOptions::custom_ca_pem`].
    ///
    /// An empty store trusts nothing: every handshake then fails with an
    /// "unknown issuer" error.
    pub fn root_certificates(roots: RootCertStore) -> Self {
        Self::new(Verification::Roots(Arc::new(roots), ca_verifier))
    }

    /// Accepts exactly the router certificate whose SHA-256 fingerprint is
    /// `fingerprint` (64 hex digits, any case, colons optional).
    ///
    /// Only the fingerprint of the router's own (end-entity) certificate is
    /// compared: the chain, the names in it and its validity dates are
    /// ignored, because router certificates are usually self-signed, rarely
    /// name the address you dial, and router clocks are often wrong. The
    /// handshake signatures are still verified against that certificate's
    /// public key, so a peer that merely replays the (public) certificate
    /// without its private key is rejected.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `fingerprint` is not 64 hex digits.
    pub fn pinned_sha256(fingerprint: &str) -> Result<Self, Error> {
        Self::pinned([fingerprint.parse()?])
    }

    /// Like [`TlsOptions::pinned_sha256`], accepting any one of several
    /// fingerprints (to roll a router's certificate over without downtime).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `fingerprints` is empty.
    pub fn pinned(
        fingerprints: impl IntoIterator<Item = CertificateFingerprint>,
    ) -> Result<Self, Error> {
        let pins: Arc<[CertificateFingerprint]> = fingerprints.into_iter().collect();
        if pins.is_empty() {
            return Err(Error::Config(
                "certificate pinning needs at least one fingerprint".into(),
            ));
        }
        Ok(Self::new(Verification::Pinned(pins)))
    }

    /// **Dangerous**: accepts any certificate the router presents, without
    /// checking who issued it, its name, its dates or its fingerprint.
    ///
    /// The connection is encrypted but **not authenticated**: anyone able to
    /// intercept the traffic (ARP or DNS spoofing, a rogue access point, a
    /// compromised hop) can impersonate the router, read the login password
    /// and every command, and change the answers. The handshake signatures
    /// are still checked, so this only defends against a passive
    /// eavesdropper. Prefer [`TlsOptions::pinned_sha256`], which costs one
    /// line of configuration.
    pub fn dangerous_accept_any_certificate() -> Self {
        Self::new(Verification::AcceptAny)
    }

    /// Uses `config` as it is: its verifier, crypto provider, protocol
    /// versions, client certificate and so on. Build it with
    /// `ClientConfig::builder_with_provider(crypto_provider())` rather than
    /// `ClientConfig::builder()`, which panics when both rustls providers are
    /// compiled in. Only the server name still comes from the address or
    /// [`TlsOptions::with_server_name`].
    pub fn client_config(config: Arc<ClientConfig>) -> Self {
        Self::new(Verification::Config(config))
    }

    /// Sends and verifies `name` (a DNS name or an IP address) instead of the
    /// host of the address that is dialled; for a certificate that names the
    /// router differently from how it is reached.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when `name` is neither a DNS name nor an IP address.
    pub fn with_server_name(mut self, name: &str) -> Result<Self, Error> {
        self.server_name = Some(super::server_name_from_host(name)?);
        Ok(self)
    }

    /// The server name set with [`TlsOptions::with_server_name`], if any.
    pub fn server_name_override(&self) -> Option<&ServerName<'static>> {
        self.server_name.as_ref()
    }

    /// The rustls configuration for a connection, built on first use.
    pub(crate) fn client_config_for_connect(&self) -> Result<Arc<ClientConfig>, Error> {
        if let Verification::Config(config) = &self.verification {
            return Ok(Arc::clone(config));
        }
        if let Some(config) = self.built.get() {
            return Ok(Arc::clone(config));
        }
        let config = Arc::new(self.build()?);
        // Another clone may have won the race; either configuration works.
        Ok(Arc::clone(self.built.get_or_init(|| config)))
    }

    fn build(&self) -> Result<ClientConfig, Error> {
        let provider = verifying_provider();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|source| Error::Tls {
                message: "the rustls crypto provider supports neither TLS 1.2 nor TLS 1.3".into(),
                source: Some(Arc::new(source)),
            })?;
        let verifier: Arc<dyn ServerCertVerifier> = match &self.verification {
            #[cfg(feature = "tls-webpki-roots")]
            Verification::WebPkiRoots(ca_verifier) => {
                let roots =
                    RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                ca_verifier(Arc::new(roots), provider)?
            }
            Verification::Roots(roots, ca_verifier) => ca_verifier(Arc::clone(roots), provider)?,
            Verification::Pinned(pins) => Arc::new(LeafVerifier::new(
                LeafPolicy::Pinned(Arc::clone(pins)),
                &provider,
            )),
            Verification::AcceptAny => {
                Arc::new(LeafVerifier::new(LeafPolicy::AcceptAny, &provider))
            }
            Verification::Config(config) => return Ok((**config).clone()),
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }
}

/// The verifier of CA verification, named by the constructors that choose
/// it rather than by [`TlsOptions::build`]: webpki's chain building, name and
/// date checks (about 70 KB) are then linked only into programs that verify
/// against CAs, not into one that pins (a gateway's usual choice).
type CaVerifierFn = fn(
    Arc<RootCertStore>,
    Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, Error>;

fn ca_verifier(
    roots: Arc<RootCertStore>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|source| Error::Tls {
            message: format!("cannot verify certificates with the given CA roots: {source}"),
            source: Some(Arc::new(source)),
        })?;
    Ok(Arc::new(CaVerifier::new(inner)))
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("TlsOptions");
        match &self.verification {
            #[cfg(feature = "tls-webpki-roots")]
            Verification::WebPkiRoots(_) => out.field("verification", &"webpki roots"),
            Verification::Roots(roots, _) => out.field("custom_ca_roots", &roots.len()),
            Verification::Pinned(pins) => out.field("pinned_sha256", pins),
            Verification::AcceptAny => {
                out.field("verification", &"DANGEROUS: accept any certificate")
            }
            Verification::Config(_) => out.field("verification", &"user ClientConfig"),
        };
        out.field("server_name", &self.server_name).finish()
    }
}
