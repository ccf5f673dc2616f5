//! What a bootstrap did, and why: [`BootstrappedCertificate`].

use crate::tls::{CertificateFingerprint, TlsOptions};

/// What [`bootstrap_certificate`](super::bootstrap_certificate) left on the
/// router, checked by a handshake with its API-SSL port.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BootstrappedCertificate {
    /// The certificate's name on the router.
    pub name: String,
    /// Its SHA-256 fingerprint: what the API-SSL port presented at the end.
    pub fingerprint: CertificateFingerprint,
    /// Whether this call created or signed it (`false`: it was reused).
    pub created: bool,
    /// What this call did with the certificate.
    pub action: CertificateAction,
    /// Why, in words (e.g. "api-ssl already serves it and it can serve
    /// API-SSL", "the certificate X is a CA certificate…").
    pub reason: String,
    /// The certificate `api-ssl` served before this call switched it, if it did.
    pub replaced: Option<ReplacedCertificate>,
    /// Options that differ from the certificate kept: reported, not applied
    /// (apply them with [`BootstrapOptions::rotate`](super::BootstrapOptions::rotate)).
    pub differences: Vec<OptionDifference>,
    /// The port of the `api-ssl` service the handshake checked: the one to dial.
    pub port: u16,
    /// Options pinned to it, ready for [`DeviceBuilder::tls`](crate::DeviceBuilder::tls).
    pub tls: TlsOptions,
}

/// What a bootstrap did with the certificate it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateAction {
    /// It was on the router, signed and fit to serve API-SSL: reused as it is.
    Reused,
    /// It was an unsigned template (left by an interrupted run, or being made
    /// by a concurrent one): this call signed it.
    SignedTemplate,
    /// This call made and signed it.
    Made,
}

/// A certificate `api-ssl` served before a bootstrap switched it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplacedCertificate {
    /// Its name on the router (left there; remove it once no client pins it).
    pub name: String,
    /// Its fingerprint, when it had one: the pin clients used until now.
    pub fingerprint: Option<CertificateFingerprint>,
    /// Why it was replaced: unfit to serve API-SSL (and why), or a rotation.
    pub reason: String,
}

/// An option that differs from the certificate the bootstrap kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OptionDifference {
    /// The RouterOS attribute: `common-name`, `subject-alt-name`, `key-size`
    /// or `days-valid`.
    pub attribute: &'static str,
    /// What the options ask for.
    pub wanted: String,
    /// What the certificate has (empty when it shows none).
    pub found: String,
}
