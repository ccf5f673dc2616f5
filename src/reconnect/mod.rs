//! Reconnecting: a device that is a handle to *a router*, not to one TCP
//! connection.
//!
//! This layer sits between the connection actor (one connection, then done)
//! and the device API. With a [`ReconnectPolicy`] on the builder
//! ([`DeviceBuilder::reconnect`](crate::DeviceBuilder::reconnect)), a
//! supervisor task owns the current connection, notices its end, backs off
//! on the runtime's timers, connects and logs in again, and carries the
//! device's requests over. The rules are in the crate docs, "Reconnecting".

mod policy;
mod state;
mod supervisor;

pub use policy::{MIN_DELAY, MIN_REFUSED_RETRY, ReconnectPolicy};
pub use state::{ConnectionState, StateChanges};

pub(crate) use state::StateCell;
pub(crate) use supervisor::{Connector, Orphanage, Plan, Supervised, spawn};
