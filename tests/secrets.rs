//! Secrets stay secret everywhere: a session that configures WireGuard,
//! an L2TP server's IPsec secret, BGP's TCP MD5 key, an OSPF template's
//! auth key, a script with credentials in its source and a user's password,
//! recorded against the MockRouter: no secret value reaches the transcript
//! (in the commands or in the rows the router prints back), any `Debug`,
//! any error, or any tracing span or event. Every transcript the recorder
//! writes here, and every shipped one, is scanned for the secrets given.
#![cfg(feature = "tracing")]

mod common;

use std::fmt::{self, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use async_io::Async;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::secrets::add_secret_name;
use mikrotik_rs::protocol::{CommandResponse, Sentence};
use mikrotik_rs::testing::{
    Direction, Entry, MockMenu, MockRouter, Recorder, Reply, Script, Transcript,
};
use mikrotik_rs::{Error, MikrotikDevice};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

on_every_runtime!(
    a_configured_session_shows_no_secret_anywhere,
    replay_hints_and_traps_show_no_secret,
    a_secret_read_back_by_get_stays_out_of_ret,
    a_fleet_neither_reports_nor_traces_a_flattened_secret,
);

// ------------------------------------------------------- the secrets

const LOGIN: &str = "Login-Pw-7731";
const WG_PRIVATE: &str = "WgPrivate+kEyQmB1c2VjcmV0LWtleS1ub3Qtc2hvd249";
const WG_PEER_PRIVATE: &str = "WgPeerPrivate+a2V5LWZvci10aGUtcGVlcg==";
const WG_PSK: &str = "WgPsk+cHJlc2hhcmVkLWtleS1ub3Qtc2hvd24=";
const L2TP_IPSEC: &str = "L2tpIpsecSecret-55";
const BGP_MD5: &str = "BgpMd5Key-8812";
const OSPF_AUTH: &str = "OspfAuthKey-3141";
const SCRIPT_CREDENTIALS: &str = "ScriptUser:ScriptPw-2718";
const USER_PASSWORD: &str = "UserPassword-1618";
/// A value under a name the program added to the policy.
const OWN_NAMED: &str = "OwnNamedToken-99";

const SECRETS: [&str; 10] = [
    LOGIN,
    WG_PRIVATE,
    WG_PEER_PRIVATE,
    WG_PSK,
    L2TP_IPSEC,
    BGP_MD5,
    OSPF_AUTH,
    SCRIPT_CREDENTIALS,
    USER_PASSWORD,
    OWN_NAMED,
];

/// Fails naming the secret and where it was seen.
fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret:?} reached {what}:\n{text}");
    }
}

// ------------------------------------------------------- the capture

static SEEN: Mutex<String> = Mutex::new(String::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

/// Writes down every span, field and event, at every level.
struct Capture;

impl Capture {
    fn note(&self, what: &str, fields: Fields) {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(seen, "{what}{}", fields.0);
    }
}

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
        let mut fields = Fields(String::new());
        attributes.record(&mut fields);
        self.note(attributes.metadata().name(), fields);
        Id::from_u64(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut fields = Fields(String::new());
        values.record(&mut fields);
        self.note("record", fields);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.note(event.metadata().name(), fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::subscriber::set_global_default(Capture).unwrap();
        add_secret_name("own-token");
    });
}

// ------------------------------------------------------- the session

/// The menus the session configures, as plain tables.
fn router() -> MockRouter {
    MockRouter::builder()
        .user("admin", LOGIN)
        .menu(MockMenu::new("/interface/wireguard"))
        .menu(MockMenu::new("/interface/wireguard/peers"))
        .menu(MockMenu::single("/interface/l2tp-server/server").row([("enabled", "no")]))
        .menu(MockMenu::new("/routing/bgp/connection"))
        .menu(MockMenu::new("/routing/ospf/interface-template"))
        .menu(MockMenu::new("/system/script"))
        .start()
}

/// Configures every secret, prints every menu back; returns everything
/// the client saw as text (rows and commands through `Debug`, errors).
async fn configure(device: &MikrotikDevice) -> String {
    let mut seen = String::new();
    let script_source = format!(
        "/tool/fetch url=\"https://{SCRIPT_CREDENTIALS}@files.example/cfg.rsc\" dst-path=cfg.rsc"
    );
    let adds: [(&str, Vec<(&str, &str)>); 7] = [
        (
            "/interface/wireguard",
            vec![
                ("name", "wg0"),
                ("private-key", WG_PRIVATE),
                ("listen-port", "13231"),
            ],
        ),
        (
            "/interface/wireguard/peers",
            vec![
                ("interface", "wg0"),
                ("public-key", "PeerPublicKeyIsNotSecret="),
                ("private-key", WG_PEER_PRIVATE),
                ("preshared-key", WG_PSK),
            ],
        ),
        (
            "/routing/bgp/connection",
            vec![
                ("name", "peer1"),
                ("remote.address", "10.0.0.9"),
                ("tcp-md5-key", BGP_MD5),
            ],
        ),
        (
            "/routing/ospf/interface-template",
            vec![
                ("interfaces", "ether1"),
                ("auth", "md5"),
                ("auth-key", OSPF_AUTH),
            ],
        ),
        (
            "/system/script",
            vec![("name", "fetch-config"), ("source", &script_source)],
        ),
        (
            "/user",
            vec![
                ("name", "ops"),
                ("group", "read"),
                ("password", USER_PASSWORD),
            ],
        ),
        (
            "/system/script",
            vec![
                ("name", "own"),
                ("own-token", OWN_NAMED),
                ("source", ":put 1"),
            ],
        ),
    ];
    for (menu, properties) in &adds {
        let command = device.menu(*menu).command("add").unwrap();
        let command = properties
            .iter()
            .fold(command, |c, (k, v)| c.attribute(k, Some(v)))
            .build();
        let _ = writeln!(seen, "{command:?}");
        let id = device.menu(*menu).add(properties.iter().copied()).await;
        let _ = writeln!(seen, "{menu} add: {id:?}");
    }
    let set = CommandBuilder::new()
        .command("/interface/l2tp-server/server/set")
        .attribute("enabled", Some("yes"))
        .attribute("use-ipsec", Some("required"))
        .attribute("ipsec-secret", Some(L2TP_IPSEC))
        .build();
    let _ = writeln!(seen, "{set:?}");
    let outcome = device.collect(set).await;
    let _ = writeln!(seen, "l2tp set: {outcome:?}");
    // The router prints the secrets back: rows through every view.
    for menu in [
        "/interface/wireguard",
        "/interface/wireguard/peers",
        "/interface/l2tp-server/server",
        "/routing/bgp/connection",
        "/routing/ospf/interface-template",
        "/system/script",
        "/user",
    ] {
        let rows = device.menu(menu).print().collect().await.unwrap();
        assert!(!rows.is_empty(), "{menu} has rows");
        for row in &rows {
            let _ = writeln!(
                seen,
                "{row:?} {:?} {:?}",
                row.attributes, row.attributes_raw
            );
        }
    }
    seen
}

/// A row whose secret does not decode: the error names the key only.
fn decode_errors(rows: &[mikrotik_rs::protocol::ReplyResponse]) -> String {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Peer {
        #[serde(rename = "preshared-key")]
        preshared_key: u32,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Script {
        source: bool,
    }
    let mut seen = String::new();
    for row in rows {
        if row.attributes.get("preshared-key").is_some() {
            let error: Error = mikrotik_rs::api::from_reply::<Peer>(row).unwrap_err();
            assert!(error.to_string().contains("preshared-key"), "{error}");
            let _ = writeln!(seen, "{error} {error:?}");
        }
        if row.attributes.get("source").is_some() {
            let error: Error = mikrotik_rs::api::from_reply::<Script>(row).unwrap_err();
            let _ = writeln!(seen, "{error} {error:?}");
        }
    }
    seen
}

async fn a_configured_session_shows_no_secret_anywhere() {
    install();
    let router = router();
    let tcp = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let (recorder, transcript) = Recorder::in_memory(tcp);
    let device = MikrotikDevice::builder("mock")
        .credentials("admin", Some(LOGIN))
        .connect_stream(recorder)
        .await
        .expect("login");
    let mut seen = configure(&device).await;
    let peers = device
        .menu("/interface/wireguard/peers")
        .print()
        .collect()
        .await
        .unwrap();
    let scripts = device
        .menu("/system/script")
        .print()
        .collect()
        .await
        .unwrap();
    let decoded = decode_errors(&peers) + &decode_errors(&scripts);
    assert!(decoded.contains("cannot decode"), "{decoded}");
    seen.push_str(&decoded);
    drop(device);

    // The values did reach the router: the test is not vacuous.
    let stored = format!("{:?}", router.items("/interface/wireguard/peers"));
    assert!(stored.contains("preshared-key"), "{stored}");
    assert!(
        router
            .received()
            .iter()
            .any(|s| s.attribute("tcp-md5-key") == Some(BGP_MD5.as_bytes())),
        "the router got the key"
    );

    let text = transcript.text();
    if std::env::var_os("SHOW_SECRETS_TEST").is_some() {
        eprintln!("{text}\n{seen}");
    }
    assert!(text.contains("=private-key=<redacted>"), "{text}");
    assert!(text.contains("!re"), "rows were recorded: {text}");
    assert!(
        text.contains("=public-key=PeerPublicKeyIsNotSecret="),
        "{text}"
    );
    assert_no_secret(&text, "the transcript");
    assert_no_secret(&seen, "the client's Debug or errors");
    let traced = SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(
        traced.contains("/interface/wireguard/add"),
        "traced: {traced}"
    );
    assert_no_secret(&traced, "a tracing subscriber");
}

async fn replay_hints_and_traps_show_no_secret() {
    install();
    let router = router();
    let tcp = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let (recorder, buffer) = Recorder::in_memory(tcp);
    let device = MikrotikDevice::builder("mock")
        .credentials("admin", Some(LOGIN))
        .connect_stream(recorder)
        .await
        .unwrap();
    let wg = device.menu("/interface/wireguard");
    wg.add([("name", "wg0"), ("private-key", WG_PRIVATE)])
        .await
        .unwrap();
    drop(device);
    let transcript = buffer.transcript("wg.txt").unwrap();
    assert_no_secret(&transcript.to_text(), "the transcript");

    let replay = MockRouter::builder().replay(transcript).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = MikrotikDevice::builder("mock")
        .credentials("admin", Some(LOGIN))
        .connect_stream(tcp)
        .await
        .unwrap();
    let wg = device.menu("/interface/wireguard");
    // A key matches the recorded redaction: a secret matches any secret.
    wg.add([("name", "wg0"), ("private-key", WG_PEER_PRIVATE)])
        .await
        .unwrap();
    // Sent again: "sent twice", quoting the command without its key.
    let twice = wg
        .add([("name", "wg0"), ("private-key", WG_PSK)])
        .await
        .unwrap_err();
    // Not recorded at all: the hint quotes it without its key.
    let unmatched = wg
        .add([("name", "wg1"), ("private-key", BGP_MD5)])
        .await
        .unwrap_err();
    let text = format!("{twice} {twice:?} {unmatched} {unmatched:?}");
    assert!(
        text.contains("sent twice") && text.contains("no command like"),
        "{text}"
    );
    assert!(text.contains("=private-key=<redacted>"), "{text}");
    assert_no_secret(&text, "replay's traps");
}

// ------------------------------------------------------- every renderer

/// A secret the tests below read back or fail to decode.
const READ_BACK: &str = "WgPrivKeyR23+c2VjcmV0LXZhbHVl=";
const TAG: &str = ".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11";

/// The transcript line the recorder writes for `words`.
fn entry(path: Option<&[u8]>, direction: Direction, words: &[&[u8]]) -> String {
    let sentence = Sentence::from_words(words.iter().copied());
    Entry::for_command(direction, std::time::Duration::ZERO, &sentence, path).to_string()
}

/// `get =value-name=private-key` answers `!done =ret=<the key>`: `ret` is
/// judged by what the command asked, so it stays out of the transcript;
/// `Debug` of a `!done` and of `Collected` (no command to ask) show only an
/// id or a count.
async fn a_secret_read_back_by_get_stays_out_of_ret() {
    let router = MockRouter::builder()
        .user("admin", "pw")
        .menu(MockMenu::new("/interface/wireguard"))
        .script(
            "/interface/wireguard/get",
            Script::Reply(Reply::new().ret(READ_BACK)),
        )
        .start();
    let tcp = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let (recorder, buffer) = Recorder::in_memory(tcp);
    let device = MikrotikDevice::builder("mock")
        .credentials("admin", Some("pw"))
        .connect_stream(recorder)
        .await
        .unwrap();
    let get = CommandBuilder::new()
        .command("/interface/wireguard/get")
        .attribute("number", Some("wg0"))
        .attribute("value-name", Some("private-key"))
        .build();
    let collected = device.collect(get).await.unwrap();
    assert_eq!(
        collected.ret.as_deref(),
        Some(READ_BACK),
        "the mock answered"
    );
    let added = device
        .collect(
            CommandBuilder::new()
                .command("/interface/wireguard/add")
                .attribute("name", Some("wg9"))
                .build(),
        )
        .await
        .unwrap();
    drop(device);
    let text = buffer.text();
    let debug = format!("{collected:?}");
    let done = CommandResponse::parse(Sentence::from_words([
        "!done".to_owned(),
        format!("=ret={READ_BACK}"),
        TAG.to_owned(),
    ]))
    .unwrap();
    let done = format!("{done:?}");
    let mut leaks = Vec::new();
    if text.contains(READ_BACK) {
        leaks.push(format!("transcript: {text}"));
    }
    if debug.contains(READ_BACK) {
        leaks.push(format!("Collected Debug: {debug}"));
    }
    if done.contains(READ_BACK) {
        leaks.push(format!("DoneResponse Debug: {done}"));
    }
    assert!(leaks.is_empty(), "secret reached:\n{}", leaks.join("\n"));
    assert!(text.contains("=ret=<redacted>"), "{text}");
    // An `add`'s new id is no secret: shown, and recorded for replay.
    let id = added.ret.clone().expect("an add returns its id");
    assert!(format!("{added:?}").contains(&id), "{added:?}");
    assert!(text.contains(&format!("=ret={id}")), "{text}");
}

/// Script bodies are secrets wherever a script is set (netwatch
/// up/down-script, `/execute =script=`, PPP on-up, DHCP lease-script), as
/// the scheduler's `on-event` and `/system/script`'s `source` are.
#[test]
fn script_bodies_are_redacted_in_every_menu() {
    let body = b"/tool/fetch url=https://ScriptUser:ScriptPw-2718@h/x";
    let mut leaks = Vec::new();
    for (path, key) in [
        (&b"/tool/netwatch/add"[..], &b"down-script"[..]),
        (b"/tool/netwatch/add", b"up-script"),
        (b"/execute", b"script"),
        (b"/ppp/profile/add", b"on-up"),
        (b"/ip/dhcp-server/set", b"lease-script"),
        (b"/system/scheduler/add", b"on-event"), // the control: redacted
    ] {
        let word = [b"=", key, b"=", &body[..]].concat();
        let shown = entry(None, Direction::Sent, &[path, &word]);
        if shown.contains("ScriptPw-2718") {
            leaks.push(shown);
        }
    }
    assert!(leaks.is_empty(), "recorded in clear:\n{}", leaks.join("\n"));
}

/// Keys are classified whatever their case (`=Private-Key=`, `=PASSWORD=`):
/// redaction errs safe.
#[test]
fn a_secret_key_in_any_case_is_redacted() {
    let mut leaks = Vec::new();
    for key in ["Private-Key", "PASSWORD", "Preshared-Key"] {
        let word = format!("={key}={READ_BACK}");
        let shown = entry(
            None,
            Direction::Sent,
            &[b"/interface/wireguard/peers/add", word.as_bytes()],
        );
        let command = CommandBuilder::new()
            .command("/interface/wireguard/peers/add")
            .attribute(key, Some(READ_BACK))
            .build();
        let debug = format!("{command:?}");
        if shown.contains(READ_BACK) || debug.contains(READ_BACK) {
            leaks.push(format!("{shown}\n{debug}"));
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// A query's operator (`?>`, `?<`, `?-`, `?=`) is not part of its key: a
/// menu secret queried with one is still redacted.
#[test]
fn a_query_with_an_operator_redacts_a_secret_value() {
    for operator in [">", "<", "=", ""] {
        let word = format!("?{operator}source={READ_BACK}");
        let shown = entry(
            None,
            Direction::Sent,
            &[b"/system/script/print", word.as_bytes()],
        );
        assert!(!shown.contains(READ_BACK), "{shown}");
        assert!(shown.contains("source=<redacted>"), "{shown}");
    }
}

/// `CommandBuilder`'s (and a `Print`'s) `Debug` shows redacted words, never
/// its encoded bytes.
#[test]
fn command_builder_debug_shows_no_secret_bytes() {
    let builder = CommandBuilder::new()
        .command("/interface/wireguard/add")
        .attribute("private-key", Some(READ_BACK));
    let debug = format!("{builder:?}");
    let as_bytes = READ_BACK
        .bytes()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        !debug.contains(&as_bytes),
        "the secret's bytes ({as_bytes}) are in: {debug}"
    );
    assert!(!debug.contains(READ_BACK), "{debug}");
    assert!(debug.contains("=private-key=<redacted>"), "{debug}");
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
enum Kind {
    #[serde(rename = "a")]
    A,
}

/// A peer whose private key, flattened in, does not decode.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct FlatKeys {
    #[serde(rename = "private-key")]
    private_key: u64,
}

/// A row as the router sends it.
fn row(words: &[String]) -> mikrotik_rs::protocol::ReplyResponse {
    let mut all = vec!["!re".to_owned()];
    all.extend_from_slice(words);
    all.push(TAG.to_owned());
    let CommandResponse::Reply(row) = CommandResponse::parse(Sentence::from_words(all)).unwrap()
    else {
        panic!("a row")
    };
    row
}

/// A secret field that fails to decode inside a `#[serde(flatten)]` struct
/// (serde reports it with no key): the error quotes nothing of the row.
#[test]
fn a_flattened_secret_stays_out_of_the_decode_error() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Peer {
        name: String,
        #[serde(flatten)]
        keys: FlatKeys,
    }
    let row = row(&["=name=p1".to_owned(), format!("=private-key={READ_BACK}")]);
    let error = mikrotik_rs::api::from_reply::<Peer>(&row).unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(READ_BACK), "{shown}");
    assert!(shown.contains("cannot decode"), "{shown}");
}

/// A list-valued secret (`secrets` of `/tool/romon`) whose item fails to
/// decode: the item stays out of the error as the whole value does.
#[test]
fn a_list_item_of_a_secret_stays_out_of_the_decode_error() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Romon {
        secrets: Vec<Kind>,
    }
    let row = row(&[format!("=secrets=a,{READ_BACK}")]);
    let error = mikrotik_rs::api::from_reply::<Romon>(&row).unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(READ_BACK), "{shown}");
    assert!(shown.contains("secrets"), "the key is named: {shown}");
}

/// Where the flattened-secret decode error goes in a fleet: the run's
/// `Summary` (its `Display` lists failures) and the `mikrotik.fleet.job`
/// `warn` event. Neither carries the secret.
async fn a_fleet_neither_reports_nor_traces_a_flattened_secret() {
    install();
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Peer {
        #[serde(flatten)]
        keys: FlatKeys,
    }
    let router = MockRouter::builder()
        .menu(
            MockMenu::new("/interface/wireguard/peers")
                .row([("interface", "wg0"), ("private-key", READ_BACK)]),
        )
        .start();
    let fleet = mikrotik_rs::fleet::Fleet::new(vec![(
        "r1".to_owned(),
        MikrotikDevice::builder(router.address()),
    )])
    .unwrap();
    let summary = fleet
        .print_as::<Peer>("/interface/wireguard/peers")
        .summary()
        .await;
    let shown = format!("{summary}");
    let traced = SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(summary.failed() == 1, "the decode failed: {shown}");
    assert!(traced.contains("mikrotik.fleet.job"), "traced: {traced}");
    assert!(
        !shown.contains(READ_BACK) && !traced.contains(READ_BACK),
        "summary: {shown}\ntraced: {traced}"
    );
}

/// Credentials whose names do not look secret, secret in their menus: a
/// SIM `pin` (`/interface/lte`, `/interface/ppp-client`) and the SNMP
/// community `name` (the v1/v2c password).
#[test]
fn a_sim_pin_and_an_snmp_community_name_are_redacted() {
    let mut leaks = Vec::new();
    for (path, word) in [
        (&b"/interface/lte/set"[..], &b"=pin=4711"[..]),
        (b"/interface/ppp-client/add", b"=pin=4711"),
        (b"/snmp/community/add", b"=name=C0mmunity-4711"),
    ] {
        let shown = entry(None, Direction::Sent, &[path, word]);
        if shown.contains("4711") {
            leaks.push(shown);
        }
    }
    assert!(leaks.is_empty(), "recorded in clear:\n{}", leaks.join("\n"));
    let elsewhere = entry(None, Direction::Sent, &[b"/interface/add", b"=name=ether9"]);
    assert!(elsewhere.contains("=name=ether9"), "{elsewhere}");
}

// ------------------------------------------------------- transcripts

#[test]
fn shipped_transcripts_hold_no_secret_value() {
    let dir = format!("{}/tests/transcripts", env!("CARGO_MANIFEST_DIR"));
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let transcript = Transcript::load(&path).unwrap();
        for entry in &transcript.entries {
            let path_word = entry.words.first().filter(|w| w.starts_with(b"/"));
            for word in entry.words.iter().skip(1) {
                let Some(body) = word.strip_prefix(b"=") else {
                    continue;
                };
                let Some(eq) = body.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let (key, value) = (&body[..eq], &body[eq + 1..]);
                let secret =
                    mikrotik_rs::protocol::secrets::is_secret(path_word.map(Vec::as_slice), key);
                assert!(
                    !secret || value.starts_with(b"<redacted"),
                    "{}: {} holds a secret value",
                    transcript.name,
                    String::from_utf8_lossy(word)
                );
            }
        }
        scanned += 1;
    }
    assert!(scanned >= 3, "the shipped transcripts were found");
}
