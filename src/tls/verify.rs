//! The certificate verifiers behind the verification modes.
//!
//! Every verifier here checks the handshake signatures with the provider's
//! algorithms: accepting a certificate only means "this public key is the
//! router's"; the signatures prove the peer holds the matching private key.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    CryptoProvider, WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, OtherError};
use rustls::{Error as RustlsError, SignatureScheme};

use super::fingerprint::CertificateFingerprint;

/// Which end-entity certificates a [`LeafVerifier`] accepts.
#[derive(Debug)]
pub(crate) enum LeafPolicy {
    /// Exactly the certificates with one of these fingerprints.
    Pinned(Arc<[CertificateFingerprint]>),
    /// Any certificate (the dangerous mode).
    AcceptAny,
}

/// Looks only at the router's own certificate: pinning and accept-any.
///
/// Chain, names and dates are ignored on purpose (see
/// [`TlsOptions::pinned_sha256`](super::TlsOptions::pinned_sha256)); the
/// handshake signatures are not.
#[derive(Debug)]
pub(crate) struct LeafVerifier {
    policy: LeafPolicy,
    algorithms: WebPkiSupportedAlgorithms,
}

impl LeafVerifier {
    pub(crate) fn new(policy: LeafPolicy, provider: &CryptoProvider) -> Self {
        Self {
            policy,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for LeafVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, RustlsError> {
        match &self.policy {
            LeafPolicy::AcceptAny => Ok(ServerCertVerified::assertion()),
            LeafPolicy::Pinned(pins) => {
                let presented = CertificateFingerprint::of_certificate(end_entity);
                if pins.contains(&presented) {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(other_certificate_error(PinMismatch {
                        presented,
                        pinned: Arc::clone(pins),
                    }))
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The webpki (CA) verifier, adding the presented certificate's fingerprint
/// to its rejections so that the error can offer it for pinning.
#[derive(Debug)]
pub(crate) struct CaVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl CaVerifier {
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>) -> Self {
        Self { inner }
    }
}

impl ServerCertVerifier for CaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, RustlsError> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|error| match error {
                RustlsError::InvalidCertificate(cause) => {
                    other_certificate_error(CertificateRejected {
                        presented: CertificateFingerprint::of_certificate(end_entity),
                        cause,
                    })
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

fn other_certificate_error(error: impl StdError + Send + Sync + 'static) -> RustlsError {
    RustlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(error))))
}

/// The router's certificate is not one of the pinned ones.
#[derive(Debug)]
pub(crate) struct PinMismatch {
    pub(crate) presented: CertificateFingerprint,
    pub(crate) pinned: Arc<[CertificateFingerprint]>,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate fingerprint {} is not pinned",
            self.presented
        )
    }
}

impl StdError for PinMismatch {}

/// The CA verifier rejected the certificate with this fingerprint.
#[derive(Debug)]
pub(crate) struct CertificateRejected {
    pub(crate) presented: CertificateFingerprint,
    pub(crate) cause: CertificateError,
}

impl fmt::Display for CertificateRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (certificate fingerprint {})",
            self.cause, self.presented
        )
    }
}

impl StdError for CertificateRejected {}
