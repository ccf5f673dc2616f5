//! Shared by the integration tests: run one async body under every runtime,
//! always with a time limit; and the small helpers most tests use (a command
//! from a path, a login to the mock, a stream read to its end).
#![allow(dead_code)]

pub mod gate;
pub mod tap;

use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt;
use mikrotik_rs::protocol::command::{Command, CommandBuilder};
use mikrotik_rs::protocol::{CommandResponse, encode_sentence};
use mikrotik_rs::{Error, MikrotikDevice, ResponseStream};

/// One item of a command's stream.
pub type Item = Result<CommandResponse, Error>;

/// A command of just its path, e.g. `cmd("/interface/print")`.
pub fn cmd(path: &str) -> Command {
    CommandBuilder::new().command(path).build()
}

/// [`cmd`] carrying `tag` (for tests of tags reused or duplicated).
pub fn tagged(tag: uuid::Uuid, path: &str) -> Command {
    CommandBuilder::with_tag(tag).command(path).build()
}

/// `words` as one sentence on the wire (length prefixes and the empty word).
pub fn sentence(words: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_sentence(words, &mut out);
    out
}

/// Logs in to `router` as `admin` without a password (the mock's default),
/// on the runtime of the test.
#[cfg(feature = "testing")]
pub async fn connect(router: &mikrotik_rs::testing::MockRouter) -> MikrotikDevice {
    MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .expect("connect to the mock")
}

/// A MockRouter on which `/silent` never answers (it runs until cancelled).
#[cfg(feature = "testing")]
pub fn silent_router() -> mikrotik_rs::testing::MockRouter {
    mikrotik_rs::testing::MockRouter::builder()
        .script("/silent", mikrotik_rs::testing::Script::Silent)
        .start()
}

/// The next item of `stream` if one comes within `limit` (`Some(None)`: the
/// stream ended); `None` if nothing came.
pub async fn next_within(
    stream: &mut ResponseStream,
    limit: std::time::Duration,
) -> Option<Option<Item>> {
    let timer = async_io::Timer::after(limit);
    match futures_util::future::select(Box::pin(stream.recv()), Box::pin(timer)).await {
        futures_util::future::Either::Left((item, _)) => Some(item),
        futures_util::future::Either::Right(_) => None,
    }
}

/// Asserts that a command's items end with a timeout of `kind`.
#[track_caller]
pub fn assert_ends_timed_out(items: &[Item], kind: mikrotik_rs::TimeoutKind) {
    assert!(
        matches!(items.last(), Some(Err(Error::Timeout { what, .. })) if *what == kind),
        "expected a {kind:?} timeout last: {items:?}"
    );
}

/// Reads a stream to its end.
pub async fn drain(mut stream: ResponseStream) -> Vec<Item> {
    let mut items = Vec::new();
    while let Some(item) = stream.recv().await {
        items.push(item);
    }
    items
}

/// Asserts that `device`'s connection still answers: a
/// `/system/identity/print` runs to its `!done`.
pub async fn still_answers(device: &MikrotikDevice) {
    let items = drain(
        device
            .send_command(cmd("/system/identity/print"))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        matches!(items.last(), Some(Ok(CommandResponse::Done(_)))),
        "the connection still answers: {items:?}"
    );
}

/// Waits (in real time, polling every 5 ms, for at most 20 s) until `done`;
/// no assertion on how long it took. Panics naming `what` if it never happens.
pub async fn wait_until(mut done: impl FnMut() -> bool, what: &str) {
    for _ in 0..4_000 {
        if done() {
            return;
        }
        async_io::Timer::after(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

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
