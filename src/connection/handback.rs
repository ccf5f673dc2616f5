//! Commands an ending connection gives back to whoever supervises it.
//!
//! A connection is one TCP session and ends with it; a supervisor above it
//! (the reconnect layer) may carry some commands over to the next session.
//! Only the actor knows, at its end, which commands were never written and
//! which resumable ones were still open, so it hands those back through this
//! channel instead of ending their streams. Only requests the supervisor
//! itself forwarded are handed back: a request sent on the connection's own
//! handle (its `/login`) ends with the connection's error, as it would
//! without a supervisor, since nobody would ever answer it. Without a supervisor (the
//! default) nothing changes: every stream ends with the connection's error.

use std::fmt;

use async_channel::Sender;

use super::BufferPolicy;
use super::queue::QueueWriter;
use crate::protocol::command::Command;

/// A command whose stream outlives its connection.
#[derive(Debug)]
pub(crate) struct Orphan {
    /// The tag it had on the ended connection (a cancel names it so).
    pub(crate) tag: uuid::Uuid,
    /// The command to send on the next connection: the original if it was
    /// never written, else a clone (a fresh tag) of a resumable one.
    pub(crate) command: Command,
    /// The stream's queue, still open.
    pub(crate) replies: QueueWriter,
    pub(crate) policy: BufferPolicy,
    /// Whether the router may have seen the command: its stream then gets a
    /// gap marker before the replies of the new connection.
    pub(crate) written: bool,
    /// Whether the counters already count it as started (a command sent
    /// again after an earlier gap): its next send must not count it again.
    pub(crate) counted: bool,
}

/// Where the actor sends its orphans (set by a supervisor in
/// [`ConnectionOptions`](super::ConnectionOptions)).
#[derive(Clone)]
pub(crate) struct Handback(pub(crate) Sender<Orphan>);

impl fmt::Debug for Handback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handback")
    }
}

impl Handback {
    /// Hands `orphan` back; returns it (`Some`) if the supervisor is gone.
    pub(crate) fn give(&self, orphan: Orphan) -> Option<Orphan> {
        self.0.try_send(orphan).err().map(|e| e.into_inner())
    }
}
