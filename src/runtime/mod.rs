//! What the connection needs from an async runtime: spawning, timers and TCP.
//!
//! The connection actor itself knows no runtime; it reaches time and spawning
//! through [`Runtime`]. Each implementation lives in its own file behind its own
//! feature, and all may be enabled at once.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};

#[cfg(feature = "async-io")]
mod async_io;
#[cfg(feature = "async-io")]
mod executor;
mod limit;
#[cfg(feature = "tokio")]
mod tokio;
mod waiters;
mod watched;

#[cfg(feature = "async-io")]
pub use self::async_io::AsyncIoRuntime;
#[cfg(feature = "async-io")]
pub use self::executor::BackgroundExecutor;
// Only the mock router runs a pool of futures on a thread of its own.
#[cfg(feature = "testing")]
pub(crate) use self::executor::run_all;
pub(crate) use self::limit::{ConnectSlot, Limit};
#[cfg(feature = "tokio")]
pub use self::tokio::TokioRuntime;
pub(crate) use self::waiters::Waiters;
pub(crate) use self::watched::{OnRead, Watched};

/// A boxed future that a [`Runtime`] can spawn.
pub type BoxFuture<T = ()> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A byte stream the connection can run over: plain TCP, TLS, or anything else.
pub trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncStream for T {}

/// A boxed [`AsyncStream`].
pub type BoxedStream = Box<dyn AsyncStream>;

/// Runs futures in the background. Any `Fn(BoxFuture)` closure is a spawner,
/// e.g. `|f| { smol::spawn(f).detach(); }`.
pub trait Spawn: Send + Sync + 'static {
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture);
}

impl<F: Fn(BoxFuture) + Send + Sync + 'static> Spawn for F {
    fn spawn(&self, future: BoxFuture) {
        self(future)
    }
}

/// A timer that can be moved to a new deadline without reallocating
/// (keepalives and command deadlines reset it constantly).
pub trait Timer: Send + Sync + fmt::Debug {
    /// Moves the deadline.
    fn reset(self: Pin<&mut Self>, deadline: Instant);
    /// Ready once the deadline has passed.
    fn poll_expired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// Spawning, timers and TCP connections of one async runtime.
pub trait Runtime: Send + Sync + fmt::Debug + 'static {
    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture);
    /// A timer that fires at `deadline`.
    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>>;
    /// Opens a TCP connection with `TCP_NODELAY` and, where possible, TCP keepalive on.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<BoxedStream>>;
    /// The time now. Connections read the time only through this, so that a
    /// runtime with a virtual clock (tests) drives deadlines, keepalives and
    /// backoff without waiting for them.
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A runtime whose spawning is replaced by a user's spawner.
#[derive(Clone)]
pub(crate) struct WithSpawner {
    pub(crate) inner: Arc<dyn Runtime>,
    pub(crate) spawner: Arc<dyn Spawn>,
}

impl fmt::Debug for WithSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithSpawner")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Runtime for WithSpawner {
    fn spawn(&self, future: BoxFuture) {
        self.spawner.spawn(future);
    }
    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        self.inner.timer(deadline)
    }
    fn connect(&self, addr: SocketAddr) -> BoxFuture<io::Result<BoxedStream>> {
        self.inner.connect(addr)
    }
    fn now(&self) -> Instant {
        self.inner.now()
    }
}

/// The runtime to use when none is given: Tokio when a Tokio runtime is
/// current (and the `tokio` feature is on), otherwise async-io.
pub fn default_runtime() -> Option<Arc<dyn Runtime>> {
    #[cfg(feature = "tokio")]
    if let Some(runtime) = TokioRuntime::current() {
        return Some(Arc::new(runtime));
    }
    #[cfg(feature = "async-io")]
    return Some(Arc::new(AsyncIoRuntime::new()));
    #[allow(unreachable_code)]
    None
}

/// Turns on `TCP_NODELAY` (commands are small and latency-bound) and TCP
/// keepalive (a cut link is noticed by the kernel even when the
/// application keepalive is off).
#[cfg_attr(not(any(feature = "tokio", feature = "async-io")), allow(dead_code))]
pub(crate) fn tune_socket<'s>(socket: impl Into<socket2::SockRef<'s>>) -> io::Result<()> {
    let socket = socket.into();
    socket.set_tcp_nodelay(true)?;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(std::time::Duration::from_secs(60))
        .with_interval(std::time::Duration::from_secs(10));
    // Keepalive tuning is best effort: some platforms lack some knobs.
    let _ = socket.set_tcp_keepalive(&keepalive);
    Ok(())
}

/// The instant `timeout` from now, or `None` when that lies beyond what an
/// [`Instant`] can hold (e.g. `Duration::MAX`): a deadline that far away is
/// no deadline, and `Instant + Duration` would panic on it.
pub(crate) fn deadline_in(runtime: &dyn Runtime, timeout: Duration) -> Option<Instant> {
    runtime.now().checked_add(timeout)
}

/// Waits for `future`, or fails with `on_timeout` once `deadline` passes
/// (`None`: waits as long as it takes).
pub(crate) async fn with_deadline<T>(
    runtime: &dyn Runtime,
    deadline: Option<Instant>,
    future: impl Future<Output = T>,
    on_timeout: impl FnOnce() -> T,
) -> T {
    let Some(deadline) = deadline else {
        return future.await;
    };
    let mut timer = runtime.timer(deadline);
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        timer.as_mut().poll_expired(cx).map(|()| None)
    })
    .await
    .unwrap_or_else(on_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_beyond_any_instant_is_none() {
        let runtime = default_runtime().expect("a runtime feature is on");
        assert_eq!(deadline_in(&*runtime, Duration::MAX), None);
        assert_eq!(deadline_in(&*runtime, Duration::from_secs(u64::MAX)), None);
        let soon = deadline_in(&*runtime, Duration::from_secs(1)).expect("one second fits");
        assert!(soon > Instant::now() - Duration::from_secs(1));
    }
}
