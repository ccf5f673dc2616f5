//! The device handle users hold, and the builder that connects it.

mod address;
mod addressed;
mod builder;
mod credentials;
mod handle;
mod identity;
#[cfg(not(feature = "_tls"))]
mod needs_tls;
mod peer;
mod port_mixup;
mod stage;
#[cfg(feature = "schema")]
mod version_check;
mod wrap;

pub use builder::DeviceBuilder;
pub use handle::MikrotikDevice;
#[cfg(not(feature = "_tls"))]
pub use needs_tls::TlsFeatureRequired;

#[cfg(feature = "_tls")]
pub(crate) use address::Address;
pub(crate) use credentials::Password;
pub(crate) use stage::StageTracker;
pub(crate) use wrap::WrapStream;
