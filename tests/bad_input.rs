//! Bad input from the router never panics, never hangs, never grows memory
//! without bound: each case against the MockRouter, asserting the typed error
//! that every open stream receives, and that a new connection works afterwards.

mod common;

use std::time::{Duration, Instant};

use common::{Item, cmd, connect, drain, sentence};
use futures_util::future::join_all;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::{CommandResponse, DecoderLimits, ProtocolError};
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{Error, MikrotikDevice, TimeoutKind};

async fn connect_with_limits(router: &MockRouter, limits: DecoderLimits) -> MikrotikDevice {
    MikrotikDevice::builder(router.address())
        .limits(limits)
        .connect()
        .await
        .expect("connect to the mock")
}

/// A router whose `/silent` never answers: the open streams that must all
/// receive the error.
fn router() -> MockRouter {
    MockRouter::builder()
        .script("/silent", Script::Silent)
        .start()
}

/// Opens three silent commands, waits until the router has them, then sends
/// `trigger`; returns the items of all four streams (trigger last).
async fn inject(router: &MockRouter, device: &MikrotikDevice, trigger: &str) -> Vec<Vec<Item>> {
    router.clear_received();
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(device.send_command(cmd("/silent")).await.unwrap());
    }
    assert!(
        router
            .wait_for(
                |log| log.iter().filter(|s| s.path() == "/silent").count() == 3,
                Duration::from_secs(10),
            )
            .await,
        "the silent commands reached the router"
    );
    streams.push(device.send_command(cmd(trigger)).await.unwrap());
    join_all(streams.into_iter().map(drain)).await
}

/// Every stream ended with exactly `expected`, nothing after it, and the
/// connection is dead: later sends fail at once with the same error.
async fn assert_every_stream_got(
    device: &MikrotikDevice,
    results: &[Vec<Item>],
    expected: &ProtocolError,
) {
    for (i, items) in results.iter().enumerate() {
        match items.last() {
            Some(Err(Error::Protocol(got))) if got == expected => {}
            other => {
                panic!("stream {i} ended with {other:?}, expected {expected:?}; all: {items:?}")
            }
        }
        assert!(
            items[..items.len() - 1].iter().all(Result::is_ok),
            "stream {i}: {items:?}"
        );
    }
    assert!(device.is_closed());
    assert!(
        matches!(device.closed_reason(), Some(Error::Protocol(ref got)) if got == expected),
        "{:?}",
        device.closed_reason()
    );
    let later = device.send_command(cmd("/system/identity/print")).await;
    assert!(
        matches!(later, Err(Error::Protocol(ref got)) if got == expected),
        "{later:?}"
    );
    wait_until_idle(device).await;
}

/// `in_flight` drops to 0 right after the streams get the error (the actor
/// publishes it last), so wait a moment for it instead of racing it.
async fn wait_until_idle(device: &MikrotikDevice) {
    let start = Instant::now();
    while device.in_flight() != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{} commands still in flight",
            device.in_flight()
        );
        async_io::Timer::after(Duration::from_millis(1)).await;
    }
}

fn assert_closed_everywhere(results: &[Vec<Item>], mid_sentence: bool) {
    for (i, items) in results.iter().enumerate() {
        match items.last() {
            Some(Err(Error::ConnectionClosed { mid_sentence: got })) if *got == mid_sentence => {}
            other => panic!("stream {i} ended with {other:?}; all: {items:?}"),
        }
    }
}

/// After a failure, a new connection to the same router works.
async fn assert_reconnects(router: &MockRouter) {
    let device = connect(router).await;
    let items = drain(
        device
            .send_command(cmd("/system/identity/print"))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        matches!(
            items.as_slice(),
            [Ok(CommandResponse::Reply(_)), Ok(CommandResponse::Done(_))]
        ),
        "{items:?}"
    );
}

async fn control_bytes_fail_every_stream() {
    let router = router();
    for byte in 0xF1..=0xFFu8 {
        router.set_script("/bad", Script::Raw(vec![byte]));
        let device = connect(&router).await;
        let results = inject(&router, &device, "/bad").await;
        let expected = if byte >= 0xF8 {
            ProtocolError::ControlByte(byte)
        } else {
            ProtocolError::UnsupportedLengthPrefix(byte)
        };
        assert_every_stream_got(&device, &results, &expected).await;
    }
    assert_reconnects(&router).await;
}

async fn a_prefix_claiming_4_gib_then_silence_fails_at_once() {
    let router = router();
    // 0xFFFFFFF0 bytes announced; the router then says nothing more and keeps the socket open.
    router.set_script("/bad", Script::Raw(vec![0xF0, 0xFF, 0xFF, 0xFF, 0xF0]));
    let device = connect(&router).await;
    let results = inject(&router, &device, "/bad").await;
    let expected = ProtocolError::WordTooLong {
        len: 0xFFFF_FFF0,
        limit: DecoderLimits::default().max_word_len,
    };
    // From the prefix alone: the router sent nothing after it, so waiting
    // for the word would hang until the test's own limit.
    assert_every_stream_got(&device, &results, &expected).await;
    assert_reconnects(&router).await;
}

async fn a_word_over_the_limit_fails_every_stream() {
    let limits = DecoderLimits::new(100, 200, 16);
    let router = router();
    router.set_script("/bad", Script::Raw(sentence(&[b"!re", &[b'x'; 101]])));
    let device = connect_with_limits(&router, limits).await;
    let results = inject(&router, &device, "/bad").await;
    let expected = ProtocolError::WordTooLong {
        len: 101,
        limit: 100,
    };
    assert_every_stream_got(&device, &results, &expected).await;
    // A word exactly at the limit is fine.
    router.set_script("/ok", Script::Raw(sentence(&[b"!re", &[b'x'; 100]])));
    let device = connect_with_limits(&router, limits).await;
    let results = inject(&router, &device, "/ok").await;
    // (that sentence has no tag, so it fails the connection as untagged, not as too long)
    assert_every_stream_got(&device, &results, &ProtocolError::MissingTag("!re".into())).await;
    assert_reconnects(&router).await;
}

async fn a_sentence_over_the_limit_fails_every_stream() {
    let limits = DecoderLimits::new(100, 200, 16);
    let router = router();
    let eighty = [b'y'; 80];
    router.set_script(
        "/bad",
        Script::Raw(sentence(&[b"!re", &eighty, &eighty, &eighty])),
    );
    let device = connect_with_limits(&router, limits).await;
    let results = inject(&router, &device, "/bad").await;
    let expected = ProtocolError::SentenceTooLong {
        len: 243,
        limit: 200,
    };
    assert_every_stream_got(&device, &results, &expected).await;
    // Too many words is the same kind of failure.
    let words: Vec<&[u8]> = (0..17).map(|_| &b"=a=b"[..]).collect();
    router.set_script("/many", Script::Raw(sentence(&words)));
    let device = connect_with_limits(&router, limits).await;
    let results = inject(&router, &device, "/many").await;
    assert_every_stream_got(
        &device,
        &results,
        &ProtocolError::TooManyWords { limit: 16 },
    )
    .await;
    assert_reconnects(&router).await;
}

/// Untagged sentences cannot be routed: they fail the whole connection.
async fn untagged_bad_sentences_fail_every_stream() {
    let router = router();
    let cases: [(&[&[u8]], ProtocolError); 4] = [
        (&[b"=a=b"], ProtocolError::MissingReplyWord("=a=b".into())),
        (
            &[b"!bogus", b"=a=b"],
            ProtocolError::UnknownReplyWord("!bogus".into()),
        ),
        (&[b"!re", b"=a=b"], ProtocolError::MissingTag("!re".into())),
        (&[b"!done"], ProtocolError::MissingTag("!done".into())),
    ];
    for (words, expected) in cases {
        router.set_script("/bad", Script::Raw(sentence(words)));
        let device = connect(&router).await;
        let results = inject(&router, &device, "/bad").await;
        assert_every_stream_got(&device, &results, &expected).await;
    }
    assert_reconnects(&router).await;
}

async fn a_tag_of_no_command_fails_every_stream() {
    let router = router();
    let foreign = uuid::Uuid::new_v4().hyphenated().to_string();
    let cases = [
        (format!(".tag={foreign}"), foreign.clone()),
        (".tag=garbage".to_owned(), "garbage".to_owned()),
        (".tag=".to_owned(), String::new()),
    ];
    for (word, value) in cases {
        router.set_script(
            "/bad",
            Script::Raw(sentence(&[b"!re", word.as_bytes(), b"=a=b"])),
        );
        let device = connect(&router).await;
        let results = inject(&router, &device, "/bad").await;
        assert_every_stream_got(&device, &results, &ProtocolError::UnknownTag(value)).await;
    }
    assert_reconnects(&router).await;
}

fn tag_of(sentence: &mikrotik_rs::protocol::Sentence) -> Vec<u8> {
    sentence
        .words()
        .find(|w| w.starts_with(b".tag="))
        .expect("the client tags every command")
        .to_vec()
}

async fn a_done_for_a_finished_command_fails_every_other_stream() {
    let router = router();
    let twice = Script::custom(|sentence| {
        let tag = tag_of(sentence);
        vec![
            vec![b"!done".to_vec(), tag.clone()],
            vec![b"!done".to_vec(), tag],
        ]
    });
    router.set_script("/twice", twice);
    let device = connect(&router).await;
    let mut results = inject(&router, &device, "/twice").await;
    let trigger = results.pop().unwrap();
    assert!(
        matches!(trigger.as_slice(), [Ok(CommandResponse::Done(_))]),
        "the command itself finished normally: {trigger:?}"
    );
    let Ok(CommandResponse::Done(done)) = &trigger[0] else {
        unreachable!()
    };
    let expected = ProtocolError::UnknownTag(done.tag.hyphenated().to_string());
    assert_every_stream_got(&device, &results, &expected).await;
    assert_reconnects(&router).await;
}

/// A malformed sentence that carries a known tag goes to that command only,
/// as an error item; the command and the connection go on.
async fn a_bad_sentence_with_a_known_tag_goes_to_its_command_only() {
    let router = router();
    let cases: [(&[u8], ProtocolError); 2] = [
        (b"!bogus", ProtocolError::UnknownReplyWord("!bogus".into())),
        (b"=a=b", ProtocolError::MissingReplyWord("=a=b".into())),
    ];
    for (first, expected) in cases {
        let first = first.to_vec();
        router.set_script(
            "/odd",
            Script::custom(move |sentence| {
                let tag = tag_of(sentence);
                vec![
                    vec![first.clone(), b"=x=1".to_vec(), tag.clone()],
                    vec![b"!re".to_vec(), tag.clone(), b"=x=2".to_vec()],
                    vec![b"!done".to_vec(), tag],
                ]
            }),
        );
        let device = connect(&router).await;
        let silent: Vec<_> = join_all((0..3).map(|_| device.send_command(cmd("/silent")))).await;
        let items = drain(device.send_command(cmd("/odd")).await.unwrap()).await;
        assert!(
            matches!(&items[0], Err(Error::Protocol(got)) if *got == expected),
            "{items:?}"
        );
        assert!(
            matches!(&items[1], Ok(CommandResponse::Reply(row)) if row.get("x") == Some("2")),
            "{items:?}"
        );
        assert!(
            matches!(&items[2], Ok(CommandResponse::Done(_))),
            "{items:?}"
        );
        assert_eq!(items.len(), 3);
        // The other commands and the connection are untouched.
        assert!(!device.is_closed());
        for stream in &silent {
            assert_eq!(stream.as_ref().unwrap().unread(), 0);
        }
        let items = drain(
            device
                .send_command(cmd("/system/identity/print"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(items.len(), 2, "{items:?}");
        drop(silent);
    }
}

async fn eof_anywhere_ends_every_stream() {
    let router = router();
    let cases: [(&str, Vec<u8>); 3] = [
        ("inside a length prefix", vec![0x81]),
        ("inside a word", vec![0x05, b'!', b'd']),
        ("between words", sentence(&[b"!re"])[..4].to_vec()),
    ];
    for (what, bytes) in cases {
        router.set_script("/cut", Script::RawThenClose(bytes));
        let device = connect(&router).await;
        let results = inject(&router, &device, "/cut").await;
        assert!(
            results.iter().all(|items| items.len() == 1),
            "{what}: {results:?}"
        );
        assert_closed_everywhere(&results, true);
        assert!(device.is_closed(), "{what}");
    }
    // Between sentences: the cut falls right after the first of two sentences
    // (`!re` + `.tag=` of 36 + `=a=b` + terminator = 52 bytes).
    router.set_script("/one", Reply::new().row([("a", "b")]).into());
    router.set_close_after_bytes(Some(52));
    let device = connect(&router).await;
    let mut results = inject(&router, &device, "/one").await;
    router.set_close_after_bytes(None);
    let trigger = results.pop().unwrap();
    assert!(
        matches!(
            trigger.as_slice(),
            [Ok(CommandResponse::Reply(row)), Err(Error::ConnectionClosed { mid_sentence: false })]
                if row.get("a") == Some("b")
        ),
        "{trigger:?}"
    );
    assert_closed_everywhere(&results, false);
    assert!(device.is_closed());
    assert_reconnects(&router).await;
}

/// Rows whose values hold every byte value, 0x00 included, invalid UTF-8 and
/// prefixes of every size.
fn binary_reply() -> Reply {
    let every_byte: Vec<u8> = (0..=255u8).collect();
    Reply::new()
        .row([
            (&b"blob"[..], every_byte.clone()),
            (&b"zeros"[..], vec![0, 0, 0]),
            (&b"cp1252"[..], b"caf\xe9".to_vec()),
            (&b"empty"[..], Vec::new()),
            (&b"eq"[..], b"a=b=c".to_vec()),
        ])
        .row([(&b"big"[..], every_byte.repeat(300))])
        .trap(Some(1), b"bad \x00 value \xff")
        .ret(b"*\x00\xff")
}

fn assert_binary_items(items: &[Item]) {
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let [
        Ok(CommandResponse::Reply(first)),
        Ok(CommandResponse::Reply(second)),
        Ok(CommandResponse::Trap(trap)),
        Ok(CommandResponse::Done(done)),
    ] = items
    else {
        panic!("{items:?}")
    };
    assert_eq!(first.get_raw("blob"), Some(&every_byte[..]));
    assert_eq!(first.get("blob"), None, "not UTF-8: no text view");
    assert_eq!(first.get_raw("zeros"), Some(&[0, 0, 0][..]));
    assert_eq!(first.get("zeros"), Some("\0\0\0"));
    assert_eq!(first.get_raw("cp1252"), Some(&b"caf\xe9"[..]));
    assert_eq!(
        first.attributes.get_lossy("cp1252").as_deref(),
        Some("caf\u{fffd}")
    );
    assert_eq!(first.get("empty"), Some(""));
    assert_eq!(first.get("eq"), Some("a=b=c"));
    assert_eq!(second.get_raw("big"), Some(&every_byte.repeat(300)[..]));
    assert_eq!(
        trap.attributes_raw.get("message"),
        Some(&b"bad \x00 value \xff"[..])
    );
    assert_eq!(trap.message, "bad \0 value \u{fffd}");
    assert_eq!(done.ret_raw(), Some(&b"*\x00\xff"[..]));
}

async fn binary_values_arrive_intact() {
    let router = MockRouter::builder()
        .script("/bin", binary_reply().into())
        .start();
    let device = connect(&router).await;
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let sent = CommandBuilder::new()
        .command("/bin")
        .attribute_raw("payload", Some(&every_byte))
        .build();
    let items = drain(device.send_command(sent).await.unwrap()).await;
    assert_binary_items(&items);
    let received = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/bin")
        .unwrap();
    assert_eq!(received.attribute("payload"), Some(&every_byte[..]));
}

async fn one_byte_writes_for_a_whole_session() {
    let normal = MockRouter::builder()
        .script("/bin", binary_reply().into())
        .start();
    let trickle = MockRouter::builder()
        .script("/bin", binary_reply().into())
        .write_chunk_size(1)
        .start();
    let paths = [
        "/interface/print",
        "/ip/address/print",
        "/system/resource/print",
        "/bin",
    ];
    let mut outputs = Vec::new();
    for router in [&normal, &trickle] {
        // Login, then concurrent commands whose replies interleave byte by byte.
        let device = connect(router).await;
        let streams = join_all(paths.iter().map(|p| device.send_command(cmd(p)))).await;
        let results = join_all(streams.into_iter().map(|s| drain(s.unwrap()))).await;
        assert_binary_items(&results[3]);
        let summary: Vec<Vec<String>> = results
            .iter()
            .map(|items| {
                items
                    .iter()
                    .map(|item| match item {
                        Ok(CommandResponse::Reply(row)) => format!("{:?}", row.attributes_raw),
                        Ok(other) => other.reply_word().to_owned(),
                        Err(e) => panic!("{e}"),
                    })
                    .collect()
            })
            .collect();
        outputs.push(summary);
    }
    assert_eq!(outputs[0], outputs[1], "1-byte writes change nothing");
    assert!(outputs[0][0].len() > 3);
}

on_every_runtime![
    control_bytes_fail_every_stream,
    a_prefix_claiming_4_gib_then_silence_fails_at_once,
    a_word_over_the_limit_fails_every_stream,
    a_sentence_over_the_limit_fails_every_stream,
    untagged_bad_sentences_fail_every_stream,
    a_tag_of_no_command_fails_every_stream,
    a_done_for_a_finished_command_fails_every_other_stream,
    a_bad_sentence_with_a_known_tag_goes_to_its_command_only,
    eof_anywhere_ends_every_stream,
    binary_values_arrive_intact,
    one_byte_writes_for_a_whole_session,
];

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// With no limits at all, a prefix claiming ~4 GiB still allocates only the
/// bytes that really arrive; the commands end by their deadline.
#[test]
fn a_4_gib_prefix_without_limits_allocates_only_what_arrives() {
    common::on_smol(async {
        let router = router();
        let mut bytes = vec![0xF0, 0xFF, 0xFF, 0xFF, 0xF0];
        bytes.extend(std::iter::repeat_n(b'z', 1 << 20));
        router.set_script("/bad", Script::Raw(bytes));
        let device = MikrotikDevice::builder(router.address())
            .limits(
                DecoderLimits::default()
                    .with_max_word_len(usize::MAX)
                    .with_max_sentence_len(usize::MAX)
                    .with_max_words(16),
            )
            .connect()
            .await
            .unwrap();
        let before = rss_bytes();
        let streams: Vec<_> = join_all((0..4).map(|i| {
            let path = if i == 3 { "/bad" } else { "/silent" };
            device.send_command(cmd(path).with_timeout(Duration::from_millis(1500)))
        }))
        .await;
        let results = join_all(streams.into_iter().map(|s| drain(s.unwrap()))).await;
        let after = rss_bytes();
        for items in &results {
            common::assert_ends_timed_out(items, TimeoutKind::Command);
        }
        let grown = after.saturating_sub(before);
        println!("RSS before {before} B, after {after} B, grown {grown} B for a 4 GiB claim");
        assert!(grown < 256 << 20, "grew {grown} bytes");
        assert!(!device.is_closed(), "no limit was crossed");
    });
}

#[test]
fn credentials_never_show_in_debug_or_errors() {
    common::on_smol(async {
        let secret = "hunter2-Very-Secret";
        let builder = MikrotikDevice::builder("127.0.0.1:1").credentials("admin", Some(secret));
        let debug = format!("{builder:?}");
        assert!(
            !debug.contains(secret) && !debug.contains("hunter2"),
            "{debug}"
        );
        assert!(debug.contains("redacted"), "{debug}");
        let router = MockRouter::builder().user("admin", "right").start();
        let failed = MikrotikDevice::builder(router.address())
            .credentials("admin", Some(secret))
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(failed, Error::Authentication { .. }), "{failed:?}");
        for text in [failed.to_string(), format!("{failed:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        let device = MikrotikDevice::builder(router.address())
            .credentials("admin", Some("right"))
            .connect()
            .await
            .unwrap();
        assert!(!format!("{device:?}").contains("right"));
    });
}

#[test]
fn errors_say_what_went_wrong() {
    let cases: [(Error, &str, bool); 8] = [
        (
            ProtocolError::ControlByte(0xF8).into(),
            "protocol error: reserved control byte 0xf8 where a length prefix was expected",
            true,
        ),
        (
            ProtocolError::UnsupportedLengthPrefix(0xF3).into(),
            "protocol error: unsupported length prefix starting with 0xf3",
            true,
        ),
        (
            ProtocolError::WordTooLong {
                len: 0xFFFF_FFF0,
                limit: 16 << 20,
            }
            .into(),
            "protocol error: word of 4294967280 bytes exceeds the limit of 16777216 bytes",
            true,
        ),
        (
            ProtocolError::SentenceTooLong {
                len: 243,
                limit: 200,
            }
            .into(),
            "protocol error: sentence of at least 243 bytes exceeds the limit of 200 bytes",
            true,
        ),
        (
            ProtocolError::UnknownReplyWord("!bogus".into()).into(),
            "protocol error: unknown reply word \"!bogus\"",
            false,
        ),
        (
            ProtocolError::MissingTag("!re".into()).into(),
            "protocol error: !re reply without a .tag",
            false,
        ),
        (
            Error::ConnectionClosed { mid_sentence: true },
            "connection closed by the router in the middle of a sentence",
            true,
        ),
        (
            Error::ConnectionClosed {
                mid_sentence: false,
            },
            "connection closed by the router",
            true,
        ),
    ];
    for (error, text, connection) in cases {
        assert_eq!(error.to_string(), text);
        assert_eq!(error.is_connection_error(), connection, "{error:?}");
    }
}

/// Once a stream has its connection error, `in_flight()` should already be
/// 0. The actor publishes 0 only after handing the error to every stream
/// (`Connection::finish`: `close_all`, then `set_in_flight(0)`), so on a
/// multi-thread runtime a reader can see its error and still read the old
/// count. Racy by nature: this tries many times.
#[test]
fn in_flight_is_zero_once_a_stream_has_the_connection_error() {
    common::on_tokio(async {
        let router = router();
        router.set_script("/bad", Script::Raw(vec![0xF8]));
        let mut stale = 0;
        for _ in 0..100 {
            let device = connect(&router).await;
            let results = inject(&router, &device, "/bad").await;
            // `inject` returns once every stream ended; read the count at once.
            let seen = device.in_flight();
            assert!(
                results
                    .iter()
                    .all(|items| items.last().is_some_and(Result::is_err))
            );
            stale += usize::from(seen != 0);
        }
        assert_eq!(
            stale, 0,
            "in_flight() was stale after the error in {stale} of 100 sessions"
        );
    });
}
