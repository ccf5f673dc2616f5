//! Shared by the integration tests: run one async body under every runtime,
//! always with a time limit.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;

/// Every test body must finish within this, or the test fails instead of hanging.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `body`, panicking if it takes longer than [`TEST_LIMIT`]. The timer is
/// async-io's, which works under any executor.
pub async fn bounded<T>(body: impl Future<Output = T>) -> T {
    let mut body = std::pin::pin!(body);
    let mut limit = async_io::Timer::after(TEST_LIMIT);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(value) = body.as_mut().poll(cx) {
            return std::task::Poll::Ready(value);
        }
        if limit.poll_unpin(cx).is_ready() {
            panic!("test did not finish within {TEST_LIMIT:?}");
        }
        std::task::Poll::Pending
    })
    .await
}

pub fn on_tokio<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(bounded(body))
}

pub fn on_tokio_current_thread<F: Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bounded(body))
}

pub fn on_smol<F: Future>(body: F) -> F::Output {
    smol::block_on(bounded(body))
}

/// Expands each `async fn` name into a module with one test per runtime.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn tokio() {
                $crate::common::on_tokio(super::$name());
            }
            #[test]
            fn tokio_current_thread() {
                $crate::common::on_tokio_current_thread(super::$name());
            }
            #[test]
            fn smol() {
                $crate::common::on_smol(super::$name());
            }
        }
    )*};
}
