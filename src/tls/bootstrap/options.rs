//! What a bootstrap is asked to do: [`BootstrapOptions`], and the stages it
//! reports while it does it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::Runtime;
use crate::tls::CertificateFingerprint;

/// The certificate name used when none is given.
pub const DEFAULT_CERTIFICATE_NAME: &str = "api-ssl-mikrotik-rs";

/// The key size of a certificate the bootstrap makes, unless told otherwise.
pub(super) const DEFAULT_KEY_SIZE: &str = "prime256v1";
/// Its validity in days, unless told otherwise.
pub(super) const DEFAULT_DAYS_VALID: u32 = 3650;

/// What [`bootstrap_certificate`](super::bootstrap_certificate) does, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BootstrapStage {
    /// Reading the `api-ssl` service and the certificates.
    Checking,
    /// A certificate that can serve API-SSL is there: it is reused as it is.
    Reusing,
    /// Adding the certificate template (`/certificate/add`).
    Creating,
    /// Removing a template this run or an earlier one made and could not
    /// finish (`/certificate/remove`), so that it blocks no later run.
    Removing {
        /// The template's name.
        name: String,
    },
    /// Signing it on the router (`/certificate/sign`): seconds on a small
    /// router. `progress` is the router's own progress text, once it sends one.
    Signing {
        /// The router's `progress` value, if this step carries one.
        progress: Option<String>,
    },
    /// Assigning it to the `api-ssl` service (`/ip/service/set`).
    Assigning,
    /// Checking with a TLS handshake that the service's port presents it.
    Verifying {
        /// The port handshaken with.
        port: u16,
    },
    /// Finished: this is the fingerprint to pin.
    Done {
        /// The SHA-256 fingerprint of the certificate `api-ssl` now presents.
        fingerprint: CertificateFingerprint,
    },
}

type Progress = Arc<dyn Fn(&BootstrapStage) + Send + Sync>;

/// How [`bootstrap_certificate`](super::bootstrap_certificate) finds, makes
/// and checks the certificate.
///
/// The defaults reuse the certificate `api-ssl` already serves when it can
/// serve API-SSL; otherwise they make one named [`DEFAULT_CERTIFICATE_NAME`]
/// with a `prime256v1` (ECDSA P-256) key, which even a small router signs in
/// seconds, valid for ten years, for a TLS server and nothing else. They give
/// the whole bootstrap two minutes and enable `api-ssl` if it is disabled.
/// [`verify_host`](Self::verify_host) has no default: the bootstrap checks
/// the pin with a handshake, and needs to know where the router is.
#[derive(Clone)]
pub struct BootstrapOptions {
    pub(super) name: String,
    pub(super) create: bool,
    pub(super) common_name: Option<String>,
    pub(super) subject_alt_name: Option<String>,
    pub(super) key_size: Option<String>,
    pub(super) days_valid: Option<u32>,
    pub(super) enable_service: bool,
    pub(super) timeout: Option<Duration>,
    pub(super) progress: Option<Progress>,
    pub(super) rotate: bool,
    pub(super) allow_ca: bool,
    pub(super) verify_host: Option<String>,
    pub(super) runtime: Option<Arc<dyn Runtime>>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            name: DEFAULT_CERTIFICATE_NAME.to_owned(),
            create: true,
            common_name: None,
            subject_alt_name: None,
            key_size: None,
            days_valid: None,
            enable_service: true,
            timeout: Some(Duration::from_secs(120)),
            progress: None,
            rotate: false,
            allow_ca: false,
            verify_host: None,
            runtime: None,
        }
    }
}

impl fmt::Debug for BootstrapOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapOptions")
            .field("name", &self.name)
            .field("create", &self.create)
            .field("common_name", &self.common_name)
            .field("subject_alt_name", &self.subject_alt_name)
            .field("key_size", &self.key_size)
            .field("days_valid", &self.days_valid)
            .field("enable_service", &self.enable_service)
            .field("timeout", &self.timeout)
            .field("rotate", &self.rotate)
            .field("allow_ca", &self.allow_ca)
            .field("verify_host", &self.verify_host)
            .field("runtime", &self.runtime.is_some())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl BootstrapOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the certificate to make (default [`DEFAULT_CERTIFICATE_NAME`]).
    /// A certificate with this name that can serve API-SSL is reused; one
    /// that cannot (a CA, expired, revoked, without `tls-server` usage or
    /// private key) is left alone and a new one is made as `<name>-2`, `-3`….
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self.create = true;
        self
    }

    /// Uses the certificate `name` that is already on the router (imported,
    /// or made by hand), signing it first if it is an unsigned template;
    /// never creates one. It must be fit to serve API-SSL (see
    /// [`name`](Self::name)); its key usage is not changed.
    pub fn existing(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self.create = false;
        self
    }

    /// The certificate's common name (default: its name).
    pub fn common_name(mut self, common_name: impl Into<String>) -> Self {
        self.common_name = Some(common_name.into());
        self
    }

    /// Subject alternative names in RouterOS syntax, e.g.
    /// `IP:192.168.88.1,DNS:router.lan`: needed only for CA verification
    /// ([`TlsOptions::custom_ca_pem`](crate::tls::TlsOptions::custom_ca_pem));
    /// pinning ignores names.
    pub fn subject_alt_name(mut self, names: impl Into<String>) -> Self {
        self.subject_alt_name = Some(names.into());
        self
    }

    /// The RouterOS `key-size` (default `prime256v1`; `secp384r1`, or an RSA
    /// size such as `2048`, which small routers sign much more slowly).
    pub fn key_size(mut self, key_size: impl Into<String>) -> Self {
        self.key_size = Some(key_size.into());
        self
    }

    /// Days the certificate is valid (default 3650). Pinning ignores dates;
    /// CA verification does not.
    pub fn days_valid(mut self, days: u32) -> Self {
        self.days_valid = Some(days);
        self
    }

    /// Whether a disabled `api-ssl` service is enabled (default `true`).
    pub fn enable_service(mut self, enable: bool) -> Self {
        self.enable_service = enable;
        self
    }

    /// Makes a new certificate even when the one `api-ssl` serves is fit,
    /// switches the service to it, and reports the old one in
    /// [`BootstrappedCertificate::replaced`](super::BootstrappedCertificate::replaced)
    /// (default `false`). Every client pinned to the old one must be given
    /// the new pin. This is how changed options (names, key size, validity)
    /// reach a router that already has a certificate: without it they are
    /// only reported, in
    /// [`differences`](super::BootstrappedCertificate::differences).
    pub fn rotate(mut self, rotate: bool) -> Self {
        self.rotate = rotate;
        self
    }

    /// Whether a CA certificate (`key-cert-sign` usage, RouterOS's default)
    /// may be reused for API-SSL (default `false`). Pinning accepts one; CA
    /// verification refuses a CA presented as the router's own certificate.
    pub fn allow_ca(mut self, allow: bool) -> Self {
        self.allow_ca = allow;
        self
    }

    /// Where to reach the router for the check that ends the bootstrap: a
    /// TLS handshake that must present exactly the pinned certificate. The
    /// host as a client dials it (`192.168.88.1`, `router.lan`); the port is
    /// the `api-ssl` service's, unless given here (`host:port`, e.g. through
    /// a port forward). Required.
    pub fn verify_host(mut self, host: impl Into<String>) -> Self {
        self.verify_host = Some(host.into());
        self
    }

    /// The runtime whose clock measures the timeout and whose sockets make
    /// the check's handshake (default: as
    /// [`default_runtime`](crate::runtime::default_runtime) picks). Give the
    /// device's own when it has one of its own (a virtual clock in tests).
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Limit for the whole bootstrap, on the runtime's clock (default two
    /// minutes; `None` waits forever). Past it, the command running at that
    /// moment is cancelled on the router and the call fails with
    /// [`Error::Timeout`](crate::Error::Timeout). A run cut short while
    /// signing leaves an unsigned template, which the next run signs.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Calls `report` at each [`BootstrapStage`], e.g. to show progress to a
    /// user while a small router signs.
    pub fn on_progress(mut self, report: impl Fn(&BootstrapStage) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(report));
        self
    }

    /// The common name a new certificate gets.
    pub(super) fn effective_common_name(&self) -> &str {
        self.common_name.as_deref().unwrap_or(&self.name)
    }

    pub(super) fn effective_key_size(&self) -> &str {
        self.key_size.as_deref().unwrap_or(DEFAULT_KEY_SIZE)
    }

    pub(super) fn effective_days_valid(&self) -> u32 {
        self.days_valid.unwrap_or(DEFAULT_DAYS_VALID)
    }
}
