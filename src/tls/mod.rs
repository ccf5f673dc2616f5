//! API-SSL: the RouterOS API over TLS, with rustls through futures-rustls.
//!
//! TLS is a layer under the connection, not a second connection: [`connect`]
//! turns an already connected [`BoxedStream`] into an encrypted
//! [`BoxedStream`], and the same connection actor runs over either.
//!
//! # TLS on 8729
//!
//! RouterOS serves the plain API on port 8728 and API-SSL on port 8729. What
//! you need to know before pointing this crate at 8729:
//!
//! ## The router needs a certificate
//!
//! An `api-ssl` service with **no certificate assigned** (a router as it
//! comes) offers only anonymous Diffie–Hellman ("ADH") cipher suites. Those
//! suites do not authenticate the router at all, and rustls does not
//! implement them, so the handshake fails (the router answers with a
//! `handshake_failure` alert: no cipher suite in common); the error says so.
//!
//! The fix is a certificate on the router. [`bootstrap_certificate`] finds
//! or makes one over a connection that is already logged in (the plain API
//! on a trusted network), assigns it to `api-ssl`, checks with a handshake
//! that the port presents it, and returns [`TlsOptions`] pinned to it; it
//! reuses a certificate `api-ssl` serves that can serve, and replaces one
//! only when it cannot or when asked (see its documentation). That one
//! exchange is not encrypted, so do it where nobody can tamper with it, then
//! pin from then on. By hand on the console, the same is:
//!
//! ```text
//! /certificate add name=api-ssl-mikrotik-rs common-name=api-ssl-mikrotik-rs \
//!     key-size=prime256v1 days-valid=3650 key-usage=digital-signature,key-encipherment,tls-server
//! /certificate sign api-ssl-mikrotik-rs
//! /ip service set api-ssl certificate=api-ssl-mikrotik-rs disabled=no
//! /certificate print detail where name=api-ssl-mikrotik-rs
//! ```
//!
//! and the last line shows the `fingerprint` to pin. For CA verification
//! instead, sign the router's certificate with a CA of your own:
//!
//! ```text
//! /certificate add name=api-ca common-name=api-ca key-usage=key-cert-sign,crl-sign
//! /certificate sign api-ca
//! /certificate add name=api common-name=192.168.88.1 subject-alt-name=IP:192.168.88.1
//! /certificate sign api ca=api-ca
//! /ip service set api-ssl certificate=api disabled=no
//! ```
//!
//! rustls speaks TLS 1.2 and 1.3 with ECDHE key exchange only: a router that
//! offers nothing but finite-field `DHE` suites cannot be reached either.
//!
//! ## Choosing how the router is verified
//!
//! [`TlsOptions`] offers one constructor per mode:
//!
//! - [`TlsOptions::pinned_sha256`]: accept exactly the certificate with this
//!   SHA-256 fingerprint. This is the right choice for the usual self-signed
//!   router certificate: it needs no CA, ignores names and dates (router
//!   clocks are often wrong and router certificates rarely name the address
//!   you dial), and still proves that the peer holds the certificate's
//!   private key.
//! - [`TlsOptions::custom_ca_pem`]: trust certificates signed by your own CA
//!   (export it with `/certificate export-certificate api-ca`). The name you
//!   connect to must be in the certificate: a DNS name, or an IP address as an
//!   IP subject alternative name (`subject-alt-name=IP:…`).
//! - `TlsOptions::webpki_roots` (feature `tls-webpki-roots`): Mozilla's public
//!   CA roots, for routers with a publicly trusted certificate (for example
//!   one from `/certificate enable-ssl-certificate`). Without that feature
//!   there is no built-in trust store; load the system roots yourself into a
//!   [`rustls::RootCertStore`] and use [`TlsOptions::root_certificates`].
//! - [`TlsOptions::dangerous_accept_any_certificate`]: no authentication of
//!   the router at all. Anyone on the path can impersonate it.
//! - [`TlsOptions::client_config`]: your own [`rustls::ClientConfig`] for
//!   everything else (client certificates, another crypto provider, ALPN…).
//!
//! ## Getting the fingerprint to pin
//!
//! On the router, `/certificate print detail where name=api` shows the
//! certificate's `fingerprint` (64 hex digits, SHA-256). From another
//! machine, `openssl s_client -connect 192.168.88.1:8729 </dev/null |
//! openssl x509 -noout -fingerprint -sha256` prints it with colons; both
//! spellings are accepted. When verification fails, the error message shows
//! the fingerprint the router presented, and [`Error::tls_failure`] gives
//! it to code with the reason ([`TlsFailure::presented`]; or
//! [`presented_fingerprint`]), to build a "trust this router?" prompt, for
//! example. Compare it with the router's own before pinning it.
//!
//! ## Port mix-ups
//!
//! TLS to the plain API port (8728) gets no answer: the handshake ends
//! within the connect timeout with an error that says so and names 8729. The
//! plain API against the API-SSL port gets a TLS alert (or a close) at login:
//! [`Error::ProtocolMismatch`] says to enable TLS.
//!
//! ## Server name
//!
//! The name sent in the handshake and checked against the certificate comes
//! from the address's host: a DNS name is used as is; an IP address is
//! verified against the certificate's IP subject alternative names (or not at
//! all when pinning). [`TlsOptions::with_server_name`] overrides it, for a
//! certificate that names the router differently from the address you dial.
//!
//! ## Crypto provider
//!
//! Feature `tls` uses rustls's `ring` provider; feature `tls-aws-lc-rs` adds
//! `aws-lc-rs`. [`crypto_provider`] decides which one is used: a process-wide
//! default installed with [`rustls::crypto::CryptoProvider::install_default`]
//! always wins, then `ring` when `tls` is enabled, then `aws-lc-rs`. Both
//! features may be enabled at once; nothing here panics when they are.

mod bootstrap;
mod error;
mod fingerprint;
mod handshake;
mod options;
mod provider;
mod verify;

#[cfg(test)]
pub(crate) mod test_certs;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::Arc;

use futures_rustls::TlsConnector;
use rustls::pki_types::ServerName;

use crate::Error;
use crate::runtime::BoxedStream;

pub use self::bootstrap::{
    BootstrapOptions, BootstrapStage, BootstrappedCertificate, CertificateAction,
    DEFAULT_CERTIFICATE_NAME, OptionDifference, ReplacedCertificate, bootstrap_certificate,
};
pub use self::error::{TlsFailure, presented_fingerprint};
pub use self::fingerprint::CertificateFingerprint;
pub use self::options::TlsOptions;
pub use self::provider::crypto_provider;
pub(crate) use handshake::connect_within;

/// Re-exported so that callers can build a [`TlsOptions::client_config`] or a
/// [`rustls::RootCertStore`] with the same rustls version as this crate.
pub use rustls;

/// Runs the TLS handshake over `stream` and returns the encrypted stream.
///
/// `host` is the host part of the address that was dialled (a DNS name, an
/// IPv4 address, or an IPv6 address with or without brackets); it becomes the
/// server name unless `options` overrides it. Useful on its own for a stream
/// that did not come from this crate (an SSH tunnel, a SOCKS proxy…).
///
/// # Errors
///
/// [`Error::Tls`] when the handshake fails, with a message that says why and
/// what to do (untrusted certificate, wrong pin, expired certificate, name
/// mismatch, a router without a certificate…) and the rustls error as its
/// source; [`Error::Io`] for an I/O error that is not about TLS.
pub async fn connect(
    stream: BoxedStream,
    host: &str,
    options: &TlsOptions,
) -> Result<BoxedStream, Error> {
    let config = options.client_config_for_connect()?;
    let server_name = match options.server_name_override() {
        Some(name) => name.clone(),
        None => server_name_from_host(host)?,
    };
    let connector = TlsConnector::from(config);
    match connector.connect(server_name.clone(), stream).await {
        Ok(tls) => Ok(Box::new(tls)),
        Err(error) => Err(error::handshake_error(error, &server_name)),
    }
}

/// The server name for `host`: an IP address (brackets and an IPv6 zone are
/// dropped) or a DNS name.
pub(crate) fn server_name_from_host(host: &str) -> Result<ServerName<'static>, Error> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    let without_zone = unbracketed.split('%').next().unwrap_or(unbracketed);
    if let Ok(ip) = without_zone.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_owned()).map_err(|source| Error::Tls {
        message: format!(
            "{host:?} is neither an IP address nor a valid DNS name, so it cannot be the TLS \
             server name; set the name the router's certificate carries with \
             TlsOptions::with_server_name"
        ),
        source: Some(Arc::new(source)),
    })
}
