//! The crate's `tracing` spans and events, behind one interface that
//! compiles to nothing without the `tracing` feature: the actor calls these
//! functions unconditionally and stays free of feature switches.
//!
//! Names (every span and event has target `mikrotik_rs`):
//! - span `connection` {address, tls}; span `command` {path, tag, buffer,
//!   and when it closes: rows, bytes, duration_us, outcome};
//! - events `mikrotik.login` {method, duration_us, outcome},
//!   `mikrotik.command.end`, `mikrotik.cancel` {tag}, `mikrotik.overflow`
//!   {tag, capacity}, `mikrotik.keepalive.probe`, `mikrotik.keepalive.failed`,
//!   `mikrotik.fatal` {reason}, `mikrotik.connection.end` {error},
//!   `mikrotik.sentence.read` {kind, tag, bytes},
//!   `mikrotik.sentence.written` {bytes}, `mikrotik.reconnect` {attempt,
//!   delay_ms, error} and `mikrotik.fleet.job` {router, job, duration_us,
//!   outcome} for the layers above the connection.
//!
//! Every `warn` event also carries `address` (the connection span holding
//! it is only `debug`).
//!
//! Nothing secret is ever a field: commands are named by their path only,
//! sentences by their kind and size, never by their words.

#[cfg(feature = "tracing")]
mod on;
#[cfg(feature = "tracing")]
pub(crate) use on::*;

#[cfg(not(feature = "tracing"))]
mod off;
#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;
