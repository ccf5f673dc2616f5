//! Connections that heal: a device with a `ReconnectPolicy` outlives its
//! connections. Every test runs on every runtime, is bounded, and asserts
//! what happens, never how long it took; backoff is checked on virtual time.

mod common;

use common::{cmd, wait_until};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mikrotik_rs::api::Change;
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::runtime::{BoxFuture, BoxedStream, Runtime, Timer, default_runtime};
use mikrotik_rs::testing::{MockRouter, Script, VirtualTime};
use mikrotik_rs::{ConnectionState, Error, MikrotikDevice, ReconnectPolicy, ResponseStream};

/// Quick, real-time backoff for tests where the router comes back at once.
fn quick() -> ReconnectPolicy {
    ReconnectPolicy::new()
        .initial_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(50))
}

async fn connect(router: &MockRouter, policy: ReconnectPolicy) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .reconnect(policy)
        .connect()
        .await
        .expect("connect to the mock")
}

async fn sleep(ms: u64) {
    async_io::Timer::after(Duration::from_millis(ms)).await;
}

async fn next(stream: &mut ResponseStream) -> Result<CommandResponse, Error> {
    stream.recv().await.expect("the stream goes on")
}

/// The mock restarts while a `listen` runs: the stream stays open, yields
/// exactly one gap marker, then the replies of the command sent again.
async fn a_listen_resumes_after_a_restart_with_one_gap_marker() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut stream = device.send_command(cmd("/interface/listen")).await.unwrap();
    wait_until(
        || router.received_count("/interface/listen") == 1,
        "listen sent",
    )
    .await;
    router.stop_listening();
    wait_until(|| !device.state().is_connected(), "the loss is noticed").await;
    router.start_listening().unwrap();
    wait_until(
        || router.received_count("/interface/listen") == 2,
        "listen sent again",
    )
    .await;
    assert!(device.state().is_connected());
    router
        .add_item("/interface", [("name", "vlan77"), ("type", "vlan")])
        .unwrap();
    match next(&mut stream).await {
        Err(Error::Resumed { cause, .. }) => assert!(cause.is_connection_error(), "{cause}"),
        other => panic!("expected the gap marker first, got {other:?}"),
    }
    match next(&mut stream).await {
        Ok(CommandResponse::Reply(row)) => assert_eq!(row.get("name"), Some("vlan77")),
        other => panic!("expected the new row, got {other:?}"),
    }
    assert_eq!(
        stream.unread(),
        0,
        "exactly one marker, then the new replies"
    );
    // The stream's tag is its own; a cancel reaches the command on the new connection.
    drop(stream);
    wait_until(
        || router.running_commands() == 0,
        "cancelled on the new connection",
    )
    .await;
}

/// A follower keeping a table ends up with the mock's table after items
/// were added, changed and removed while the mock was down.
async fn a_followers_table_matches_the_router_after_an_outage() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut changes = device.menu("/interface").print().follow().await.unwrap();
    let mut table = std::collections::BTreeMap::<String, String>::new();
    let initial = router.items("/interface").len();
    while table.len() < initial {
        apply(&mut table, changes.recv().await.unwrap());
    }
    let vlan = router
        .add_item("/interface", [("name", "before"), ("type", "vlan")])
        .unwrap();
    while !table.contains_key(&vlan) {
        apply(&mut table, changes.recv().await.unwrap());
    }
    router.stop_listening();
    wait_until(|| !device.state().is_connected(), "the loss is noticed").await;
    // While down: one added, one changed, two removed (one of them ours).
    let added = router
        .add_item("/interface", [("name", "during"), ("type", "vlan")])
        .unwrap();
    assert!(router.set_item("/interface", "ether2", [("comment", "changed")]));
    assert!(router.remove_item("/interface", &vlan));
    assert!(router.remove_item("/interface", "ether3"));
    router.start_listening().unwrap();
    let mut gaps = 0;
    // After the gap: the snapshot, then the removals; then live changes.
    loop {
        match changes.recv().await.unwrap() {
            Ok(Change::Resumed { .. }) => gaps += 1,
            change => apply(&mut table, change),
        }
        if gaps == 1 && table == mock_table(&router) {
            break;
        }
    }
    assert!(table.contains_key(&added));
    assert!(!table.contains_key(&vlan));
    // And nothing after the gap is missed.
    let late = router
        .add_item("/interface", [("name", "after"), ("type", "vlan")])
        .unwrap();
    while !table.contains_key(&late) {
        apply(&mut table, changes.recv().await.unwrap());
    }
    assert_eq!(table, mock_table(&router));
    assert_eq!(gaps, 1);
}

fn apply(
    table: &mut std::collections::BTreeMap<String, String>,
    change: mikrotik_rs::Result<Change>,
) {
    match change.expect("a change") {
        Change::Upsert(row) => {
            let id = row.get(".id").unwrap().to_owned();
            table.insert(id, row.get("comment").unwrap_or_default().to_owned());
        }
        Change::Removed { id, .. } => {
            table.remove(&id);
        }
        Change::Resumed { .. } => panic!("a gap where none was expected"),
    }
}

fn mock_table(router: &MockRouter) -> std::collections::BTreeMap<String, String> {
    router
        .items("/interface")
        .into_iter()
        .map(|item| {
            let get = |key: &str| {
                item.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            (get(".id"), get("comment"))
        })
        .collect()
}

/// A command in flight at the loss ends with the "may or may not have run"
/// error and is never sent again; one sent during the outage waits and
/// completes after the reconnect.
async fn in_flight_ends_as_maybe_run_and_queued_commands_go_out_after() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .start();
    let device = connect(&router, quick()).await;
    let mut in_flight = device.send_command(cmd("/silent")).await.unwrap();
    wait_until(|| router.received_count("/silent") == 1, "sent").await;
    router.stop_listening();
    let error = next(&mut in_flight).await.unwrap_err();
    assert!(matches!(error, Error::ConnectionLost { .. }), "{error:?}");
    assert!(error.may_have_run() && error.is_retry_safe_for_reads());
    assert!(
        in_flight.recv().await.is_none(),
        "the error is the last item"
    );
    wait_until(|| !device.state().is_connected(), "reconnecting").await;
    let queued = device.collect(cmd("/system/identity/print"));
    let restart = async {
        sleep(20).await;
        router.start_listening().unwrap();
    };
    let (rows, ()) = futures_util::future::join(queued, restart).await;
    let rows = rows.expect("the queued command completes").into_rows();
    assert_eq!(rows[0].get("name"), Some("MikroTik"));
    assert_eq!(router.received_count("/silent"), 1, "never sent again");
}

/// The password changes during the outage: reconnecting stops with
/// `Error::Authentication` after exactly one refused login per address.
async fn a_refused_login_stops_reconnecting_after_one_try_per_address() {
    let main = MockRouter::builder().user("admin", "secret").start();
    let backup = MockRouter::builder().user("admin", "secret").start();
    let device = MikrotikDevice::builder(main.address())
        .fallback_address(backup.address())
        .credentials("admin", Some("secret"))
        .reconnect(quick())
        .connect()
        .await
        .unwrap();
    assert_eq!((main.login_attempts(), backup.login_attempts()), (1, 0));
    main.set_password("admin", "changed");
    backup.set_password("admin", "changed");
    let mut changes = device.state_changes();
    main.drop_connections();
    let final_state = loop {
        match changes.recv().await.expect("ends with Closed") {
            ConnectionState::Closed { error } => break error,
            _ => continue,
        }
    };
    assert!(
        matches!(final_state, Error::Authentication { .. }),
        "{final_state:?}"
    );
    assert!(changes.recv().await.is_none());
    let later = device.send_command(cmd("/system/identity/print")).await;
    assert!(
        matches!(later, Err(Error::Authentication { .. })),
        "{later:?}"
    );
    // Never again, however long we wait.
    sleep(100).await;
    assert_eq!(main.logins_refused(), 1);
    assert_eq!(backup.logins_refused(), 1);
    assert_eq!(main.login_attempts(), 2);
    assert_eq!(backup.login_attempts(), 1);
    let debug = format!("{device:?} {final_state:?} {final_state}");
    assert!(
        !debug.contains("secret") && !debug.contains("changed"),
        "{debug}"
    );
}

/// An address that refused the first login is never tried again.
async fn an_address_that_refused_the_first_login_is_not_tried_again() {
    let main = MockRouter::builder().user("admin", "other").start();
    let backup = MockRouter::builder().user("admin", "secret").start();
    let device = MikrotikDevice::builder(main.address())
        .fallback_address(backup.address())
        .credentials("admin", Some("secret"))
        .reconnect(quick())
        .connect()
        .await
        .expect("the backup logs in");
    assert_eq!((main.logins_refused(), backup.login_attempts()), (1, 1));
    backup.set_password("admin", "changed");
    backup.drop_connections();
    let mut changes = device.state_changes();
    while !changes.recv().await.expect("ends with Closed").is_closed() {}
    assert!(matches!(
        device.closed_reason(),
        Some(Error::Authentication { .. })
    ));
    assert_eq!(main.login_attempts(), 1, "never tried again");
    assert_eq!(backup.logins_refused(), 1);
}

fn virtual_time() -> VirtualTime {
    VirtualTime::new(default_runtime().expect("a runtime feature is on"))
}

/// Backoff grows from the initial delay and is capped at the maximum, on
/// virtual time; with jitter each delay stays within its cap.
async fn backoff_grows_and_is_capped() {
    for jitter in [false, true] {
        let router = MockRouter::start();
        let time = virtual_time();
        let policy = ReconnectPolicy::new()
            .initial_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(8))
            .jitter(jitter);
        let device = MikrotikDevice::builder(router.address())
            .runtime(Arc::new(time.clone()))
            .reconnect(policy.clone())
            .connect()
            .await
            .unwrap();
        let mut changes = device.state_changes();
        router.stop_listening();
        // The delay announced for each attempt (a watcher may skip a state,
        // never the one the supervisor waits in: it lasts until we advance).
        let mut delays = std::collections::BTreeMap::<u32, Duration>::new();
        while delays.len() < 7 {
            match changes.recv().await.unwrap() {
                ConnectionState::Reconnecting {
                    attempt,
                    next_attempt_in,
                    ..
                } => {
                    if (next_attempt_in > Duration::ZERO || jitter)
                        && !delays.contains_key(&attempt)
                    {
                        delays.insert(attempt, next_attempt_in);
                        time.advance(next_attempt_in);
                    }
                }
                // The state at the start.
                ConnectionState::Connected if delays.is_empty() => {}
                other => panic!("{other:?}"),
            }
        }
        if jitter {
            for (attempt, delay) in &delays {
                assert!(*delay <= policy.delay_cap(attempt - 1), "{delays:?}");
            }
        } else {
            let secs: Vec<(u32, u64)> = delays.iter().map(|(a, d)| (*a, d.as_secs())).collect();
            assert_eq!(
                secs,
                [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (6, 8), (7, 8)]
            );
        }
        router.start_listening().unwrap();
        while !device.state().is_connected() {
            time.advance(Duration::from_secs(8));
            sleep(5).await;
        }
        let rows = device.collect(cmd("/system/identity/print")).await.unwrap();
        assert_eq!(rows.into_rows().len(), 1);
    }
}

/// A blackholed router is found out by the keepalive and reconnected.
async fn a_blackholed_router_is_detected_by_keepalive_and_reconnected() {
    let router = MockRouter::start();
    let time = virtual_time();
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .keepalive(Duration::from_secs(10), Duration::from_secs(5))
        .reconnect(ReconnectPolicy::new().jitter(false))
        .connect()
        .await
        .unwrap();
    router.blackhole(true);
    router.clear_received();
    time.advance(Duration::from_secs(11));
    wait_until(
        || router.received_count("/system/identity/print") == 1,
        "the keepalive probe",
    )
    .await;
    time.advance(Duration::from_secs(6));
    wait_until(|| !device.state().is_connected(), "the dead link is found").await;
    match device.state() {
        ConnectionState::Reconnecting { last_error, .. } => assert!(
            matches!(
                last_error,
                Error::Timeout {
                    what: mikrotik_rs::TimeoutKind::Keepalive,
                    ..
                }
            ),
            "{last_error:?}"
        ),
        other => panic!("{other:?}"),
    }
    // Still blackholed: the attempt connects, its login times out, and
    // that is retried (unlike a refusal).
    router.clear_received();
    time.advance(Duration::from_secs(1));
    wait_until(
        || router.received_count("/login") == 1,
        "the first attempt logs in",
    )
    .await;
    time.advance(Duration::from_secs(11));
    wait_until(
        || {
            matches!(
                device.state(),
                ConnectionState::Reconnecting {
                    attempt: 2,
                    last_error: Error::Timeout {
                        what: mikrotik_rs::TimeoutKind::Login,
                        ..
                    },
                    ..
                }
            )
        },
        "a login timeout is retried",
    )
    .await;
    router.blackhole(false);
    router.drop_connections();
    while !device.state().is_connected() {
        time.advance(Duration::from_secs(1));
        sleep(5).await;
    }
    let rows = device.collect(cmd("/system/identity/print")).await.unwrap();
    assert_eq!(rows.into_rows().len(), 1);
    assert_eq!(router.logins_refused(), 0);
}

/// Over API-SSL: the reconnect is TLS again, logs in with the stored
/// password, and the listen resumes.
async fn reconnects_over_tls_with_the_stored_password() {
    let router = MockRouter::builder()
        .user("admin", "pw")
        .api_ssl_self_signed()
        .start();
    let device = MikrotikDevice::builder(router.api_ssl_address().unwrap())
        .tls(router.api_ssl_tls_options().unwrap())
        .credentials("admin", Some("pw"))
        .reconnect(quick())
        .connect()
        .await
        .unwrap();
    let mut listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    wait_until(|| router.received_count("/interface/listen") == 1, "sent").await;
    router.drop_connections();
    wait_until(
        || router.received_count("/interface/listen") == 2,
        "sent again",
    )
    .await;
    router
        .add_item("/interface", [("name", "vlan9"), ("type", "vlan")])
        .unwrap();
    assert!(matches!(
        next(&mut listen).await,
        Err(Error::Resumed { .. })
    ));
    assert!(matches!(
        next(&mut listen).await,
        Ok(CommandResponse::Reply(_))
    ));
    assert_eq!((router.login_attempts(), router.logins_refused()), (2, 0));
}

/// A runtime that counts the tasks it runs which have not finished.
#[derive(Debug, Clone)]
struct Counting {
    inner: Arc<dyn Runtime>,
    live: Arc<AtomicUsize>,
}

struct Live(Arc<AtomicUsize>, BoxFuture);

impl Future for Live {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.1.as_mut().poll(cx)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Runtime for Counting {
    fn spawn(&self, future: BoxFuture) {
        self.live.fetch_add(1, Ordering::SeqCst);
        self.inner
            .spawn(Box::pin(Live(Arc::clone(&self.live), future)));
    }
    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        self.inner.timer(deadline)
    }
    fn connect(&self, addr: std::net::SocketAddr) -> BoxFuture<std::io::Result<BoxedStream>> {
        self.inner.connect(addr)
    }
    fn now(&self) -> Instant {
        self.inner.now()
    }
}

/// Dropping the device (and its streams) during the backoff leaves nothing
/// running: no task, no session, no later attempt.
async fn dropping_the_device_mid_backoff_stops_everything() {
    let router = MockRouter::start();
    let time = virtual_time();
    let live = Arc::new(AtomicUsize::new(0));
    let runtime = Counting {
        inner: Arc::new(time.clone()),
        live: Arc::clone(&live),
    };
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(runtime))
        .reconnect(ReconnectPolicy::new().initial_delay(Duration::from_secs(60)))
        .connect()
        .await
        .unwrap();
    let listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    assert_eq!(
        live.load(Ordering::SeqCst),
        2,
        "the actor and the supervisor"
    );
    let mut changes = device.state_changes();
    router.stop_listening();
    loop {
        if let ConnectionState::Reconnecting { .. } = changes.recv().await.unwrap() {
            break;
        }
    }
    router.start_listening().unwrap();
    let accepted = router.sessions_accepted();
    drop((device, listen, changes));
    wait_until(|| live.load(Ordering::SeqCst) == 0, "every task ends").await;
    time.advance(Duration::from_secs(3600));
    sleep(50).await;
    assert_eq!(
        router.sessions_accepted(),
        accepted,
        "no attempt after the drop"
    );
    assert_eq!(router.session_count(), 0);
}

/// This process's TCP sockets connected to `port` on 127.0.0.1 (Linux:
/// `/proc/net/tcp` entries whose inode is one of our descriptors), so that
/// sockets of tests running beside this one do not count.
fn sockets_to(port: u16) -> usize {
    let ours: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            link.strip_prefix("socket:[")?
                .strip_suffix(']')
                .map(str::to_owned)
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let remote_port = fields
                .get(2)
                .and_then(|remote| remote.split(':').nth(1))
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            remote_port == Some(port) && fields.get(9).is_some_and(|inode| ours.contains(*inode))
        })
        .count()
}

/// Dropping the device while an attempt is logging in (the router
/// blackholed) closes that attempt's socket and ends every task.
async fn dropping_the_device_mid_login_closes_its_socket() {
    let router = MockRouter::start();
    let time = virtual_time();
    let live = Arc::new(AtomicUsize::new(0));
    let runtime = Counting {
        inner: Arc::new(time.clone()),
        live: Arc::clone(&live),
    };
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(runtime))
        .reconnect(ReconnectPolicy::new().jitter(false))
        .connect()
        .await
        .unwrap();
    assert_eq!(sockets_to(router.port()), 1);
    router.blackhole(true);
    router.clear_received();
    router.drop_connections();
    wait_until(|| !device.state().is_connected(), "the loss is noticed").await;
    time.advance(Duration::from_secs(1));
    wait_until(
        || router.received_count("/login") == 1,
        "the attempt logs in",
    )
    .await;
    assert_eq!(sockets_to(router.port()), 1, "the attempt's socket");
    drop(device);
    // The abandoned login's actor says `/quit` and lingers for the router's
    // close at most `close_linger` (2 s): a blackholed router never closes.
    wait_until(
        || router.received_count("/quit") == 1,
        "the attempt says goodbye",
    )
    .await;
    time.advance(Duration::from_secs(3));
    wait_until(
        || live.load(Ordering::SeqCst) == 0 && sockets_to(router.port()) == 0,
        "every task and socket ends",
    )
    .await;
    assert!(matches!(router.logins_refused(), 0));
}

/// A full queue while down is a clear error, and a waiting command's own
/// timeout bounds its wait.
async fn waiting_commands_are_bounded() {
    let router = MockRouter::start();
    let time = virtual_time();
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_secs(600))
                .jitter(false)
                .queue_capacity(2),
        )
        .connect()
        .await
        .unwrap();
    router.stop_listening();
    wait_until(|| !device.state().is_connected(), "reconnecting").await;
    let mut timed = device
        .send_command(cmd("/system/identity/print").with_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    let mut patient = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let mut refused = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let full = next(&mut refused).await.unwrap_err();
    assert!(matches!(full, Error::QueueFull { capacity: 2 }), "{full:?}");
    time.advance(Duration::from_secs(6));
    let timeout = next(&mut timed).await.unwrap_err();
    assert!(
        matches!(
            timeout,
            Error::Timeout {
                what: mikrotik_rs::TimeoutKind::Command,
                stage: Some(mikrotik_rs::Stage::Queued),
                ..
            }
        ),
        "{timeout:?}"
    );
    // It never reached the router: the message says it waited for the
    // reconnect, not that the router was slow.
    assert!(
        timeout.to_string().ends_with("(queued while reconnecting)"),
        "{timeout}"
    );
    router.start_listening().unwrap();
    time.advance(Duration::from_secs(600));
    assert!(matches!(
        next(&mut patient).await,
        Ok(CommandResponse::Reply(_))
    ));
}

/// A command whose stream is dropped while it waits for the reconnect is
/// never sent.
async fn a_waiting_command_dropped_is_never_sent() {
    let router = MockRouter::start();
    let time = virtual_time();
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(time.clone()))
        .reconnect(ReconnectPolicy::new().jitter(false))
        .connect()
        .await
        .unwrap();
    router.stop_listening();
    wait_until(|| !device.state().is_connected(), "reconnecting").await;
    let dropped = device.send_command(cmd("/ip/address/print")).await.unwrap();
    drop(dropped);
    let kept = device.collect(cmd("/system/identity/print"));
    let restart = async {
        router.start_listening().unwrap();
        while !device.state().is_connected() {
            time.advance(Duration::from_secs(1));
            sleep(5).await;
        }
    };
    let (kept, ()) = futures_util::future::join(kept, restart).await;
    assert!(kept.is_ok(), "{kept:?}");
    assert_eq!(router.received_count("/ip/address/print"), 0, "never sent");
    assert_eq!(router.received_count("/system/identity/print"), 1);
}

/// Without a policy, nothing changes: the loss ends everything.
async fn without_a_policy_a_loss_is_the_end() {
    let router = MockRouter::start();
    let device = MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .unwrap();
    assert!(!device.reconnects());
    let mut listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    wait_until(|| router.received_count("/interface/listen") == 1, "sent").await;
    let mut changes = device.state_changes();
    assert!(changes.recv().await.unwrap().is_connected());
    router.stop_listening();
    let end = next(&mut listen).await.unwrap_err();
    assert!(matches!(end, Error::ConnectionClosed { .. }), "{end:?}");
    assert!(changes.recv().await.unwrap().is_closed());
    assert!(device.state().is_closed());
}

/// `!fatal` and a framing error end the connection like a close does: the
/// open command ends as "may have run", and the device reconnects.
async fn fatal_and_framing_errors_lead_to_a_reconnect() {
    let router = MockRouter::builder()
        .script("/fatal", Script::Fatal("shutting down".into()))
        // A reserved length prefix (0xF8): no sentence can follow it.
        .script("/garbage", Script::Raw(vec![0xF8, 1, 2, 3]))
        .start();
    let device = connect(&router, quick()).await;
    for (path, what) in [("/fatal", "fatal"), ("/garbage", "framing")] {
        let accepted = router.sessions_accepted();
        let mut stream = device.send_command(cmd(path)).await.unwrap();
        let end = next(&mut stream).await.unwrap_err();
        match (&end, what) {
            (Error::ConnectionLost { cause }, "fatal") => {
                assert!(matches!(**cause, Error::Fatal(_)), "{cause:?}")
            }
            (Error::ConnectionLost { cause }, _) => {
                assert!(matches!(**cause, Error::Protocol(_)), "{cause:?}")
            }
            _ => panic!("{what}: {end:?}"),
        }
        wait_until(|| router.sessions_accepted() > accepted, "a new session").await;
        let rows = device.collect(cmd("/system/identity/print")).await;
        assert!(rows.is_ok(), "{what}: {rows:?}");
    }
}

/// `connect_stream` cannot open the user's stream again: a policy there is refused.
async fn a_policy_needs_an_address() {
    let router = MockRouter::start();
    let stream = smol::net::TcpStream::connect(router.addr()).await.unwrap();
    let refused = MikrotikDevice::builder(router.address())
        .reconnect(ReconnectPolicy::new())
        .connect_stream(stream)
        .await;
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
}

on_every_runtime!(
    a_policy_needs_an_address,
    a_waiting_command_dropped_is_never_sent,
    an_address_that_refused_the_first_login_is_not_tried_again,
    dropping_the_device_mid_login_closes_its_socket,
    fatal_and_framing_errors_lead_to_a_reconnect,
    a_listen_resumes_after_a_restart_with_one_gap_marker,
    a_followers_table_matches_the_router_after_an_outage,
    in_flight_ends_as_maybe_run_and_queued_commands_go_out_after,
    a_refused_login_stops_reconnecting_after_one_try_per_address,
    backoff_grows_and_is_capped,
    a_blackholed_router_is_detected_by_keepalive_and_reconnected,
    dropping_the_device_mid_backoff_stops_everything,
    waiting_commands_are_bounded,
    without_a_policy_a_loss_is_the_end,
    reconnects_over_tls_with_the_stored_password,
);

/// Open file descriptors of this process (Linux).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Resident set size of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// 1,000 reconnect cycles (each: the router drops the session, the device
/// reconnects, a listen resumes, a command completes) with no growth in
/// tasks, descriptors or memory. Run alone:
/// `cargo test --release --all-features --test reconnect soak -- --ignored --nocapture`.
async fn soak_cycles(cycles: usize) {
    let router = MockRouter::builder().received_capacity(0).start();
    let live = Arc::new(AtomicUsize::new(0));
    let runtime = Counting {
        inner: default_runtime().unwrap(),
        live: Arc::clone(&live),
    };
    let device = MikrotikDevice::builder(router.address())
        .runtime(Arc::new(runtime))
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(2)),
        )
        .connect()
        .await
        .unwrap();
    let mut listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    let mut baseline = None;
    for cycle in 0..cycles {
        if cycle == cycles / 10 {
            baseline = Some((open_fds(), rss_bytes()));
        }
        let accepted = router.sessions_accepted();
        router.drop_connections();
        wait_until(
            || router.sessions_accepted() > accepted && device.state().is_connected(),
            "reconnected",
        )
        .await;
        let rows = device.collect(cmd("/system/identity/print")).await;
        assert!(rows.is_ok(), "cycle {cycle}: {rows:?}");
        router
            .add_item(
                "/interface",
                [("name", format!("v{cycle}")), ("type", "vlan".into())],
            )
            .unwrap();
        // The gap marker (or none, if the add raced the resend), then the row.
        loop {
            match next(&mut listen).await {
                Err(Error::Resumed { .. }) => {}
                Ok(CommandResponse::Reply(row))
                    if row.get("name") == Some(format!("v{cycle}").as_str()) =>
                {
                    break;
                }
                Ok(_) => {}
                Err(other) => panic!("cycle {cycle}: {other:?}"),
            }
        }
    }
    let (fds, rss) = baseline.unwrap();
    wait_until(
        || live.load(Ordering::SeqCst) == 2,
        "one actor and the supervisor",
    )
    .await;
    wait_until(|| router.session_count() == 1, "one session").await;
    let (fds_after, rss_after) = (open_fds(), rss_bytes());
    let mib = |bytes: u64| bytes as f64 / f64::from(1u32 << 20);
    println!(
        "{cycles} reconnects: fds {fds} -> {fds_after}, RSS {:.1} -> {:.1} MiB (from the cycle {})",
        mib(rss),
        mib(rss_after),
        cycles / 10
    );
    assert!(
        fds_after <= fds + 2,
        "descriptors grew: {fds} -> {fds_after}"
    );
    assert!(
        rss_after <= rss + (8 << 20),
        "memory grew: {rss} -> {rss_after}"
    );
}

mod soak {
    #[test]
    #[ignore = "1,000 reconnects: run with --ignored"]
    fn tokio() {
        crate::common::on_tokio(super::soak_cycles(1_000));
    }
    #[test]
    #[ignore = "1,000 reconnects: run with --ignored"]
    fn smol() {
        crate::common::on_smol(super::soak_cycles(1_000));
    }
    /// The same, short, in the normal suite.
    #[test]
    fn short() {
        crate::common::on_smol(super::soak_cycles(30));
    }
}
