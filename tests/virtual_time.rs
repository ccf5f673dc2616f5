//! Everything time-driven in a connection, on virtual time: the clock moves
//! only when the test says so, so these assert *what* happens at a time and
//! never how long the (shared, noisy) machine took.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{cmd, drain, wait_until};
use mikrotik_rs::connection::{self, BufferPolicy, ConnectionOptions};
use mikrotik_rs::runtime::{Runtime, default_runtime};
use mikrotik_rs::testing::{MockRouter, Script, VirtualTime};
use mikrotik_rs::{Error, MikrotikDevice, TimeoutKind};

fn virtual_time() -> VirtualTime {
    VirtualTime::new(default_runtime().expect("a runtime feature is on"))
}

/// Lets the connection task run a moment (real time) without moving the clock.
async fn settle() {
    async_io::Timer::after(Duration::from_millis(50)).await;
}

async fn connect(router: &MockRouter, time: &VirtualTime) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .connect()
        .await
        .expect("connect to the mock")
}

/// A command deadline fires when the clock passes it, not a moment before.
async fn a_command_times_out_exactly_at_its_deadline() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .start();
    let time = virtual_time();
    let device = connect(&router, &time).await;
    let mut stream = device
        .send_command(cmd("/silent").with_timeout(Duration::from_secs(30)))
        .await
        .unwrap();
    wait_until(|| device.in_flight() == 1, "registered").await;
    time.advance(Duration::from_secs(29));
    settle().await;
    assert_eq!(stream.unread(), 0, "nothing before the deadline");
    time.advance(Duration::from_secs(2));
    let last = stream.recv().await;
    assert!(
        matches!(
            last,
            Some(Err(Error::Timeout {
                what: TimeoutKind::Command,
                ..
            }))
        ),
        "{last:?}"
    );
    wait_until(
        || router.received_paths().iter().any(|p| p == "/cancel"),
        "the timed-out command is cancelled on the router",
    )
    .await;
}

/// A full buffer whose reader takes nothing overflows once its reader has
/// been stuck for the stall patience (a second), not before.
async fn a_stuck_reader_overflows_after_the_patience() {
    let router = MockRouter::start();
    let time = virtual_time();
    let device = connect(&router, &time).await;
    let stuck = device
        .send_command_with(cmd("/interface/listen"), BufferPolicy::Bounded(5))
        .await
        .unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/interface/listen"),
                Duration::from_secs(20)
            )
            .await
    );
    let mut n = 0;
    let mut change = |router: &MockRouter| {
        n += 1;
        router
            .add_item(
                "/interface",
                [("name", format!("vlan{n}")), ("type", "vlan".into())],
            )
            .expect("added");
    };
    for _ in 0..6 {
        change(&router);
    }
    wait_until(|| stuck.unread() >= 6, "the rows arrived").await;
    time.advance(Duration::from_millis(900));
    change(&router);
    wait_until(|| stuck.unread() >= 7, "one more row, still no overflow").await;
    assert!(!router.received_paths().iter().any(|p| p == "/cancel"));
    time.advance(Duration::from_millis(200));
    change(&router);
    wait_until(
        || router.received_paths().iter().any(|p| p == "/cancel"),
        "overflow cancels on the router",
    )
    .await;
    let items = drain(stuck).await;
    assert_eq!(items.len(), 8, "7 rows then the overflow: {items:?}");
    assert!(matches!(
        items.last(),
        Some(Err(Error::Overflow { capacity: 5 }))
    ));
}

/// The keepalive probes after the idle interval and fails the connection
/// when the probe goes unanswered for its timeout.
async fn the_keepalive_probes_and_finds_a_silent_peer() {
    let router = MockRouter::start();
    let time = virtual_time();
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .keepalive(Duration::from_secs(30), Duration::from_secs(10))
        .connect()
        .await
        .unwrap();
    let probes = |router: &MockRouter| router.received_count("/system/identity/print");
    settle().await;
    assert_eq!(probes(&router), 0, "no probe before the interval");
    time.advance(Duration::from_secs(31));
    wait_until(|| probes(&router) == 1, "a probe after the interval").await;
    // Answered: the connection lives on.
    settle().await;
    assert!(!device.is_closed());
    let listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/interface/listen"),
                Duration::from_secs(20)
            )
            .await
    );
    router.set_silent(true);
    time.advance(Duration::from_secs(31));
    wait_until(|| probes(&router) == 2, "the second probe").await;
    time.advance(Duration::from_secs(9));
    settle().await;
    assert!(!device.is_closed(), "not before the probe's timeout");
    time.advance(Duration::from_secs(2));
    let items = drain(listen).await;
    common::assert_ends_timed_out(&items, TimeoutKind::Keepalive);
    assert!(device.is_closed());
}

/// A router that accepts but never answers the login: the login timeout
/// fires on the runtime's clock.
async fn a_silent_login_times_out_on_the_runtime_clock() {
    let router = MockRouter::builder().never_answer().start();
    let time = virtual_time();
    let connecting = {
        let time = time.clone();
        let address = router.address();
        async move {
            MikrotikDevice::builder(address)
                .runtime(Arc::new(time))
                .login_timeout(Duration::from_secs(10))
                .connect()
                .await
        }
    };
    let advancing = async {
        wait_until(|| router.session_count() == 1, "the session opened").await;
        settle().await;
        time.advance(Duration::from_secs(11));
    };
    let (result, ()) = futures_util::future::join(connecting, advancing).await;
    assert!(
        matches!(
            result,
            Err(Error::Timeout {
                what: TimeoutKind::Login,
                ..
            })
        ),
        "{result:?}"
    );
}

/// A cancelled command the router never finishes is given up on once the
/// cancel patience has passed on the clock.
async fn an_unanswered_cancel_is_given_up_on_at_the_patience() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .script("/cancel", Script::Silent)
        .start();
    let time = virtual_time();
    let runtime: Arc<dyn Runtime> = Arc::new(time.clone());
    let mut options = ConnectionOptions::default();
    options.cancel_patience = Duration::from_secs(30);
    let io = runtime.connect(router.addr()).await.unwrap();
    let (handle, connection) = connection::new(io, Arc::clone(&runtime), options);
    let device = MikrotikDevice::from(handle);
    runtime.spawn(Box::pin(connection));
    device.login("admin", None).await.unwrap();
    let stream = device.send_command(cmd("/silent")).await.unwrap();
    wait_until(|| device.in_flight() == 1, "registered").await;
    drop(stream);
    wait_until(|| device.in_flight() == 2, "the /cancel is in flight too").await;
    time.advance(Duration::from_secs(29));
    settle().await;
    assert_eq!(device.in_flight(), 2, "not given up on before the patience");
    time.advance(Duration::from_secs(2));
    wait_until(|| device.in_flight() == 0, "given up on").await;
    assert_eq!(device.abandoned(), 2);
}

on_every_runtime![
    a_command_times_out_exactly_at_its_deadline,
    a_stuck_reader_overflows_after_the_patience,
    the_keepalive_probes_and_finds_a_silent_peer,
    a_silent_login_times_out_on_the_runtime_clock,
    an_unanswered_cancel_is_given_up_on_at_the_patience,
];
