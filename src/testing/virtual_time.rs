//! Virtual time: a [`Runtime`] whose clock moves only when a test says so.
//!
//! Everything time-driven in a connection (command deadlines, the
//! keepalive, the stall patience of a full buffer, the cancel patience, the
//! close linger, connect and login timeouts) reads the time and arms its
//! timers through the [`Runtime`]. Wrap any runtime in [`VirtualTime`] and
//! those events happen exactly when [`advance`](VirtualTime::advance) moves
//! the clock past them, however loaded the machine: a test asserts *what*
//! happens at a time, never how long the wall clock took.
//!
//! ```
//! # async fn demo() -> mikrotik_rs::Result<()> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use mikrotik_rs::MikrotikDevice;
//! use mikrotik_rs::runtime::default_runtime;
//! use mikrotik_rs::testing::{MockRouter, VirtualTime};
//!
//! let router = MockRouter::start();
//! let time = VirtualTime::new(default_runtime().unwrap());
//! let device = MikrotikDevice::builder(router.address())
//!     .runtime(Arc::new(time.clone()))
//!     .connect()
//!     .await?;
//! time.advance(Duration::from_secs(3600)); // an hour passes, in no time
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::{BoxFuture, BoxedStream, Runtime, Timer};

/// A runtime whose clock only moves with [`advance`](Self::advance).
/// Spawning and sockets are the wrapped runtime's. Clones share the clock.
#[derive(Clone)]
pub struct VirtualTime {
    inner: Arc<dyn Runtime>,
    clock: Arc<Clock>,
}

#[derive(Debug)]
struct Clock {
    state: Mutex<ClockState>,
}

#[derive(Debug)]
struct ClockState {
    now: Instant,
    /// Wakers of timers waiting for the clock, woken at every advance.
    waiting: Vec<Waker>,
}

impl Clock {
    fn lock(&self) -> MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for VirtualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualTime")
            .field("inner", &self.inner)
            .field("now", &self.now())
            .finish()
    }
}

impl VirtualTime {
    /// Virtual time over `inner`, starting at the real time now.
    pub fn new(inner: Arc<dyn Runtime>) -> Self {
        Self {
            inner,
            clock: Arc::new(Clock {
                state: Mutex::new(ClockState {
                    now: Instant::now(),
                    waiting: Vec::new(),
                }),
            }),
        }
    }

    /// Moves the clock forward by `by` and wakes every timer, so those that
    /// are due fire.
    pub fn advance(&self, by: Duration) {
        let waiting = {
            let mut state = self.clock.lock();
            state.now = state.now.checked_add(by).unwrap_or(state.now);
            std::mem::take(&mut state.waiting)
        };
        waiting.into_iter().for_each(Waker::wake);
    }

    /// The virtual time now.
    pub fn now(&self) -> Instant {
        self.clock.lock().now
    }
}

#[derive(Debug)]
struct VirtualTimer {
    clock: Arc<Clock>,
    deadline: Instant,
}

impl Timer for VirtualTimer {
    fn reset(mut self: Pin<&mut Self>, deadline: Instant) {
        self.deadline = deadline;
    }

    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.clock.lock();
        if state.now >= self.deadline {
            return Poll::Ready(());
        }
        if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Runtime for VirtualTime {
    fn spawn(&self, future: BoxFuture) {
        self.inner.spawn(future);
    }

    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        Box::pin(VirtualTimer {
            clock: Arc::clone(&self.clock),
            deadline,
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<BoxedStream>> {
        self.inner.connect(addr)
    }

    fn now(&self) -> Instant {
        VirtualTime::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::AsyncIoRuntime;

    #[test]
    fn timers_fire_when_the_clock_passes_them_and_not_before() {
        let time = VirtualTime::new(Arc::new(AsyncIoRuntime::new()));
        let start = time.now();
        let mut timer = time.timer(start + Duration::from_secs(10));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(timer.as_mut().poll_expired(&mut cx).is_pending());
        time.advance(Duration::from_secs(9));
        assert!(timer.as_mut().poll_expired(&mut cx).is_pending());
        time.advance(Duration::from_secs(1));
        assert!(timer.as_mut().poll_expired(&mut cx).is_ready());
        timer.as_mut().reset(time.now() + Duration::from_secs(5));
        assert!(timer.as_mut().poll_expired(&mut cx).is_pending());
        assert_eq!(time.now(), start + Duration::from_secs(10));
    }
}
