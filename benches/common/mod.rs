//! Shared pieces of the load benches: the MockRouter in a child process, a
//! bare-socket client that only walks length prefixes, medians, RSS.
//!
//! Every bench is a `harness = false` program. `--quick` (or the `CI`
//! environment variable) shrinks it to a smoke run of a few seconds.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use mikrotik_rs::protocol::encode_sentence;

/// The path the mock answers with a bulk stream.
pub const STREAM_PATH: &str = "/ip/firewall/address-list/print";
/// A short command with a one-row answer.
pub const SHORT_PATH: &str = "/system/identity/print";

/// Whether this is a smoke run (`--quick`, or `CI` set).
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick") || std::env::var_os("CI").is_some()
}

/// Whether to run contender `name`: all of them unless `BENCH_ONLY` names
/// some (comma-separated: `bare`, `tokio`, `smol`, `legacy`), e.g. for profiling one.
pub fn wanted(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.split(',').any(|o| o == name))
}

/// The value of `--name value` on the command line.
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The attributes of every streamed row: 10 attributes with 16-byte values.
pub fn row_attributes() -> Vec<(String, String)> {
    (0..10)
        .map(|i| (format!("attribute-{i}"), "0123456789abcdef".to_owned()))
        .collect()
}

/// The median (NaN when nothing was measured).
pub fn median(mut samples: Vec<f64>) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// Resident set size of this process, in bytes (from /proc/self/statm).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// If this process was started as the mock child, serves until stdin closes
/// and exits; otherwise returns.
pub fn run_mock_child_if_asked() {
    if !std::env::args().any(|a| a == "--mock-child") {
        return;
    }
    let rows: usize = arg("--rows").and_then(|r| r.parse().ok()).unwrap_or(0);
    let router = mikrotik_rs::testing::MockRouter::builder()
        .received_capacity(0)
        .script(
            STREAM_PATH,
            mikrotik_rs::testing::Script::bulk(rows, row_attributes()),
        )
        .start();
    println!("ADDR {}", router.address());
    std::io::stdout().flush().unwrap();
    // The parent holds our stdin: its end (or its death) ends us.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(router);
    std::process::exit(0);
}

/// The MockRouter, running in a child process (this same binary, re-executed),
/// so its threads and sessions never count in this process's CPU or memory.
pub struct MockChild {
    child: Child,
    stdin: Option<ChildStdin>,
    pub address: String,
}

impl MockChild {
    /// Starts the mock; its bulk script answers [`STREAM_PATH`] with `rows` rows.
    pub fn start(rows: usize) -> Self {
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .args(["--mock-child", "--rows", &rows.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the mock child");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("mock address");
        let address = line
            .trim()
            .strip_prefix("ADDR ")
            .expect("ADDR line")
            .to_owned();
        Self {
            child,
            stdin,
            address,
        }
    }
}

impl Drop for MockChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// A client that does the least any client must: write a sentence, walk the
/// length prefixes of what comes back until the `!done`. No parsing, no
/// allocation per sentence. The floor a real client is measured against.
pub struct BareClient {
    socket: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf[pos..len]` not yet walked.
    pos: usize,
    len: usize,
}

impl BareClient {
    /// Connects and logs in as `admin` with an empty password (6.43+ form).
    pub fn connect(address: &str) -> Self {
        let socket = TcpStream::connect(address).expect("connect");
        socket.set_nodelay(true).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut client = Self {
            socket,
            buf: vec![0; 64 << 10],
            pos: 0,
            len: 0,
        };
        let mut login = Vec::new();
        encode_sentence(
            ["/login", "=name=admin", "=password=", ".tag=l"],
            &mut login,
        );
        client.send(&login);
        client.until_done();
        client
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.socket.write_all(bytes).expect("write");
    }

    /// Sends `words` as one sentence.
    pub fn command(words: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_sentence(words, &mut out);
        out
    }

    fn byte(&mut self) -> u8 {
        if self.pos == self.len {
            self.fill();
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        b
    }

    fn fill(&mut self) {
        let n = self.socket.read(&mut self.buf).expect("read");
        assert!(n > 0, "the mock closed the connection");
        self.pos = 0;
        self.len = n;
    }

    fn length(&mut self) -> usize {
        let first = self.byte() as usize;
        match first {
            0x00..=0x7F => first,
            0x80..=0xBF => ((first & 0x3F) << 8) | self.byte() as usize,
            0xC0..=0xDF => {
                ((first & 0x1F) << 16) | (self.byte() as usize) << 8 | self.byte() as usize
            }
            0xE0..=0xEF => {
                let mut len = first & 0x0F;
                for _ in 0..3 {
                    len = len << 8 | self.byte() as usize;
                }
                len
            }
            _ => {
                let mut len = 0;
                for _ in 0..4 {
                    len = len << 8 | self.byte() as usize;
                }
                len
            }
        }
    }

    /// Skips `n` bytes; returns whether they were `!done` (only looked at when `n == 5`).
    fn skip_word(&mut self, mut n: usize, first: bool) -> bool {
        if first && n == 5 {
            let mut word = [0u8; 5];
            for b in &mut word {
                *b = self.byte();
            }
            return &word == b"!done";
        }
        while n > 0 {
            if self.pos == self.len {
                self.fill();
            }
            let take = n.min(self.len - self.pos);
            self.pos += take;
            n -= take;
        }
        false
    }

    /// Walks sentences until one that starts with `!done`; returns how many
    /// sentences were walked (the `!done` included).
    pub fn until_done(&mut self) -> usize {
        let mut sentences = 0;
        loop {
            let mut first = true;
            let mut done = false;
            loop {
                let len = self.length();
                if len == 0 {
                    break;
                }
                done |= self.skip_word(len, first);
                first = false;
            }
            if !first {
                sentences += 1;
            }
            if done {
                return sentences;
            }
        }
    }
}

/// Prints a line like `name: 1234567 per s`.
pub fn report(name: &str, value: f64, unit: &str) {
    println!("{name:>28}: {value:>14.0} {unit}");
}

/// Median rates of the four contenders of a run (samples in, medians out),
/// printed with their ratios to the bare socket and to 0.6.1.
pub struct Standings {
    pub bare: f64,
    pub tokio: f64,
    pub smol: f64,
    pub old: f64,
}

impl Standings {
    pub fn new(bare: Vec<f64>, tokio: Vec<f64>, smol: Vec<f64>, old: Vec<f64>) -> Self {
        Self {
            bare: median(bare),
            tokio: median(tokio),
            smol: median(smol),
            old: median(old),
        }
    }

    /// `bare_label` names the baseline; the targets are the ratios.
    pub fn print(&self, bare_label: &str, unit: &str, bare_target: f64, old_target: Option<f64>) {
        report(bare_label, self.bare, unit);
        report("mikrotik-rs tokio", self.tokio, unit);
        report("mikrotik-rs smol", self.smol, unit);
        report("mikrotik-rs 0.6.1 tokio", self.old, unit);
        for (name, value) in [("tokio", self.tokio), ("smol", self.smol)] {
            println!(
                "ratio {name} / bare socket: {:.3} (target >= {bare_target})",
                value / self.bare
            );
        }
        println!("ratio 0.6.1 / bare socket: {:.3}", self.old / self.bare);
        let target = old_target.map_or_else(String::new, |t| format!(" (target >= {t})"));
        for (name, value) in [("tokio", self.tokio), ("smol", self.smol)] {
            println!("ratio {name} / 0.6.1: {:.2}{target}", value / self.old);
        }
    }
}

/// Which runtime a measuring child uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rt {
    Tokio,
    Smol,
}

impl Rt {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::Smol => "smol",
        }
    }

    pub fn parse(name: &str) -> Self {
        match name {
            "tokio" => Self::Tokio,
            "smol" => Self::Smol,
            other => panic!("unknown runtime {other}"),
        }
    }

    /// Runs `future` to completion: on a two-worker Tokio runtime (so the
    /// connections run on Tokio), or under `smol::block_on` (connections on
    /// the crate's background executor).
    pub fn block_on<T>(self, future: impl std::future::Future<Output = T>) -> T {
        match self {
            Self::Tokio => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(future),
            Self::Smol => smol::block_on(future),
        }
    }
}

/// Runs this same binary as a measuring child with `args`, returning its
/// stdout lines (the child has its own, fresh, RSS).
pub fn measure_in_child(args: &[&str]) -> Vec<String> {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("run the measuring child");
    assert!(
        out.status.success(),
        "measuring child failed: {:?}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The number after `key ` in `lines`.
pub fn value(lines: &[String], key: &str) -> f64 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
}

/// Opens `n` logged-in connections, at most `parallel` connecting at once.
pub async fn connect_many(
    address: &str,
    n: usize,
    parallel: usize,
) -> Vec<mikrotik_rs::MikrotikDevice> {
    use futures_util::StreamExt;
    futures_util::stream::iter(0..n)
        .map(|_| mikrotik_rs::MikrotikDevice::connect(address, "admin", None))
        .buffer_unordered(parallel)
        .map(|device| device.expect("connect"))
        .collect()
        .await
}

/// Runs `path` on our client and reads it to its `!done`: the rows it got.
pub async fn count_rows(device: &mikrotik_rs::MikrotikDevice, path: &str) -> usize {
    use mikrotik_rs::protocol::CommandResponse;
    let command = mikrotik_rs::protocol::command::CommandBuilder::new()
        .command(path)
        .build();
    let mut replies = device.send_command(command).await.expect("send");
    let mut rows = 0;
    while let Some(reply) = replies.recv().await {
        match reply.expect("reply") {
            CommandResponse::Reply(row) => {
                std::hint::black_box(&row);
                rows += 1;
            }
            CommandResponse::Done(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    rows
}

/// The same through mikrotik-rs 0.6.1, whose streams end only when told.
pub async fn legacy_count_rows(device: &mikrotik_rs_061::MikrotikDevice, path: &str) -> usize {
    use mikrotik_rs_061::protocol::CommandResponse as Legacy;
    let command = mikrotik_rs_061::protocol::command::CommandBuilder::new()
        .command(path)
        .build();
    let mut replies = device.send_command(command).await.expect("send");
    let mut rows = 0;
    while let Some(reply) = replies.recv().await {
        match reply.expect("reply") {
            Legacy::Reply(row) => {
                std::hint::black_box(&row);
                rows += 1;
            }
            Legacy::Done(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    rows
}

/// Sends `/system/identity/print` and reads it to the end.
pub async fn identity(device: &mikrotik_rs::MikrotikDevice) {
    count_rows(device, SHORT_PATH).await;
}

/// Sleeps (any runtime: async-io's timer works under Tokio too).
pub async fn sleep(duration: Duration) {
    async_io::Timer::after(duration).await;
}

/// One connection per contender to the same mock: ours on Tokio (on the
/// given runtime) and on smol, and the 0.6.1 release on Tokio.
pub struct Contenders {
    pub on_tokio: mikrotik_rs::MikrotikDevice,
    pub on_smol: mikrotik_rs::MikrotikDevice,
    pub old: mikrotik_rs_061::MikrotikDevice,
}

impl Contenders {
    pub fn connect(tokio: &tokio::runtime::Runtime, address: &str) -> Self {
        use mikrotik_rs::MikrotikDevice;
        let on_tokio = tokio
            .block_on(MikrotikDevice::connect(address, "admin", None))
            .expect("connect on tokio");
        let on_smol = smol::block_on(MikrotikDevice::connect(address, "admin", None))
            .expect("connect on smol");
        let old = tokio
            .block_on(mikrotik_rs_061::MikrotikDevice::connect(
                address, "admin", None,
            ))
            .expect("connect 0.6.1");
        Self {
            on_tokio,
            on_smol,
            old,
        }
    }
}
