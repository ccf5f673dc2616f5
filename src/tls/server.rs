//! The server side of API-SSL, for the MockRouter and tests.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::provider::crypto_provider;
use crate::Error;

/// A rustls server configuration presenting `certificate_chain` (the
/// server's certificate first) with `private_key`, using the same crypto
/// provider as the client ([`crypto_provider`]) and TLS 1.2 and 1.3.
///
/// For a mock router speaking API-SSL (with the `testing` feature): serve a
/// connection with `futures_rustls::TlsAcceptor::from(config)`. Generate the
/// certificate with a crate such as `rcgen` in your dev-dependencies.
///
/// # Errors
///
/// [`Error::Tls`] when the key does not fit the certificate or is of an
/// unsupported kind.
pub fn server_config(
    certificate_chain: Vec<CertificateDer<'static>>,
    private_key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, Error> {
    let config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(certificate_chain, private_key)
        })
        .map_err(|source| Error::Tls {
            message: format!("cannot build the TLS server configuration: {source}"),
            source: Some(Arc::new(source)),
        })?;
    Ok(Arc::new(config))
}
