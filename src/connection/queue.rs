//! The per-command reply queue between the actor and one [`ResponseStream`].
//!
//! One small mutex-guarded queue per command, with one waker slot for its
//! reader. The design keeps synchronisation per *batch*, not per reply:
//!
//! - the actor pushes a whole run of replies under one lock (the routing
//!   table collects consecutive replies of a command and pushes them when a
//!   reply for another command comes, the command ends, or the poll ends),
//!   and takes the reader's waker only if the reader is parked (a reader
//!   that is draining is never woken again); the wake itself is deferred to
//!   the end of the actor's poll, so a burst of replies costs one wake-up;
//! - the reader swaps the whole queue out in one lock and then reads its local
//!   batch without touching the lock; it parks (stores its waker) only when it
//!   finds the queue empty.
//!
//! Invariants (checked with `debug_assert!`s):
//! - `bytes` and `rows` always describe exactly the entries in `entries`;
//! - after `ended` is set no entry is ever pushed again;
//! - a parked reader is always woken by the push or end that follows.
//!
//! [`ResponseStream`]: super::ResponseStream

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use super::Item;
use crate::protocol::CommandResponse;

/// One reply and what it weighs.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) item: Item,
    /// Bytes of the sentence behind it (0 for errors made on this side).
    pub(crate) bytes: usize,
}

impl Entry {
    fn is_row(&self) -> bool {
        matches!(self.item, Ok(CommandResponse::Reply(_)))
    }
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Entry>,
    /// Sum of `bytes` over `entries`.
    bytes: usize,
    /// Data rows (`!re`) among `entries`.
    rows: usize,
    /// Entries the reader has taken since the command started.
    taken: u64,
    /// The reader's waker while it waits for an entry.
    waker: Option<Waker>,
    /// The reader is gone: nothing pushed is ever read.
    reader_gone: bool,
    /// No entry will follow: the writer pushed the last one or was dropped.
    ended: bool,
}

impl State {
    fn check(&self) {
        debug_assert_eq!(
            self.bytes,
            self.entries.iter().map(|e| e.bytes).sum::<usize>()
        );
        debug_assert_eq!(
            self.rows,
            self.entries.iter().filter(|e| e.is_row()).count()
        );
    }
}

#[derive(Debug, Default)]
struct Queue {
    state: Mutex<State>,
}

impl Queue {
    /// Locks the state. A panic while holding the lock cannot leave the
    /// counters half-updated in a way that matters more than the panic
    /// itself, so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What the writer knows of the backlog: as of its last push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Backlog {
    /// Entries waiting (not yet taken by the reader).
    pub(crate) len: usize,
    /// Bytes waiting.
    pub(crate) bytes: usize,
    /// Entries the reader has taken so far: its progress.
    pub(crate) taken: u64,
}

/// The result of a push.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued; the backlog after it.
    Queued(Backlog),
    /// The reader is gone; nothing was queued.
    ReaderGone,
}

/// The actor's end of a queue. Dropping it ends the queue, so a reader never
/// waits for a writer that no longer exists.
#[derive(Debug)]
pub(crate) struct QueueWriter {
    queue: Arc<Queue>,
}

/// The stream's end of a queue.
#[derive(Debug)]
pub(crate) struct QueueReader {
    queue: Arc<Queue>,
    /// The batch taken out of the queue in one lock, read without locking.
    batch: VecDeque<Entry>,
}

/// A new, empty queue.
pub(crate) fn queue() -> (QueueWriter, QueueReader) {
    let queue = Arc::new(Queue::default());
    (
        QueueWriter {
            queue: Arc::clone(&queue),
        },
        QueueReader {
            queue,
            batch: VecDeque::new(),
        },
    )
}

impl QueueWriter {
    /// Queues every entry of `batch` (emptying it) under one lock, and ends
    /// the queue after them when `last`. With `keep_rows`, the oldest data
    /// rows are dropped until at most that many wait (other entries are
    /// never dropped). A waker of a parked reader is put in `wake` for the
    /// caller to wake once its poll is over.
    pub(crate) fn push(
        &self,
        batch: &mut Vec<Entry>,
        last: bool,
        keep_rows: Option<usize>,
        wake: &mut Vec<Waker>,
    ) -> Pushed {
        let mut state = self.queue.lock();
        debug_assert!(!state.ended, "nothing is pushed after the end");
        if state.reader_gone {
            batch.clear();
            return Pushed::ReaderGone;
        }
        for entry in batch.drain(..) {
            Self::append(&mut state, entry);
        }
        if let Some(keep) = keep_rows {
            while state.rows > keep {
                let Some(at) = state.entries.iter().position(Entry::is_row) else {
                    break;
                };
                if let Some(old) = state.entries.remove(at) {
                    state.bytes -= old.bytes;
                    state.rows -= 1;
                }
            }
        }
        state.ended |= last;
        state.check();
        wake.extend(state.waker.take());
        Pushed::Queued(Backlog {
            len: state.entries.len(),
            bytes: state.bytes,
            taken: state.taken,
        })
    }

    fn append(state: &mut State, entry: Entry) {
        state.bytes += entry.bytes;
        state.rows += usize::from(entry.is_row());
        state.entries.push_back(entry);
    }

    /// Whether the stream was dropped: nothing pushed can ever be read.
    pub(crate) fn reader_gone(&self) -> bool {
        self.queue.lock().reader_gone
    }

    /// Queues an item that is not the end (a supervisor's gap marker),
    /// whatever the backlog, and wakes the reader. False if the reader is gone.
    pub(crate) fn push_marker(&self, item: Item) -> bool {
        let mut wake = Vec::new();
        let pushed = self.push(&mut vec![Entry { item, bytes: 0 }], false, None, &mut wake);
        wake.into_iter().for_each(Waker::wake);
        matches!(pushed, Pushed::Queued(_))
    }

    /// Ends the queue with `item` as its last entry (unless the reader is gone).
    pub(crate) fn end_with(&self, item: Item, wake: &mut Vec<Waker>) {
        let mut state = self.queue.lock();
        if !state.reader_gone && !state.ended {
            Self::append(&mut state, Entry { item, bytes: 0 });
        }
        state.ended = true;
        wake.extend(state.waker.take());
    }
}

impl Drop for QueueWriter {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.queue.lock();
            state.ended = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// What the reader found.
#[derive(Debug)]
pub(crate) enum Taken {
    Entry(Entry),
    /// Nothing now; the reader's waker is stored.
    Parked,
    /// Nothing, ever again.
    Ended,
}

impl QueueReader {
    /// The next entry: from the local batch, else the whole queue is taken
    /// as the new batch in one lock; parks with `waker` when there is none.
    pub(crate) fn take(&mut self, waker: &Waker) -> Taken {
        if let Some(entry) = self.batch.pop_front() {
            return Taken::Entry(entry);
        }
        let mut state = self.queue.lock();
        if state.entries.is_empty() {
            if state.ended {
                return Taken::Ended;
            }
            match &state.waker {
                Some(stored) if stored.will_wake(waker) => {}
                _ => state.waker = Some(waker.clone()),
            }
            return Taken::Parked;
        }
        std::mem::swap(&mut state.entries, &mut self.batch);
        state.taken += self.batch.len() as u64;
        state.bytes = 0;
        state.rows = 0;
        drop(state);
        match self.batch.pop_front() {
            Some(entry) => Taken::Entry(entry),
            None => Taken::Parked,
        }
    }

    /// Entries received and not read yet.
    pub(crate) fn unread(&self) -> usize {
        self.batch.len() + self.queue.lock().entries.len()
    }

    /// Bytes of the replies received and not read yet.
    pub(crate) fn unread_bytes(&self) -> usize {
        self.batch.iter().map(|e| e.bytes).sum::<usize>() + self.queue.lock().bytes
    }

    /// Whether an entry is ready without waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.batch.is_empty() && self.queue.lock().entries.is_empty()
    }
}

impl QueueReader {
    /// Marks the reader gone at once, as its drop does: a stream that
    /// sends a cancel does so first, so that the actor can tell a cancel by
    /// the command's own stream from one by another stream of its tag.
    pub(crate) fn leave(&mut self) {
        // Free what waits now, not when the actor next looks.
        let entries = {
            let mut state = self.queue.lock();
            state.reader_gone = true;
            state.bytes = 0;
            state.rows = 0;
            std::mem::take(&mut state.entries)
        };
        drop(entries);
    }
}

impl Drop for QueueReader {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::protocol::Sentence;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    const TAG: &str = ".tag=00000000-0000-4000-8000-000000000001";

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn row(n: usize) -> Entry {
        let value = format!("={n}=x");
        let sentence = Sentence::from_words(["!re", TAG, value.as_str()]);
        let bytes = sentence.payload_len();
        Entry {
            item: CommandResponse::parse(sentence).map_err(|e| Error::Protocol(e.error)),
            bytes,
        }
    }

    fn wake_all(wakes: &mut Vec<Waker>) -> usize {
        let n = wakes.len();
        wakes.drain(..).for_each(Waker::wake);
        n
    }

    #[test]
    fn a_parked_reader_is_woken_once_per_batch_and_a_draining_one_never() {
        let (writer, mut reader) = queue();
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        assert!(matches!(reader.take(&waker), Taken::Parked));
        let mut wakes = Vec::new();
        let mut batch: Vec<Entry> = (0..100).map(row).collect();
        writer.push(&mut batch, false, None, &mut wakes);
        assert_eq!(wake_all(&mut wakes), 1, "one wake-up for the whole batch");
        // The reader drains without parking: no more wake-ups while it does.
        for _ in 0..50 {
            assert!(matches!(reader.take(&waker), Taken::Entry(_)));
        }
        writer.push(&mut vec![row(100)], false, None, &mut wakes);
        assert_eq!(wake_all(&mut wakes), 0, "a draining reader is not woken");
        let mut read = 0;
        while let Taken::Entry(_) = reader.take(&waker) {
            read += 1;
        }
        assert_eq!(read, 51);
        drop(writer);
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "the end wakes it");
        assert!(matches!(reader.take(&waker), Taken::Ended));
    }

    #[test]
    fn replacing_the_oldest_row_keeps_other_replies() {
        let (writer, mut reader) = queue();
        let mut wakes = Vec::new();
        let trap = Sentence::from_words(["!trap", TAG, "=message=no"]);
        let trap = Entry {
            item: CommandResponse::parse(trap).map_err(|e| Error::Protocol(e.error)),
            bytes: 10,
        };
        writer.push(&mut vec![row(0), trap], false, None, &mut wakes);
        for n in 1..5 {
            writer.push(&mut vec![row(n)], false, Some(1), &mut wakes);
        }
        let waker = Waker::noop();
        let mut kinds = Vec::new();
        while let Taken::Entry(e) = reader.take(waker) {
            kinds.push(match e.item {
                Ok(CommandResponse::Reply(r)) => format!("re{}", r.attributes.get("4").is_some()),
                Ok(CommandResponse::Trap(_)) => "trap".to_owned(),
                other => format!("{other:?}"),
            });
        }
        assert_eq!(kinds, ["trap", "retrue"]);
    }

    #[test]
    fn a_gone_reader_frees_what_waits_and_refuses_more() {
        let (writer, reader) = queue();
        let mut wakes = Vec::new();
        writer.push(&mut vec![row(0)], false, None, &mut wakes);
        drop(reader);
        assert_eq!(
            writer.push(&mut vec![row(1)], false, None, &mut wakes),
            Pushed::ReaderGone
        );
        assert_eq!(writer.queue.lock().entries.len(), 0);
    }

    /// A model of the handoff over every interleaving proptest finds: the
    /// reader gets exactly what was pushed, in order; a parked reader is
    /// woken by the next push or the end, once; a draining one never.
    mod model {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Push,
            Take,
            /// The actor's end of a poll: wake who was collected.
            EndOfPoll,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => Just(Op::Push),
                3 => Just(Op::Take),
                1 => Just(Op::EndOfPoll),
            ]
        }

        proptest! {
            #[test]
            fn the_handoff_keeps_order_and_wakes_only_parked_readers(
                ops in proptest::collection::vec(op(), 0..200),
            ) {
                let (writer, mut reader) = queue();
                let counter = Arc::new(CountingWaker::default());
                let waker = Waker::from(Arc::clone(&counter));
                let mut wakes = Vec::new();
                let (mut pushed, mut read) = (0usize, 0usize);
                let mut parked = false;
                let mut woken = 0;
                for op in ops {
                    match op {
                        Op::Push => {
                            let before = wakes.len();
                            writer.push(&mut vec![row(pushed)], false, None, &mut wakes);
                            pushed += 1;
                            let expected = before + usize::from(parked);
                            prop_assert_eq!(wakes.len(), expected, "only a parked reader is woken");
                            parked = false;
                        }
                        Op::Take => match reader.take(&waker) {
                            Taken::Entry(entry) => {
                                let n: usize = match &entry.item {
                                    Ok(CommandResponse::Reply(r)) => {
                                        r.attributes.iter().next().unwrap().0.parse().unwrap()
                                    }
                                    other => panic!("{other:?}"),
                                };
                                prop_assert_eq!(n, read, "in order, nothing lost");
                                read += 1;
                            }
                            Taken::Parked => {
                                prop_assert_eq!(read, pushed, "parks only when all is read");
                                parked = true;
                            }
                            Taken::Ended => prop_assert!(false, "not ended yet"),
                        },
                        Op::EndOfPoll => {
                            woken += wakes.len();
                            wakes.drain(..).for_each(Waker::wake);
                        }
                    }
                }
                woken += wakes.len();
                wakes.drain(..).for_each(Waker::wake);
                prop_assert_eq!(counter.0.load(Ordering::SeqCst), woken);
                drop(writer);
                while let Taken::Entry(_) = reader.take(&waker) {
                    read += 1;
                }
                prop_assert_eq!(read, pushed);
                prop_assert!(matches!(reader.take(&waker), Taken::Ended));
            }
        }
    }
}
