//! Shared pieces of the load benches: the MockRouter in a child process, a
//! bare-socket client that only walks length prefixes, medians, RSS.
//!
//! Every bench is a `harness = false` program. `--quick` (or the `CI`
//! environment variable) shrinks it to a smoke run of a few seconds.

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
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

/// `default`, unless the environment variable `name` (`BENCH_UNITS`: rows or
/// commands per round; `BENCH_ROUNDS`) says otherwise: for a profiler, which
/// runs one contender at two sizes and subtracts (`benches/profile.sh`).
pub fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map_or(default, |n| n.parse().expect("a whole number"))
}

/// Whether to run contender `name`: all of them unless `BENCH_ONLY` names
/// some, comma-separated, e.g. for profiling one: `bare`, `legacy`, a
/// configuration (`tokio-multi`, `tokio-current`, `smol-background`,
/// `smol-executor`), or a family of them (`tokio`, `smol`).
pub fn wanted(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| {
        only.split(',').any(|o| {
            name == o
                || name
                    .strip_prefix(o)
                    .is_some_and(|rest| rest.starts_with('-'))
        })
    })
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
    let builder = mikrotik_rs::testing::MockRouter::builder().received_capacity(0);
    // `--plain`: every menu is the mock's own table, none scripted.
    let builder = if std::env::args().any(|a| a == "--plain") {
        builder
    } else {
        builder.script(
            STREAM_PATH,
            mikrotik_rs::testing::Script::bulk(rows, row_attributes()),
        )
    };
    let router = builder.start();
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
/// With `BENCH_MOCK=host:port` the mock is one started elsewhere (by
/// `benches/profile.sh`, so that a profiler sees the client alone).
pub struct MockChild {
    child: Option<(Child, ChildStdin)>,
    pub address: String,
}

impl MockChild {
    /// Starts the mock; its bulk script answers [`STREAM_PATH`] with `rows` rows.
    pub fn start(rows: usize) -> Self {
        Self::spawn(&["--mock-child", "--rows", &rows.to_string()])
    }

    /// Starts the mock with no script: every menu, the address list
    /// included, is its own table, as a router's are.
    pub fn plain() -> Self {
        Self::spawn(&["--mock-child", "--plain"])
    }

    fn spawn(args: &[&str]) -> Self {
        if let Ok(address) = std::env::var("BENCH_MOCK") {
            return Self {
                child: None,
                address,
            };
        }
        let exe = std::env::current_exe().expect("current exe");
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the mock child");
        let stdin = child.stdin.take().expect("stdin");
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
            child: Some((child, stdin)),
            address,
        }
    }
}

impl Drop for MockChild {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            let _ = child.wait();
        }
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
    println!("{name:>40}: {value:>12.0} {unit}");
}

/// Prints the median of `samples`, and their spread so the noise shows:
/// `name: 1234567 per s (min-max of 9: 1200000-1300000)`.
pub fn report_spread(name: &str, samples: &[f64], unit: &str) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "{name:>40}: {:>12.0} {unit} (min-max of {}: {min:.0}-{max:.0})",
        median(samples.to_vec()),
        samples.len()
    );
}

/// What a configuration's median is divided by in a ratio line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versus {
    /// Tokio current-thread: the reader and the connection on one thread.
    CurrentThread,
    /// The bare socket loop.
    Bare,
    /// mikrotik-rs 0.6.1 on Tokio multi-thread.
    Legacy,
}

/// The samples of every contender of one run; out come medians and ratios.
#[derive(Default)]
pub struct Standings {
    bare: Vec<f64>,
    configs: [Vec<f64>; Config::ALL.len()],
    legacy: Vec<f64>,
}

impl Standings {
    pub fn bare(&mut self, rate: f64) {
        self.bare.push(rate);
    }

    pub fn config(&mut self, config: Config, rate: f64) {
        self.configs[config as usize].push(rate);
    }

    pub fn legacy(&mut self, rate: f64) {
        self.legacy.push(rate);
    }

    fn median_of(&self, versus: Versus) -> f64 {
        match versus {
            Versus::CurrentThread => median(self.configs[Config::TokioCurrent as usize].clone()),
            Versus::Bare => median(self.bare.clone()),
            Versus::Legacy => median(self.legacy.clone()),
        }
    }

    /// Prints every median, then each configuration's ratio to Tokio
    /// current-thread, to the bare loop and to 0.6.1, marked with the issue's
    /// target where `target(config, versus)` names one. Contenders not run
    /// (`BENCH_ONLY`) are left out.
    pub fn print(
        &self,
        bare_label: &str,
        unit: &str,
        target: impl Fn(Config, Versus) -> Option<f64>,
    ) {
        let rows = std::iter::once((bare_label.to_owned(), &self.bare))
            .chain(Config::ALL.into_iter().map(|c| {
                (
                    format!("mikrotik-rs {}", c.label()),
                    &self.configs[c as usize],
                )
            }))
            .chain(std::iter::once((
                "mikrotik-rs 0.6.1 (tokio multi-thread)".to_owned(),
                &self.legacy,
            )));
        for (label, samples) in rows {
            if !samples.is_empty() {
                report_spread(&label, samples, unit);
            }
        }
        let (bare, legacy) = (self.median_of(Versus::Bare), self.median_of(Versus::Legacy));
        for versus in [Versus::CurrentThread, Versus::Bare, Versus::Legacy] {
            let base = self.median_of(versus);
            let base_label = match versus {
                Versus::CurrentThread => Config::TokioCurrent.label(),
                Versus::Bare => "bare",
                Versus::Legacy => "0.6.1",
            };
            for config in Config::ALL {
                if versus == Versus::CurrentThread && config == Config::TokioCurrent {
                    continue;
                }
                let ratio = median(self.configs[config as usize].clone()) / base;
                if ratio.is_nan() {
                    continue;
                }
                let verdict = target(config, versus).map_or_else(String::new, |t| {
                    let met = if ratio >= t { "met" } else { "MISSED" };
                    format!(" (target >= {t}: {met})")
                });
                println!(
                    "ratio {} / {base_label}: {ratio:.3}{verdict}",
                    config.label()
                );
            }
        }
        let ratio = legacy / bare;
        if !ratio.is_nan() {
            println!("ratio 0.6.1 / bare: {ratio:.3}");
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

/// The ways users run the client, each measured as its own contender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Config {
    /// Tokio multi-thread as `#[tokio::main]` builds it (one worker per
    /// core): the reader on the main thread, the connection on a worker.
    TokioMulti,
    /// Tokio current-thread: the reader and the connection share one thread.
    TokioCurrent,
    /// The reader on `smol::block_on`, the connection on the crate's
    /// background executor (the default when no Tokio runtime is current).
    SmolBackground,
    /// A `smol::Executor` run beside the reader (`block_on(executor.run(..))`),
    /// the connection spawned on it through `DeviceBuilder::spawner`.
    SmolExecutor,
}

impl Config {
    pub const ALL: [Self; 4] = [
        Self::TokioMulti,
        Self::TokioCurrent,
        Self::SmolBackground,
        Self::SmolExecutor,
    ];

    /// The name for `BENCH_ONLY` and child command lines (`BENCH_ONLY=tokio`
    /// selects both Tokio configurations, `smol` both smol ones).
    pub fn name(self) -> &'static str {
        match self {
            Self::TokioMulti => "tokio-multi",
            Self::TokioCurrent => "tokio-current",
            Self::SmolBackground => "smol-background",
            Self::SmolExecutor => "smol-executor",
        }
    }

    /// How it is printed.
    pub fn label(self) -> &'static str {
        match self {
            Self::TokioMulti => "tokio multi-thread",
            Self::TokioCurrent => "tokio current-thread",
            Self::SmolBackground => "smol, background executor",
            Self::SmolExecutor => "smol, caller's executor",
        }
    }

    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("unknown configuration {name}"))
    }

    /// Whether `BENCH_ONLY` lets this configuration run.
    pub fn wanted(self) -> bool {
        wanted(self.name())
    }
}

/// A [`Config`] made real: its runtime or executor, which runs the caller's
/// futures, connects devices the way that configuration does, and spawns tasks.
pub struct Runner {
    config: Config,
    engine: Engine,
}

enum Engine {
    Tokio(tokio::runtime::Runtime),
    Background,
    Executor(Arc<smol::Executor<'static>>),
}

impl Runner {
    pub fn new(config: Config) -> Self {
        let engine = match config {
            // What `#[tokio::main]` builds: default worker count, all drivers.
            Config::TokioMulti => Engine::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .expect("tokio multi-thread runtime"),
            ),
            Config::TokioCurrent => Engine::Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio current-thread runtime"),
            ),
            Config::SmolBackground => Engine::Background,
            Config::SmolExecutor => Engine::Executor(Arc::new(smol::Executor::new())),
        };
        Self { config, engine }
    }

    pub fn config(&self) -> Config {
        self.config
    }

    /// Runs `future` on the caller's thread the way this configuration does
    /// (with the caller's smol executor running beside it, for `SmolExecutor`).
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        match &self.engine {
            Engine::Tokio(runtime) => runtime.block_on(future),
            Engine::Background => smol::block_on(future),
            Engine::Executor(executor) => smol::block_on(executor.run(future)),
        }
    }

    /// Connects and logs in as `admin` (call it inside [`Runner::block_on`]):
    /// on Tokio because its runtime is current, on the background executor
    /// because none is, or on the caller's executor through the spawner.
    pub async fn connect(&self, address: &str) -> mikrotik_rs::MikrotikDevice {
        let builder = mikrotik_rs::MikrotikDevice::builder(address).credentials("admin", None);
        let builder = match &self.engine {
            Engine::Executor(executor) => {
                let executor = Arc::clone(executor);
                builder.spawner(move |connection| executor.spawn(connection).detach())
            }
            Engine::Tokio(_) | Engine::Background => builder,
        };
        builder.connect().await.expect("connect")
    }

    /// Opens `n` logged-in connections, at most `parallel` connecting at once.
    pub async fn connect_many(
        &self,
        address: &str,
        n: usize,
        parallel: usize,
    ) -> Vec<mikrotik_rs::MikrotikDevice> {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..n)
            .map(|_| self.connect(address))
            .buffer_unordered(parallel)
            .collect()
            .await
    }

    /// Spawns `task` where this configuration's users spawn theirs: on the
    /// Tokio runtime, on smol's global executor, or on the caller's executor.
    pub fn spawn<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        match &self.engine {
            Engine::Tokio(runtime) => {
                let handle = runtime.spawn(task);
                Box::pin(async move { handle.await.expect("task panicked") })
            }
            Engine::Background => Box::pin(smol::spawn(task)),
            Engine::Executor(executor) => Box::pin(executor.spawn(task)),
        }
    }
}

/// One connection per configuration `BENCH_ONLY` lets run, each opened the
/// way that configuration opens it, beside the runners that drive them, and
/// one 0.6.1 connection on a Tokio multi-thread runtime (as its users run it).
pub struct Contenders {
    pub ours: Vec<(Runner, mikrotik_rs::MikrotikDevice)>,
    pub legacy: Option<(Runner, mikrotik_rs_061::MikrotikDevice)>,
}

impl Contenders {
    pub fn connect(address: &str) -> Self {
        let ours = Config::ALL
            .into_iter()
            .filter(|config| config.wanted())
            .map(|config| {
                let runner = Runner::new(config);
                let device = runner.block_on(runner.connect(address));
                (runner, device)
            })
            .collect();
        let legacy = wanted("legacy").then(|| {
            let runner = Runner::new(Config::TokioMulti);
            let device = runner
                .block_on(mikrotik_rs_061::MikrotikDevice::connect(
                    address, "admin", None,
                ))
                .expect("connect 0.6.1");
            (runner, device)
        });
        Self { ours, legacy }
    }

    /// Ours in the order of `round`: the order turns each round, so no
    /// configuration always runs right after the same other one.
    pub fn ours_in_turn(
        &self,
        round: usize,
    ) -> impl Iterator<Item = &(Runner, mikrotik_rs::MikrotikDevice)> {
        let n = self.ours.len().max(1);
        (0..self.ours.len()).map(move |i| &self.ours[(i + round) % n])
    }
}
