//! `ConnectionState`: what a device's link to its router is doing, readable
//! at any time and as a stream of changes.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::Stream;

use crate::Error;
use crate::connection::Shared;
use crate::runtime::{BoxFuture, Waiters};

/// The state of a device's link to its router.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Logged in; commands go out at once.
    Connected,
    /// The connection was lost; commands wait for the next one.
    Reconnecting {
        /// The attempt about to be made (1 for the first after the loss).
        attempt: u32,
        /// Why the connection was lost, or why the last attempt failed.
        last_error: Error,
        /// The backoff before this attempt (zero: it is being made now).
        next_attempt_in: Duration,
    },
    /// Final: nothing more will be sent. Commands fail with this error.
    Closed {
        /// Why: the policy gave up ([`Error::GaveUp`]), a login was refused
        /// ([`Error::Authentication`]), or every handle was dropped
        /// ([`Error::Closed`]).
        error: Error,
    },
}

impl ConnectionState {
    /// Whether this is [`Connected`](Self::Connected).
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected)
    }

    /// Whether this is [`Closed`](Self::Closed).
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed { .. })
    }
}

/// The current state, its version, and the watchers waiting for a change.
#[derive(Debug)]
pub(crate) struct StateCell {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: ConnectionState,
    version: u64,
    waiting: Waiters,
}

impl StateCell {
    pub(crate) fn new(state: ConnectionState) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state,
                version: 0,
                waiting: Waiters::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self) -> ConnectionState {
        self.lock().state.clone()
    }

    /// Replaces the state (a closed state is final and stays) and wakes every watcher.
    pub(crate) fn set(&self, state: ConnectionState) {
        let waiting = {
            let mut inner = self.lock();
            if inner.state.is_closed() {
                return;
            }
            inner.state = state;
            inner.version += 1;
            inner.waiting.take()
        };
        waiting.into_iter().for_each(Waker::wake);
    }
}

/// The changes of a device's [`ConnectionState`], from the current one on:
/// made by [`MikrotikDevice::state_changes`](crate::MikrotikDevice::state_changes).
///
/// A watcher that falls behind skips to the latest state (it never sees a
/// stale one after a newer one, and never misses the final
/// [`Closed`](ConnectionState::Closed), after which the stream ends).
pub struct StateChanges {
    cell: Arc<StateCell>,
    /// Its waker's key in the cell, taken back when it is dropped.
    key: u64,
    seen: Option<u64>,
    ended: bool,
    /// A device without a supervisor: the end of its one connection, which
    /// closes the cell (the actor's published state, not a handle, so that
    /// watching never keeps the connection open).
    direct: Option<(Arc<Shared>, BoxFuture)>,
}

impl fmt::Debug for StateChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateChanges")
            .field("state", &self.cell.get())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl StateChanges {
    pub(crate) fn new(cell: Arc<StateCell>) -> Self {
        let key = cell.lock().waiting.key();
        Self {
            cell,
            key,
            seen: None,
            ended: false,
            direct: None,
        }
    }

    /// The states of one connection: connected, then closed when it ends.
    pub(crate) fn direct(shared: Arc<Shared>) -> Self {
        let ended = Box::pin(shared.ended());
        let mut changes = Self::new(Arc::new(StateCell::new(ConnectionState::Connected)));
        changes.direct = Some((shared, ended));
        changes
    }

    /// The next state, or `None` after [`Closed`](ConnectionState::Closed).
    pub async fn recv(&mut self) -> Option<ConnectionState> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for StateChanges {
    type Item = ConnectionState;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConnectionState>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if let Some((shared, ended)) = &mut self.direct
            && ended.as_mut().poll(cx).is_ready()
        {
            let error = shared.failure().cloned().unwrap_or(Error::Closed);
            self.direct = None;
            self.cell.set(ConnectionState::Closed { error });
        }
        let mut inner = self.cell.lock();
        if self.seen == Some(inner.version) {
            inner.waiting.register(self.key, cx.waker());
            return Poll::Pending;
        }
        let state = inner.state.clone();
        let version = inner.version;
        drop(inner);
        self.seen = Some(version);
        self.ended = state.is_closed();
        Poll::Ready(Some(state))
    }
}

/// A watcher that gives up takes its waker back (see `Waiters`).
impl Drop for StateChanges {
    fn drop(&mut self) {
        self.cell.lock().waiting.remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_sees_the_current_state_then_the_latest_and_ends_after_closed() {
        let cell = Arc::new(StateCell::new(ConnectionState::Connected));
        let mut changes = StateChanges::new(Arc::clone(&cell));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut next = || Pin::new(&mut changes).poll_next(&mut cx);
        assert!(matches!(
            next(),
            Poll::Ready(Some(ConnectionState::Connected))
        ));
        assert!(next().is_pending());
        for attempt in 1..=3 {
            cell.set(ConnectionState::Reconnecting {
                attempt,
                last_error: Error::Closed,
                next_attempt_in: Duration::ZERO,
            });
        }
        assert!(matches!(
            next(),
            Poll::Ready(Some(ConnectionState::Reconnecting { attempt: 3, .. }))
        ));
        cell.set(ConnectionState::Closed {
            error: Error::Closed,
        });
        cell.set(ConnectionState::Connected);
        assert!(matches!(
            next(),
            Poll::Ready(Some(ConnectionState::Closed { .. }))
        ));
        assert!(matches!(next(), Poll::Ready(None)));
        assert!(cell.get().is_closed(), "closed is final");
    }
}
