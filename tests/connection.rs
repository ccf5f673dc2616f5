//! The connection actor through the public API, against the MockRouter, on
//! Tokio (multi-thread and current-thread) and smol.

mod common;

use std::time::{Duration, Instant};

use common::{cmd, connect, drain};
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
    let _ = device.send_command(cmd("/die")).await.unwrap();
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
    assert!(
        matches!(
            slow.last(),
            Some(Err(Error::Timeout {
                what: TimeoutKind::Command,
                ..
            }))
        ),
        "{slow:?}"
    );
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
    assert!(
        matches!(
            items.last(),
            Some(Err(Error::Timeout {
                what: TimeoutKind::Keepalive,
                ..
            }))
        ),
        "{items:?}"
    );
    assert!(device.is_closed());
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
