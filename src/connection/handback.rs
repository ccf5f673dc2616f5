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
//!
//! The actor reaches this work only through the function pointers of
//! [`Handback`], which only [`Handback::new`] names (called by the
//! supervisor): a program that never reconnects links none of it, as an
//! actor that branched on `handback.is_some()` into this code would.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::task::Waker;

use async_channel::Sender;
use uuid::Uuid;

use super::BufferPolicy;
use super::queue::QueueWriter;
use super::routes::Routes;
use crate::Error;
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
/// [`ConnectionOptions`](super::ConnectionOptions)), with the actor's work
/// for a supervisor.
#[derive(Clone)]
pub(crate) struct Handback {
    sender: Sender<Orphan>,
    work: &'static HandbackWork,
}

impl fmt::Debug for Handback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handback")
    }
}

/// The actor's work for a supervisor, as function pointers (see the module
/// documentation for why).
struct HandbackWork {
    give: fn(&Handback, Orphan) -> Option<Orphan>,
    note_forwarded: fn(&mut Forwarded, &Routes, Uuid, &Command, u64, u64),
    hand_back_open:
        fn(&Handback, &mut Forwarded, &mut Routes, u64, &Error, &mut Vec<Waker>) -> Error,
}

static WORK: HandbackWork = HandbackWork {
    give,
    note_forwarded,
    hand_back_open,
};

impl Handback {
    /// Hands orphans to `sender` (the supervisor keeps its receiver).
    pub(crate) fn new(sender: Sender<Orphan>) -> Self {
        Self {
            sender,
            work: &WORK,
        }
    }

    /// Hands `orphan` back; returns it (`Some`) if the supervisor is gone.
    pub(crate) fn give(&self, orphan: Orphan) -> Option<Orphan> {
        (self.work.give)(self, orphan)
    }

    /// Notes a command the supervisor forwarded, just before its bytes go to
    /// the write buffer at offset `queued` (the socket has taken `taken`).
    pub(crate) fn note_forwarded(
        &self,
        forwarded: &mut Forwarded,
        routes: &Routes,
        tag: Uuid,
        command: &Command,
        queued: u64,
        taken: u64,
    ) {
        (self.work.note_forwarded)(forwarded, routes, tag, command, queued, taken);
    }

    /// At the connection's end: hands back the open commands that can go on
    /// (never written, or resumable), and returns the error the other open
    /// commands end with. `taken`: what the socket took of the write buffer.
    pub(crate) fn hand_back_open(
        &self,
        forwarded: &mut Forwarded,
        routes: &mut Routes,
        taken: u64,
        error: &Error,
        wakes: &mut Vec<Waker>,
    ) -> Error {
        (self.work.hand_back_open)(self, forwarded, routes, taken, error, wakes)
    }
}

/// What a supervised connection keeps about the commands its supervisor
/// forwarded, to hand them back at its end. Empty without a supervisor.
#[derive(Default)]
pub(crate) struct Forwarded {
    /// A clone (fresh tag) of each resumable command by the tag it was sent
    /// with, to hand back at the end if still open. Entries of finished
    /// commands are pruned lazily. Each with the order it was sent in: they
    /// are handed back in that order, so the supervisor re-sends them as
    /// they were first sent. And where its bytes were queued: a tag names
    /// a command only while it runs, and a later one may take it.
    resumable: HashMap<Uuid, (u64, u64, Command)>,
    /// How many resumable commands were remembered so far (their order).
    resumable_sent: u64,
    /// Commands whose bytes the socket has not taken yet, with the write
    /// buffer's offset of their first byte. At the end, one none of whose
    /// bytes reached the socket was surely not run: it is handed back as
    /// never written.
    unwritten: VecDeque<(u64, Uuid, Command)>,
}

impl Forwarded {
    /// The command `tag` was cancelled: it is not resumed.
    pub(crate) fn forget(&mut self, tag: &Uuid) {
        if !self.resumable.is_empty() {
            self.resumable.remove(tag);
        }
    }
}

fn give(handback: &Handback, orphan: Orphan) -> Option<Orphan> {
    handback
        .sender
        .try_send(orphan)
        .err()
        .map(|e| e.into_inner())
}

fn note_forwarded(
    forwarded: &mut Forwarded,
    routes: &Routes,
    tag: Uuid,
    command: &Command,
    queued: u64,
    taken: u64,
) {
    if command.is_resumable() {
        if forwarded.resumable.len() >= 2 * routes.len() + 16 {
            forwarded.resumable.retain(|t, _| routes.is_open(t));
        }
        forwarded.resumable_sent += 1;
        let order = forwarded.resumable_sent;
        forwarded
            .resumable
            .insert(tag, (order, queued, command.clone()));
    }
    while forwarded
        .unwritten
        .front()
        .is_some_and(|(at, ..)| *at < taken)
    {
        forwarded.unwritten.pop_front();
    }
    forwarded
        .unwritten
        .push_back((queued, tag, command.clone()));
}

fn hand_back_open(
    handback: &Handback,
    forwarded: &mut Forwarded,
    routes: &mut Routes,
    taken: u64,
    error: &Error,
    wakes: &mut Vec<Waker>,
) -> Error {
    // Commands none of whose bytes reached the socket never ran:
    // back as never written, sent on the next connection as they are.
    // (Handed back after the resumable ones, which are older.)
    let mut never_written = Vec::new();
    for (at, tag, command) in std::mem::take(&mut forwarded.unwritten) {
        // Written in part, or withdrawn (its tag maybe taken by another
        // command since): not this record's to hand back.
        if at < taken || routes.queued_at(&tag) != Some(at) {
            continue;
        }
        let Some((replies, policy)) = routes.take_open(&tag) else {
            continue;
        };
        forwarded.resumable.remove(&tag);
        never_written.push(Orphan {
            tag,
            command,
            replies,
            policy,
            written: false,
            counted: true,
        });
    }
    let mut resumable: Vec<_> = std::mem::take(&mut forwarded.resumable)
        .into_iter()
        .collect();
    resumable.sort_unstable_by_key(|(_, (order, ..))| *order);
    for (tag, (_, at, command)) in resumable {
        if routes.queued_at(&tag) != Some(at) {
            continue;
        }
        let Some((replies, policy)) = routes.take_open(&tag) else {
            continue;
        };
        let orphan = Orphan {
            tag,
            command,
            replies,
            policy,
            written: true,
            counted: true,
        };
        if let Some(orphan) = handback.give(orphan) {
            orphan.replies.end_with(Err(error.clone()), wakes);
        }
    }
    for orphan in never_written {
        if let Some(orphan) = handback.give(orphan) {
            orphan.replies.end_with(Err(error.clone()), wakes);
        }
    }
    Error::ConnectionLost {
        cause: Arc::new(error.clone()),
    }
}
