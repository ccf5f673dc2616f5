//! The defects a hostile router, unusual but legal uses of the API and a code
//! review found in the connection actor (issue "Hardening"), each pinned by
//! the test that failed before its fix. Every body runs on every runtime.

mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::tap::{Crossed, Tapped};
use common::{cmd, drain, tagged, wait_until};
use mikrotik_rs::connection::{self, BufferPolicy, ConnectionOptions};
use mikrotik_rs::protocol::{CommandResponse, Decoder, encode_sentence};
use mikrotik_rs::runtime::{AsyncStream, BoxedStream, Runtime, default_runtime};
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{Error, MikrotikDevice};

fn runtime() -> Arc<dyn Runtime> {
    default_runtime().expect("a runtime feature is on")
}

/// A connection made by hand over `io`, logged in, with `options`.
async fn connect_with(
    io: impl mikrotik_rs::runtime::AsyncStream,
    options: ConnectionOptions,
) -> MikrotikDevice {
    let runtime = runtime();
    let (handle, connection) = connection::new(io, Arc::clone(&runtime), options);
    let device = MikrotikDevice::from(handle);
    runtime.spawn(Box::pin(connection));
    device.login("admin", None).await.expect("login");
    device
}

async fn tcp(router: &MockRouter) -> BoxedStream {
    runtime().connect(router.addr()).await.expect("tcp connect")
}

// ---------------------------------------------------------------- defect 1

/// Deadlines too far away to represent are no deadlines, not a panic.
async fn huge_deadlines_are_no_deadlines() {
    let router = MockRouter::start();
    let device = MikrotikDevice::builder(router.address())
        .command_timeout(Duration::MAX)
        .keepalive(Duration::MAX, Duration::MAX)
        .connect()
        .await
        .unwrap();
    let items = drain(
        device
            .send_command(cmd("/system/identity/print").with_timeout(Duration::MAX))
            .await
            .unwrap(),
    )
    .await;
    assert!(matches!(items.last(), Some(Ok(CommandResponse::Done(_)))));
    // A keepalive that probes soon but waits "forever" for the answer.
    let probing = MikrotikDevice::builder(router.address())
        .keepalive(Duration::from_millis(1), Duration::MAX)
        .connect()
        .await
        .unwrap();
    async_io::Timer::after(Duration::from_millis(50)).await;
    common::still_answers(&probing).await;
    assert!(!device.is_closed() && !probing.is_closed());
}

// ---------------------------------------------------------------- defect 2

/// A stream that panics when read once `armed`: a stand-in for any bug in
/// the connection task.
fn panics_on_read(inner: BoxedStream, armed: Arc<AtomicBool>) -> impl AsyncStream {
    Tapped::new(inner, move |crossed| {
        if matches!(crossed, Crossed::Read(_)) && armed.load(Ordering::SeqCst) {
            panic!("a bug in the connection task (injected by the test)");
        }
    })
}

/// A panic in one connection ends that connection's streams with an error
/// that says so; other connections on the same runtime (the shared
/// background thread for async-io) go on, and later connects work.
async fn a_panicking_connection_ends_alone() {
    let router = common::silent_router();
    let bystander = common::connect(&router).await;
    let mut bystander_listen = bystander.send_command(cmd("/silent")).await.unwrap();
    let armed = Arc::new(AtomicBool::new(false));
    let io = panics_on_read(tcp(&router).await, Arc::clone(&armed));
    let victim = connect_with(io, ConnectionOptions::default()).await;
    armed.store(true, Ordering::SeqCst);
    let items = drain(
        victim
            .send_command(cmd("/system/identity/print"))
            .await
            .unwrap(),
    )
    .await;
    match items.last() {
        Some(Err(Error::Internal { message })) => {
            assert!(message.contains("injected by the test"), "{message}")
        }
        other => panic!("expected Error::Internal, got {other:?}"),
    }
    assert!(matches!(
        victim.closed_reason(),
        Some(Error::Internal { .. })
    ));
    // The others are untouched.
    common::still_answers(&bystander).await;
    let later = common::connect(&router).await;
    common::still_answers(&later).await;
    assert!(!bystander.is_closed());
    let _ = &mut bystander_listen;
}

// ---------------------------------------------------------------- defect 4

/// `KeepLatest` drops old data rows only: a `!trap` after the rows reaches a
/// reader that looks late, before `!done`.
async fn keep_latest_never_drops_a_trap() {
    let reply = Reply::new()
        .row([("n", "1")])
        .row([("n", "2")])
        .row([("n", "3")])
        .trap(Some(1), "failure: the point of the test");
    let router = MockRouter::builder()
        .script("/rows-then-trap", Script::Reply(reply))
        .start();
    let device = common::connect(&router).await;
    let stream = device
        .send_command_with(cmd("/rows-then-trap"), BufferPolicy::KeepLatest(1))
        .await
        .unwrap();
    wait_until(|| device.in_flight() == 0, "the command finished").await;
    async_io::Timer::after(Duration::from_millis(300)).await;
    let items = drain(stream).await;
    let kinds: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(CommandResponse::Reply(row)) => format!("re {}", row.get("n").unwrap()),
            Ok(CommandResponse::Trap(trap)) => format!("trap {}", trap.message),
            Ok(CommandResponse::Done(_)) => "done".to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["re 3", "trap failure: the point of the test", "done"]
    );
}

// ---------------------------------------------------------------- defect 5

/// A tag can never be registered twice: the second command with a tag in
/// flight is refused on its own stream; the first and the connection go on.
async fn a_tag_in_flight_is_never_registered_twice() {
    let router = common::silent_router();
    let device = common::connect(&router).await;
    let tag = uuid::Uuid::new_v4();
    let first = device.send_command(tagged(tag, "/silent")).await.unwrap();
    let second = device
        .send_command(tagged(tag, "/system/identity/print"))
        .await
        .unwrap();
    let items = drain(second).await;
    assert!(
        matches!(items.as_slice(), [Err(Error::InvalidCommand { reason })] if reason.contains("already used")),
        "{items:?}"
    );
    common::still_answers(&device).await;
    assert_eq!(
        router
            .received()
            .iter()
            .filter(|s| s.path() == "/system/identity/print")
            .count(),
        1,
        "the refused command was never written"
    );
    assert!(!device.is_closed());
    drop(first);
}

/// The refused second command's stream, dropped unread, must not end the
/// first command that holds the tag: its drop names only the tag, and the
/// actor must not take that for the first command's cancel.
async fn dropping_a_refused_stream_leaves_the_tags_command_alone() {
    let router = common::silent_router();
    let device = common::connect(&router).await;
    let tag = uuid::Uuid::new_v4();
    let mut first = device.send_command(tagged(tag, "/silent")).await.unwrap();
    let second = device
        .send_command(tagged(tag, "/system/identity/print"))
        .await
        .unwrap();
    // Refused on its own stream; dropped without reading that refusal.
    drop(second);
    // A round trip after the drop: the actor has handled it by then.
    common::still_answers(&device).await;
    assert_eq!(device.in_flight(), 1, "the first command still runs");
    let cancels = router
        .received()
        .iter()
        .filter(|s| s.path() == "/cancel")
        .count();
    assert_eq!(cancels, 0, "the first command was cancelled on the router");
    let ended = common::next_within(&mut first, Duration::from_millis(100)).await;
    assert!(
        ended.is_none(),
        "the first command's stream ended: {ended:?}"
    );
    drop(first);
}

/// A tag is free again once its command ended: a later command may carry
/// it. The earlier command's deadline is its own, never the later one's.
async fn a_reused_tag_does_not_inherit_the_earlier_deadline() {
    let router = common::silent_router();
    let device = common::connect(&router).await;
    let tag = uuid::Uuid::new_v4();
    let quick = tagged(tag, "/system/identity/print").with_timeout(Duration::from_millis(200));
    device.collect(quick).await.unwrap();
    let mut later = device.send_command(tagged(tag, "/silent")).await.unwrap();
    async_io::Timer::after(Duration::from_millis(500)).await;
    let ended = common::next_within(&mut later, Duration::from_millis(20)).await;
    assert!(
        ended.is_none(),
        "the later command ended at the earlier one's deadline: {ended:?}"
    );
    assert_eq!(device.in_flight(), 1, "the later command still runs");
    drop(later);
}

// ---------------------------------------------------------------- defect 8

fn big_rows(count: usize, bytes: usize) -> Script {
    Script::bulk(count, [("data", "x".repeat(bytes))])
}

/// A stalled reader of large rows: the buffer is bounded in bytes, not only
/// in replies; the command overflows before 8 × the byte bound.
async fn a_stalled_reader_is_bounded_in_bytes() {
    const ROW: usize = 64 << 10;
    const LIMIT: usize = 1 << 20;
    let router = MockRouter::builder()
        .script("/big", big_rows(200, ROW))
        .start();
    let device = MikrotikDevice::builder(router.address())
        .max_unread_bytes(LIMIT)
        .connect()
        .await
        .unwrap();
    let stream = device.send_command(cmd("/big")).await.unwrap();
    wait_until(|| stream.unread() > 0, "rows arrive").await;
    wait_until(
        || device.in_flight() == 0,
        "overflow ends and cancels the command",
    )
    .await;
    let held = stream.unread_bytes();
    assert!(held <= 8 * LIMIT + ROW + 1024, "{held}");
    let items = drain(stream).await;
    assert!(
        matches!(items.last(), Some(Err(Error::Overflow { .. }))),
        "{} items, {held} bytes, last {:?}",
        items.len(),
        items.last()
    );
    assert!(items.len() < 200, "{} rows buffered", items.len());
}

/// A slow reader (one row every 20 ms) that keeps taking still cannot make
/// the command buffer without bound: at most 8 × the byte bound waits, plus
/// the batch the reader has taken and not read yet.
async fn a_slow_reader_is_bounded_in_bytes() {
    const ROW: usize = 64 << 10;
    const LIMIT: usize = 64 << 10;
    let router = MockRouter::builder()
        .script("/big", big_rows(100, ROW))
        .start();
    let device = MikrotikDevice::builder(router.address())
        .max_unread_bytes(LIMIT)
        .connect()
        .await
        .unwrap();
    let mut stream = device.send_command(cmd("/big")).await.unwrap();
    let mut most = 0;
    let last = loop {
        let item = stream.recv().await.expect("an end");
        most = most.max(stream.unread_bytes());
        if !matches!(item, Ok(CommandResponse::Reply(_))) {
            break item;
        }
        async_io::Timer::after(Duration::from_millis(20)).await;
    };
    assert!(matches!(last, Err(Error::Overflow { .. })), "{last:?}");
    assert!(most <= 2 * (8 * LIMIT + ROW + 1024), "held {most} bytes");
}

/// `Bounded(0)` is `Bounded(1)`: a reader waiting in `recv()` gets every row.
async fn bounded_zero_with_a_waiting_reader_gets_every_row() {
    let router = MockRouter::builder()
        .script("/bulk", Script::bulk(100, [("k", "v")]))
        .start();
    let device = common::connect(&router).await;
    let stream = device
        .send_command_with(cmd("/bulk"), BufferPolicy::Bounded(0))
        .await
        .unwrap();
    let items = drain(stream).await;
    assert_eq!(items.len(), 101, "{:?}", items.last());
    assert!(matches!(items.last(), Some(Ok(CommandResponse::Done(_)))));
}

// ---------------------------------------------------------------- defect 9

/// What a minimal router saw of one session.
#[derive(Debug, Default)]
struct Seen {
    cancels: usize,
    quit: bool,
    /// The client's side ended with a FIN (`Ok(0)`), not a reset.
    clean_eof: bool,
}

fn send(stream: &mut TcpStream, words: &[&[u8]]) -> io::Result<()> {
    let mut out = Vec::new();
    encode_sentence(words, &mut out);
    stream.write_all(&out)
}

/// A router in a thread: logs in anyone, never answers `/slow`, answers
/// `/cancel` as RouterOS does, and `/quit` with `!fatal` and a close; then
/// reads on until the client closes and reports how.
fn minimal_router() -> (
    std::net::SocketAddr,
    std::thread::JoinHandle<io::Result<Seen>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut seen = Seen::default();
        let mut decoder = Decoder::default();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) => {
                    seen.clean_eof = true;
                    return Ok(seen);
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(seen),
                Err(e) => return Err(e),
            };
            let mut input = &buf[..n];
            while let Some(sentence) = decoder.decode(&mut input).expect("client framing") {
                let words: Vec<&[u8]> = sentence.words().collect();
                let tag = words
                    .iter()
                    .find_map(|w| w.strip_prefix(b".tag="))
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                let tag_word = [b".tag=".as_slice(), &tag].concat();
                match words[0] {
                    b"/login" => send(&mut stream, &[b"!done", &tag_word])?,
                    b"/slow" => {}
                    b"/cancel" => {
                        seen.cancels += 1;
                        let target = words
                            .iter()
                            .find_map(|w| w.strip_prefix(b"=tag="))
                            .unwrap_or_default();
                        let target_word = [b".tag=".as_slice(), target].concat();
                        send(
                            &mut stream,
                            &[
                                b"!trap",
                                b"=category=2",
                                b"=message=interrupted",
                                &target_word,
                            ],
                        )?;
                        send(&mut stream, &[b"!done", &tag_word])?;
                        send(&mut stream, &[b"!done", &target_word])?;
                    }
                    b"/quit" => {
                        seen.quit = true;
                        send(&mut stream, &[b"!fatal", b"session terminated on request"])?;
                        stream.shutdown(Shutdown::Write)?;
                    }
                    other => panic!("unexpected command {:?}", String::from_utf8_lossy(other)),
                }
            }
        }
    });
    (addr, handle)
}

/// Dropping everything with 10,000 commands in flight: every `/cancel` and
/// the `/quit` reach the router, and the connection ends with a FIN, never a
/// reset (which would destroy replies and sentences in flight).
async fn dropping_everything_in_flight_shuts_down_cleanly() {
    let (addr, router) = minimal_router();
    let io = runtime().connect(addr).await.unwrap();
    let device = connect_with(io, ConnectionOptions::default()).await;
    let mut streams = Vec::new();
    for _ in 0..10_000 {
        streams.push(device.send_command(cmd("/slow")).await.unwrap());
    }
    wait_until(|| device.in_flight() == 10_000, "all commands registered").await;
    drop(streams);
    drop(device);
    let seen = smol::unblock(move || router.join().unwrap()).await.unwrap();
    assert_eq!(seen.cancels, 10_000, "{seen:?}");
    assert!(seen.quit, "{seen:?}");
    assert!(seen.clean_eof, "the client reset the connection: {seen:?}");
}

// --------------------------------------------------------------- defect 11

/// A `/cancel` the router never answers (or answers only with its own
/// `!done`) does not keep the cancelled command's route forever: after the
/// cancel patience it is dropped and counted, and `in_flight` returns to 0.
async fn an_unanswered_cancel_is_given_up_on() {
    for cancel_script in [Script::Silent, Script::done()] {
        let own_done = matches!(cancel_script, Script::Reply(_));
        let router = MockRouter::builder()
            .script("/silent", Script::Silent)
            .script("/cancel", cancel_script)
            .start();
        let mut options = ConnectionOptions::default();
        options.cancel_patience = Duration::from_millis(200);
        let device = connect_with(tcp(&router).await, options).await;
        let stream = device.send_command(cmd("/silent")).await.unwrap();
        wait_until(|| device.in_flight() == 1, "registered").await;
        drop(stream);
        wait_until(|| device.in_flight() == 0, "the routes were given up on").await;
        // The cancelled command; and the `/cancel` itself unless it was answered.
        assert_eq!(device.abandoned(), if own_done { 1 } else { 2 });
        common::still_answers(&device).await;
    }
}

/// A late reply to a command given up on is swallowed: it must not fail the
/// connection as an unknown tag.
async fn a_late_reply_after_giving_up_is_swallowed() {
    let router = MockRouter::builder()
        .script(
            "/cancel",
            Script::Reply(Reply::new().delay(Duration::from_millis(600))),
        )
        .script(
            "/late",
            Script::Reply(
                Reply::new()
                    .row([("a", "b")])
                    .delay(Duration::from_millis(600)),
            ),
        )
        .start();
    let mut options = ConnectionOptions::default();
    options.cancel_patience = Duration::from_millis(100);
    let device = connect_with(tcp(&router).await, options).await;
    let stream = device.send_command(cmd("/late")).await.unwrap();
    wait_until(|| device.in_flight() == 1, "registered").await;
    drop(stream);
    wait_until(|| device.abandoned() >= 1, "given up on").await;
    // The router answers both after the patience ran out.
    async_io::Timer::after(Duration::from_millis(1000)).await;
    assert!(!device.is_closed(), "{:?}", device.closed_reason());
    common::still_answers(&device).await;
}

on_every_runtime![
    huge_deadlines_are_no_deadlines,
    a_panicking_connection_ends_alone,
    keep_latest_never_drops_a_trap,
    a_tag_in_flight_is_never_registered_twice,
    dropping_a_refused_stream_leaves_the_tags_command_alone,
    a_reused_tag_does_not_inherit_the_earlier_deadline,
    a_stalled_reader_is_bounded_in_bytes,
    a_slow_reader_is_bounded_in_bytes,
    bounded_zero_with_a_waiting_reader_gets_every_row,
    dropping_everything_in_flight_shuts_down_cleanly,
    an_unanswered_cancel_is_given_up_on,
    a_late_reply_after_giving_up_is_swallowed,
];
