//! `Stats`: a plain copy of a connection's counters.

use std::ops::AddAssign;

/// What a connection (or a device across its reconnects) has done so far.
///
/// Every command that was started ends in exactly one of the `commands_*`
/// outcomes; `commands_in_flight` is those not ended yet. A snapshot is
/// taken counter by counter while the connection runs, so two counters may
/// be a moment apart; each one is exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes read from the router.
    pub bytes_received: u64,
    /// Bytes written to the router.
    pub bytes_sent: u64,
    /// Sentences read (replies, including those of internal commands).
    pub sentences_received: u64,
    /// Sentences written: commands, `/cancel`s, keepalive probes, `/quit`.
    pub sentences_sent: u64,
    /// User commands registered with the connection (login included).
    pub commands_started: u64,
    /// Commands that ended with `!done` and no `!trap`.
    pub commands_done: u64,
    /// Commands that ended with `!done` after a `!trap`.
    pub commands_trapped: u64,
    /// Commands whose stream was dropped before the end (`/cancel` sent).
    pub commands_cancelled: u64,
    /// Commands ended by their deadline.
    pub commands_timed_out: u64,
    /// Commands ended with [`Error::Overflow`](crate::Error::Overflow).
    pub commands_overflowed: u64,
    /// Commands ended by the end of their connection.
    pub commands_connection_lost: u64,
    /// Commands started and not ended yet.
    pub commands_in_flight: u64,
    /// Connections made to replace a lost one (0 for a plain device).
    pub reconnects: u64,
    /// Cancelled or internal commands the router never finished in time.
    pub abandoned: u64,
    /// The message of the last error: a connection failure, a timeout, an overflow.
    pub last_error: Option<String>,
}

impl Stats {
    /// Commands that have ended, whatever the outcome.
    pub fn commands_ended(&self) -> u64 {
        self.commands_done
            + self.commands_trapped
            + self.commands_cancelled
            + self.commands_timed_out
            + self.commands_overflowed
            + self.commands_connection_lost
    }

    /// The sum of several snapshots (a fleet's, say); the last error is the
    /// last one given that has one.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Stats>) -> Stats {
        let mut total = Stats::default();
        for stats in all {
            total += stats;
        }
        total
    }
}

impl AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, other: &Stats) {
        self.bytes_received += other.bytes_received;
        self.bytes_sent += other.bytes_sent;
        self.sentences_received += other.sentences_received;
        self.sentences_sent += other.sentences_sent;
        self.commands_started += other.commands_started;
        self.commands_done += other.commands_done;
        self.commands_trapped += other.commands_trapped;
        self.commands_cancelled += other.commands_cancelled;
        self.commands_timed_out += other.commands_timed_out;
        self.commands_overflowed += other.commands_overflowed;
        self.commands_connection_lost += other.commands_connection_lost;
        self.commands_in_flight += other.commands_in_flight;
        self.reconnects += other.reconnects;
        self.abandoned += other.abandoned;
        if other.last_error.is_some() {
            self.last_error.clone_from(&other.last_error);
        }
    }
}
