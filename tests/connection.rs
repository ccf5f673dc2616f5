//! The connection actor through the public API, against the MockRouter, on
//! Tokio (multi-thread and current-thread) and smol.

mod common;

use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_io::Async;
use common::gate::{Gate, Gated};
use common::{cmd, connect, drain, still_answers, wait_until};
use futures_util::StreamExt;
use futures_util::future::join_all;
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply, Script, VirtualTime};
use mikrotik_rs::{BufferPolicy, Error, MikrotikDevice, TimeoutKind};

fn words(items: &[Result<CommandResponse, Error>]) -> Vec<&'static str> {
    items
        .iter()
        .map(|i| i.as_ref().map_or("error", CommandResponse::reply_word))
        .collect()
}

async fn quick_start_shape() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let items = drain(
        device
            .send_command(cmd("/system/resource/print"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(words(&items), ["!re", "!done"]);
    let Ok(CommandResponse::Reply(row)) = &items[0] else {
        unreachable!()
    };
    assert!(row.get("uptime").is_some(), "{row:?}");
    // The stream is also a futures Stream, and ends after !done.
    let mut stream = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let mut count = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        count += 1;
    }
    assert_eq!(count, 2);
    assert!(stream.next().await.is_none());
}

async fn trap_and_empty_are_followed_by_done() {
    let router = MockRouter::builder()
        .empty_replies(true)
        .script(
            "/fail",
            Reply::new()
                .trap(Some(1), "bad value")
                .trap(None, "and another")
                .into(),
        )
        .start();
    let device = connect(&router).await;
    let items = drain(device.send_command(cmd("/fail")).await.unwrap()).await;
    assert_eq!(words(&items), ["!trap", "!trap", "!done"]);
    let Ok(CommandResponse::Trap(trap)) = &items[0] else {
        unreachable!()
    };
    assert_eq!(trap.message, "bad value");
    let empty = CommandBuilder::new()
        .command("/interface/print")
        .query_equal("name", "nothing-has-this")
        .build();
    let items = drain(device.send_command(empty).await.unwrap()).await;
    assert_eq!(words(&items), ["!empty", "!done"]);
}

async fn unread_listen_never_blocks_other_commands() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let _listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    // Keep the listen busy with changes nobody reads.
    let id = router
        .add_item("/interface", [("name", "churn"), ("type", "vlan")])
        .unwrap();
    for i in 0..1000 {
        router.set_item("/interface", &id, [("comment", format!("change {i}"))]);
        let items = drain(
            device
                .send_command(cmd("/system/identity/print"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(words(&items), ["!re", "!done"], "print {i}");
    }
}

async fn dropping_a_quiet_stream_cancels_at_once() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let listen = device
        .send_command(cmd("/ip/address/listen"))
        .await
        .unwrap();
    let tag = listen.tag().hyphenated().to_string();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/ip/address/listen"),
                Duration::from_secs(5)
            )
            .await
    );
    let dropped = Instant::now();
    drop(listen);
    let seen = router
        .wait_for(
            |log| {
                log.iter()
                    .any(|s| s.path() == "/cancel" && s.attribute("tag") == Some(tag.as_bytes()))
            },
            Duration::from_secs(1),
        )
        .await;
    assert!(seen, "no /cancel for the dropped stream within a second");
    // The cancel carries a tag of its own.
    let cancel = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/cancel")
        .unwrap();
    assert_ne!(cancel.tag(), Some(tag.as_str()));
    // The actor swallows the interrupted trap and both !done, then forgets the command.
    while device.in_flight() > 0 {
        assert!(
            dropped.elapsed() < Duration::from_secs(5),
            "command still in flight"
        );
        async_io::Timer::after(Duration::from_millis(5)).await;
    }
    assert_eq!(router.running_commands(), 0);
}

async fn words_of_every_prefix_size_survive_the_whole_path() {
    for len in [256, 16_384, 65_536, 1 << 20] {
        let value: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let router = MockRouter::builder()
            .script("/big", Reply::new().row([("blob", value.clone())]).into())
            .start();
        let device = connect(&router).await;
        let sent = CommandBuilder::new()
            .command("/big")
            .attribute_raw("payload", Some(&value))
            .build();
        let items = drain(device.send_command(sent).await.unwrap()).await;
        let Ok(CommandResponse::Reply(row)) = &items[0] else {
            panic!("{len}: {items:?}")
        };
        assert_eq!(
            row.get_raw("blob"),
            Some(&value[..]),
            "reply word of {len} bytes"
        );
        let received = router
            .received()
            .into_iter()
            .find(|s| s.path() == "/big")
            .unwrap();
        assert_eq!(
            received.attribute("payload"),
            Some(&value[..]),
            "command word of {len} bytes"
        );
    }
}

async fn ten_thousand_concurrent_commands_get_their_own_replies() {
    let echo = Script::custom(|sentence| {
        let tag = sentence
            .words()
            .find(|w| w.starts_with(b".tag="))
            .unwrap()
            .to_vec();
        let n = sentence
            .words()
            .find_map(|w| w.strip_prefix(b"=n="))
            .unwrap()
            .to_vec();
        let mut row = b"=n=".to_vec();
        row.extend_from_slice(&n);
        vec![
            vec![b"!re".to_vec(), tag.clone(), row.clone()],
            vec![b"!re".to_vec(), row, tag.clone()],
            vec![b"!done".to_vec(), tag],
        ]
    });
    let router = MockRouter::builder()
        .script("/echo", echo)
        .received_capacity(100)
        .start();
    let device = connect(&router).await;
    let mut streams = Vec::new();
    for n in 0..10_000 {
        let command = CommandBuilder::new()
            .command("/echo")
            .attribute("n", Some(&n.to_string()))
            .build();
        streams.push(device.send_command(command).await.unwrap());
    }
    let results = join_all(streams.into_iter().map(drain)).await;
    for (n, items) in results.iter().enumerate() {
        assert_eq!(words(items), ["!re", "!re", "!done"], "command {n}");
        for item in &items[..2] {
            let Ok(CommandResponse::Reply(row)) = item else {
                unreachable!()
            };
            assert_eq!(
                row.get("n"),
                Some(n.to_string().as_str()),
                "command {n} got another's reply"
            );
        }
    }
    assert_eq!(device.in_flight(), 0);
}

async fn a_cut_mid_sentence_ends_every_stream_with_an_error() {
    let router = MockRouter::builder()
        .script("/bulk", Script::bulk(100_000, [("k", "0123456789abcdef")]))
        .start();
    router.set_close_after_bytes(Some(100_003));
    // On a clock that never moves: the errors must come from the cut itself,
    // never from a timer.
    let frozen = VirtualTime::new(mikrotik_rs::runtime::default_runtime().unwrap());
    let device = MikrotikDevice::builder(router.address())
        .runtime(std::sync::Arc::new(frozen))
        .connect()
        .await
        .unwrap();
    let mut streams = vec![device.send_command(cmd("/bulk")).await.unwrap()];
    for _ in 0..10 {
        streams.push(device.send_command(cmd("/interface/listen")).await.unwrap());
    }
    let results = join_all(streams.into_iter().map(drain)).await;
    let cut = results.iter().map(Vec::len).max().unwrap();
    assert!(cut > 1, "the bulk command got rows before the cut");
    for items in &results {
        match items.last() {
            Some(Err(Error::ConnectionClosed { mid_sentence: true })) => {}
            other => panic!("stream ended with {other:?}"),
        }
    }
    assert!(device.is_closed());
    let later = device.send_command(cmd("/system/identity/print")).await;
    assert!(
        matches!(later, Err(Error::ConnectionClosed { .. })),
        "{later:?}"
    );
}

async fn fatal_reaches_every_stream_then_sends_fail_at_once() {
    let router = MockRouter::builder()
        .script("/die", Script::Fatal("out of memory".into()))
        .start();
    let device = connect(&router).await;
    let listens: Vec<_> =
        join_all((0..3).map(|_| device.send_command(cmd("/interface/listen")))).await;
    router
        .wait_for(
            |log| {
                log.iter()
                    .filter(|s| s.path() == "/interface/listen")
                    .count()
                    == 3
            },
            Duration::from_secs(5),
        )
        .await;
    // Kept: a stream dropped before its command is written withdraws it.
    let _die = device.send_command(cmd("/die")).await.unwrap();
    for listen in listens {
        let items = drain(listen.unwrap()).await;
        assert!(
            matches!(items.last(), Some(Ok(CommandResponse::Fatal(r))) if r == "out of memory"),
            "{items:?}"
        );
    }
    let later = device.send_command(cmd("/system/identity/print")).await;
    assert!(
        matches!(later, Err(Error::Fatal(ref r)) if &**r == "out of memory"),
        "{later:?}"
    );
}

async fn a_slow_reader_overflows_alone() {
    let router = MockRouter::builder()
        .script("/bulk", Script::bulk(5_000, [("k", "v")]))
        .start();
    let device = connect(&router).await;
    let mut slow = device
        .send_command_with(cmd("/bulk"), BufferPolicy::Bounded(100))
        .await
        .unwrap();
    // The reader takes nothing: at 8 × the capacity the command overflows and
    // is cancelled on the router, while another command completes.
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/cancel"),
                Duration::from_secs(10)
            )
            .await,
        "overflow cancels on the router"
    );
    let items = drain(
        device
            .send_command(cmd("/system/identity/print"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(words(&items), ["!re", "!done"]);
    let mut rows = 0;
    let mut last = None;
    while let Some(item) = slow.recv().await {
        match item {
            Ok(CommandResponse::Reply(_)) => rows += 1,
            other => last = Some(other),
        }
    }
    assert!(
        (100..=800).contains(&rows),
        "{rows} rows buffered before the overflow"
    );
    assert!(
        matches!(last, Some(Err(Error::Overflow { capacity: 100 }))),
        "{last:?}"
    );
}

async fn a_reader_that_keeps_taking_never_overflows() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(5))
        .start();
    let device = connect(&router).await;
    let monitor = CommandBuilder::new()
        .command("/interface/monitor-traffic")
        .attribute("interface", Some("ether1"))
        .build();
    let mut stream = device
        .send_command_with(monitor, BufferPolicy::Bounded(10))
        .await
        .unwrap();
    // Slower than the router (10 ms a row against 5 ms) but never stuck: it
    // falls past the capacity of 10 and stays inside the hard limit of 80.
    let mut most_unread = 0;
    for _ in 0..30 {
        assert!(matches!(
            stream.recv().await,
            Some(Ok(CommandResponse::Reply(_)))
        ));
        most_unread = most_unread.max(stream.unread());
        async_io::Timer::after(Duration::from_millis(10)).await;
    }
    assert!(
        most_unread > 10,
        "the reader never fell behind ({most_unread})"
    );
}

async fn keep_latest_keeps_the_newest() {
    let router = MockRouter::builder()
        .script("/bulk", Script::bulk(1_000, [("k", "v")]))
        .start();
    let device = connect(&router).await;
    let slow = device
        .send_command_with(cmd("/bulk"), BufferPolicy::KeepLatest(10))
        .await
        .unwrap();
    // Let the whole reply arrive before reading anything.
    while slow.unread() < 10 || device.in_flight() > 0 {
        async_io::Timer::after(Duration::from_millis(5)).await;
    }
    let items = drain(slow).await;
    // The newest 10 rows survive; the `!done` is never dropped.
    assert_eq!(items.len(), 11);
    assert!(
        items[..10]
            .iter()
            .all(|i| matches!(i, Ok(CommandResponse::Reply(_))))
    );
    assert!(matches!(items.last(), Some(Ok(CommandResponse::Done(_)))));
}

async fn dropping_every_handle_closes_the_connection() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let clone = device.clone();
    let stream = clone.send_command(cmd("/interface/listen")).await.unwrap();
    assert_eq!(router.session_count(), 1);
    drop(device);
    drop(clone);
    // A live stream keeps the connection open…
    async_io::Timer::after(Duration::from_millis(50)).await;
    assert_eq!(router.session_count(), 1);
    // …until it is dropped too: then /cancel, /quit, and the socket closes.
    drop(stream);
    let start = Instant::now();
    while router.session_count() > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "connection still open"
        );
        async_io::Timer::after(Duration::from_millis(5)).await;
    }
    let paths = router.received_paths();
    assert_eq!(paths[paths.len() - 2..], ["/cancel", "/quit"]);
}

async fn one_byte_writes_for_a_whole_session() {
    let router = MockRouter::builder().write_chunk_size(1).start();
    let device = connect(&router).await;
    let items = drain(device.send_command(cmd("/interface/print")).await.unwrap()).await;
    assert!(items.len() > 3);
    assert!(items.iter().all(Result::is_ok));
}

async fn command_deadline_ends_one_command_only() {
    let router = MockRouter::builder()
        .script("/slow", Script::Silent)
        .start();
    let device = connect(&router).await;
    let slow = device
        .send_command(cmd("/slow").with_timeout(Duration::from_millis(200)))
        .await
        .unwrap();
    let fast = device
        .send_command(cmd("/system/identity/print"))
        .await
        .unwrap();
    let (slow, fast) = futures_util::future::join(drain(slow), drain(fast)).await;
    common::assert_ends_timed_out(&slow, TimeoutKind::Command);
    assert_eq!(words(&fast), ["!re", "!done"]);
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/cancel"),
                Duration::from_secs(2)
            )
            .await
    );
    assert!(!device.is_closed());
    assert_eq!(
        words(
            &drain(
                device
                    .send_command(cmd("/system/identity/print"))
                    .await
                    .unwrap()
            )
            .await
        ),
        ["!re", "!done"]
    );
}

async fn a_silent_peer_is_found_by_the_keepalive() {
    let router = MockRouter::start();
    let device = MikrotikDevice::builder(router.address())
        .keepalive(Duration::from_millis(100), Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    // Alive peer: probes are answered, nothing fails.
    async_io::Timer::after(Duration::from_millis(400)).await;
    assert!(!device.is_closed());
    assert!(
        router
            .received_paths()
            .iter()
            .any(|p| p == "/system/identity/print"),
        "a probe was sent"
    );
    let listen = device.send_command(cmd("/interface/listen")).await.unwrap();
    router.set_silent(true);
    let items = drain(listen).await;
    common::assert_ends_timed_out(&items, TimeoutKind::Keepalive);
    assert!(device.is_closed());
}

/// Logs in to `router` over a socket whose writes `gate` holds back.
async fn connect_gated(router: &MockRouter, gate: &Arc<Gate>) -> MikrotikDevice {
    let socket = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    MikrotikDevice::builder(router.address())
        .connect_stream(Gated::new(socket, Arc::clone(gate)))
        .await
        .unwrap()
}

fn silent_router() -> MockRouter {
    MockRouter::builder()
        .script("/first", Script::Silent)
        .script("/middle", Script::Silent)
        .script("/last", Script::Silent)
        .start()
}

/// A [`silent_router`] and a device logged in to it through a gate that is
/// now shut (the socket takes nothing), the router's log cleared.
async fn behind_a_shut_gate() -> (MockRouter, Arc<Gate>, MikrotikDevice) {
    let router = silent_router();
    let gate = Gate::open();
    let device = connect_gated(&router, &gate).await;
    router.clear_received();
    gate.shut();
    (router, gate, device)
}

/// Streams dropped while their commands wait in the connection's write
/// buffer (the socket takes nothing): at the front, in the middle and at
/// the end of what waits. None of them is ever written and no `/cancel`
/// is sent; the commands between them go out whole, and every counter
/// matches what crossed the socket.
async fn a_command_dropped_before_it_was_written_is_never_sent() {
    let (router, gate, device) = behind_a_shut_gate().await;
    let before = device.snapshot();
    let passed = gate.passed();
    let mut streams = Vec::new();
    for path in [
        "/first",
        "/ip/address/print",
        "/middle",
        "/interface/print",
        "/last",
    ] {
        streams.push(device.send_command(cmd(path)).await.unwrap());
    }
    wait_until(|| device.in_flight() == 5, "the connection takes all five").await;
    let last = streams.pop().unwrap();
    let kept_second = streams.pop().unwrap();
    let middle = streams.pop().unwrap();
    let kept_first = streams.pop().unwrap();
    let first = streams.pop().unwrap();
    drop((first, middle, last));
    // Withdrawn, they leave at once; cancelled, each would stay until its
    // `!done` and add a `/cancel` of its own (8 in flight).
    wait_until(
        || matches!(device.in_flight(), 2 | 6..),
        "the dropped commands are finished on this side",
    )
    .await;
    assert_eq!(device.in_flight(), 2, "no command left to cancel");
    assert_eq!(
        gate.passed(),
        passed,
        "nothing written while the gate is shut"
    );
    gate.allow(usize::MAX);
    for kept in [kept_first, kept_second] {
        let items = drain(kept).await;
        assert!(
            matches!(items.last(), Some(Ok(CommandResponse::Done(_)))),
            "{items:?}"
        );
    }
    still_answers(&device).await;
    assert_eq!(
        router.received_paths(),
        [
            "/ip/address/print",
            "/interface/print",
            "/system/identity/print"
        ],
        "the dropped commands never reached the router, nor any /cancel"
    );
    let stats = device.snapshot();
    assert_eq!(stats.commands_started - before.commands_started, 6);
    assert_eq!(stats.commands_cancelled - before.commands_cancelled, 3);
    assert_eq!(stats.commands_done - before.commands_done, 3);
    assert_eq!(stats.commands_in_flight, 0);
    assert_eq!(stats.sentences_sent - before.sentences_sent, 3);
    assert_eq!(
        stats.bytes_sent,
        gate.passed() as u64,
        "bytes sent are bytes written"
    );
}

/// A stream dropped after part of its command reached the socket: the
/// router gets the whole command and then its `/cancel`, as always.
async fn a_command_dropped_after_part_of_it_was_written_is_cancelled() {
    let (router, gate, device) = behind_a_shut_gate().await;
    let before = device.snapshot();
    let passed = gate.passed();
    let stream = device.send_command(cmd("/middle")).await.unwrap();
    let tag = stream.tag().hyphenated().to_string();
    wait_until(|| device.in_flight() == 1, "the connection takes it").await;
    gate.allow(3);
    wait_until(|| gate.passed() == passed + 3, "three bytes are written").await;
    drop(stream);
    // Cancelled: its route swallows until `!done`, beside the `/cancel`'s.
    wait_until(|| device.in_flight() == 2, "the /cancel is queued").await;
    gate.allow(usize::MAX);
    assert!(
        router
            .wait_for(
                |log| log
                    .iter()
                    .any(|s| s.path() == "/cancel" && s.attribute("tag") == Some(tag.as_bytes())),
                Duration::from_secs(20)
            )
            .await,
        "the /cancel of a command the router got in part"
    );
    wait_until(|| device.in_flight() == 0, "the router finishes both").await;
    assert_eq!(router.received_paths(), ["/middle", "/cancel"]);
    let stats = device.snapshot();
    assert_eq!(stats.commands_cancelled, 1);
    assert_eq!(stats.bytes_sent, gate.passed() as u64);
    assert_eq!(stats.sentences_sent - before.sentences_sent, 2);
}

/// A command whose deadline passes while it waits unwritten behind a
/// stalled socket ends with its timeout and is never sent.
async fn a_command_timed_out_before_it_was_written_is_never_sent() {
    let (router, gate, device) = behind_a_shut_gate().await;
    let passed = gate.passed();
    let timed = device
        .send_command(cmd("/first").with_timeout(Duration::from_millis(50)))
        .await
        .unwrap();
    let items = drain(timed).await;
    common::assert_ends_timed_out(&items, TimeoutKind::Command);
    assert_eq!(device.in_flight(), 0, "nothing to cancel");
    assert_eq!(gate.passed(), passed);
    gate.allow(usize::MAX);
    still_answers(&device).await;
    assert_eq!(router.received_paths(), ["/system/identity/print"]);
    assert_eq!(device.snapshot().commands_timed_out, 1);
}

/// Sent and dropped in one poll of a current-thread runtime, before the
/// connection's task could run at all: never sent, nothing to cancel.
#[test]
fn a_command_dropped_in_the_poll_that_sent_it_is_never_sent() {
    common::on_tokio_current_thread(async {
        let router = silent_router();
        let device = connect(&router).await;
        router.clear_received();
        drop(device.send_command(cmd("/first")).await.unwrap());
        still_answers(&device).await;
        assert_eq!(router.received_paths(), ["/system/identity/print"]);
        assert_eq!(device.in_flight(), 0);
        assert_eq!(device.snapshot().commands_cancelled, 1);
    });
}

on_every_runtime![
    quick_start_shape,
    trap_and_empty_are_followed_by_done,
    unread_listen_never_blocks_other_commands,
    dropping_a_quiet_stream_cancels_at_once,
    words_of_every_prefix_size_survive_the_whole_path,
    ten_thousand_concurrent_commands_get_their_own_replies,
    a_cut_mid_sentence_ends_every_stream_with_an_error,
    fatal_reaches_every_stream_then_sends_fail_at_once,
    a_slow_reader_overflows_alone,
    a_reader_that_keeps_taking_never_overflows,
    keep_latest_keeps_the_newest,
    dropping_every_handle_closes_the_connection,
    one_byte_writes_for_a_whole_session,
    command_deadline_ends_one_command_only,
    a_silent_peer_is_found_by_the_keepalive,
    a_command_dropped_before_it_was_written_is_never_sent,
    a_command_dropped_after_part_of_it_was_written_is_cancelled,
    a_command_timed_out_before_it_was_written_is_never_sent,
];

/// A reader that keeps up is never overflowed, even when it shares one thread
/// with the connection (Tokio's current-thread runtime, smol's block_on).
async fn a_fast_stream_with_the_default_buffer_never_overflows() {
    let router = MockRouter::builder()
        .script("/bulk", Script::bulk(200_000, [("k", "0123456789abcdef")]))
        .start();
    let device = connect(&router).await;
    let mut stream = device.send_command(cmd("/bulk")).await.unwrap();
    let mut rows = 0;
    while let Some(item) = stream.recv().await {
        match item.unwrap() {
            CommandResponse::Reply(_) => rows += 1,
            CommandResponse::Done(_) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(rows, 200_000);
}

on_every_runtime![a_fast_stream_with_the_default_buffer_never_overflows];
