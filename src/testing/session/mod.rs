//! One client session: a reader that executes commands in arrival order, a
//! writer that alone owns the socket's output (and so decides the order of
//! every reply, cancels included), and a pool running the streaming commands.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use async_io::Timer;
use futures_io::{AsyncRead, AsyncWrite};
use futures_util::FutureExt;
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use mikrotik_rs_schema::Command;

use super::db::{Attr, Item};
use super::query::{self, QueryWord};
use super::replay::{CancelReply, End, Plan};
use super::schema;
use super::socket::SharedSocket;
use super::tree::MenuKind;
use super::{Cut, Reply, Script, Shared, lock};
use crate::protocol::login::challenge_response;
use crate::protocol::{Decoder, Sentence};
use crate::runtime::{BoxFuture, run_all};

/// Output messages in flight to the writer (bounds the memory of a session
/// whose client does not read).
const OUT_CAPACITY: usize = 64;
/// The writer gathers messages up to this many bytes per write.
const WRITE_BATCH: usize = 256 * 1024;
/// Bulk rows are sent in chunks of about this size.
const BULK_CHUNK: usize = 64 * 1024;
/// Sentences a client may send before logging in.
const MAX_BEFORE_LOGIN: usize = 32;

/// Completes with whichever future completes first.
pub(crate) async fn race<T>(a: impl Future<Output = T>, b: impl Future<Output = T>) -> T {
    let mut a = pin!(a);
    let mut b = pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = a.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}

mod actions;
mod cancel;
mod login;
mod menus;
mod monitors;
mod output;
mod scripts;
mod wire;

use cancel::*;
use monitors::*;
use output::*;
use wire::*;

/// A running command: its tag, and whether its last reply (or its
/// cancellation) has been handed to the writer. Only the writer ends it,
/// so its decision follows the order of the output.
pub(crate) struct CmdHandle {
    tag: Option<Vec<u8>>,
    done: AtomicBool,
    /// Some reply of it has been written (a 7.18+ `listen` cancelled before
    /// any answers `!empty`).
    answered: AtomicBool,
    /// Answer `!empty` when cancelled before any reply (7.18+ `listen`/`follow`).
    empty_on_cancel: AtomicBool,
    /// A replayed command's recorded answer to its `/cancel`.
    replayed_cancel: std::sync::Mutex<Option<Vec<CancelReply>>>,
    stop: async_channel::Sender<()>,
    running: Arc<AtomicUsize>,
}

impl CmdHandle {
    fn new(
        tag: Option<Vec<u8>>,
        running: Arc<AtomicUsize>,
    ) -> (Arc<Self>, async_channel::Receiver<()>) {
        let (stop, stopped) = async_channel::bounded(1);
        running.fetch_add(1, Ordering::SeqCst);
        let handle = Arc::new(Self {
            tag,
            done: AtomicBool::new(false),
            answered: AtomicBool::new(false),
            empty_on_cancel: AtomicBool::new(false),
            replayed_cancel: std::sync::Mutex::new(None),
            stop,
            running,
        });
        (handle, stopped)
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    /// Ends the command; `true` if it was still running.
    fn finish(&self) -> bool {
        if self.done.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.stop.close();
        true
    }
}

impl Drop for CmdHandle {
    fn drop(&mut self) {
        self.finish();
    }
}

enum Payload {
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl Payload {
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Owned(v) => v,
            Self::Shared(v) => v,
        }
    }
}

enum Out {
    /// Bytes of one command (`cmd`: dropped once that command has ended).
    Data {
        cmd: Option<Arc<CmdHandle>>,
        payload: Payload,
        last: bool,
    },
    /// `/cancel` with tag `tag` of `targets` (`named`: `=tag=` was given).
    Cancel {
        tag: Option<Vec<u8>>,
        targets: Vec<Arc<CmdHandle>>,
        named: bool,
    },
    /// The login succeeded: start counting bytes for `close_after_bytes`.
    LoginComplete,
    /// Write what is queued, then close.
    Close,
    /// Write this `!fatal`, then close.
    Fatal(Vec<u8>),
}

/// The handle a streaming command's task writes through.
#[derive(Clone)]
struct Emitter {
    out: async_channel::Sender<Out>,
    cmd: Arc<CmdHandle>,
}

impl Emitter {
    fn tag(&self) -> Option<&[u8]> {
        self.cmd.tag.as_deref()
    }

    /// Queues bytes; `false` once the command or the session has ended.
    async fn send(&self, payload: Payload, last: bool) -> bool {
        if self.cmd.is_done() {
            return false;
        }
        let message = Out::Data {
            cmd: Some(Arc::clone(&self.cmd)),
            payload,
            last,
        };
        self.out.send(message).await.is_ok() && !self.cmd.is_done()
    }
}

// ------------------------------------------------------------------ parsing

struct Parsed<'a> {
    path: &'a [u8],
    tag: Option<&'a [u8]>,
    attrs: Vec<(&'a [u8], &'a [u8])>,
    queries: Vec<&'a [u8]>,
    proplist: Option<&'a [u8]>,
}

impl<'a> Parsed<'a> {
    fn new(sentence: &'a Sentence) -> Self {
        let mut words = sentence.words();
        let mut parsed = Self {
            path: words.next().unwrap_or_default(),
            tag: None,
            // Room for every word but the path: one allocation, no regrowth.
            attrs: Vec::with_capacity(sentence.len().saturating_sub(1)),
            queries: Vec::new(),
            proplist: None,
        };
        for word in words {
            if let Some(body) = word.strip_prefix(b"=") {
                let (k, v) = match body.iter().position(|&b| b == b'=') {
                    Some(eq) => (&body[..eq], &body[eq + 1..]),
                    None => (body, &[][..]),
                };
                if k == b".proplist" {
                    parsed.proplist = Some(v);
                } else {
                    parsed.attrs.push((k, v));
                }
            } else if let Some(tag) = word.strip_prefix(b".tag=") {
                parsed.tag = (!tag.is_empty()).then_some(tag);
            } else if let Some(list) = word.strip_prefix(b".proplist=") {
                parsed.proplist = Some(list);
            } else if word.starts_with(b"?") {
                parsed.queries.push(word);
            }
        }
        parsed
    }

    fn attr(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn has(&self, key: &[u8]) -> bool {
        self.attr(key).is_some()
    }

    fn proplist(&self) -> Option<Vec<Vec<u8>>> {
        self.proplist.map(|list| {
            list.split(|&b| b == b',')
                .filter(|p| !p.is_empty())
                .map(<[u8]>::to_vec)
                .collect()
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cheap deterministic pseudo-random number (monitor values).
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0x632B_E59B_D9B4_E019);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

enum ReadEnd {
    /// The client closed its side (or the read failed).
    Eof,
    /// The session decided to close (`/quit`, `!fatal`).
    Stop,
}

struct Session {
    shared: Arc<Shared>,
    id: u64,
    out: async_channel::Sender<Out>,
    tasks: async_channel::Sender<BoxFuture>,
    running: HashMap<Vec<u8>, Arc<CmdHandle>>,
    untagged: Vec<Arc<CmdHandle>>,
    prune_at: usize,
    logged_in: bool,
    challenge: Option<String>,
    before_login: usize,
    /// Which recorded logins this session has replayed (other commands are
    /// marked per router, in the replay).
    replayed: Vec<bool>,
    /// The last `add` command of the tree `tree_row` asked about, and
    /// whether it takes `disabled` (the tree of a mock never changes).
    add_takes_disabled: Option<(&'static Command, bool)>,
}

impl Session {
    fn yes(&self) -> &'static str {
        if self.shared.config.v6 { "yes" } else { "true" }
    }

    fn no(&self) -> &'static str {
        if self.shared.config.v6 { "no" } else { "false" }
    }

    async fn send(&self, message: Out) -> bool {
        self.out.send(message).await.is_ok()
    }

    /// Queues the complete (finished) answer of a command.
    async fn reply(&self, bytes: Vec<u8>) -> bool {
        self.send(Out::Data {
            cmd: None,
            payload: Payload::Owned(bytes),
            last: true,
        })
        .await
    }

    async fn fatal(&self, reason: &[u8]) {
        self.send(Out::Fatal(fatal(reason))).await;
    }

    /// Registers a command that keeps running after this call returns.
    fn register(&mut self, tag: Option<&[u8]>) -> (Arc<CmdHandle>, async_channel::Receiver<()>) {
        let (handle, stop) =
            CmdHandle::new(tag.map(<[u8]>::to_vec), Arc::clone(&self.shared.running));
        match tag {
            Some(tag) => {
                self.running.insert(tag.to_vec(), Arc::clone(&handle));
            }
            None => self.untagged.push(Arc::clone(&handle)),
        }
        if self.running.len() + self.untagged.len() > self.prune_at {
            self.running.retain(|_, h| !h.is_done());
            self.untagged.retain(|h| !h.is_done());
            self.prune_at = (2 * (self.running.len() + self.untagged.len())).max(64);
        }
        (handle, stop)
    }

    /// Runs `work` in the session's pool until it ends or the command is stopped.
    fn spawn(
        &self,
        stop: async_channel::Receiver<()>,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        let task = async move {
            race(work, async move {
                let _ = stop.recv().await;
            })
            .await
        };
        let _ = self.tasks.try_send(Box::pin(task));
    }

    fn emitter(&self, cmd: Arc<CmdHandle>) -> Emitter {
        Emitter {
            out: self.out.clone(),
            cmd,
        }
    }

    async fn read_loop<R: AsyncRead + Unpin>(&mut self, reader: &mut R) -> ReadEnd {
        let mut buf = vec![0u8; 4096];
        let mut decoder = Decoder::default();
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    self.send(Out::Close).await;
                    return ReadEnd::Eof;
                }
                Ok(n) => n,
            };
            let mut input = &buf[..n];
            loop {
                match decoder.decode(&mut input) {
                    Ok(Some(sentence)) => {
                        if !self.handle(sentence).await {
                            return ReadEnd::Stop;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        let reason = format!("protocol error: {error}");
                        self.fatal(reason.as_bytes()).await;
                        return ReadEnd::Stop;
                    }
                }
            }
            if n == buf.len() && buf.len() < 64 * 1024 {
                buf.resize(buf.len() * 2, 0);
            }
        }
    }

    /// Executes one sentence, then logs it; `false` when the session must close.
    ///
    /// Logging after executing means that a test which sees a command in the
    /// log may rely on its effects (a `listen` is subscribed before a change
    /// is made). Its replies still cannot reach the client before the log
    /// entry: the writer runs on this thread, only when this task yields.
    async fn handle(&mut self, sentence: Sentence) -> bool {
        let go_on = self.shared.silent.load(Ordering::SeqCst) || self.execute(&sentence).await;
        self.shared.log(self.id, &sentence);
        go_on
    }

    async fn execute(&mut self, sentence: &Sentence) -> bool {
        let cmd = Parsed::new(sentence);
        if !self.logged_in && cmd.path != b"/login" && cmd.path != b"/quit" {
            self.fatal(b"not logged in").await;
            return false;
        }
        if !self.logged_in {
            self.before_login += 1;
            if self.before_login > MAX_BEFORE_LOGIN {
                self.fatal(b"too many commands before login").await;
                return false;
            }
        }
        if let Some(script) = self.shared.script(cmd.path) {
            return self.run_script(&cmd, sentence, script).await;
        }
        if let Some(replay) = &self.shared.replay
            && !matches!(cmd.path, b"/cancel" | b"/quit")
            && (cmd.path != b"/login" || replay.has_login)
        {
            let plan = replay.plan(sentence, &mut self.replayed);
            return self.replay(&cmd, plan).await;
        }
        match cmd.path {
            b"/quit" => {
                self.fatal(b"session terminated on request").await;
                return false;
            }
            b"/login" => self.login(&cmd).await,
            b"/cancel" => self.cancel(&cmd).await,
            b"/interface/monitor-traffic" => self.monitor(&cmd, Monitor::Traffic).await,
            b"/interface/ethernet/monitor" => self.monitor(&cmd, Monitor::Ethernet).await,
            b"/system/package/update/check-for-updates" => self.check_for_updates(&cmd),
            // The console's `/ping` is `/tool/ping`; the tree lists only the latter.
            b"/ping" => self.ping(&cmd).await,
            // The root's `export` (the whole configuration) answers `!done`.
            b"/export" if self.shared.tree.is_some_and(|t| t.root_has("export")) => {
                self.action(&cmd, "", b"export").await;
            }
            #[cfg(feature = "testing-tls")]
            b"/certificate/sign" => {
                let answer = super::certificates::sign(&self.shared, sentence, cmd.tag);
                self.paced(cmd.tag, answer).await;
            }
            _ => self.menu_command(&cmd).await,
        }
        true
    }
}

struct SessionGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.shared.kills).remove(&self.id);
        self.shared.sessions_open.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Event {
    Kill,
    Writer,
    Reader(ReadEnd),
}

/// Serves one client connection until it closes, the session ends it, or
/// the router drops it. Any byte stream works (plain TCP, or a TLS stream
/// from an acceptor wrapped around the accepted socket).
pub(crate) async fn serve_session<S>(stream: S, socket: SharedSocket, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let id = shared.sessions_total.fetch_add(1, Ordering::SeqCst) + 1;
    shared.sessions_open.fetch_add(1, Ordering::SeqCst);
    let (kill_tx, kill_rx) = async_channel::bounded::<()>(1);
    lock(&shared.kills).insert(id, kill_tx);
    let _guard = SessionGuard {
        shared: Arc::clone(&shared),
        id,
    };
    if shared.shutdown.load(Ordering::SeqCst) {
        return;
    }
    let (mut reader, writer) = stream.split();
    let (out_tx, out_rx) = async_channel::bounded(OUT_CAPACITY);
    let (task_tx, task_rx) = async_channel::unbounded();
    let mut session = Session {
        shared: Arc::clone(&shared),
        id,
        out: out_tx,
        tasks: task_tx,
        running: HashMap::new(),
        untagged: Vec::new(),
        prune_at: 64,
        logged_in: false,
        challenge: None,
        before_login: 0,
        replayed: Vec::new(),
        add_takes_disabled: None,
    };
    let mut kill = pin!(async move {
        let _ = kill_rx.recv().await;
    });
    let mut writer = pin!(write_loop(writer, out_rx, Arc::clone(&shared)));
    // The session's streaming commands (fused: polled again after it ends, it stays pending).
    let mut pool = pin!(run_all(task_rx).fuse());
    let event = {
        let mut read = pin!(session.read_loop(&mut reader));
        std::future::poll_fn(|cx| {
            if kill.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Kill);
            }
            if writer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Event::Writer);
            }
            if let Poll::Ready(end) = read.as_mut().poll(cx) {
                return Poll::Ready(Event::Reader(end));
            }
            let _ = pool.as_mut().poll(cx);
            Poll::Pending
        })
        .await
    };
    let drain = match event {
        Event::Kill => return,
        Event::Writer => true,
        Event::Reader(end) => {
            // Let the writer finish what is queued (it ends on Close/Fatal).
            let killed = std::future::poll_fn(|cx| {
                if kill.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(true);
                }
                if writer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                let _ = pool.as_mut().poll(cx);
                Poll::Pending
            })
            .await;
            !killed && matches!(end, ReadEnd::Stop)
        }
    };
    drop(session);
    // End our direction now: the client sees EOF at once, even while we
    // drain what it still sends.
    socket.shutdown_write();
    if drain {
        // Read until the client closes (briefly): closing a socket with
        // unread input would reset the connection and could destroy the
        // last replies before the client reads them.
        let drain = async {
            let mut scratch = [0u8; 1024];
            while let Ok(1..) = reader.read(&mut scratch).await {}
        };
        let timeout = async {
            Timer::after(Duration::from_secs(2)).await;
        };
        race(race(drain, timeout), kill).await;
    }
}
