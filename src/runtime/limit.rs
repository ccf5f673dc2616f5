//! A counting limit (an async semaphore) built on a bounded channel of
//! tokens, so it needs no runtime: whoever waits is woken by whoever returns
//! a token, under any executor. A fleet's connect limit is one, shared by
//! its first logins and by every reconnect of its devices.

use std::sync::{Arc, Mutex};

use async_channel::{Receiver, Sender};

/// At most `n` holders of an [`OwnedPermit`] at once; waiters are served in turn.
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
    pub(crate) async fn acquire_owned(self: Arc<Self>) -> OwnedPermit {
        // We hold a sender, so the channel never closes and `recv` only waits.
        let _ = self.take.recv().await;
        OwnedPermit { limit: self }
    }
}

/// One token of a [`Limit`], given back on drop (also when the future that
/// held it is cancelled).
#[derive(Debug)]
pub(crate) struct OwnedPermit {
    limit: Arc<Limit>,
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        let _ = self.limit.give_back.try_send(());
    }
}

/// A connect slot shared by whoever opens a connection under it and by the
/// connection itself: given back when the login succeeds
/// ([`release`](Self::release)) or, failing that, when the last holder is
/// gone, which the connection is only once its socket is closed. So a
/// login that failed or ran out of time keeps its slot until its socket is
/// closed, and the limit bounds open sockets, not only logins.
#[derive(Debug, Clone)]
pub(crate) struct ConnectSlot(Arc<Mutex<Option<OwnedPermit>>>);

impl ConnectSlot {
    pub(crate) fn new(permit: OwnedPermit) -> Self {
        Self(Arc::new(Mutex::new(Some(permit))))
    }

    /// The login succeeded: the slot is free for the next connect.
    pub(crate) fn release(&self) {
        let permit = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(permit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn take(limit: &Arc<Limit>) -> Option<OwnedPermit> {
        Arc::clone(limit).acquire_owned().now_or_never()
    }

    #[test]
    fn no_more_than_n_hold_a_permit_and_a_returned_one_lets_the_next_in() {
        let limit = Arc::new(Limit::new(2));
        let a = take(&limit).expect("first");
        let _b = take(&limit).expect("second");
        assert!(take(&limit).is_none(), "a third must wait");
        drop(a);
        assert!(take(&limit).is_some());
    }

    #[test]
    fn a_limit_of_zero_still_admits_one() {
        let limit = Arc::new(Limit::new(0));
        assert!(take(&limit).is_some());
    }

    #[test]
    fn a_slot_is_free_once_released_or_once_every_holder_is_gone() {
        let limit = Arc::new(Limit::new(1));
        let slot = ConnectSlot::new(take(&limit).unwrap());
        let held_by_the_connection = slot.clone();
        drop(slot);
        assert!(take(&limit).is_none(), "the connection still holds it");
        drop(held_by_the_connection);
        let slot = ConnectSlot::new(take(&limit).expect("free once all are gone"));
        let _kept = slot.clone();
        slot.release();
        assert!(take(&limit).is_some(), "free once the login released it");
    }
}
