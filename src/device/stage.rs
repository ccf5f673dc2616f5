//! Where a connect is: kept for a deadline that covers several steps (a
//! fleet job's), so that its timeout can say whether the router never
//! answered, stalled in the TLS handshake, or never finished the login.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::Stage;

/// The step a device's connect (or a job on it) has reached; shared between
/// the builder that connects and whoever holds the deadline.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageTracker(Arc<AtomicU8>);

impl StageTracker {
    pub(crate) fn enter(&self, stage: Stage) {
        let code = match stage {
            Stage::Connect => 0,
            Stage::Tls => 1,
            Stage::Login => 2,
            Stage::Queued => 3,
            Stage::Command => 4,
        };
        self.0.store(code, Ordering::Release);
    }

    pub(crate) fn current(&self) -> Stage {
        match self.0.load(Ordering::Acquire) {
            0 => Stage::Connect,
            1 => Stage::Tls,
            2 => Stage::Login,
            3 => Stage::Queued,
            _ => Stage::Command,
        }
    }
}
