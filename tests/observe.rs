//! The counters: exactly what a scripted session against the mock did,
//! checked against a stream wrapper that counts the bytes and sentences
//! that really crossed, on every runtime.

mod common;

use common::{cmd, drain, wait_until};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_io::Async;
use common::tap::{Crossed, Tapped};
use mikrotik_rs::observe::prometheus_text;
use mikrotik_rs::protocol::{CommandResponse, Decoder};
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{BufferPolicy, Error, MikrotikDevice, Stats};

/// What crossed the wire, counted by the wrapper itself.
#[derive(Default)]
struct Wire {
    read: AtomicU64,
    written: AtomicU64,
    sentences_read: AtomicU64,
    sentences_written: AtomicU64,
}

/// A TCP stream to `router` that counts into `wire` the bytes and (decoding
/// a copy of each direction) the sentences that cross it.
async fn counting(router: &MockRouter, wire: Arc<Wire>) -> impl mikrotik_rs::runtime::AsyncStream {
    let socket = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let (mut decode_in, mut decode_out) = (Decoder::default(), Decoder::default());
    Tapped::new(socket, move |crossed| match crossed {
        Crossed::Read(bytes) => {
            wire.read.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            count_sentences(&mut decode_in, bytes, &wire.sentences_read);
        }
        Crossed::Wrote(bytes) => {
            wire.written.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            count_sentences(&mut decode_out, bytes, &wire.sentences_written);
        }
    })
}

fn count_sentences(decoder: &mut Decoder, mut bytes: &[u8], into: &AtomicU64) {
    while let Some(_sentence) = decoder.decode(&mut bytes).expect("valid wire bytes") {
        into.fetch_add(1, Ordering::SeqCst);
    }
}

fn scripted_router() -> MockRouter {
    MockRouter::builder()
        .script(
            "/ok",
            Script::Reply(
                Reply::new()
                    .row([("a", "1")])
                    .row([("a", "2")])
                    .row([("a", "3")]),
            ),
        )
        .script(
            "/trap",
            Script::Reply(Reply::new().trap(None, "no such item")),
        )
        .script("/silent", Script::Silent)
        .script("/bulk", Script::bulk(1_000, [("k", "v")]))
        .start()
}

/// Login, then one command of each outcome: done, trap, timed out,
/// cancelled by a dropped stream, overflowed; then one more done. Every
/// counter is exact.
async fn counters_match_a_scripted_session() {
    let router = scripted_router();
    let wire = Arc::new(Wire::default());
    let io = counting(&router, Arc::clone(&wire)).await;
    let device = MikrotikDevice::builder(router.address())
        .connect_stream(io)
        .await
        .unwrap();
    assert_eq!(device.snapshot().commands_started, 1, "the login");
    assert_eq!(device.snapshot().commands_done, 1);

    let ok = drain(device.send_command(cmd("/ok")).await.unwrap()).await;
    assert_eq!(ok.len(), 4);
    let trap = drain(device.send_command(cmd("/trap")).await.unwrap()).await;
    assert!(matches!(trap[0], Ok(CommandResponse::Trap(_))), "{trap:?}");
    let timed = drain(
        device
            .send_command(cmd("/silent").with_timeout(Duration::from_millis(50)))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        matches!(timed.last(), Some(Err(Error::Timeout { .. }))),
        "{timed:?}"
    );
    // Dropped once the router has it: a command dropped before any byte of
    // it was written is never sent, so there would be no `/cancel` to count.
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    wait_until(
        || router.received_count("/silent") == 2,
        "the router has the second /silent",
    )
    .await;
    drop(silent);
    let bulk = device
        .send_command_with(cmd("/bulk"), BufferPolicy::Bounded(1))
        .await
        .unwrap();
    wait_until(
        || device.snapshot().commands_overflowed == 1,
        "the unread bulk overflows",
    )
    .await;
    wait_until(|| device.in_flight() == 0, "every /cancel is finished").await;
    let items = drain(bulk).await;
    assert!(matches!(items.last(), Some(Err(Error::Overflow { .. }))));
    let last = drain(device.send_command(cmd("/ok")).await.unwrap()).await;
    assert!(matches!(last.last(), Some(Ok(CommandResponse::Done(_)))));

    let stats = device.snapshot();
    let mut expected = Stats::default();
    expected.commands_started = 7;
    expected.commands_done = 3; // the login and both /ok
    expected.commands_trapped = 1;
    expected.commands_timed_out = 1;
    expected.commands_cancelled = 1;
    expected.commands_overflowed = 1;
    expected.commands_in_flight = 0;
    expected.last_error = Some(Error::Overflow { capacity: 1 }.to_string());
    expected.bytes_received = wire.read.load(Ordering::SeqCst);
    expected.bytes_sent = wire.written.load(Ordering::SeqCst);
    expected.sentences_received = wire.sentences_read.load(Ordering::SeqCst);
    expected.sentences_sent = wire.sentences_written.load(Ordering::SeqCst);
    assert_eq!(stats, expected);
    // Seven commands and three /cancels (timeout, drop, overflow) went out.
    assert_eq!(stats.sentences_sent, 10);
    assert_eq!(stats.sentences_sent, router.received().len() as u64);
    assert!(stats.sentences_received > 1 + 4 + 2 + 256, "{stats:?}");

    let text = prometheus_text(&[("scripted", stats.clone())]);
    assert!(text.contains(&format!(
        "mikrotik_bytes_received_total{{router=\"scripted\"}} {}\n",
        stats.bytes_received
    )));
    assert!(
        text.contains(
            "mikrotik_commands_ended_total{router=\"scripted\",outcome=\"overflowed\"} 1\n"
        )
    );
}

/// A connection that ends under an open command counts it as lost, and
/// keeps the error.
async fn a_lost_connection_is_counted_once() {
    let router = scripted_router();
    let device = MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .unwrap();
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    wait_until(|| router.running_commands() == 1, "the router runs it").await;
    router.drop_connections();
    let items = drain(silent).await;
    assert!(matches!(items.last(), Some(Err(_))), "{items:?}");
    let stats = device.snapshot();
    assert_eq!(stats.commands_started, 2);
    assert_eq!(stats.commands_done, 1);
    assert_eq!(stats.commands_connection_lost, 1);
    assert_eq!(stats.commands_ended(), 2);
    assert_eq!(stats.commands_in_flight, 0);
    let reason = device.closed_reason().expect("closed").to_string();
    assert_eq!(stats.last_error, Some(reason));
    // Nothing more is counted for a command refused after the end.
    assert!(device.send_command(cmd("/ok")).await.is_err());
    assert_eq!(device.snapshot().commands_started, 2);
}

/// A fleet's total is the sum of its routers' snapshots.
#[test]
fn stats_sum() {
    let mut a = Stats::default();
    a.bytes_sent = 5;
    a.commands_done = 2;
    let mut b = Stats::default();
    b.bytes_sent = 7;
    b.last_error = Some("boom".into());
    let total = Stats::sum([&a, &b]);
    assert_eq!(total.bytes_sent, 12);
    assert_eq!(total.commands_done, 2);
    assert_eq!(total.last_error.as_deref(), Some("boom"));
    assert_eq!(Stats::sum([]), Stats::default());
}

on_every_runtime!(
    counters_match_a_scripted_session,
    a_lost_connection_is_counted_once,
);
