//! Hardening of the API side (issue 11): huge deadlines, a panicking task,
//! huge router text in errors, cloned commands, misused builders, and a
//! `!trap` followed by silence. Each case runs on every runtime.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{Item, cmd, connect, drain, sentence};
use futures_util::future::join_all;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::{CommandResponse, QUOTE_LIMIT};
use mikrotik_rs::runtime::{AsyncIoRuntime, BackgroundExecutor};
use mikrotik_rs::testing::{MockRouter, Script};
use mikrotik_rs::{Error, MikrotikDevice, ResponseStream, TimeoutKind};

/// 4 MiB: far more than any error should ever quote.
const HUGE: usize = 4 << 20;
/// What a quoted error may hold at most: the quote, its marker, and the
/// error's own words.
const SHORT: usize = QUOTE_LIMIT + 200;

/// The connection still runs commands: a print of a single-row menu works.
async fn assert_works(device: &MikrotikDevice) {
    let found = device
        .collect(cmd("/system/identity/print"))
        .await
        .expect("the connection still works");
    assert_eq!(found.len(), 1);
    assert!(!device.is_closed());
}

// ---------------------------------------------------------------------------
// Defect 1: a deadline beyond what the clock holds is no deadline.

async fn huge_connect_and_login_timeouts_mean_no_deadline() {
    let router = MockRouter::start();
    for huge in [Duration::MAX, Duration::from_secs(u64::MAX)] {
        let device = MikrotikDevice::builder(router.address())
            .connect_timeout(huge)
            .login_timeout(huge)
            .connect()
            .await
            .expect("a huge timeout waits as long as it takes, without panicking");
        assert_works(&device).await;
    }
}

// ---------------------------------------------------------------------------
// Defect 2: a panicking task on the background executor ends alone.

async fn the_background_executor_survives_a_panicking_task() {
    let router = MockRouter::start();
    // Connections on async-io run on the process-wide background executor,
    // whatever runtime the test itself runs on.
    let on_async_io =
        || MikrotikDevice::builder(router.address()).runtime(Arc::new(AsyncIoRuntime::new()));
    let before = on_async_io().connect().await.expect("connect");
    assert_works(&before).await;
    let (done, panicked) = async_channel::bounded::<()>(1);
    BackgroundExecutor::global().spawn(Box::pin(async move {
        let _done = done; // dropped as the task unwinds
        panic!("a task on the background executor fails on purpose");
    }));
    assert!(panicked.recv().await.is_err(), "the task ran and unwound");
    // The connection that was running goes on, and new ones work.
    assert_works(&before).await;
    let after = on_async_io()
        .login_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("a connect after the panic works");
    assert_works(&after).await;
    assert_works(&before).await;
}

// ---------------------------------------------------------------------------
// Defect 3: router text is quoted short in every stream's error.

/// Opens 200 silent commands, waits until the router has them all, then
/// sends `trigger`; returns the items of every stream (trigger last).
async fn two_hundred_streams_then(
    router: &MockRouter,
    device: &MikrotikDevice,
    trigger: &str,
) -> Vec<Vec<Item>> {
    router.clear_received();
    let mut streams = Vec::new();
    for _ in 0..200 {
        streams.push(device.send_command(cmd("/silent")).await.unwrap());
    }
    assert!(
        router
            .wait_for(
                |log| log.iter().filter(|s| s.path() == "/silent").count() == 200,
                Duration::from_secs(30),
            )
            .await,
        "the silent commands reached the router"
    );
    streams.push(device.send_command(cmd(trigger)).await.unwrap());
    join_all(streams.into_iter().map(drain)).await
}

async fn a_four_mib_fatal_reason_reaches_every_stream_short() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .script("/die", Script::Fatal("x".repeat(HUGE)))
        .start();
    let device = connect(&router).await;
    let results = two_hundred_streams_then(&router, &device, "/die").await;
    assert_eq!(results.len(), 201);
    for items in &results {
        let Some(Ok(CommandResponse::Fatal(reason))) = items.last() else {
            panic!(
                "every stream ends with the fatal reason: {:?}",
                items.last().map(|_| ())
            )
        };
        assert!(reason.len() <= SHORT, "{} bytes of reason", reason.len());
        assert!(reason.starts_with("xxxx"));
        assert!(reason.ends_with("(4194304 bytes)"), "says how long it was");
    }
    let Some(Error::Fatal(first)) = device.closed_reason() else {
        panic!("the connection ended with the fatal error")
    };
    assert!(first.len() <= SHORT && first.ends_with("(4194304 bytes)"));
    assert!(device.closed_reason().unwrap().to_string().len() <= SHORT);
    // Every copy of the error shares the one allocation.
    let Some(Error::Fatal(second)) = device.closed_reason() else {
        panic!()
    };
    assert!(Arc::ptr_eq(&first, &second));
    let later = device.send_command(cmd("/silent")).await;
    assert!(matches!(later, Err(Error::Fatal(ref r)) if Arc::ptr_eq(r, &first)));
}

async fn a_four_mib_reply_word_or_tag_reaches_every_stream_short() {
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .start();
    let mut word = vec![b'!'];
    word.resize(HUGE + 1, b'w');
    let mut tag = b".tag=".to_vec();
    tag.resize(HUGE + 5, b't');
    let cases: [(Vec<u8>, &str); 2] = [
        (sentence(&[&word, b"=a=b"]), "(4194305 bytes)"),
        (sentence(&[b"!re", &tag, b"=a=b"]), "(4194304 bytes)"),
    ];
    for (bytes, marker) in cases {
        router.set_script("/bad", Script::Raw(bytes));
        let device = connect(&router).await;
        let results = two_hundred_streams_then(&router, &device, "/bad").await;
        for items in &results {
            let Some(Err(error)) = items.last() else {
                panic!("every stream ends with the protocol error")
            };
            assert!(matches!(error, Error::Protocol(_)), "{error:.100}");
            let text = error.to_string();
            assert!(text.len() <= SHORT, "{} bytes of error", text.len());
            assert!(text.contains(marker), "{text}");
        }
    }
}

// ---------------------------------------------------------------------------
// Defect 5: a clone is a new command with its own tag.

/// Every item of `items` is a reply to `tag`, the last one its `!done`.
fn assert_own_replies(items: &[Item], tag: uuid::Uuid) -> usize {
    assert!(
        matches!(items.last(), Some(Ok(CommandResponse::Done(_)))),
        "ends with !done"
    );
    for item in items {
        let reply = item.as_ref().expect("no error");
        assert_eq!(reply.tag(), Some(tag), "only its own replies");
    }
    items.len()
}

async fn a_cloned_command_sent_with_its_original_gets_its_own_replies() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let original = cmd("/interface/print");
    let copy = original.clone();
    assert_ne!(copy.tag(), original.tag());
    let a = device.send_command(original.clone()).await.unwrap();
    let b = device.send_command(copy).await.unwrap();
    let (tag_a, tag_b) = (a.tag(), b.tag());
    let both = join_all([drain(a), drain(b)]).await;
    let (items_a, items_b) = (&both[0], &both[1]);
    let rows = assert_own_replies(items_a, tag_a);
    assert!(rows > 1, "the interfaces and !done");
    assert_eq!(assert_own_replies(items_b, tag_b), rows);
    // A hundred clones at once.
    let streams = join_all((0..100).map(|_| device.send_command(original.clone()))).await;
    let streams: Vec<ResponseStream> = streams.into_iter().map(Result::unwrap).collect();
    let tags: HashSet<_> = streams.iter().map(ResponseStream::tag).collect();
    assert_eq!(tags.len(), 100, "every clone has its own tag");
    let tags: Vec<_> = streams.iter().map(ResponseStream::tag).collect();
    let results = join_all(streams.into_iter().map(drain)).await;
    for (items, tag) in results.iter().zip(tags) {
        assert_eq!(assert_own_replies(items, tag), rows);
    }
    assert_works(&device).await;
    assert_eq!(device.closed_reason().map(|e| e.to_string()), None);
}

// ---------------------------------------------------------------------------
// Defect 6: a misused builder is refused before anything is written.

async fn misused_builders_are_refused_before_anything_is_written() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    router.clear_received();
    let print = || CommandBuilder::new().command("/ip/address/print");
    let cases = [
        (print().word(b"").build(), "empty word"),
        (print().attribute("a=b", Some("c")).build(), "contains `=`"),
        (print().query_equal("a=b", "c").build(), "contains `=`"),
        (print().attribute("", Some("c")).build(), "key is empty"),
        (print().query_is_present("").build(), "key is empty"),
    ];
    for (command, expected) in cases {
        match device.send_command(command).await {
            Err(Error::InvalidCommand { reason }) => {
                assert!(reason.contains(expected), "{reason:?} vs {expected:?}")
            }
            other => panic!("not refused: {:?}", other.map(|s| s.tag())),
        }
        assert!(!device.is_closed());
    }
    // The menu helpers build through the same builder, so they refuse too.
    let addresses = device.menu("/ip/address");
    let before = router.items("/ip/address");
    let added = addresses
        .add(&[("address", "10.9.9.9/24"), ("comment=disabled", "yes")])
        .await;
    assert!(
        matches!(&added, Err(Error::InvalidCommand { reason }) if reason.contains("\"comment\"")),
        "{added:?}"
    );
    let printed = addresses.print().query_equal("a=b", "c").await;
    assert!(
        matches!(printed, Err(Error::InvalidCommand { .. })),
        "{printed:?}"
    );
    let set = addresses.set("*1", &[("", "x")]).await;
    assert!(matches!(set, Err(Error::InvalidCommand { .. })), "{set:?}");
    assert_eq!(
        router.items("/ip/address"),
        before,
        "nothing was added or changed"
    );
    // Nothing reached the router, and the connection still works.
    assert_works(&device).await;
    assert_eq!(router.received_paths(), ["/system/identity/print"]);
}

// ---------------------------------------------------------------------------
// Defect 12: a `!trap` followed by silence keeps the router's message.

/// Answers only with a trap: no `!done` ever follows.
fn trap_then_silence(message: &'static str) -> Script {
    Script::custom(move |sentence| {
        let tag = sentence
            .words()
            .find(|w| w.starts_with(b".tag="))
            .unwrap_or_default()
            .to_vec();
        let message = format!("=message={message}").into_bytes();
        vec![vec![
            b"!trap".to_vec(),
            tag,
            b"=category=1".to_vec(),
            message,
        ]]
    })
}

async fn a_trap_then_silence_ends_collect_with_the_trap() {
    let router = MockRouter::builder()
        .script("/tool/stuck", trap_then_silence("no such item"))
        .start();
    let device = connect(&router).await;
    let stuck = || cmd("/tool/stuck").with_timeout(Duration::from_millis(300));
    for result in [
        device.collect(stuck()).await.map(drop),
        device.run(stuck()).await.map(drop),
    ] {
        let error = result.expect_err("the command failed");
        let traps = error
            .traps()
            .unwrap_or_else(|| panic!("not the trap: {error}"));
        assert_eq!(traps.len(), 1);
        assert_eq!(traps[0].message, "no such item");
    }
    // The device's own command timeout works the same way.
    let device = MikrotikDevice::builder(router.address())
        .command_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    let error = device.collect(cmd("/tool/stuck")).await.unwrap_err();
    assert_eq!(
        error.traps().map(|t| t[0].message.as_str()),
        Some("no such item")
    );
    // Without a trap, a deadline is still a timeout.
    router.set_script("/tool/silent", Script::Silent);
    let error = device.collect(cmd("/tool/silent")).await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_works(&device).await;
}

async fn a_refused_login_then_silence_is_an_authentication_error() {
    let router = MockRouter::builder()
        .script(
            "/login",
            trap_then_silence("invalid user name or password (6)"),
        )
        .start();
    let result = MikrotikDevice::builder(router.address())
        .credentials("admin", Some("wrong"))
        .login_timeout(Duration::from_millis(300))
        .connect()
        .await;
    match result {
        Err(Error::Authentication { message, .. }) => {
            assert_eq!(message, "invalid user name or password (6)");
        }
        other => panic!("not an authentication error: {:?}", other.err()),
    }
    // A login that gets no answer at all still times out.
    router.set_script("/login", Script::Silent);
    let result = MikrotikDevice::builder(router.address())
        .login_timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Timeout {
                what: TimeoutKind::Login,
                ..
            })
        ),
        "{:?}",
        result.err()
    );
}

on_every_runtime!(
    huge_connect_and_login_timeouts_mean_no_deadline,
    the_background_executor_survives_a_panicking_task,
    a_four_mib_fatal_reason_reaches_every_stream_short,
    a_four_mib_reply_word_or_tag_reaches_every_stream_short,
    a_cloned_command_sent_with_its_original_gets_its_own_replies,
    misused_builders_are_refused_before_anything_is_written,
    a_trap_then_silence_ends_collect_with_the_trap,
    a_refused_login_then_silence_is_an_authentication_error,
);
