//! Who closed a connection, as its errors tell it: the router (its end of
//! the stream closed, or it sent `!fatal`) or this side (the connection task
//! stopped). A supervisor decides on a reconnect from this.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{cmd, connect, drain};
use futures_util::FutureExt;
use futures_util::future::{AbortHandle, abortable};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::runtime::{BoxFuture, default_runtime};
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs::{ClosedBy, Error, MikrotikDevice};

fn router() -> MockRouter {
    MockRouter::builder()
        .script("/silent", Script::Silent)
        .script("/die", Script::Fatal("out of memory".into()))
        .start()
}

async fn received(router: &MockRouter, path: &str) {
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == path),
                Duration::from_secs(10)
            )
            .await,
        "the router never received {path}"
    );
}

/// A later command fails at once with the same reason.
async fn assert_sends_fail_with(device: &MikrotikDevice, closed_by: ClosedBy) {
    let later = device.send_command(cmd("/system/identity/print")).await;
    let error = later.expect_err("the connection is gone");
    assert_eq!(error.closed_by(), Some(closed_by), "{error:?}");
}

async fn a_router_that_hangs_up_closed_the_connection() {
    let router = router();
    let device = connect(&router).await;
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    received(&router, "/silent").await;
    router.drop_connections();
    let items = drain(silent).await;
    let last = items.last().and_then(|item| item.as_ref().err());
    assert!(
        matches!(last, Some(Error::ConnectionClosed { .. })),
        "{items:?}"
    );
    assert_eq!(last.unwrap().closed_by(), Some(ClosedBy::Router));
    assert!(last.unwrap().to_string().contains("by the router"));
    assert_sends_fail_with(&device, ClosedBy::Router).await;
}

async fn a_fatal_is_a_close_by_the_router() {
    let router = router();
    let device = connect(&router).await;
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    received(&router, "/silent").await;
    let _die = device.send_command(cmd("/die")).await.unwrap();
    let items = drain(silent).await;
    assert!(
        matches!(items.last(), Some(Ok(CommandResponse::Fatal(_)))),
        "{items:?}"
    );
    let reason = device.closed_reason().expect("the connection ended");
    assert!(matches!(reason, Error::Fatal(_)), "{reason:?}");
    assert_eq!(reason.closed_by(), Some(ClosedBy::Router));
    assert_sends_fail_with(&device, ClosedBy::Router).await;
}

/// The connection task is dropped while the router still talks: the runtime
/// it ran on went away. Every stream and every later send says this side
/// closed it, not the router.
async fn a_stopped_connection_task_is_a_close_by_the_client() {
    let router = router();
    let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
    let spawned = Arc::clone(&tasks);
    let runtime = default_runtime().expect("a runtime feature is on");
    let device = MikrotikDevice::builder(router.address())
        .spawner(move |task: BoxFuture| {
            let (task, handle) = abortable(task);
            spawned.lock().unwrap().push(handle);
            runtime.spawn(Box::pin(task.map(drop)));
        })
        .connect()
        .await
        .unwrap();
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    received(&router, "/silent").await;
    for task in tasks.lock().unwrap().drain(..) {
        task.abort();
    }
    let items = drain(silent).await;
    let last = items.last().and_then(|item| item.as_ref().err());
    assert!(matches!(last, Some(Error::Closed)), "{items:?}");
    assert_eq!(last.unwrap().closed_by(), Some(ClosedBy::Client));
    assert!(
        last.unwrap().to_string().contains("on this side"),
        "{last:?}"
    );
    assert!(device.is_closed());
    assert_sends_fail_with(&device, ClosedBy::Client).await;
}

on_every_runtime![
    a_router_that_hangs_up_closed_the_connection,
    a_fatal_is_a_close_by_the_router,
    a_stopped_connection_task_is_a_close_by_the_client,
];
