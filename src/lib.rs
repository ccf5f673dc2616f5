#![doc = include_str!("crate-docs.md")]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

// Lets `command!` name `::mikrotik_rs` from inside this crate too.
extern crate self as mikrotik_rs;

pub mod protocol;

pub mod api;

pub mod connection;
mod device;
mod error;
pub mod runtime;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "_tls")]
pub mod tls;

pub use api::{Change, Changes, Collected, Menu, Print, RouterOsDuration, parse_duration};
pub use connection::{BufferPolicy, ResponseStream};
pub use device::{DeviceBuilder, MikrotikDevice};
pub use error::{ClosedBy, Error, Result, TimeoutKind};
pub use mikrotik_rs_macros::command;

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
