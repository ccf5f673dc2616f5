#![doc = include_str!("crate-docs.md")]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
// On docs.rs (nightly, `--cfg docsrs`) every feature-gated item shows its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets code and doctests inside this crate name `::mikrotik_rs` too.
extern crate self as mikrotik_rs;

/// The sans-IO protocol core: the `mikrotik-rs-protocol` crate (`no_std`),
/// under the path it has always had here.
pub use mikrotik_rs_protocol as protocol;

pub mod api;

mod command_macro;
pub mod connection;
pub mod desired;
mod device;
mod error;
pub mod fleet;
pub mod observe;
pub mod reconnect;
pub mod runtime;
#[cfg(feature = "testing")]
pub mod testing;
// Gated by the public features so that rustc names them when `tls` is missing.
#[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
pub mod tls;

pub use api::{
    Change, Changes, Collected, Menu, Print, Resync, RouterOsDuration, Rows, parse_duration,
};
#[doc(hidden)]
pub use command_macro::__command;
pub use connection::{BufferPolicy, ResponseStream};
#[cfg(not(feature = "_tls"))]
#[doc(hidden)]
pub use device::TlsFeatureRequired;
pub use device::{DeviceBuilder, MikrotikDevice};
pub use error::{ClosedBy, Error, Result, Stage, TimeoutKind};
/// The RouterOS 7 command tree `command!` and [`Command::check`](protocol::command::Command::check)
/// check against: every menu, command and argument of 7.9 … 7.24 with the releases it
/// exists in and its type hints (crate `mikrotik-rs-schema`).
#[cfg(feature = "schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
pub use mikrotik_rs_schema as schema;
pub use observe::Stats;
pub use reconnect::{ConnectionState, ReconnectPolicy};

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// So are the migration guide's, and the changelog the README links to must exist.
#[cfg(doctest)]
#[doc = include_str!("../MIGRATING.md")]
#[doc = include_str!("../CHANGELOG.md")]
struct MigrationDoctests;
