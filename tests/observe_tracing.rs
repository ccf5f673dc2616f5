//! The `tracing` spans and events, seen by a capturing subscriber: a span
//! per connection and per command with the fields that say how each ended,
//! the events around them, and nothing secret in anything a subscriber sees
//! during logins of both kinds.
#![cfg(feature = "tracing")]

mod common;

use common::{cmd, drain, wait_until};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use mikrotik_rs::fleet::Fleet;
use mikrotik_rs::testing::{MockRouter, Reply, Script};
use mikrotik_rs::{BufferPolicy, Error, MikrotikDevice, ReconnectPolicy};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

// ------------------------------------------------------- the capture

#[derive(Debug, Clone)]
struct SpanRecord {
    id: u64,
    name: &'static str,
    target: String,
    fields: Vec<(String, String)>,
    parent: Option<u64>,
    refs: usize,
    closed: bool,
}

impl SpanRecord {
    fn field(&self, name: &str) -> Option<&str> {
        field(&self.fields, name)
    }
}

#[derive(Debug, Clone)]
#[allow(dead_code, reason = "printed, in the text checked for secrets")]
struct EventRecord {
    name: &'static str,
    target: String,
    level: Level,
    fields: Vec<(String, String)>,
    parent: Option<u64>,
}

impl EventRecord {
    fn field(&self, name: &str) -> Option<&str> {
        field(&self.fields, name)
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Default)]
struct State {
    spans: HashMap<u64, SpanRecord>,
    events: Vec<EventRecord>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(state.get_or_insert_with(State::default))
}

fn current() -> Option<u64> {
    ENTERED.with(|entered| entered.borrow().last().copied())
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// Records every span and event, at every level, from every thread.
struct Capture;

impl Subscriber for Capture {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let parent = if attributes.is_root() {
            None
        } else if let Some(parent) = attributes.parent() {
            Some(parent.into_u64())
        } else {
            current()
        };
        let mut fields = Vec::new();
        attributes.record(&mut Fields(&mut fields));
        let span = SpanRecord {
            id,
            name: attributes.metadata().name(),
            target: attributes.metadata().target().to_owned(),
            fields,
            parent,
            refs: 1,
            closed: false,
        };
        with_state(|state| state.spans.insert(id, span));
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        with_state(|state| {
            if let Some(span) = state.spans.get_mut(&span.into_u64()) {
                values.record(&mut Fields(&mut span.fields));
            }
        });
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let parent = if event.is_root() {
            None
        } else if let Some(parent) = event.parent() {
            Some(parent.into_u64())
        } else {
            current()
        };
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        let record = EventRecord {
            name: event.metadata().name(),
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
            parent,
        };
        with_state(|state| state.events.push(record));
    }
    fn enter(&self, span: &Id) {
        ENTERED.with(|entered| entered.borrow_mut().push(span.into_u64()));
    }
    fn exit(&self, span: &Id) {
        ENTERED.with(|entered| {
            let mut entered = entered.borrow_mut();
            if let Some(at) = entered.iter().rposition(|id| *id == span.into_u64()) {
                entered.remove(at);
            }
        });
    }
    fn clone_span(&self, id: &Id) -> Id {
        with_state(|state| {
            if let Some(span) = state.spans.get_mut(&id.into_u64()) {
                span.refs += 1;
            }
        });
        id.clone()
    }
    fn try_close(&self, id: Id) -> bool {
        with_state(|state| {
            let Some(span) = state.spans.get_mut(&id.into_u64()) else {
                return false;
            };
            span.refs -= 1;
            span.closed = span.refs == 0;
            span.closed
        })
    }
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tracing::subscriber::set_global_default(Capture).unwrap());
}

/// The spans and events under the connection spans whose address is `address`.
struct Seen {
    connections: Vec<SpanRecord>,
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

impl Seen {
    fn of(address: &str) -> Self {
        with_state(|state| {
            let connections: Vec<SpanRecord> = state
                .spans
                .values()
                .filter(|s| s.name == "connection" && s.field("address") == Some(address))
                .cloned()
                .collect();
            assert!(!connections.is_empty(), "a connection span for {address}");
            let spans: Vec<SpanRecord> = state
                .spans
                .values()
                .filter(|s| {
                    s.parent
                        .is_some_and(|p| connections.iter().any(|c| c.id == p))
                })
                .cloned()
                .collect();
            let ids: Vec<u64> = spans.iter().chain(&connections).map(|s| s.id).collect();
            let events = state
                .events
                .iter()
                .filter(|e| e.parent.is_some_and(|p| ids.contains(&p)))
                .cloned()
                .collect();
            Self {
                connections,
                spans,
                events,
            }
        })
    }

    fn commands(&self, path: &str) -> Vec<&SpanRecord> {
        self.spans
            .iter()
            .filter(|s| s.name == "command" && s.field("path") == Some(path))
            .collect()
    }

    fn events(&self, name: &str) -> Vec<&EventRecord> {
        self.events.iter().filter(|e| e.name == name).collect()
    }
}

/// Everything any test in this binary made a subscriber see, as text.
fn everything_seen() -> String {
    with_state(|state| format!("{:?}\n{:?}", state.spans, state.events))
}

// ------------------------------------------------------- helpers

fn closed_command<'a>(spans: &[&'a SpanRecord], outcome: &str) -> &'a SpanRecord {
    let span = spans
        .iter()
        .find(|s| s.field("outcome") == Some(outcome))
        .unwrap_or_else(|| panic!("a command span that ended {outcome}: {spans:#?}"));
    assert!(span.closed, "{span:?}");
    assert_eq!(span.target, "mikrotik_rs");
    for name in ["tag", "buffer", "rows", "bytes", "duration_us"] {
        assert!(span.field(name).is_some(), "{name} of {span:?}");
    }
    span
}

// ------------------------------------------------------- the tests

/// A command that completes, one timed out, one cancelled and one
/// overflowing: each has its span under the connection's, closed with its
/// outcome, rows, bytes and duration; the events around them are there.
async fn each_outcome_has_its_span_and_events() {
    install();
    let router = MockRouter::builder()
        .script(
            "/ok",
            Script::Reply(Reply::new().row([("a", "1")]).row([("a", "2")])),
        )
        .script("/silent", Script::Silent)
        .script("/bulk", Script::bulk(1_000, [("k", "v")]))
        .start();
    let address = router.address();
    let device = MikrotikDevice::builder(&address)
        .trace_identity(true)
        .connect()
        .await
        .unwrap();
    let ok = drain(device.send_command(cmd("/ok")).await.unwrap()).await;
    assert_eq!(ok.len(), 3);
    let timed = drain(
        device
            .send_command(cmd("/silent").with_timeout(Duration::from_millis(50)))
            .await
            .unwrap(),
    )
    .await;
    assert!(matches!(timed.last(), Some(Err(Error::Timeout { .. }))));
    // Dropped once the router has it (dropped before it is written, it
    // would be withdrawn: never sent, no /cancel).
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    wait_until(
        || router.received_count("/silent") == 2,
        "the router has the second /silent",
    )
    .await;
    drop(silent);
    let bulk = device
        .send_command_with(cmd("/bulk"), BufferPolicy::Bounded(4))
        .await
        .unwrap();
    let bulk_tag = bulk.tag().to_string();
    wait_until(
        || device.snapshot().commands_overflowed == 1,
        "the unread bulk overflows",
    )
    .await;
    wait_until(|| device.in_flight() == 0, "every /cancel is finished").await;
    drop(bulk);

    let seen = Seen::of(&address);
    assert_eq!(seen.connections.len(), 1);
    assert_eq!(seen.connections[0].field("tls"), Some("false"));
    // Asked once after login, because the builder asked for it and this
    // subscriber records the span.
    assert_eq!(seen.connections[0].field("identity"), Some("MikroTik"));
    closed_command(&seen.commands("/system/identity/print"), "done");

    let ok = closed_command(&seen.commands("/ok"), "done");
    assert_eq!(ok.field("rows"), Some("2"));
    assert!(ok.field("bytes").unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(ok.field("buffer"), Some("Bounded(8192)"));
    let silent = seen.commands("/silent");
    assert_eq!(silent.len(), 2, "{silent:#?}");
    closed_command(&silent, "timed out");
    closed_command(&silent, "cancelled");
    let bulk = closed_command(&seen.commands("/bulk"), "overflowed");
    assert_eq!(bulk.field("tag"), Some(bulk_tag.as_str()));
    assert_eq!(bulk.field("buffer"), Some("Bounded(4)"));
    assert!(bulk.field("rows").unwrap().parse::<u64>().unwrap() >= 4);
    closed_command(&seen.commands("/login"), "done");

    let overflow = seen.events("mikrotik.overflow");
    assert_eq!(overflow.len(), 1, "{overflow:#?}");
    assert_eq!(overflow[0].level, Level::WARN);
    assert_eq!(overflow[0].parent, Some(bulk.id));
    assert_eq!(overflow[0].field("capacity"), Some("4"));
    assert_eq!(overflow[0].field("tag"), Some(bulk_tag.as_str()));
    // Timeout, drop and overflow each sent one /cancel.
    let cancels = seen.events("mikrotik.cancel");
    assert_eq!(cancels.len(), 3, "{cancels:#?}");
    assert!(
        cancels
            .iter()
            .any(|c| c.field("tag") == Some(bulk_tag.as_str()))
    );
    let ends = seen.events("mikrotik.command.end");
    // login, identity, /ok, two /silent, /bulk
    assert_eq!(ends.len(), 6, "{ends:#?}");
    assert!(ends.iter().all(|e| e.level == Level::DEBUG));
    let login = seen.events("mikrotik.login");
    assert_eq!(login.len(), 1, "{login:#?}");
    assert_eq!(login[0].field("method"), Some("login"));
    assert_eq!(login[0].field("outcome"), Some("ok"));
    assert!(login[0].field("duration_us").is_some());
    // Each sentence read, at trace level, by kind and size only.
    let read = seen.events("mikrotik.sentence.read");
    assert!(read.len() >= 1 + 3 + 4, "{}", read.len());
    assert!(read.iter().all(|e| e.level == Level::TRACE));
    assert!(read.iter().any(|e| e.field("kind") == Some("!re")));
    assert!(read.iter().all(|e| e.field("bytes").is_some()));
    let written = seen.events("mikrotik.sentence.written");
    assert_eq!(written.len(), 6 + 3, "commands and cancels");
}

/// A listening subscriber changes nothing that is sent: the identity lookup
/// happens only when the builder asks for it, and is never counted as one of
/// the user's commands.
async fn a_subscriber_sends_nothing_unless_asked() {
    install();
    let router = MockRouter::start();
    let address = router.address();
    let plain = MikrotikDevice::builder(&address).connect().await.unwrap();
    let plain_stats = plain.snapshot();
    let seen = Seen::of(&address);
    assert_eq!(seen.connections[0].field("identity"), None);
    assert!(seen.commands("/system/identity/print").is_empty());
    plain.close().await;

    let named = MikrotikDevice::builder(&address)
        .trace_identity(true)
        .connect()
        .await
        .unwrap();
    let named_stats = named.snapshot();
    let seen = Seen::of(&address);
    assert!(
        seen.connections
            .iter()
            .any(|c| c.field("identity") == Some("MikroTik"))
    );
    closed_command(&seen.commands("/system/identity/print"), "done");
    assert_eq!(named_stats.commands_started, plain_stats.commands_started);
    assert_eq!(named_stats.commands_done, plain_stats.commands_done);
    named.close().await;
}

/// At `warn` a subscriber records no `debug` connection span, so each event
/// at `info` and above names the router itself; an orderly `close()` (whose
/// `/quit` the router answers with `!fatal`) logs nothing above `debug`.
async fn warnings_name_the_router_and_an_orderly_close_is_quiet() {
    install();
    let strict = MockRouter::builder().user("admin", "secret").start();
    let strict_address = strict.address();
    let refused = MikrotikDevice::builder(&strict_address)
        .credentials("admin", Some("guess"))
        .connect()
        .await;
    assert!(matches!(refused, Err(Error::Authentication { .. })));
    let failed = events_anywhere("mikrotik.login", "address", |a| a == strict_address);
    assert!(
        failed
            .iter()
            .any(|e| e.level == Level::WARN && e.field("outcome") == Some("failed")),
        "{failed:#?}"
    );

    let router = MockRouter::start();
    let address = router.address();
    let device = MikrotikDevice::builder(&address).connect().await.unwrap();
    drain(
        device
            .send_command(cmd("/system/resource/print"))
            .await
            .unwrap(),
    )
    .await;
    device.close().await;
    let seen = Seen::of(&address);
    let fatal = seen.events("mikrotik.fatal");
    assert_eq!(
        fatal.len(),
        1,
        "the router answers /quit with !fatal: {fatal:#?}"
    );
    assert_eq!(fatal[0].level, Level::DEBUG);
    let loud: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.level <= Level::INFO)
        .collect();
    assert!(loud.is_empty(), "an orderly close logged {loud:#?}");

    // Whatever any test of this binary made the crate say at `info` or
    // above names its router: by address, or by fleet name.
    let unnamed: Vec<EventRecord> = with_state(|state| {
        state
            .events
            .iter()
            .filter(|e| e.target == "mikrotik_rs" && e.level <= Level::INFO)
            .filter(|e| e.field("address").is_none() && e.field("router").is_none())
            .cloned()
            .collect()
    });
    assert!(unnamed.is_empty(), "{unnamed:#?}");
}

/// Keepalive probes and their failure, `!fatal`, and commands lost with
/// their connection.
async fn keepalive_fatal_and_lost_commands_are_traced() {
    install();
    let router = MockRouter::builder()
        .script("/silent", Script::Silent)
        .start();
    let address = router.address();
    let device = MikrotikDevice::builder(&address)
        .keepalive(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    wait_until(
        || {
            !Seen::of(&address)
                .events("mikrotik.keepalive.probe")
                .is_empty()
        },
        "an idle connection probes",
    )
    .await;
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    router.set_silent(true);
    let items = drain(silent).await;
    common::assert_ends_timed_out(&items, mikrotik_rs::TimeoutKind::Keepalive);
    let seen = Seen::of(&address);
    let failed = seen.events("mikrotik.keepalive.failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].level, Level::WARN);
    closed_command(&seen.commands("/silent"), "connection lost");
    let end = seen.events("mikrotik.connection.end");
    assert_eq!(end.len(), 1);
    assert_eq!(end[0].level, Level::WARN);

    let router = MockRouter::builder()
        .script("/fatal", Script::Fatal("goodbye".into()))
        .script("/silent", Script::Silent)
        .start();
    let address = router.address();
    let device = MikrotikDevice::builder(&address).connect().await.unwrap();
    let silent = device.send_command(cmd("/silent")).await.unwrap();
    let _ = drain(device.send_command(cmd("/fatal")).await.unwrap()).await;
    let _ = drain(silent).await;
    let seen = Seen::of(&address);
    let fatal = seen.events("mikrotik.fatal");
    assert_eq!(fatal.len(), 1, "{fatal:#?}");
    assert_eq!(fatal[0].field("reason"), Some("goodbye"));
    assert_eq!(fatal[0].level, Level::WARN);
    let lost = seen.commands("/silent");
    closed_command(&lost, "connection lost");
}

/// A reconnect attempt and a fleet job each leave their event, with the
/// fields README promises.
async fn reconnects_and_fleet_jobs_are_traced() {
    install();
    let router = MockRouter::start();
    let device = MikrotikDevice::builder(router.address())
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(50)),
        )
        .connect()
        .await
        .unwrap();
    router.drop_connections();
    wait_until(
        || device.snapshot().reconnects == 1,
        "the device reconnects",
    )
    .await;
    // Under the span of the device's supervisor, which names the router.
    let address = router.address();
    let reconnects = with_state(|state| {
        let supervisors: Vec<u64> = state
            .spans
            .values()
            .filter(|s| s.name == "reconnecting" && s.field("address") == Some(address.as_str()))
            .map(|s| s.id)
            .collect();
        assert_eq!(supervisors.len(), 1, "one supervisor span");
        state
            .events
            .iter()
            .filter(|e| e.name == "mikrotik.reconnect" && e.parent == Some(supervisors[0]))
            .cloned()
            .collect::<Vec<_>>()
    });
    let first = reconnects
        .iter()
        .find(|e| e.field("attempt") == Some("1"))
        .unwrap_or_else(|| panic!("attempt 1 in {reconnects:#?}"));
    assert!(first.field("error").is_some(), "{first:?}");
    assert_eq!(first.level, Level::WARN);
    assert!(first.field("delay_ms").unwrap().parse::<u64>().is_ok());

    // Router names unique to this run: the three runtimes share the capture.
    let name = format!("traced-{}", router.port());
    let fleet = Fleet::builder()
        .build([
            (
                format!("{name}-ok"),
                MikrotikDevice::builder(router.address()),
            ),
            (
                format!("{name}-bad"),
                MikrotikDevice::builder(router.address()),
            ),
        ])
        .unwrap();
    let ok = format!("{name}-ok");
    let summary = fleet
        .run_named(move |router, _device| {
            let ok = ok.clone();
            async move {
                match *router == *ok {
                    true => Ok(()),
                    false => Err(Error::Config("this job fails".into())),
                }
            }
        })
        .summary()
        .await;
    assert_eq!(summary.succeeded(), 1, "{summary}");
    let jobs = events_anywhere("mikrotik.fleet.job", "router", |router| {
        router.starts_with(&name)
    });
    assert_eq!(jobs.len(), 2, "{jobs:#?}");
    for job in &jobs {
        assert!(job.field("duration_us").unwrap().parse::<u64>().is_ok());
        let (outcome, level) = match job.field("router").unwrap().ends_with("-ok") {
            true => ("ok", Level::DEBUG),
            false => ("failed", Level::WARN),
        };
        assert_eq!(job.field("outcome"), Some(outcome), "{job:?}");
        assert_eq!(job.level, level, "{job:?}");
    }
}

/// Events named `name`, under any span or none, whose `field` matches.
fn events_anywhere(name: &str, field: &str, matches: impl Fn(&str) -> bool) -> Vec<EventRecord> {
    with_state(|state| {
        state
            .events
            .iter()
            .filter(|e| e.name == name && e.field(field).is_some_and(&matches))
            .cloned()
            .collect()
    })
}

const USER: &str = "observer-q7z";
const PASSWORD: &str = "Pa55-s3cret-xk4";
const WRONG: &str = "wr0ng-Pa55-mv9";

/// Logins of both kinds, and a refused one: everything a subscriber saw
/// (in this whole test binary) is free of the user name, both passwords,
/// every word of the login commands and the challenge response.
#[test]
fn nothing_secret_reaches_a_subscriber() {
    install();
    let mut secrets = vec![
        USER.to_owned(),
        PASSWORD.to_owned(),
        WRONG.to_owned(),
        "=name=".to_owned(),
        "=password=".to_owned(),
        "=response=".to_owned(),
    ];
    common::on_smol(async {
        for legacy in [false, true] {
            let router = MockRouter::builder()
                .user(USER, PASSWORD)
                .legacy_login(legacy)
                .start();
            let device = MikrotikDevice::builder(router.address())
                .credentials(USER, Some(PASSWORD))
                .connect()
                .await
                .unwrap();
            let refused = MikrotikDevice::builder(router.address())
                .credentials(USER, Some(WRONG))
                .connect()
                .await;
            assert!(
                matches!(refused, Err(Error::Authentication { .. })),
                "{refused:?}"
            );
            // Every word of every login command the router received.
            for received in router.received() {
                if received.path() == "/login" {
                    for word in received.sentence.words() {
                        let word = String::from_utf8_lossy(word).into_owned();
                        if let Some(value) = word.split('=').nth(2)
                            && value.len() >= 8
                        {
                            secrets.push(value.to_owned());
                        }
                    }
                }
            }
            let seen = Seen::of(&router.address());
            let logins = seen.events("mikrotik.login");
            let method = if legacy {
                "legacy md5 challenge"
            } else {
                "login"
            };
            assert!(
                logins
                    .iter()
                    .any(|e| e.field("method") == Some(method) && e.field("outcome") == Some("ok")),
                "{logins:#?}"
            );
            drop(device);
        }
    });
    // The challenge responses were found (a check that can fail).
    assert!(
        secrets.iter().filter(|s| s.starts_with("00")).count() >= 2,
        "{secrets:?}"
    );
    let text = everything_seen();
    assert!(text.contains("mikrotik.login"));
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{secret:?} reached a subscriber"
        );
    }
}

on_every_runtime!(
    each_outcome_has_its_span_and_events,
    a_subscriber_sends_nothing_unless_asked,
    warnings_name_the_router_and_an_orderly_close_is_quiet,
    keepalive_fatal_and_lost_commands_are_traced,
    reconnects_and_fleet_jobs_are_traced,
);
