//! A `no_std` client loop for the MikroTik RouterOS API, for microcontrollers.
//!
//! [`Client`] speaks the protocol over any socket that implements
//! [`embedded_io_async::Read`] and [`Write`](embedded_io_async::Write)
//! (Embassy's TCP sockets do): it logs in (both the 6.43+ login and the older
//! MD5 challenge), sends commands, routes every reply by its tag to the
//! command it answers, and cancels. It needs `alloc` (replies own their
//! bytes) but no `std`, no runtime and no background task: whoever awaits
//! [`Client::recv`] drives the socket, so it runs on Embassy, on RTIC, or on
//! a host's Tokio through an adapter, all the same.
//!
//! Capacities are fixed by the caller: `COMMANDS` commands in flight at once,
//! `QUEUE` replies waiting per command, and the read buffer's size. Nothing
//! grows past them, and nothing is dropped silently: a command whose queue
//! overflows ends with [`Error::Overflow`].
//!
//! The wire format, the decoder's limits, the command builder and the login
//! maths are [`mikrotik_rs_protocol`]'s, shared with the `std` client.

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod client;
mod error;
mod slot;

pub use client::{Client, CommandId};
pub use error::Error;
pub use mikrotik_rs_protocol as protocol;
