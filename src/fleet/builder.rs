//! `FleetBuilder`: the limits and times a fleet runs with, then `build`.

use std::sync::Arc;
use std::time::Duration;

use super::pool::Pool;
use super::{Fleet, Inventory, Shard};
use crate::runtime::{self, Runtime};
use crate::{DeviceBuilder, Error, Result};

/// Options of a [`Fleet`]. Made by [`Fleet::builder`].
///
/// ```no_run
/// # fn demo() -> mikrotik_rs::Result<()> {
/// use std::time::Duration;
/// use mikrotik_rs::MikrotikDevice;
/// use mikrotik_rs::fleet::{Fleet, Shard};
///
/// let routers = (1..=500).map(|i| {
///     let builder = MikrotikDevice::builder(format!("10.0.{}.{}", i / 250, i % 250))
///         .credentials("monitor", Some("secret"));
///     (format!("site-{i}"), builder)
/// });
/// let fleet = Fleet::builder()
///     .connect_limit(32)                     // logins at once
///     .job_limit(256)                        // routers worked on at once
///     .deadline(Duration::from_secs(20))     // per router, connect included
///     .idle_timeout(Duration::from_secs(600))
///     .shard("0/4".parse::<Shard>()?)         // this process's quarter
///     .build(routers)?;
/// # let _ = fleet; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FleetBuilder {
    connect_limit: usize,
    job_limit: usize,
    deadline: Option<Duration>,
    idle_timeout: Option<Duration>,
    runtime: Option<Arc<dyn Runtime>>,
    shard: Shard,
}

impl Default for FleetBuilder {
    fn default() -> Self {
        Self {
            connect_limit: 64,
            job_limit: 1024,
            deadline: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(300)),
            runtime: None,
            shard: Shard::all(),
        }
    }
}

impl FleetBuilder {
    /// At most `n` routers connecting and logging in at once (default 64),
    /// so that a large fleet does not stampede an authentication server,
    /// this host's descriptors, or the routers' API services.
    pub fn connect_limit(mut self, n: usize) -> Self {
        self.connect_limit = n.max(1);
        self
    }

    /// At most `n` routers worked on at once (default 1024); each holds a
    /// connection while its job runs.
    pub fn job_limit(mut self, n: usize) -> Self {
        self.job_limit = n.max(1);
        self
    }

    /// Each router's limit (default 60 s; `None`: only the builders' own
    /// timeouts). It counts from the router's turn: once a connect slot is
    /// free (at once when its connection is already open), and covers the
    /// connect, the login and the job. A router over it ends with
    /// [`Error::Timeout`] (`what: TimeoutKind::Router`); the others go on.
    pub fn deadline(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.deadline = limit.into();
        self
    }

    /// Closes a connection no job has used for this long (default 5
    /// minutes; `None` keeps connections until the fleet is dropped).
    pub fn idle_timeout(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = idle.into();
        self
    }

    /// The runtime for the fleet's timers and its idle reaper, and for every
    /// router whose builder names none (default: Tokio when a Tokio runtime
    /// is current, otherwise async-io).
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Keeps only the routers this shard owns (default: all).
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// The fleet of `routers`: an [`Inventory`], or any iterator of (name,
    /// builder). [`Error::Config`] for an empty or repeated name. Nothing
    /// connects yet: each router connects on its first job.
    pub fn build<N: Into<String>>(
        self,
        routers: impl IntoIterator<Item = (N, DeviceBuilder)>,
    ) -> Result<Fleet> {
        let mut inventory = Inventory::new(routers)?;
        let shard = self.shard;
        inventory.retain(|name| shard.owns(name));
        let runtime = match self.runtime {
            Some(runtime) => runtime,
            None => runtime::default_runtime().ok_or_else(|| {
                Error::Config("no runtime: enable the `tokio` or `async-io` feature, or pass one with `runtime`".into())
            })?,
        };
        let pool = Pool::start(
            inventory.into_routers(),
            runtime,
            self.connect_limit,
            self.idle_timeout,
        );
        Ok(Fleet {
            pool,
            job_limit: self.job_limit,
            deadline: self.deadline,
        })
    }
}

impl IntoIterator for Inventory {
    type Item = (String, DeviceBuilder);
    type IntoIter = std::iter::Map<
        std::vec::IntoIter<(Arc<str>, DeviceBuilder)>,
        fn((Arc<str>, DeviceBuilder)) -> (String, DeviceBuilder),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.into_routers()
            .into_iter()
            .map(|(name, builder)| (name.to_string(), builder))
    }
}
