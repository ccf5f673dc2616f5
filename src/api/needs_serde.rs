//! Without the `serde` feature the typed methods still exist, bounded by a trait
//! nothing implements, so calling one fails with a message that names the
//! feature instead of "no method named `typed` … did you mean `type_id`".

use super::{Changes, Collected, Print, Rows};
use crate::protocol::ReplyResponse;
use crate::{Error, MikrotikDevice, Result};

/// Implemented by no type: a typed method called without the `serde` feature
/// fails to compile with this trait's message.
#[diagnostic::on_unimplemented(
    message = "typed rows need the `serde` feature of mikrotik-rs",
    label = "`{Self}` would be decoded with serde",
    note = "enable it in Cargo.toml: mikrotik-rs = {{ version = \"0.9\", features = [\"serde\"] }}"
)]
pub trait SerdeFeatureRequired {}

fn needs_serde() -> Error {
    Error::Config("typed rows need the `serde` feature of mikrotik-rs".to_owned())
}

fn refuse<T>(_: ReplyResponse) -> Result<T> {
    Err(needs_serde())
}

fn refuse_text<T>(_: ReplyResponse, _: super::TextPolicy) -> Result<T> {
    Err(needs_serde())
}

#[doc(hidden)]
impl Print {
    /// Needs the `serde` feature.
    pub async fn collect_typed<T: SerdeFeatureRequired>(self) -> Result<Vec<T>> {
        Err(needs_serde())
    }

    /// Needs the `serde` feature.
    #[deprecated(since = "0.9.0", note = "renamed `collect_typed`")]
    pub async fn typed<T: SerdeFeatureRequired>(self) -> Result<Vec<T>> {
        Err(needs_serde())
    }

    /// Needs the `serde` feature.
    pub async fn one_typed<T: SerdeFeatureRequired>(self) -> Result<T> {
        Err(needs_serde())
    }
}

#[doc(hidden)]
impl Rows {
    /// Needs the `serde` feature.
    pub fn typed<T: SerdeFeatureRequired>(self) -> Rows<T> {
        self.decoded_by(refuse_text::<T>, super::TextPolicy::Lossy)
    }
}

#[doc(hidden)]
impl Changes {
    /// Needs the `serde` feature.
    pub fn typed<T: SerdeFeatureRequired>(self) -> Changes<T> {
        self.decoded_by(refuse::<T>)
    }
}

#[doc(hidden)]
impl Collected {
    /// Needs the `serde` feature.
    pub fn deserialize<T: SerdeFeatureRequired>(&self) -> Result<Vec<T>> {
        Err(needs_serde())
    }
}

#[doc(hidden)]
impl MikrotikDevice {
    /// Needs the `serde` feature.
    pub async fn collect_typed<T: SerdeFeatureRequired>(
        &self,
        _command: impl Into<crate::protocol::command::Command>,
    ) -> Result<Vec<T>> {
        Err(needs_serde())
    }

    /// Needs the `serde` feature.
    #[deprecated(since = "0.9.0", note = "renamed `collect_typed`")]
    pub async fn collect_as<T: SerdeFeatureRequired>(
        &self,
        _command: impl Into<crate::protocol::command::Command>,
    ) -> Result<Vec<T>> {
        Err(needs_serde())
    }
}
