//! Without a TLS feature `DeviceBuilder::tls` still exists, bounded by a trait
//! nothing implements, so calling it fails with a message that names the
//! public feature (`tls`) instead of "no method named `tls`" or the internal
//! feature the TLS code is compiled under.

use super::DeviceBuilder;

/// Implemented by no type: `DeviceBuilder::tls` called without the `tls` (or
/// `tls-aws-lc-rs`) feature fails to compile with this trait's message.
#[diagnostic::on_unimplemented(
    message = "API-SSL needs the `tls` feature of mikrotik-rs",
    label = "`{Self}` would configure TLS",
    note = "enable it in Cargo.toml: mikrotik-rs = {{ version = \"0.9\", features = [\"tls\"] }} (or `tls-aws-lc-rs` for the aws-lc-rs provider)"
)]
pub trait TlsFeatureRequired {}

#[doc(hidden)]
impl DeviceBuilder {
    /// Needs the `tls` feature.
    pub fn tls<T: TlsFeatureRequired>(self, _options: T) -> Self {
        self
    }
}
