//! State the actor publishes to device handles.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use async_channel::{Receiver, Sender};

use crate::Error;
use crate::observe::Counters;
use crate::observe::trace::ConnectionSpan;

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
    /// Closed (never sent on) when the actor has finished: what
    /// `ConnectionHandle::closed` waits for.
    ended: (Sender<()>, Receiver<()>),
}

impl Default for Shared {
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
            ended: async_channel::bounded(1),
        }
    }

    pub(crate) fn fail(&self, error: Error) {
        let _ = self.failure.set(error);
    }

    /// The actor has finished: everything it had to hand over is handed over.
    pub(crate) fn mark_ended(&self) {
        self.ended.0.close();
    }

    /// Completes once [`mark_ended`](Self::mark_ended) was called.
    pub(crate) fn ended(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let ended = self.ended.1.clone();
        async move {
            // Nothing is ever sent: this returns when the channel is closed.
            let _ = ended.recv().await;
        }
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
