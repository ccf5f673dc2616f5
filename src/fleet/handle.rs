//! `Fleet`: the routers, their pooled connections, and the limits every
//! run shares.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::FleetBuilder;
use super::pool::Pool;
use crate::{DeviceBuilder, Result};

/// Named routers polled together; see the [module docs](super).
///
/// Dropping the fleet closes every connection that no job is using, and
/// the others as soon as their jobs end; a run still going then fails its
/// remaining routers with [`Error::Closed`](crate::Error::Closed). Keep the
/// fleet for as long as its runs.
pub struct Fleet {
    pub(crate) pool: Arc<Pool>,
    pub(crate) job_limit: usize,
    pub(crate) deadline: Option<Duration>,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("routers", &self.len())
            .field("job_limit", &self.job_limit)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.pool.shut_down();
    }
}

impl Fleet {
    /// Options for a fleet (limits, deadline, idle time, runtime, shard).
    pub fn builder() -> FleetBuilder {
        FleetBuilder::default()
    }

    /// A fleet of `routers` with the default options.
    pub fn new<N: Into<String>>(
        routers: impl IntoIterator<Item = (N, DeviceBuilder)>,
    ) -> Result<Self> {
        Self::builder().build(routers)
    }

    /// How many routers (of this shard).
    pub fn len(&self) -> usize {
        self.pool.routers.len()
    }

    /// Whether the fleet has no routers.
    pub fn is_empty(&self) -> bool {
        self.pool.routers.is_empty()
    }

    /// The routers' names, in inventory order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pool.routers.iter().map(|router| &*router.name)
    }

    /// Connections open now (being opened counts as open).
    pub fn open_connections(&self) -> usize {
        self.pool.open_connections()
    }

    /// Connections opened since the fleet was made (a reused one counts once).
    pub fn connections_opened(&self) -> u64 {
        self.pool.connections_opened()
    }
}
