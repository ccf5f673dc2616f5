//! Certificate bootstrap: give a router's `api-ssl` service a certificate,
//! over a connection that is already logged in, and get back the pin.
//!
//! A router as it comes has no certificate for `api-ssl`, so it speaks only
//! anonymous Diffie-Hellman, which rustls never will. The fix is five words
//! on the console; this does them over the API, idempotently, so a
//! provisioning script can call it every time it runs.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fingerprint::CertificateFingerprint;
use super::options::TlsOptions;
use crate::api::Collected;
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, ReplyResponse, TrapResponse};
use crate::{Error, MikrotikDevice, Result, TimeoutKind};

/// The certificate name used when none is given.
pub const DEFAULT_CERTIFICATE_NAME: &str = "api-ssl-mikrotik-rs";

/// A server certificate, not a CA: without `key-cert-sign`, RouterOS does not
/// mark it as an authority, so CA verification accepts it as the router's own.
const KEY_USAGE: &str = "digital-signature,key-encipherment,tls-server";

/// What [`bootstrap_certificate`] does, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BootstrapStage {
    /// Looking for the certificate (`/certificate/print`).
    Checking,
    /// The certificate exists and is signed: it is reused as it is.
    Reusing,
    /// Adding the certificate template (`/certificate/add`).
    Creating,
    /// Signing it on the router (`/certificate/sign`): seconds on a small
    /// router. `progress` is the router's own progress text, once it sends one.
    Signing {
        /// The router's `progress` value, if this step carries one.
        progress: Option<String>,
    },
    /// Assigning it to the `api-ssl` service (`/ip/service/set`).
    Assigning,
    /// Finished: this is the fingerprint to pin.
    Done {
        /// The SHA-256 fingerprint of the certificate `api-ssl` now presents.
        fingerprint: CertificateFingerprint,
    },
}

type Progress = Arc<dyn Fn(&BootstrapStage) + Send + Sync>;

/// How [`bootstrap_certificate`] makes (or finds) the certificate.
///
/// The defaults make a certificate named [`DEFAULT_CERTIFICATE_NAME`] with a
/// `prime256v1` (ECDSA P-256) key, which even a small router signs in
/// seconds, valid for ten years, for a TLS server and nothing else; give the
/// whole bootstrap two minutes; and enable `api-ssl` if it is disabled.
#[derive(Clone)]
pub struct BootstrapOptions {
    name: String,
    create: bool,
    common_name: Option<String>,
    subject_alt_name: Option<String>,
    key_size: String,
    days_valid: u32,
    enable_service: bool,
    timeout: Option<Duration>,
    progress: Option<Progress>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            name: DEFAULT_CERTIFICATE_NAME.to_owned(),
            create: true,
            common_name: None,
            subject_alt_name: None,
            key_size: "prime256v1".to_owned(),
            days_valid: 3650,
            enable_service: true,
            timeout: Some(Duration::from_secs(120)),
            progress: None,
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
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl BootstrapOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the certificate to find or make (default
    /// [`DEFAULT_CERTIFICATE_NAME`]). A second run with the same name finds
    /// and reuses it instead of making another.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self.create = true;
        self
    }

    /// Uses the certificate `name` that is already on the router (imported,
    /// or made by hand), signing it first if it is an unsigned template;
    /// never creates one. Its key usage is left as it is.
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
    /// ([`TlsOptions::custom_ca_pem`]); pinning ignores names.
    pub fn subject_alt_name(mut self, names: impl Into<String>) -> Self {
        self.subject_alt_name = Some(names.into());
        self
    }

    /// The RouterOS `key-size` (default `prime256v1`; `secp384r1`, or an RSA
    /// size such as `2048`, which small routers sign much more slowly).
    pub fn key_size(mut self, key_size: impl Into<String>) -> Self {
        self.key_size = key_size.into();
        self
    }

    /// Days the certificate is valid (default 3650). Pinning ignores dates;
    /// CA verification does not.
    pub fn days_valid(mut self, days: u32) -> Self {
        self.days_valid = days;
        self
    }

    /// Whether a disabled `api-ssl` service is enabled (default `true`).
    pub fn enable_service(mut self, enable: bool) -> Self {
        self.enable_service = enable;
        self
    }

    /// Limit for the whole bootstrap (default two minutes; `None` waits
    /// forever). Past it, the command running at that moment is cancelled on
    /// the router and the call fails with [`Error::Timeout`]. A run cut short
    /// while signing leaves an unsigned template, which the next run signs.
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
}

/// What [`bootstrap_certificate`] left on the router.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BootstrappedCertificate {
    /// The certificate's name on the router.
    pub name: String,
    /// Its SHA-256 fingerprint.
    pub fingerprint: CertificateFingerprint,
    /// Whether this call created or signed it (`false`: it was reused).
    pub created: bool,
    /// Options pinned to it, ready for [`DeviceBuilder::tls`](crate::DeviceBuilder::tls).
    pub tls: TlsOptions,
}

/// Gives the router's `api-ssl` service a certificate and returns
/// [`TlsOptions`] pinned to it.
///
/// Over `device` (logged in with a user that may write: typically the plain
/// API on a trusted management network), it finds the certificate named in
/// `options` or creates it (`/certificate/add`, with the key usage of a TLS
/// server, not a CA), signs it (`/certificate/sign`), assigns it to
/// `api-ssl` (`/ip/service/set`, enabling the service if it is disabled),
/// and reads its SHA-256 `fingerprint`. Idempotent: a second run finds the
/// certificate and reuses it, so certificates never pile up.
///
/// **This exchange itself is not encrypted**: on the plain API anyone on the
/// path can read the login and replace the fingerprint in the replies. Run it
/// on a network you trust (or over a tunnel), once, and pin the result from
/// then on. The same, by hand on the router's console:
///
/// ```text
/// /certificate add name=api-ssl-mikrotik-rs common-name=api-ssl-mikrotik-rs \
///     key-size=prime256v1 days-valid=3650 key-usage=digital-signature,key-encipherment,tls-server
/// /certificate sign api-ssl-mikrotik-rs
/// /ip service set api-ssl certificate=api-ssl-mikrotik-rs disabled=no
/// /certificate print detail where name=api-ssl-mikrotik-rs
/// ```
///
/// The last command shows the `fingerprint` to give [`TlsOptions::pinned_sha256`].
///
/// ```no_run
/// # async fn demo() -> mikrotik_rs::Result<()> {
/// use mikrotik_rs::MikrotikDevice;
/// use mikrotik_rs::tls::{BootstrapOptions, bootstrap_certificate};
///
/// let plain = MikrotikDevice::connect("192.168.88.1", "admin", Some("secret")).await?;
/// let made = bootstrap_certificate(
///     &plain,
///     BootstrapOptions::new().on_progress(|stage| eprintln!("{stage:?}")),
/// )
/// .await?;
/// println!("pin {}", made.fingerprint); // store it with the router's address
/// let secure = MikrotikDevice::builder("192.168.88.1")
///     .credentials("admin", Some("secret"))
///     .tls(made.tls)
///     .connect()
///     .await?;
/// # let _ = secure; Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::Timeout`] past the timeout; [`Error::Trap`] when the router
/// refuses a step (a user without the `write` policy, an invalid key size);
/// [`Error::Config`] for an empty name, or when an [`existing`](BootstrapOptions::existing)
/// certificate is missing, has no private key, or the router has no `api-ssl`
/// service; [`Error::Decode`] when the router reports a fingerprint that is
/// not 64 hex digits; connection errors as they come.
pub async fn bootstrap_certificate(
    device: &MikrotikDevice,
    options: BootstrapOptions,
) -> Result<BootstrappedCertificate> {
    if options.name.is_empty() {
        return Err(Error::Config("the certificate name is empty".into()));
    }
    let run = Run {
        device,
        // A timeout too far away to represent is no timeout.
        deadline: options.timeout.and_then(|t| Instant::now().checked_add(t)),
        options: &options,
    };
    run.bootstrap().await
}

/// One bootstrap: the device, the options, and the deadline every command
/// gets its share of.
struct Run<'a> {
    device: &'a MikrotikDevice,
    options: &'a BootstrapOptions,
    deadline: Option<Instant>,
}

impl Run<'_> {
    async fn bootstrap(&self) -> Result<BootstrappedCertificate> {
        let name = &self.options.name;
        self.report(BootstrapStage::Checking);
        let mut created = false;
        let found = match self.certificate().await? {
            Some(row) => row,
            None if self.options.create => {
                self.report(BootstrapStage::Creating);
                self.collect(self.add_command()).await?;
                created = true;
                self.certificate().await?.ok_or_else(|| {
                    Error::Config(format!(
                        "the router accepted /certificate/add but lists no certificate {name:?}"
                    ))
                })?
            }
            None => {
                return Err(Error::Config(format!(
                    "the router has no certificate named {name:?}; create it, or let \
                     bootstrap_certificate make one (BootstrapOptions::name)"
                )));
            }
        };
        let fingerprint = match fingerprint_of(&found)? {
            Some(fingerprint) => {
                if found.get("private-key").is_some_and(is_false) {
                    return Err(Error::Config(format!(
                        "the router's certificate {name:?} has no private key, so no service \
                         can present it; import its key, or let bootstrap_certificate make a \
                         new certificate under another name"
                    )));
                }
                self.report(BootstrapStage::Reusing);
                fingerprint
            }
            None => {
                created = true;
                self.sign().await?
            }
        };
        self.assign().await?;
        self.report(BootstrapStage::Done { fingerprint });
        Ok(BootstrappedCertificate {
            name: name.clone(),
            fingerprint,
            created,
            tls: TlsOptions::pinned([fingerprint])?,
        })
    }

    fn report(&self, stage: BootstrapStage) {
        if let Some(report) = &self.options.progress {
            report(&stage);
        }
    }

    /// The time left, or the bootstrap's timeout error.
    fn remaining(&self) -> Result<Option<Duration>> {
        match self.deadline {
            None => Ok(None),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Ok(Some(left)),
                _ => Err(self.timed_out()),
            },
        }
    }

    fn timed_out(&self) -> Error {
        Error::Timeout {
            what: TimeoutKind::CertificateBootstrap,
            after: self.options.timeout.unwrap_or_default(),
            address: None,
        }
    }

    /// `command` with the time left as its deadline.
    fn bounded(&self, command: Command) -> Result<Command> {
        Ok(match self.remaining()? {
            Some(left) => command.with_timeout(left),
            None => command,
        })
    }

    /// A command's timeout is the bootstrap's: say so.
    fn own_timeout(&self, error: Error) -> Error {
        if error.is_timeout() {
            self.timed_out()
        } else {
            error
        }
    }

    async fn collect(&self, command: Command) -> Result<Collected> {
        let command = self.bounded(command)?;
        self.device
            .collect(command)
            .await
            .map_err(|e| self.own_timeout(e))
    }

    /// The certificate's row, if the router has it.
    async fn certificate(&self) -> Result<Option<ReplyResponse>> {
        let print = CommandBuilder::new()
            .command("/certificate/print")
            .query_equal("name", &self.options.name)
            .build();
        Ok(self.collect(print).await?.rows.into_iter().next())
    }

    fn add_command(&self) -> Command {
        let options = self.options;
        let common_name = options.common_name.as_deref().unwrap_or(&options.name);
        let days = options.days_valid.to_string();
        let mut add = CommandBuilder::new()
            .command("/certificate/add")
            .attribute("name", Some(&options.name))
            .attribute("common-name", Some(common_name))
            .attribute("key-size", Some(&options.key_size))
            .attribute("days-valid", Some(&days))
            .attribute("key-usage", Some(KEY_USAGE));
        if let Some(names) = &options.subject_alt_name {
            add = add.attribute("subject-alt-name", Some(names));
        }
        add.build()
    }

    /// Signs the template and returns the signed certificate's fingerprint.
    async fn sign(&self) -> Result<CertificateFingerprint> {
        self.report(BootstrapStage::Signing { progress: None });
        let sign = CommandBuilder::new()
            .command("/certificate/sign")
            .attribute("number", Some(&self.options.name))
            .build();
        let mut replies = self.device.send_command(self.bounded(sign)?).await?;
        let mut traps: Vec<TrapResponse> = Vec::new();
        loop {
            let reply = match replies.recv().await {
                Some(reply) => reply.map_err(|e| self.own_timeout(e))?,
                None => return Err(self.device.closed_reason().unwrap_or(Error::Closed)),
            };
            match reply {
                CommandResponse::Reply(row) => self.report(BootstrapStage::Signing {
                    progress: row.get("progress").map(str::to_owned),
                }),
                CommandResponse::Trap(trap) => traps.push(trap),
                CommandResponse::Empty(_) => {}
                CommandResponse::Done(_) if traps.is_empty() => break,
                CommandResponse::Done(_) => return Err(Error::Trap(traps.into())),
                CommandResponse::Fatal(reason) => return Err(Error::Fatal(reason.into())),
            }
        }
        if let Some(fingerprint) = self.signed_fingerprint().await? {
            return Ok(fingerprint);
        }
        self.wait_until_signed().await
    }

    async fn signed_fingerprint(&self) -> Result<Option<CertificateFingerprint>> {
        match self.certificate().await? {
            Some(row) => fingerprint_of(&row),
            None => Err(Error::Config(format!(
                "the certificate {:?} is gone after signing it (removed meanwhile?)",
                self.options.name
            ))),
        }
    }

    /// For a router that answers `/certificate/sign` before it has finished:
    /// listens for the certificate's change (subscribed before looking again,
    /// so the change cannot fall in between), within the time left.
    async fn wait_until_signed(&self) -> Result<CertificateFingerprint> {
        let listen = CommandBuilder::new().command("/certificate/listen").build();
        let mut changes = self.device.send_command(self.bounded(listen)?).await?;
        if let Some(fingerprint) = self.signed_fingerprint().await? {
            return Ok(fingerprint);
        }
        while let Some(change) = changes.recv().await {
            match change.map_err(|e| self.own_timeout(e))? {
                CommandResponse::Reply(row)
                    if row.get("name") == Some(self.options.name.as_str()) =>
                {
                    if let Some(fingerprint) = fingerprint_of(&row)? {
                        return Ok(fingerprint);
                    }
                }
                CommandResponse::Trap(trap) => return Err(Error::Trap(vec![trap].into())),
                _ => {}
            }
        }
        Err(self.device.closed_reason().unwrap_or(Error::Closed))
    }

    /// Points `api-ssl` at the certificate (and enables it) unless it already is.
    async fn assign(&self) -> Result<()> {
        let print = CommandBuilder::new()
            .command("/ip/service/print")
            .query_equal("name", "api-ssl")
            .build();
        let Some(service) = self.collect(print).await?.rows.into_iter().next() else {
            return Err(Error::Config(
                "the router lists no api-ssl service under /ip/service".into(),
            ));
        };
        let name = self.options.name.as_str();
        let assigned = service.get("certificate") == Some(name);
        let enable = self.options.enable_service && service.get("disabled").is_some_and(is_true);
        if assigned && !enable {
            return Ok(());
        }
        self.report(BootstrapStage::Assigning);
        let id = service.get(".id").unwrap_or("api-ssl");
        let mut set = CommandBuilder::new()
            .command("/ip/service/set")
            .attribute(".id", Some(id))
            .attribute("certificate", Some(name));
        if enable {
            set = set.attribute("disabled", Some("no"));
        }
        self.collect(set.build()).await.map(drop)
    }
}

/// The row's fingerprint; `None` for an unsigned template.
fn fingerprint_of(row: &ReplyResponse) -> Result<Option<CertificateFingerprint>> {
    match row.get("fingerprint") {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| Error::Decode {
            key: Some("fingerprint".into()),
            value: Some(text.to_owned()),
            reason: "not a SHA-256 fingerprint (64 hex digits)".into(),
        }),
    }
}

fn is_true(value: &str) -> bool {
    matches!(value, "true" | "yes")
}

fn is_false(value: &str) -> bool {
    matches!(value, "false" | "no")
}
