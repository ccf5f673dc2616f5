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
//! lock. The run whose `add` fails with "already exists" takes the winner's
//! certificate if it is signed, or signs the template too when it carries
//! its own options, as two runs that find the same leftover template both
//! sign it: the sign that loses the race finds the certificate signed and
//! takes it, and a winner that died before signing keeps nobody waiting. A
//! template with other options is watched for a while for a concurrent
//! run's signature ([`LEFTOVER_GRACE`]) before it is taken for a leftover.
//! A template is recognised as the bootstrap's own by its name (the one
//! asked for, or that name with `-2`, `-3`…) and by carrying the options a
//! run would give it ([`fitness::template_matches`]). Whatever is signed or
//! taken is checked for fitness before it is assigned.

mod fitness;
mod options;
mod outcome;
mod verify;

use std::net::IpAddr;
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
use crate::device::Address;
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
/// - Otherwise reuses the certificate named in `options` (or one an earlier
///   run made as `<name>-2`, `-3`…) if it can serve, signs one that is a
///   template this bootstrap would have made, or **makes** one
///   (`/certificate/add` with a TLS server's key usage, `/certificate/sign`);
///   a certificate with that name that cannot serve is left alone and the
///   new one is named `<name>-2`, `-3`… Reruns reuse these rather than
///   pile up more.
/// - **Replaces** what `api-ssl` serves only when that cannot serve, or on
///   [`rotate`](BootstrapOptions::rotate); the old one is reported in
///   [`replaced`](BootstrappedCertificate::replaced) and stays on the router.
/// - Assigns it (`/ip/service/set`, enabling the service if it is disabled)
///   and **verifies** it: a TLS handshake with the service's port at the
///   address this device reached ([`MikrotikDevice::peer_addr`]), or at
///   [`verify_host`](BootstrapOptions::verify_host), must present exactly
///   the pinned certificate, or the call fails saying what the port
///   presents — and, when this run switched the service, gives it back the
///   certificate it served before ([`BootstrapStage::RollingBack`]), so
///   clients pinned to that one keep working. The check cannot come before
///   the switch: the service presents only the certificate it is given.
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
///     BootstrapOptions::new().on_progress(|stage| eprintln!("{stage:?}")),
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
/// [`verify_host`](BootstrapOptions::verify_host) on a device with no address
/// of its own ([`connect_stream`](crate::DeviceBuilder::connect_stream)),
/// without a runtime, for an empty name, when an
/// [`existing`](BootstrapOptions::existing) certificate (or what a
/// concurrent run made) is missing or cannot serve API-SSL, when `api-ssl`
/// is disabled and [`enable_service(false)`](BootstrapOptions::enable_service)
/// keeps it so, or the router has no `api-ssl` service;
/// [`Error::Decode`] when the router reports a fingerprint that is not 64
/// hex digits, or a port that is not a number; connection errors as they come.
pub async fn bootstrap_certificate(
    device: &MikrotikDevice,
    options: BootstrapOptions,
) -> Result<BootstrappedCertificate> {
    if options.name.is_empty() {
        return Err(Error::Config("the certificate name is empty".into()));
    }
    // Where clients dial: as given, else the router this device reached.
    let host = match (&options.verify_host, device.peer_addr()) {
        (Some(host), _) => host.clone(),
        (None, Some(peer)) => match peer.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        },
        (None, None) => {
            return Err(Error::Config(
                "the bootstrap checks the pin with a TLS handshake to the router, and this \
                 device has no address of its own (made with connect_stream or from a \
                 connection handle): give it with BootstrapOptions::verify_host"
                    .into(),
            ));
        }
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
    // are not commands (a reconnect). The check has its own deadline, so that
    // a check cut short can still give api-ssl back what it served.
    let prepared = runtime::with_deadline(&*runtime, run.deadline, run.prepare(), || {
        Err(run.timed_out())
    })
    .await?;
    run.verify(prepared).await
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

/// A certificate assigned to `api-ssl`, still to be checked by a handshake.
struct Prepared {
    service: Service,
    chosen: Chosen,
    replaced: Option<ReplacedCertificate>,
    /// Whether `/ip/service/set` changed the service (then a failed check
    /// gives it back what it had).
    switched: bool,
}

/// How long a template with other options is watched for a concurrent run's
/// signature before it is taken for a leftover and removed. Longer than a
/// small router takes to sign a `prime256v1` key; a run that signs an RSA key
/// for longer than this may lose its template to a run with other options.
const LEFTOVER_GRACE: Duration = Duration::from_secs(5);

/// The time a failed check gets to give `api-ssl` back what it served, even
/// once the bootstrap's own deadline has passed.
const ROLLBACK_LIMIT: Duration = Duration::from_secs(10);

impl Run<'_> {
    /// Everything up to the check: the certificate chosen (reused, signed or
    /// made) and assigned.
    async fn prepare(&self) -> Result<Prepared> {
        self.report(BootstrapStage::Checking);
        let service = self.service().await?;
        if service.disabled && !self.options.enable_service {
            return Err(Error::Config(
                "the api-ssl service is disabled and BootstrapOptions::enable_service(false) \
                 keeps it so: a disabled service presents no certificate, so none can be \
                 checked or pinned; nothing was changed"
                    .into(),
            ));
        }
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
                let name = fresh_name(&names(&certificates), &self.options.name);
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
        let switched = self.assign(&service, &chosen.name).await?;
        Ok(Prepared {
            service,
            chosen,
            replaced,
            switched,
        })
    }

    /// The check: a handshake with the port a client dials must present the
    /// pinned certificate. When it does not, and this run switched the
    /// service, the service is given back what it served before (reported as
    /// [`BootstrapStage::RollingBack`] and in the error), so that clients
    /// pinned to the old certificate keep working.
    async fn verify(&self, prepared: Prepared) -> Result<BootstrappedCertificate> {
        let Prepared {
            service,
            chosen,
            replaced,
            switched,
        } = prepared;
        // `host:port` in verify_host (a port forward) is where clients dial:
        // that port is checked, reported and returned.
        let address = Address::parse(self.host, service.port)?;
        self.report(BootstrapStage::Verifying { port: address.port });
        let checked = verify::presents(
            self.runtime,
            &address,
            chosen.fingerprint,
            self.deadline,
            || self.timed_out(),
        )
        .await;
        if let Err(error) = checked {
            return Err(if switched {
                self.roll_back(&service, error).await
            } else {
                error
            });
        }
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
            port: address.port,
        })
    }

    /// Gives `api-ssl` back the certificate (and the disabled state) it had
    /// before this run, within [`ROLLBACK_LIMIT`]; returns `error`, saying in
    /// a TLS error's message whether the service was given back.
    async fn roll_back(&self, before: &Service, error: Error) -> Error {
        let certificate = before.certificate.clone();
        self.report(BootstrapStage::RollingBack {
            certificate: certificate.clone(),
        });
        let mut set = CommandBuilder::new()
            .command("/ip/service/set")
            .attribute(".id", Some(&before.id))
            .attribute(
                "certificate",
                Some(certificate.as_deref().unwrap_or("none")),
            );
        if before.disabled {
            set = set.attribute("disabled", Some("yes"));
        }
        let given_back = self
            .device
            .collect(set.build().with_timeout(ROLLBACK_LIMIT))
            .await;
        let what = match &certificate {
            Some(name) => format!("the certificate {name:?}"),
            None => "no certificate".to_owned(),
        };
        let note = match given_back {
            Ok(_) => format!("api-ssl was given back {what}, as it served before this run"),
            Err(failed) => format!(
                "giving api-ssl back {what}, as it served before this run, failed too: {failed}"
            ),
        };
        match error {
            Error::Tls { message, source } => Error::Tls {
                message: format!("{message}; {note}"),
                source,
            },
            other => other,
        }
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
            self.sign(name, false).await?;
            return self
                .checked(
                    name,
                    CertificateAction::SignedTemplate,
                    "it was an unsigned template: signed".into(),
                    "the router's certificate, an unsigned template, was signed, but",
                )
                .await;
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

    /// This bootstrap's own certificates are the one named in the options
    /// and the `<name>-2`, `-3`… it made when that name was taken by one
    /// that cannot serve. In that order: the first signed one fit to serve
    /// is reused; else a template with these options (left by a run cut
    /// short) is signed; a template with other options is watched for
    /// [`LEFTOVER_GRACE`] (a concurrent run may be signing it: then it is
    /// taken, its differences reported) and removed if nobody signs it;
    /// else one is made under the first free name. Reruns do not pile up
    /// `-N` certificates.
    async fn own(&self, certificates: &[ReplyResponse]) -> Result<Chosen> {
        let name = &self.options.name;
        let family = family(certificates, name);
        for row in &family {
            let Some(fingerprint) = fingerprint_of(row)? else {
                continue;
            };
            if unfit_reason(row, self.options.allow_ca).is_some() {
                continue;
            }
            let found = row.get("name").unwrap_or_default();
            self.report(BootstrapStage::Reusing);
            let mut chosen = self.chosen(
                found,
                fingerprint,
                CertificateAction::Reused,
                format!("the certificate {found:?} can serve API-SSL"),
            );
            chosen.differences = differences(row, self.options);
            return Ok(chosen);
        }
        let unsigned = || {
            family
                .iter()
                .filter(|row| matches!(fingerprint_of(row), Ok(None)))
        };
        if let Some(row) = unsigned().find(|row| template_matches(row, self.options)) {
            let found = row.get("name").unwrap_or_default();
            self.sign(found, false).await?;
            return self
                .checked(
                    found,
                    CertificateAction::SignedTemplate,
                    format!("the template {found:?} left unsigned by an earlier run was signed"),
                    "the template",
                )
                .await;
        }
        let mut removed = Vec::new();
        for row in unsigned() {
            let found = row.get("name").unwrap_or_default();
            let signed = match self.signature_within(found, LEFTOVER_GRACE).await {
                Ok(signed) => signed,
                // Its own run removed it meanwhile (the router refused it).
                Err(error) if !error.is_timeout() && self.certificate(found).await?.is_none() => {
                    removed.push(found);
                    continue;
                }
                Err(error) => return Err(error),
            };
            if signed.is_some() {
                return self
                    .checked(
                        found,
                        CertificateAction::Reused,
                        format!(
                            "a concurrent run with other options was signing {found:?}: \
                             taken as it made it (see differences)"
                        ),
                        "a concurrent run made",
                    )
                    .await;
            }
            self.remove(row).await?;
            removed.push(found);
        }
        let base_unfit = certificates
            .iter()
            .find(|r| r.get("name") == Some(name))
            .filter(|row| matches!(fingerprint_of(row), Ok(Some(_))))
            .and_then(|row| unfit_reason(row, self.options.allow_ca));
        let reason = match (base_unfit, removed.is_empty()) {
            (Some(why), _) => {
                format!("the certificate {name:?} cannot serve API-SSL ({why}); left as it is")
            }
            (None, false) => format!(
                "templates an earlier run left with other options ({removed:?}) were removed \
                 and one made again"
            ),
            (None, true) => format!("no certificate named {name:?} yet"),
        };
        let taken: Vec<&str> = names(certificates)
            .into_iter()
            .filter(|n| !removed.contains(n))
            .collect();
        let fresh = fresh_name(&taken, name);
        self.make(&fresh, reason).await
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

    /// The signed certificate `name` as the router shows it now, if it can
    /// serve API-SSL (its differences from the options reported); otherwise
    /// an error that says why, and that it was not assigned.
    async fn checked(
        &self,
        name: &str,
        action: CertificateAction,
        reason: String,
        whose: &str,
    ) -> Result<Chosen> {
        let row = self
            .certificate(name)
            .await?
            .ok_or_else(|| self.gone(name))?;
        let fingerprint = fingerprint_of(&row)?.ok_or_else(|| self.gone(name))?;
        if let Some(why) = unfit_reason(&row, self.options.allow_ca) {
            return Err(Error::Config(format!(
                "{whose} {name:?} cannot serve API-SSL: {why}; api-ssl was not switched to it"
            )));
        }
        if action == CertificateAction::Reused {
            self.report(BootstrapStage::Reusing);
        }
        let mut chosen = self.chosen(name, fingerprint, action, reason);
        chosen.differences = differences(&row, self.options);
        Ok(chosen)
    }

    /// Adds the template `name` and signs it. A concurrent run that added it
    /// first wins the name: when it is signed already, it is taken; when it
    /// carries these options, this run signs it too, as a leftover is signed
    /// (the sign that ends second finds it signed), so a winner that died
    /// before signing keeps nobody waiting; when it carries other options,
    /// its signature is awaited for [`LEFTOVER_GRACE`]. What is taken is
    /// checked for fitness and its differences reported.
    async fn make(&self, name: &str, reason: String) -> Result<Chosen> {
        self.report(BootstrapStage::Creating);
        let mine = match self.collect(self.add_command(name)).await {
            Ok(_) => true,
            Err(error) if is_name_taken(&error) => false,
            Err(error) => return Err(error),
        };
        if mine {
            self.sign(name, true).await?;
            return self
                .checked(
                    name,
                    CertificateAction::Made,
                    reason,
                    "the certificate made,",
                )
                .await;
        }
        let row = self
            .certificate(name)
            .await?
            .ok_or_else(|| self.gone(name))?;
        if fingerprint_of(&row)?.is_some() {
            return self
                .checked(
                    name,
                    CertificateAction::Reused,
                    format!("a concurrent run made {name:?} meanwhile"),
                    "a concurrent run made",
                )
                .await;
        }
        if template_matches(&row, self.options) {
            self.sign(name, false).await?;
            return self
                .checked(
                    name,
                    CertificateAction::SignedTemplate,
                    format!(
                        "a concurrent run added the template {name:?} meanwhile: signed by \
                         both runs (or by this one alone, if that run stopped)"
                    ),
                    "a concurrent run made",
                )
                .await;
        }
        self.report(BootstrapStage::Signing { progress: None });
        if self.signature_within(name, LEFTOVER_GRACE).await?.is_none() {
            return Err(Error::Config(format!(
                "a concurrent run is making {name:?} with other options and has not signed it \
                 within {LEFTOVER_GRACE:?}; run again once it is done"
            )));
        }
        self.checked(
            name,
            CertificateAction::Reused,
            format!(
                "a concurrent run made {name:?} meanwhile with other options: waited for its \
                 signature (see differences)"
            ),
            "a concurrent run made",
        )
        .await
    }

    /// The fingerprint of `name` once it is signed, waiting at most `grace`
    /// (and the time left); `None` when nobody signed it by then.
    async fn signature_within(
        &self,
        name: &str,
        grace: Duration,
    ) -> Result<Option<CertificateFingerprint>> {
        let limit = runtime::deadline_in(self.runtime, grace);
        let wait = async { self.wait_until_signed(name).await.map(Some) };
        runtime::with_deadline(self.runtime, limit, wait, || Ok(None)).await
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
                        return Err(error);
                    }
                    // A router that refuses a second sign while a
                    // concurrent run's is under way: wait for that one.
                    return match self.signature_within(name, LEFTOVER_GRACE).await? {
                        Some(fingerprint) => Ok(fingerprint),
                        None => Err(error),
                    };
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

    /// Points `api-ssl` at the certificate (and enables it) unless it
    /// already is; whether it changed the service.
    async fn assign(&self, service: &Service, name: &str) -> Result<bool> {
        let assigned = service.certificate.as_deref() == Some(name);
        let enable = self.options.enable_service && service.disabled;
        if assigned && !enable {
            return Ok(false);
        }
        self.report(BootstrapStage::Assigning);
        let mut set = CommandBuilder::new()
            .command("/ip/service/set")
            .attribute(".id", Some(&service.id))
            .attribute("certificate", Some(name));
        if enable {
            set = set.attribute("disabled", Some("no"));
        }
        self.collect(set.build()).await.map(|_| true)
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

/// The certificates' names.
fn names(certificates: &[ReplyResponse]) -> Vec<&str> {
    certificates.iter().filter_map(|r| r.get("name")).collect()
}

/// The certificates a bootstrap with `name` may have made: `name` itself,
/// then `name-2`, `name-3`… in the order of their number.
fn family<'r>(certificates: &'r [ReplyResponse], name: &str) -> Vec<&'r ReplyResponse> {
    let mut found: Vec<(u64, &ReplyResponse)> = certificates
        .iter()
        .filter_map(|row| {
            let found = row.get("name")?;
            if found == name {
                return Some((1, row));
            }
            let suffix = found.strip_prefix(name)?.strip_prefix('-')?;
            if suffix.starts_with('0') || !suffix.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let number: u64 = suffix.parse().ok()?;
            (number >= 2).then_some((number, row))
        })
        .collect();
    found.sort_by_key(|(number, _)| *number);
    found.into_iter().map(|(_, row)| row).collect()
}

/// `name` if no certificate in `taken` has it, else the first free
/// `name-2`, `name-3`….
fn fresh_name(taken: &[&str], name: &str) -> String {
    let taken = |candidate: &str| taken.contains(&candidate);
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
        assert_eq!(fresh_name(&["other"], "api"), "api");
        assert_eq!(fresh_name(&["api"], "api"), "api-2");
        assert_eq!(fresh_name(&["api", "api-2", "api-4"], "api"), "api-3");
    }

    #[test]
    fn the_family_is_the_name_then_its_numbered_suffixes_in_order() {
        let rows = [
            "api-10", "api-x", "api-3", "other", "api", "api-1", "api-02", "api-+4", "api-2",
        ]
        .map(named);
        let found: Vec<_> = family(&rows, "api")
            .iter()
            .filter_map(|r| r.get("name"))
            .collect();
        assert_eq!(found, ["api", "api-2", "api-3", "api-10"]);
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
