//! Turning handshake failures into errors a person can act on.

use std::error::Error as StdError;
use std::io;
use std::sync::Arc;

use rustls::pki_types::{ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, PeerIncompatible, PeerMisbehaved};

use super::fingerprint::CertificateFingerprint;
use super::verify::{CertificateRejected, PinMismatch};
use crate::Error;

/// What to tell the user when the router offers no suite rustls can speak.
pub(crate) const NO_COMMON_SUITE: &str = "the router and this client have no TLS cipher suite in \
     common. A RouterOS api-ssl service without a certificate offers only anonymous \
     Diffie-Hellman (ADH) suites, which rustls does not implement because they cannot \
     authenticate the router (rustls has no finite-field DHE suites either). Fix it on the \
     router: create or import a certificate and assign it with \
     `/ip service set api-ssl certificate=<name>`, or let \
     `mikrotik_rs::tls::bootstrap_certificate` do it over the plain API and return the pin";

/// Why a TLS handshake failed, for code to act on; see [`Error::tls_failure`].
///
/// The error's message says the same in words, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// Pinning ([`TlsOptions::pinned_sha256`](super::TlsOptions::pinned_sha256)):
    /// the router presented a certificate that is not pinned.
    #[non_exhaustive]
    PinMismatch {
        /// The certificate the router presented.
        presented: CertificateFingerprint,
    },
    /// CA verification: the certificate is not signed by a trusted CA.
    #[non_exhaustive]
    UnknownIssuer {
        /// The certificate the router presented; `None` when the verifier
        /// was not this crate's (a [`TlsOptions::client_config`](super::TlsOptions::client_config)).
        presented: Option<CertificateFingerprint>,
    },
    /// CA verification: the certificate has expired (or this machine's clock is wrong).
    #[non_exhaustive]
    Expired {
        /// The certificate the router presented, as for `UnknownIssuer`.
        presented: Option<CertificateFingerprint>,
    },
    /// CA verification: the certificate is not valid yet (check the clocks).
    #[non_exhaustive]
    NotValidYet {
        /// The certificate the router presented, as for `UnknownIssuer`.
        presented: Option<CertificateFingerprint>,
    },
    /// CA verification: the certificate does not name the host dialled (or
    /// the [`with_server_name`](super::TlsOptions::with_server_name) override).
    #[non_exhaustive]
    NotValidForName {
        /// The certificate the router presented, as for `UnknownIssuer`.
        presented: Option<CertificateFingerprint>,
    },
    /// CA verification rejected the certificate for another reason: a bad
    /// signature, the wrong key usage, a CA certificate presented as the
    /// router's own…
    #[non_exhaustive]
    CertificateRejected {
        /// The certificate the router presented, as for `UnknownIssuer`.
        presented: Option<CertificateFingerprint>,
    },
    /// No cipher suite in common: usually an api-ssl service that has no
    /// certificate assigned (it then offers only anonymous suites).
    NoCommonCipherSuite,
}

impl TlsFailure {
    /// The fingerprint of the certificate the router presented, when known.
    ///
    /// For code, e.g. to ask a user whether to trust (pin) a router seen for
    /// the first time. Check it against the router's own `/certificate print
    /// detail` before trusting it: on a hostile network it is the attacker's.
    pub fn presented(&self) -> Option<CertificateFingerprint> {
        match self {
            Self::PinMismatch { presented } => Some(*presented),
            Self::UnknownIssuer { presented }
            | Self::Expired { presented }
            | Self::NotValidYet { presented }
            | Self::NotValidForName { presented }
            | Self::CertificateRejected { presented } => *presented,
            Self::NoCommonCipherSuite => None,
        }
    }
}

impl Error {
    /// Why the TLS handshake failed, when this is an [`Error::Tls`] whose
    /// cause is known: a rejected certificate (with the fingerprint it
    /// presented) or no common cipher suite. `None` for every other error.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        let Error::Tls {
            source: Some(source),
            ..
        } = self
        else {
            return None;
        };
        let error = source.downcast_ref::<rustls::Error>()?;
        if let Some(rejection) = Rejection::of(error) {
            return Some(rejection.failure());
        }
        is_no_common_suite(error).then_some(TlsFailure::NoCommonCipherSuite)
    }
}

/// The fingerprint of the certificate the router presented, when `error`
/// is a TLS verification failure of the pinning or CA modes: the same as
/// `error.tls_failure().and_then(|failure| failure.presented())`.
///
/// The error message shows it too; this is for code, e.g. to ask a user
/// whether to trust (pin) a router seen for the first time. Check it against
/// the router's own `/certificate print detail` before trusting it: on a
/// hostile network it is the attacker's.
pub fn presented_fingerprint(error: &Error) -> Option<CertificateFingerprint> {
    error.tls_failure()?.presented()
}

/// A certificate rejection, found in a rustls error in one place.
enum Rejection<'a> {
    /// By the pinning verifier.
    Pin(&'a PinMismatch),
    /// By webpki: through this crate's CA verifier (which adds the
    /// fingerprint), or a user's own verifier.
    Ca {
        cause: &'a CertificateError,
        presented: Option<CertificateFingerprint>,
    },
    /// By a verifier that is not this crate's, for a reason of its own.
    Other(&'a (dyn StdError + Send + Sync + 'static)),
}

impl<'a> Rejection<'a> {
    fn of(error: &'a rustls::Error) -> Option<Self> {
        let rustls::Error::InvalidCertificate(cause) = error else {
            return None;
        };
        let CertificateError::Other(other) = cause else {
            return Some(Self::Ca {
                cause,
                presented: None,
            });
        };
        let inner: &(dyn StdError + 'static) = &*other.0;
        if let Some(mismatch) = inner.downcast_ref::<PinMismatch>() {
            Some(Self::Pin(mismatch))
        } else if let Some(rejected) = inner.downcast_ref::<CertificateRejected>() {
            Some(Self::Ca {
                cause: &rejected.cause,
                presented: Some(rejected.presented),
            })
        } else {
            Some(Self::Other(&*other.0))
        }
    }

    fn failure(&self) -> TlsFailure {
        use CertificateError as C;
        let (cause, presented) = match self {
            Self::Pin(mismatch) => {
                return TlsFailure::PinMismatch {
                    presented: mismatch.presented,
                };
            }
            Self::Ca { cause, presented } => (*cause, *presented),
            Self::Other(_) => return TlsFailure::CertificateRejected { presented: None },
        };
        match cause {
            C::UnknownIssuer => TlsFailure::UnknownIssuer { presented },
            C::Expired | C::ExpiredContext { .. } => TlsFailure::Expired { presented },
            C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::NotValidYet { presented },
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                TlsFailure::NotValidForName { presented }
            }
            _ => TlsFailure::CertificateRejected { presented },
        }
    }
}

/// The failures that mean "no cipher suite in common" (see [`NO_COMMON_SUITE`]).
fn is_no_common_suite(error: &rustls::Error) -> bool {
    use rustls::Error as E;
    matches!(
        error,
        E::AlertReceived(AlertDescription::HandshakeFailure)
            | E::AlertReceived(AlertDescription::InsufficientSecurity)
            | E::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon)
            | E::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedCipherSuite)
    )
}

/// Maps the I/O error of a failed handshake to the crate's error.
pub(crate) fn handshake_error(error: io::Error, server_name: &ServerName<'_>) -> Error {
    let error = match error.downcast::<rustls::Error>() {
        Ok(tls) => {
            return Error::Tls {
                message: describe(&tls, server_name),
                source: Some(Arc::new(tls)),
            };
        }
        Err(error) => error,
    };
    match error.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Error::Tls {
            message: format!(
                "the router closed the connection during the TLS handshake with {}. Check \
                 that this port is the api-ssl service (8729 by default; 8728 is the plain \
                 API), that api-ssl is enabled (`/ip service enable api-ssl`) and allows this \
                 address, and that it has a certificate \
                 (`/ip service set api-ssl certificate=<name>`)",
                name_text(server_name)
            ),
            source: Some(Arc::new(error)),
        },
        _ => Error::from(error),
    }
}

fn describe(error: &rustls::Error, server_name: &ServerName<'_>) -> String {
    use rustls::Error as E;
    if let Some(rejection) = Rejection::of(error) {
        return match rejection {
            Rejection::Pin(mismatch) => {
                let pinned = mismatch
                    .pinned
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "the router's certificate does not match the pinned fingerprint: it \
                     presented the certificate with SHA-256 fingerprint {} but {pinned} is \
                     pinned. If the router's certificate was replaced on purpose, check the \
                     new fingerprint on the router (`/certificate print detail`) and pin it; \
                     otherwise something else is answering for the router",
                    mismatch.presented
                )
            }
            Rejection::Ca {
                cause,
                presented: Some(presented),
            } => format!(
                "{}. The router presented the certificate with SHA-256 fingerprint {presented}; \
                 to trust exactly that certificate, pin it (TlsOptions::pinned_sha256) after \
                 checking it on the router (`/certificate print detail`)",
                certificate_problem(cause, server_name),
            ),
            Rejection::Ca {
                cause,
                presented: None,
            } => certificate_problem(cause, server_name),
            Rejection::Other(other) => format!("the router's certificate was rejected: {other}"),
        };
    }
    if is_no_common_suite(error) {
        return NO_COMMON_SUITE.to_owned();
    }
    match error {
        E::AlertReceived(AlertDescription::ProtocolVersion)
        | E::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13) => {
            "the router does not speak TLS 1.2 or 1.3, the versions rustls supports; upgrade \
             RouterOS or check the api-ssl service's TLS settings"
                .to_owned()
        }
        E::AlertReceived(alert) => format!(
            "the router aborted the TLS handshake with the alert {alert:?}; the router's log \
             may say why"
        ),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => format!(
            "the peer did not answer like a TLS server ({error}); check that the port is the \
             api-ssl service (8729 by default; 8728 is the plain API)"
        ),
        other => format!(
            "the TLS handshake with {} failed: {other}",
            name_text(server_name)
        ),
    }
}

fn certificate_problem(cause: &CertificateError, server_name: &ServerName<'_>) -> String {
    use CertificateError as C;
    match cause {
        C::UnknownIssuer => "the router's certificate is not trusted: it is not signed by any \
             of the configured CA certificates (unknown issuer). Configure the CA that signed \
             it, or pin the certificate"
            .to_owned(),
        C::Expired => "the router's certificate has expired; renew it on the router (or check \
             this machine's clock)"
            .to_owned(),
        C::ExpiredContext { time, not_after } => format!(
            "the router's certificate has expired: it was valid until {}, and it is now {}. \
             Renew it on the router (or check this machine's clock)",
            utc(*not_after),
            utc(*time)
        ),
        C::NotValidYet => "the router's certificate is not valid yet; check the clocks of \
             this machine and of the router that created it"
            .to_owned(),
        C::NotValidYetContext { time, not_before } => format!(
            "the router's certificate is not valid yet: it is valid from {}, and it is now \
             {}. Check the clocks of this machine and of the router that created it",
            utc(*not_before),
            utc(*time)
        ),
        C::NotValidForName => format!(
            "the router's certificate is not valid for {}. Connect with a name or IP address \
             the certificate lists, set that name with TlsOptions::with_server_name, or pin \
             the certificate",
            name_text(server_name)
        ),
        C::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "the router's certificate is not valid for {}; it is valid for {}. Connect with \
             one of those names or addresses, set one with TlsOptions::with_server_name, or \
             pin the certificate",
            name_text(expected),
            if presented.is_empty() {
                "no name at all".to_owned()
            } else {
                presented.join(", ")
            }
        ),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => format!(
            "the router's certificate is not meant for a TLS server ({cause}); create one \
             with the tls-server key usage"
        ),
        C::BadSignature => "a signature did not verify: either the router's certificate was \
             not signed by the CA it names, or the peer does not hold the private key of the \
             certificate it presented (it may be replaying the router's certificate)"
            .to_owned(),
        C::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "the router presented a CA certificate as its own certificate, which certificate \
             verification does not allow (RouterOS marks a self-signed certificate as a CA when \
             it has the key-cert-sign key usage). Pin the certificate instead, or sign the \
             router's certificate with a separate CA and trust that CA"
                .to_owned()
        }
        other => format!("the router's certificate was rejected: {other}"),
    }
}

fn name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// `time` as `YYYY-MM-DD hh:mm:ss UTC`.
pub(crate) fn utc(time: UnixTime) -> String {
    let seconds = time.as_secs();
    let days = (seconds / 86_400) as i64;
    let of_day = seconds % 86_400;
    // Days since 1970-01-01 to a civil date, counting in 400-year eras that
    // start on 0000-03-01 so that leap days fall at the end of a year.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}
