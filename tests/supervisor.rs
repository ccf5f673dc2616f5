//! The supervisor held to the hostile-router standard (issue 22): what it
//! hands back, what it publishes, how it counts and in what order it resends,
//! and that it never vanishes without telling. Every test runs on every
//! runtime and is bounded.

mod common;

use common::{cmd, tagged, wait_until};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use mikrotik_rs::api::{Change, Resync};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::runtime::{BoxFuture, BoxedStream, Runtime, Timer, default_runtime};
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{ConnectionState, Error, MikrotikDevice, ReconnectPolicy, ResponseStream};

fn quick() -> ReconnectPolicy {
    ReconnectPolicy::new()
        .initial_delay(Duration::from_millis(2))
        .max_delay(Duration::from_millis(20))
}

async fn connect(router: &MockRouter, policy: ReconnectPolicy) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .reconnect(policy)
        .connect()
        .await
        .expect("connect to the mock")
}

/// [`connect`] with the test's own runtime (a `Puppet` or `Stalling`), so
/// that the test can hold, stall or drop the device's tasks.
async fn connect_on<R: Runtime + Clone + 'static>(
    router: &MockRouter,
    runtime: &R,
    policy: ReconnectPolicy,
) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .runtime(Arc::new(runtime.clone()))
        .reconnect(policy)
        .connect()
        .await
        .expect("connect to the mock")
}

/// Races `body` against `limit`: `None` if it did not finish in time.
async fn within<T>(limit: Duration, body: impl Future<Output = T>) -> Option<T> {
    let mut body = std::pin::pin!(body);
    let mut timer = async_io::Timer::after(limit);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = body.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        if Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Reads `stream` to its end within `limit`; it must end with `!done`
/// (`what`: how it got there, for the failure message).
async fn runs_to_done(stream: ResponseStream, limit: Duration, what: &str) {
    let items = within(limit, common::drain(stream))
        .await
        .unwrap_or_else(|| panic!("{what}: the command did not end"));
    assert!(
        matches!(items.last(), Some(Ok(CommandResponse::Done(_)))),
        "{what}: {items:?}"
    );
}

/// Defect 1: a router that accepts and closes at once. The login request
/// must end with the connection's end, never be handed to the supervisor
/// (which would never answer it): with no login timeout that waited forever.
async fn a_router_that_closes_at_once_fails_the_login_with_the_real_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                drop(socket);
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
        })
    };
    for round in 0..40 {
        let connecting = MikrotikDevice::builder(&address)
            .login_timeout(None)
            .reconnect(quick())
            .connect();
        match within(Duration::from_secs(5), connecting).await {
            None => panic!("round {round}: the login was never answered"),
            Some(Ok(_)) => panic!("round {round}: logged in to a socket that closed"),
            Some(Err(error)) => assert!(
                error.is_connection_error() || matches!(error, Error::Protocol(_)),
                "round {round}: {error:?}"
            ),
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(&address);
    acceptor.join().unwrap();
}

/// Defect 7: each transition is reported once, in order: one `Connected`
/// at the start, then the loss.
async fn each_state_is_reported_once() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut changes = device.state_changes();
    assert!(matches!(
        changes.recv().await,
        Some(ConnectionState::Connected)
    ));
    router.stop_listening();
    router.drop_connections();
    let next = within(Duration::from_secs(10), changes.recv()).await;
    assert!(
        matches!(next, Some(Some(ConnectionState::Reconnecting { .. }))),
        "after the first Connected comes the loss, got {next:?}"
    );
}

/// One task of a [`Puppet`] runtime: it can be held (not polled) and dropped.
#[derive(Debug, Default)]
struct TaskControls {
    held: AtomicBool,
    dropped: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl TaskControls {
    fn set(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }
}

/// A runtime each of whose tasks can be held still, then dropped, on its own,
/// or all dropped at once ([`Puppet::kill`]), as a runtime that shuts down
/// drops them.
#[derive(Clone, Debug)]
struct Puppet {
    inner: Arc<dyn Runtime>,
    tasks: Arc<Mutex<Vec<Arc<TaskControls>>>>,
    killed: Arc<AtomicBool>,
}

impl Puppet {
    fn new() -> Self {
        Self {
            inner: default_runtime().unwrap(),
            tasks: Arc::default(),
            killed: Arc::default(),
        }
    }

    /// Drops every task, and every task spawned from now on.
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        for task in self.tasks.lock().unwrap().iter() {
            task.set(&task.dropped);
        }
    }
}

struct PuppetTask {
    future: Option<BoxFuture>,
    controls: Arc<TaskControls>,
}

impl Future for PuppetTask {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.controls.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.controls.dropped.load(Ordering::SeqCst) {
            self.future = None;
            return Poll::Ready(());
        }
        if self.controls.held.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        match self.future.as_mut() {
            Some(future) => future.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl Runtime for Puppet {
    fn spawn(&self, future: BoxFuture) {
        let controls = Arc::new(TaskControls::default());
        if self.killed.load(Ordering::SeqCst) {
            controls.dropped.store(true, Ordering::SeqCst);
        }
        self.tasks.lock().unwrap().push(Arc::clone(&controls));
        self.inner.spawn(Box::pin(PuppetTask {
            future: Some(future),
            controls,
        }));
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

/// Defect 2: the supervisor's task is dropped while a command waits in its
/// queue. The state becomes `Closed`, the watcher ends, the waiting command
/// ends with an error: nothing hangs.
async fn a_dropped_supervisor_ends_everything_as_closed() {
    let router = MockRouter::start();
    let runtime = Puppet::new();
    let device = connect_on(
        &router,
        &runtime,
        ReconnectPolicy::new().initial_delay(Duration::from_secs(30)),
    )
    .await;
    router.stop_listening();
    router.drop_connections();
    wait_until(|| !device.state().is_connected(), "the loss is noticed").await;
    let mut waiting = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let mut changes = device.state_changes();
    runtime.kill();
    let end = within(Duration::from_secs(10), waiting.recv()).await;
    assert!(
        matches!(end, Some(Some(Err(_)))),
        "the waiting command ends with an error: {end:?}"
    );
    let last = within(Duration::from_secs(10), async {
        let mut last = None;
        while let Some(state) = changes.recv().await {
            last = Some(state);
        }
        last
    })
    .await;
    assert!(
        matches!(last, Some(Some(ConnectionState::Closed { .. }))),
        "the watcher ends after Closed: {last:?}"
    );
    assert!(device.state().is_closed());
}

/// Defect 5 and the cycle test: a listen, a follow and a monitor
/// stay open over 50 reconnects, after which `commands_in_flight` is 3.
async fn in_flight_is_exact_across_fifty_reconnects() {
    let router = MockRouter::builder()
        .received_capacity(0)
        .monitor_interval(Duration::from_millis(50))
        .start();
    let device = connect(&router, quick()).await;
    let follow = CommandBuilder::new()
        .command("/interface/print")
        .attribute("follow", None)
        .build();
    let monitor = CommandBuilder::new()
        .command("/interface/monitor-traffic")
        .attribute("interface", Some("ether1"))
        .build();
    let streams = [
        device.send_command(cmd("/interface/listen")).await.unwrap(),
        device.send_command(follow).await.unwrap(),
        device.send_command(monitor).await.unwrap(),
    ];
    wait_until(|| router.running_commands() == 3, "three running").await;
    for cycle in 0..50 {
        let accepted = router.sessions_accepted();
        router.drop_connections();
        wait_until(
            || {
                router.sessions_accepted() > accepted
                    && device.state().is_connected()
                    && router.running_commands() == 3
            },
            "reconnected and resumed",
        )
        .await;
        let stats = device.snapshot();
        assert_eq!(stats.commands_in_flight, 3, "cycle {cycle}: {stats:?}");
    }
    drop(streams);
    wait_until(
        || device.snapshot().commands_in_flight == 0,
        "every command ended",
    )
    .await;
}

/// Defect 6: resumed commands go out again in the order they were first sent.
async fn resumed_commands_are_sent_again_in_first_sent_order() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    // Twelve listens told apart by their proplist.
    let paths: Vec<String> = (0..12).map(|n| format!("name,c{n}")).collect();
    let mut streams = Vec::new();
    for proplist in &paths {
        let listen = CommandBuilder::new()
            .command("/interface/listen")
            .attribute(".proplist", Some(proplist))
            .build();
        streams.push(device.send_command(listen).await.unwrap());
    }
    let listens = |router: &MockRouter| -> Vec<String> {
        router
            .received()
            .into_iter()
            .filter(|s| s.path() == "/interface/listen")
            .filter_map(|s| Some(String::from_utf8(s.attribute(".proplist")?.to_vec()).unwrap()))
            .collect()
    };
    wait_until(|| listens(&router).len() == paths.len(), "all sent").await;
    assert_eq!(listens(&router), paths);
    for round in 0..3 {
        router.clear_received();
        router.drop_connections();
        wait_until(|| listens(&router).len() == paths.len(), "all sent again").await;
        assert_eq!(listens(&router), paths, "round {round}");
    }
    drop(streams);
}

/// Defect 4: the builder's command timeout bounds commands that finish; a
/// `listen` (quiet for longer than it) runs on.
async fn the_command_timeout_never_ends_a_listen() {
    let router = MockRouter::start();
    let device = MikrotikDevice::builder(router.address())
        .command_timeout(Duration::from_millis(100))
        .reconnect(quick())
        .connect()
        .await
        .unwrap();
    let mut listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    let quiet = within(Duration::from_millis(600), listen.recv()).await;
    assert!(quiet.is_none(), "a quiet listen yields nothing: {quiet:?}");
    router
        .add_item("/interface", [("name", "vlan9"), ("type", "vlan")])
        .unwrap();
    match within(Duration::from_secs(10), listen.recv()).await {
        Some(Some(Ok(CommandResponse::Reply(row)))) => assert_eq!(row.get("name"), Some("vlan9")),
        other => panic!("the listen runs on: {other:?}"),
    }
    // A command that finishes is still bounded by it.
    let direct = MikrotikDevice::builder(router.address())
        .command_timeout(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let mut listen = direct.send_command(cmd("/interface/listen")).await.unwrap();
    let quiet = within(Duration::from_millis(600), listen.recv()).await;
    assert!(quiet.is_none(), "without reconnect too: {quiet:?}");
}

/// A table kept from a change stream: `.id` → `name`; the number of gaps.
#[derive(Default)]
struct Table {
    rows: std::collections::BTreeMap<String, String>,
    gaps: usize,
}

impl Table {
    /// Applies the next item; an `Err` item fails the test.
    async fn next(&mut self, changes: &mut mikrotik_rs::Changes) {
        assert!(
            self.next_within(changes, Duration::from_secs(20)).await,
            "a change in time"
        );
    }

    /// Reads the stream (which drives its resync) until `done`.
    async fn pump_until(
        &mut self,
        changes: &mut mikrotik_rs::Changes,
        mut done: impl FnMut() -> bool,
    ) {
        for _ in 0..1_000 {
            if done() {
                return;
            }
            self.next_within(changes, Duration::from_millis(20)).await;
        }
        panic!("never happened while reading the stream");
    }

    /// Applies the next item if one comes within `limit`.
    async fn next_within(&mut self, changes: &mut mikrotik_rs::Changes, limit: Duration) -> bool {
        let Some(item) = within(limit, changes.recv()).await else {
            return false;
        };
        match item.expect("the stream goes on") {
            Ok(Change::Upsert(row)) => {
                let id = row.get(".id").unwrap().to_owned();
                self.rows
                    .insert(id, row.get("name").unwrap_or_default().to_owned());
            }
            Ok(Change::Removed { id, .. }) => {
                self.rows.remove(&id);
            }
            Ok(Change::Resumed { .. }) => self.gaps += 1,
            Err(error) => panic!("an error item on a live subscription: {error:?}"),
        }
        true
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
            (get(".id"), get("name"))
        })
        .collect()
}

fn prints(router: &MockRouter) -> usize {
    router.received_count("/interface/print")
}

/// Defect 3: the resync's snapshot traps. Its error is not the
/// subscription's: it is taken again, and the table converges.
async fn a_failed_snapshot_is_taken_again_not_reported() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut changes = device.menu("/interface").listen().await.unwrap();
    let mut table = Table::default();
    wait_until(|| router.running_commands() == 1, "the listen runs").await;
    let vlan = router
        .add_item("/interface", [("name", "before"), ("type", "vlan")])
        .unwrap();
    table.next(&mut changes).await;
    router.set_script(
        "/interface/print",
        Script::Reply(Reply::new().trap(Some(1), "busy")),
    );
    let before = prints(&router);
    router.drop_connections();
    assert!(router.remove_item("/interface", &vlan));
    while table.gaps == 0 {
        table.next(&mut changes).await;
    }
    table
        .pump_until(&mut changes, || prints(&router) >= before + 2)
        .await;
    router.remove_script("/interface/print");
    while table.rows != mock_table(&router) {
        table.next(&mut changes).await;
    }
    assert!(!table.rows.contains_key(&vlan), "the removal is reported");
    assert_eq!(table.gaps, 1);
}

/// The test: the mock restarts while the resync's snapshot runs.
/// Exactly one gap item per gap, no error item, and the table converges.
async fn a_restart_during_the_snapshot_converges_with_one_gap_item_per_gap() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut changes = device.menu("/interface").listen().await.unwrap();
    let mut table = Table::default();
    wait_until(|| router.running_commands() == 1, "the listen runs").await;
    let vlan = router
        .add_item("/interface", [("name", "before"), ("type", "vlan")])
        .unwrap();
    table.next(&mut changes).await;
    // The first snapshot is never answered: the restart finds it running.
    router.set_script("/interface/print", Script::Silent);
    let before = prints(&router);
    router.drop_connections();
    while table.gaps == 0 {
        table.next(&mut changes).await;
    }
    table
        .pump_until(&mut changes, || prints(&router) > before)
        .await;
    router.remove_script("/interface/print");
    assert!(router.remove_item("/interface", &vlan));
    let added = router
        .add_item("/interface", [("name", "during"), ("type", "vlan")])
        .unwrap();
    router.drop_connections();
    while table.gaps < 2 || table.rows != mock_table(&router) {
        table.next(&mut changes).await;
    }
    assert_eq!(table.gaps, 2, "one gap item per gap");
    assert!(table.rows.contains_key(&added));
    // Live changes after it still arrive.
    let late = router
        .add_item("/interface", [("name", "after"), ("type", "vlan")])
        .unwrap();
    while !table.rows.contains_key(&late) {
        table.next(&mut changes).await;
    }
    assert_eq!(table.gaps, 2);
}

/// Defect 14: a consumer chooses what a resync reports; `GapOnly` takes no
/// snapshot (an append-only menu is not replayed).
async fn gap_only_reports_the_gap_and_takes_no_snapshot() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut changes = device
        .menu("/interface")
        .listen()
        .await
        .unwrap()
        .resync(Resync::GapOnly);
    let mut table = Table::default();
    wait_until(|| router.running_commands() == 1, "the listen runs").await;
    router
        .add_item("/interface", [("name", "one"), ("type", "vlan")])
        .unwrap();
    table.next(&mut changes).await;
    router.drop_connections();
    table.next(&mut changes).await;
    assert_eq!(table.gaps, 1);
    wait_until(|| router.running_commands() == 1, "the listen sent again").await;
    let late = router
        .add_item("/interface", [("name", "two"), ("type", "vlan")])
        .unwrap();
    table.next(&mut changes).await;
    assert!(
        table.rows.contains_key(&late),
        "the next item is the live change"
    );
    assert_eq!(table.rows.len(), 2, "no snapshot was replayed");
    assert_eq!(prints(&router), 0);
}

/// A runtime whose open connections can be made to stop taking writes, as
/// a socket whose send buffer is full does; connections opened later write.
#[derive(Debug, Clone)]
struct Stalling {
    inner: Arc<dyn Runtime>,
    /// Per open connection: how many more bytes it takes (`usize::MAX`: all).
    open: Arc<Mutex<Vec<Arc<AtomicUsize>>>>,
}

impl Stalling {
    fn new() -> Self {
        Self {
            inner: default_runtime().unwrap(),
            open: Arc::default(),
        }
    }

    fn stall_open_connections(&self) {
        self.stall_open_connections_after(0);
    }

    /// The open connections take `bytes` more bytes, then stall.
    fn stall_open_connections_after(&self, bytes: usize) {
        for budget in self.open.lock().unwrap().drain(..) {
            budget.store(bytes, Ordering::SeqCst);
        }
    }
}

struct StallingStream {
    inner: BoxedStream,
    budget: Arc<AtomicUsize>,
}

impl futures_io::AsyncRead for StallingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for StallingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let budget = self.budget.load(Ordering::SeqCst);
        if budget == 0 {
            return Poll::Pending;
        }
        let take = buf.len().min(budget);
        let written = Pin::new(&mut self.inner).poll_write(cx, &buf[..take]);
        if let Poll::Ready(Ok(n)) = written
            && budget != usize::MAX
        {
            self.budget.fetch_sub(n, Ordering::SeqCst);
        }
        written
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

impl Runtime for Stalling {
    fn spawn(&self, future: BoxFuture) {
        self.inner.spawn(future);
    }
    fn timer(&self, deadline: Instant) -> Pin<Box<dyn Timer>> {
        self.inner.timer(deadline)
    }
    fn connect(&self, addr: std::net::SocketAddr) -> BoxFuture<std::io::Result<BoxedStream>> {
        let connecting = self.inner.connect(addr);
        let open = Arc::clone(&self.open);
        Box::pin(async move {
            let inner = connecting.await?;
            let budget = Arc::new(AtomicUsize::new(usize::MAX));
            open.lock().unwrap().push(Arc::clone(&budget));
            Ok(Box::new(StallingStream { inner, budget }) as BoxedStream)
        })
    }
    fn now(&self) -> Instant {
        self.inner.now()
    }
}

/// Defect 13: a command none of whose bytes reached the socket when the
/// connection was lost was not run: it goes out on the next connection
/// (once), instead of ending as "may have run".
async fn a_command_never_written_to_the_socket_is_sent_on_the_next_connection() {
    let router = MockRouter::start();
    let runtime = Stalling::new();
    let device = connect_on(&router, &runtime, quick()).await;
    runtime.stall_open_connections();
    let print = cmd("/system/identity/print");
    let stream = device.send_command(print).await.unwrap();
    wait_until(|| device.in_flight() >= 1, "the actor holds it").await;
    router.drop_connections();
    runs_to_done(
        stream,
        Duration::from_secs(20),
        "it ran on the next connection",
    )
    .await;
    let sent = router.received_count("/system/identity/print");
    assert!(sent >= 1, "it reached the router");
    let stats = device.snapshot();
    assert_eq!(stats.commands_in_flight, 0, "{stats:?}");
}

/// Two commands wait unwritten behind a stalled socket; one's stream is
/// dropped. That one is withdrawn: never sent (no `/cancel` either), on
/// this connection or the next; the other is handed back and runs on the
/// next connection. Every counter stays exact.
async fn a_command_dropped_before_it_was_written_is_never_sent_on_any_connection() {
    let router = MockRouter::start();
    let runtime = Stalling::new();
    let device = connect_on(&router, &runtime, quick()).await;
    let before = device.snapshot();
    runtime.stall_open_connections();
    let kept = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let dropped = device.send_command(cmd("/interface/print")).await.unwrap();
    wait_until(|| device.in_flight() == 2, "the actor holds both").await;
    drop(dropped);
    wait_until(
        || matches!(device.in_flight(), 1 | 3..),
        "the dropped one is finished on this side",
    )
    .await;
    assert_eq!(device.in_flight(), 1, "withdrawn, not cancelled");
    router.drop_connections();
    runs_to_done(
        kept,
        Duration::from_secs(20),
        "it ran on the next connection",
    )
    .await;
    let paths = router.received_paths();
    assert!(
        !paths
            .iter()
            .any(|p| p == "/interface/print" || p == "/cancel"),
        "the dropped command (or a /cancel for it) reached the router: {paths:?}"
    );
    let stats = device.snapshot();
    assert_eq!(stats.commands_in_flight, 0, "{stats:?}");
    assert_eq!(stats.commands_cancelled - before.commands_cancelled, 1);
    // Each started once (the kept one too, though sent on two connections)
    // and ended once: the next login, the kept one, the withdrawn one.
    assert_eq!(
        stats.commands_started - before.commands_started,
        stats.commands_ended() - before.commands_ended(),
        "{stats:?}"
    );
    assert_eq!(
        stats.commands_started - before.commands_started,
        3,
        "{stats:?}"
    );
}

/// A command withdrawn while it waited behind another frees its tag at
/// once; a new command may take that tag. When the connection is then lost,
/// the withdrawn command must not come back: the new one is what is handed
/// back and sent on the next connection, on its own stream.
async fn a_withdrawn_command_is_never_handed_back_under_a_reused_tag() {
    let router = MockRouter::start();
    let runtime = Stalling::new();
    let device = connect_on(&router, &runtime, quick()).await;
    runtime.stall_open_connections();
    let ahead = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let tag = uuid::Uuid::new_v4();
    let withdrawn = device
        .send_command(tagged(tag, "/interface/print"))
        .await
        .unwrap();
    wait_until(|| device.in_flight() == 2, "the actor holds both").await;
    drop(withdrawn);
    wait_until(|| device.in_flight() == 1, "withdrawn").await;
    // The tag is free again: a new command takes it.
    let reused = device
        .send_command(tagged(tag, "/system/resource/print"))
        .await
        .unwrap();
    wait_until(|| device.in_flight() == 2, "the actor holds the new one").await;
    router.drop_connections();
    for stream in [ahead, reused] {
        runs_to_done(
            stream,
            Duration::from_secs(20),
            "it ran on the next connection",
        )
        .await;
    }
    let paths = router.received_paths();
    assert!(
        !paths.iter().any(|p| p == "/interface/print"),
        "the withdrawn command reached the router: {paths:?}"
    );
    assert!(
        paths.iter().any(|p| p == "/system/resource/print"),
        "the command that reused the tag never reached the router: {paths:?}"
    );
}

/// A resumed listen goes on under a fresh tag; once it has ended, its user
/// tag is free, and a later command may carry it. Dropping that later
/// command must cancel it, not the listen's old tag.
async fn a_tag_freed_by_a_resumed_command_is_cancelled_as_itself() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .start();
    let device = connect(&router, quick()).await;
    let tag = uuid::Uuid::new_v4();
    let listen = device
        .send_command(tagged(tag, "/interface/listen"))
        .await
        .unwrap();
    wait_until(|| router.running_commands() == 1, "the listen runs").await;
    router.drop_connections();
    wait_until(
        || router.received_count("/interface/listen") == 2 && router.running_commands() == 1,
        "the listen resumed",
    )
    .await;
    drop(listen);
    wait_until(|| router.running_commands() == 0, "the listen cancelled").await;
    wait_until(|| device.in_flight() == 0, "nothing in flight").await;
    let later = device.send_command(tagged(tag, "/silent")).await.unwrap();
    wait_until(|| router.running_commands() == 1, "the later command runs").await;
    drop(later);
    let cancelled = within(Duration::from_secs(5), async {
        while device.in_flight() != 0 || router.running_commands() != 0 {
            async_io::Timer::after(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        cancelled.is_some(),
        "the dropped command still runs: {} in flight, {} running on the router",
        device.in_flight(),
        router.running_commands()
    );
}

/// A command some of whose bytes reached the socket may have run: at the
/// loss it ends with `ConnectionLost` and is never sent again.
async fn a_command_partly_written_is_never_sent_again() {
    let router = MockRouter::start();
    let runtime = Stalling::new();
    let device = connect_on(&router, &runtime, quick()).await;
    runtime.stall_open_connections_after(5);
    let stream = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    wait_until(|| device.in_flight() >= 1, "the actor holds it").await;
    router.drop_connections();
    let items = within(Duration::from_secs(20), common::drain(stream))
        .await
        .expect("the command ends");
    assert!(
        matches!(items.last(), Some(Err(Error::ConnectionLost { .. }))),
        "it may have run: {items:?}"
    );
    wait_until(|| device.state().is_connected(), "reconnected").await;
    let after = common::drain(device.send_command(cmd("/interface/print")).await.unwrap()).await;
    assert!(
        matches!(after.last(), Some(Ok(CommandResponse::Done(_)))),
        "{after:?}"
    );
    let sent = router.received_count("/system/identity/print");
    assert_eq!(sent, 0, "a partly written command was sent again");
}

/// "Also": with `retry_first_connect`, a router that is down at start
/// gives a device that is `Reconnecting`; commands wait and run once it is up.
async fn the_first_connect_is_retried_under_the_policy_when_asked() {
    let router = MockRouter::start();
    router.stop_listening();
    let device = MikrotikDevice::builder(router.address())
        .reconnect(quick())
        .retry_first_connect(true)
        .connect()
        .await
        .expect("a device, reconnecting");
    assert!(
        matches!(device.state(), ConnectionState::Reconnecting { .. }),
        "{:?}",
        device.state()
    );
    let waiting = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    router.start_listening().unwrap();
    runs_to_done(
        waiting,
        Duration::from_secs(20),
        "ran once the router was up",
    )
    .await;
    assert!(device.state().is_connected());
    // The default is unchanged: the first connect's error, at once.
    router.stop_listening();
    let refused = MikrotikDevice::builder(router.address())
        .reconnect(quick())
        .connect()
        .await;
    assert!(refused.is_err());
}

/// "Also": asked to, a device whose login is refused keeps trying at the
/// slow rate, saying so in its state, and comes back once the password does.
async fn refused_logins_are_retried_slowly_when_asked() {
    let router = MockRouter::builder().user("admin", "old").start();
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", Some("old"))
        .reconnect(quick().retry_refused_logins(Duration::from_millis(10)))
        .connect()
        .await
        .unwrap();
    router.set_password("admin", "new");
    router.drop_connections();
    wait_until(|| router.logins_refused() >= 1, "a refused login").await;
    match device.state() {
        ConnectionState::Reconnecting {
            last_error: Error::Authentication { .. },
            next_attempt_in,
            ..
        } => assert!(next_attempt_in >= mikrotik_rs::reconnect::MIN_REFUSED_RETRY),
        other => panic!("reconnecting, refused: {other:?}"),
    }
    router.set_password("admin", "old");
    wait_until(|| device.state().is_connected(), "logged in again").await;
    assert!(
        router.logins_refused() <= 3,
        "slowly: {}",
        router.logins_refused()
    );
}

/// Asked to retry refused logins, a device with a fallback address that is
/// down (refusing connections, not logins) still retries the address that
/// refused: once its password is back, it logs in there.
async fn a_refused_address_is_retried_while_a_fallback_is_down() {
    let router = MockRouter::builder().user("admin", "old").start();
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let device = MikrotikDevice::builder(router.address())
        .fallback_address(down)
        .credentials("admin", Some("old"))
        .reconnect(quick().retry_refused_logins(Duration::from_millis(10)))
        .connect()
        .await
        .unwrap();
    router.set_password("admin", "new");
    router.drop_connections();
    wait_until(|| router.logins_refused() >= 1, "a refused login").await;
    router.set_password("admin", "old");
    let back = within(Duration::from_secs(8), async {
        while !device.state().is_connected() {
            async_io::Timer::after(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        back.is_some(),
        "never logged in again: {:?} ({} refused logins)",
        device.state(),
        router.logins_refused()
    );
}

/// Commands cancelled while the router is down (resumed listens and
/// commands that never ran alike) and commands that time out in the queue
/// leave `commands_in_flight` exact: only what still runs is counted.
async fn in_flight_is_exact_after_cancels_and_timeouts_while_down() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    let mut listens = Vec::new();
    for _ in 0..3 {
        listens.push(device.send_command(cmd("/interface/listen")).await.unwrap());
    }
    wait_until(|| router.running_commands() == 3, "three running").await;
    router.stop_listening();
    router.drop_connections();
    wait_until(|| !device.state().is_connected(), "down").await;
    let mut waiting = Vec::new();
    for _ in 0..4 {
        waiting.push(
            device
                .send_command(cmd("/system/identity/print"))
                .await
                .unwrap(),
        );
    }
    let timing_out = device
        .send_command(cmd("/system/identity/print").with_timeout(Duration::from_millis(20)))
        .await
        .unwrap();
    // Two resumed listens and two waiting commands are dropped while down.
    listens.truncate(1);
    waiting.truncate(2);
    let ended = within(Duration::from_secs(10), common::drain(timing_out))
        .await
        .expect("the timeout ends it");
    assert!(
        matches!(ended.last(), Some(Err(Error::Timeout { .. }))),
        "{ended:?}"
    );
    router.start_listening().unwrap();
    for command in waiting {
        runs_to_done(command, Duration::from_secs(10), "answered once up").await;
    }
    wait_until(|| router.running_commands() == 1, "one listen resumed").await;
    wait_until(
        || device.snapshot().commands_in_flight == 1,
        "only the listen still runs",
    )
    .await;
    drop(listens);
    wait_until(
        || device.snapshot().commands_in_flight == 0,
        "every command ended",
    )
    .await;
}

/// While the router is down, a second command with the tag of a waiting
/// one, dropped unread, must not take the waiting one with it: the cancel
/// names only the tag.
async fn a_dropped_duplicate_of_a_waiting_tag_leaves_the_waiting_command() {
    let router = MockRouter::start();
    let device = connect(&router, quick()).await;
    router.stop_listening();
    router.drop_connections();
    wait_until(|| !device.state().is_connected(), "down").await;
    let tag = uuid::Uuid::new_v4();
    let waiting = device
        .send_command(tagged(tag, "/system/identity/print"))
        .await
        .unwrap();
    let duplicate = device
        .send_command(tagged(tag, "/interface/print"))
        .await
        .unwrap();
    drop(duplicate);
    router.start_listening().unwrap();
    runs_to_done(
        waiting,
        Duration::from_secs(10),
        "it ran once the router was back",
    )
    .await;
}

/// A device dropped while its first connect is still retried in the
/// background stops the retries: no connection is tried after it is gone.
async fn a_device_dropped_while_its_first_connect_is_retried_stops_trying() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let (accepted, stop) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    // Closed at once: every login fails, not refused.
                    Ok((socket, _)) => {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        drop(socket);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        })
    };
    let device = MikrotikDevice::builder(&address)
        .reconnect(quick())
        .retry_first_connect(true)
        .connect()
        .await
        .expect("a device, reconnecting");
    wait_until(|| accepted.load(Ordering::SeqCst) >= 3, "retried").await;
    drop(device);
    async_io::Timer::after(Duration::from_millis(100)).await;
    let after_drop = accepted.load(Ordering::SeqCst);
    async_io::Timer::after(Duration::from_millis(300)).await;
    let later = accepted.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    acceptor.join().unwrap();
    assert_eq!(later, after_drop, "connects after the device was dropped");
}

/// Retrying refused logins stays within the policy's limits: with
/// `max_attempts(2)`, an outage of refused logins gives up after two
/// attempts, as any other outage does.
async fn refused_login_retries_give_up_under_max_attempts() {
    let router = MockRouter::builder().user("admin", "old").start();
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", Some("old"))
        .reconnect(
            quick()
                .max_attempts(2)
                .retry_refused_logins(Duration::from_millis(10)),
        )
        .connect()
        .await
        .unwrap();
    router.set_password("admin", "new");
    router.drop_connections();
    let closed = within(Duration::from_secs(8), async {
        while !device.state().is_closed() {
            async_io::Timer::after(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        closed.is_some(),
        "still trying after the policy's attempts: {:?} ({} refused logins)",
        device.state(),
        router.logins_refused()
    );
    assert!(router.logins_refused() <= 2, "{}", router.logins_refused());
}

/// A waker that only counts its clones (by its `Arc`).
struct CountedWake;

impl std::task::Wake for CountedWake {
    fn wake(self: Arc<Self>) {}
}

/// A state watcher dropped while it waited (a health check with a timeout,
/// each on a task of its own) must not leave its waker behind: on a router
/// that stays up, they would pile up, each keeping its task's memory, until
/// the next change of state. On a reconnecting device and on a direct one.
async fn a_dropped_state_watcher_leaves_no_waker_behind() {
    let router = MockRouter::start();
    let devices = [
        common::connect(&router).await,
        connect(&router, quick()).await,
    ];
    for device in &devices {
        let wakes: Vec<Arc<CountedWake>> = (0..3).map(|_| Arc::new(CountedWake)).collect();
        for wake in &wakes {
            let mut changes = device.state_changes();
            let waker = Waker::from(Arc::clone(wake));
            let mut cx = Context::from_waker(&waker);
            // The first poll reports the state now; the second waits.
            let now = futures_util::Stream::poll_next(Pin::new(&mut changes), &mut cx);
            assert!(now.is_ready(), "{now:?}");
            let next = futures_util::Stream::poll_next(Pin::new(&mut changes), &mut cx);
            assert!(next.is_pending(), "{next:?}");
            drop(changes);
        }
        let kept: Vec<usize> = wakes.iter().map(|w| Arc::strong_count(w) - 1).collect();
        assert_eq!(
            kept,
            [0, 0, 0],
            "wakers kept by dropped watchers ({device:?})"
        );
    }
}

/// The supervisor's task is dropped after its connection handed back an
/// open listen and before it took it: the listen must end with an error,
/// never end quietly as if the router had finished it.
async fn a_listen_handed_back_to_a_dropped_supervisor_ends_with_an_error() {
    let router = MockRouter::start();
    let runtime = Puppet::new();
    let device = connect_on(&router, &runtime, quick()).await;
    // The supervisor is spawned last, once the first connection is up.
    let supervisor = Arc::clone(runtime.tasks.lock().unwrap().last().unwrap());
    let mut listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    wait_until(|| device.in_flight() == 1, "the listen runs").await;
    supervisor.set(&supervisor.held);
    router.drop_connections();
    // The connection has ended and handed the listen back.
    wait_until(|| device.in_flight() == 0, "the loss").await;
    supervisor.set(&supervisor.dropped);
    wait_until(|| device.state().is_closed(), "the supervisor is gone").await;
    let end = within(Duration::from_secs(10), listen.recv()).await;
    assert!(
        matches!(end, Some(Some(Err(_)))),
        "the listen ends with an error: {end:?}"
    );
}

on_every_runtime!(
    refused_login_retries_give_up_under_max_attempts,
    a_command_partly_written_is_never_sent_again,
    a_device_dropped_while_its_first_connect_is_retried_stops_trying,
    in_flight_is_exact_after_cancels_and_timeouts_while_down,
    a_dropped_state_watcher_leaves_no_waker_behind,
    a_refused_address_is_retried_while_a_fallback_is_down,
    a_listen_handed_back_to_a_dropped_supervisor_ends_with_an_error,
    the_first_connect_is_retried_under_the_policy_when_asked,
    refused_logins_are_retried_slowly_when_asked,
    a_command_never_written_to_the_socket_is_sent_on_the_next_connection,
    a_command_dropped_before_it_was_written_is_never_sent_on_any_connection,
    a_dropped_duplicate_of_a_waiting_tag_leaves_the_waiting_command,
    a_withdrawn_command_is_never_handed_back_under_a_reused_tag,
    a_tag_freed_by_a_resumed_command_is_cancelled_as_itself,
    a_failed_snapshot_is_taken_again_not_reported,
    a_restart_during_the_snapshot_converges_with_one_gap_item_per_gap,
    gap_only_reports_the_gap_and_takes_no_snapshot,
);

on_every_runtime!(
    a_router_that_closes_at_once_fails_the_login_with_the_real_cause,
    each_state_is_reported_once,
    a_dropped_supervisor_ends_everything_as_closed,
    in_flight_is_exact_across_fifty_reconnects,
    resumed_commands_are_sent_again_in_first_sent_order,
    the_command_timeout_never_ends_a_listen,
);
