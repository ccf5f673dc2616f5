//! mikrotik-rs under another name, with its default features only: the macro, a
//! connection on the default runtime (async-io and the crate's background thread),
//! login, `collect`, a menu print and `close`, against a small scripted router on
//! 127.0.0.1.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use mikrotik::protocol::command::CommandBuilder;
use mikrotik::{MikrotikDevice, command};

/// Fails the test instead of hanging it.
fn bounded<T>(body: impl Future<Output = T>) -> T {
    smol::block_on(smol::future::or(body, async {
        smol::Timer::after(Duration::from_secs(60)).await;
        panic!("test did not finish within 60 s");
    }))
}

fn words(cmd: &mikrotik::protocol::command::Command) -> Vec<Vec<u8>> {
    let mut words = cmd.words();
    words.retain(|w| !w.starts_with(b".tag="));
    words
}

#[test]
fn command_macro_works_under_a_renamed_dependency() {
    let n = 2;
    let cmd = command!(
        "/ip/address/add",
        address = &format!("10.0.0.{n}/24"),
        interface = format!("ether{n}").as_str(),
        disabled = false,
        ?#|,
    );
    let built = CommandBuilder::new()
        .command("/ip/address/add")
        .attribute("address", Some("10.0.0.2/24"))
        .attribute("interface", Some("ether2"))
        .attribute("disabled", Some("no"))
        .query_operations([mikrotik::protocol::command::QueryOperator::Or].into_iter())
        .build();
    assert_eq!(words(&cmd), words(&built));
}

/// Reads one sentence: its words, or `None` at EOF.
fn read_sentence(stream: &mut TcpStream) -> Option<Vec<String>> {
    let mut words = Vec::new();
    loop {
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).ok()?;
        // Enough for these tests: words shorter than 0x4000 bytes.
        let len = match first[0] {
            b if b < 0x80 => usize::from(b),
            b if b < 0xC0 => {
                let mut second = [0u8; 1];
                stream.read_exact(&mut second).ok()?;
                (usize::from(b & 0x3F) << 8) | usize::from(second[0])
            }
            b => panic!("unexpected length byte {b:#x}"),
        };
        if len == 0 {
            return Some(words);
        }
        let mut word = vec![0; len];
        stream.read_exact(&mut word).ok()?;
        words.push(String::from_utf8(word).expect("UTF-8 word"));
    }
}

fn write_sentence(stream: &mut TcpStream, words: &[String]) {
    let mut bytes = Vec::new();
    for word in words {
        assert!(word.len() < 0x80);
        bytes.push(word.len() as u8);
        bytes.extend_from_slice(word.as_bytes());
    }
    bytes.push(0);
    stream.write_all(&bytes).expect("write");
}

/// A router that accepts one connection: login succeeds, `/system/identity/print`
/// returns one row, anything else is `!done`; it returns the paths it saw.
fn scripted_router() -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut paths = Vec::new();
        while let Some(sentence) = read_sentence(&mut stream) {
            let tag = sentence
                .iter()
                .find(|w| w.starts_with(".tag="))
                .cloned()
                .unwrap_or_default();
            let path = sentence.first().cloned().unwrap_or_default();
            paths.push(path.clone());
            if path == "/quit" {
                write_sentence(&mut stream, &["!fatal".into(), "session terminated".into()]);
                break;
            }
            if path == "/system/identity/print" {
                write_sentence(
                    &mut stream,
                    &["!re".into(), "=name=downstream".into(), tag.clone()],
                );
            }
            write_sentence(&mut stream, &["!done".into(), tag]);
        }
        paths
    });
    (address, thread)
}

/// Connects to a fresh scripted router and runs a short session.
async fn session() {
    let (address, router) = scripted_router();
    let device = MikrotikDevice::connect(&address, "admin", Some("secret"))
        .await
        .expect("connect");
    let rows = device
        .collect(command!("/system/identity/print"))
        .await
        .expect("collect");
    assert_eq!(rows.rows[0].get("name"), Some("downstream"));
    let rows = device
        .menu("/system/identity")
        .print()
        .await
        .expect("print");
    assert_eq!(rows.len(), 1);
    device.close().await;
    assert!(device.is_closed());
    let paths = router.join().expect("router thread");
    assert_eq!(
        paths,
        [
            "/login",
            "/system/identity/print",
            "/system/identity/print",
            "/quit"
        ]
    );
}

#[test]
fn connects_logs_in_and_reads_rows_on_the_default_runtime() {
    bounded(session());
}

#[test]
fn works_under_tokio_without_the_tokio_feature() {
    // The connection runs on async-io and the crate's background thread, not on
    // this runtime, but nothing fails (README: "Tokio without the `tokio` feature").
    // `enable_all`: in a workspace build with every feature, mikrotik-rs does
    // use this runtime, and needs its timers and sockets.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        smol::future::or(session(), async {
            smol::Timer::after(Duration::from_secs(60)).await;
            panic!("test did not finish within 60 s");
        })
        .await
    });
}
