//! API-SSL for the mock: a TLS handshake in front of every session.

use std::sync::Arc;

use futures_rustls::TlsAcceptor;
use rustls::ServerConfig;

use super::MockRouterBuilder;
use crate::runtime::BoxedStream;

impl MockRouterBuilder {
    /// Speaks API-SSL: every accepted connection first completes a TLS
    /// handshake with `config` (make one with [`crate::tls::server_config`]);
    /// a failed handshake drops the connection, as a router does.
    pub fn tls(self, config: Arc<ServerConfig>) -> Self {
        let acceptor = TlsAcceptor::from(config);
        self.acceptor(Arc::new(move |tcp| {
            let handshake = acceptor.accept(tcp);
            Box::pin(async move { handshake.await.ok().map(|tls| Box::new(tls) as BoxedStream) })
        }))
    }
}
