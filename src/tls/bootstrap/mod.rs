//! Certificate bootstrap: give a router's `api-ssl` service a certificate,
//! over a connection that is already logged in, check with a handshake that
//! the port presents it, and return the pin.
//!
//! A router as it comes has no certificate for `api-ssl`, so it speaks only
//! anonymous Diffie-Hellman, which rustls never will. A router in service
//! may have one already, fit or not. The bootstrap reuses what can serve
//! ([`fitness`]), never replaces what `api-ssl` serves and can serve unless
//! asked to ([`BootstrapOptions::rotate`]), and makes a new one otherwise.
//!
//! Two runs at once, on two connections, coordinate through the router
//! itself: a certificate name is unique there, so `/certificate/add` is the
//! lock. The run whose `add` fails with "already exists" does not sign: it
//! waits for the winner's signature (or finds it signed). Two runs that find
//! the same leftover template both sign it; the sign that loses the race
//! finds the certificate signed and takes it. A template is recognised as the
//! bootstrap's own by its name and by carrying the options a run would
//! give it ([`fitness::template_matches`]).

mod fitness;
mod options;
mod outcome;
mod verify;

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::fitness::{KEY_USAGE, differences, is_true, template_matches, unfit_reason};
pub use self::options::{BootstrapOptions, BootstrapStage, DEFAULT_CERTIFICATE_NAME};
pub use self::outcome::{
    BootstrappedCertificate, CertificateAction, OptionDifference, ReplacedCertificate,
};
use super::fingerprint::CertificateFingerprint;
use super::options::TlsOptions;
use crate::api::Collected;
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, ReplyResponse, TrapResponse};
use crate::runtime::{self, Runtime};
use crate::{Error, MikrotikDevice, Result, TimeoutKind};

/// Gives the router's `api-ssl` service a certificate that can serve it,
/// checks with a TLS handshake that its port presents it, and returns
/// [`TlsOptions`] pinned to it.
///
/// Over `device` (logged in with a user that may write: typically the plain
/// API on a trusted management network):
///
/// - **Reuses** the certificate `api-ssl` already serves when it can serve
///   API-SSL: signed, with its private key, `tls-server` usage, not a CA
///   (unless [`allow_ca`](BootstrapOptions::allow_ca)), neither expired nor
///   revoked. Reusing it means pinning it: existing clients keep working.
///   Options that differ from it are reported in
///   [`differences`](BootstrappedCertificate::differences), not applied.
/// - Otherwise reuses the certificate named in `options` if it can serve,
///   signs it if it is a template this bootstrap would have made, or
///   **makes** one (`/certificate/add` with a TLS server's key usage,
///   `/certificate/sign`); a certificate with that name that cannot serve is
///   left alone and the new one is named `<name>-2`, `-3`…
/// - **Replaces** what `api-ssl` serves only when that cannot serve, or on
///   [`rotate`](BootstrapOptions::rotate); the old one is reported in
///   [`replaced`](BootstrappedCertificate::replaced) and stays on the router.
/// - Assigns it (`/ip/service/set`, enabling the service if it is disabled)
///   and **verifies** it: a TLS handshake with the service's port at
///   [`verify_host`](BootstrapOptions::verify_host) must present exactly the
///   pinned certificate, or the call fails saying what the port presents.
///
/// A run that fails leaves nothing that blocks the next: a template it made
/// and the router refused to sign is removed; one left by a run cut short
/// is signed by the next run, or removed and made again when its options
/// differ. Two runs at once end with the same certificate. On a device
/// that reconnects, a reconnect while signing resumes the wait.
///
/// **This exchange itself is not encrypted** when `device` uses the plain
/// API: anyone on the path can read the login and the commands (names,
/// options; no key material: keys are made on the router and never leave
/// it) and replace the fingerprint in the replies. The final handshake
/// checks the port against that fingerprint, which proves nothing against
/// someone who controls the path both ways. Run it on a network you trust (or
/// over a tunnel), once, and pin the result from then on. The same, by hand
/// on the router's console:
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
///     BootstrapOptions::new()
///         .verify_host("192.168.88.1")
///         .on_progress(|stage| eprintln!("{stage:?}")),
/// )
/// .await?;
/// println!("{:?}: {}", made.action, made.reason);
/// println!("pin {} on port {}", made.fingerprint, made.port); // store it with the router's address
/// let secure = MikrotikDevice::builder(format!("192.168.88.1:{}", made.port))
///     .credentials("admin", Some("secret"))
///     .tls(made.tls)
///     .connect()
///     .await?;
/// # let _ = secure; Ok(()) }
/// ```
///
/// # Errors
///
/// [`Error::Timeout`] past the timeout (on the runtime's clock);
/// [`Error::Trap`] when the router refuses a step (a user without the
/// `write` policy, an invalid key size or name); [`Error::Tls`] when the
/// port does not present the pinned certificate (the message says what it
/// presents) or cannot be reached; [`Error::Config`] without a
/// [`verify_host`](BootstrapOptions::verify_host) or a runtime, for an empty
/// name, or when an [`existing`](BootstrapOptions::existing) certificate is
/// missing or cannot serve API-SSL, or the router has no `api-ssl` service;
/// [`Error::Decode`] when the router reports a fingerprint that is not 64
/// hex digits, or a port that is not a number; connection errors as they come.
pub async fn bootstrap_certificate(
    device: &MikrotikDevice,
    options: BootstrapOptions,
) -> Result<BootstrappedCertificate> {
    if options.name.is_empty() {
        return Err(Error::Config("the certificate name is empty".into()));
    }
    let Some(host) = options.verify_host.clone() else {
        return Err(Error::Config(
            "the bootstrap checks the pin with a TLS handshake and needs the router's address \
             for it: BootstrapOptions::verify_host"
                .into(),
        ));
    };
    let runtime = match &options.runtime {
        Some(runtime) => Arc::clone(runtime),
        None => runtime::default_runtime().ok_or_else(|| {
            Error::Config(
                "no runtime: enable the `tokio` or `async-io` feature, or pass one with \
                 BootstrapOptions::runtime"
                    .into(),
            )
        })?,
    };
    let run = Run {
        device,
        // A timeout too far away to represent is no timeout.
        deadline: options.timeout.and_then(|t| runtime.now().checked_add(t)),
        runtime: &*runtime,
        host: &host,
        options: &options,
    };
    // The commands carry their share of the time; this also ends waits that
    // are not commands (the check's handshake, a reconnect).
    runtime::with_deadline(&*runtime, run.deadline, run.bootstrap(), || {
        Err(run.timed_out())
    })
    .await
}

/// One bootstrap: the device, the options, and the deadline every command
/// gets its share of.
struct Run<'a> {
    device: &'a MikrotikDevice,
    options: &'a BootstrapOptions,
    runtime: &'a dyn Runtime,
    host: &'a str,
    deadline: Option<Instant>,
}

/// The `api-ssl` service as `/ip/service/print` shows it.
struct Service {
    id: String,
    port: u16,
    certificate: Option<String>,
    disabled: bool,
}

/// The certificate a run settled on, and how.
struct Chosen {
    name: String,
    fingerprint: CertificateFingerprint,
    action: CertificateAction,
    reason: String,
    differences: Vec<OptionDifference>,
}

impl Run<'_> {
    async fn bootstrap(&self) -> Result<BootstrappedCertificate> {
        self.report(BootstrapStage::Checking);
        let service = self.service().await?;
        let certificates = self.certificates().await?;
        let served = service.certificate.as_deref().and_then(|name| {
            certificates
                .iter()
                .find(|row| row.get("name") == Some(name))
        });
        let served_unfit = served.map(|row| {
            if fingerprint_of(row).ok().flatten().is_none() {
                Some("it is not signed".to_owned())
            } else {
                unfit_reason(row, self.options.allow_ca)
            }
        });
        let chosen = match (served, &served_unfit) {
            (Some(row), Some(None)) if self.options.create && !self.options.rotate => {
                let name = row.get("name").unwrap_or_default().to_owned();
                self.report(BootstrapStage::Reusing);
                Chosen {
                    fingerprint: fingerprint_of(row)?.ok_or_else(|| self.gone(&name))?,
                    reason: format!(
                        "api-ssl already serves {name:?} and it can serve API-SSL: pinned as it is"
                    ),
                    differences: differences(row, self.options),
                    action: CertificateAction::Reused,
                    name,
                }
            }
            _ if !self.options.create => self.existing(&certificates).await?,
            _ if self.options.rotate => {
                let name = fresh_name(&certificates, &self.options.name);
                self.make(&name, "rotation asked (BootstrapOptions::rotate)".into())
                    .await?
            }
            _ => self.own(&certificates).await?,
        };
        let replaced = match (served, served_unfit) {
            (Some(row), Some(unfit)) if row.get("name") != Some(chosen.name.as_str()) => {
                Some(ReplacedCertificate {
                    name: row.get("name").unwrap_or_default().to_owned(),
                    fingerprint: fingerprint_of(row).ok().flatten(),
                    reason: match unfit {
                        Some(why) => format!("it cannot serve API-SSL: {why}"),
                        None if self.options.rotate => "rotation asked".to_owned(),
                        None => format!("BootstrapOptions::existing asked for {:?}", chosen.name),
                    },
                })
            }
            _ => None,
        };
        self.assign(&service, &chosen.name).await?;
        self.report(BootstrapStage::Verifying { port: service.port });
        verify::presents(
            self.runtime,
            self.host,
            service.port,
            chosen.fingerprint,
            self.deadline,
            || self.timed_out(),
        )
        .await?;
        self.report(BootstrapStage::Done {
            fingerprint: chosen.fingerprint,
        });
        Ok(BootstrappedCertificate {
            created: chosen.action != CertificateAction::Reused,
            tls: TlsOptions::pinned([chosen.fingerprint])?,
            name: chosen.name,
            fingerprint: chosen.fingerprint,
            action: chosen.action,
            reason: chosen.reason,
            replaced,
            differences: chosen.differences,
            port: service.port,
        })
    }

    /// [`BootstrapOptions::existing`]: that certificate, signed if needed,
    /// and fit.
    async fn existing(&self, certificates: &[ReplyResponse]) -> Result<Chosen> {
        let name = &self.options.name;
        let Some(row) = certificates.iter().find(|r| r.get("name") == Some(name)) else {
            return Err(Error::Config(format!(
                "the router has no certificate named {name:?}; create it, or let \
                 bootstrap_certificate make one (BootstrapOptions::name)"
            )));
        };
        if fingerprint_of(row)?.is_none() {
            let fingerprint = self.sign(name, false).await?;
            return Ok(self.chosen(
                name,
                fingerprint,
                CertificateAction::SignedTemplate,
                "it was an unsigned template: signed".into(),
            ));
        }
        if let Some(why) = unfit_reason(row, self.options.allow_ca) {
            return Err(Error::Config(format!(
                "the router's certificate {name:?} cannot serve API-SSL: {why}; fix it, or let \
                 bootstrap_certificate make a new certificate (BootstrapOptions::name)"
            )));
        }
        self.report(BootstrapStage::Reusing);
        let fingerprint = fingerprint_of(row)?.ok_or_else(|| self.gone(name))?;
        let mut chosen = self.chosen(
            name,
            fingerprint,
            CertificateAction::Reused,
            "asked for by BootstrapOptions::existing, and it can serve API-SSL".into(),
        );
        chosen.differences = differences(row, self.options);
        Ok(chosen)
    }

    /// The certificate named in the options: reused if fit, signed if it is
    /// this bootstrap's template, made (again, or under a fresh name) otherwise.
    async fn own(&self, certificates: &[ReplyResponse]) -> Result<Chosen> {
        let name = &self.options.name;
        let Some(row) = certificates.iter().find(|r| r.get("name") == Some(name)) else {
            return self
                .make(name, format!("no certificate named {name:?} yet"))
                .await;
        };
        match fingerprint_of(row)? {
            Some(fingerprint) => {
                match unfit_reason(row, self.options.allow_ca) {
                    None => {
                        self.report(BootstrapStage::Reusing);
                        let mut chosen = self.chosen(
                            name,
                            fingerprint,
                            CertificateAction::Reused,
                            format!("the certificate {name:?} can serve API-SSL"),
                        );
                        chosen.differences = differences(row, self.options);
                        Ok(chosen)
                    }
                    Some(why) => {
                        let fresh = fresh_name(certificates, name);
                        self.make(&fresh, format!("the certificate {name:?} cannot serve API-SSL ({why}); left as it is"))
                        .await
                    }
                }
            }
            None if template_matches(row, self.options) => {
                let fingerprint = self.sign(name, false).await?;
                Ok(self.chosen(
                    name,
                    fingerprint,
                    CertificateAction::SignedTemplate,
                    format!("the template {name:?} left unsigned by an earlier run was signed"),
                ))
            }
            None => {
                self.remove(row).await?;
                self.make(name, format!("the template {name:?} an earlier run left has other options: removed and made again"))
                    .await
            }
        }
    }

    fn chosen(
        &self,
        name: &str,
        fingerprint: CertificateFingerprint,
        action: CertificateAction,
        reason: String,
    ) -> Chosen {
        Chosen {
            name: name.to_owned(),
            fingerprint,
            action,
            reason,
            differences: Vec::new(),
        }
    }

    /// Adds the template `name` and signs it. A concurrent run that added it
    /// first wins the name: this run waits for its signature, or takes it
    /// signed. (A winner that dies while signing leaves this one waiting
    /// until the timeout; the next run signs the template it left.)
    async fn make(&self, name: &str, reason: String) -> Result<Chosen> {
        self.report(BootstrapStage::Creating);
        let mine = match self.collect(self.add_command(name)).await {
            Ok(_) => true,
            Err(error) if is_name_taken(&error) => false,
            Err(error) => return Err(error),
        };
        let row = self
            .certificate(name)
            .await?
            .ok_or_else(|| self.gone(name))?;
        if !mine {
            if let Some(fingerprint) = fingerprint_of(&row)? {
                if let Some(why) = unfit_reason(&row, self.options.allow_ca) {
                    return Err(Error::Config(format!(
                        "a concurrent run made {name:?}, and it cannot serve API-SSL: {why}"
                    )));
                }
                self.report(BootstrapStage::Reusing);
                return Ok(self.chosen(
                    name,
                    fingerprint,
                    CertificateAction::Reused,
                    format!("a concurrent run made {name:?} meanwhile"),
                ));
            }
            if !template_matches(&row, self.options) {
                return Err(Error::Config(format!(
                    "a concurrent run is making {name:?} with other options; run again once it is done"
                )));
            }
            // The run whose add won signs; this one waits for its result.
            self.report(BootstrapStage::Signing { progress: None });
            let fingerprint = self.wait_until_signed(name).await?;
            return Ok(self.chosen(
                name,
                fingerprint,
                CertificateAction::Reused,
                format!("a concurrent run made {name:?} meanwhile: waited for its signature"),
            ));
        }
        let fingerprint = self.sign(name, true).await?;
        Ok(self.chosen(name, fingerprint, CertificateAction::Made, reason))
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
            Some(deadline) => match deadline.checked_duration_since(self.runtime.now()) {
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
            stage: None,
        }
    }

    fn gone(&self, name: &str) -> Error {
        Error::Config(format!(
            "the certificate {name:?} is gone, or lost its fingerprint, while the bootstrap \
             worked on it (removed meanwhile?)"
        ))
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

    async fn service(&self) -> Result<Service> {
        let print = CommandBuilder::new()
            .command("/ip/service/print")
            .query_equal("name", "api-ssl")
            .build();
        let Some(row) = self.collect(print).await?.rows.into_iter().next() else {
            return Err(Error::Config(
                "the router lists no api-ssl service under /ip/service".into(),
            ));
        };
        let port = row.get("port").unwrap_or("8729");
        let port = port.parse().map_err(|_| Error::Decode {
            key: Some("port".into()),
            value: Some(port.to_owned()),
            reason: "the api-ssl service's port is not a port number".into(),
        })?;
        Ok(Service {
            id: row.get(".id").unwrap_or("api-ssl").to_owned(),
            port,
            certificate: row
                .get("certificate")
                .filter(|name| !name.is_empty() && *name != "none")
                .map(str::to_owned),
            disabled: row.get("disabled").is_some_and(is_true),
        })
    }

    async fn certificates(&self) -> Result<Vec<ReplyResponse>> {
        let print = CommandBuilder::new().command("/certificate/print").build();
        Ok(self.collect(print).await?.rows)
    }

    /// The certificate's row, if the router has it.
    async fn certificate(&self, name: &str) -> Result<Option<ReplyResponse>> {
        let print = CommandBuilder::new()
            .command("/certificate/print")
            .query_equal("name", name)
            .build();
        Ok(self.collect(print).await?.rows.into_iter().next())
    }

    /// Removes a template that blocks the next step.
    async fn remove(&self, row: &ReplyResponse) -> Result<()> {
        let name = row.get("name").unwrap_or_default().to_owned();
        let Some(id) = row.get(".id") else {
            return Ok(());
        };
        self.report(BootstrapStage::Removing { name });
        let remove = CommandBuilder::new()
            .command("/certificate/remove")
            .attribute("numbers", Some(id))
            .build();
        self.collect(remove).await.map(drop)
    }

    fn add_command(&self, name: &str) -> Command {
        let options = self.options;
        let days = options.effective_days_valid().to_string();
        let mut add = CommandBuilder::new()
            .command("/certificate/add")
            .attribute("name", Some(name))
            .attribute("common-name", Some(options.effective_common_name()))
            .attribute("key-size", Some(options.effective_key_size()))
            .attribute("days-valid", Some(&days))
            .attribute("key-usage", Some(KEY_USAGE));
        if let Some(names) = &options.subject_alt_name {
            add = add.attribute("subject-alt-name", Some(names));
        }
        add.build()
    }

    /// Signs the template `name` and returns the signed certificate's
    /// fingerprint. A sign that fails is looked at again: a concurrent run's
    /// sign may have won, or the connection dropped after the router
    /// finished; on a device that reconnects, a sign the connection lost is
    /// sent again. A template this run made and the router refused to sign
    /// (`mine`) is removed, so it blocks no later run.
    async fn sign(&self, name: &str, mine: bool) -> Result<CertificateFingerprint> {
        loop {
            let Err(error) = self.sign_once(name).await else {
                break;
            };
            if error.is_timeout() {
                return Err(error);
            }
            let lost = error.is_connection_error() && self.device.reconnects();
            if !lost && !matches!(error, Error::Trap(_)) {
                return Err(error);
            }
            match self.certificate(name).await? {
                Some(row) => {
                    if let Some(fingerprint) = fingerprint_of(&row)? {
                        return Ok(fingerprint);
                    }
                    if lost {
                        continue;
                    }
                    if mine {
                        self.remove(&row).await?;
                    }
                    return Err(error);
                }
                None => return Err(if lost { self.gone(name) } else { error }),
            }
        }
        match self.signed_fingerprint(name).await? {
            Some(fingerprint) => Ok(fingerprint),
            None => self.wait_until_signed(name).await,
        }
    }

    /// One `/certificate/sign`, to its `!done`, reporting the router's progress.
    async fn sign_once(&self, name: &str) -> Result<()> {
        self.report(BootstrapStage::Signing { progress: None });
        let sign = CommandBuilder::new()
            .command("/certificate/sign")
            .attribute("number", Some(name))
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
                CommandResponse::Done(_) if traps.is_empty() => return Ok(()),
                CommandResponse::Done(_) => return Err(Error::Trap(traps.into())),
                CommandResponse::Fatal(reason) => return Err(Error::Fatal(reason.into())),
            }
        }
    }

    async fn signed_fingerprint(&self, name: &str) -> Result<Option<CertificateFingerprint>> {
        match self.certificate(name).await? {
            Some(row) => fingerprint_of(&row),
            None => Err(self.gone(name)),
        }
    }

    /// For a router that answers `/certificate/sign` before it has finished:
    /// listens for the certificate's change (subscribed before looking again,
    /// so the change cannot fall in between), within the time left. After a
    /// gap in the listen (a reconnect), `print` is read again rather than
    /// trusting what the listen missed.
    async fn wait_until_signed(&self, name: &str) -> Result<CertificateFingerprint> {
        let listen = CommandBuilder::new().command("/certificate/listen").build();
        let mut changes = self.device.send_command(self.bounded(listen)?).await?;
        let mut look = true;
        loop {
            if std::mem::take(&mut look)
                && let Some(fingerprint) = self.signed_fingerprint(name).await?
            {
                return Ok(fingerprint);
            }
            let Some(change) = changes.recv().await else {
                return Err(self.device.closed_reason().unwrap_or(Error::Closed));
            };
            if is_gap(&change) {
                look = true;
                continue;
            }
            match change.map_err(|e| self.own_timeout(e))? {
                CommandResponse::Reply(row) if row.get("name") == Some(name) => {
                    if let Some(fingerprint) = fingerprint_of(&row)? {
                        return Ok(fingerprint);
                    }
                }
                // A removal shows only the id: look whether it was this one.
                CommandResponse::Reply(row) if row.get(".dead").is_some_and(is_true) => {
                    look = true;
                }
                CommandResponse::Trap(trap) => return Err(Error::Trap(vec![trap].into())),
                _ => {}
            }
        }
    }

    /// Points `api-ssl` at the certificate (and enables it) unless it already is.
    async fn assign(&self, service: &Service, name: &str) -> Result<()> {
        let assigned = service.certificate.as_deref() == Some(name);
        let enable = self.options.enable_service && service.disabled;
        if assigned && !enable {
            return Ok(());
        }
        self.report(BootstrapStage::Assigning);
        let mut set = CommandBuilder::new()
            .command("/ip/service/set")
            .attribute(".id", Some(&service.id))
            .attribute("certificate", Some(name));
        if enable {
            set = set.attribute("disabled", Some("no"));
        }
        self.collect(set.build()).await.map(drop)
    }
}

/// Whether an item of a raw listen stream is the gap marker a reconnect
/// leaves: the one place that knows how a gap looks.
fn is_gap(item: &Result<CommandResponse>) -> bool {
    matches!(item, Err(Error::Resumed { .. }))
}

/// The router's answer to a name already in use.
fn is_name_taken(error: &Error) -> bool {
    error
        .traps()
        .is_some_and(|traps| traps.iter().any(|t| t.message.contains("already exists")))
}

/// `name` if no certificate has it, else the first free `name-2`, `name-3`….
fn fresh_name(certificates: &[ReplyResponse], name: &str) -> String {
    let taken = |candidate: &str| {
        certificates
            .iter()
            .any(|r| r.get("name") == Some(candidate))
    };
    if !taken(name) {
        return name.to_owned();
    }
    (2..)
        .map(|n| format!("{name}-{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_owned())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Sentence;

    fn named(name: &str) -> ReplyResponse {
        let words = [
            b"!re".to_vec(),
            format!("=name={name}").into_bytes(),
            b".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11".to_vec(),
        ];
        match CommandResponse::parse(Sentence::from_words(words)).unwrap() {
            CommandResponse::Reply(reply) => reply,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_fresh_name_is_the_name_or_the_first_free_suffix() {
        assert_eq!(fresh_name(&[], "api"), "api");
        assert_eq!(fresh_name(&[named("other")], "api"), "api");
        assert_eq!(fresh_name(&[named("api")], "api"), "api-2");
        let taken = [named("api"), named("api-2"), named("api-4")];
        assert_eq!(fresh_name(&taken, "api"), "api-3");
    }

    #[test]
    fn only_the_reconnect_marker_is_a_gap() {
        let gap: Result<CommandResponse> = Err(Error::Resumed {
            gap: Duration::from_millis(5),
            cause: Arc::new(Error::Closed),
        });
        assert!(is_gap(&gap));
        assert!(!is_gap(&Err(Error::Closed)));
        assert!(!is_gap(&Ok(CommandResponse::Reply(named("api")))));
    }
}
