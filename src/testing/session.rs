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

use super::db::{Attr, Item};
use super::query;
use super::socket::SharedSocket;
use super::{Cut, Reply, Script, Shared, lock};
use crate::protocol::login::challenge_response;
use crate::protocol::{Decoder, Sentence, encode_length};
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

// ---------------------------------------------------------------- encoding

fn put_word(out: &mut Vec<u8>, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    encode_length(u32::try_from(len).unwrap_or(u32::MAX), out);
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// The reply word, then `.tag` right after it.
fn begin(out: &mut Vec<u8>, word: &[u8], tag: Option<&[u8]>) {
    put_word(out, &[word]);
    if let Some(tag) = tag {
        put_word(out, &[b".tag=", tag]);
    }
}

fn attr(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    put_word(out, &[b"=", key, b"=", value]);
}

fn done(out: &mut Vec<u8>, tag: Option<&[u8]>, ret: Option<&[u8]>) {
    begin(out, b"!done", tag);
    if let Some(ret) = ret {
        attr(out, b"ret", ret);
    }
    out.push(0);
}

fn trap(out: &mut Vec<u8>, tag: Option<&[u8]>, category: Option<u32>, message: &[u8]) {
    begin(out, b"!trap", tag);
    if let Some(category) = category {
        attr(out, b"category", category.to_string().as_bytes());
    }
    attr(out, b"message", message);
    out.push(0);
}

fn trap_done(tag: Option<&[u8]>, category: Option<u32>, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    trap(&mut out, tag, category, message);
    done(&mut out, tag, None);
    out
}

fn fatal(reason: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_word(&mut out, &[b"!fatal"]);
    put_word(&mut out, &[reason]);
    out.push(0);
    out
}

/// A `!re` of `attrs`, only the keys of `proplist` if given, `.dead` if given.
fn row(
    out: &mut Vec<u8>,
    tag: Option<&[u8]>,
    attrs: &[Attr],
    proplist: Option<&[Vec<u8>]>,
    dead: Option<&[u8]>,
) {
    begin(out, b"!re", tag);
    for (k, v) in attrs {
        if proplist.is_none_or(|p| p.contains(k)) {
            attr(out, k, v);
        }
    }
    if let Some(dead) = dead {
        attr(out, b".dead", dead);
    }
    out.push(0);
}

fn pairs_row(out: &mut Vec<u8>, tag: Option<&[u8]>, attrs: &[(&str, &str)]) {
    begin(out, b"!re", tag);
    for (k, v) in attrs {
        attr(out, k.as_bytes(), v.as_bytes());
    }
    out.push(0);
}

// ------------------------------------------------------- commands in flight

/// A running command: its tag, and whether its last reply (or its
/// cancellation) has been handed to the writer. Only the writer ends it,
/// so its decision follows the order of the output.
pub(crate) struct CmdHandle {
    tag: Option<Vec<u8>>,
    done: AtomicBool,
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
            attrs: Vec::new(),
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

#[derive(Clone, Copy)]
enum Monitor {
    Traffic,
    Ethernet,
}

// ------------------------------------------------------------------ session

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
            #[cfg(feature = "testing-tls")]
            b"/certificate/sign" => {
                let answer = super::certificates::sign(&self.shared, sentence, cmd.tag);
                self.paced(cmd.tag, answer).await;
            }
            _ => self.menu_command(&cmd).await,
        }
        true
    }

    /// Runs an answer that may take time (`certificates.rs`): a running,
    /// cancellable command until its last piece is written.
    #[cfg(feature = "testing-tls")]
    async fn paced(&mut self, tag: Option<&[u8]>, answer: super::certificates::Answer) {
        use super::certificates::Answer;
        let (pause, pieces, finish) = match answer {
            Answer::Now(bytes) => {
                self.reply(bytes).await;
                return;
            }
            Answer::Paced {
                pause,
                pieces,
                finish,
            } => (pause, pieces, finish),
        };
        let (handle, stop) = self.register(tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for piece in pieces {
                if !emitter.send(Payload::Owned(piece), false).await {
                    return;
                }
                Timer::after(pause).await;
            }
            emitter.send(Payload::Owned(finish()), true).await;
        });
    }

    async fn logged_in_now(&mut self) {
        if !self.logged_in {
            self.logged_in = true;
            self.send(Out::LoginComplete).await;
        }
    }

    async fn login(&mut self, cmd: &Parsed<'_>) {
        let config = &self.shared.config;
        let tag = cmd.tag;
        let password_of = |name: &[u8]| self.shared.password_of(name);
        let name = cmd.attr(b"name");
        let mut out = Vec::new();
        let ok = if let Some(response) = cmd.attr(b"response") {
            let challenge = self.challenge.take();
            let expected = match (challenge, name.and_then(password_of)) {
                (Some(challenge), Some(password)) if config.legacy_login => {
                    challenge_response(password.as_bytes(), &challenge).ok()
                }
                _ => None,
            };
            let ok = expected.is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(response));
            if !ok {
                let message: &[u8] = if config.legacy_login {
                    b"cannot log in"
                } else {
                    b"invalid user name or password (6)"
                };
                trap(&mut out, tag, None, message);
            }
            done(&mut out, tag, None);
            ok
        } else if config.legacy_login {
            let challenge = hex(uuid::Uuid::new_v4().as_bytes());
            done(&mut out, tag, Some(challenge.as_bytes()));
            self.challenge = Some(challenge);
            false
        } else {
            let password = cmd.attr(b"password").unwrap_or_default();
            let ok = name
                .and_then(password_of)
                .is_some_and(|p| p.as_bytes() == password);
            if !ok {
                trap(&mut out, tag, None, b"invalid user name or password (6)");
            }
            done(&mut out, tag, None);
            ok
        };
        let challenged = cmd.attr(b"response").is_none() && config.legacy_login;
        self.shared.count_login(!ok && !challenged);
        self.reply(out).await;
        if ok {
            self.logged_in_now().await;
        }
    }

    async fn cancel(&mut self, cmd: &Parsed<'_>) {
        let tag = cmd.tag.map(<[u8]>::to_vec);
        let (targets, named) = match cmd.attr(b"tag") {
            Some(target) => {
                let found = self.running.remove(target).filter(|h| !h.is_done());
                (found.into_iter().collect::<Vec<_>>(), true)
            }
            None => {
                let mut all: Vec<_> = self.running.drain().map(|(_, h)| h).collect();
                all.append(&mut self.untagged);
                all.retain(|h| !h.is_done());
                (all, false)
            }
        };
        if named && targets.is_empty() {
            self.reply(trap_done(cmd.tag, Some(0), b"no such command"))
                .await;
            return;
        }
        self.send(Out::Cancel {
            tag,
            targets,
            named,
        })
        .await;
    }

    async fn run_script(&mut self, cmd: &Parsed<'_>, sentence: &Sentence, script: Script) -> bool {
        let is_login = cmd.path == b"/login";
        let tag = cmd.tag;
        match script {
            Script::Reply(reply) => {
                let logs_in = is_login && reply.traps.is_empty();
                match reply.delay {
                    Some(delay) => {
                        let (handle, stop) = self.register(tag);
                        let emitter = self.emitter(handle);
                        self.spawn(stop, async move {
                            Timer::after(delay).await;
                            let bytes = encode_reply(&reply, emitter.tag());
                            emitter.send(Payload::Owned(bytes), true).await;
                        });
                    }
                    None => {
                        self.reply(encode_reply(&reply, tag)).await;
                    }
                }
                if logs_in {
                    self.logged_in_now().await;
                }
            }
            Script::Bulk { count, attributes } => {
                let (handle, stop) = self.register(tag);
                let emitter = self.emitter(handle);
                self.spawn(stop, bulk(emitter, count, attributes));
            }
            Script::Silent => {
                self.register(tag);
            }
            Script::Raw(bytes) => {
                self.reply(bytes).await;
            }
            Script::RawThenClose(bytes) => {
                self.reply(bytes).await;
                self.send(Out::Close).await;
                return false;
            }
            Script::Fatal(reason) => {
                self.fatal(reason.as_bytes()).await;
                return false;
            }
            Script::Custom(f) => {
                // A panicking user closure must not take the mock's thread down.
                let call = std::panic::AssertUnwindSafe(|| f(sentence));
                let Ok(sentences) = std::panic::catch_unwind(call) else {
                    self.fatal(b"script panicked").await;
                    return false;
                };
                let mut out = Vec::new();
                for words in &sentences {
                    for word in words {
                        put_word(&mut out, &[word]);
                    }
                    out.push(0);
                }
                let first = |s: &Vec<Vec<u8>>| s.first().cloned().unwrap_or_default();
                let logs_in = is_login
                    && sentences.last().is_some_and(|s| first(s) == b"!done")
                    && !sentences.iter().any(|s| first(s) == b"!trap");
                self.reply(out).await;
                if logs_in {
                    self.logged_in_now().await;
                }
            }
        }
        true
    }

    async fn menu_command(&mut self, cmd: &Parsed<'_>) {
        let path = cmd.path;
        let (menu, verb) = match path.iter().rposition(|&b| b == b'/') {
            Some(i) if i > 0 => (&path[..i], &path[i + 1..]),
            _ => (&b""[..], path),
        };
        let menu = std::str::from_utf8(menu).unwrap_or_default();
        let known = !menu.is_empty() && lock(&self.shared.db).menus.contains_key(menu);
        if !known {
            let out = trap_done(cmd.tag, Some(0), b"no such command prefix");
            self.reply(out).await;
            return;
        }
        match verb {
            b"print" | b"getall" => self.print(cmd, menu, false).await,
            b"listen" => self.print(cmd, menu, true).await,
            b"add" | b"set" | b"remove" => self.modify(cmd, menu, verb).await,
            _ => {
                let out = trap_done(cmd.tag, Some(0), b"no such command");
                self.reply(out).await;
            }
        }
    }

    async fn print(&mut self, cmd: &Parsed<'_>, menu: &str, listen: bool) {
        let tag = cmd.tag;
        let mut queries = Vec::with_capacity(cmd.queries.len());
        for word in &cmd.queries {
            match query::parse(word) {
                Some(q) => queries.push(q),
                None => {
                    let out = trap_done(tag, Some(1), b"invalid query");
                    self.reply(out).await;
                    return;
                }
            }
        }
        let proplist = cmd.proplist();
        let follow = cmd.has(b"follow");
        let changes_only = listen || cmd.has(b"follow-only");
        let (rows, changes) = {
            let mut db = lock(&self.shared.db);
            let rows: Vec<Item> = if changes_only {
                Vec::new()
            } else {
                db.menus.get(menu).map_or_else(Vec::new, |m| {
                    m.items
                        .iter()
                        .filter(|item| query::matches(&queries, |k| item.get(k)))
                        .cloned()
                        .collect()
                })
            };
            let changes = (follow || changes_only).then(|| db.subscribe());
            (rows, changes)
        };
        let Some(changes) = changes else {
            let mut out = Vec::new();
            if cmd.has(b"count-only") {
                done(&mut out, tag, Some(rows.len().to_string().as_bytes()));
            } else {
                for item in &rows {
                    row(&mut out, tag, &item.attrs, proplist.as_deref(), None);
                }
                if rows.is_empty() && self.shared.config.empty_replies {
                    begin(&mut out, b"!empty", tag);
                    out.push(0);
                }
                done(&mut out, tag, None);
            }
            self.reply(out).await;
            return;
        };
        let mut first = Vec::new();
        for item in &rows {
            row(&mut first, tag, &item.attrs, proplist.as_deref(), None);
        }
        let (handle, stop) = self.register(tag);
        let emitter = self.emitter(handle);
        let menu = menu.to_owned();
        let dead = self.yes().as_bytes();
        self.spawn(stop, async move {
            if !first.is_empty() && !emitter.send(Payload::Owned(first), false).await {
                return;
            }
            while let Ok(change) = changes.recv().await {
                if change.menu != menu || !query::matches(&queries, |k| change.item.get(k)) {
                    continue;
                }
                let mut out = Vec::new();
                let dead = change.dead.then_some(dead);
                row(
                    &mut out,
                    emitter.tag(),
                    &change.item.attrs,
                    proplist.as_deref(),
                    dead,
                );
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
            }
        });
    }

    async fn modify(&mut self, cmd: &Parsed<'_>, menu: &str, verb: &[u8]) {
        let tag = cmd.tag;
        let ids = cmd
            .attr(b".id")
            .or(cmd.attr(b"numbers"))
            .unwrap_or_default();
        let attrs: Vec<Attr> = cmd
            .attrs
            .iter()
            .filter(|(k, _)| !k.starts_with(b".") && *k != b"numbers")
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        let result = {
            let mut db = lock(&self.shared.db);
            match verb {
                b"add" => db.add(menu, attrs).map(Some),
                b"set" => db.set(menu, ids, &attrs).map(|()| None),
                _ => db.remove(menu, ids).map(|()| None),
            }
        };
        let out = match result {
            Ok(ret) => {
                let mut out = Vec::new();
                done(&mut out, tag, ret.as_deref());
                out
            }
            Err((category, message)) => {
                trap_done(tag, Some(u32::from(category)), message.as_bytes())
            }
        };
        self.reply(out).await;
    }

    async fn monitor(&mut self, cmd: &Parsed<'_>, kind: Monitor) {
        let tag = cmd.tag;
        let wanted = cmd
            .attr(b"interface")
            .or(cmd.attr(b"numbers"))
            .unwrap_or_default();
        let mut interfaces: Vec<(String, bool)> = Vec::new();
        let mut missing = wanted.is_empty();
        {
            let db = lock(&self.shared.db);
            let items = db.menus.get("/interface").map_or(&[][..], |m| &m.items[..]);
            for name in wanted.split(|&b| b == b',').filter(|n| !n.is_empty()) {
                let found = items
                    .iter()
                    .find(|i| i.get(b"name") == Some(name) || i.get(b".id") == Some(name));
                match found {
                    Some(item) => {
                        let name = String::from_utf8_lossy(item.get(b"name").unwrap_or_default());
                        let up = matches!(item.get(b"running"), Some(b"true" | b"yes"));
                        interfaces.push((name.into_owned(), up));
                    }
                    None => missing = true,
                }
            }
        }
        if missing {
            let out = trap_done(tag, Some(1), b"no such item");
            self.reply(out).await;
            return;
        }
        let (yes, no) = (self.yes(), self.no());
        let rows = move |tag: Option<&[u8]>, tick: u64| {
            let mut out = Vec::new();
            for (i, (name, up)) in interfaces.iter().enumerate() {
                match kind {
                    Monitor::Traffic => {
                        let r = mix(tick, i as u64);
                        let (rx, tx) = if *up {
                            (1_000_000 + r % 9_000_000, 200_000 + (r >> 24) % 2_000_000)
                        } else {
                            (0, 0)
                        };
                        let (rxp, txp) = (rx / 8 / 700, tx / 8 / 400);
                        let (rx, tx, rxp, txp) = (
                            rx.to_string(),
                            tx.to_string(),
                            rxp.to_string(),
                            txp.to_string(),
                        );
                        pairs_row(
                            &mut out,
                            tag,
                            &[
                                ("name", name),
                                ("rx-packets-per-second", &rxp),
                                ("rx-bits-per-second", &rx),
                                ("fp-rx-packets-per-second", &rxp),
                                ("fp-rx-bits-per-second", &rx),
                                ("rx-drops-per-second", "0"),
                                ("rx-errors-per-second", "0"),
                                ("tx-packets-per-second", &txp),
                                ("tx-bits-per-second", &tx),
                                ("fp-tx-packets-per-second", &txp),
                                ("fp-tx-bits-per-second", &tx),
                                ("tx-drops-per-second", "0"),
                                ("tx-queue-drops-per-second", "0"),
                                ("tx-errors-per-second", "0"),
                            ],
                        );
                    }
                    Monitor::Ethernet => {
                        let mut attrs = vec![
                            ("name", name.as_str()),
                            ("status", if *up { "link-ok" } else { "no-link" }),
                            ("auto-negotiation", "done"),
                        ];
                        if *up {
                            attrs.extend([("rate", "1Gbps"), ("full-duplex", yes)]);
                        }
                        attrs.extend([
                            ("tx-flow-control", no),
                            ("rx-flow-control", no),
                            ("advertising", "10M-baseT-half,10M-baseT-full,100M-baseT-half,100M-baseT-full,1G-baseT-half,1G-baseT-full"),
                        ]);
                        pairs_row(&mut out, tag, &attrs);
                    }
                }
            }
            out
        };
        if cmd.has(b"once") {
            let mut out = rows(tag, 0);
            done(&mut out, tag, None);
            self.reply(out).await;
            return;
        }
        let interval = self.shared.config.monitor_interval;
        let (handle, stop) = self.register(tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            for tick in 0.. {
                if !emitter
                    .send(Payload::Owned(rows(emitter.tag(), tick)), false)
                    .await
                {
                    return;
                }
                Timer::after(interval).await;
            }
        });
    }

    fn check_for_updates(&mut self, cmd: &Parsed<'_>) {
        let (installed, latest) = if self.shared.config.v6 {
            ("6.49.10", "6.49.17")
        } else {
            ("7.16", "7.16.1")
        };
        let (handle, stop) = self.register(cmd.tag);
        let emitter = self.emitter(handle);
        self.spawn(stop, async move {
            let steps: [&[(&str, &str)]; 3] = [
                &[
                    ("channel", "stable"),
                    ("installed-version", installed),
                    ("status", "finding out latest version..."),
                ],
                &[
                    ("channel", "stable"),
                    ("installed-version", installed),
                    ("status", "downloading changelog..."),
                ],
                &[
                    ("channel", "stable"),
                    ("installed-version", installed),
                    ("latest-version", latest),
                    ("status", "New version is available"),
                ],
            ];
            for step in steps {
                let mut out = Vec::new();
                pairs_row(&mut out, emitter.tag(), step);
                if !emitter.send(Payload::Owned(out), false).await {
                    return;
                }
                Timer::after(Duration::from_millis(20)).await;
            }
            let mut out = Vec::new();
            done(&mut out, emitter.tag(), None);
            emitter.send(Payload::Owned(out), true).await;
        });
    }
}

fn encode_reply(reply: &Reply, tag: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for attrs in &reply.rows {
        row(&mut out, tag, attrs, None, None);
    }
    for (category, message) in &reply.traps {
        trap(&mut out, tag, *category, message);
    }
    done(&mut out, tag, reply.ret.as_deref());
    out
}

/// `count` copies of one pre-encoded row, written in large shared chunks.
async fn bulk(emitter: Emitter, count: usize, attributes: Vec<(String, String)>) {
    let mut one = Vec::new();
    begin(&mut one, b"!re", emitter.tag());
    for (k, v) in &attributes {
        attr(&mut one, k.as_bytes(), v.as_bytes());
    }
    one.push(0);
    let per_chunk = (BULK_CHUNK / one.len()).max(1);
    let chunk: Arc<[u8]> = one.repeat(per_chunk.min(count.max(1))).into();
    let mut remaining = count;
    while remaining >= per_chunk {
        if !emitter
            .send(Payload::Shared(Arc::clone(&chunk)), false)
            .await
        {
            return;
        }
        remaining -= per_chunk;
    }
    let mut tail = one.repeat(remaining);
    done(&mut tail, emitter.tag(), None);
    emitter.send(Payload::Owned(tail), true).await;
}

// ------------------------------------------------------------------- writer

async fn write_out<W: AsyncWrite + Unpin>(w: &mut W, bytes: &[u8], chunk: usize) -> io::Result<()> {
    if chunk == 0 {
        return w.write_all(bytes).await;
    }
    for piece in bytes.chunks(chunk) {
        w.write_all(piece).await?;
        w.flush().await?;
    }
    Ok(())
}

/// Writes every reply, in the order messages arrive; returns when the
/// session must close (or the socket failed).
async fn write_loop<W: AsyncWrite + Unpin>(
    mut w: W,
    rx: async_channel::Receiver<Out>,
    shared: Arc<Shared>,
) {
    let cut = *lock(&shared.cut);
    let mut cut_at = match cut {
        Some(Cut::FromStart(n)) => Some(n),
        _ => None,
    };
    let mut written: u64 = 0;
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(first) = rx.recv().await {
        let mut next = Some(first);
        let mut end = false;
        while let Some(message) = next.take() {
            match message {
                Out::Data { cmd, payload, last } => match cmd {
                    Some(cmd) if cmd.is_done() => {}
                    Some(cmd) => {
                        if last {
                            cmd.finish();
                        }
                        buf.extend_from_slice(payload.bytes());
                    }
                    None => buf.extend_from_slice(payload.bytes()),
                },
                Out::Cancel {
                    tag,
                    targets,
                    named,
                } => {
                    let interrupted: Vec<_> = targets.into_iter().filter(|t| t.finish()).collect();
                    for t in &interrupted {
                        trap(&mut buf, t.tag.as_deref(), Some(2), b"interrupted");
                    }
                    if named && interrupted.is_empty() {
                        trap(&mut buf, tag.as_deref(), Some(0), b"no such command");
                    }
                    done(&mut buf, tag.as_deref(), None);
                    for t in &interrupted {
                        done(&mut buf, t.tag.as_deref(), None);
                    }
                }
                Out::LoginComplete => {
                    if let (Some(Cut::AfterLogin(n)), None) = (cut, cut_at) {
                        cut_at = Some(written + buf.len() as u64 + n);
                    }
                }
                Out::Close => end = true,
                Out::Fatal(bytes) => {
                    buf.extend_from_slice(&bytes);
                    end = true;
                }
            }
            if end || buf.len() >= WRITE_BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if shared.silent.load(Ordering::SeqCst) {
            buf.clear();
        } else if !buf.is_empty() || cut_at.is_some_and(|at| at <= written) {
            let mut limit = buf.len();
            let mut cut_now = false;
            if let Some(at) = cut_at {
                let room = at.saturating_sub(written);
                if limit as u64 >= room {
                    limit = usize::try_from(room).unwrap_or(limit);
                    cut_now = true;
                }
            }
            let chunk = shared.write_chunk.load(Ordering::SeqCst);
            if write_out(&mut w, &buf[..limit], chunk).await.is_err() {
                return;
            }
            written += limit as u64;
            buf.clear();
            if cut_now {
                let _ = w.close().await;
                return;
            }
        }
        if end {
            let _ = w.close().await;
            return;
        }
        if buf.capacity() > 4 * WRITE_BATCH {
            buf = Vec::new();
        }
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
