//! What a new user still tripped over (issue 26): a fleet job failing with its
//! own error, errors that say where, paths refused before sending. Every test
//! runs under Tokio (multi- and current-thread) and smol, bounded in time.

mod common;

use std::error::Error as _;
use std::fmt;

use futures_util::StreamExt;
use mikrotik_rs::fleet::{Fleet, Inventory, Summary};
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{Error, MikrotikDevice};

on_every_runtime!(
    a_fleet_job_fails_with_its_own_error,
    a_refused_login_names_the_router_and_the_user,
    an_empty_key_names_the_command,
    a_malformed_path_is_refused_before_sending_by_every_entry_point,
);

/// An error type of the user's own, with a source.
#[derive(Debug)]
struct Outdated {
    version: String,
    source: std::num::ParseIntError,
}

impl fmt::Display for Outdated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RouterOS {} is too old", self.version)
    }
}

impl std::error::Error for Outdated {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn check_version(version: &str) -> Result<u32, Outdated> {
    version.parse::<u32>().map_err(|source| Outdated {
        version: version.to_owned(),
        source,
    })
}

/// `Err(format!(..).into())`, `?` on a boxed error and `map_err(Error::user)?`
/// all fail the job with the user's own message, counted as the kind `job`.
async fn a_fleet_job_fails_with_its_own_error() {
    let router = MockRouter::start();
    let routers = ["formatted", "boxed", "typed", "fine"]
        .map(|name| (name.to_owned(), MikrotikDevice::builder(router.address())));
    let fleet = Fleet::new(routers).unwrap();
    let mut run = fleet.run_named(|name, device| async move {
        let rows = device.menu("/interface").print().rows().await?;
        match &*name {
            "formatted" => Err(format!("outdated RouterOS on {name}").into()),
            "boxed" => {
                let boxed: Box<dyn std::error::Error + Send + Sync> = "no uplink".into();
                Err(boxed)?
            }
            "typed" => Ok(check_version("7.x").map_err(Error::user)? as usize),
            _ => Ok(rows.len()),
        }
    });
    let mut summary = Summary::new();
    let mut messages = Vec::new();
    while let Some(done) = run.next().await {
        if let Err(error) = &done.result {
            assert!(matches!(error, Error::User(_)), "{error:?}");
            messages.push((
                done.name.to_string(),
                error.to_string(),
                error.source().is_some(),
            ));
        }
        summary.record(&done);
    }
    messages.sort();
    assert_eq!(
        messages,
        [
            ("boxed".to_owned(), "no uplink".to_owned(), false),
            (
                "formatted".to_owned(),
                "outdated RouterOS on formatted".to_owned(),
                false
            ),
            (
                "typed".to_owned(),
                "RouterOS 7.x is too old".to_owned(),
                true
            ),
        ]
    );
    assert_eq!(summary.succeeded(), 1, "{summary}");
    assert_eq!(summary.failed_by_kind().get("job"), Some(&3), "{summary}");
}

/// "login failed: invalid user name or password (6)" said neither which
/// router nor which user; the password is still never shown.
async fn a_refused_login_names_the_router_and_the_user() {
    let router = MockRouter::builder().user("api", "s3cret").start();
    let address = router.address();
    let error = MikrotikDevice::connect(&address, "api", Some("wrong-password"))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert_eq!(
        text,
        format!("login failed as \"api\" at {address}: invalid user name or password (6)")
    );
    let Error::Authentication {
        message,
        address: Some(at),
        user: Some(user),
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(message, "invalid user name or password (6)");
    assert_eq!((&**at, &**user), (address.as_str(), "api"));
    assert!(!format!("{error:?}").contains("wrong-password"));
}

/// "word 2: attribute key is empty" did not say which command.
async fn an_empty_key_names_the_command() {
    let router = MockRouter::start();
    let device = MikrotikDevice::connect(router.address(), "admin", None)
        .await
        .unwrap();
    let command = CommandBuilder::new()
        .command("/ip/address/add")
        .attribute("", Some("10.0.0.1/24"))
        .build();
    let error = device.send_command(command).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid command: /ip/address/add: word 2: attribute key is empty"
    );
}

/// A bad CSV line said "invalid configuration: CSV line 1: invalid
/// configuration: tls …": the prefix once is enough.
#[test]
fn a_bad_csv_line_says_its_prefix_once() {
    let error = Inventory::from_csv("r1,10.0.0.1,admin,,bogus\n").unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("invalid configuration: CSV line 1: tls \"bogus\""),
        "{text}"
    );
    assert_eq!(text.matches("invalid configuration").count(), 1, "{text}");
}

/// `menu("/ip address")` was refused as `Error::Config`, while
/// `CommandBuilder::command("interface/print")` was sent and the router's
/// answer misled. Every entry point now refuses a malformed path before
/// sending, as `Error::InvalidCommand`, with the path it probably meant.
async fn a_malformed_path_is_refused_before_sending_by_every_entry_point() {
    let router = MockRouter::start();
    let device = MikrotikDevice::connect(router.address(), "admin", None)
        .await
        .unwrap();
    let sent_before = router.received().len();

    let built = CommandBuilder::new().command("interface/print").build();
    let error = device.send_command(built).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid command: word 1: command path \"interface/print\" must start with `/` \
         (the API's form: \"/interface/print\")"
    );
    let collected = device
        .collect(CommandBuilder::new().command("/ip address print").build())
        .await
        .unwrap_err();
    assert!(
        matches!(&collected, Error::InvalidCommand { reason } if reason.contains("\"/ip/address/print\"")),
        "{collected:?}"
    );
    let menu = device.menu("/ip address").print().await.unwrap_err();
    assert!(
        matches!(&menu, Error::InvalidCommand { reason } if reason.contains("(the API's form: \"/ip/address\")")),
        "{menu:?}"
    );

    let fleet = Fleet::new([("r1".to_owned(), MikrotikDevice::builder(router.address()))]).unwrap();
    let mut printed = fleet.print("ip/address");
    let done = printed.next().await.unwrap();
    assert!(
        matches!(&done.result, Err(Error::InvalidCommand { reason }) if reason.contains("must start with `/`")),
        "{:?}",
        done.result
    );
    let mut collected = fleet.collect(CommandBuilder::new().command("/interface/").build());
    let done = collected.next().await.unwrap();
    assert!(
        matches!(&done.result, Err(Error::InvalidCommand { reason }) if reason.contains("must not end with `/`")),
        "{:?}",
        done.result
    );
    // Only the logins (device and fleet) reached the router.
    let received: Vec<String> = router.received()[sent_before..]
        .iter()
        .map(|c| c.path().to_owned())
        .collect();
    assert!(received.iter().all(|path| path == "/login"), "{received:?}");
}
