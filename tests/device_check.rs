//! `DeviceBuilder::check_commands`: every command sent through the device is
//! checked against the router's own release (learned after login) before a
//! byte of it is written.
#![cfg(all(feature = "schema", feature = "testing"))]

mod common;

use common::cmd;
use mikrotik_rs::fleet::Fleet;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::{CheckErrorKind, CommandResponse};
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{Error, MikrotikDevice, ReconnectPolicy};

fn mock(release: &str) -> MockRouter {
    MockRouter::builder().routeros_version(release).start()
}

async fn checking(router: &MockRouter) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .check_commands(true)
        .connect()
        .await
        .expect("connect to the mock")
}

/// The check's error, from a result the device refused.
fn refusal<T: std::fmt::Debug>(
    result: Result<T, Error>,
) -> mikrotik_rs::protocol::CommandCheckError {
    match result {
        Err(Error::CommandCheck(error)) => error,
        other => panic!("expected a refused command, got {other:?}"),
    }
}

fn sent(router: &MockRouter, path: &str) -> bool {
    router.received_paths().iter().any(|p| p == path)
}

/// `/app` is new in 7.21: a 7.16 router is refused it unsent, a 7.24 one
/// gets it; the version lookup itself is not one of the user's commands.
async fn a_newer_menu_is_refused_on_an_older_router() {
    let old = mock("7.16");
    let device = checking(&old).await;
    assert_eq!(device.routeros_version().as_deref(), Some("7.16 (stable)"));
    // The lookup is internal: no more counted than a plain login.
    let logged_in = common::connect(&old).await.snapshot().commands_started;
    assert_eq!(device.snapshot().commands_started, logged_in);
    let error = refusal(device.send_command(cmd("/app/print")).await);
    assert_eq!(error.kind(), &CheckErrorKind::UnknownPath);
    assert!(error.message().contains("not in RouterOS 7.16"), "{error}");
    // The menu helpers and collect go through the same check.
    refusal(device.menu("/app").print().collect().await);
    refusal(device.collect(cmd("/app/print")).await);
    common::still_answers(&device).await;
    assert!(!sent(&old, "/app/print"), "{:?}", old.received_paths());
    assert!(sent(&old, "/system/resource/print"));
    assert_eq!(
        device.snapshot().commands_started,
        logged_in + 1,
        "refused commands are not started; only still_answers counts"
    );

    let new = mock("7.24");
    let device = checking(&new).await;
    device.collect(cmd("/app/print")).await.unwrap();
    assert!(sent(&new, "/app/print"));
}

/// A typo gets `command!`'s message, and is not sent.
async fn a_typo_is_refused_with_a_suggestion() {
    let router = mock("7.16");
    let device = checking(&router).await;
    let error = refusal(device.send_command(cmd("/ip/adress/print")).await);
    assert!(
        error
            .message()
            .contains("did you mean `/ip/address/print`?"),
        "{error}"
    );
    let argument = CommandBuilder::new()
        .command("/ip/address/add")
        .attribute("adress", Some("10.0.0.1/24"))
        .build();
    let error = refusal(device.send_command(argument).await);
    assert!(
        error.message().contains("did you mean `address`?"),
        "{error}"
    );
    assert!(!sent(&router, "/ip/adress/print"));
    assert!(!sent(&router, "/ip/address/add"));
}

/// Off (the default), nothing is asked and everything is sent as before.
async fn off_sends_as_before() {
    let router = mock("7.16");
    let device = common::connect(&router).await;
    assert_eq!(device.routeros_version(), None);
    let items = common::drain(device.send_command(cmd("/ip/adress/print")).await.unwrap()).await;
    assert!(
        items
            .iter()
            .any(|item| matches!(item, Ok(CommandResponse::Trap(_)))),
        "the router refused it: {items:?}"
    );
    assert!(sent(&router, "/ip/adress/print"));
    assert!(!sent(&router, "/system/resource/print"));
}

/// A reconnecting device checks too, and learns the version again on each
/// connection.
async fn a_reconnecting_device_learns_the_version_on_each_connection() {
    let router = mock("7.16");
    let device = MikrotikDevice::builder(router.address())
        .check_commands(true)
        .reconnect(ReconnectPolicy::new())
        .connect()
        .await
        .unwrap();
    refusal(device.send_command(cmd("/app/print")).await);
    let asked = || router.received_count("/system/resource/print");
    assert_eq!(asked(), 1);
    router.drop_connections();
    common::wait_until(|| asked() == 2, "the version asked again").await;
    common::wait_until(|| device.routeros_version().is_some(), "relearned").await;
    refusal(device.send_command(cmd("/app/print")).await);
    assert!(!sent(&router, "/app/print"));
}

/// A fleet's routers are devices of the builders given: checked the same.
async fn a_fleet_checks_each_router() {
    let router = mock("7.16");
    let builders = (0..2).map(|i| {
        let builder = MikrotikDevice::builder(router.address()).check_commands(true);
        (format!("r{i}"), builder)
    });
    let fleet = Fleet::new(builders).unwrap();
    let summary = fleet.collect(cmd("/app/print")).summary().await;
    assert_eq!(summary.failed(), 2, "{summary}");
    for (_, error) in summary.failures() {
        assert!(matches!(error, Error::CommandCheck(_)), "{error}");
    }
    assert!(!sent(&router, "/app/print"));
}

on_every_runtime!(
    a_newer_menu_is_refused_on_an_older_router,
    a_typo_is_refused_with_a_suggestion,
    off_sends_as_before,
    a_reconnecting_device_learns_the_version_on_each_connection,
    a_fleet_checks_each_router,
);
