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

use super::pool::{Pool, router_timeout};
use super::progress::Ending;
use super::{Fleet, Progress, ProgressSnapshot, Summary};
use crate::observe::trace;
use crate::runtime;
use crate::{MikrotikDevice, Result};

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
/// The routers are worked on by a task of the fleet's runtime, whether or
/// not the stream is being read, so a slow reader delays no connect, login
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
    /// job, reused by later ones.
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
        let results = futures_util::stream::iter(0..total)
            .map(move |index| {
                let router = one_router(Arc::clone(&pool), index, Arc::clone(&job), limit);
                AssertUnwindSafe(router).catch_unwind()
            })
            .buffer_unordered(self.job_limit);
        let (finished, read) = async_channel::unbounded();
        let (stop, stopped) = async_channel::bounded(1);
        runtime.spawn(Box::pin(drive(results, finished, stopped)));
        Run {
            results: Box::pin(read),
            _stop: stop,
            progress: Progress::new(total),
            on_progress: None,
        }
    }
}

/// Runs the routers of a run, handing each result to the run's stream as it
/// comes; ends when all are done, the stream is dropped, or a job panics.
async fn drive<T>(
    results: impl Stream<Item = Finished<T>>,
    finished: async_channel::Sender<Finished<T>>,
    stopped: async_channel::Receiver<()>,
) {
    let mut results = std::pin::pin!(results);
    let mut stop = std::pin::pin!(stopped.recv());
    std::future::poll_fn(|cx| {
        loop {
            if stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            match results.as_mut().poll_next(cx) {
                Poll::Ready(Some(result)) => {
                    let panicked = result.is_err();
                    if finished.try_send(result).is_err() || panicked {
                        return Poll::Ready(());
                    }
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
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
    let (started, device) = pool.device(&lease, limit).await;
    let result = match device {
        Ok(device) => {
            let deadline = limit.and_then(|limit| started.checked_add(limit));
            runtime::with_deadline(
                &*pool.runtime,
                deadline,
                job(Arc::clone(&name), device),
                || Err(router_timeout(limit)),
            )
            .await
        }
        Err(error) => Err(error),
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
