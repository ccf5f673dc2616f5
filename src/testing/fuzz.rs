//! Checks shared by the fuzz targets in `fuzz/` and their corpus replay in
//! `tests/fuzz_corpus.rs`, and the in-memory router that the connection
//! target, the model test and the fault matrix drive the actor with.
//!
//! Not a stable API: it exists so that a fuzz input and a test run exactly
//! the same checks. Every check panics on a broken promise.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::{FutureExt, Stream};
use uuid::Uuid;

use super::lock;
use crate::Error;
use crate::connection::stream::is_last;
use crate::connection::{self, BufferPolicy, ConnectionOptions, ResponseStream};
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{
    CommandResponse, Decoder, DecoderLimits, ProtocolError, Sentence, encode_word,
};
use crate::runtime::AsyncIoRuntime;

use crate::protocol::fuzz::Bytes;
pub use crate::protocol::fuzz::{
    FOREIGN_TAG, SMALL_LIMITS, check_decoder, check_reply, replay_corpus,
};

// ---------------------------------------------------- the in-memory router

/// One word of a scripted router sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    /// These bytes as they are.
    Raw(Vec<u8>),
    /// `.tag=` of the `i`-th command the client wrote (`/cancel`s not counted).
    Tag(usize),
    /// `.tag=` of the `/cancel` the client wrote for command `i`.
    CancelTag(usize),
    /// A well-formed tag the client never sent.
    ForeignTag,
}

impl Word {
    /// A raw word from text.
    pub fn text(text: &str) -> Self {
        Self::Raw(text.as_bytes().to_vec())
    }
}

/// One step of the router's side of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bytes written as they are.
    Bytes(Vec<u8>),
    /// A sentence, its tags resolved against what the client wrote so far
    /// (a tag not written yet becomes [`Word::ForeignTag`]).
    Sentence(Vec<Word>),
    /// The client drops the stream of command `i` (cancelling it) before the
    /// router writes anything more.
    Drop(usize),
}

/// What the in-memory router and the client side share.
struct PeerState {
    steps: VecDeque<Step>,
    /// Rendered bytes of the current step, and how many were read.
    out: Vec<u8>,
    out_read: usize,
    /// Bytes handed out per read, at most.
    chunk: usize,
    /// When the steps are used up: keep the connection open (reads pend)
    /// until the driver lets it end, instead of EOF at once.
    hold_open: bool,
    /// Set when a read found nothing left to give while held open.
    idle: bool,
    /// A [`Step::Drop`] waiting for the driver.
    drop: Option<usize>,
    decoder: Decoder,
    /// Every sentence the client wrote.
    written: Vec<Sentence>,
    /// `.tag` values of the client's commands, in order.
    commands: Vec<Vec<u8>>,
    /// Target tag → the tag of the `/cancel` naming it.
    cancels: HashMap<Vec<u8>, Vec<u8>>,
    /// A framing error in the client's own output.
    write_error: Option<ProtocolError>,
    closed: bool,
}

impl PeerState {
    fn tag_word(tag: &[u8]) -> Vec<u8> {
        [b".tag=", tag].concat()
    }

    fn render(&self, words: &[Word]) -> Vec<u8> {
        let foreign = FOREIGN_TAG.to_string().into_bytes();
        let mut out = Vec::new();
        for word in words {
            let bytes = match word {
                Word::Raw(bytes) => bytes.clone(),
                Word::Tag(i) => Self::tag_word(self.commands.get(*i).unwrap_or(&foreign)),
                Word::CancelTag(i) => Self::tag_word(
                    self.commands
                        .get(*i)
                        .and_then(|target| self.cancels.get(target))
                        .unwrap_or(&foreign),
                ),
                Word::ForeignTag => Self::tag_word(&foreign),
            };
            encode_word(&bytes, &mut out);
        }
        out.push(0);
        out
    }

    fn record(&mut self, sentence: Sentence) {
        let find = |prefix: &[u8]| {
            sentence
                .words()
                .find_map(|w| w.strip_prefix(prefix))
                .map(<[u8]>::to_vec)
        };
        let tag = find(b".tag=").unwrap_or_default();
        if sentence.word(0) == Some(b"/cancel") {
            if let Some(target) = find(b"=tag=") {
                self.cancels.insert(target, tag);
            }
        } else {
            self.commands.push(tag);
        }
        self.written.push(sentence);
    }
}

/// A futures-io stream whose far end is a scripted router.
#[derive(Clone)]
struct Peer(Arc<Mutex<PeerState>>);

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Peer")
    }
}

impl AsyncRead for Peer {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = lock(&self.0);
        if state.drop.is_some() {
            // The client acts first: nothing more until the driver took the drop.
            return Poll::Pending;
        }
        loop {
            let left = state.out.len() - state.out_read;
            if left > 0 {
                let n = left.min(state.chunk).min(buf.len());
                let from = state.out_read;
                buf[..n].copy_from_slice(&state.out[from..from + n]);
                state.out_read += n;
                return Poll::Ready(Ok(n));
            }
            state.out.clear();
            state.out_read = 0;
            match state.steps.pop_front() {
                Some(Step::Bytes(bytes)) => state.out = bytes,
                Some(Step::Sentence(words)) => state.out = state.render(&words),
                Some(Step::Drop(i)) => {
                    // The driver acts on it, then polls again: no waker needed.
                    state.drop = Some(i);
                    return Poll::Pending;
                }
                None if state.hold_open => {
                    state.idle = true;
                    return Poll::Pending;
                }
                None => return Poll::Ready(Ok(0)),
            }
        }
    }
}

impl AsyncWrite for Peer {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = lock(&self.0);
        if state.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let mut input = buf;
        loop {
            match state.decoder.decode(&mut input) {
                Ok(Some(sentence)) => state.record(sentence),
                Ok(None) => break,
                Err(error) => {
                    state.write_error = Some(error);
                    break;
                }
            }
        }
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.0).closed = true;
        Poll::Ready(Ok(()))
    }
}

/// A scripted session: the commands the client sends first, then what the
/// router does.
#[derive(Debug, Clone)]
pub struct Session {
    /// Sent before the connection is first polled, in order.
    pub commands: Vec<Command>,
    /// The router's side.
    pub steps: Vec<Step>,
    /// Bytes per read, at most (`usize::MAX`: a step at a time).
    pub chunk: usize,
    /// The decoder limits of the connection.
    pub limits: DecoderLimits,
    /// The buffer policy of every command.
    pub policy: BufferPolicy,
}

impl Session {
    /// A session of `commands` (`/c0`, `/c1`, …) with default options and no steps yet.
    pub fn new(commands: usize) -> Self {
        Self {
            commands: (0..commands)
                .map(|i| CommandBuilder::new().command(&format!("/c{i}")).build())
                .collect(),
            steps: Vec::new(),
            chunk: usize::MAX,
            limits: DecoderLimits::default(),
            policy: BufferPolicy::Unbounded,
        }
    }
}

/// How a [`Session`] went.
#[derive(Debug)]
pub struct Outcome {
    /// The tag of each command.
    pub tags: Vec<Uuid>,
    /// What each command's stream yielded, in order, until it ended or was dropped.
    pub items: Vec<Vec<Result<CommandResponse, Error>>>,
    /// Whether each stream ended (yielded `None`).
    pub ended: Vec<bool>,
    /// Whether each stream was dropped by a [`Step::Drop`] before its end.
    pub dropped: Vec<bool>,
    /// `device.in_flight()` once every step had been read, before the router closed.
    pub in_flight_after_steps: usize,
    /// Why the connection ended.
    pub closed_reason: Option<Error>,
    /// Every sentence the client wrote.
    pub written: Vec<Sentence>,
    /// Polls of the connection until everything ended.
    pub polls: usize,
}

fn poll_stream(
    stream: &mut Option<ResponseStream>,
    cx: &mut Context<'_>,
    items: &mut Vec<Result<CommandResponse, Error>>,
) -> bool {
    let Some(open) = stream else {
        return false;
    };
    loop {
        match Pin::new(&mut *open).poll_next(cx) {
            Poll::Ready(Some(item)) => items.push(item),
            Poll::Ready(None) => {
                *stream = None;
                return true;
            }
            Poll::Pending => return false,
        }
    }
}

/// Runs `session` on one thread by polling the actor and every stream in
/// turn (no executor, no timers): deterministic, and a hang is a panic.
///
/// The router's steps are read in order; once they are used up the
/// connection stays open until the actor and the streams are idle, then the
/// router closes it (EOF). Returns when the actor has ended and every stream
/// that was not dropped has ended.
///
/// # Panics
/// If the actor or a stream does not end within a bound proportional to the
/// session's size, or the client writes a malformed sentence.
pub fn run_session(session: Session) -> Outcome {
    let total: usize = session
        .steps
        .iter()
        .map(|s| match s {
            Step::Bytes(b) => b.len(),
            Step::Sentence(w) => 16 * w.len() + 1,
            Step::Drop(_) => 1,
        })
        .sum();
    let chunk = session.chunk.max(1);
    let limit = 1_000 + 4 * session.steps.len() + 2 * total.div_ceil(chunk.min(1 << 16));
    let state = Arc::new(Mutex::new(PeerState {
        steps: session.steps.into(),
        out: Vec::new(),
        out_read: 0,
        chunk,
        hold_open: true,
        idle: false,
        drop: None,
        decoder: Decoder::default(),
        written: Vec::new(),
        commands: Vec::new(),
        cancels: HashMap::new(),
        write_error: None,
        closed: false,
    }));
    let options = ConnectionOptions {
        limits: session.limits,
        buffer: session.policy,
        ..ConnectionOptions::default()
    };
    let (handle, connection) = connection::new(
        Peer(Arc::clone(&state)),
        Arc::new(AsyncIoRuntime::new()),
        options,
    );
    let device = crate::MikrotikDevice::from(handle);
    let mut connection = Box::pin(connection);
    let mut streams: Vec<Option<ResponseStream>> = session
        .commands
        .into_iter()
        .map(|command| {
            let sent = device
                .send_command_with(command, session.policy)
                .now_or_never();
            Some(
                sent.expect("sending never waits")
                    .expect("the connection is new"),
            )
        })
        .collect();
    let n = streams.len();
    let tags = streams.iter().flatten().map(ResponseStream::tag).collect();
    let mut items: Vec<_> = (0..n).map(|_| Vec::new()).collect();
    let mut ended = vec![false; n];
    let mut dropped = vec![false; n];
    let mut in_flight_after_steps = None;
    let mut finished = false;
    let mut cx = Context::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        assert!(
            polls <= limit,
            "the session did not end within {limit} polls: finished {finished}, streams open {:?}",
            streams.iter().map(Option::is_some).collect::<Vec<_>>()
        );
        polls += 1;
        if !finished {
            finished = connection.as_mut().poll(&mut cx).is_ready();
        }
        for (i, stream) in streams.iter_mut().enumerate() {
            ended[i] |= poll_stream(stream, &mut cx, &mut items[i]);
        }
        let mut state_now = lock(&state);
        if let Some(i) = state_now.drop.take() {
            drop(state_now);
            if let Some(stream) = streams.get_mut(i) {
                dropped[i] |= stream.take().is_some();
            }
            continue;
        }
        if state_now.idle && in_flight_after_steps.is_none() {
            in_flight_after_steps = Some(device.in_flight());
            state_now.hold_open = false;
        }
        drop(state_now);
        if finished && streams.iter().all(Option::is_none) {
            break;
        }
    }
    assert!(
        device.is_closed(),
        "the actor ended, so the device says closed"
    );
    assert_eq!(device.in_flight(), 0, "nothing in flight after the end");
    let later = device
        .send_command(CommandBuilder::new().command("/later").build())
        .now_or_never()
        .expect("sending never waits");
    assert!(later.is_err(), "a send after the end fails at once");
    let state = lock(&state);
    assert_eq!(
        state.write_error, None,
        "the client's own output is well-formed"
    );
    Outcome {
        tags,
        items,
        ended,
        dropped,
        in_flight_after_steps: in_flight_after_steps.unwrap_or(0),
        closed_reason: device.closed_reason(),
        written: state.written.clone(),
        polls,
    }
}

/// Checks what every session must satisfy, whatever the router did: each
/// stream got only its own replies, nothing after its last item, and every
/// stream not dropped ended.
pub fn check_outcome(outcome: &Outcome) {
    for (i, items) in outcome.items.iter().enumerate() {
        let tag = outcome.tags[i];
        for (k, item) in items.iter().enumerate() {
            if let Ok(response) = item {
                assert!(
                    response.tag().is_none_or(|t| t == tag),
                    "stream {i} got a reply of another command: {response:?}"
                );
            }
            assert!(
                !is_last(item) || k + 1 == items.len(),
                "stream {i} got items after its last one: {items:?}"
            );
        }
        assert!(
            outcome.ended[i] || outcome.dropped[i],
            "stream {i} neither ended nor was dropped"
        );
    }
    // Every /cancel names a command the client sent.
    let sent: Vec<Vec<u8>> = outcome
        .written
        .iter()
        .filter(|s| s.word(0) != Some(b"/cancel"))
        .filter_map(|s| {
            s.words()
                .find_map(|w| w.strip_prefix(b".tag="))
                .map(<[u8]>::to_vec)
        })
        .collect();
    for cancel in outcome
        .written
        .iter()
        .filter(|s| s.word(0) == Some(b"/cancel"))
    {
        let target = cancel.words().find_map(|w| w.strip_prefix(b"=tag="));
        assert!(
            target.is_some_and(|t| sent.iter().any(|s| s == t)),
            "a /cancel of no command: {cancel:?}"
        );
    }
}

/// Builds a session from fuzz input. Byte 0: bits 0–1 the read size (whole
/// steps, 1, 7 or 64 bytes), bit 7 small limits; byte 1: 1–4 commands, bit
/// 7 a tiny bounded buffer; then steps: raw bytes, sentences (reply word,
/// tag choice and position, a few attributes), or dropping a stream.
pub fn session_from_fuzz(data: &[u8]) -> Session {
    let mut input = Bytes(data);
    let b0 = input.byte();
    let b1 = input.byte();
    let mut session = Session::new(1 + usize::from(b1 % 4));
    session.chunk = [usize::MAX, 1, 7, 64][usize::from(b0 & 3)];
    if b0 & 0x80 != 0 {
        session.limits = SMALL_LIMITS;
    }
    if b1 & 0x80 != 0 {
        session.policy = BufferPolicy::Bounded(2);
    }
    const KINDS: [&str; 8] = [
        "!re", "!done", "!trap", "!empty", "!fatal", "!bogus", "=a=b", "re",
    ];
    while !input.is_empty() && session.steps.len() < 256 {
        match input.byte() % 4 {
            0 => {
                let len = usize::from(input.byte() % 32);
                session.steps.push(Step::Bytes(input.take(len).to_vec()));
            }
            3 => session.steps.push(Step::Drop(usize::from(input.byte()))),
            _ => {
                let kind = input.byte();
                let choice = input.byte();
                let tag = match choice % 8 {
                    0 => None,
                    c @ 1..=4 => Some(Word::Tag(usize::from(c - 1))),
                    5 => Some(Word::CancelTag(usize::from((choice >> 3) % 4))),
                    6 => Some(Word::ForeignTag),
                    _ => Some(Word::text(".tag=not-a-uuid")),
                };
                let mut words = vec![Word::text(KINDS[usize::from(kind % 8)])];
                if choice & 0x80 != 0 {
                    words.extend(tag.clone());
                }
                for _ in 0..(kind >> 3) % 4 {
                    let len = usize::from(input.byte() % 16);
                    let mut word = b"=".to_vec();
                    word.extend_from_slice(input.take(len));
                    words.push(Word::Raw(word));
                }
                if choice & 0x80 == 0 {
                    words.extend(tag);
                }
                session.steps.push(Step::Sentence(words));
            }
        }
    }
    session
}

/// Fuzz check of the connection actor: the router's side of a session
/// comes from fuzz input (see [`session_from_fuzz`]); whatever it does, the
/// actor must not panic or hang, every stream must end with only its own
/// replies, and the device must report the connection dead afterwards.
pub fn check_connection(data: &[u8]) {
    let outcome = run_session(session_from_fuzz(data));
    check_outcome(&outcome);
}
