//! State the actor publishes to device handles.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use async_channel::{Receiver, Sender};

use crate::Error;

/// Written by the actor, read by handles without a round trip.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Why the connection ended, once it has.
    failure: OnceLock<Error>,
    /// Commands in the routing table (user and internal).
    in_flight: AtomicUsize,
    /// Cancelled or internal commands given up on: the router never finished them.
    abandoned: AtomicU64,
    /// Closed (never sent on) when the actor has finished: what
    /// `ConnectionHandle::closed` waits for.
    ended: (Sender<()>, Receiver<()>),
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            failure: OnceLock::new(),
            in_flight: AtomicUsize::new(0),
            abandoned: AtomicU64::new(0),
            ended: async_channel::bounded(1),
        }
    }
}

impl Shared {
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
        self.abandoned.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn abandoned(&self) -> u64 {
        self.abandoned.load(Ordering::Relaxed)
    }
}
