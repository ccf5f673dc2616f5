//! A small background executor for callers that have none of their own.
//!
//! async-io brings a reactor but no executor. Connections opened outside Tokio
//! without a user spawner are driven here: one thread polls every task it was
//! given, through `FuturesUnordered`, which only polls tasks that were woken.
//!
//! Every task runs inside `catch_unwind`: a task that panics ends alone, and
//! the thread (and with it every other connection of the process) goes on.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::task::Poll;

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, Stream, StreamExt};

use super::BoxFuture;

/// A thread that runs spawned futures to completion.
///
/// The thread ends when the executor is dropped and every task has finished.
#[derive(Clone)]
pub struct BackgroundExecutor {
    tasks: async_channel::Sender<BoxFuture>,
}

impl fmt::Debug for BackgroundExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundExecutor")
            .field("queued", &self.tasks.len())
            .finish()
    }
}

impl BackgroundExecutor {
    /// Starts a thread named `name` that runs what is spawned on it.
    pub fn start(name: &str) -> Self {
        let (tasks, incoming) = async_channel::unbounded::<BoxFuture>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || ::async_io::block_on(run_all(incoming)))
            .expect("the operating system refused to start a thread");
        Self { tasks }
    }

    /// The process-wide executor that connections use by default.
    pub fn global() -> &'static Self {
        static GLOBAL: OnceLock<BackgroundExecutor> = OnceLock::new();
        GLOBAL.get_or_init(|| Self::start("mikrotik-rs"))
    }

    /// Runs `future` on this executor's thread.
    pub fn spawn(&self, future: BoxFuture) {
        // Fails only when the thread is gone, which happens only after every
        // sender is dropped, and `self` is one.
        let _ = self.tasks.try_send(future);
    }
}

/// Runs every future received on `incoming`, polling only those woken;
/// completes once `incoming` is closed and every future has finished.
///
/// A future that panics is dropped where it stands (its destructors run, so
/// a connection's streams see their channels close) and the others go on.
pub(crate) async fn run_all(incoming: async_channel::Receiver<BoxFuture>) {
    let mut incoming = std::pin::pin!(incoming);
    let mut tasks = FuturesUnordered::new();
    let mut open = true;
    std::future::poll_fn(|cx| {
        while open {
            match incoming.as_mut().poll_next(cx) {
                // A task is never used again after it panicked, so no broken
                // state can be observed: asserting unwind safety is sound.
                Poll::Ready(Some(task)) => tasks.push(AssertUnwindSafe(task).catch_unwind()),
                Poll::Ready(None) => open = false,
                Poll::Pending => break,
            }
        }
        while let Poll::Ready(Some(outcome)) = tasks.poll_next_unpin(cx) {
            if outcome.is_err() {
                // The panic hook has already printed the message and where it
                // came from; say only what became of the task.
                eprintln!(
                    "mikrotik-rs: a background task panicked; it was stopped, the others go on"
                );
            }
        }
        if !open && tasks.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_tasks_and_wakes_them() {
        let executor = BackgroundExecutor::start("test-executor");
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..100 {
            let tx = tx.clone();
            executor.spawn(Box::pin(async move {
                ::async_io::Timer::after(Duration::from_millis(1)).await;
                tx.send(i).unwrap();
            }));
        }
        let mut got: Vec<i32> = (0..100)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_panicking_task_ends_alone() {
        let executor = BackgroundExecutor::start("test-executor-panic");
        let (tx, rx) = std::sync::mpsc::channel();
        // Tasks already waiting when the panic happens…
        for i in 0..10 {
            let tx = tx.clone();
            executor.spawn(Box::pin(async move {
                ::async_io::Timer::after(Duration::from_millis(50)).await;
                tx.send(i).unwrap();
            }));
        }
        executor.spawn(Box::pin(async {
            ::async_io::Timer::after(Duration::from_millis(1)).await;
            panic!("a task fails on purpose");
        }));
        executor.spawn(Box::pin(async { panic!("and one fails at once") }));
        let mut got: Vec<i32> = (0..10)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            (0..10).collect::<Vec<_>>(),
            "the waiting tasks went on"
        );
        // …and tasks spawned after it still run.
        let tx = tx.clone();
        executor.spawn(Box::pin(async move { tx.send(99).unwrap() }));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 99);
    }
}
