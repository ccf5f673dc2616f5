//! Recording a session with `testing::Recorder`, and replaying the
//! transcript with the MockRouter: the same client code sees the same
//! results. Every test runs under Tokio (multi- and current-thread) and smol.

mod common;

use std::net::TcpStream;

use async_io::Async;
use futures_util::StreamExt;
use mikrotik_rs::api::Change;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::{CommandResponse, TrapCategory};
use mikrotik_rs::runtime::AsyncStream;
use mikrotik_rs::testing::{MockRouter, Recorder, ReplayMode, Transcript};
use mikrotik_rs::{Error, MikrotikDevice};

on_every_runtime!(
    a_recorded_session_replays_into_identical_results,
    replay_keeps_the_recorded_timing_when_asked,
    an_unmatched_command_is_a_trap_naming_the_closest,
    shipped_legacy_login_listen_cancel_and_dead_rows,
    shipped_print_queries_traps_and_empty,
    shipped_routeros_7_24_sections_and_cancels,
    recording_an_api_ssl_session_writes_plaintext,
    a_builder_recording_over_tls_and_reconnect_replays_each_connection,
    a_write_sent_twice_is_a_trap_saying_so,
    a_wrong_password_is_refused_as_the_router_would,
    a_redacted_value_matches_only_a_secret,
    the_lenient_mode_repeats_answers_and_takes_any_login,
    a_write_retried_on_a_new_connection_is_a_trap_saying_sent_twice,
    a_read_only_tool_sent_again_answers_again,
    an_export_to_a_file_sent_again_is_a_write_sent_twice,
    a_redacted_query_value_matches_as_an_attribute_does,
    the_shipped_transcripts_refuse_a_wrong_password,
);

fn shipped(name: &str) -> MockRouter {
    let path = format!("{}/tests/transcripts/{name}", env!("CARGO_MANIFEST_DIR"));
    let transcript = Transcript::load(&path).unwrap();
    MockRouter::builder().replay(transcript).start()
}

/// Waits until the replaying router runs nothing (every cancel answered).
async fn settled(router: &MockRouter) {
    let deadline = std::time::Instant::now() + common::TEST_LIMIT;
    while router.running_commands() > 0 {
        assert!(std::time::Instant::now() < deadline, "a command still runs");
        async_io::Timer::after(std::time::Duration::from_millis(2)).await;
    }
}

async fn device_over(stream: impl AsyncStream, password: &str) -> MikrotikDevice {
    MikrotikDevice::builder("mock")
        .credentials("admin", Some(password))
        .connect_stream(stream)
        .await
        .expect("login")
}

/// A bit of everything a user's code does; returns what it saw, as text.
async fn session(device: &MikrotikDevice) -> Vec<String> {
    let mut seen = Vec::new();
    let rows = device
        .menu("/interface")
        .print()
        .query_equal("type", "ether")
        .query_equal("running", "yes")
        .proplist(["name", "mtu"])
        .await
        .unwrap();
    for row in &rows {
        seen.push(format!("{:?} {:?}", row.get("name"), row.get("mtu")));
    }
    let addresses = device.menu("/ip/address");
    let mut changes = addresses.listen().await.unwrap();
    let id = addresses
        .add(&[("address", "10.5.5.1/24"), ("interface", "ether2")])
        .await
        .unwrap();
    seen.push(format!("added {id}"));
    match changes.recv().await.unwrap().unwrap() {
        Change::Upsert(row) => seen.push(format!("listen saw {:?}", row.get("address"))),
        other => seen.push(format!("listen saw {other:?}")),
    }
    // Dropping the stream cancels the listen on the router.
    drop(changes);
    addresses.set(&id, &[("comment", "lab")]).await.unwrap();
    let labelled = addresses
        .print()
        .query_equal("comment", "lab")
        .await
        .unwrap();
    seen.push(format!("labelled {}", labelled.len()));
    addresses.remove(&id).await.unwrap();
    let none = addresses
        .print()
        .query_equal("comment", "lab")
        .await
        .unwrap();
    seen.push(format!("after remove {}", none.len()));
    let refused = addresses
        .add(&[("address", "10.5.6.1/24"), ("interface", "ether9")])
        .await
        .unwrap_err();
    seen.push(format!("refused: {}", trap_messages(&refused)));
    let unknown = device.menu("/no/such").print().await.unwrap_err();
    seen.push(format!("unknown: {}", trap_messages(&unknown)));
    seen
}

fn trap_messages(error: &Error) -> String {
    let traps = error.traps().expect("a trap error");
    traps
        .iter()
        .map(|t| t.message.clone())
        .collect::<Vec<_>>()
        .join(" / ")
}

async fn record(router: &MockRouter, password: &str) -> (Vec<String>, Transcript) {
    let tcp = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let (recorder, transcript) = Recorder::in_memory(tcp);
    let device = device_over(recorder, password).await;
    let seen = session(&device).await;
    drop(device);
    (seen, transcript.transcript("recorded").unwrap())
}

async fn a_recorded_session_replays_into_identical_results() {
    let real = MockRouter::builder()
        .user("admin", "s3cret")
        .empty_replies(true)
        .start();
    let (recorded, transcript) = record(&real, "s3cret").await;
    assert_eq!(recorded[0], r#"Some("ether1") Some("1500")"#);
    assert!(recorded.contains(&"listen saw Some(\"10.5.5.1/24\")".to_owned()));
    assert!(recorded.contains(&"after remove 0".to_owned()));
    let text = transcript.to_text();
    if std::env::var_os("SHOW_TRANSCRIPT").is_some() {
        eprintln!("{text}");
    }
    assert!(
        !text.contains("s3cret"),
        "the password is redacted:\n{text}"
    );
    assert!(text.contains("=password=<redacted:"), "{text}");
    assert!(text.contains("/cancel"), "{text}");
    assert!(text.contains("!empty"), "{text}");

    // The replaying mock knows nothing of the menus: every answer comes
    // from the transcript (its own user list does not matter either; the
    // password is checked against the transcript's hash of it).
    let replay = MockRouter::builder().replay(transcript).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = device_over(tcp, "s3cret").await;
    let replayed = session(&device).await;
    assert_eq!(replayed, recorded);
    // The cancel of the listen answered, and nothing is left running.
    drop(device);
    assert!(
        replay
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/cancel"),
                common::TEST_LIMIT
            )
            .await
    );
}

async fn replay_keeps_the_recorded_timing_when_asked() {
    let text = "\
> 0.000 - /login =name=admin =password=<redacted>
< 0.001 - !done
> 1.000 a /tool/slow
< 1.300 a !re =step=1
< 1.300 a !done
";
    let transcript = Transcript::parse("slow.txt", text).unwrap();
    let replay = MockRouter::builder()
        .replay(transcript)
        .replay_timing(true)
        .start();
    let device = MikrotikDevice::connect(&replay.address(), "admin", None)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let found = device
        .collect(CommandBuilder::new().command("/tool/slow"))
        .await
        .unwrap();
    // At least the recorded 300 ms passed (a lower bound only: no upper one).
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(found.rows[0].get("step"), Some("1"));
}

async fn an_unmatched_command_is_a_trap_naming_the_closest() {
    let transcript = Transcript::load("tests/transcripts/print-query-proplist.txt").unwrap();
    let replay = MockRouter::builder().replay(transcript).start();
    let device = MikrotikDevice::connect(&replay.address(), "admin", None)
        .await
        .unwrap();
    let error = device
        .menu("/interface")
        .print()
        .query_equal("type", "vlan")
        .await
        .unwrap_err();
    let message = trap_messages(&error);
    assert!(
        message.contains("print-query-proplist.txt"),
        "names the transcript: {message}"
    );
    assert!(
        message.contains("closest recorded: `/interface/print"),
        "names the closest: {message}"
    );
}

async fn shipped_legacy_login_listen_cancel_and_dead_rows() {
    let router = shipped("legacy-login-listen-cancel.txt");
    // The crate sends the 6.43 form, gets the manual's challenge, answers it.
    let device = MikrotikDevice::connect(&router.address(), "admin", Some("pw"))
        .await
        .expect("the MD5 login replays");
    let interfaces = device.menu("/interface");
    let mut changes = interfaces.listen().await.unwrap();
    interfaces
        .set("ether1", &[("disabled", "yes")])
        .await
        .unwrap();
    interfaces
        .set("ether1", &[("disabled", "no")])
        .await
        .unwrap();
    let mut disabled = Vec::new();
    for _ in 0..2 {
        let Change::Upsert(row) = changes.recv().await.unwrap().unwrap() else {
            panic!("an upsert")
        };
        disabled.push(row.get("disabled").unwrap().to_owned());
    }
    assert_eq!(disabled, ["yes", "no"]);
    drop(changes);
    let mut active = device.menu("/user/active").listen().await.unwrap();
    let Change::Upsert(row) = active.recv().await.unwrap().unwrap() else {
        panic!("an upsert")
    };
    assert_eq!(row.get("when"), Some("oct/24/2006 08:40:42"));
    let Change::Removed { id, .. } = active.recv().await.unwrap().unwrap() else {
        panic!("`.dead=yes` is a removal")
    };
    assert_eq!(id, "*68");
    drop(active);
    settled(&router).await;
}

async fn shipped_print_queries_traps_and_empty() {
    let router = shipped("print-query-proplist.txt");
    let device = MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .unwrap();
    let rows = device
        .menu("/interface")
        .print()
        .query_equal("type", "ether")
        .proplist(["running", "name"])
        .await
        .unwrap();
    let names: Vec<_> = rows.iter().filter_map(|r| r.get("name")).collect();
    assert_eq!(names, ["ether1", "ether2"]);
    let resource = device
        .menu("/system/resource")
        .print()
        .proplist(["uptime", "cpu-load", "uptime.oid", "cpu-load.oid"])
        .await
        .unwrap();
    assert_eq!(resource[0].get("uptime.oid"), Some(".1.3.6.1.2.1.1.3.0"));
    let error = device
        .menu("/ip/address")
        .add(&[("address", "192.168.88.1"), ("interface", "asdf")])
        .await
        .unwrap_err();
    let traps = error.traps().unwrap();
    assert_eq!(
        traps[0].message,
        "input does not match any value of interface"
    );
    assert_eq!(traps[0].category, Some(TrapCategory::ArgumentValueFailure));
    let error = device
        .menu("/interface/wireless/registration-table")
        .print()
        .await
        .unwrap_err();
    assert_eq!(
        trap_messages(&error),
        "no such command or directory (wireless) / no such command prefix"
    );
    let none = device
        .menu("/ip/firewall/filter")
        .print()
        .query_equal("comment", "__nope__")
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn shipped_routeros_7_24_sections_and_cancels() {
    let router = shipped("routeros-7.24-streams.txt");
    let device = MikrotikDevice::connect(&router.address(), "admin", None)
        .await
        .unwrap();
    let command = CommandBuilder::new()
        .command("/interface/monitor-traffic")
        .attribute("interface", Some("ether1"))
        .attribute("interval", Some("1"))
        .build();
    let mut stream = device.send_command(command).await.unwrap();
    let mut sections = Vec::new();
    while sections.len() < 4 {
        let reply = stream.next().await.unwrap().unwrap();
        if let CommandResponse::Reply(row) = reply {
            sections.push(row.get(".section").unwrap().to_owned());
        }
    }
    assert_eq!(sections, ["0", "1", "2", "3"]);
    drop(stream);
    settled(&router).await;
    let listen = device.menu("/queue/simple").listen().await.unwrap();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/queue/simple/listen"),
                common::TEST_LIMIT
            )
            .await
    );
    drop(listen);
    settled(&router).await;
    // The connection is still good after both cancels.
    assert!(router.running_commands() == 0 && router.session_count() == 1);
}

async fn recording_an_api_ssl_session_writes_plaintext() {
    use mikrotik_rs::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use mikrotik_rs::tls::{self, TlsOptions};

    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        mikrotik_rs::testing::tls_server_config(vec![cert.der().clone()], private).unwrap();
    let router = MockRouter::builder()
        .user("admin", "tls-secret")
        .tls(config)
        .start();
    let tcp = Async::<TcpStream>::connect(router.addr()).await.unwrap();
    let options = TlsOptions::dangerous_accept_any_certificate();
    let encrypted = tls::connect(Box::new(tcp), "127.0.0.1", &options)
        .await
        .unwrap();
    // The recorder sits on the plaintext side of TLS.
    let (recorder, buffer) = Recorder::in_memory(encrypted);
    let device = device_over(recorder, "tls-secret").await;
    let identity = device.menu("/system/identity").print().await.unwrap();
    assert_eq!(identity[0].get("name"), Some("MikroTik"));
    let text = buffer.text();
    assert!(text.contains("/system/identity/print"), "{text}");
    assert!(text.contains("!re =name=MikroTik"), "{text}");
    assert!(!text.contains("tls-secret"), "{text}");
}

/// `DeviceBuilder::record`: no stream opened by hand, over API-SSL and
/// across a reconnect, one transcript with each connection marked, which
/// the mock replays connection after connection.
async fn a_builder_recording_over_tls_and_reconnect_replays_each_connection() {
    use mikrotik_rs::ReconnectPolicy;
    use mikrotik_rs::testing::Recording;
    use mikrotik_rs::tls::TlsOptions;
    use mikrotik_rs::tls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::time::Duration;

    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        mikrotik_rs::testing::tls_server_config(vec![cert.der().clone()], private).unwrap();
    let router = MockRouter::builder()
        .user("admin", "tls-secret")
        .tls(config)
        .start();
    let (recording, buffer) = Recording::in_memory();
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", Some("tls-secret"))
        .tls(TlsOptions::dangerous_accept_any_certificate())
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(5))
                .jitter(false),
        )
        .record(recording.clone())
        .connect()
        .await
        .expect("login over TLS");
    let identity = device.menu("/system/identity").print().await.unwrap();
    assert_eq!(identity[0].get("name"), Some("MikroTik"));
    router.restart(Duration::from_millis(20)).await.unwrap();
    common::wait_until(|| recording.connections() == 2, "the reconnect").await;
    common::wait_until(|| device.state().is_connected(), "connected again").await;
    let again = device.menu("/interface").print().await.unwrap();
    assert!(!again.is_empty());
    drop(device);

    let text = buffer.text();
    assert!(!text.contains("tls-secret"), "{text}");
    let markers: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(mikrotik_rs::testing::CONNECTION_MARKER))
        .collect();
    assert_eq!(markers, ["# connection 1", "# connection 2"], "{text}");
    let second = text.split("# connection 2").nth(1).unwrap();
    assert!(second.contains("/login"), "each connection logs in: {text}");
    assert!(second.contains("/interface/print"), "{text}");

    // Replayed (plain): two connections, each answered as recorded, the
    // recorded password still required.
    let replay = MockRouter::builder()
        .replay(buffer.transcript("recorded").unwrap())
        .start();
    for (path, name) in [("/system/identity", "MikroTik"), ("/interface", "ether1")] {
        let device = MikrotikDevice::builder(replay.address())
            .credentials("admin", Some("tls-secret"))
            .connect()
            .await
            .expect("the replayed login");
        let rows = device.menu(path).print().await.unwrap();
        assert_eq!(rows[0].get("name"), Some(name), "{path}");
        device.close().await;
    }
}

#[test]
fn shipped_transcripts_parse_and_print_back_the_same() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut seen = 0;
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        let transcript = Transcript::load(&path).unwrap();
        assert!(transcript.entries.len() > 5, "{}", path.display());
        let again = Transcript::parse(transcript.name.clone(), &transcript.to_text()).unwrap();
        assert_eq!(again, transcript, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 3);
}

/// A recording of a login and one `add`, made against the mock.
async fn recorded_add() -> Transcript {
    let real = MockRouter::builder().user("admin", "s3cret").start();
    let tcp = Async::<TcpStream>::connect(real.addr()).await.unwrap();
    let (recorder, buffer) = Recorder::in_memory(tcp);
    let device = device_over(recorder, "s3cret").await;
    device
        .menu("/ip/address")
        .add(&[("address", "10.9.9.1/24"), ("interface", "ether1")])
        .await
        .unwrap();
    drop(device);
    buffer.transcript("add-once.txt").unwrap()
}

async fn a_write_sent_twice_is_a_trap_saying_so() {
    let replay = MockRouter::builder().replay(recorded_add().await).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = device_over(tcp, "s3cret").await;
    let addresses = device.menu("/ip/address");
    let add = [("address", "10.9.9.1/24"), ("interface", "ether1")];
    addresses.add(&add).await.expect("the recorded add answers");
    let error = addresses.add(&add).await.unwrap_err();
    let message = trap_messages(&error);
    assert!(message.contains("sent twice"), "{message}");
    assert!(
        message.contains("add-once.txt"),
        "names the transcript: {message}"
    );
    assert!(
        message.contains("/ip/address/add"),
        "names the command: {message}"
    );
}

async fn a_wrong_password_is_refused_as_the_router_would() {
    let replay = MockRouter::builder().replay(recorded_add().await).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let refused = MikrotikDevice::builder("mock")
        .credentials("admin", Some("wrong"))
        .connect_stream(tcp)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("invalid user name or password"),
        "{refused}"
    );
    // Another user than the recorded one is refused the same way.
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let refused = MikrotikDevice::builder("mock")
        .credentials("eve", Some("s3cret"))
        .connect_stream(tcp)
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("invalid user name or password"),
        "{refused}"
    );
}

async fn a_redacted_value_matches_only_a_secret() {
    let text = "\
> 0.000 - /login =name=admin =password=<redacted>
< 0.001 - !done
> 0.010 a /interface/wireguard/add =name=wg0 =private-key=<redacted>
< 0.011 a !done =ret=*1
> 0.020 b /ip/address/add =address=<redacted> =interface=wg0
< 0.021 b !done =ret=*2
";
    let transcript = Transcript::parse("redacted.txt", text).unwrap();
    let strict = MockRouter::builder().replay(transcript.clone()).start();
    let device = MikrotikDevice::connect(&strict.address(), "admin", Some("pw"))
        .await
        .unwrap();
    let wg = [("name", "wg0"), ("private-key", "any key at all")];
    device.menu("/interface/wireguard").add(&wg).await.unwrap();
    let address = [("address", "10.0.0.1/24"), ("interface", "wg0")];
    let error = device.menu("/ip/address").add(&address).await.unwrap_err();
    assert!(trap_messages(&error).contains("no command like"), "{error}");
    // Opted out for that key, the redacted address matches.
    let opted = MockRouter::builder()
        .replay(transcript)
        .replay_any_value_for("address")
        .start();
    let device = MikrotikDevice::connect(&opted.address(), "admin", Some("pw"))
        .await
        .unwrap();
    device.menu("/ip/address").add(&address).await.unwrap();
}

async fn the_lenient_mode_repeats_answers_and_takes_any_login() {
    let replay = MockRouter::builder()
        .replay(recorded_add().await)
        .replay_mode(ReplayMode::RepeatsAndAnyLogin)
        .start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = device_over(tcp, "not the recorded one").await;
    let addresses = device.menu("/ip/address");
    let add = [("address", "10.9.9.1/24"), ("interface", "ether1")];
    let first = addresses.add(&add).await.unwrap();
    let second = addresses.add(&add).await.unwrap();
    assert_eq!(first, second, "the last recorded answer again");
}

/// The retry after a reconnect (the bug strict replay exists to catch) goes
/// over a NEW connection: the "already answered" marks are the router's, so
/// the recorded `add` does not answer twice.
async fn a_write_retried_on_a_new_connection_is_a_trap_saying_sent_twice() {
    let replay = MockRouter::builder().replay(recorded_add().await).start();
    let add = [("address", "10.9.9.1/24"), ("interface", "ether1")];
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
        let device = device_over(tcp, "s3cret").await;
        outcomes.push(device.menu("/ip/address").add(&add).await);
    }
    assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
    let second = format!("{:?}", outcomes[1]);
    assert!(
        second.contains("sent twice"),
        "the transcript records the add once, the client sent it twice: {second}"
    );
}

/// A transcript of one command after a login, written as a user would.
fn one_command(name: &str, command: &str, replies: &[&str]) -> Transcript {
    let mut text = "\
# mikrotik-rs transcript 1
> 0.000 - /login =name=admin =password=<redacted>
< 0.001 - !done
"
    .to_owned();
    text.push_str(&format!("> 0.010 a {command}\n"));
    for reply in replies {
        text.push_str(&format!("< 0.011 a {reply}\n"));
    }
    Transcript::parse(name, &text).unwrap()
}

/// `/ping` (like `traceroute`, `torch`, `scan`, `bandwidth-test`, …) changes
/// nothing on the router: sent again, it answers again.
async fn a_read_only_tool_sent_again_answers_again() {
    let transcript = one_command(
        "ping.txt",
        "/ping =address=10.0.0.1 =count=1",
        &["!re =seq=0 =host=10.0.0.1 =time=1ms", "!done"],
    );
    let replay = MockRouter::builder().replay(transcript).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = device_over(tcp, "x").await;
    let ping = || {
        CommandBuilder::new()
            .command("/ping")
            .attribute("address", Some("10.0.0.1"))
            .attribute("count", Some("1"))
            .build()
    };
    device.collect(ping()).await.expect("the recorded ping");
    let again = device.collect(ping()).await;
    assert!(again.is_ok(), "a read sent again: {again:?}");
}

/// `export` reads, unless told to write a file: `export file=` sent again
/// is a write sent twice.
async fn an_export_to_a_file_sent_again_is_a_write_sent_twice() {
    let transcript = one_command("export.txt", "/export =file=backup", &["!done"]);
    let replay = MockRouter::builder().replay(transcript).start();
    let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
    let device = device_over(tcp, "x").await;
    let export = || {
        CommandBuilder::new()
            .command("/export")
            .attribute("file", Some("backup"))
            .build()
    };
    device.collect(export()).await.expect("the recorded export");
    let again = format!("{:?}", device.collect(export()).await);
    assert!(again.contains("sent twice"), "{again}");
}

/// A recorded query on a redacted secret (`?preshared-key=<redacted>`)
/// matches as a redacted attribute does: any value in
/// `RepeatsAndAnyLogin`, a secret's in strict mode.
async fn a_redacted_query_value_matches_as_an_attribute_does() {
    const SECRET: &str = "WgPrivKeyR23+c2VjcmV0LXZhbHVl=";
    for mode in [ReplayMode::RepeatsAndAnyLogin, ReplayMode::Strict] {
        let transcript = one_command(
            "q.txt",
            "/interface/wireguard/peers/print ?preshared-key=<redacted>",
            &["!re =name=p1", "!done"],
        );
        let replay = MockRouter::builder()
            .replay(transcript)
            .replay_mode(mode)
            .start();
        let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
        let device = device_over(tcp, "x").await;
        let rows = device
            .menu("/interface/wireguard/peers")
            .print()
            .query_equal("preshared-key", SECRET)
            .collect()
            .await;
        assert!(rows.is_ok(), "{mode:?}: {rows:?}");
        assert_eq!(rows.unwrap().len(), 1, "{mode:?}");
    }
}

/// The shipped transcripts seal their login secret as the recorder does:
/// a wrong password is refused (the right one is the shipped tests').
async fn the_shipped_transcripts_refuse_a_wrong_password() {
    for name in [
        "print-query-proplist.txt",
        "routeros-7.24-streams.txt",
        "legacy-login-listen-cancel.txt",
    ] {
        let replay = shipped(name);
        let tcp = Async::<TcpStream>::connect(replay.addr()).await.unwrap();
        let outcome = MikrotikDevice::builder("mock")
            .credentials("admin", Some("certainly-not-the-password"))
            .connect_stream(tcp)
            .await;
        assert!(outcome.is_err(), "{name}: a wrong password logged in");
    }
}
