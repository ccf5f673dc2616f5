//! Observability: counters that are always on, `tracing` spans and events
//! behind the `tracing` feature, and the Prometheus text of the counters.
//!
//! The connection actor counts what it reads, writes and how each command
//! ends in relaxed atomics ([`Stats`] is their snapshot, from
//! [`MikrotikDevice::snapshot`](crate::MikrotikDevice::snapshot)); it calls
//! the crate-internal `trace` functions, which compile to nothing without
//! the `tracing` feature, so the actor itself has no feature switch.
//! [`prometheus_text`] renders snapshots for any HTTP server to serve.

mod counters;
mod outcome;
mod prometheus;
mod stats;
pub(crate) mod trace;

pub(crate) use counters::Counters;
pub(crate) use outcome::Outcome;
pub use prometheus::prometheus_text;
pub use stats::Stats;
