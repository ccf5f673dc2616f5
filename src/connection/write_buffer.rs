//! The actor's write buffer: commands wait here until the stream takes them.
//!
//! A command cancelled before any of its bytes reached the stream is taken
//! back ([`WriteBuffer::withdraw`]): skipped at once at the front, else
//! remembered as a hole that writing skips. Offsets (`queued_total`,
//! `taken_total`) only grow and never move, so the driver's records of where
//! each command was queued stay true, and one offset never names two
//! commands.
//!
//! A login command carries a password. Whenever the buffer holds one, it is
//! wiped after writing, on drop, and before any reallocation frees a copy:
//! growth moves the bytes into a new allocation by hand and wipes the old
//! one, instead of letting `Vec` free it unwiped.

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncWrite;

use crate::Error;
use crate::observe::Counters;

/// Above this capacity an emptied buffer is freed instead of kept.
const KEEP_CAPACITY: usize = 256 << 10;

#[derive(Debug, Default)]
pub(crate) struct WriteBuffer {
    buf: Vec<u8>,
    /// `buf[..written]` is already written (or withdrawn).
    written: usize,
    needs_flush: bool,
    /// `buf` holds a secret: wipe it before it is freed or reused.
    sensitive: bool,
    /// Bytes ever queued, and ever taken by the stream or skipped as
    /// withdrawn: a sentence queued at
    /// offset `q` and not withdrawn has reached the socket in part once
    /// `taken > q`. `buf[0]` is at offset `queued_total - buf.len()`.
    queued_total: u64,
    taken_total: u64,
    /// Withdrawn ranges (as offsets) in the middle of what is not written
    /// yet: sorted, disjoint, each after `taken_total`; writing skips them.
    /// Empty unless commands were cancelled while queued behind others.
    holes: VecDeque<Range<u64>>,
}

impl WriteBuffer {
    /// Bytes queued and not written yet.
    pub(crate) fn unwritten(&self) -> usize {
        self.buf.len() - self.written
    }

    /// The offset the next queued byte will have (see `taken_total`).
    pub(crate) fn queued_total(&self) -> u64 {
        self.queued_total
    }

    /// How many bytes the stream has taken so far.
    pub(crate) fn taken_total(&self) -> u64 {
        self.taken_total
    }

    /// Takes back the queued bytes at `range` (offsets as
    /// [`queued_total`](Self::queued_total)) if none of them has reached
    /// the stream: they are never written. False (nothing changes) if any
    /// was taken already, or withdrawn already, or the range is not queued.
    pub(crate) fn withdraw(&mut self, range: Range<u64>) -> bool {
        if range.start < self.taken_total || range.end > self.queued_total || range.is_empty() {
            return false;
        }
        if range.start == self.taken_total {
            // At the front: skipped at once.
            self.skip_to(range.end);
        } else {
            let at = self.holes.partition_point(|h| h.start < range.start);
            let overlaps = self.holes.get(at).is_some_and(|h| h.start < range.end)
                || at > 0 && self.holes[at - 1].end > range.start;
            if overlaps {
                return false;
            }
            self.holes.insert(at, range);
        }
        self.check();
        true
    }

    /// Marks everything up to offset `at` as gone without writing it, and
    /// the holes that start there too.
    fn skip_to(&mut self, at: u64) {
        self.written += (at - self.taken_total) as usize;
        self.taken_total = at;
        while let Some(hole) = self.holes.front()
            && hole.start == self.taken_total
        {
            let end = hole.end;
            self.holes.pop_front();
            self.written += (end - self.taken_total) as usize;
            self.taken_total = end;
        }
    }

    fn check(&self) {
        debug_assert!(self.written <= self.buf.len());
        debug_assert_eq!(
            self.taken_total + (self.buf.len() - self.written) as u64,
            self.queued_total,
            "offsets and buffer agree"
        );
        debug_assert!(
            self.holes
                .front()
                .is_none_or(|h| h.start > self.taken_total)
                && self.holes.back().is_none_or(|h| h.end <= self.queued_total),
            "holes lie after what is written, inside what is queued"
        );
    }

    /// Queues `bytes`; `sensitive` when they carry a secret.
    pub(crate) fn push(&mut self, bytes: &[u8], sensitive: bool) {
        self.queued_total += bytes.len() as u64;
        self.sensitive |= sensitive;
        if self.sensitive && self.buf.capacity() - self.buf.len() < bytes.len() {
            drop(grow_wiping(&mut self.buf, bytes.len()));
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Writes what is queued, then flushes. `Ok(true)` when anything moved.
    /// Bytes written are added to `counters`.
    pub(crate) fn poll_write<S: AsyncWrite + Unpin>(
        &mut self,
        io: &mut S,
        cx: &mut Context<'_>,
        counters: &Counters,
    ) -> Result<bool, Error> {
        let mut progress = false;
        while self.written < self.buf.len() {
            // Up to the next hole, which is skipped once reached.
            let until = match self.holes.front() {
                Some(hole) if hole.start == self.taken_total => {
                    let end = hole.end;
                    self.holes.pop_front();
                    self.skip_to(end);
                    continue;
                }
                Some(hole) => self.written + (hole.start - self.taken_total) as usize,
                None => self.buf.len(),
            };
            match Pin::new(&mut *io).poll_write(cx, &self.buf[self.written..until]) {
                Poll::Ready(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    self.taken_total += n as u64;
                    counters.sent(n);
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(progress),
            }
        }
        if !self.buf.is_empty() {
            debug_assert!(self.holes.is_empty(), "every hole was skipped");
            self.wipe_if_sensitive();
            self.written = 0;
            self.buf.clear();
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf = Vec::new();
            }
            self.needs_flush = true;
        }
        if self.needs_flush {
            match Pin::new(&mut *io).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.needs_flush = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    fn wipe_if_sensitive(&mut self) {
        if std::mem::take(&mut self.sensitive) {
            wipe(&mut self.buf);
        }
    }
}

impl Drop for WriteBuffer {
    fn drop(&mut self) {
        self.wipe_if_sensitive();
    }
}

/// Overwrites every byte of `buf` (its length, which is all that was ever
/// written into it since the last wipe).
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    // Keep the compiler from dropping the writes as dead stores.
    std::hint::black_box(&buf);
}

/// Moves `buf` into a new allocation with room for `additional` more bytes;
/// returns the old allocation, wiped, for the caller to drop.
fn grow_wiping(buf: &mut Vec<u8>, additional: usize) -> Vec<u8> {
    let needed = buf.len().saturating_add(additional);
    let mut grown = Vec::with_capacity(needed.max(buf.capacity().saturating_mul(2)));
    grown.extend_from_slice(buf);
    let mut old = std::mem::replace(buf, grown);
    wipe(&mut old);
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that takes at most `budget` bytes, then is not ready.
    #[derive(Default)]
    struct Budgeted {
        taken: Vec<u8>,
        budget: usize,
    }

    impl AsyncWrite for Budgeted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.budget);
            if n == 0 {
                return Poll::Pending;
            }
            self.budget -= n;
            self.taken.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Queues each of `parts`, returning their ranges.
    fn queue(write: &mut WriteBuffer, parts: &[&[u8]]) -> Vec<Range<u64>> {
        parts
            .iter()
            .map(|part| {
                let at = write.queued_total();
                write.push(part, false);
                at..write.queued_total()
            })
            .collect()
    }

    /// Writes what `budget` allows; only bytes written are counted as sent.
    fn write_some(write: &mut WriteBuffer, io: &mut Budgeted, budget: usize) {
        io.budget = budget;
        let before = io.taken.len();
        let counters = Counters::default();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        write.poll_write(io, &mut cx, &counters).unwrap();
        let sent = (io.taken.len() - before) as u64;
        assert_eq!(counters.snapshot().bytes_sent, sent);
    }

    #[test]
    fn withdrawn_bytes_are_never_written_wherever_they_wait() {
        let mut write = WriteBuffer::default();
        let mut io = Budgeted::default();
        let r = queue(&mut write, &[b"aa", b"HEAD", b"bb", b"MID", b"cc", b"TAIL"]);
        write_some(&mut write, &mut io, 2);
        assert_eq!(io.taken, b"aa");
        // At the front, in the middle, at the end: each is taken back.
        assert!(write.withdraw(r[1].clone()));
        assert!(write.withdraw(r[3].clone()));
        assert!(write.withdraw(r[5].clone()));
        assert_eq!(write.holes.len(), 2, "the front one is skipped at once");
        assert!(!write.withdraw(r[3].clone()), "withdrawn once");
        assert!(!write.withdraw(r[1].clone()), "skipped already");
        // Offsets only grow: what follows never reuses a withdrawn one.
        let next = queue(&mut write, &[b"dd"]);
        assert_eq!(next[0].start, r[5].end);
        write_some(&mut write, &mut io, usize::MAX);
        assert_eq!(io.taken, b"aabbccdd");
        assert_eq!(write.taken_total(), write.queued_total());
        assert!(write.holes.is_empty());
    }

    #[test]
    fn bytes_partly_written_are_not_withdrawn() {
        let mut write = WriteBuffer::default();
        let mut io = Budgeted::default();
        let r = queue(&mut write, &[b"first", b"second"]);
        write_some(&mut write, &mut io, 3);
        assert!(!write.withdraw(r[0].clone()), "in part on the wire");
        assert!(!write.withdraw(r[0].start..r[0].start), "nothing to take");
        assert!(!write.withdraw(r[1].start..r[1].end + 1), "not all queued");
        write_some(&mut write, &mut io, usize::MAX);
        assert_eq!(io.taken, b"firstsecond");
        assert!(!write.withdraw(r[1].clone()), "written");
    }

    #[test]
    fn holes_next_to_each_other_and_at_the_end_are_all_skipped() {
        let mut write = WriteBuffer::default();
        let mut io = Budgeted::default();
        let r = queue(&mut write, &[b"a", b"X", b"Y", b"b", b"Z", b"W"]);
        write_some(&mut write, &mut io, 0);
        // Out of order and touching, up to the end.
        for i in [2, 1, 5, 4] {
            assert!(write.withdraw(r[i].clone()));
        }
        assert_eq!(write.holes.len(), 4);
        assert!(!write.withdraw(r[1].start..r[2].end), "overlaps holes");
        // Written byte by byte, each hole is skipped where it starts.
        for _ in 0..2 {
            write_some(&mut write, &mut io, 1);
        }
        assert_eq!(io.taken, b"ab");
        assert!(write.holes.is_empty());
        assert_eq!(write.taken_total(), write.queued_total());
        write_some(&mut write, &mut io, 1);
        assert!(
            write.buf.is_empty(),
            "emptied once all is written or skipped"
        );
    }

    #[test]
    fn growth_with_a_secret_wipes_the_old_allocation() {
        let mut buf = Vec::with_capacity(8);
        buf.extend_from_slice(b"password");
        let old = grow_wiping(&mut buf, 100);
        assert_eq!(buf, b"password");
        assert!(buf.capacity() >= 108);
        assert_eq!(old, [0; 8], "the freed copy holds no secret");
    }

    #[test]
    fn a_sensitive_push_never_lets_vec_reallocate_by_itself() {
        let mut write = WriteBuffer::default();
        write.push(&[1; 10], false);
        write.push(b"secret", true);
        for _ in 0..100 {
            let before = write.buf.as_ptr();
            let spare = write.buf.capacity() - write.buf.len();
            write.push(b"more-secret-bytes", false);
            if spare >= 17 {
                assert_eq!(before, write.buf.as_ptr(), "no hidden reallocation");
            }
        }
        assert!(write.sensitive);
    }

    /// A model over every sequence proptest finds of queueing, writing a
    /// few bytes and withdrawing: the stream gets exactly the bytes of the
    /// sentences not withdrawn, in order; a withdrawal succeeds exactly
    /// when no byte of its sentence was taken; offsets stay true.
    mod model {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Queue(u8),
            Write(usize),
            /// Withdraw the sentence at this index (modulo those queued).
            Withdraw(usize),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => (1u8..20).prop_map(Op::Queue),
                2 => (0usize..40).prop_map(Op::Write),
                2 => any::<usize>().prop_map(Op::Withdraw),
            ]
        }

        struct Sentence {
            bytes: Vec<u8>,
            range: Range<u64>,
            withdrawn: bool,
        }

        proptest! {
            #[test]
            fn the_stream_gets_exactly_what_was_not_withdrawn(
                ops in proptest::collection::vec(op(), 0..120),
            ) {
                let mut write = WriteBuffer::default();
                let mut io = Budgeted::default();
                let mut sentences: Vec<Sentence> = Vec::new();
                for op in ops {
                    match op {
                        Op::Queue(len) => {
                            let n = sentences.len() as u8;
                            let bytes = vec![n; usize::from(len)];
                            let at = write.queued_total();
                            write.push(&bytes, false);
                            let range = at..write.queued_total();
                            sentences.push(Sentence { bytes, range, withdrawn: false });
                        }
                        Op::Write(budget) => write_some(&mut write, &mut io, budget),
                        Op::Withdraw(i) if !sentences.is_empty() => {
                            let i = i % sentences.len();
                            // Bytes the stream took of what was not withdrawn.
                            let before: usize = sentences[..i]
                                .iter()
                                .filter(|s| !s.withdrawn)
                                .map(|s| s.bytes.len())
                                .sum();
                            let untouched = !sentences[i].withdrawn && io.taken.len() <= before;
                            let withdrawn = write.withdraw(sentences[i].range.clone());
                            prop_assert_eq!(withdrawn, untouched, "sentence {}", i);
                            sentences[i].withdrawn |= withdrawn;
                        }
                        Op::Withdraw(_) => {}
                    }
                    write.check();
                }
                write_some(&mut write, &mut io, usize::MAX);
                let expected: Vec<u8> = sentences
                    .iter()
                    .filter(|s| !s.withdrawn)
                    .flat_map(|s| s.bytes.iter().copied())
                    .collect();
                prop_assert_eq!(&io.taken, &expected);
                prop_assert_eq!(write.taken_total(), write.queued_total());
                prop_assert!(write.holes.is_empty());
            }
        }
    }
}
