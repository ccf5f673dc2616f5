//! The routing table: which stream each tag's replies go to, and what a full
//! or abandoned stream means for its command.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::queue::{Backlog, Entry, Pushed, QueueWriter};
use super::{BufferPolicy, ConnectionOptions, Item, Shared};
use crate::Error;
use crate::observe::Outcome;
use crate::observe::trace::CommandTrace;
use crate::protocol::{CommandResponse, InvalidReply, ProtocolError, Sentence};

/// Tags are random UUIDs we chose, so their first 8 bytes already are a good hash.
#[derive(Default)]
pub(crate) struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

/// A full buffer overflows only when its reader has taken nothing for this
/// long: a reader that is merely descheduled (a loaded machine, another
/// thread) catches up without losing its command.
const STALL_PATIENCE: Duration = Duration::from_secs(1);
/// However alive the reader, a command never buffers more than this many
/// times its bounds (replies and bytes)…
const HARD_LIMIT_FACTOR: usize = 8;
/// …but a reader that keeps up is never overflowed below this many replies:
/// it takes what waits in batches, and one poll of the actor routes up to 64
/// replies before the reader's wake-up, so a small bound must not turn a
/// live reader's normal lag into an overflow.
const MIN_HARD_LIMIT: usize = 256;
/// Tags of routes given up on, remembered so that a late reply to one is
/// swallowed instead of failing the connection as an unknown tag.
const FORGOTTEN_TAGS: usize = 4096;

/// One command in flight, in one of its states.
///
/// ```text
///   insert ──> Open ──!done──> (removed: the last item is queued)
///               │ │
///               │ └─ finished early before any byte of it was written ──>
///               │    (removed: its bytes are withdrawn, nothing is sent)
///               │
///               │ stream dropped / overflow / timeout / reader gone
///               v
///           Cancelled ──!done──> (removed)
///               │
///               │ no !done within the cancel patience
///               v
///          (removed, counted as abandoned, tag remembered)
///
///   insert_internal ──> Internal ──!done──> (removed)
///                          └── no !done within the patience ──> (removed, counted)
/// ```
/// Connection end removes every route; open ones get the error as their last item.
enum Route {
    /// A user command whose stream is open: replies go to its queue.
    Open(Sink),
    /// Finished early on this side; `/cancel` was written at `since`.
    /// Replies are swallowed until its `!done`.
    Cancelled { since: Instant },
    /// An internal command (`/cancel`, keepalive probe) written at `since`,
    /// whose replies nobody reads.
    Internal { since: Instant },
}

/// Where an open command's replies go.
struct Sink {
    queue: QueueWriter,
    policy: BufferPolicy,
    /// The backlog as of the last push: an upper bound of the real one (the
    /// reader only ever takes), so "under the bound" needs no lock.
    seen: Backlog,
    /// For [`BufferPolicy::Bounded`]: since when the backlog is over its
    /// bound, and the reader's progress then.
    stall: Option<Stall>,
    /// A `!trap` came: a `!done` then ends it as trapped.
    trapped: bool,
    /// The command's span (empty without `tracing`).
    trace: CommandTrace,
    /// A user's command: its start and end go into the counters (the crate's
    /// own identity lookup does not).
    counted: bool,
    /// Where its bytes were queued (write buffer offsets): while none of
    /// them is written, finishing it early withdraws them instead of
    /// sending `/cancel`.
    bytes: Range<u64>,
}

#[derive(Clone, Copy)]
struct Stall {
    since: Instant,
    taken: u64,
}

/// What the actor must do after a delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Nothing,
    /// The command's stream is finished early: send `/cancel` for it.
    Cancel,
}

/// How a command to register goes into the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counting {
    /// The crate's own (an identity lookup): never counted.
    Uncounted,
    /// A user's command starting now.
    Started,
    /// A user's command sent again after a gap: counted as started on an
    /// earlier connection, so only its end is counted here.
    Resumed,
}

/// The tag of a command to register is already in flight.
#[derive(Debug)]
pub(crate) struct TagInUse;

pub(crate) struct Routes {
    map: HashMap<Uuid, Route, BuildHasherDefault<TagHasher>>,
    /// Replies routed in a row to one open command, not yet in its queue.
    run: Run,
    /// Commands found finished early while pushing: the actor writes their
    /// `/cancel`s ([`take_cancels`](Self::take_cancels)).
    cancels: Vec<Uuid>,
    last_tag: LastTag,
    /// Where the number of commands in flight is published, always before a
    /// stream can see the item that ended its command.
    shared: Arc<Shared>,
    /// Cancelled and internal routes in the order they started swallowing,
    /// for the patience bound (stale entries are skipped).
    swallowing: VecDeque<(Instant, Uuid)>,
    forgotten: Forgotten,
    /// Wakers of readers that got replies in this poll, woken at its end.
    wakes: Vec<Waker>,
    max_unread_bytes: usize,
    cancel_patience: Duration,
}

/// Consecutive replies to one open command, pushed to its queue under one
/// lock when a reply for another command comes, the command ends, or the
/// actor's poll ends: one synchronisation per batch, not per reply.
#[derive(Default)]
struct Run {
    tag: Option<Uuid>,
    entries: Vec<Entry>,
    bytes: usize,
}

/// A bounded set of tags given up on.
#[derive(Default)]
struct Forgotten {
    tags: HashSet<Uuid, BuildHasherDefault<TagHasher>>,
    order: VecDeque<Uuid>,
}

impl Forgotten {
    fn remember(&mut self, tag: Uuid) {
        if self.tags.insert(tag) {
            self.order.push_back(tag);
            if self.order.len() > FORGOTTEN_TAGS
                && let Some(old) = self.order.pop_front()
            {
                self.tags.remove(&old);
            }
        }
    }
}

/// The last `.tag=` value read in its usual 36-byte form, and its UUID: the
/// replies of a streaming command repeat it, so it is compared, not parsed.
struct LastTag {
    text: [u8; 36],
    tag: Option<Uuid>,
}

impl Default for LastTag {
    fn default() -> Self {
        Self {
            text: [0; 36],
            tag: None,
        }
    }
}

impl LastTag {
    fn read(&mut self, value: &[u8]) -> Result<Uuid, ProtocolError> {
        match self.tag {
            Some(tag) if value == self.text => return Ok(tag),
            _ => {}
        }
        let tag = CommandResponse::read_tag(value)?;
        if let Ok(text) = value.try_into() {
            (self.text, self.tag) = (text, Some(tag));
        }
        Ok(tag)
    }
}

/// What became of a reply handed to [`Routes::deliver`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// Routed (or swallowed for a cancelled command); then do this.
    To(Next),
    /// No command has that tag.
    UnknownTag,
}

impl Routes {
    /// Reads a decoded sentence as a reply, remembering the last tag read.
    pub(crate) fn parse(&mut self, sentence: Sentence) -> Result<CommandResponse, InvalidReply> {
        CommandResponse::parse_with(sentence, |value| self.last_tag.read(value))
    }

    pub(crate) fn new(shared: Arc<Shared>, options: &ConnectionOptions) -> Self {
        Self {
            map: HashMap::default(),
            run: Run::default(),
            cancels: Vec::new(),
            last_tag: LastTag::default(),
            shared,
            swallowing: VecDeque::new(),
            forgotten: Forgotten::default(),
            wakes: Vec::new(),
            max_unread_bytes: options.max_unread_bytes.max(1),
            cancel_patience: options.cancel_patience,
        }
    }

    fn publish(&self) {
        self.shared.set_in_flight(self.map.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The tags of every open user command.
    pub(crate) fn open_tags(&self) -> Vec<Uuid> {
        self.map
            .iter()
            .filter(|(_, route)| matches!(route, Route::Open(_)))
            .map(|(tag, _)| *tag)
            .collect()
    }

    /// Whether `tag` is an open user command (deadlines of others are stale).
    pub(crate) fn is_open(&self, tag: &Uuid) -> bool {
        matches!(self.map.get(tag), Some(Route::Open(_)))
    }

    pub(crate) fn contains(&self, tag: &Uuid) -> bool {
        self.map.contains_key(tag)
    }

    /// Registers a user command. Must happen before its bytes are written.
    /// A tag already in flight is refused: the new command's stream ends with
    /// an error and the command must not be written.
    pub(crate) fn insert(
        &mut self,
        tag: Uuid,
        queue: QueueWriter,
        policy: BufferPolicy,
        trace: CommandTrace,
        counting: Counting,
        bytes: Range<u64>,
    ) -> Result<(), TagInUse> {
        if self.map.contains_key(&tag) {
            let error = Error::InvalidCommand {
                reason: format!(
                    "tag {tag} is already used by a command in flight on this connection"
                ),
            };
            queue.end_with(Err(error), &mut self.wakes);
            return Err(TagInUse);
        }
        self.forgotten.tags.remove(&tag);
        self.map.insert(
            tag,
            Route::Open(Sink {
                queue,
                policy,
                seen: Backlog::default(),
                stall: None,
                trapped: false,
                trace,
                counted: counting != Counting::Uncounted,
                bytes,
            }),
        );
        if counting == Counting::Started {
            self.shared.counters.command_started();
        }
        self.publish();
        Ok(())
    }

    /// Registers an internal command (cancel, keepalive) whose replies nobody reads.
    pub(crate) fn insert_internal(&mut self, tag: Uuid, now: Instant) {
        self.map.insert(tag, Route::Internal { since: now });
        self.swallowing.push_back((now, tag));
        self.publish();
    }

    /// Hands `entry` to the stream of `tag`; `last` removes the route first.
    /// The entry joins the current run of replies; the run reaches the queue
    /// when it is flushed.
    pub(crate) fn deliver(
        &mut self,
        tag: Uuid,
        entry: Entry,
        last: bool,
        now: Instant,
    ) -> Delivered {
        if self.run.tag != Some(tag) {
            self.flush(now);
        }
        if last {
            return self.deliver_last(tag, entry, now);
        }
        let Some(Route::Open(sink)) = self.map.get_mut(&tag) else {
            return match self.map.contains_key(&tag) {
                true => Delivered::To(Next::Nothing),
                false => self.late_reply(tag, false),
            };
        };
        let is_row = matches!(entry.item, Ok(CommandResponse::Reply(_)));
        sink.trapped |= matches!(entry.item, Ok(CommandResponse::Trap(_)));
        sink.trace.reply(is_row, entry.bytes);
        if is_row
            && let BufferPolicy::Bounded(capacity) = sink.policy
            && let Some(instead) = self.admit_row(tag, capacity, now)
        {
            return instead;
        }
        self.run.tag = Some(tag);
        self.run.bytes += entry.bytes;
        self.run.entries.push(entry);
        Delivered::To(Next::Nothing)
    }

    /// The `!done` of `tag`: the route is forgotten, the command's end
    /// counted and traced, and the run pushed with it, before its stream can
    /// see it.
    fn deliver_last(&mut self, tag: Uuid, entry: Entry, now: Instant) -> Delivered {
        let Some(route) = self.map.remove(&tag) else {
            return self.late_reply(tag, true);
        };
        self.publish();
        if let Route::Open(mut sink) = route {
            let outcome = if sink.trapped {
                Outcome::Trapped
            } else {
                Outcome::Done
            };
            if sink.counted {
                self.shared.counters.command_ended(outcome);
            }
            sink.trace.reply(false, entry.bytes);
            self.run.entries.push(entry);
            let keep_rows = keep_rows(sink.policy);
            sink.queue
                .push(&mut self.run.entries, true, keep_rows, &mut self.wakes);
            sink.trace.end(outcome, now);
        }
        debug_assert!(self.run.entries.is_empty(), "runs are only of open routes");
        self.run.entries.clear();
        (self.run.tag, self.run.bytes) = (None, 0);
        Delivered::To(Next::Nothing)
    }

    /// Whether one more row fits the `Bounded(capacity)` buffer of `tag`:
    /// `None` admits it to the run; otherwise what became of the command
    /// instead (it overflowed and is cancelled, or its reader went away
    /// while the run was pushed to look at the real backlog).
    fn admit_row(&mut self, tag: Uuid, capacity: usize, now: Instant) -> Option<Delivered> {
        let Some(Route::Open(sink)) = self.map.get_mut(&tag) else {
            return Some(Delivered::To(Next::Nothing));
        };
        // The backlog's upper-bound estimate: only over it is the run pushed
        // to look at the real backlog.
        let estimate = Backlog {
            len: sink.seen.len + self.run.entries.len(),
            bytes: sink.seen.bytes + self.run.bytes,
            ..sink.seen
        };
        if !is_over(capacity, self.max_unread_bytes, estimate) {
            sink.stall = None;
            return None;
        }
        self.flush(now);
        let Some(Route::Open(sink)) = self.map.get_mut(&tag) else {
            return Some(Delivered::To(Next::Nothing));
        };
        let (max_bytes, seen) = (self.max_unread_bytes, sink.seen);
        if !bounded_overflows(capacity, max_bytes, &mut sink.stall, seen, now) {
            return None;
        }
        let error = Error::Overflow { capacity };
        // Counted before the stream can see the error.
        if sink.counted {
            self.shared.counters.command_ended(Outcome::Overflowed);
        }
        self.shared.counters.error(&error);
        sink.trace.overflow(tag, capacity);
        sink.queue.end_with(Err(error), &mut self.wakes);
        Some(Delivered::To(self.cancel(tag, now, Outcome::Overflowed)))
    }

    /// Pushes the current run of replies into its command's queue.
    pub(crate) fn flush(&mut self, now: Instant) {
        let Some(tag) = self.run.tag.take() else {
            return;
        };
        self.run.bytes = 0;
        let Some(Route::Open(sink)) = self.map.get_mut(&tag) else {
            self.run.entries.clear();
            return;
        };
        let keep_rows = keep_rows(sink.policy);
        match sink
            .queue
            .push(&mut self.run.entries, false, keep_rows, &mut self.wakes)
        {
            Pushed::Queued(backlog) => sink.seen = backlog,
            Pushed::ReaderGone => {
                if sink.counted {
                    self.shared.counters.command_ended(Outcome::Cancelled);
                }
                if self.cancel(tag, now, Outcome::Cancelled) == Next::Cancel {
                    self.cancels.push(tag);
                }
            }
        }
    }

    /// Commands whose `/cancel` the actor must write (found while flushing).
    pub(crate) fn take_cancels(&mut self) -> Option<Uuid> {
        self.cancels.pop()
    }

    /// A reply whose route is gone: swallowed if the route was given up on.
    fn late_reply(&mut self, tag: Uuid, last: bool) -> Delivered {
        if !self.forgotten.tags.contains(&tag) {
            return Delivered::UnknownTag;
        }
        if last {
            self.forgotten.tags.remove(&tag);
        }
        Delivered::To(Next::Nothing)
    }

    /// Where the open command `tag`'s bytes were queued (the write buffer
    /// offset of its first byte). An offset never names two commands, so
    /// this tells which command holds the tag now: a command withdrawn
    /// frees its tag at once, and another may take it.
    pub(crate) fn queued_at(&self, tag: &Uuid) -> Option<u64> {
        match self.map.get(tag) {
            Some(Route::Open(sink)) => Some(sink.bytes.start),
            _ => None,
        }
    }

    /// Whether a cancel of `tag` is its own stream's: the reader of its
    /// open route is gone (or no route is open). A stream refused because
    /// another command holds the tag names that tag too when dropped; it
    /// must not end that command.
    pub(crate) fn reader_gone(&self, tag: &Uuid) -> bool {
        match self.map.get(tag) {
            Some(Route::Open(sink)) => sink.queue.reader_gone(),
            _ => true,
        }
    }

    /// Ends the stream of `tag` early, giving it `error` as its last item.
    /// `withdraw` is asked to take its bytes back from the write buffer:
    /// if it can (none was written), the route goes at once and nothing is
    /// sent; otherwise it is cancelled and the caller writes `/cancel`.
    pub(crate) fn finish_early(
        &mut self,
        tag: Uuid,
        error: Option<Error>,
        now: Instant,
        withdraw: impl FnOnce(Range<u64>) -> bool,
    ) -> Next {
        if self.run.tag == Some(tag) {
            self.flush(now);
        }
        let Some(Route::Open(sink)) = self.map.get(&tag) else {
            return Next::Nothing;
        };
        let withdrawn = withdraw(sink.bytes.clone());
        let outcome = match error {
            Some(_) => Outcome::TimedOut,
            None => Outcome::Cancelled,
        };
        let counters = &self.shared.counters;
        if sink.counted {
            counters.command_ended(outcome);
        }
        if let Some(error) = error {
            counters.error(&error);
            sink.queue.end_with(Err(error), &mut self.wakes);
        }
        if !withdrawn {
            return self.cancel(tag, now, outcome);
        }
        // Never sent: nothing to cancel, no reply to swallow.
        if let Some(Route::Open(sink)) = self.map.remove(&tag) {
            sink.trace.end(outcome, now);
        }
        self.publish();
        Next::Nothing
    }

    /// Open → Cancelled (already counted as `outcome`): the caller writes `/cancel`.
    fn cancel(&mut self, tag: Uuid, now: Instant, outcome: Outcome) -> Next {
        // Dropping the sink ends its queue.
        if let Some(Route::Open(sink)) = self.map.insert(tag, Route::Cancelled { since: now }) {
            sink.trace.end(outcome, now);
        }
        self.swallowing.push_back((now, tag));
        Next::Cancel
    }

    /// Gives up on cancelled and internal commands the router has not
    /// finished within the patience: their routes go (counted as abandoned),
    /// their tags are remembered so late replies are swallowed. Returns when
    /// the next one would be given up on.
    pub(crate) fn expire_swallowing(&mut self, now: Instant) -> Option<Instant> {
        let mut removed = false;
        while let Some(&(since, tag)) = self.swallowing.front() {
            let route_since = match self.map.get(&tag) {
                Some(Route::Cancelled { since } | Route::Internal { since }) => Some(*since),
                _ => None,
            };
            if route_since != Some(since) {
                // Finished, or swallowing since later: a stale entry.
                self.swallowing.pop_front();
                continue;
            }
            let until = since.checked_add(self.cancel_patience)?;
            if until > now {
                return Some(until);
            }
            self.swallowing.pop_front();
            self.map.remove(&tag);
            self.forgotten.remember(tag);
            self.shared.count_abandoned();
            removed = true;
        }
        if removed {
            self.publish();
        }
        None
    }

    /// Gives `item` to every open stream and forgets every command.
    /// Removes an open route without ending its stream and returns its
    /// queue, for a supervisor to carry the stream over to a new connection.
    pub(crate) fn take_open(&mut self, tag: &Uuid) -> Option<(QueueWriter, BufferPolicy)> {
        if !self.is_open(tag) {
            return None;
        }
        let Some(Route::Open(sink)) = self.map.remove(tag) else {
            return None;
        };
        self.publish();
        Some((sink.queue, sink.policy))
    }

    pub(crate) fn close_all(&mut self, item: impl Fn() -> Item, now: Instant) {
        // What was routed reaches its streams before the error.
        self.flush(now);
        let routes = std::mem::take(&mut self.map);
        self.swallowing.clear();
        self.publish();
        for (_, route) in routes {
            if let Route::Open(sink) = route {
                if sink.counted {
                    self.shared.counters.command_ended(Outcome::ConnectionLost);
                }
                sink.queue.end_with(item(), &mut self.wakes);
                sink.trace.end(Outcome::ConnectionLost, now);
            }
        }
        self.wake_readers(now);
    }

    /// Pushes the run and wakes the readers that got replies since the last
    /// call: once per reader per batch. The end of every actor poll.
    pub(crate) fn wake_readers(&mut self, now: Instant) {
        self.flush(now);
        self.wakes.drain(..).for_each(Waker::wake);
    }
}

/// How many data rows a command of `policy` keeps waiting (`None`: all).
fn keep_rows(policy: BufferPolicy) -> Option<usize> {
    match policy {
        BufferPolicy::KeepLatest(capacity) => Some(capacity.max(1)),
        _ => None,
    }
}

/// Whether a `Bounded(capacity)` command's backlog is over its reply or byte bound.
fn is_over(capacity: usize, max_bytes: usize, backlog: Backlog) -> bool {
    backlog.len >= capacity.max(1) || backlog.bytes >= max_bytes
}

/// Whether one more row overflows a `Bounded(capacity)` command with this
/// (real) backlog: over its bound while the reader took nothing for the stall
/// patience, or past the hard limit however alive the reader.
fn bounded_overflows(
    capacity: usize,
    max_bytes: usize,
    stall: &mut Option<Stall>,
    backlog: Backlog,
    now: Instant,
) -> bool {
    if !is_over(capacity, max_bytes, backlog) {
        *stall = None;
        return false;
    }
    let hard_len = capacity
        .max(1)
        .saturating_mul(HARD_LIMIT_FACTOR)
        .max(MIN_HARD_LIMIT);
    let hard =
        backlog.len >= hard_len || backlog.bytes >= max_bytes.saturating_mul(HARD_LIMIT_FACTOR);
    let stalled = match stall {
        // The reader took nothing since the backlog went over: the stall goes on.
        Some(s) if s.taken == backlog.taken => {
            now.saturating_duration_since(s.since) >= STALL_PATIENCE
        }
        // First time over, or the reader took some: (re)start the clock.
        _ => {
            *stall = Some(Stall {
                since: now,
                taken: backlog.taken,
            });
            false
        }
    };
    hard || stalled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_tag_is_remembered_and_reads_like_a_parse() {
        let mut last = LastTag::default();
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let text_a = a.hyphenated().to_string();
        for _ in 0..3 {
            assert_eq!(last.read(text_a.as_bytes()), Ok(a));
        }
        assert_eq!(last.read(b.hyphenated().to_string().as_bytes()), Ok(b));
        assert_eq!(last.read(text_a.to_uppercase().as_bytes()), Ok(a));
        // Other forms are parsed, not remembered; errors stay errors.
        assert_eq!(last.read(a.simple().to_string().as_bytes()), Ok(a));
        assert_eq!(last.read(text_a.as_bytes()), Ok(a));
        for bad in [&b"login"[..], b"", &[0u8; 36]] {
            assert_eq!(last.read(bad), CommandResponse::read_tag(bad));
            assert!(last.read(bad).is_err());
        }
        assert_eq!(last.read(text_a.as_bytes()), Ok(a));
    }

    #[test]
    fn parse_through_the_routes_equals_parse() {
        let mut routes = Routes::new(Arc::default(), &ConnectionOptions::default());
        let tag = Uuid::new_v4();
        let tag_word = format!(".tag={tag}");
        let sentences: [&[&str]; 5] = [
            &["!re", &tag_word, "=a=1"],
            &["!re", "=a=2", &tag_word],
            &["!done", &tag_word],
            &["!re", ".tag=nope"],
            &["!fatal", "bye"],
        ];
        for words in sentences {
            let sentence = Sentence::from_words(words);
            assert_eq!(
                routes.parse(sentence.clone()),
                CommandResponse::parse(sentence)
            );
        }
    }
}
