//! The device handle users hold, and the builder that connects it.

mod address;
mod builder;
mod credentials;
mod handle;
mod port_mixup;

pub use builder::DeviceBuilder;
pub use handle::MikrotikDevice;

pub(crate) use credentials::Password;
