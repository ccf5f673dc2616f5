//! State the actor publishes to device handles.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::Error;

/// Written by the actor, read by handles without a round trip.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Why the connection ended, once it has.
    failure: OnceLock<Error>,
    /// Commands in the routing table (user and internal).
    in_flight: AtomicUsize,
    /// Cancelled or internal commands given up on: the router never finished them.
    abandoned: AtomicU64,
}

impl Shared {
    pub(crate) fn fail(&self, error: Error) {
        let _ = self.failure.set(error);
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
