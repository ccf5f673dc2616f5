//! A counting limit (an async semaphore) built on a bounded channel of
//! tokens, so it needs no runtime: whoever waits is woken by whoever returns
//! a token, under any executor.

use async_channel::{Receiver, Sender};

/// At most `n` holders of a [`Permit`] at once; waiters are served in turn.
#[derive(Debug)]
pub(crate) struct Limit {
    give_back: Sender<()>,
    take: Receiver<()>,
}

impl Limit {
    /// A limit of `n` (at least 1: a limit of 0 would never let anyone in).
    pub(crate) fn new(n: usize) -> Self {
        let n = n.max(1);
        let (give_back, take) = async_channel::bounded(n);
        for _ in 0..n {
            // Cannot fail: the channel holds exactly `n` and we keep both ends.
            let _ = give_back.try_send(());
        }
        Self { give_back, take }
    }

    /// Waits for a token; it returns when the permit is dropped.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        // We hold a sender, so the channel never closes and `recv` only waits.
        let _ = self.take.recv().await;
        Permit { limit: self }
    }
}

/// One token of a [`Limit`], given back on drop (also when the future that
/// held it is cancelled).
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limit: &'a Limit,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let _ = self.limit.give_back.try_send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[test]
    fn no_more_than_n_hold_a_permit_and_a_returned_one_lets_the_next_in() {
        let limit = Limit::new(2);
        let a = limit.acquire().now_or_never().expect("first");
        let _b = limit.acquire().now_or_never().expect("second");
        assert!(
            limit.acquire().now_or_never().is_none(),
            "a third must wait"
        );
        drop(a);
        assert!(limit.acquire().now_or_never().is_some());
    }

    #[test]
    fn a_limit_of_zero_still_admits_one() {
        let limit = Limit::new(0);
        assert!(limit.acquire().now_or_never().is_some());
    }
}
