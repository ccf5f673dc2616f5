//! The actor future: owns the stream, writes commands, reads and routes replies.
//!
//! One `poll` does everything that is ready, in a loop: take new requests
//! (registering each tag before its bytes reach the write buffer), write,
//! read and decode everything the read returned, fire timers. There are no
//! inner tasks and no locks; the only synchronisation is the channels.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_channel::Receiver;
use futures_util::Stream;
use uuid::Uuid;

use super::routes::{Next, Routes};
use super::{ConnectionOptions, Item, Request, Shared};
use crate::Error;
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, Decoder, InvalidReply, ProtocolError, Sentence};
use crate::runtime::{AsyncStream, Runtime, Timer};

/// Reads start this small (idle connections stay cheap) and double while
/// reads fill the buffer, up to `MAX_READ_BUF`.
const MIN_READ_BUF: usize = 4 << 10;
const MAX_READ_BUF: usize = 64 << 10;
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
    /// Every handle is gone: `/quit` is being written, then the stream closed.
    Closing,
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
    read_buf: Vec<u8>,
    /// `read_buf[read_start..read_end]` was read but not decoded yet (the
    /// reply budget of the last poll ran out).
    read_start: usize,
    read_end: usize,
    /// Replies routed in the current poll.
    routed: usize,
    write_buf: Vec<u8>,
    written: usize,
    needs_flush: bool,
    /// The write buffer holds a secret (a login): wipe it once written.
    write_buf_sensitive: bool,
    routes: Routes,
    shared: Arc<Shared>,
    runtime: Arc<dyn Runtime>,
    options: ConnectionOptions,
    timer: Option<Pin<Box<dyn Timer>>>,
    timer_at: Option<Instant>,
    /// Command deadlines, earliest first; entries of finished commands are skipped.
    deadlines: BinaryHeap<Reverse<(Instant, Uuid, Duration)>>,
    last_read: Instant,
    /// When the outstanding keepalive probe was sent.
    probe_sent: Option<Instant>,
    phase: Phase,
}

impl<S> fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("phase", &self.phase)
            .field("in_flight", &self.routes.len())
            .field("unwritten", &(self.write_buf.len() - self.written))
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
        Self {
            io,
            requests: Box::pin(requests),
            decoder: Decoder::new(options.limits),
            read_buf: vec![0; MIN_READ_BUF],
            read_start: 0,
            read_end: 0,
            routed: 0,
            write_buf: Vec::new(),
            written: 0,
            needs_flush: false,
            write_buf_sensitive: false,
            routes: Routes::new(Arc::clone(&shared)),
            shared,
            runtime,
            options,
            timer: None,
            timer_at: None,
            deadlines: BinaryHeap::new(),
            last_read: Instant::now(),
            probe_sent: None,
            phase: Phase::Running,
        }
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.routed = 0;
        for _ in 0..ROUNDS_PER_POLL {
            let mut progress = false;
            if self.phase == Phase::Running
                && self.write_buf.len() - self.written < WRITE_HIGH_WATER
            {
                progress |= self.poll_requests(cx);
            }
            progress |= self.poll_write(cx)?;
            if self.phase == Phase::Closing {
                if self.write_buf.is_empty() && !self.needs_flush {
                    return Pin::new(&mut self.io).poll_close(cx).map(|_| Ok(()));
                }
            } else {
                progress |= self.poll_read(cx)?;
            }
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

    /// Takes every request that is ready.
    fn poll_requests(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        while self.write_buf.len() - self.written < WRITE_HIGH_WATER {
            match self.requests.as_mut().poll_next(cx) {
                Poll::Ready(Some(request)) => {
                    self.handle(request);
                    progress = true;
                }
                Poll::Ready(None) => {
                    // Every handle and stream is gone: say goodbye and close.
                    self.phase = Phase::Closing;
                    let quit = CommandBuilder::new().command("/quit").build();
                    self.write_buf.extend_from_slice(quit.as_bytes());
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
                oldest,
            } => {
                let tag = command.tag();
                // Register first: a fast router may answer before the write returns.
                self.routes.insert(tag, replies, policy, oldest);
                if let Some(after) = command.timeout().or(self.options.command_timeout) {
                    self.deadlines
                        .push(Reverse((Instant::now() + after, tag, after)));
                }
                self.write_buf.extend_from_slice(command.as_bytes());
                self.write_buf_sensitive |= command.is_sensitive();
            }
            Request::Cancel { tag } => {
                if self.routes.finish_early(tag, None) == Next::Cancel {
                    self.write_cancel(tag);
                }
            }
        }
    }

    fn write_internal(&mut self, command: &Command) {
        self.routes.insert_internal(command.tag());
        self.write_buf.extend_from_slice(command.as_bytes());
    }

    fn write_cancel(&mut self, tag: Uuid) {
        self.write_internal(&Command::cancel(tag));
    }

    /// Writes what is buffered, then flushes.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        let mut progress = false;
        while self.written < self.write_buf.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf[self.written..]) {
                Poll::Ready(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Poll::Ready(Ok(n)) => {
                    self.written += n;
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(progress),
            }
        }
        if !self.write_buf.is_empty() {
            if std::mem::take(&mut self.write_buf_sensitive) {
                self.write_buf.fill(0);
            }
            self.written = 0;
            self.write_buf.clear();
            if self.write_buf.capacity() > WRITE_HIGH_WATER {
                self.write_buf = Vec::new();
            }
            self.needs_flush = true;
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.needs_flush = false;
                    progress = true;
                }
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Reads once (unless bytes of an earlier read are left) and routes the
    /// sentences completed, up to the reply budget of this poll.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if self.read_start == self.read_end {
            let n = match Pin::new(&mut self.io).poll_read(cx, &mut self.read_buf) {
                Poll::Pending => return Ok(false),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Ready(Ok(0)) => {
                    return Err(Error::ConnectionClosed {
                        mid_sentence: self.decoder.is_mid_sentence(),
                    });
                }
                Poll::Ready(Ok(n)) => n,
            };
            if self.options.keepalive.is_some() {
                self.last_read = Instant::now();
            }
            (self.read_start, self.read_end) = (0, n);
            if n == self.read_buf.len() && n < MAX_READ_BUF {
                self.read_buf.resize(n * 2, 0);
            }
        }
        let buf = std::mem::take(&mut self.read_buf);
        let mut input = &buf[self.read_start..self.read_end];
        let result = self.route_some(&mut input);
        self.read_start = self.read_end - input.len();
        self.read_buf = buf;
        result.map(|()| true)
    }

    fn route_some(&mut self, input: &mut &[u8]) -> Result<(), Error> {
        while self.routed < REPLIES_PER_POLL {
            let Some(sentence) = self.decoder.decode(input)? else {
                break;
            };
            self.routed += 1;
            self.route(sentence)?;
        }
        Ok(())
    }

    fn route(&mut self, sentence: Sentence) -> Result<(), Error> {
        let (tag, item, last) = match self.routes.parse(sentence) {
            Ok(CommandResponse::Fatal(reason)) => {
                // The connection is over before any stream hears of it.
                let error = Error::Fatal(reason.as_str().into());
                self.shared.fail(error.clone());
                self.requests.close();
                self.routes
                    .close_all(|| Ok(CommandResponse::Fatal(reason.clone())));
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
        match self.routes.deliver(tag, item, last) {
            Some(Next::Nothing) => Ok(()),
            Some(Next::Cancel) => {
                self.write_cancel(tag);
                Ok(())
            }
            None => Err(ProtocolError::UnknownTag(tag.hyphenated().to_string()).into()),
        }
    }

    /// Ends commands past their deadline, runs the keepalive, and arms the
    /// timer for the next of those events.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if self.deadlines.is_empty() && self.options.keepalive.is_none() {
            return Ok(false);
        }
        let now = Instant::now();
        let mut progress = false;
        while let Some(&Reverse((at, tag, after))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let timeout = Error::Timeout {
                what: "command",
                after,
            };
            if self.routes.finish_early(tag, Some(timeout)) == Next::Cancel {
                self.write_cancel(tag);
                progress = true;
            }
        }
        let mut next = self.deadlines.peek().map(|Reverse((at, ..))| *at);
        if let Some(keepalive) = self.options.keepalive {
            let wake = match self.probe_sent {
                Some(sent) if self.last_read >= sent => {
                    self.probe_sent = None;
                    self.last_read + keepalive.interval
                }
                Some(sent) if now >= sent + keepalive.timeout => {
                    return Err(Error::Timeout {
                        what: "keepalive",
                        after: keepalive.timeout,
                    });
                }
                Some(sent) => sent + keepalive.timeout,
                None if now >= self.last_read + keepalive.interval => {
                    self.write_internal(
                        &CommandBuilder::new()
                            .command("/system/identity/print")
                            .build(),
                    );
                    self.probe_sent = Some(now);
                    progress = true;
                    now + keepalive.timeout
                }
                None => self.last_read + keepalive.interval,
            };
            next = Some(next.map_or(wake, |n| n.min(wake)));
        }
        let Some(next) = next else {
            return Ok(progress);
        };
        let timer = match &mut self.timer {
            Some(timer) => {
                if self.timer_at != Some(next) {
                    timer.as_mut().reset(next);
                }
                timer
            }
            None => self.timer.insert(self.runtime.timer(next)),
        };
        self.timer_at = Some(next);
        if timer.as_mut().poll_expired(cx).is_ready() {
            // Re-arm on the next round, which handles what expired.
            self.timer_at = None;
            progress = true;
        }
        Ok(progress)
    }
}

impl<S> Connection<S> {
    /// Ends the connection: every open stream and every queued request gets `error`.
    fn finish(&mut self, error: Error) {
        self.phase = Phase::Finished;
        // Publish the end before any stream can see its error.
        self.shared.fail(error.clone());
        self.requests.close();
        self.routes.close_all(|| Err(error.clone()));
        while let Ok(request) = self.requests.try_recv() {
            if let Request::Send { replies, .. } = request {
                let _ = replies.try_send(Err::<CommandResponse, _>(error.clone()) as Item);
            }
        }
    }
}

impl<S: AsyncStream> Future for Connection<S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.phase == Phase::Finished {
            return Poll::Ready(());
        }
        let error = match this.poll_inner(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => Error::Closed,
            Poll::Ready(Err(error)) => error,
        };
        this.finish(error);
        Poll::Ready(())
    }
}

impl<S> Drop for Connection<S> {
    fn drop(&mut self) {
        if self.phase != Phase::Finished {
            self.finish(Error::Closed);
        }
    }
}
