//! The counters of one connection (or of every connection a supervisor
//! makes in turn, when it hands each the same `Arc<Counters>`).
//!
//! Written by the actor with relaxed atomic adds, read by anyone with a
//! [`snapshot`](Counters::snapshot): no lock on the hot path. Sentences read
//! are added once per batch, not once per sentence. Only the last
//! error, written when something fails, sits behind a mutex.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Outcome, Stats};

/// Bench-only: built with `MIKROTIK_BENCH_NO_COUNTERS` set in the
/// environment, the counters are never added to, so a bench can measure
/// what they cost (benches/observe_cost.rs). Not a feature, so that
/// `--all-features` never turns counting off; not a `RUSTFLAGS` cfg, so
/// that only this crate is rebuilt.
const COUNTING: bool = option_env!("MIKROTIK_BENCH_NO_COUNTERS").is_none();

#[inline]
fn add(counter: &AtomicU64, n: u64) {
    if COUNTING && n > 0 {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    sentences_received: AtomicU64,
    sentences_sent: AtomicU64,
    commands_started: AtomicU64,
    commands_done: AtomicU64,
    commands_trapped: AtomicU64,
    commands_cancelled: AtomicU64,
    commands_timed_out: AtomicU64,
    commands_overflowed: AtomicU64,
    commands_lost: AtomicU64,
    reconnects: AtomicU64,
    abandoned: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Counters {
    #[inline]
    pub(crate) fn received(&self, bytes: usize) {
        add(&self.bytes_received, bytes as u64);
    }

    #[inline]
    pub(crate) fn sent(&self, bytes: usize) {
        add(&self.bytes_sent, bytes as u64);
    }

    #[inline]
    pub(crate) fn sentences_received(&self, n: usize) {
        add(&self.sentences_received, n as u64);
    }

    /// A sentence queued for writing (a command, `/cancel`, a probe, `/quit`).
    #[inline]
    pub(crate) fn sentence_sent(&self) {
        add(&self.sentences_sent, 1);
    }

    /// A queued sentence taken back before any byte of it was written (its
    /// command was cancelled while waiting): it was never sent.
    pub(crate) fn sentence_withdrawn(&self) {
        if COUNTING {
            self.sentences_sent.fetch_sub(1, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn command_started(&self) {
        add(&self.commands_started, 1);
    }

    #[inline]
    pub(crate) fn command_ended(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Done => &self.commands_done,
            Outcome::Trapped => &self.commands_trapped,
            Outcome::Cancelled => &self.commands_cancelled,
            Outcome::TimedOut => &self.commands_timed_out,
            Outcome::Overflowed => &self.commands_overflowed,
            Outcome::ConnectionLost => &self.commands_lost,
        };
        add(counter, 1);
    }

    /// For a supervisor that replaces a lost connection (issue 14): call
    /// once per new connection made after the first.
    #[allow(dead_code, reason = "called by the reconnecting layer")]
    pub(crate) fn reconnected(&self) {
        add(&self.reconnects, 1);
    }

    /// Always counted (even by the bench switch): a cold event that
    /// [`ConnectionHandle::abandoned`](crate::connection::ConnectionHandle::abandoned) reports.
    pub(crate) fn abandoned(&self) {
        self.abandoned.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn abandoned_count(&self) -> u64 {
        get(&self.abandoned)
    }

    /// Remembers `error` (its message) as the last one seen. Cold path only.
    pub(crate) fn error(&self, error: &crate::Error) {
        if COUNTING {
            *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let started = get(&self.commands_started);
        let mut stats = Stats {
            bytes_received: get(&self.bytes_received),
            bytes_sent: get(&self.bytes_sent),
            sentences_received: get(&self.sentences_received),
            sentences_sent: get(&self.sentences_sent),
            commands_started: started,
            commands_done: get(&self.commands_done),
            commands_trapped: get(&self.commands_trapped),
            commands_cancelled: get(&self.commands_cancelled),
            commands_timed_out: get(&self.commands_timed_out),
            commands_overflowed: get(&self.commands_overflowed),
            commands_connection_lost: get(&self.commands_lost),
            commands_in_flight: 0,
            reconnects: get(&self.reconnects),
            abandoned: get(&self.abandoned),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        };
        // Each counter is exact; read one after another while the actor
        // runs they may be a moment apart, so never below zero.
        stats.commands_in_flight = started.saturating_sub(stats.commands_ended());
        stats
    }
}
