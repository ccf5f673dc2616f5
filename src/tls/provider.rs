//! The one place that decides which rustls crypto provider is used.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, KeyProvider};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;

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
    Arc::new(feature_provider())
}

/// The provider of the configurations this crate builds itself (every
/// [`TlsOptions`](super::TlsOptions) mode but `client_config`): the
/// process-wide default if one is installed, as [`crypto_provider`];
/// otherwise the feature's provider without its private-key loader.
///
/// Those configurations never present a client certificate
/// (`with_no_client_auth`), so rustls never loads a private key for them;
/// leaving the loader out keeps RSA, ECDSA and Ed25519 *signing* (about
/// 40 KB) out of programs that never call [`crypto_provider`] themselves.
/// Verifying the router's signatures is untouched.
pub(crate) fn verifying_provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    Arc::new(CryptoProvider {
        key_provider: &NoPrivateKeys,
        ..feature_provider()
    })
}

/// The private-key loader of [`verifying_provider`]: it loads none.
#[derive(Debug)]
struct NoPrivateKeys;

impl KeyProvider for NoPrivateKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "this configuration loads no private keys: for a client certificate, build a \
             ClientConfig with crypto_provider() and pass it to TlsOptions::client_config"
                .into(),
        ))
    }
}

/// The provider the enabled features select, ignoring any process default.
///
/// rustls 0.23.48 deprecates `ring::default_provider` (it has no post-quantum
/// key exchange); `ring` stays what the `tls` feature promises, so the call is
/// allowed here rather than warning in every user's build. Post-quantum key
/// exchange: the `tls-aws-lc-rs` feature.
#[cfg(feature = "tls")]
#[allow(deprecated)]
fn feature_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The provider the enabled features select, ignoring any process default.
#[cfg(all(not(feature = "tls"), feature = "tls-aws-lc-rs"))]
fn feature_provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

// `_tls` alone selects no provider.
#[cfg(not(any(feature = "tls", feature = "tls-aws-lc-rs")))]
compile_error!("feature `_tls` is internal: enable `tls` or `tls-aws-lc-rs` instead");
