//! Command deadlines: a min-heap of when each command with a timeout expires.
//!
//! Entries of commands that finished before their deadline are not removed
//! one by one (a heap cannot), but skipped when they surface, and the heap is
//! compacted whenever it holds mostly such dead entries, so a million short
//! commands with a long timeout do not keep a million entries alive.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Compaction happens only above this many entries.
const COMPACT_ABOVE: usize = 64;

#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// When, whose (its tag, and where its bytes were queued: a tag is
    /// free again once its command ends, and a later command may carry it,
    /// never its deadline), and the timeout.
    heap: BinaryHeap<Reverse<(Instant, Uuid, Duration, u64)>>,
}

impl Deadlines {
    /// Adds the deadline of `tag` (whose bytes were queued at `queued`),
    /// `after` from `now`. One too far away to be represented is no
    /// deadline at all.
    pub(crate) fn add(&mut self, now: Instant, tag: Uuid, after: Duration, queued: u64) {
        if let Some(at) = now.checked_add(after) {
            self.heap.push(Reverse((at, tag, after, queued)));
        }
    }

    /// Takes the next deadline that has passed by `now`: its tag, timeout,
    /// and where that command's bytes were queued.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(Uuid, Duration, u64)> {
        match self.heap.peek() {
            Some(Reverse((at, ..))) if *at <= now => self
                .heap
                .pop()
                .map(|Reverse((_, tag, after, queued))| (tag, after, queued)),
            _ => None,
        }
    }

    /// When the next deadline passes.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, ..))| *at)
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Drops the entries of finished commands once they are more than half
    /// the heap. `live` is an upper bound of the commands still running;
    /// `is_live` tells one of them. Amortised O(1) per added deadline.
    pub(crate) fn compact(&mut self, live: usize, is_live: impl Fn(&Uuid) -> bool) {
        if self.heap.len() > COMPACT_ABOVE && self.heap.len() > live.saturating_mul(2) {
            self.heap.retain(|Reverse((_, tag, ..))| is_live(tag));
            if self.heap.capacity() > self.heap.len().saturating_mul(4).max(COMPACT_ABOVE) {
                self.heap.shrink_to(self.heap.len().max(COMPACT_ABOVE));
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_deadline_too_far_away_is_none() {
        let mut deadlines = Deadlines::default();
        deadlines.add(Instant::now(), Uuid::new_v4(), Duration::MAX, 0);
        assert!(deadlines.is_empty());
        assert_eq!(deadlines.next(), None);
    }

    #[test]
    fn finished_commands_do_not_keep_their_entries() {
        let mut deadlines = Deadlines::default();
        let now = Instant::now();
        let mut running = HashSet::new();
        for i in 0..1_000_000u32 {
            let tag = Uuid::from_u128(u128::from(i) + 1);
            running.insert(tag);
            deadlines.add(now, tag, Duration::from_secs(3600), 0);
            // Every command but every thousandth finishes at once.
            if i % 1000 != 0 {
                running.remove(&tag);
            }
            deadlines.compact(running.len(), |t| running.contains(t));
        }
        assert_eq!(running.len(), 1000);
        assert!(
            deadlines.len() <= 2 * running.len() + COMPACT_ABOVE + 1,
            "{} entries for {} running commands",
            deadlines.len(),
            running.len()
        );
        assert!(deadlines.heap.capacity() <= 8 * running.len().max(COMPACT_ABOVE));
    }

    #[test]
    fn expired_deadlines_come_out_in_order() {
        let mut deadlines = Deadlines::default();
        let now = Instant::now();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        deadlines.add(now, b, Duration::from_secs(2), 20);
        deadlines.add(now, a, Duration::from_secs(1), 10);
        assert_eq!(deadlines.pop_expired(now), None);
        let later = now + Duration::from_secs(3);
        assert_eq!(
            deadlines.pop_expired(later),
            Some((a, Duration::from_secs(1), 10))
        );
        assert_eq!(
            deadlines.pop_expired(later),
            Some((b, Duration::from_secs(2), 20))
        );
        assert_eq!(deadlines.pop_expired(later), None);
    }
}
