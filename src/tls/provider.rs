//! The one place that decides which rustls crypto provider is used.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The crypto provider for every TLS configuration this crate builds.
///
/// In order: the process-wide default, if the application installed one with
/// [`CryptoProvider::install_default`]; otherwise `ring` when the `tls`
/// feature is enabled; otherwise `aws-lc-rs` (feature `tls-aws-lc-rs`).
///
/// rustls's own `ClientConfig::builder()` panics when a dependency tree
/// enables both providers and none is installed; this function never does,
/// and every configuration here is built with
/// `ClientConfig::builder_with_provider(crypto_provider())`. Use it too when
/// building a [`TlsOptions::client_config`](super::TlsOptions::client_config)
/// of your own.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    feature_provider()
}

/// The provider the enabled features select, ignoring any process default.
///
/// rustls 0.23.48 deprecates `ring::default_provider` (it has no post-quantum
/// key exchange); `ring` stays what the `tls` feature promises, so the call is
/// allowed here rather than warning in every user's build. Post-quantum key
/// exchange: the `tls-aws-lc-rs` feature.
#[cfg(feature = "tls")]
#[allow(deprecated)]
fn feature_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The provider the enabled features select, ignoring any process default.
#[cfg(all(not(feature = "tls"), feature = "tls-aws-lc-rs"))]
fn feature_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

// `_tls` alone selects no provider.
#[cfg(not(any(feature = "tls", feature = "tls-aws-lc-rs")))]
compile_error!("feature `_tls` is internal: enable `tls` or `tls-aws-lc-rs` instead");
