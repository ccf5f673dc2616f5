//! Fleets through the public API, on every runtime: the connect and job
//! limits hold, a silent router hits its deadline while the rest finish,
//! results come in completion order, connections are reused, closed when
//! idle and when the fleet is dropped; shards split names as promised.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use mikrotik_rs::fleet::{Fleet, Shard, Summary};
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::runtime::default_runtime;
use mikrotik_rs::testing::{MockRouter, Script, VirtualTime};
use mikrotik_rs::{DeviceBuilder, Error, MikrotikDevice};

/// `n` routers named `{prefix}{i}`, all served by the mock at `address`
/// (one mock can stand in for many routers: each gets its own session).
fn routers(prefix: &str, n: usize, address: &str) -> Vec<(String, DeviceBuilder)> {
    (0..n)
        .map(|i| (format!("{prefix}{i}"), MikrotikDevice::builder(address)))
        .collect()
}

async fn sleep(duration: Duration) {
    async_io::Timer::after(duration).await;
}

/// Waits (in real time, bounded by the test limit) until `condition` holds.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..20_000 {
        if condition() {
            return;
        }
        sleep(Duration::from_millis(2)).await;
    }
    panic!("never happened: {what}");
}

fn identity() -> mikrotik_rs::protocol::command::Command {
    CommandBuilder::new()
        .command("/system/identity/print")
        .build()
}

async fn connect_limit_holds() {
    let router = Arc::new(MockRouter::start());
    let answered = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    // A login in progress, as the mock sees it: a session accepted and not
    // yet answered. Measured at each login, just before its answer: the
    // highest count is the most logins the mock ever had at once.
    let weak = Arc::downgrade(&router);
    let (answered_in, most_in) = (Arc::clone(&answered), Arc::clone(&most));
    router.set_script(
        "/login",
        Script::custom(move |sentence| {
            let accepted = weak.upgrade().map_or(0, |r| r.sessions_accepted()) as usize;
            let before = answered_in.fetch_add(1, Ordering::SeqCst);
            most_in.fetch_max(accepted - before, Ordering::SeqCst);
            let tag = sentence
                .words()
                .find(|w| w.starts_with(b".tag="))
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            vec![vec![b"!done".to_vec(), tag]]
        }),
    );
    let fleet = Fleet::builder()
        .connect_limit(3)
        .job_limit(40)
        .build(routers("r", 40, &router.address()))
        .unwrap();
    let summary = fleet.run(|_device| async { Ok(()) }).summary().await;
    assert_eq!(summary.succeeded(), 40, "{summary}");
    assert_eq!(answered.load(Ordering::SeqCst), 40);
    let most = most.load(Ordering::SeqCst);
    assert!((1..=3).contains(&most), "{most} logins at once, limit 3");
}

async fn job_limit_holds() {
    let router = MockRouter::start();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let fleet = Fleet::builder()
        .job_limit(4)
        .build(routers("r", 20, &router.address()))
        .unwrap();
    let (running_in, most_in) = (Arc::clone(&running), Arc::clone(&most));
    let summary = fleet
        .run(move |device| {
            let (running, most) = (Arc::clone(&running_in), Arc::clone(&most_in));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let rows = device.collect(identity()).await;
                sleep(Duration::from_millis(2)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                rows.map(|rows| rows.len())
            }
        })
        .summary()
        .await;
    assert_eq!(summary.succeeded(), 20, "{summary}");
    let most = most.load(Ordering::SeqCst);
    assert!((1..=4).contains(&most), "{most} jobs at once, limit 4");
}

/// The first of `future` and a short real wait.
async fn within_a_moment<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
    let future = std::pin::pin!(future);
    let wait = std::pin::pin!(sleep(Duration::from_millis(20)));
    match futures_util::future::select(future, wait).await {
        futures_util::future::Either::Left((value, _)) => Some(value),
        futures_util::future::Either::Right(_) => None,
    }
}

async fn a_silent_router_hits_its_deadline_while_the_rest_complete() {
    let router = MockRouter::start();
    let silent = MockRouter::builder().never_answer().start();
    let time = VirtualTime::new(default_runtime().unwrap());
    let mut all = routers("ok-", 9, &router.address());
    // Only the fleet's deadline may end it (not the login's own timeout).
    all.insert(
        4,
        (
            "silent".to_owned(),
            MikrotikDevice::builder(silent.address()).login_timeout(Duration::from_secs(3600)),
        ),
    );
    let fleet = Fleet::builder()
        .runtime(Arc::new(time.clone()))
        .deadline(Duration::from_secs(5))
        .build(all)
        .unwrap();
    let mut run = fleet.collect(identity());
    // The clock stands still: nothing can time out, and the others finish.
    for _ in 0..9 {
        let done = run.next().await.expect("a result");
        assert_ne!(&*done.name, "silent");
        assert_eq!(done.result.expect("identity").len(), 1);
    }
    let progress = run.progress().snapshot();
    assert_eq!((progress.succeeded, progress.pending()), (9, 1));
    // Now its deadline passes (again and again, until its timer has been set).
    let last = loop {
        time.advance(Duration::from_secs(6));
        if let Some(done) = within_a_moment(run.next()).await {
            break done.expect("the silent router's result");
        }
    };
    assert_eq!(&*last.name, "silent");
    match &last.result {
        Err(Error::Timeout {
            what: mikrotik_rs::TimeoutKind::Router,
            after,
            stage,
            ..
        }) => {
            assert_eq!(*after, Duration::from_secs(5));
            // It accepted the connection and never answered the login:
            // the timeout says so, unlike a slow command's.
            assert_eq!(*stage, Some(mikrotik_rs::Stage::Login));
        }
        other => panic!("expected the router's deadline, got {other:?}"),
    }
    let message = last.result.as_ref().unwrap_err().to_string();
    assert!(message.ends_with("while logging in"), "{message}");
    assert!(last.elapsed >= Duration::from_secs(5));
    assert!(run.next().await.is_none());
    assert!(run.progress().snapshot().is_complete());
}

async fn results_arrive_in_completion_order() {
    let router = MockRouter::start();
    let mut gates = HashMap::new();
    let mut openers = HashMap::new();
    for i in 0..5 {
        let (open, gate) = async_channel::bounded::<()>(1);
        gates.insert(format!("r{i}"), gate);
        openers.insert(i, open);
    }
    let gates = Arc::new(gates);
    let fleet = Fleet::new(routers("r", 5, &router.address())).unwrap();
    let mut run = fleet.run_named(move |name, device| {
        let gate = gates[&*name].clone();
        async move {
            let _ = gate.recv().await;
            device.collect(identity()).await?;
            Ok(name)
        }
    });
    for i in [3, 1, 4, 0, 2] {
        assert!(
            run.next().now_or_never().is_none(),
            "no router may finish before its gate"
        );
        openers[&i].send(()).await.unwrap();
        let done = run.next().await.expect("a result");
        assert_eq!(&*done.name, format!("r{i}"));
        assert_eq!(&*done.result.unwrap(), format!("r{i}"));
    }
    assert!(run.next().await.is_none());
}

async fn a_refusing_or_absent_router_is_its_own_failure() {
    let router = MockRouter::start();
    let strict = MockRouter::builder().user("admin", "secret").start();
    let absent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let absent_address = absent.local_addr().unwrap().to_string();
    drop(absent); // nothing listens there now: connection refused
    let mut all = routers("ok-", 3, &router.address());
    all.push((
        "wrong-password".into(),
        MikrotikDevice::builder(strict.address()).credentials("admin", Some("guess")),
    ));
    all.push(("refused".into(), MikrotikDevice::builder(absent_address)));
    let fleet = Fleet::new(all).unwrap();
    let mut summary = Summary::new();
    let mut run = fleet.print("/interface");
    while let Some(done) = run.next().await {
        if let Ok(rows) = &done.result {
            assert!(rows.len() >= 5, "{} interfaces", rows.len());
        }
        summary.record(&done);
    }
    assert_eq!(summary.succeeded(), 3, "{summary}");
    assert_eq!(
        summary.failed_by_kind().get("authentication"),
        Some(&1),
        "{summary}"
    );
    assert_eq!(summary.failed_by_kind().get("io"), Some(&1), "{summary}");
    let failed: Vec<&str> = summary.failures().iter().map(|(n, _)| n.as_str()).collect();
    assert!(failed.contains(&"wrong-password") && failed.contains(&"refused"));
    let text = format!("{summary} {:?}", summary.failures());
    assert!(!text.contains("guess"), "a password in the summary: {text}");
}

#[derive(serde::Deserialize)]
struct Resource {
    #[serde(rename = "board-name")]
    board_name: String,
}

async fn connections_are_reused_across_runs() {
    let router = MockRouter::start();
    let fleet = Fleet::new(routers("r", 4, &router.address())).unwrap();
    for _ in 0..3 {
        let mut run = fleet.print_as::<Resource>("/system/resource");
        while let Some(done) = run.next().await {
            let rows = done.result.expect("typed rows");
            assert!(!rows[0].board_name.is_empty());
        }
    }
    assert_eq!(fleet.connections_opened(), 4);
    assert_eq!(router.sessions_accepted(), 4);
    assert_eq!(fleet.open_connections(), 4);
}

/// Issue 22 defect 12: the router closes every pooled connection between
/// two runs and the client has noticed; the second run opens fresh ones
/// and every job succeeds.
async fn connections_the_router_closed_are_replaced_at_checkout() {
    let router = MockRouter::start();
    let fleet = Fleet::new(routers("r", 4, &router.address())).unwrap();
    let first = fleet.collect(identity()).summary().await;
    assert_eq!(first.succeeded(), 4, "{first}");
    router.drop_connections();
    eventually("the client saw every close", || {
        fleet.open_connections() == 0
    })
    .await;
    let second = fleet.collect(identity()).summary().await;
    assert_eq!(second.succeeded(), 4, "{second}");
    assert_eq!(fleet.connections_opened(), 8);
    assert_eq!(fleet.open_connections(), 4);
}

/// Issue 22 defect 12, the race: the router closes a pooled connection
/// after the job got it and before its first command was written (the job
/// waits for the client to read the end, then sends). Not one byte of the
/// job went out, so the job runs again once on a fresh connection and
/// succeeds; the router sees its command once.
async fn a_job_whose_pooled_connection_ended_before_it_wrote_runs_again() {
    let router = Arc::new(MockRouter::start());
    let fleet = Fleet::new(routers("r", 4, &router.address())).unwrap();
    let first = fleet.collect(identity()).summary().await;
    assert_eq!(first.succeeded(), 4, "{first}");
    let calls = Arc::new(AtomicUsize::new(0));
    let (r, c) = (Arc::clone(&router), Arc::clone(&calls));
    let mut run = fleet.run(move |device| {
        let (router, calls) = (Arc::clone(&r), Arc::clone(&c));
        async move {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                router.drop_connections();
            }
            // The first four calls wait for the end; the second ones send at once.
            for _ in 0..5_000 {
                if device.is_closed() || calls.load(Ordering::SeqCst) > 4 {
                    break;
                }
                sleep(Duration::from_millis(2)).await;
            }
            device.collect(identity()).await
        }
    });
    while let Some(done) = run.next().await {
        let rows = done
            .result
            .expect("the job succeeded on a fresh connection");
        assert!(!rows.is_empty());
    }
    // The job that cut the connections always waits for the end, so it runs
    // again; another may start after the pool already saw the end and get a
    // fresh connection at checkout, running once. No job runs more than twice.
    let calls = calls.load(Ordering::SeqCst);
    assert!(
        (5..=8).contains(&calls),
        "a job whose connection ended before it wrote ran again, none more than twice: {calls} calls"
    );
    assert_eq!(fleet.connections_opened(), 8);
    assert_eq!(fleet.open_connections(), 4);
}

async fn idle_connections_close_after_the_idle_time() {
    let router = MockRouter::start();
    let time = VirtualTime::new(default_runtime().unwrap());
    let fleet = Fleet::builder()
        .runtime(Arc::new(time.clone()))
        .idle_timeout(Duration::from_secs(60))
        .build(routers("r", 3, &router.address()))
        .unwrap();
    let summary = fleet.collect(identity()).summary().await;
    assert_eq!(summary.succeeded(), 3);
    eventually("three sessions", || router.session_count() == 3).await;
    time.advance(Duration::from_secs(59));
    sleep(Duration::from_millis(50)).await;
    assert_eq!(fleet.open_connections(), 3, "closed before the idle time");
    assert_eq!(router.session_count(), 3);
    // Past the idle time (and the reaper's batching slack, at most 1/32 of it).
    time.advance(Duration::from_secs(4));
    eventually("the fleet closed its idle connections", || {
        fleet.open_connections() == 0
    })
    .await;
    eventually("the mock saw them close", || {
        time.advance(Duration::from_secs(1)); // any linger on the client side
        router.session_count() == 0
    })
    .await;
    // The next run opens them again.
    let summary = fleet.collect(identity()).summary().await;
    assert_eq!(summary.succeeded(), 3);
    assert_eq!(fleet.connections_opened(), 6);
}

async fn dropping_the_fleet_closes_every_connection() {
    let router = MockRouter::start();
    let fleet = Fleet::builder()
        .idle_timeout(None)
        .build(routers("r", 5, &router.address()))
        .unwrap();
    // One router's job is still running when the fleet goes.
    let (release, gate) = async_channel::bounded::<()>(1);
    let held = Arc::new(Mutex::new(None));
    let held_in = Arc::clone(&held);
    let mut run = fleet.run_named(move |name, device| {
        let gate = gate.clone();
        let held = Arc::clone(&held_in);
        async move {
            if &*name == "r2" {
                *held.lock().unwrap() = Some(());
                let _ = gate.recv().await;
            }
            device.collect(identity()).await.map(|_| ())
        }
    });
    for _ in 0..4 {
        run.next().await.unwrap().result.unwrap();
    }
    eventually("five sessions", || router.session_count() == 5).await;
    drop(fleet);
    eventually("the idle four closed", || router.session_count() == 1).await;
    release.send(()).await.unwrap();
    let last = run.next().await.unwrap();
    assert_eq!(&*last.name, "r2");
    last.result.unwrap();
    eventually("every session closed", || router.session_count() == 0).await;
    assert!(held.lock().unwrap().is_some());
}

async fn progress_counts_every_router_as_a_stream_and_a_callback() {
    let router = MockRouter::start();
    let strict = MockRouter::builder().user("admin", "secret").start();
    let mut all = routers("ok-", 6, &router.address());
    all.push((
        "refuses".into(),
        MikrotikDevice::builder(strict.address()).credentials("admin", Some("guess")),
    ));
    let fleet = Fleet::new(all).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in = Arc::clone(&seen);
    let run = fleet
        .collect(identity())
        .on_progress(move |snapshot| seen_in.lock().unwrap().push(snapshot));
    let mut updates = run.progress().updates();
    let first = updates.next().await.unwrap();
    assert_eq!((first.total, first.pending()), (7, 7));
    let (summary, last) = futures_util::future::join(run.summary(), async move {
        let mut last = first;
        while let Some(snapshot) = updates.next().await {
            assert!(snapshot.done() >= last.done(), "counts never go back");
            last = snapshot;
        }
        last
    })
    .await;
    assert_eq!(summary.succeeded(), 6);
    assert_eq!((last.succeeded, last.failed, last.pending()), (6, 1, 0));
    let seen = seen.lock().unwrap();
    let done: Vec<usize> = seen.iter().map(|s| s.done()).collect();
    assert_eq!(
        done,
        [1, 2, 3, 4, 5, 6, 7],
        "the callback sees every router"
    );
}

/// A router whose job ran out of its deadline is suspect: its connection is
/// closed, not pooled, and the next run opens a new one.
async fn a_job_over_its_deadline_is_cancelled_and_the_connection_closed() {
    let router = MockRouter::builder()
        .script("/tool/slow", Script::Silent)
        .start();
    let time = VirtualTime::new(default_runtime().unwrap());
    let fleet = Fleet::builder()
        .runtime(Arc::new(time.clone()))
        .deadline(Duration::from_secs(10))
        .build(routers("r", 1, &router.address()))
        .unwrap();
    let slow = CommandBuilder::new().command("/tool/slow").build();
    let mut run = fleet.collect(slow);
    // The run works while polled: poll it (the clock still) until the
    // command is on the router, so the deadline falls in the job, not the login.
    while router.running_commands() == 0 {
        assert!(
            within_a_moment(run.next()).await.is_none(),
            "nothing can end yet"
        );
    }
    let done = loop {
        time.advance(Duration::from_secs(11));
        if let Some(done) = within_a_moment(run.next()).await {
            break done.expect("a result");
        }
    };
    assert!(
        matches!(
            done.result,
            Err(Error::Timeout {
                what: mikrotik_rs::TimeoutKind::Router,
                stage: Some(mikrotik_rs::Stage::Command),
                ..
            })
        ),
        "{:?}",
        done.result
    );
    let message = done.result.as_ref().unwrap_err().to_string();
    assert!(message.ends_with("while running a command"), "{message}");
    drop(run);
    eventually("the timed-out router's connection was closed", || {
        router.running_commands() == 0 && router.session_count() == 0
    })
    .await;
    assert_eq!(fleet.open_connections(), 0);
    let again = fleet.collect(identity()).summary().await;
    assert_eq!(again.succeeded(), 1, "{again}");
    assert_eq!(
        fleet.connections_opened(),
        2,
        "a new connection for the next run"
    );
}

async fn routers_are_worked_on_while_nobody_reads_and_a_job_panic_reaches_the_reader() {
    let router = MockRouter::start();
    let fleet = Fleet::new(routers("r", 3, &router.address())).unwrap();
    let run = fleet.collect(identity());
    // Nobody polls the run: the routers connect and answer all the same.
    eventually("all three answered", || {
        router.received_count("/system/identity/print") == 3
    })
    .await;
    let summary = run.summary().await;
    assert_eq!(summary.succeeded(), 3, "{summary}");

    let run = fleet.run_named(|name, device| async move {
        assert_ne!(&*name, "r1", "a bug in the job");
        device.collect(identity()).await
    });
    let read = std::panic::AssertUnwindSafe(run.summary())
        .catch_unwind()
        .await;
    let panic = read.expect_err("the job's panic reaches the reader");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("a bug in the job"), "{message}");
}

async fn dropping_a_run_cancels_its_commands_on_the_routers() {
    let router = MockRouter::builder()
        .script("/tool/slow", Script::Silent)
        .start();
    let fleet = Fleet::new(routers("r", 3, &router.address())).unwrap();
    let run = fleet.collect(CommandBuilder::new().command("/tool/slow").build());
    eventually("three slow commands run", || router.running_commands() == 3).await;
    drop(run);
    eventually("every one was cancelled", || router.running_commands() == 0).await;
    assert!(router.received_count("/cancel") >= 3);
    // The connections stay, for the next run.
    let summary = fleet.collect(identity()).summary().await;
    assert_eq!(summary.succeeded(), 3, "{summary}");
    assert_eq!(fleet.connections_opened(), 3);
}

on_every_runtime!(
    dropping_a_run_cancels_its_commands_on_the_routers,
    routers_are_worked_on_while_nobody_reads_and_a_job_panic_reaches_the_reader,
    progress_counts_every_router_as_a_stream_and_a_callback,
    a_job_over_its_deadline_is_cancelled_and_the_connection_closed,
    connect_limit_holds,
    job_limit_holds,
    a_silent_router_hits_its_deadline_while_the_rest_complete,
    results_arrive_in_completion_order,
    a_refusing_or_absent_router_is_its_own_failure,
    connections_are_reused_across_runs,
    connections_the_router_closed_are_replaced_at_checkout,
    a_job_whose_pooled_connection_ended_before_it_wrote_runs_again,
    idle_connections_close_after_the_idle_time,
    dropping_the_fleet_closes_every_connection,
);

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("router-{i:05}.example.net"))
        .collect()
}

#[test]
fn shards_are_disjoint_and_cover_the_fleet() {
    let names = names(10_000);
    for count in 1..=9 {
        let shards: Vec<Shard> = (0..count).map(|i| Shard::new(i, count).unwrap()).collect();
        let mut sizes = vec![0usize; count as usize];
        for name in &names {
            let owners: Vec<u32> = shards
                .iter()
                .filter(|s| s.owns(name))
                .map(Shard::index)
                .collect();
            assert_eq!(owners.len(), 1, "{name} owned by {owners:?} of {count}");
            sizes[owners[0] as usize] += 1;
        }
        let fair = names.len() as f64 / f64::from(count);
        for size in sizes {
            assert!(
                (size as f64 - fair).abs() < fair * 0.15,
                "a shard of {size}, fair {fair}"
            );
        }
    }
}

#[test]
fn going_from_n_to_n_plus_one_shards_moves_about_one_in_n_plus_one() {
    let names = names(10_000);
    for count in 1..=9u32 {
        let mut moved = 0;
        for name in &names {
            let before = Shard::owner_of(name, count);
            let after = Shard::owner_of(name, count + 1);
            if before != after {
                // Only to the new shard: never between the old ones.
                assert_eq!(after, count, "{name} moved from {before} to {after}");
                moved += 1;
            }
        }
        let expected = names.len() as f64 / f64::from(count + 1);
        assert!(
            (f64::from(moved) - expected).abs() < expected * 0.15,
            "{count} -> {}: moved {moved}, expected about {expected:.0}",
            count + 1
        );
    }
}

#[test]
fn a_fleet_keeps_only_its_shard_and_refuses_repeated_names() {
    let all: Vec<(String, DeviceBuilder)> = routers("r", 100, "127.0.0.1:1");
    let mut total = 0;
    for index in 0..3 {
        let fleet = Fleet::builder()
            .shard(Shard::new(index, 3).unwrap())
            .build(routers("r", 100, "127.0.0.1:1"))
            .unwrap();
        assert!(fleet.names().all(|name| Shard::owner_of(name, 3) == index));
        total += fleet.len();
    }
    assert_eq!(total, all.len());
    let twice = vec![
        ("a".to_owned(), MikrotikDevice::builder("127.0.0.1:1")),
        ("a".to_owned(), MikrotikDevice::builder("127.0.0.1:2")),
    ];
    assert!(matches!(Fleet::new(twice), Err(Error::Config(_))));
}
