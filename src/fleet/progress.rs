//! How far a fleet run has got: counters a run bumps once per router, read
//! as a snapshot, watched as a stream, or handed to a callback.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::runtime::Waiters;
use futures_util::Stream;

/// Counts of one run at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Routers in the run.
    pub total: usize,
    /// Finished with `Ok`.
    pub succeeded: usize,
    /// Finished with an error other than a timeout.
    pub failed: usize,
    /// Finished with a timeout (the router's deadline, or a connect, login
    /// or command timeout).
    pub timed_out: usize,
}

impl ProgressSnapshot {
    /// Routers finished, however they ended.
    pub fn done(&self) -> usize {
        self.succeeded + self.failed + self.timed_out
    }

    /// Routers not finished yet.
    pub fn pending(&self) -> usize {
        self.total.saturating_sub(self.done())
    }

    /// Whether every router has finished.
    pub fn is_complete(&self) -> bool {
        self.pending() == 0
    }
}

/// The live counters of a run. `Clone`: every clone reads the same run.
///
/// Updating costs a few atomic additions per router; a watcher (the
/// [`updates`](Self::updates) stream) adds one uncontended lock per router.
#[derive(Debug, Clone)]
pub struct Progress {
    counters: Arc<Counters>,
}

#[derive(Debug)]
struct Counters {
    total: usize,
    succeeded: AtomicUsize,
    failed: AtomicUsize,
    timed_out: AtomicUsize,
    /// Bumped on every change, so a watcher sees whether anything moved.
    version: AtomicU64,
    watched: AtomicBool,
    wakers: Mutex<Waiters>,
}

/// How one router ended, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Succeeded,
    Failed,
    TimedOut,
}

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        Self {
            counters: Arc::new(Counters {
                total,
                succeeded: AtomicUsize::new(0),
                failed: AtomicUsize::new(0),
                timed_out: AtomicUsize::new(0),
                version: AtomicU64::new(0),
                watched: AtomicBool::new(false),
                wakers: Mutex::new(Waiters::default()),
            }),
        }
    }

    pub(crate) fn record(&self, ending: Ending) {
        let c = &self.counters;
        let counter = match ending {
            Ending::Succeeded => &c.succeeded,
            Ending::Failed => &c.failed,
            Ending::TimedOut => &c.timed_out,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        c.version.fetch_add(1, Ordering::Release);
        if c.watched.load(Ordering::Acquire) {
            let wakers = c.wakers.lock().unwrap_or_else(|e| e.into_inner()).take();
            wakers.into_iter().for_each(Waker::wake);
        }
    }

    /// The counts now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let c = &self.counters;
        ProgressSnapshot {
            total: c.total,
            succeeded: c.succeeded.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            timed_out: c.timed_out.load(Ordering::Relaxed),
        }
    }

    /// A stream of snapshots: the current one at once, then one whenever the
    /// counts have moved (changes between two polls arrive as one snapshot),
    /// ending after the snapshot in which every router is done.
    pub fn updates(&self) -> ProgressUpdates {
        self.counters.watched.store(true, Ordering::Release);
        let key = self.counters.wakers().key();
        ProgressUpdates {
            key,
            progress: self.clone(),
            seen: None,
            finished: false,
        }
    }
}

/// The stream of [`Progress::updates`].
#[derive(Debug)]
pub struct ProgressUpdates {
    /// Its waker's key, taken back when it is dropped.
    key: u64,
    progress: Progress,
    seen: Option<u64>,
    finished: bool,
}

impl Stream for ProgressUpdates {
    type Item = ProgressSnapshot;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let counters = Arc::clone(&self.progress.counters);
        let mut version = counters.version.load(Ordering::Acquire);
        if self.seen == Some(version) {
            let mut wakers = counters.wakers();
            // Checked again under the lock: a change between the load and
            // here would otherwise find no waker to wake.
            version = counters.version.load(Ordering::Acquire);
            if self.seen == Some(version) {
                wakers.register(self.key, cx.waker());
                return Poll::Pending;
            }
        }
        self.seen = Some(version);
        let snapshot = self.progress.snapshot();
        self.finished = snapshot.is_complete();
        Poll::Ready(Some(snapshot))
    }
}

impl Counters {
    fn wakers(&self) -> std::sync::MutexGuard<'_, Waiters> {
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A watcher that gives up takes its waker back (see `Waiters`).
impl Drop for ProgressUpdates {
    fn drop(&mut self) {
        self.progress.counters.wakers().remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use futures_util::StreamExt;

    struct Counted;
    impl std::task::Wake for Counted {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn a_dropped_watcher_leaves_no_waker_behind() {
        let progress = Progress::new(2);
        let wakes: Vec<Arc<Counted>> = (0..3).map(|_| Arc::new(Counted)).collect();
        for wake in &wakes {
            let mut updates = progress.updates();
            let waker = Waker::from(Arc::clone(wake));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(updates.poll_next_unpin(&mut cx).is_ready());
            assert!(updates.poll_next_unpin(&mut cx).is_pending());
        }
        let kept: Vec<usize> = wakes.iter().map(|w| Arc::strong_count(w) - 1).collect();
        assert_eq!(kept, [0, 0, 0], "wakers kept by dropped watchers");
    }

    #[test]
    fn counts_add_up_and_the_stream_ends_when_all_are_done() {
        let progress = Progress::new(3);
        let mut updates = progress.updates();
        assert_eq!(updates.next().now_or_never().unwrap().unwrap().pending(), 3);
        assert!(updates.next().now_or_never().is_none(), "nothing moved yet");
        progress.record(Ending::Succeeded);
        progress.record(Ending::TimedOut);
        let now = updates.next().now_or_never().unwrap().unwrap();
        assert_eq!((now.succeeded, now.timed_out, now.pending()), (1, 1, 1));
        progress.record(Ending::Failed);
        let last = updates.next().now_or_never().unwrap().unwrap();
        assert!(last.is_complete());
        assert_eq!(last.done(), 3);
        assert_eq!(updates.next().now_or_never(), Some(None));
    }
}
