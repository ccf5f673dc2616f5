//! Fleets: many routers from one process, and one fleet split across
//! processes without a coordinator.
//!
//! A [`Fleet`] holds named routers, each with its own
//! [`DeviceBuilder`](crate::DeviceBuilder) (address, credentials, TLS,
//! timeouts; whatever the builder carries, each router keeps). [`Fleet::run`]
//! gives a job each router's device and streams the results as routers
//! finish:
//!
//! - at most [`connect_limit`](FleetBuilder::connect_limit) routers connect
//!   and log in at once, and at most [`job_limit`](FleetBuilder::job_limit)
//!   are worked on at once;
//! - each router has its own [`deadline`](FleetBuilder::deadline); a dead,
//!   slow or refusing router holds back only its own result; the work goes
//!   on in a task of the fleet's runtime while the stream waits to be read;
//! - connections are opened on a router's first job, reused by later runs,
//!   closed after an [`idle_timeout`](FleetBuilder::idle_timeout), and all
//!   closed when the fleet is dropped;
//! - [`Progress`] counts done / failed / pending with atomics, for a stream
//!   ([`Progress::updates`]) or a callback ([`Run::on_progress`]);
//!   [`Summary`] totals a run (failures by kind, latency p50 / p95 / max);
//! - [`Shard`] picks this process's share by rendezvous hashing of names.
//!
//! Everything runs on the crate's [`Runtime`](crate::runtime::Runtime)
//! (timers, the idle reaper): Tokio, smol, or a virtual clock in tests.
//!
//! ```no_run
//! # async fn demo() -> mikrotik_rs::Result<()> {
//! use futures_util::StreamExt;
//! use mikrotik_rs::MikrotikDevice;
//! use mikrotik_rs::fleet::{Fleet, Summary};
//!
//! let routers = [("core", "10.0.0.1"), ("edge", "10.0.0.2")].map(|(name, address)| {
//!     (name, MikrotikDevice::builder(address).credentials("monitor", Some("secret")))
//! });
//! let fleet = Fleet::new(routers)?;
//! let mut run = fleet.print("/interface");
//! let mut summary = Summary::new();
//! while let Some(done) = run.next().await {
//!     summary.record(&done);
//!     match &done.result {
//!         Ok(rows) => println!("{}: {} interfaces", done.name, rows.len()),
//!         Err(error) => println!("{}: {error}", done.name),
//!     }
//! }
//! println!("{summary}");
//! # Ok(()) }
//! ```

mod builder;
mod commands;
mod handle;
mod inventory;
mod pool;
mod progress;
mod runner;
mod shard;
mod summary;

pub use builder::FleetBuilder;
pub use handle::Fleet;
pub use inventory::Inventory;
pub use progress::{Progress, ProgressSnapshot, ProgressUpdates};
pub use runner::{RouterResult, Run};
pub use shard::Shard;
pub use summary::{Summary, error_kind};
