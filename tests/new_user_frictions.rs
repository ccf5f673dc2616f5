//! What a new user still tripped over (issue 26): a fleet job failing with its
//! own error, errors that say where, paths refused before sending. Every test
//! runs under Tokio (multi- and current-thread) and smol, bounded in time.

mod common;

use std::error::Error as _;
use std::fmt;

use futures_util::StreamExt;
use mikrotik_rs::api::TextPolicy;
use mikrotik_rs::fleet::{Fleet, Inventory, Summary};
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{Error, MikrotikDevice};

on_every_runtime!(
    a_fleet_job_fails_with_its_own_error,
    a_refused_login_names_the_router_and_the_user,
    an_empty_key_names_the_command,
    a_malformed_path_is_refused_before_sending_by_every_entry_point,
    a_cp1252_comment_through_typed_rows_under_each_text_policy,
    collect_names_a_vec_and_the_old_names_still_answer_alike,
    a_fleet_deadline_in_the_tls_handshake_says_so,
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
        let rows = device.menu("/interface").print().collect().await?;
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
    // `Fleet::collect` takes what `device.collect` takes (here a builder),
    // and `Run` has `recv()` as every other stream has.
    let mut collected = fleet.collect(CommandBuilder::new().command("/interface/"));
    let done = collected.recv().await.unwrap();
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

#[derive(Debug, serde::Deserialize)]
struct Commented {
    comment: Option<String>,
}

/// A comment typed in Winbox on Windows arrives in Windows-1252
/// (`B\xFCro LAN`): `.typed()` read it as "B\u{FFFD}ro LAN" without saying
/// so, while `get` gave `None`. Now one documented policy, chosen per call:
/// lossy (the default), strict (an error naming the key), or a code page;
/// the raw bytes stay reachable.
async fn a_cp1252_comment_through_typed_rows_under_each_text_policy() {
    let router = MockRouter::builder()
        .script(
            "/ip/address/print",
            Script::Reply(
                Reply::new().row([(&b".id"[..], &b"*1"[..]), (b"comment", b"B\xFCro LAN")]),
            ),
        )
        .start();
    let device = MikrotikDevice::connect(router.address(), "admin", None)
        .await
        .unwrap();
    let menu = || device.menu("/ip/address").print();

    let lossy: Vec<Commented> = menu().collect_typed().await.unwrap();
    assert_eq!(lossy[0].comment.as_deref(), Some("B\u{FFFD}ro LAN"));
    let streamed: Vec<Result<Commented, Error>> = device
        .send_command(CommandBuilder::new().command("/ip/address/print").build())
        .await
        .unwrap()
        .rows()
        .typed_with::<Commented>(TextPolicy::Strict)
        .collect()
        .await;
    let error = streamed[0].as_ref().unwrap_err();
    assert!(
        matches!(error, Error::Decode { key: Some(k), .. } if k == "comment"),
        "{error:?}"
    );
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    let strict = menu()
        .collect_typed_with::<Commented>(TextPolicy::Strict)
        .await;
    assert!(matches!(strict, Err(Error::Decode { .. })), "{strict:?}");

    let cp1252 = TextPolicy::Fallback(mikrotik_rs::api::encoding_rs::WINDOWS_1252);
    let decoded: Vec<Commented> = menu().collect_typed_with(cp1252).await.unwrap();
    assert_eq!(decoded[0].comment.as_deref(), Some("Büro LAN"));

    // The row itself: `get` is strict, the bytes are there, any policy applies.
    let rows = menu().collect().await.unwrap();
    assert_eq!(rows[0].get("comment"), None);
    let raw = rows[0].get_raw("comment").unwrap();
    assert_eq!(raw, b"B\xFCro LAN");
    assert_eq!(cp1252.decode(raw).as_deref(), Some("Büro LAN"));
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Named {
    name: String,
}

/// `collect*` returns a `Vec` (on a device and on a menu's print), `rows` and
/// `typed` adapt a stream; the print's old `rows`/`typed`/`typed_with` and the
/// device's `collect_as` are deprecated, not gone, and answer alike.
async fn collect_names_a_vec_and_the_old_names_still_answer_alike() {
    let router = MockRouter::builder()
        .script(
            "/interface/print",
            Script::Reply(
                Reply::new()
                    .row([("name", "ether1")])
                    .row([("name", "ether2")]),
            ),
        )
        .start();
    let device = MikrotikDevice::connect(router.address(), "admin", None)
        .await
        .unwrap();
    let print = || device.menu("/interface").print();
    let command = || CommandBuilder::new().command("/interface/print").build();
    let wanted = vec![
        Named {
            name: "ether1".into(),
        },
        Named {
            name: "ether2".into(),
        },
    ];

    let rows: Vec<_> = print().collect().await.unwrap();
    assert_eq!(rows.len(), 2);
    let typed: Vec<Named> = print().collect_typed().await.unwrap();
    assert_eq!(typed, wanted);
    let with: Vec<Named> = print()
        .collect_typed_with(TextPolicy::Strict)
        .await
        .unwrap();
    assert_eq!(with, wanted);
    let on_device: Vec<Named> = device.collect_typed(command()).await.unwrap();
    assert_eq!(on_device, wanted);
    // The stream adapters keep their names.
    let streamed: Vec<Named> = device
        .send_command(command())
        .await
        .unwrap()
        .rows()
        .typed::<Named>()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(streamed, wanted);

    #[allow(deprecated)]
    {
        let old_rows = print().rows().await.unwrap();
        assert_eq!(old_rows.len(), rows.len());
        assert_eq!(old_rows[1].get("name"), Some("ether2"));
        let old_typed: Vec<Named> = print().typed().await.unwrap();
        assert_eq!(old_typed, wanted);
        let old_with: Vec<Named> = print().typed_with(TextPolicy::Lossy).await.unwrap();
        assert_eq!(old_with, wanted);
        let old_device: Vec<Named> = device.collect_as(command()).await.unwrap();
        assert_eq!(old_device, wanted);
    }
}

/// A router that accepts the connection and never answers the ClientHello:
/// the fleet's deadline (shorter than the handshake's own 3 s wait) says it
/// ran out in the TLS handshake, not that the router was slow.
async fn a_fleet_deadline_in_the_tls_handshake_says_so() {
    use mikrotik_rs::tls::TlsOptions;
    // A listener that never accepts: the kernel completes the TCP connect,
    // the ClientHello waits in its buffer, nothing ever answers or closes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let fleet = Fleet::builder()
        .deadline(std::time::Duration::from_millis(200))
        .build([(
            "mute".to_owned(),
            MikrotikDevice::builder(address).tls(TlsOptions::dangerous_accept_any_certificate()),
        )])
        .unwrap();
    let mut run = fleet.collect(CommandBuilder::new().command("/system/identity/print"));
    let done = run.next().await.expect("the router's result");
    let error = done.result.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                what: mikrotik_rs::TimeoutKind::Router,
                stage: Some(mikrotik_rs::Stage::Tls),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().ends_with("in the TLS handshake"),
        "{error}"
    );
}
