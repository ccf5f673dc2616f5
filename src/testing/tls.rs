//! API-SSL for the mock: a TLS handshake in front of every session, and the
//! rustls server configuration it presents.
//!
//! It lives here, not in `tls/`, because only a server needs it: the
//! client library never accepts TLS connections.

use std::sync::Arc;

use futures_rustls::TlsAcceptor;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::MockRouterBuilder;
use crate::Error;
use crate::runtime::BoxedStream;
use crate::tls::crypto_provider;

/// A rustls server configuration presenting `certificate_chain` (the
/// server's certificate first) with `private_key`, using the same crypto
/// provider as the client ([`crypto_provider`]) and TLS 1.2 and 1.3.
///
/// For [`MockRouterBuilder::tls`] with a certificate of your own (made with
/// a crate such as `rcgen`). With the `testing-tls` feature the mock makes one
/// itself: see `MockRouterBuilder::api_ssl_self_signed`.
///
/// # Errors
///
/// [`Error::Tls`] when the key does not fit the certificate or is of an
/// unsupported kind.
pub fn tls_server_config(
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

impl MockRouterBuilder {
    /// Speaks API-SSL on the router's one port: every accepted connection
    /// first completes a TLS handshake with `config` (make one with
    /// [`tls_server_config`]); a failed handshake drops the connection, as a
    /// router does.
    pub fn tls(self, config: Arc<ServerConfig>) -> Self {
        let acceptor = TlsAcceptor::from(config);
        self.acceptor(Arc::new(move |tcp| {
            let handshake = acceptor.accept(tcp);
            Box::pin(async move { handshake.await.ok().map(|tls| Box::new(tls) as BoxedStream) })
        }))
    }
}
