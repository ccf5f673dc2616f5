//! The fleet's connections: one per router, opened on first use, shared by
//! every job on that router, reused across runs, closed after an idle time
//! by a reaper task, and all closed when the fleet is dropped.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::lock::Mutex as AsyncMutex;

use crate::runtime::{self, Limit, Runtime};
use crate::{DeviceBuilder, Error, MikrotikDevice, Result};

/// "No deadline" in [`Pool::reaper_due`].
const NOT_ARMED: u64 = u64::MAX;

/// One router: its options and, while open, its connection.
#[derive(Debug)]
pub(crate) struct Router {
    pub(crate) name: Arc<str>,
    builder: DeviceBuilder,
    /// Held while connecting, so that two jobs on one router open one connection.
    device: AsyncMutex<Option<MikrotikDevice>>,
    /// Jobs using the connection now; the reaper leaves a busy one alone.
    busy: AtomicUsize,
    /// When the last job ended, in nanoseconds since [`Pool::epoch`].
    idle_since: AtomicU64,
    /// Whether `device` holds a connection (read without its lock, which
    /// a connect in progress holds).
    open: AtomicBool,
}

/// A connection handed to a job.
#[derive(Debug)]
pub(crate) struct Checkout {
    pub(crate) device: MikrotikDevice,
    /// Whether it was opened before (for an earlier job), so it may have
    /// ended while idle without the client having read the end yet.
    pub(crate) pooled: bool,
}

/// Every router of a fleet and the limits they share.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) routers: Vec<Router>,
    pub(crate) runtime: Arc<dyn Runtime>,
    /// The connect limit: held by each first connect here, and by every
    /// reconnect attempt of a device's supervisor (see `reconnects_under`).
    connects: Arc<Limit>,
    epoch: Instant,
    /// When the reaper will next look, in nanoseconds since `epoch`.
    reaper_due: AtomicU64,
    wake_reaper: async_channel::Sender<()>,
    closed: AtomicBool,
    opened: AtomicU64,
}

/// A job's hold on a router's connection: while it lives the connection is
/// busy; dropping it starts the idle clock.
#[derive(Debug)]
pub(crate) struct Lease {
    pool: Arc<Pool>,
    index: usize,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let pool = &self.pool;
        let router = &pool.routers[self.index];
        router.idle_since.store(pool.nanos_now(), Ordering::Release);
        if router.busy.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        if pool.closed.load(Ordering::Acquire) {
            pool.close(self.index);
        } else if pool.reaper_due.load(Ordering::Acquire) == NOT_ARMED {
            // The reaper sleeps with nothing to watch: give it this one.
            let _ = pool.wake_reaper.try_send(());
        }
    }
}

impl Pool {
    /// The pool, and (with an idle timeout) its reaper spawned on `runtime`.
    pub(crate) fn start(
        routers: Vec<(Arc<str>, DeviceBuilder)>,
        runtime: Arc<dyn Runtime>,
        connect_limit: usize,
        idle_timeout: Option<Duration>,
    ) -> Arc<Self> {
        let (wake_reaper, woken) = async_channel::bounded(1);
        let epoch = runtime.now();
        let connects = Arc::new(Limit::new(connect_limit));
        let pool = Arc::new(Self {
            routers: routers
                .into_iter()
                .map(|(name, builder)| Router {
                    name,
                    builder: builder
                        .runtime_if_unset(&runtime)
                        .reconnects_under(&connects),
                    device: AsyncMutex::new(None),
                    busy: AtomicUsize::new(0),
                    idle_since: AtomicU64::new(0),
                    open: AtomicBool::new(false),
                })
                .collect(),
            runtime: Arc::clone(&runtime),
            connects,
            epoch,
            reaper_due: AtomicU64::new(NOT_ARMED),
            wake_reaper,
            closed: AtomicBool::new(false),
            opened: AtomicU64::new(0),
        });
        if let Some(idle) = idle_timeout {
            runtime.spawn(Box::pin(reap(
                Arc::downgrade(&pool),
                runtime.clone(),
                woken,
                idle,
            )));
        }
        pool
    }

    fn nanos_now(&self) -> u64 {
        let since = self.runtime.now().saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(NOT_ARMED - 1)
    }

    /// Marks router `index` busy for as long as the lease lives.
    pub(crate) fn lease(self: &Arc<Self>, index: usize) -> Lease {
        self.routers[index].busy.fetch_add(1, Ordering::AcqRel);
        Lease {
            pool: Arc::clone(self),
            index,
        }
    }

    /// The open connection of a leased router, or a new one, and the time
    /// the router's turn began: at once for a pooled connection, else once a
    /// connect slot was free. `limit` (the router's deadline) counts from
    /// there and bounds the connect and login. A pooled connection already
    /// known to have ended is dropped here and a new one opened.
    pub(crate) async fn device(
        &self,
        lease: &Lease,
        limit: Option<Duration>,
    ) -> (Instant, Result<Checkout>) {
        let router = &self.routers[lease.index];
        let mut slot = router.device.lock().await;
        if self.closed.load(Ordering::Acquire) {
            return (self.runtime.now(), Err(Error::Closed));
        }
        if let Some(device) = slot.as_ref().filter(|d| !d.is_closed()) {
            let checkout = Checkout {
                device: device.clone(),
                pooled: true,
            };
            return (self.runtime.now(), Ok(checkout));
        }
        *slot = None;
        router.open.store(false, Ordering::Release);
        // Held until the login succeeds or, failing that, until the
        // connection opened under it has closed its socket.
        let connect_slot =
            runtime::ConnectSlot::new(Arc::clone(&self.connects).acquire_owned().await);
        let started = self.runtime.now();
        let deadline = limit.and_then(|limit| started.checked_add(limit));
        // Boxed: the connect is large, and only `connect_limit` of them exist
        // at once, while every router's job future waits with its own state.
        let stage = crate::device::StageTracker::default();
        let connect = Box::pin(
            router
                .builder
                .clone()
                .first_connect_under(connect_slot)
                .tracking_stage(&stage)
                .connect(),
        );
        let result = runtime::with_deadline(&*self.runtime, deadline, connect, || {
            Err(router_timeout(limit, stage.current()))
        })
        .await;
        if let Ok(device) = &result {
            self.opened.fetch_add(1, Ordering::Relaxed);
            *slot = Some(device.clone());
            router.open.store(true, Ordering::Release);
        }
        let result = result.map(|device| Checkout {
            device,
            pooled: false,
        });
        (started, result)
    }

    /// Closes the connection of a leased router (its job ran out of its
    /// deadline), whoever else uses it: the next job opens a new one.
    pub(crate) fn discard(&self, lease: &Lease) {
        let router = &self.routers[lease.index];
        if let Some(mut slot) = router.device.try_lock()
            && let Some(device) = slot.take()
        {
            router.open.store(false, Ordering::Release);
            device.close_now();
        }
    }

    /// Drops router `index`'s connection unless someone holds its slot.
    fn close(&self, index: usize) {
        let router = &self.routers[index];
        if let Some(mut slot) = router.device.try_lock() {
            slot.take();
            router.open.store(false, Ordering::Release);
        }
    }

    /// Closes every connection that has been idle for the idle timeout;
    /// returns when the next one will be due (nanoseconds since `epoch`).
    fn close_idle(&self, idle: Duration) -> Option<u64> {
        let idle = u64::try_from(idle.as_nanos()).unwrap_or(NOT_ARMED - 1);
        let now = self.nanos_now();
        let mut next: Option<u64> = None;
        for router in &self.routers {
            if router.busy.load(Ordering::Acquire) != 0 {
                continue;
            }
            let Some(mut slot) = router.device.try_lock() else {
                continue;
            };
            if slot.is_none() {
                continue;
            }
            let due = router
                .idle_since
                .load(Ordering::Acquire)
                .saturating_add(idle);
            if due <= now || slot.as_ref().is_some_and(MikrotikDevice::is_closed) {
                slot.take();
                router.open.store(false, Ordering::Release);
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        next
    }

    /// Connections open now: pooled and not ended (one being opened is
    /// not counted until its login succeeded).
    pub(crate) fn open_connections(&self) -> usize {
        self.routers
            .iter()
            .filter(|r| match r.device.try_lock() {
                Some(slot) => slot.as_ref().is_some_and(|d| !d.is_closed()),
                None => r.open.load(Ordering::Acquire),
            })
            .count()
    }

    /// Connections opened since the fleet was made.
    pub(crate) fn connections_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// Closes every connection not in use now, and every other one as soon
    /// as its job ends; later jobs fail with [`Error::Closed`].
    pub(crate) fn shut_down(&self) {
        self.closed.store(true, Ordering::Release);
        for index in 0..self.routers.len() {
            if self.routers[index].busy.load(Ordering::Acquire) == 0 {
                self.close(index);
            }
        }
        self.wake_reaper.close();
    }
}

/// Closes idle connections, sleeping until the next is due (or, with none
/// open, until a job ends). Ends when the pool is gone or shut down.
async fn reap(
    pool: Weak<Pool>,
    runtime: Arc<dyn Runtime>,
    woken: async_channel::Receiver<()>,
    idle: Duration,
) {
    // Connections closing within this of each other are closed together,
    // so a fleet's worth of them costs a few scans, not one each.
    let slack = (idle / 32).min(Duration::from_secs(1));
    loop {
        let due = {
            let Some(pool) = pool.upgrade() else { return };
            // "Wake me" while scanning: a job ending meanwhile, on a
            // router already scanned, must not be missed.
            pool.reaper_due.store(NOT_ARMED, Ordering::Release);
            let next = pool.close_idle(idle);
            let stored = next.map_or(NOT_ARMED, |n| n);
            pool.reaper_due.store(stored, Ordering::Release);
            next.map(|n| pool.epoch + Duration::from_nanos(n) + slack)
        };
        let mut wake = std::pin::pin!(woken.recv());
        let ended = match due {
            None => wake.await.is_err(),
            Some(at) => {
                let mut timer = runtime.timer(at);
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(result) = wake.as_mut().poll(cx) {
                        return Poll::Ready(result.is_err());
                    }
                    timer.as_mut().poll_expired(cx).map(|()| false)
                })
                .await
            }
        };
        if ended {
            return;
        }
    }
}

/// The error of a router that used up its deadline in `stage`.
pub(crate) fn router_timeout(limit: Option<Duration>, stage: crate::Stage) -> Error {
    Error::Timeout {
        what: crate::TimeoutKind::Router,
        after: limit.unwrap_or_default(),
        address: None,
        stage: Some(stage),
    }
}
