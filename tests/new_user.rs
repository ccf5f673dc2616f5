//! What a new user reaches for first (issue 19): the rows-only and typed stream
//! adapters, the monitor helper, one-row prints, `close`, owned properties, and
//! errors that say which command, row or address they are about. Every test runs
//! under Tokio (multi- and current-thread) and smol, bounded in time.

mod common;

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use mikrotik_rs::api::MONITOR_KEEP_LATEST;
use mikrotik_rs::runtime::Runtime;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{Error, MikrotikDevice, command};

on_every_runtime!(
    rows_hand_out_only_rows_and_end_after_done,
    a_trap_names_the_command_it_answers,
    monitor_streams_rows_and_decodes_partial_ones,
    one_row_prints,
    durations_decode_through_the_serde_module_and_plain_duration_says_how,
    decode_errors_name_the_row_id,
    add_set_and_remove_many_take_owned_strings,
    close_ends_every_stream_sends_quit_and_returns_once_closed,
    close_after_the_connection_ended_returns_at_once,
    recv_dropped_before_ready_loses_nothing,
    connect_errors_name_the_address,
);

async fn connect(router: &MockRouter) -> MikrotikDevice {
    // The address as an owned `String`: `connect` takes it as `builder` does.
    MikrotikDevice::connect(router.address(), "admin", None)
        .await
        .expect("login to the mock")
}

async fn rows_hand_out_only_rows_and_end_after_done() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let mut rows = device
        .send_command(command!("/interface/print"))
        .await
        .unwrap()
        .rows();
    let mut names = Vec::new();
    while let Some(row) = rows.recv().await {
        names.push(row.unwrap().get("name").unwrap().to_owned());
    }
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(names[0], "ether1");
    // As a `Stream` too, and `!empty` is consumed like `!done`.
    let router = MockRouter::builder().empty_replies(true).start();
    let device = connect(&router).await;
    let stream = device
        .send_command(command!("/ip/address/print", ?interface = "nowhere"))
        .await
        .unwrap()
        .rows();
    assert_eq!(stream.collect::<Vec<_>>().await.len(), 0);
}

async fn a_trap_names_the_command_it_answers() {
    let router = MockRouter::builder()
        .script(
            "/tool/fail",
            Script::Reply(Reply::new().trap(Some(1), "value of interval out of range")),
        )
        .start();
    let device = connect(&router).await;
    let err = device
        .collect(command!(unchecked "/tool/fail"))
        .await
        .unwrap_err();
    // `Error::Trap(traps)` still matches, and reads as a slice of traps.
    let Error::Trap(traps) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(traps.len(), 1);
    assert_eq!(traps[0].message, "value of interval out of range");
    assert_eq!(traps.command(), Some("/tool/fail"));
    assert_eq!(
        err.to_string(),
        "router error: /tool/fail: value of interval out of range (argument value failure)"
    );
    // The same from a rows stream, a menu operation and a listen.
    let mut rows = device
        .send_command(command!(unchecked "/tool/fail"))
        .await
        .unwrap()
        .rows();
    assert!(rows.recv().await.unwrap().is_err());
    assert!(rows.recv().await.is_none(), "the trap is the last item");
    let err = device.menu("/nowhere").add([("a", "b")]).await.unwrap_err();
    // An unknown path: the two traps RouterOS 7 sends.
    assert_eq!(err.traps().map(<[_]>::len), Some(2), "{err:?}");
    assert!(err.to_string().contains("/nowhere/add: "), "{err}");
    let mut changes = device.menu("/nowhere").listen().await.unwrap();
    let err = changes.recv().await.unwrap().unwrap_err();
    assert!(err.to_string().contains("/nowhere/listen: "), "{err}");
}

#[derive(Debug, serde::Deserialize)]
struct Link {
    name: Option<String>,
    status: String,
    rate: Option<String>,
}

async fn monitor_streams_rows_and_decodes_partial_ones() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(20))
        .start();
    let device = connect(&router).await;
    let ethernet = device.menu("/interface/ethernet");
    let mut raw = ethernet.monitor([("numbers", "ether1")]).await.unwrap();
    // A reader that falls behind keeps only the latest rows (at 20 ms per row,
    // a second is ~50 rows; the default policy would keep them all).
    async_io::Timer::after(Duration::from_secs(1)).await;
    assert!(
        raw.unread() <= MONITOR_KEEP_LATEST,
        "{} unread",
        raw.unread()
    );
    for _ in 0..2 {
        let row = raw.recv().await.unwrap().unwrap();
        assert_eq!(row.get("status"), Some("link-ok"));
    }
    raw.cancel();
    let mut typed = ethernet
        .monitor(&[("numbers", String::from("ether1"))])
        .await
        .unwrap()
        .typed::<Link>();
    let link = typed.recv().await.unwrap().unwrap();
    assert_eq!(link.status, "link-ok");
    assert_eq!(link.rate.as_deref(), Some("1Gbps"));
    assert_eq!(link.name.as_deref(), Some("ether1"));
    drop(typed);
    assert!(
        router
            .wait_for(
                |log| log.iter().filter(|s| s.path() == "/cancel").count() == 2,
                Duration::from_secs(10)
            )
            .await,
        "both monitors cancelled on drop"
    );
}

#[derive(Debug, serde::Deserialize)]
struct Identity {
    name: String,
}

async fn one_row_prints() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let resource = device.menu("/system/resource").print().one().await.unwrap();
    assert_eq!(resource.get("uptime"), Some("1w2d3h4m5s"));
    let identity: Identity = device
        .menu("/system/identity")
        .print()
        .one_typed()
        .await
        .unwrap();
    assert_eq!(identity.name, "MikroTik");
    let err = device.menu("/interface").print().one().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("expected exactly one row, the print returned 7"),
        "{err}"
    );
}

#[derive(Debug, serde::Deserialize)]
struct WithServeDuration {
    #[serde(with = "mikrotik_rs::api::duration")]
    uptime: Duration,
    #[serde(with = "mikrotik_rs::api::duration::option", default)]
    missing: Option<Duration>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct WithPlainDuration {
    uptime: Duration,
}

async fn durations_decode_through_the_serde_module_and_plain_duration_says_how() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let resource = device.menu("/system/resource");
    let got: WithServeDuration = resource.print().one_typed().await.unwrap();
    assert_eq!(got.uptime, Duration::from_secs(788_645));
    assert_eq!(got.missing, None);
    let err = resource
        .print()
        .one_typed::<WithPlainDuration>()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("`uptime` = \"1w2d3h4m5s\""), "{text}");
    assert!(text.contains("RouterOsDuration"), "{text}");
    assert!(text.contains("mikrotik_rs::api::duration"), "{text}");
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct WrongMtu {
    mtu: bool,
}

async fn decode_errors_name_the_row_id() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let err = device
        .menu("/interface")
        .print()
        .collect_typed::<WrongMtu>()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("(in the row with .id *1)"),
        "{err}"
    );
}

async fn add_set_and_remove_many_take_owned_strings() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let addresses = device.menu("/ip/address");
    let mut ids = Vec::new();
    for n in 1..=3 {
        let properties: Vec<(String, String)> = vec![
            ("address".into(), format!("10.7.{n}.1/24")),
            ("interface".into(), "ether2".into()),
        ];
        ids.push(addresses.add(properties).await.unwrap());
    }
    addresses
        .set(&ids[0], [("comment", format!("first of {}", ids.len()))])
        .await
        .unwrap();
    let row = addresses.get(&ids[0]).await.unwrap().unwrap();
    assert_eq!(row.get("comment"), Some("first of 3"));
    addresses.remove_many(&ids).await.unwrap();
    let left = addresses
        .print()
        .query_equal("interface", "ether2")
        .await
        .unwrap();
    assert!(
        left.iter()
            .all(|r| !r.get("address").unwrap().starts_with("10.7.")),
        "{left:?}"
    );
}

async fn close_ends_every_stream_sends_quit_and_returns_once_closed() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let other = device.clone();
    let mut listen = device.menu("/ip/address").listen().await.unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/ip/address/listen"),
                Duration::from_secs(10)
            )
            .await
    );
    device.close().await;
    assert!(device.is_closed() && other.is_closed());
    // Returned once the connection was closed: the stream already holds its end.
    assert_eq!(listen.unread(), 1, "{listen:?}");
    assert!(matches!(listen.recv().await, Some(Err(Error::Closed))));
    assert!(listen.recv().await.is_none());
    let err = other
        .send_command(command!("/system/identity/print"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/quit"),
                Duration::from_secs(10)
            )
            .await,
        "the router got /quit"
    );
    // Closing twice is harmless.
    other.close().await;
}

async fn close_after_the_connection_ended_returns_at_once() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let mut stream = device
        .send_command(command!("/interface/listen"))
        .await
        .unwrap();
    router.drop_connections();
    let mut last = None;
    while let Some(item) = stream.recv().await {
        last = Some(item);
    }
    // EOF or a reset, depending on timing.
    let reason = match last {
        Some(Err(error)) if error.is_connection_error() => error,
        other => panic!("{other:?}"),
    };
    device.close().await;
    assert!(device.is_closed());
    // The reason stays the router's, not `close`'s.
    let after = device.closed_reason().expect("a reason");
    assert_eq!(after.to_string(), reason.to_string());
    assert!(!matches!(after, Error::Closed), "{after:?}");
}

async fn recv_dropped_before_ready_loses_nothing() {
    // Cancel safety: a `recv()` future dropped while pending (as in a `select!`
    // whose other branch won) takes no row with it.
    let rows: Vec<_> = (0..200)
        .map(|i| vec![("n".to_owned(), i.to_string())])
        .collect();
    let router = MockRouter::builder()
        .script(
            "/x/print",
            Script::Reply(rows.into_iter().fold(Reply::new(), |r, row| {
                r.row(row.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            })),
        )
        .start();
    let device = connect(&router).await;
    let mut rows = device
        .send_command(command!(unchecked "/x/print"))
        .await
        .unwrap()
        .rows();
    let mut seen = Vec::new();
    let mut pending = 0;
    loop {
        let polled = {
            let mut recv = std::pin::pin!(rows.recv());
            // Poll once, then drop the future whatever it returned.
            std::future::poll_fn(|cx| std::task::Poll::Ready(recv.as_mut().poll(cx))).await
        };
        match polled {
            std::task::Poll::Ready(Some(row)) => {
                seen.push(row.unwrap().get("n").unwrap().to_owned())
            }
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Pending => {
                pending += 1;
                async_io::Timer::after(Duration::from_millis(1)).await;
            }
        }
    }
    let expected: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    assert_eq!(seen, expected, "after {pending} dropped pending recv()s");
}

async fn connect_errors_name_the_address() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap();
    drop(free);
    let err = MikrotikDevice::builder(address.to_string())
        .connect()
        .await
        .unwrap_err();
    assert_eq!(
        err.io_kind(),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("connecting to {address}: ")),
        "{err}"
    );
    // A connect that never completes: the timeout names the address too.
    let stuck: std::sync::Arc<dyn Runtime> = std::sync::Arc::new(NeverConnects(
        mikrotik_rs::runtime::default_runtime().unwrap(),
    ));
    let err = MikrotikDevice::builder("127.0.0.1:9")
        .runtime(stuck)
        .connect_timeout(Duration::from_millis(50))
        .connect()
        .await
        .unwrap_err();
    match &err {
        Error::Timeout {
            what: mikrotik_rs::TimeoutKind::Connect,
            address: Some(address),
            ..
        } => assert_eq!(&**address, "127.0.0.1:9"),
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("connect to 127.0.0.1:9 took longer"),
        "{err}"
    );
}

/// A runtime whose TCP connects never complete (a router behind a silent
/// firewall); everything else is the wrapped runtime's.
#[derive(Debug)]
struct NeverConnects(std::sync::Arc<dyn Runtime>);

impl Runtime for NeverConnects {
    fn spawn(&self, future: mikrotik_rs::runtime::BoxFuture) {
        self.0.spawn(future);
    }
    fn timer(
        &self,
        deadline: std::time::Instant,
    ) -> std::pin::Pin<Box<dyn mikrotik_rs::runtime::Timer>> {
        self.0.timer(deadline)
    }
    fn connect(
        &self,
        _: std::net::SocketAddr,
    ) -> mikrotik_rs::runtime::BoxFuture<std::io::Result<mikrotik_rs::runtime::BoxedStream>> {
        Box::pin(std::future::pending())
    }
}
