//! The actor future: owns the stream, writes commands, reads and routes replies.
//!
//! One `poll` does everything that is ready, in a loop: take new requests
//! (registering each tag before its bytes reach the write buffer), write,
//! read and decode everything the read returned, fire timers. There are no
//! inner tasks; the only synchronisation is the request channel and each
//! command's reply queue.
//!
//! Who wakes whom, and what holds between polls:
//! - the actor is woken by the request channel, the stream and its one timer;
//! - it wakes a command's reader at most once per poll (at its end), and only
//!   if that reader is parked;
//! - every route's tag was registered before its bytes entered the write
//!   buffer; `in_flight` equals the routes in the table;
//! - an open route's byte range is where its bytes were queued: a command
//!   ended early while none of them was taken by the socket is withdrawn
//!   from the write buffer (never sent, no `/cancel`), else cancelled;
//! - the timer is armed for the earliest deadline, keepalive event, cancel
//!   patience or close linger, whenever one exists.

use std::fmt;
use std::future::Future;
use std::io;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_channel::Receiver;
use futures_util::Stream;
use uuid::Uuid;

use super::deadlines::Deadlines;
use super::handback::Forwarded;
use super::queue::Entry;
use super::read_buffer::ReadBuffer;
use super::request::Origin;
use super::routes::{Counting, Delivered, Next, Routes};
use super::timers::{Alarm, KeepaliveState, KeepaliveStep};
use super::write_buffer::WriteBuffer;
use super::{ConnectionOptions, Item, Orphan, Request, Shared};
use crate::observe::trace::{self, CommandTrace, ConnectionSpan};
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, Decoder, InvalidReply, ProtocolError, Sentence};
use crate::runtime::{AsyncStream, Runtime};
use crate::{Error, TimeoutKind};

/// Stop taking requests while this much is waiting to be written.
const WRITE_HIGH_WATER: usize = 256 << 10;
/// Rounds of read/write per poll before yielding to other tasks.
const ROUNDS_PER_POLL: usize = 16;
/// Replies routed per poll before yielding. A reader on the same thread gets
/// its turn before its buffer can fill: Tokio's current-thread scheduler, for
/// one, polls a self-waking task up to 61 times before its `block_on` future,
/// and 61 × 64 stays far below the default buffer of 8192.
const REPLIES_PER_POLL: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Every handle is gone: what is queued (cancels, `/quit`) is written,
    /// then the router's replies are read and discarded until it closes or
    /// the linger ends (`None`: no linger bound), then the stream is closed.
    Closing {
        until: Option<Instant>,
    },
    Finished,
}

/// The connection actor. Spawn it; it completes when the connection ends.
///
/// Dropping it before it completes ends every open stream with
/// [`Error::Closed`].
#[must_use = "the connection does nothing unless it is spawned or polled"]
pub struct Connection<S> {
    io: S,
    requests: Pin<Box<Receiver<Request>>>,
    decoder: Decoder,
    read: ReadBuffer,
    /// The sentences decoded together, between decoding and routing (kept
    /// to reuse its allocation).
    batch: Vec<Sentence>,
    /// Replies routed in the current poll.
    routed: usize,
    /// Sentences read and not yet added to the counters.
    uncounted: usize,
    write: WriteBuffer,
    routes: Routes,
    shared: Arc<Shared>,
    /// The connection's span, as in `shared`.
    span: ConnectionSpan,
    runtime: Arc<dyn Runtime>,
    options: ConnectionOptions,
    alarm: Alarm,
    deadlines: Deadlines,
    keepalive: Option<KeepaliveState>,
    /// The time at the start of the current round of the poll loop.
    now: Instant,
    /// With a supervisor only: what its forwarded commands need at the end.
    forwarded: Forwarded,
    phase: Phase,
}

impl<S> fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("phase", &self.phase)
            .field("in_flight", &self.routes.len())
            .field("unwritten", &self.write.unwritten())
            .finish_non_exhaustive()
    }
}

impl<S: AsyncStream> Connection<S> {
    pub(crate) fn new(
        io: S,
        requests: Receiver<Request>,
        shared: Arc<Shared>,
        runtime: Arc<dyn Runtime>,
        options: ConnectionOptions,
    ) -> Self {
        let now = runtime.now();
        let keepalive = options.keepalive.map(|k| KeepaliveState::new(k, now));
        Self {
            io,
            requests: Box::pin(requests),
            decoder: Decoder::new(options.limits),
            read: ReadBuffer::default(),
            batch: Vec::new(),
            routed: 0,
            uncounted: 0,
            write: WriteBuffer::default(),
            routes: Routes::new(Arc::clone(&shared), &options),
            span: shared.span.clone(),
            shared,
            runtime,
            options,
            alarm: Alarm::default(),
            deadlines: Deadlines::default(),
            keepalive,
            now,
            phase: Phase::Running,
            forwarded: Forwarded::default(),
        }
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if let Phase::Closing { until } = self.phase {
            return self.poll_closing(cx, until);
        }
        self.routed = 0;
        for _ in 0..ROUNDS_PER_POLL {
            self.now = self.runtime.now();
            let mut progress = false;
            if self.write.unwritten() < WRITE_HIGH_WATER {
                progress |= self.poll_requests(cx);
            }
            if let Phase::Closing { until } = self.phase {
                return self.poll_closing(cx, until);
            }
            progress |= self
                .write
                .poll_write(&mut self.io, cx, &self.shared.counters)?;
            progress |= self.poll_read(cx)?;
            progress |= self.poll_timers(cx)?;
            if !progress {
                return Poll::Pending;
            }
            if self.routed >= REPLIES_PER_POLL {
                break;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Every handle and stream is gone. Writes what is queued, and reads on
    /// (discarding) until the router closes, so it never sees a reset for
    /// replies left unread; gives up on the router after the linger.
    fn poll_closing(
        &mut self,
        cx: &mut Context<'_>,
        until: Option<Instant>,
    ) -> Poll<Result<(), Error>> {
        for _ in 0..ROUNDS_PER_POLL {
            self.routed = 0;
            self.now = self.runtime.now();
            let wrote = match self
                .write
                .poll_write(&mut self.io, cx, &self.shared.counters)
            {
                Ok(progress) => progress,
                Err(_) => return self.poll_close(cx),
            };
            let read = match self.poll_read(cx) {
                Ok(progress) => progress,
                // EOF, `!fatal` (the answer to `/quit`) or a broken stream: the router is done.
                Err(_) => return self.poll_close(cx),
            };
            if let Some(until) = until
                && self.alarm.poll_at(&*self.runtime, cx, until)
            {
                return self.poll_close(cx);
            }
            if !wrote && !read {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.io).poll_close(cx).map(|_| Ok(()))
    }

    /// Takes every request that is ready.
    fn poll_requests(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while self.write.unwritten() < WRITE_HIGH_WATER {
            match self.requests.as_mut().poll_next(cx) {
                Poll::Ready(Some(request)) => {
                    self.handle(request);
                    progress = true;
                }
                Poll::Ready(None) => {
                    // Every handle and stream is gone (every cancel was taken
                    // before this), or `close` was called: end what still
                    // runs, say goodbye, then close.
                    // Closed on this side, whatever the router answers.
                    self.shared.fail(Error::Closed);
                    let now = self.now;
                    for tag in self.routes.open_tags() {
                        self.end_early(tag, Some(Error::Closed), now);
                    }
                    let quit = CommandBuilder::new().command("/quit").build();
                    self.queue_sentence(quit.as_bytes(), false);
                    let linger = if self.shared.closes_at_once() {
                        Duration::ZERO
                    } else {
                        self.options.close_linger
                    };
                    let until = self.now.checked_add(linger);
                    self.phase = Phase::Closing { until };
                    return true;
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Send {
                command,
                replies,
                policy,
                origin,
            } => {
                let tag = command.tag();
                let trace = CommandTrace::start(&self.span, &command, policy, self.now);
                let counting = match (command.is_counted(), origin) {
                    (false, _) => Counting::Uncounted,
                    // Counted as started on its first connection.
                    (true, Origin::Resumed) => Counting::Resumed,
                    (true, _) => Counting::Started,
                };
                let at = self.write.queued_total();
                let bytes = at..at + command.as_bytes().len() as u64;
                // Register first: a fast router may answer before the write returns.
                if self
                    .routes
                    .insert(tag, replies, policy, trace, counting, bytes)
                    .is_err()
                {
                    // Its tag is in flight: the stream got the error; write nothing.
                    return;
                }
                // The connection's deadline is for commands that finish: a
                // streaming one (listen, follow, monitor, `interval=`) runs
                // until cancelled, and keepalive tells a dead peer. Its own
                // timeout still applies.
                let default = self
                    .options
                    .command_timeout
                    .filter(|_| !command.is_resumable());
                if let Some(after) = command.timeout().or(default) {
                    self.deadlines.add(self.now, tag, after, at);
                    let routes = &self.routes;
                    self.deadlines.compact(routes.len(), |t| routes.is_open(t));
                }
                debug_assert!(self.routes.is_open(&tag), "registered before written");
                if let Some(handback) = &self.options.handback
                    && origin != Origin::Direct
                {
                    handback.note_forwarded(
                        &mut self.forwarded,
                        &self.routes,
                        tag,
                        &command,
                        self.write.queued_total(),
                        self.write.taken_total(),
                    );
                }
                debug_assert_eq!(self.write.queued_total(), at, "queued where recorded");
                self.queue_sentence(command.as_bytes(), command.is_sensitive());
            }
            Request::Cancel { tag } => {
                if !self.routes.reader_gone(&tag) {
                    // Another stream of the tag (refused as a duplicate):
                    // the command holding it goes on.
                    return;
                }
                self.forwarded.forget(&tag);
                self.end_early(tag, None, self.now);
            }
        }
    }

    /// Ends the open command `tag` early (dropped, timed out, closed), with
    /// `error` for its stream. If none of its bytes has reached the socket
    /// yet, they are taken back and it is never sent (so nothing to cancel);
    /// otherwise `/cancel` is written. `true` when anything was written.
    fn end_early(&mut self, tag: Uuid, error: Option<Error>, now: Instant) -> bool {
        let (write, counters) = (&mut self.write, &self.shared.counters);
        let next = self.routes.finish_early(tag, error, now, |bytes| {
            let withdrawn = write.withdraw(bytes);
            if withdrawn {
                counters.sentence_withdrawn();
                trace::command_withdrawn(tag);
            }
            withdrawn
        });
        if next == Next::Cancel {
            self.write_cancel(tag);
        }
        next == Next::Cancel
    }

    /// Queues one sentence for writing, counted and traced (by size only:
    /// its words may hold a secret).
    fn queue_sentence(&mut self, bytes: &[u8], sensitive: bool) {
        self.shared.counters.sentence_sent();
        trace::sentence_written(bytes.len());
        self.write.push(bytes, sensitive);
    }

    fn write_internal(&mut self, command: &Command) {
        self.routes.insert_internal(command.tag(), self.now);
        debug_assert!(
            self.routes.contains(&command.tag()),
            "registered before written"
        );
        self.queue_sentence(command.as_bytes(), false);
    }

    fn write_cancel(&mut self, tag: Uuid) {
        trace::cancel_sent(tag);
        self.write_internal(&Command::cancel(tag));
    }

    /// Writes the `/cancel`s of commands whose readers the routing table
    /// found gone; `true` if there were any.
    fn write_found_cancels(&mut self) -> bool {
        let mut any = false;
        while let Some(tag) = self.routes.take_cancels() {
            self.write_cancel(tag);
            any = true;
        }
        any
    }

    /// Reads once (unless bytes of an earlier read are left) and routes the
    /// sentences completed, up to the reply budget of this poll.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if !self.read.has_pending() {
            match self.read.poll_fill(&mut self.io, cx) {
                Poll::Pending => return Ok(false),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
                // TLS closed without close_notify: a close like any other.
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(Error::ConnectionClosed {
                        mid_sentence: self.decoder.is_mid_sentence(),
                    });
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Ready(Ok(0)) => {
                    return Err(Error::ConnectionClosed {
                        mid_sentence: self.decoder.is_mid_sentence(),
                    });
                }
                Poll::Ready(Ok(n)) => self.shared.counters.received(n),
            }
            if let Some(keepalive) = &mut self.keepalive {
                keepalive.read_at(self.now);
            }
        }
        let mut read = std::mem::take(&mut self.read);
        let result = read.consume(|input| self.route_some(input));
        self.read = read;
        result.map(|()| true)
    }

    fn route_some(&mut self, input: &mut &[u8]) -> Result<(), Error> {
        let result = self.route_each(input);
        self.count_sentences();
        result
    }

    /// Decodes what the budget allows in one batch (each run of one
    /// command's whole sentences in one allocation), then routes it in
    /// order; a decoding error comes after the sentences before it.
    fn route_each(&mut self, input: &mut &[u8]) -> Result<(), Error> {
        let mut batch = std::mem::take(&mut self.batch);
        let budget = REPLIES_PER_POLL.saturating_sub(self.routed);
        let decoded = self.decoder.decode_batch(input, budget, &mut batch);
        let mut routed = Ok(());
        for sentence in batch.drain(..) {
            self.routed += 1;
            self.uncounted += 1;
            routed = self.route(sentence);
            if routed.is_err() {
                break;
            }
        }
        self.batch = batch;
        routed?;
        Ok(decoded?)
    }

    /// Adds the sentences read since the last call to the counters: once per
    /// batch, and before any command's end reaches its stream, so counting
    /// stays off the per-sentence path yet a reader that saw its `!done`
    /// sees it counted.
    fn count_sentences(&mut self) {
        self.shared.counters.sentences_received(self.uncounted);
        self.uncounted = 0;
    }

    fn route(&mut self, sentence: Sentence) -> Result<(), Error> {
        let bytes = sentence.wire_len();
        let (tag, item, last) = match self.routes.parse(sentence) {
            Ok(CommandResponse::Fatal(reason)) => {
                // The connection is over before any stream hears of it.
                // After `/quit` (an orderly close) the `!fatal` is expected.
                let requested = matches!(self.phase, Phase::Closing { .. });
                trace::fatal(&self.span, &reason, requested);
                self.count_sentences();
                let error = Error::Fatal(reason.as_str().into());
                self.shared.fail(error.clone());
                self.requests.close();
                // A supervisor's streams are ended (or handed back) by `finish`.
                if self.options.handback.is_none() {
                    self.routes
                        .close_all(|| Ok(CommandResponse::Fatal(reason.clone())), self.now);
                }
                return Err(error);
            }
            Ok(response) => {
                let tag = response.tag().expect("every reply but !fatal has a tag");
                let last = matches!(response, CommandResponse::Done(_));
                (tag, Ok(response), last)
            }
            // A broken sentence of a known command goes to that command only.
            Err(InvalidReply {
                tag: Some(tag),
                error,
            }) if self.routes.contains(&tag) => (tag, Err(Error::Protocol(error)), false),
            Err(InvalidReply { error, .. }) => return Err(error.into()),
        };
        trace::sentence_read(Some(tag), &item, bytes);
        if last {
            self.count_sentences();
        }
        let entry = Entry { item, bytes };
        let delivered = self.routes.deliver(tag, entry, last, self.now);
        self.write_found_cancels();
        match delivered {
            Delivered::To(Next::Nothing) => Ok(()),
            Delivered::To(Next::Cancel) => {
                self.write_cancel(tag);
                Ok(())
            }
            Delivered::UnknownTag => {
                Err(ProtocolError::UnknownTag(tag.hyphenated().to_string()).into())
            }
        }
    }

    /// Ends commands past their deadline, gives up on cancels the router
    /// never finished, runs the keepalive, and arms the timer for the next
    /// of those events.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        let now = self.now;
        let mut progress = false;
        while let Some((tag, after, queued)) = self.deadlines.pop_expired(now) {
            if self.routes.queued_at(&tag) != Some(queued) {
                // Finished, or its tag now another command's.
                continue;
            }
            let timeout = Error::Timeout {
                what: TimeoutKind::Command,
                after,
                address: None,
                stage: None,
            };
            progress |= self.end_early(tag, Some(timeout), now);
        }
        let mut next = self.deadlines.next();
        let mut sooner = |at: Option<Instant>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        sooner(self.routes.expire_swallowing(now));
        if let Some(keepalive) = &mut self.keepalive {
            let span = &self.span;
            let step = keepalive
                .step(now)
                .inspect_err(|error| trace::keepalive_failed(span, error))?;
            match step {
                KeepaliveStep::Probe(wake) => {
                    trace::keepalive_probe();
                    self.write_internal(
                        &CommandBuilder::new()
                            .command("/system/identity/print")
                            .build(),
                    );
                    progress = true;
                    sooner(wake);
                }
                KeepaliveStep::WakeAt(wake) => sooner(wake),
            }
        }
        if let Some(next) = next
            && self.alarm.poll_at(&*self.runtime, cx, next)
        {
            progress = true;
        }
        Ok(progress)
    }
}

impl<S> Connection<S> {
    /// Ends the connection: every open stream and every queued request gets `error`.
    ///
    /// With a supervisor, open resumable commands and requests never taken
    /// (never written) are handed back instead, and the other open commands
    /// end with [`Error::ConnectionLost`]: they were written, so they may
    /// have run. The end is marked (for `ConnectionHandle::closed`) only
    /// after every hand-back, so a supervisor that saw it has them all.
    fn finish(&mut self, error: Error) {
        self.phase = Phase::Finished;
        trace::connection_ended(&self.span, &error);
        if !matches!(error, Error::Closed) {
            self.shared.counters.error(&error);
        }
        // Publish the end before any stream can see its error.
        self.shared.fail(error.clone());
        self.requests.close();
        let now = self.now;
        // What was routed reaches its streams (or goes with them) first.
        self.routes.flush(now);
        let handback = self.options.handback.clone();
        let mut wakes = Vec::new();
        let error_of_open = match &handback {
            Some(handback) => handback.hand_back_open(
                &mut self.forwarded,
                &mut self.routes,
                self.write.taken_total(),
                &error,
                &mut wakes,
            ),
            None => error.clone(),
        };
        self.routes.close_all(|| Err(error_of_open.clone()), now);
        while let Ok(request) = self.requests.try_recv() {
            let Request::Send {
                command,
                replies,
                policy,
                origin,
            } = request
            else {
                continue;
            };
            let orphan = Orphan {
                tag: command.tag(),
                command,
                replies,
                policy,
                written: false,
                counted: origin == Origin::Resumed,
            };
            // Only what the supervisor forwarded goes back to it: a request
            // sent on this connection's own handle (its login) ends here.
            let unsent = match &handback {
                Some(handback) if origin != Origin::Direct => handback.give(orphan),
                _ => Some(orphan),
            };
            if let Some(orphan) = unsent {
                let item: Item = Err(error.clone());
                orphan.replies.end_with(item, &mut wakes);
            }
        }
        wakes.into_iter().for_each(std::task::Waker::wake);
        self.shared.mark_ended();
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

impl<S: AsyncStream> Future for Connection<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.phase == Phase::Finished {
            return Poll::Ready(());
        }
        // Its commands' spans and its events are children of the connection's.
        // (A clone to enter, as the poll needs all of `this`: free without
        // `tracing` or without a subscriber.)
        let span = this.span.clone();
        let _entered = span.enter();
        // A bug here must end this connection only, never the executor (and
        // every other connection on it).
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| this.poll_inner(cx)));
        let error = match polled {
            Ok(Poll::Pending) => {
                this.routes.wake_readers(this.now);
                // Pushing the last run may have found a reader gone.
                if this.write_found_cancels() {
                    cx.waker().wake_by_ref();
                }
                debug_assert_eq!(
                    this.shared.in_flight(),
                    this.routes.len(),
                    "in_flight is published on every change of the routes"
                );
                return Poll::Pending;
            }
            Ok(Poll::Ready(Ok(()))) => Error::Closed,
            Ok(Poll::Ready(Err(error))) => error,
            Err(panic) => Error::Internal {
                message: panic_message(&*panic),
            },
        };
        this.finish(error);
        Poll::Ready(())
    }
}

impl<S> Drop for Connection<S> {
    fn drop(&mut self) {
        if self.phase != Phase::Finished {
            let span = self.span.clone();
            let _entered = span.enter();
            self.finish(Error::Closed);
        }
    }
}
