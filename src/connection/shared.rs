//! State the actor publishes to device handles.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use std::sync::Mutex;
use std::task::{Poll, Waker};

use crate::Error;
use crate::observe::Counters;
use crate::observe::trace::ConnectionSpan;
use crate::runtime::Waiters;

/// Written by the actor, read by handles without a round trip.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Why the connection ended, once it has.
    failure: OnceLock<Error>,
    /// Commands in the routing table (user and internal).
    in_flight: AtomicUsize,
    /// What the actor has done; shared with a supervisor that makes the
    /// next connection count on in the same counters.
    pub(crate) counters: Arc<Counters>,
    /// The span the actor's work runs in (empty without `tracing`).
    pub(crate) span: ConnectionSpan,
    /// Whether the actor has finished, and who waits for that
    /// (`ConnectionHandle::closed`): a lock and a flag, not a channel, so an
    /// idle connection pays no allocation for it.
    ending: Mutex<Ending>,
    /// Set by a login that was abandoned (failed, timed out, dropped): the
    /// close skips the linger, as there is no session to end cleanly and
    /// the socket must not outlive the slot it was opened under.
    close_at_once: AtomicBool,
}

impl Default for Shared {
    #[allow(
        clippy::default_constructed_unit_structs,
        reason = "a unit struct only without the tracing feature"
    )]
    fn default() -> Self {
        Self::new(Arc::default(), ConnectionSpan::default())
    }
}

impl Shared {
    pub(crate) fn new(counters: Arc<Counters>, span: ConnectionSpan) -> Self {
        Self {
            failure: OnceLock::new(),
            in_flight: AtomicUsize::new(0),
            counters,
            span,
            ending: Mutex::new(Ending::default()),
            close_at_once: AtomicBool::new(false),
        }
    }

    pub(crate) fn set_close_at_once(&self) {
        self.close_at_once.store(true, Ordering::Release);
    }

    pub(crate) fn closes_at_once(&self) -> bool {
        self.close_at_once.load(Ordering::Acquire)
    }

    pub(crate) fn fail(&self, error: Error) {
        let _ = self.failure.set(error);
    }

    /// The actor has finished: everything it had to hand over is handed over.
    pub(crate) fn mark_ended(&self) {
        let waiting = {
            let mut ending = self.ending.lock().unwrap_or_else(|e| e.into_inner());
            ending.done = true;
            ending.waiting.take()
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Completes once [`mark_ended`](Self::mark_ended) was called.
    pub(crate) fn ended(
        self: &Arc<Self>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let key = self.ending().waiting.key();
        Ended {
            shared: Arc::clone(self),
            key,
        }
    }

    fn ending(&self) -> std::sync::MutexGuard<'_, Ending> {
        self.ending.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn failure(&self) -> Option<&Error> {
        self.failure.get()
    }

    pub(crate) fn set_in_flight(&self, n: usize) {
        self.in_flight.store(n, Ordering::Relaxed);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn count_abandoned(&self) {
        self.counters.abandoned();
    }

    pub(crate) fn abandoned(&self) -> u64 {
        self.counters.abandoned_count()
    }
}

/// Whether the actor has finished, and the wakers of those waiting for it.
#[derive(Debug, Default)]
struct Ending {
    done: bool,
    waiting: Waiters,
}

/// The wait of [`Shared::ended`]; dropped early, it takes its waker back.
struct Ended {
    shared: Arc<Shared>,
    key: u64,
}

impl std::future::Future for Ended {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let mut ending = self.shared.ending();
        if ending.done {
            return Poll::Ready(());
        }
        ending.waiting.register(self.key, cx.waker());
        Poll::Pending
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.shared.ending().waiting.remove(self.key);
    }
}
