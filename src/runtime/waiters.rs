//! The wakers of whoever waits for one event, each under its own key, so
//! that a waiter that gives up (a dropped watcher, a timed-out wait) takes
//! its waker back: a long quiet wait with waiters that come and go would
//! otherwise keep every one of them, and the task each wakes, until the
//! event.

use std::task::Waker;

/// Registered wakers, at most one per key.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    next_key: u64,
    waiting: Vec<(u64, Waker)>,
}

impl Waiters {
    /// A key of its own for a new waiter.
    pub(crate) fn key(&mut self) -> u64 {
        self.next_key = self.next_key.wrapping_add(1);
        self.next_key
    }

    /// Makes `waker` the one woken for `key` (replacing its earlier one).
    pub(crate) fn register(&mut self, key: u64, waker: &Waker) {
        match self.waiting.iter_mut().find(|(k, _)| *k == key) {
            Some((_, stored)) if stored.will_wake(waker) => {}
            Some((_, stored)) => stored.clone_from(waker),
            None => self.waiting.push((key, waker.clone())),
        }
    }

    /// The waiter of `key` gave up: its waker goes.
    pub(crate) fn remove(&mut self, key: u64) {
        self.waiting.retain(|(k, _)| *k != key);
    }

    /// Every registered waker, to wake once the lock is released.
    pub(crate) fn take(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.waiting)
            .into_iter()
            .map(|(_, waker)| waker)
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Nothing;
    impl std::task::Wake for Nothing {
        fn wake(self: Arc<Self>) {}
    }

    #[test]
    fn one_waker_per_key_and_a_removed_key_keeps_none() {
        let mut waiters = Waiters::default();
        let (a, b) = (waiters.key(), waiters.key());
        let waker = Waker::from(Arc::new(Nothing));
        waiters.register(a, &waker);
        waiters.register(a, &Waker::from(Arc::new(Nothing)));
        waiters.register(b, &waker);
        assert_eq!(waiters.len(), 2);
        waiters.remove(a);
        assert_eq!(waiters.len(), 1);
        assert_eq!(waiters.take().len(), 1);
        assert_eq!(waiters.len(), 0);
    }
}
