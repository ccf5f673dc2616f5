#![doc = include_str!("crate-docs.md")]
#![warn(missing_docs, missing_debug_implementations)]

// Lets `command!` name `::mikrotik_rs` from inside this crate too.
extern crate self as mikrotik_rs;

pub mod protocol;

pub mod api;

pub mod connection;
mod device;
mod error;
pub mod observe;
pub mod runtime;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(any(feature = "tls", feature = "tls-aws-lc-rs"))]
pub mod tls;

pub use api::{Change, Changes, Collected, Menu, Print, RouterOsDuration, parse_duration};
pub use connection::{BufferPolicy, ResponseStream};
pub use device::{DeviceBuilder, MikrotikDevice};
pub use error::{Error, Result};
pub use mikrotik_rs_macros::command;
pub use observe::Stats;

/// The README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
