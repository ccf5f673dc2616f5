//! The mock against a tiny blocking client written here (the crate's own
//! client is tested against the mock elsewhere).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;
use crate::protocol::login::challenge_response;
use crate::protocol::{Decoder, encode_sentence};

const TIMEOUT: Duration = Duration::from_secs(5);

type Words = Vec<String>;

struct Client {
    stream: TcpStream,
    decoder: Decoder,
    pending: VecDeque<Words>,
    eof: bool,
}

impl Client {
    fn connect(router: &MockRouter) -> Self {
        let stream = TcpStream::connect_timeout(&router.addr(), TIMEOUT).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        Self {
            stream,
            decoder: Decoder::default(),
            pending: VecDeque::new(),
            eof: false,
        }
    }

    fn logged_in(router: &MockRouter) -> Self {
        let mut client = Self::connect(router);
        client.send(&["/login", "=name=admin", "=password="]);
        assert_eq!(client.recv(), Some(words(&["!done"])));
        client
    }

    fn send(&mut self, words: &[&str]) {
        let mut out = Vec::new();
        encode_sentence(words, &mut out);
        self.stream.write_all(&out).unwrap();
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads raw bytes until EOF (or `limit` bytes), bounded by the read timeout.
    fn read_to_end(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        self.stream.read_to_end(&mut all).unwrap();
        all
    }

    /// The next sentence, `None` at EOF. Panics after the timeout.
    fn recv(&mut self) -> Option<Words> {
        let mut buf = [0u8; 65536];
        loop {
            if let Some(s) = self.pending.pop_front() {
                return Some(s);
            }
            if self.eof {
                return None;
            }
            let n = match self.stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => 0,
                Err(e) => panic!("no reply within {TIMEOUT:?}: {e}"),
            };
            if n == 0 {
                self.eof = true;
                assert!(!self.decoder.is_mid_sentence(), "EOF inside a sentence");
                continue;
            }
            let mut input = &buf[..n];
            while let Some(s) = self.decoder.decode(&mut input).unwrap() {
                self.pending.push_back(
                    s.words()
                        .map(|w| String::from_utf8_lossy(w).into_owned())
                        .collect(),
                );
            }
        }
    }

    /// Whether nothing arrives for `wait`.
    fn quiet_for(&mut self, wait: Duration) -> bool {
        if !self.pending.is_empty() {
            return false;
        }
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 1];
        let quiet = match self.stream.peek(&mut byte) {
            Ok(_) => false,
            Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        };
        self.stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        quiet
    }

    /// Every sentence up to and including the `!done` tagged `tag`.
    fn until_done(&mut self, tag: &str) -> Vec<Words> {
        let tag_word = format!(".tag={tag}");
        let mut got = Vec::new();
        loop {
            let s = self.recv().expect("connection closed before !done");
            let end = s[0] == "!done" && s.contains(&tag_word);
            got.push(s);
            if end {
                return got;
            }
        }
    }

    /// The `name`s of the rows of a print.
    fn names(&mut self, command: &[&str]) -> Vec<String> {
        let mut words = command.to_vec();
        words.push(".tag=names");
        self.send(&words);
        self.until_done("names")
            .iter()
            .filter(|s| s[0] == "!re")
            .filter_map(|s| value(s, "name").map(str::to_owned))
            .collect()
    }
}

fn words(list: &[&str]) -> Words {
    list.iter().map(|w| (*w).to_owned()).collect()
}

fn value<'a>(sentence: &'a [String], key: &str) -> Option<&'a str> {
    let prefix = format!("={key}=");
    sentence
        .iter()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
}

fn wait_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[test]
fn modern_login_accepts_and_refuses() {
    let router = MockRouter::builder().user("admin", "secret").start();
    let mut c = Client::connect(&router);
    c.send(&["/login", "=name=admin", "=password=wrong", ".tag=1"]);
    assert_eq!(
        c.recv(),
        Some(words(&[
            "!trap",
            ".tag=1",
            "=message=invalid user name or password (6)"
        ]))
    );
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=1"])));
    c.send(&["/login", "=name=nobody", "=password=secret"]);
    assert_eq!(c.recv().unwrap()[0], "!trap");
    assert_eq!(c.recv().unwrap()[0], "!done");
    c.send(&["/login", "=name=admin", "=password=secret", ".tag=2"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=2"])));
    assert_eq!(c.names(&["/system/identity/print"]), ["MikroTik"]);
}

#[test]
fn commands_before_login_are_fatal() {
    let router = MockRouter::start();
    let mut c = Client::connect(&router);
    c.send(&["/interface/print", ".tag=1"]);
    assert_eq!(c.recv(), Some(words(&["!fatal", "not logged in"])));
    assert_eq!(c.recv(), None);
}

#[test]
fn legacy_login_challenge_and_response() {
    let router = MockRouter::builder()
        .user("admin", "pw")
        .legacy_login(true)
        .start();
    let mut c = Client::connect(&router);
    // The modern form gets a challenge, as on a pre-6.43 router.
    c.send(&["/login", "=name=admin", "=password=pw", ".tag=a"]);
    let reply = c.recv().unwrap();
    assert_eq!(reply[..2], words(&["!done", ".tag=a"]));
    let challenge = value(&reply, "ret").unwrap().to_owned();
    assert_eq!(challenge.len(), 32);
    assert!(challenge.bytes().all(|b| b.is_ascii_hexdigit()));
    // A wrong password is refused.
    let bad = challenge_response(b"nope", &challenge).unwrap();
    c.send(&["/login", "=name=admin", &format!("=response={bad}")]);
    assert_eq!(c.recv(), Some(words(&["!trap", "=message=cannot log in"])));
    assert_eq!(c.recv(), Some(words(&["!done"])));
    // A fresh challenge, answered right.
    c.send(&["/login"]);
    let challenge = value(&c.recv().unwrap(), "ret").unwrap().to_owned();
    let good = challenge_response(b"pw", &challenge).unwrap();
    c.send(&[
        "/login",
        "=name=admin",
        &format!("=response={good}"),
        ".tag=b",
    ]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=b"])));
    assert_eq!(c.names(&["/user/print"]), ["admin"]);
}

#[test]
fn every_reply_carries_the_tag_right_after_the_reply_word() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/print", ".tag=xyz"]);
    let replies = c.until_done("xyz");
    assert_eq!(replies.len(), 8, "{replies:?}");
    for s in &replies {
        assert_eq!(s[1], ".tag=xyz");
        if s[0] == "!re" {
            assert!(value(s, ".id").unwrap().starts_with('*'));
        }
    }
    // Untagged commands get untagged replies.
    c.send(&["/system/identity/print"]);
    assert_eq!(c.recv(), Some(words(&["!re", "=name=MikroTik"])));
    assert_eq!(c.recv(), Some(words(&["!done"])));
}

#[test]
fn cancel_replies_in_the_documented_order() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/listen", ".tag=L"]);
    assert!(wait_until(|| router.running_commands() == 1));
    c.send(&["/cancel", "=tag=L", ".tag=C"]);
    assert_eq!(
        c.recv(),
        Some(words(&[
            "!trap",
            ".tag=L",
            "=category=2",
            "=message=interrupted"
        ]))
    );
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=C"])));
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=L"])));
    assert_eq!(router.running_commands(), 0);
    // Nothing more for L, even when the menu changes.
    router.add_item("/interface", [("name", "after-cancel")]);
    assert!(c.quiet_for(Duration::from_millis(100)));
    // Cancelling it again: it is unknown now.
    c.send(&["/cancel", "=tag=L", ".tag=D"]);
    assert_eq!(
        c.recv(),
        Some(words(&[
            "!trap",
            ".tag=D",
            "=category=0",
            "=message=no such command"
        ]))
    );
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=D"])));
}

#[test]
fn cancel_without_tag_stops_everything() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(10))
        .script("/tool/sniffer/quick", Script::Silent)
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/monitor-traffic", "=interface=ether1", ".tag=m"]);
    c.send(&["/tool/sniffer/quick", ".tag=s"]);
    assert!(wait_until(|| router.running_commands() == 2));
    c.send(&["/cancel", ".tag=all"]);
    let replies = c.until_done("all");
    let interrupted: Vec<_> = replies
        .iter()
        .filter(|s| s[0] == "!trap")
        .map(|s| s[1].clone())
        .collect();
    assert_eq!(interrupted.len(), 2, "{replies:?}");
    let mut done = vec![c.recv().unwrap()[1].clone(), c.recv().unwrap()[1].clone()];
    done.sort();
    assert_eq!(done, [".tag=m", ".tag=s"]);
    assert_eq!(router.running_commands(), 0);
    assert!(c.quiet_for(Duration::from_millis(50)));
}

#[test]
fn empty_replies_only_in_7_18_mode() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/print", "?name=nothing", ".tag=1"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=1"])));
    let router = MockRouter::builder().empty_replies(true).start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/print", "?name=nothing", ".tag=1"]);
    assert_eq!(c.recv(), Some(words(&["!empty", ".tag=1"])));
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=1"])));
    // A print with rows has no !empty.
    assert_eq!(c.names(&["/system/identity/print"]), ["MikroTik"]);
}

#[test]
fn queries_proplist_and_count_only() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    let ethers = ["ether1", "ether2", "ether3", "ether4", "ether5"];
    let mut either: Vec<_> = ethers.to_vec();
    either.push("vlan10");
    assert_eq!(
        c.names(&["/interface/print", "?type=ether", "?type=vlan", "?#|"]),
        either
    );
    assert_eq!(
        c.names(&["/interface/print", "?type=ether", "?type=vlan", "?#|!"]),
        ["bridge"]
    );
    assert_eq!(c.names(&["/interface/print", "?>mtu=1500"]), ["ether5"]);
    assert_eq!(
        c.names(&["/interface/print", "?-comment"]),
        ["ether2", "ether3", "ether4", "ether5", "vlan10"]
    );
    assert_eq!(c.names(&["/interface/getall", "?=type=bridge"]), ["bridge"]);
    // .proplist: only those properties.
    c.send(&[
        "/interface/print",
        "=.proplist=name,mtu",
        "?name=ether1",
        ".tag=p",
    ]);
    assert_eq!(
        c.until_done("p"),
        [
            words(&["!re", ".tag=p", "=name=ether1", "=mtu=1500"]),
            words(&["!done", ".tag=p"])
        ]
    );
    c.send(&["/interface/print", "=count-only=", "?type=ether", ".tag=n"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=n", "=ret=5"])));
    // A malformed query is a trap, not a crash.
    c.send(&["/interface/print", "?#x", ".tag=bad"]);
    let replies = c.until_done("bad");
    assert_eq!(replies[0][0], "!trap");
}

#[test]
fn add_set_remove_seen_by_listen_of_another_session() {
    let router = MockRouter::start();
    let mut watcher = Client::logged_in(&router);
    watcher.send(&["/ip/address/listen", ".tag=w"]);
    assert!(wait_until(|| router.running_commands() == 1));
    let mut c = Client::logged_in(&router);
    c.send(&[
        "/ip/address/add",
        "=address=10.9.9.1/24",
        "=interface=ether2",
        ".tag=a",
    ]);
    let done = c.recv().unwrap();
    assert_eq!(done[..2], words(&["!done", ".tag=a"]));
    let id = value(&done, "ret").unwrap().to_owned();
    assert_eq!(id, "*3");
    let added = watcher.recv().unwrap();
    assert_eq!(added[..2], words(&["!re", ".tag=w"]));
    assert_eq!(value(&added, ".id"), Some("*3"));
    assert_eq!(value(&added, "address"), Some("10.9.9.1/24"));

    c.send(&[
        "/ip/address/set",
        &format!("=.id={id}"),
        "=comment=lab",
        ".tag=s",
    ]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=s"])));
    let changed = watcher.recv().unwrap();
    assert_eq!(value(&changed, "comment"), Some("lab"));

    c.send(&["/ip/address/set", "=numbers=*99", "=comment=x", ".tag=u"]);
    assert_eq!(
        c.recv(),
        Some(words(&[
            "!trap",
            ".tag=u",
            "=category=0",
            "=message=no such item"
        ]))
    );
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=u"])));

    c.send(&["/ip/address/remove", &format!("=numbers={id},*1"), ".tag=r"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=r"])));
    let mut dead = Vec::new();
    for _ in 0..2 {
        let row = watcher.recv().unwrap();
        assert_eq!(value(&row, ".dead"), Some("true"), "{row:?}");
        dead.push(value(&row, ".id").unwrap().to_owned());
    }
    dead.sort();
    assert_eq!(dead, ["*1", "*3"]);
    assert_eq!(
        c.names(&["/ip/address/print", "=.proplist=address"]).len(),
        0
    );
    assert_eq!(router.items("/ip/address").len(), 1);

    // Duplicate names are refused.
    c.send(&["/interface/add", "=name=ether1", ".tag=d"]);
    assert_eq!(c.recv().unwrap()[0], "!trap");
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=d"])));
}

#[test]
fn routeros6_dead_rows_say_yes() {
    let router = MockRouter::builder().routeros6(true).start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/listen", ".tag=w"]);
    assert!(wait_until(|| router.running_commands() == 1));
    assert!(router.remove_item("/interface", "ether3"));
    let row = c.recv().unwrap();
    assert_eq!(value(&row, ".dead"), Some("yes"));
    assert_eq!(value(&row, "running"), Some("yes"));
}

#[test]
fn follow_prints_rows_then_changes_and_follow_only_just_changes() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send(&["/ip/address/print", "=follow=", ".tag=f"]);
    c.send(&[
        "/ip/address/print",
        "=follow-only=",
        "?interface=ether4",
        ".tag=o",
    ]);
    for _ in 0..2 {
        let row = c.recv().unwrap();
        assert_eq!(row[..2], words(&["!re", ".tag=f"]));
    }
    assert!(wait_until(|| router.running_commands() == 2));
    router.add_item(
        "/ip/address",
        [("address", "1.1.1.1/32"), ("interface", "ether4")],
    );
    let mut tags: Vec<_> = (0..2).map(|_| c.recv().unwrap()[1].clone()).collect();
    tags.sort();
    assert_eq!(tags, [".tag=f", ".tag=o"]);
    router.add_item(
        "/ip/address",
        [("address", "2.2.2.2/32"), ("interface", "ether3")],
    );
    let row = c.recv().unwrap();
    assert_eq!(row[1], ".tag=f", "the query of o filters it");
    assert!(c.quiet_for(Duration::from_millis(50)));
}

#[test]
fn monitors_once_and_streaming() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(20))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&[
        "/interface/monitor-traffic",
        "=interface=ether1,ether2",
        "=once=",
        ".tag=1",
    ]);
    let replies = c.until_done("1");
    assert_eq!(replies.len(), 3);
    assert_eq!(value(&replies[1], "name"), Some("ether2"));
    assert!(value(&replies[0], "rx-bits-per-second").is_some());

    c.send(&["/interface/ethernet/monitor", "=numbers=ether1", ".tag=e"]);
    let started = Instant::now();
    for _ in 0..3 {
        let row = c.recv().unwrap();
        assert_eq!(row[..2], words(&["!re", ".tag=e"]));
        assert_eq!(value(&row, "status"), Some("link-ok"));
        assert_eq!(value(&row, "rate"), Some("1Gbps"));
    }
    assert!(started.elapsed() >= Duration::from_millis(40));
    c.send(&["/cancel", "=tag=e", ".tag=c"]);
    let mut rest = c.until_done("e");
    // Rows already on the way may precede the interrupted trap.
    rest.retain(|s| s[0] != "!re");
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert_eq!(rest[0][0], "!trap");
    assert_eq!(rest[1], words(&["!done", ".tag=c"]));

    c.send(&[
        "/interface/monitor-traffic",
        "=interface=nope",
        "=once=",
        ".tag=x",
    ]);
    assert_eq!(c.recv().unwrap()[0], "!trap");

    c.send(&["/system/package/update/check-for-updates", ".tag=u"]);
    let replies = c.until_done("u");
    assert!(replies.len() >= 3);
    assert_eq!(
        value(&replies[replies.len() - 2], "status"),
        Some("New version is available")
    );
}

#[test]
fn quit_is_fatal_then_closed() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send(&["/quit", ".tag=q"]);
    assert_eq!(
        c.recv(),
        Some(words(&["!fatal", "session terminated on request"]))
    );
    assert_eq!(c.recv(), None);
    assert!(wait_until(|| router.session_count() == 0));
}

#[test]
fn one_byte_writes_carry_a_whole_session() {
    let router = MockRouter::builder().write_chunk_size(1).start();
    let mut c = Client::logged_in(&router);
    assert_eq!(c.names(&["/interface/print"]).len(), 7);
    router.set_write_chunk_size(Some(3));
    assert_eq!(c.names(&["/interface/print"]).len(), 7);
}

#[test]
fn close_after_bytes_cuts_mid_sentence_counting_from_login() {
    let router = MockRouter::builder().close_after_bytes(10).start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/print", ".tag=abcdef"]);
    let bytes = c.read_to_end();
    assert_eq!(bytes.len(), 10);
    assert_eq!(&bytes[..4], b"\x03!re");

    let router = MockRouter::builder()
        .close_after_bytes_from_start(3)
        .start();
    let mut c = Client::connect(&router);
    c.send(&["/login", "=name=admin", "=password="]);
    assert_eq!(c.read_to_end(), b"\x05!d");
}

#[test]
fn bulk_streams_exactly_count_rows() {
    let attributes: Vec<_> = (0..10)
        .map(|i| (format!("key{i}"), "0123456789abcdef".to_owned()))
        .collect();
    let router = MockRouter::builder()
        .script(
            "/log/print",
            Script::Bulk {
                count: 200_000,
                attributes,
            },
        )
        .script("/x/none", Script::bulk(0, [("a", "b")]))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/log/print", ".tag=b"]);
    let mut rows = 0;
    loop {
        let s = c.recv().unwrap();
        assert_eq!(s[1], ".tag=b");
        match s[0].as_str() {
            "!re" => {
                rows += 1;
                assert_eq!(s.len(), 12);
            }
            "!done" => break,
            other => panic!("{other}"),
        }
    }
    assert_eq!(rows, 200_000);
    c.send(&["/x/none", ".tag=n"]);
    assert_eq!(c.until_done("n"), [words(&["!done", ".tag=n"])]);
    assert_eq!(router.running_commands(), 0);
}

#[test]
fn unknown_paths_answer_the_two_traps_routers_send() {
    for v6 in [false, true] {
        let router = MockRouter::builder().routeros6(v6).start();
        let mut c = Client::logged_in(&router);
        for (path, name) in [
            ("/nothing/here/print", "nothing"),
            ("/ip/adress/print", "adress"),
            ("/interface/wirelss/print", "wirelss"),
            ("/interface/explode", "explode"),
            ("/system/identity/add", "add"),
        ] {
            c.send(&[path, ".tag=1"]);
            let message = format!("=message=no such command or directory ({name})");
            assert_eq!(
                c.until_done("1"),
                [
                    words(&["!trap", ".tag=1", "=category=0", &message]),
                    words(&["!trap", ".tag=1", "=message=no such command prefix"]),
                    words(&["!done", ".tag=1"]),
                ],
                "{path}"
            );
        }
    }
}

#[test]
fn booleans_are_typed_on_7_and_words_on_6() {
    // Queries in either flavour's words match the stored boolean.
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    let down = c.names(&["/interface/print", "?running=no"]);
    assert_eq!(down, ["ether5"]);
    assert_eq!(c.names(&["/interface/print", "?running=false"]), ["ether5"]);
    assert_eq!(c.names(&["/interface/print", "?disabled=yes"]).len(), 0);
    assert_eq!(c.names(&["/interface/print", "?disabled=no"]).len(), 7);
    for (v6, on, off) in [(false, "true", "false"), (true, "yes", "no")] {
        let router = MockRouter::builder().routeros6(v6).start();
        let mut c = Client::logged_in(&router);
        for (sent, printed) in [("yes", on), ("true", on), ("no", off), ("false", off)] {
            c.send(&[
                "/interface/set",
                "=.id=ether2",
                &format!("=disabled={sent}"),
                ".tag=s",
            ]);
            assert_eq!(c.until_done("s"), [words(&["!done", ".tag=s"])]);
            c.send(&["/interface/print", "?name=ether2", ".tag=p"]);
            let rows = c.until_done("p");
            assert_eq!(value(&rows[0], "disabled"), Some(printed), "v6={v6} {sent}");
        }
        c.send(&[
            "/ip/address/add",
            "=address=10.7.0.1/24",
            "=interface=ether3",
            "=disabled=yes",
            ".tag=a",
        ]);
        assert_eq!(c.recv().unwrap()[0], "!done");
        c.send(&["/ip/address/print", "?address=10.7.0.1/24", ".tag=p"]);
        let rows = c.until_done("p");
        assert_eq!(value(&rows[0], "disabled"), Some(on), "v6={v6}");
        // Matched in the other flavour's words too.
        c.send(&[
            "/ip/address/print",
            "?disabled=true",
            "?disabled=yes",
            ".tag=q",
        ]);
        assert_eq!(c.until_done("q").len(), 2, "v6={v6}");
    }
}

#[test]
fn add_and_set_check_their_parameters() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    let before = router.items("/ip/address");
    let refused = |c: &mut Client, command: &[&str]| {
        let mut command = command.to_vec();
        command.push(".tag=x");
        c.send(&command);
        let replies = c.until_done("x");
        assert_eq!(replies.len(), 2, "{command:?}: {replies:?}");
        assert_eq!(replies[0][0], "!trap", "{command:?}");
        replies[0].last().unwrap().clone()
    };
    let message = refused(
        &mut c,
        &[
            "/ip/address/add",
            "=address=10.1.1.1/24",
            "=interface=ether2",
            "=colour=blue",
        ],
    );
    assert_eq!(message, "=message=unknown parameter colour");
    let message = refused(&mut c, &["/ip/address/add", "=interface=ether2"]);
    assert_eq!(message, "=message=missing value(s) of argument(s) address");
    let message = refused(&mut c, &["/ip/address/add", "=address=10.1.1.1/24"]);
    assert_eq!(
        message,
        "=message=missing value(s) of argument(s) interface"
    );
    let message = refused(
        &mut c,
        &["/ip/address/add", "=address=10.1.1.1/24", "=interface=asdf"],
    );
    assert_eq!(
        message,
        "=message=input does not match any value of interface"
    );
    assert_eq!(router.items("/ip/address"), before, "nothing stored");

    let message = refused(&mut c, &["/interface/set", "=.id=ether1", "=mtu=jumbo"]);
    assert_eq!(message, "=message=invalid value for argument mtu");
    let message = refused(&mut c, &["/interface/set", "=.id=ether1", "=mtu=70000"]);
    assert_eq!(message, "=message=value of mtu out of range (0..65535)");
    let message = refused(&mut c, &["/interface/set", "=.id=ether1", "=running=no"]);
    assert_eq!(message, "=message=unknown parameter running");
    let message = refused(
        &mut c,
        &["/interface/set", "=.id=ether1", "=disabled=maybe"],
    );
    assert_eq!(message, "=message=invalid value for argument disabled");
    let ether1 = |router: &MockRouter| router.items("/interface")[0].clone();
    assert!(ether1(&router).contains(&("mtu".into(), b"1500".to_vec())));
    c.send(&["/interface/set", "=.id=ether1", "=mtu=1480", ".tag=ok"]);
    assert_eq!(c.until_done("ok"), [words(&["!done", ".tag=ok"])]);
    assert!(ether1(&router).contains(&("mtu".into(), b"1480".to_vec())));

    // Defaults are filled in; a write-only password is never printed.
    c.send(&[
        "/user/add",
        "=name=op",
        "=group=read",
        "=password=pw",
        ".tag=u",
    ]);
    assert_eq!(c.recv().unwrap()[0], "!done");
    let op = router.items("/user").pop().unwrap();
    assert!(
        op.contains(&("disabled".into(), b"false".to_vec())),
        "{op:?}"
    );
    assert!(!op.iter().any(|(k, _)| k == "password"), "{op:?}");
    let message = refused(&mut c, &["/user/add", "=name=x", "=group=root"]);
    assert_eq!(message, "=message=invalid value for argument group");
    // The test's own direct access stays unchecked.
    assert!(router.set_item("/interface", "ether2", [("mtu", "jumbo")]));
}

#[test]
fn streaming_monitors_count_sections() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(5))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&[
        "/interface/monitor-traffic",
        "=interface=ether1,ether2",
        ".tag=m",
    ]);
    for cycle in 0..3 {
        for name in ["ether1", "ether2"] {
            let row = c.recv().unwrap();
            assert_eq!(value(&row, "name"), Some(name));
            let section = cycle.to_string();
            assert_eq!(row.last().unwrap(), &format!("=.section={section}"));
        }
    }
    c.send(&["/cancel", "=tag=m", ".tag=c"]);
    c.until_done("m");
    // `once` is one row without a section.
    c.send(&[
        "/interface/monitor-traffic",
        "=interface=ether1",
        "=once=",
        ".tag=o",
    ]);
    let once = c.until_done("o");
    assert_eq!(value(&once[0], ".section"), None);
    // print =interval= repeats the rows, a section per cycle.
    c.send(&["/ip/address/print", "=interval=1ms", ".tag=p"]);
    let mut seen = Vec::new();
    for _ in 0..6 {
        let row = c.recv().unwrap();
        assert_eq!(row[..2], words(&["!re", ".tag=p"]));
        seen.push(value(&row, ".section").unwrap().to_owned());
    }
    assert_eq!(seen, ["0", "0", "1", "1", "2", "2"]);
    c.send(&["/cancel", "=tag=p", ".tag=c"]);
    c.until_done("p");
}

#[test]
fn listen_cancelled_before_any_row_answers_empty_on_7_18() {
    for (empty, follow) in [(true, false), (true, true), (false, false)] {
        let router = MockRouter::builder().empty_replies(empty).start();
        let mut c = Client::logged_in(&router);
        let command = if follow {
            ["/ip/address/print", "=follow-only="]
        } else {
            ["/ip/address/listen", "=.proplist=address"]
        };
        c.send(&[command[0], command[1], ".tag=l"]);
        assert!(wait_until(|| router.running_commands() == 1));
        c.send(&["/cancel", "=tag=l", ".tag=c"]);
        let mut expected = vec![
            words(&["!trap", ".tag=l", "=category=2", "=message=interrupted"]),
            words(&["!done", ".tag=c"]),
        ];
        if empty {
            expected.push(words(&["!empty", ".tag=l"]));
        }
        expected.push(words(&["!done", ".tag=l"]));
        assert_eq!(c.until_done("l"), expected, "empty={empty} follow={follow}");
    }
    // With a row sent first: the usual order, no `!empty`.
    let router = MockRouter::builder().empty_replies(true).start();
    let mut c = Client::logged_in(&router);
    c.send(&["/ip/address/listen", ".tag=l"]);
    assert!(wait_until(|| router.running_commands() == 1));
    assert!(router.set_item("/ip/address", "*1", [("comment", "x")]));
    assert_eq!(c.recv().unwrap()[..2], words(&["!re", ".tag=l"]));
    c.send(&["/cancel", "=tag=l", ".tag=c"]);
    let rest = c.until_done("l");
    assert_eq!(
        rest,
        [
            words(&["!trap", ".tag=l", "=category=2", "=message=interrupted"]),
            words(&["!done", ".tag=c"]),
            words(&["!done", ".tag=l"]),
        ]
    );
}

#[test]
fn one_consistent_routeros6_and_complete_interface_rows() {
    let get = |router: &MockRouter, menu: &str, key: &str| -> String {
        let rows = router.items(menu);
        let (_, v) = rows[0].iter().find(|(k, _)| k == key).unwrap().clone();
        String::from_utf8(v).unwrap()
    };
    let v6 = MockRouter::builder().routeros6(true).start();
    let version = get(&v6, "/system/resource", "version");
    // Between 6.43 (the new login) and 6.45.1 (the MD5 login removed).
    assert!(version.starts_with("6.44."), "{version}");
    assert_eq!(get(&v6, "/system/resource", "architecture-name"), "mipsbe");
    let build = get(&v6, "/system/resource", "build-time");
    assert_eq!(build.as_bytes()[3], b'/', "6.x format: {build}");
    let v7 = MockRouter::start();
    let build = get(&v7, "/system/resource", "build-time");
    assert_eq!(build.as_bytes()[4], b'-', "7.x format: {build}");
    let newer = MockRouter::builder().empty_replies(true).start();
    let version = get(&newer, "/system/resource", "version");
    let minor: u32 = version[2..4].parse().unwrap();
    assert!(version.starts_with("7.") && minor >= 18, "{version}");
    for router in [&v6, &v7] {
        for row in router.items("/interface") {
            let has = |k: &str| row.iter().any(|(key, _)| key == k);
            let is_ether = row.contains(&("type".into(), b"ether".to_vec()));
            assert_eq!(has("default-name"), is_ether, "{row:?}");
            assert!(
                has("l2mtu") && has("mac-address") && has("running"),
                "{row:?}"
            );
        }
    }
    // Both logins work against the 6.44 flavour.
    let both = MockRouter::builder()
        .routeros6(true)
        .legacy_login(true)
        .start();
    let mut c = Client::connect(&both);
    c.send(&["/login", ".tag=1"]);
    let challenge = c.recv().unwrap();
    assert!(value(&challenge, "ret").is_some());
}

#[test]
fn users_register_their_own_menus() {
    let router = MockRouter::builder()
        .menu(
            MockMenu::new("/ip/firewall/address-list")
                .required("list", PropertyType::Text)
                .required(
                    "address",
                    PropertyType::custom(|v| {
                        if v.contains(&b'.') {
                            Ok(())
                        } else {
                            Err("invalid IP address".into())
                        }
                    }),
                )
                .property("timeout", PropertyType::Integer { min: 0, max: 100 })
                .property("disabled", PropertyType::Bool)
                .default("disabled", "no")
                .row([
                    ("list", "blocked"),
                    ("address", "192.0.2.7"),
                    ("disabled", "false"),
                ]),
        )
        .menu(MockMenu::single("/system/clock").row([("time", "12:00:00")]))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/ip/firewall/address-list/listen", ".tag=w"]);
    assert!(wait_until(|| router.running_commands() == 1));
    c.send(&[
        "/ip/firewall/address-list/add",
        "=list=blocked",
        "=address=198.51.100.1",
        ".tag=a",
    ]);
    let added = c.recv().unwrap();
    let done = c.recv().unwrap();
    let (added, done) = if added[0] == "!re" {
        (added, done)
    } else {
        (done, added)
    };
    assert_eq!(done[..3], words(&["!done", ".tag=a", "=ret=*2"]));
    assert_eq!(value(&added, "disabled"), Some("false"), "default, typed");
    c.send(&[
        "/ip/firewall/address-list/add",
        "=list=x",
        "=address=nowhere",
        ".tag=b",
    ]);
    assert_eq!(
        c.until_done("b"),
        [
            words(&[
                "!trap",
                ".tag=b",
                "=category=1",
                "=message=invalid IP address"
            ]),
            words(&["!done", ".tag=b"])
        ]
    );
    c.send(&[
        "/ip/firewall/address-list/set",
        "=.id=*1",
        "=timeout=101",
        ".tag=t",
    ]);
    assert_eq!(c.until_done("t")[0][0], "!trap");
    c.send(&[
        "/ip/firewall/address-list/set",
        "=.id=*1",
        "=disabled=yes",
        ".tag=s",
    ]);
    c.until_done("s");
    assert_eq!(value(&c.recv().unwrap(), "disabled"), Some("true"));
    c.send(&["/ip/firewall/address-list/remove", "=.id=*1", ".tag=r"]);
    c.until_done("r");
    assert_eq!(value(&c.recv().unwrap(), ".dead"), Some("true"));
    c.send(&["/ip/firewall/address-list/print", "?list=blocked", ".tag=p"]);
    let rows = c.until_done("p");
    assert_eq!(rows.len(), 2);
    assert_eq!(value(&rows[0], "address"), Some("198.51.100.1"));
    // A menu without declared properties stores anything; single rows have no id.
    c.send(&[
        "/system/clock/set",
        "=time=13:00:00",
        "=time-zone-name=UTC",
        ".tag=k",
    ]);
    c.until_done("k");
    assert_eq!(c.names(&["/system/clock/print"]).len(), 0);
    c.send(&["/system/clock/print", ".tag=g"]);
    let clock = c.until_done("g");
    assert_eq!(value(&clock[0], "time"), Some("13:00:00"));
    assert_eq!(value(&clock[0], ".id"), None);
}

#[test]
fn scripted_replies() {
    let router = MockRouter::builder()
        .script(
            "/interface/print",
            Reply::new()
                .row([("name", &b"caf\xe9"[..]), ("nul", b"a\x00b")])
                .trap(Some(1), "bad value")
                .ret("*7")
                .into(),
        )
        .script("/raw", Script::Raw(vec![0xF8, 0x01]))
        .script(
            "/custom",
            Script::custom(|s| {
                vec![vec![
                    b"!re".to_vec(),
                    s.word(1).unwrap_or_default().to_vec(),
                ]]
            }),
        )
        .script(
            "/slow",
            Reply::new()
                .row([("a", "1")])
                .delay(Duration::from_millis(30))
                .into(),
        )
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/print", ".tag=s"]);
    assert_eq!(
        c.until_done("s"),
        [
            words(&["!re", ".tag=s", "=name=caf\u{fffd}", "=nul=a\0b"]),
            words(&["!trap", ".tag=s", "=category=1", "=message=bad value"]),
            words(&["!done", ".tag=s", "=ret=*7"]),
        ]
    );
    c.send(&["/custom", "=x=y"]);
    assert_eq!(c.recv(), Some(words(&["!re", "=x=y"])));
    c.send(&["/slow", ".tag=d"]);
    assert_eq!(c.until_done("d").len(), 2);
    router.set_script(
        "/slow",
        Reply::new()
            .row([("a", "1")])
            .delay(Duration::from_millis(300))
            .into(),
    );
    // Both in one write: the cancel surely comes before the delay ends.
    let mut both = Vec::new();
    encode_sentence(["/slow", ".tag=d2"], &mut both);
    encode_sentence(["/cancel", "=tag=d2", ".tag=c"], &mut both);
    c.send_raw(&both);
    assert_eq!(
        c.recv().unwrap()[..3],
        words(&["!trap", ".tag=d2", "=category=2"])
    );
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=c"])));
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=d2"])));
    assert!(
        c.quiet_for(Duration::from_millis(400)),
        "the delayed reply is gone"
    );
    router.set_script("/custom", Script::Fatal("going down".into()));
    c.send(&["/custom"]);
    assert_eq!(c.recv(), Some(words(&["!fatal", "going down"])));
    assert_eq!(c.recv(), None);
    let mut c = Client::logged_in(&router);
    c.send(&["/raw"]);
    let mut got = [0u8; 2];
    c.stream.read_exact(&mut got).unwrap();
    assert_eq!(got, [0xF8, 0x01]);
    assert!(
        c.quiet_for(Duration::from_millis(50)),
        "nothing else, and still open"
    );
}

#[test]
fn raw_script_bytes_are_exact() {
    let router = MockRouter::builder()
        .script("/raw", Script::Raw(vec![0xF0, 0xFF, 0xFF, 0xFF, 0xF0]))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/raw"]);
    c.stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = [0u8; 16];
    let n = c.stream.read(&mut got).unwrap();
    assert_eq!(got[..n], [0xF0, 0xFF, 0xFF, 0xFF, 0xF0]);
}

#[test]
fn received_log_and_wait_for_under_several_runtimes() {
    let router = MockRouter::builder().received_capacity(3).start();
    let mut c = Client::logged_in(&router);
    c.send(&["/system/identity/print", ".tag=1"]);
    c.until_done("1");
    let seen = async_io::block_on(
        router.wait_for(|log| log.iter().any(|r| r.tag() == Some("1")), TIMEOUT),
    );
    assert!(seen);
    let log = router.received();
    assert_eq!(log[0].path(), "/login");
    assert_eq!(log[0].attribute("name"), Some(&b"admin"[..]));
    assert_eq!(log[1].path(), "/system/identity/print");
    for i in 0..5 {
        let tag = format!(".tag=t{i}");
        c.send(&["/system/identity/print", &tag]);
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let last = tokio.block_on(router.wait_for(
        |log| log.last().is_some_and(|r| r.tag() == Some("t4")),
        TIMEOUT,
    ));
    assert!(last);
    assert_eq!(router.received().len(), 3, "bounded");
    router.clear_received();
    assert!(router.received_paths().is_empty());
    let never = smol::block_on(router.wait_for(|log| !log.is_empty(), Duration::from_millis(20)));
    assert!(!never);
}

#[test]
fn silence_and_never_answer() {
    let router = MockRouter::builder().never_answer().start();
    let mut c = Client::connect(&router);
    c.send(&["/login", "=name=admin", "=password="]);
    assert!(c.quiet_for(Duration::from_millis(100)));
    assert!(wait_until(|| router.received().len() == 1));

    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    router.set_silent(true);
    c.send(&["/system/identity/print", ".tag=k"]);
    assert!(c.quiet_for(Duration::from_millis(100)));
    assert_eq!(router.session_count(), 1);
    router.set_silent(false);
    assert_eq!(c.names(&["/system/identity/print"]), ["MikroTik"]);
}

#[test]
fn dropping_connections_and_the_router_closes_sessions() {
    let router = MockRouter::start();
    let mut a = Client::logged_in(&router);
    let mut b = Client::logged_in(&router);
    b.send(&["/interface/listen", ".tag=l"]);
    assert!(wait_until(
        || router.session_count() == 2 && router.running_commands() == 1
    ));
    router.drop_connections();
    assert_eq!(a.recv(), None);
    assert_eq!(b.recv(), None);
    assert!(wait_until(|| router.session_count() == 0));
    assert_eq!(router.running_commands(), 0, "nothing left running");
    // New connections still work.
    let mut c = Client::logged_in(&router);
    c.send(&["/interface/listen", ".tag=l"]);
    assert!(wait_until(|| router.running_commands() == 1));
    drop(router);
    assert_eq!(c.recv(), None);
}

#[test]
fn garbage_from_the_client_is_fatal_not_a_panic() {
    let router = MockRouter::start();
    let mut c = Client::logged_in(&router);
    c.send_raw(&[0x01, b'x', 0xFF, 0x00]);
    let fatal = c.recv().unwrap();
    assert_eq!(fatal[0], "!fatal");
    assert_eq!(c.recv(), None);
    // Odd sentences that do frame well.
    let mut c = Client::logged_in(&router);
    c.send(&["=a=b", ".tag=1"]);
    assert_eq!(c.until_done("1")[0][0], "!trap");
    c.send(&["/", ".tag=2"]);
    assert_eq!(c.until_done("2")[0][0], "!trap");
    c.send(&["/cancel", ".tag=3"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=3"])));
    c.send(&["/interface/set", "=name=x", ".tag=4"]);
    assert_eq!(c.until_done("4")[0][0], "!trap");
}

#[test]
fn many_concurrent_sessions() {
    let router = MockRouter::start();
    let mut clients: Vec<_> = (0..1000).map(|_| Client::connect(&router)).collect();
    for c in &mut clients {
        c.send(&["/login", "=name=admin", "=password=", ".tag=l"]);
    }
    for c in &mut clients {
        assert_eq!(c.recv(), Some(words(&["!done", ".tag=l"])));
        c.send(&["/system/resource/print", ".tag=r"]);
    }
    for c in &mut clients {
        let replies = c.until_done("r");
        assert_eq!(value(&replies[0], "uptime"), Some("1w2d3h4m5s"));
    }
    assert_eq!(router.session_count(), 1000);
    drop(clients);
    assert!(wait_until(|| router.session_count() == 0));
}

#[test]
fn an_acceptor_wraps_each_connection() {
    // Stands in for a TLS acceptor: it just boxes the TCP stream.
    let router = MockRouter::builder()
        .acceptor(Arc::new(|tcp| {
            Box::pin(async move { Some(Box::new(tcp) as crate::runtime::BoxedStream) })
        }))
        .start();
    let mut c = Client::logged_in(&router);
    assert_eq!(c.names(&["/system/identity/print"]), ["MikroTik"]);
}

#[test]
fn a_panicking_script_is_fatal_for_its_session_only() {
    let router = MockRouter::builder()
        .script("/boom", Script::custom(|_| panic!("scripted panic")))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/boom"]);
    assert_eq!(c.recv(), Some(words(&["!fatal", "script panicked"])));
    assert_eq!(c.recv(), None);
    let mut c = Client::logged_in(&router);
    assert_eq!(c.names(&["/system/identity/print"]), ["MikroTik"]);
}

#[test]
fn handles_and_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let router = MockRouter::start();
    send_sync(&router);
    send_sync(&MockRouter::builder());
    let wait = router.wait_for(|_| true, TIMEOUT);
    send(&wait);
    assert!(async_io::block_on(wait));
}

#[test]
fn close_after_zero_bytes_closes_right_after_login() {
    let router = MockRouter::builder().close_after_bytes(0).start();
    let mut c = Client::logged_in(&router);
    assert_eq!(c.recv(), None);
}

#[test]
fn raw_then_close_ends_the_stream_where_asked() {
    let router = MockRouter::builder()
        .script(
            "/cut",
            Script::RawThenClose(vec![0x03, b'!', b'r', b'e', 0x81]),
        )
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&["/cut", ".tag=1"]);
    assert_eq!(
        c.read_to_end(),
        [0x03, b'!', b'r', b'e', 0x81],
        "EOF inside a prefix"
    );
    assert!(wait_until(|| router.session_count() == 0));
}

fn shipped_transcript(name: &str) -> Transcript {
    let path = format!("{}/tests/transcripts/{name}", env!("CARGO_MANIFEST_DIR"));
    Transcript::load(path).unwrap()
}

#[test]
fn replay_rewrites_tags_and_answers_cancels_in_the_recorded_order() {
    let router = MockRouter::builder()
        .replay(shipped_transcript("routeros-7.24-streams.txt"))
        .start();
    let mut c = Client::logged_in(&router);
    c.send(&[
        "/interface/monitor-traffic",
        ".tag=m",
        "=interval=1",
        "=interface=ether1",
    ]);
    for section in 0..4 {
        let row = c.recv().unwrap();
        assert_eq!(row[..3], words(&["!re", ".tag=m", "=name=ether1"]));
        assert_eq!(row.last().unwrap(), &format!("=.section={section}"));
    }
    assert!(
        c.quiet_for(Duration::from_millis(50)),
        "runs until cancelled"
    );
    c.send(&["/cancel", "=tag=m", ".tag=c"]);
    assert_eq!(
        c.until_done("m"),
        [
            words(&["!trap", ".tag=m", "=category=2", "=message=interrupted"]),
            words(&["!done", ".tag=c"]),
            words(&["!done", ".tag=m"]),
        ]
    );
    c.send(&["/queue/simple/listen", ".tag=l"]);
    assert!(wait_until(|| router.running_commands() == 1));
    c.send(&["/cancel", "=tag=l", ".tag=k"]);
    assert_eq!(
        c.until_done("l"),
        [
            words(&["!trap", ".tag=l", "=category=2", "=message=interrupted"]),
            words(&["!done", ".tag=k"]),
            words(&["!empty", ".tag=l"]),
            words(&["!done", ".tag=l"]),
        ]
    );
    assert_eq!(router.running_commands(), 0);
    // Unrecorded: a trap naming the transcript and the closest command, then done.
    c.send(&["/interface/monitor-traffic", "=interface=ether2", ".tag=u"]);
    let replies = c.until_done("u");
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0][..3], words(&["!trap", ".tag=u", "=category=0"]));
    assert!(
        replies[0][3].contains("routeros-7.24-streams.txt"),
        "{replies:?}"
    );
    assert!(
        replies[0][3].contains(
            "closest recorded: `/interface/monitor-traffic =interface=ether1 =interval=1`"
        ),
        "{replies:?}"
    );
    // An untagged client gets untagged replies.
    c.send(&["/queue/simple/listen"]);
    assert!(wait_until(|| router.running_commands() == 1));
    c.send(&["/cancel"]);
    let all: Vec<_> = (0..4).map(|_| c.recv().unwrap()).collect();
    assert!(
        all.iter()
            .all(|s| !s.iter().any(|w| w.starts_with(".tag="))),
        "{all:?}"
    );
}

#[test]
fn replay_of_a_legacy_login_checks_nothing_but_the_order() {
    // The shipped transcript seals the response; written by hand as a bare
    // `<redacted>`, it cannot be checked.
    let sealed = shipped_transcript("legacy-login-listen-cancel.txt").to_text();
    let bare: String = sealed
        .lines()
        .map(|line| match line.find("=response=<redacted:") {
            Some(at) => format!("{}=response=<redacted>\n", &line[..at]),
            None => format!("{line}\n"),
        })
        .collect();
    let router = MockRouter::builder()
        .replay(Transcript::parse("legacy-bare.txt", &bare).unwrap())
        .start();
    let mut c = Client::connect(&router);
    c.send(&["/interface/print", ".tag=0"]);
    assert_eq!(
        c.recv(),
        Some(words(&["!fatal", "not logged in"])),
        "still needs a login"
    );
    let mut c = Client::connect(&router);
    c.send(&["/login", "=name=admin", "=password=x", ".tag=1"]);
    assert_eq!(
        c.recv(),
        Some(words(&[
            "!done",
            ".tag=1",
            "=ret=856780b7411eefd3abadee2058c149a3"
        ]))
    );
    c.send(&["/login", "=name=admin", "=response=00ff", ".tag=2"]);
    assert_eq!(c.recv(), Some(words(&["!done", ".tag=2"])));
    c.send(&["/quit"]);
    assert_eq!(
        c.recv(),
        Some(words(&["!fatal", "session terminated on request"]))
    );
    assert_eq!(c.recv(), None);
}
