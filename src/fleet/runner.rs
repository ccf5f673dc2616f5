//! Running a job on every router of a fleet: bounded connects and jobs, a
//! deadline per router, results in the order routers finish.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, Stream, StreamExt};

use super::pool::{Checkout, Pool, router_timeout};
use super::progress::Ending;
use super::{Fleet, Progress, ProgressSnapshot, Summary};
use crate::observe::trace;
use crate::runtime::{self, Limit};
use crate::{Error, MikrotikDevice, Result};

/// How one router's job ended.
#[derive(Debug)]
pub struct RouterResult<T> {
    /// The router's name in the inventory.
    pub name: Arc<str>,
    /// The job's value, or why the router failed: a connect or login error,
    /// the job's own error, or [`Error::Timeout`](crate::Error::Timeout)
    /// with `what: TimeoutKind::Router` when it ran out of its deadline.
    pub result: Result<T>,
    /// From the router's turn (a free connect slot, or its pooled
    /// connection) to its end: connect, login and job.
    pub elapsed: Duration,
}

/// A router's result, or the panic of its job (handed on to the reader).
type Finished<T> = std::thread::Result<RouterResult<T>>;
type Callback = Box<dyn FnMut(ProgressSnapshot) + Send>;

/// The results of a [`Fleet::run`], as a [`Stream`] in the order routers
/// finish: a slow or silent router holds back only its own result.
///
/// Each router is worked on by a task of its own on the fleet's runtime
/// (at most the job limit at once, so a multi-threaded runtime runs them on
/// every worker), whether or not the stream is being read, so a slow reader delays no connect, login
/// or deadline; results wait in the stream until read. Dropping the stream
/// stops the run: the routers still running are dropped and their commands
/// cancelled on the routers. A job that panics panics the reader of the
/// stream, at its result.
#[must_use = "dropping a run stops it"]
pub struct Run<T> {
    results: Pin<Box<async_channel::Receiver<Finished<T>>>>,
    /// Dropped with the run, which tells the task to stop.
    _stop: async_channel::Sender<()>,
    progress: Progress,
    on_progress: Option<Callback>,
}

impl<T> fmt::Debug for Run<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("progress", &self.progress.snapshot())
            .finish_non_exhaustive()
    }
}

impl<T> Run<T> {
    /// The run's counters (done, failed, pending), to read or watch from
    /// anywhere, e.g. a progress bar on another task.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }

    /// Calls `callback` with the counts after each router's result (from
    /// inside the stream's poll, so keep it short).
    pub fn on_progress(mut self, callback: impl FnMut(ProgressSnapshot) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Polls the run to its end and returns its [`Summary`].
    pub async fn summary(mut self) -> Summary {
        let mut summary = Summary::new();
        while let Some(result) = self.next().await {
            summary.record(&result);
        }
        summary
    }

    /// The next router's result, in completion order; `None` once every
    /// router is done. As `recv()` on every other stream of this crate (and
    /// `StreamExt::next`, which it is); cancel-safe.
    pub async fn recv(&mut self) -> Option<RouterResult<T>> {
        self.next().await
    }
}

impl<T> Stream for Run<T> {
    type Item = RouterResult<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let poll = match self.results.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(panic))) => std::panic::resume_unwind(panic),
            Poll::Ready(Some(Ok(result))) => Poll::Ready(Some(result)),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        };
        if let Poll::Ready(Some(result)) = &poll {
            let ending = match &result.result {
                Ok(_) => Ending::Succeeded,
                Err(e) if e.is_timeout() => Ending::TimedOut,
                Err(_) => Ending::Failed,
            };
            self.progress.record(ending);
            let snapshot = self.progress.snapshot();
            if let Some(callback) = &mut self.on_progress {
                callback(snapshot);
            }
        }
        poll
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let pending = self.progress.snapshot().pending();
        (pending, Some(pending))
    }
}

impl Fleet {
    /// Runs `job` with each router's device, at most the fleet's job limit
    /// at once (and its connect limit connecting), each within the fleet's
    /// deadline. Connections come from the pool: opened on a router's first
    /// job, reused by later ones. A pooled connection the router closed
    /// while it was idle is replaced before the job gets it; if the client
    /// learns of that close only once the job has started, and not one byte
    /// went out on the connection since, the job's commands never reached
    /// the router and `job` is called once more for that router, on a new
    /// connection, within the same deadline (a device with a
    /// [`ReconnectPolicy`](crate::ReconnectPolicy) sends such commands
    /// again itself).
    ///
    /// ```no_run
    /// # async fn demo(fleet: mikrotik_rs::fleet::Fleet) {
    /// use futures_util::StreamExt;
    /// use mikrotik_rs::protocol::command::CommandBuilder;
    ///
    /// let mut run = fleet.run(|device| async move {
    ///     let identity = CommandBuilder::new().command("/system/identity/print").build();
    ///     Ok(device.collect(identity).await?.len())
    /// });
    /// while let Some(done) = run.next().await {
    ///     println!("{}: {:?} in {:?}", done.name, done.result, done.elapsed);
    /// }
    /// # }
    /// ```
    pub fn run<T, F, Fut>(&self, job: F) -> Run<T>
    where
        F: Fn(MikrotikDevice) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.run_named(move |_, device| job(device))
    }

    /// [`run`](Self::run), with the router's name given to the job too
    /// (for logs, metric labels, or work that differs per router).
    pub fn run_named<T, F, Fut>(&self, job: F) -> Run<T>
    where
        F: Fn(Arc<str>, MikrotikDevice) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        let total = pool.routers.len();
        let job = Arc::new(job);
        let limit = self.deadline;
        let runtime = Arc::clone(&pool.runtime);
        let jobs = Arc::new(Limit::new(self.job_limit));
        let (finished, read) = async_channel::unbounded();
        let (stop, stopped) = async_channel::bounded(1);
        let dispatch = dispatch(pool, job, limit, jobs, finished, stopped);
        runtime.spawn(Box::pin(dispatch));
        Run {
            results: Box::pin(read),
            _stop: stop,
            progress: Progress::new(total),
            on_progress: None,
        }
    }
}

/// Starts one task per router, at most `jobs` at once, so that a fleet's
/// jobs run on every worker of a multi-threaded runtime; each hands its
/// result to the run's stream as it ends (the stream ends once every task
/// has). Stops starting tasks, and every running one drops its job (whose
/// commands are cancelled on the routers), once the run is dropped.
async fn dispatch<T, F, Fut>(
    pool: Arc<Pool>,
    job: Arc<F>,
    limit: Option<Duration>,
    jobs: Arc<Limit>,
    finished: async_channel::Sender<Finished<T>>,
    stopped: async_channel::Receiver<()>,
) where
    F: Fn(Arc<str>, MikrotikDevice) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = Arc::clone(&pool.runtime);
    for index in 0..pool.routers.len() {
        let Some(slot) = unless_stopped(&stopped, Arc::clone(&jobs).acquire_owned()).await else {
            return;
        };
        let router = one_router(Arc::clone(&pool), index, Arc::clone(&job), limit);
        let (finished, stopped) = (finished.clone(), stopped.clone());
        runtime.spawn(Box::pin(async move {
            let _slot = slot;
            let router = AssertUnwindSafe(router).catch_unwind();
            if let Some(result) = unless_stopped(&stopped, router).await {
                let _ = finished.try_send(result);
            }
        }));
    }
}

/// `work`'s output, or `None` once the run was dropped (its stop channel closed).
async fn unless_stopped<T>(
    stopped: &async_channel::Receiver<()>,
    work: impl Future<Output = T>,
) -> Option<T> {
    let mut work = std::pin::pin!(work);
    let mut stop = std::pin::pin!(stopped.recv());
    std::future::poll_fn(|cx| {
        if stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        work.as_mut().poll(cx).map(Some)
    })
    .await
}

async fn one_router<T, F, Fut>(
    pool: Arc<Pool>,
    index: usize,
    job: Arc<F>,
    limit: Option<Duration>,
) -> RouterResult<T>
where
    F: Fn(Arc<str>, MikrotikDevice) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let name = Arc::clone(&pool.routers[index].name);
    let lease = pool.lease(index);
    let (started, mut checkout) = pool.device(&lease, limit).await;
    let deadline = limit.and_then(|limit| started.checked_add(limit));
    let mut sent_again = false;
    let result = loop {
        let Checkout { device, pooled } = match checkout {
            Ok(checkout) => checkout,
            Err(error) => break Err(error),
        };
        let sent_before = device.snapshot().bytes_sent;
        let watched = device.clone();
        let result = runtime::with_deadline(
            &*pool.runtime,
            deadline,
            job(Arc::clone(&name), device),
            || Err(router_timeout(limit, job_stage(&watched))),
        )
        .await;
        // A router that ran out of its deadline is suspect (hung, or
        // its link is): its connection is closed, not pooled.
        if is_router_timeout(&result) {
            pool.discard(&lease);
            break result;
        }
        // A pooled connection the router closed while it was idle, whose
        // end the client read only once the job had started: if not one
        // byte went out on it since the checkout, no command of the job
        // reached the router, so the job runs once more on a new one. Only
        // an end from the router's side: an actor closed from this side
        // (`Error::Closed`) still writes what it had queued, later. A
        // reconnecting device sends its never-written commands again itself.
        let ended_by_router = !watched.reconnects()
            && watched
                .closed_reason()
                .is_some_and(|reason| !matches!(reason, Error::Closed));
        let unsent = result.is_err()
            && pooled
            && !sent_again
            && ended_by_router
            && watched.snapshot().bytes_sent == sent_before;
        if !unsent {
            break result;
        }
        sent_again = true;
        let left = deadline.map(|d| d.saturating_duration_since(pool.runtime.now()));
        checkout = pool
            .device(&lease, left)
            .await
            .1
            .map_err(|error| match error {
                // The deadline is the router's whole one, not what was left of it.
                Error::Timeout {
                    what: crate::TimeoutKind::Router,
                    stage,
                    ..
                } => router_timeout(limit, stage.unwrap_or(crate::Stage::Connect)),
                error => error,
            });
    };
    let elapsed = pool.runtime.now().saturating_duration_since(started);
    trace::fleet_job(&name, elapsed, result.as_ref().map(|_| ()));
    drop(lease);
    RouterResult {
        name,
        result,
        elapsed,
    }
}

/// Whether `result` is a router's deadline running out.
fn is_router_timeout<T>(result: &Result<T>) -> bool {
    matches!(
        result,
        Err(Error::Timeout {
            what: crate::TimeoutKind::Router,
            ..
        })
    )
}

/// Where a job whose deadline ran out was: waiting for its device to
/// reconnect, or running its commands.
fn job_stage(device: &MikrotikDevice) -> crate::Stage {
    match device.state() {
        crate::ConnectionState::Reconnecting { .. } => crate::Stage::Queued,
        _ => crate::Stage::Command,
    }
}
