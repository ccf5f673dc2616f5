//! The supervisor: one task per router that owns the current connection,
//! notices its end, backs off, connects again and carries the device's
//! requests over.
//!
//! It sits between the device handles and the connection actors, and speaks
//! to both in the actor's own [`Request`]s, so a handle or a stream never
//! knows which connection it is on:
//! - connected, a request is passed to the current actor as it is (a cancel
//!   under the tag the command has there now);
//! - down, a command waits in a bounded queue, under its deadline; a cancel
//!   takes it out;
//! - at the loss, the ending actor hands back the commands it never wrote
//!   and the open resumable ones (`connection/handback.rs`); the first are
//!   sent as they are, the second again under a fresh tag, after a gap
//!   marker in their stream. Every other open command ended in the actor with
//!   [`Error::ConnectionLost`]: it may have run, so it is never sent again.
//!
//! It knows nothing of addresses, TLS or logins: the device layer gives it
//! one connector per address, each a closure that opens and logs in a new
//! connection.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use futures_util::Stream;
use uuid::Uuid;

use super::{ConnectionState, ReconnectPolicy, StateCell, StateChanges};
use crate::connection::{
    BufferPolicy, ConnectionHandle, Handback, Item, Orphan, QueueWriter, Request, ResponseStream,
    refuse_misbuilt, submit,
};
use crate::observe::trace::{self, ConnectionSpan};
use crate::protocol::command::Command;
use crate::runtime::{BoxFuture, Runtime, Timer};
use crate::{Error, Result};

/// Opens one connection to one address and logs in; the actor it spawns
/// hands its orphans to the given [`Handback`].
pub(crate) type Connector =
    Arc<dyn Fn(Handback) -> BoxFuture<Result<ConnectionHandle>> + Send + Sync>;

/// Requests handled per poll before the supervisor yields.
const REQUESTS_PER_POLL: usize = 256;

/// What the device handles and the supervisor share.
#[derive(Debug)]
struct Link {
    state: Arc<StateCell>,
    /// The connection now, for counters (`None` while down).
    current: Mutex<Option<ConnectionHandle>>,
}

impl Link {
    fn current(&self) -> MutexGuard<'_, Option<ConnectionHandle>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A device's handle to its supervisor. Cloning is cheap.
#[derive(Clone)]
pub(crate) struct Supervised {
    requests: Sender<Request>,
    link: Arc<Link>,
    buffer: BufferPolicy,
    counters: Arc<crate::observe::Counters>,
}

impl fmt::Debug for Supervised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervised")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Supervised {
    pub(crate) fn default_buffer(&self) -> BufferPolicy {
        self.buffer
    }

    /// The counters of every connection of the router so far.
    pub(crate) fn snapshot(&self) -> crate::Stats {
        self.counters.snapshot()
    }

    /// Sends `command` through the supervisor; never waits.
    pub(crate) fn send(&self, command: Command, policy: BufferPolicy) -> Result<ResponseStream> {
        refuse_misbuilt(&command)?;
        if let ConnectionState::Closed { error } = self.state() {
            return Err(error);
        }
        submit(&self.requests, command, policy)
            .ok_or_else(|| self.closed_reason().unwrap_or(Error::Closed))
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.link.state.get()
    }

    /// Stops the supervisor (no new requests from any clone) and closes the
    /// current connection, as `MikrotikDevice::close` does for a direct one.
    pub(crate) fn close(&self) {
        self.requests.close();
        if let Some(current) = self.link.current().as_ref() {
            current.close();
        }
    }

    pub(crate) fn state_changes(&self) -> StateChanges {
        StateChanges::new(Arc::clone(&self.link.state))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state().is_closed()
    }

    pub(crate) fn closed_reason(&self) -> Option<Error> {
        match self.state() {
            ConnectionState::Closed { error } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.link
            .current()
            .as_ref()
            .map_or(0, ConnectionHandle::in_flight)
    }

    pub(crate) fn abandoned(&self) -> u64 {
        self.link
            .current()
            .as_ref()
            .map_or(0, ConnectionHandle::abandoned)
    }
}

/// The channel of orphans, made before the first connection so that its
/// actor hands back too.
#[derive(Debug)]
pub(crate) struct Orphanage {
    handback: Handback,
    orphans: Receiver<Orphan>,
}

impl Orphanage {
    pub(crate) fn new() -> Self {
        let (sender, orphans) = async_channel::unbounded();
        Self {
            handback: Handback(sender),
            orphans,
        }
    }

    /// What to put in the options of a supervised connection.
    pub(crate) fn handback(&self) -> Handback {
        self.handback.clone()
    }
}

/// What a supervisor needs besides its first connection.
pub(crate) struct Plan {
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) policy: ReconnectPolicy,
    /// One per address, tried in this order on every attempt.
    pub(crate) connectors: Vec<Connector>,
    /// Addresses that refused the first login: never tried (same length).
    pub(crate) refused: Vec<bool>,
    /// The builder's command timeout, which also bounds a command's wait.
    pub(crate) command_timeout: Option<Duration>,
    pub(crate) buffer: BufferPolicy,
    /// Shared by every connection of the router: snapshots span reconnects.
    pub(crate) counters: Arc<crate::observe::Counters>,
    /// The span of the router's reconnecting (`ConnectionSpan::reconnecting`).
    pub(crate) span: ConnectionSpan,
}

/// Spawns the supervisor of `first` (made with `orphanage.handback()`).
pub(crate) fn spawn(plan: Plan, orphanage: Orphanage, first: ConnectionHandle) -> Supervised {
    let (requests, incoming) = async_channel::unbounded();
    let link = Arc::new(Link {
        state: Arc::new(StateCell::new(ConnectionState::Connected)),
        current: Mutex::new(Some(first.clone())),
    });
    let supervisor = Supervisor {
        runtime: Arc::clone(&plan.runtime),
        refused: plan.refused,
        connectors: plan.connectors,
        policy: plan.policy,
        command_timeout: plan.command_timeout,
        requests: Box::pin(incoming),
        orphanage,
        link: Arc::clone(&link),
        waiting: VecDeque::new(),
        by_user: HashMap::new(),
        by_current: HashMap::new(),
        level: 0,
        lost_at: plan.runtime.now(),
        span: plan.span,
    };
    plan.runtime.spawn(Box::pin(supervisor.run(first)));
    Supervised {
        requests,
        link,
        buffer: plan.buffer,
        counters: plan.counters,
    }
}

/// Why the supervisor stops.
enum Stop {
    /// Every handle and stream was dropped.
    AllGone,
    /// Final: a refused login, or the policy gave up.
    Final(Error),
}

/// A command waiting for the next connection.
struct Waiting {
    /// The tag its stream knows it by (and cancels with).
    user_tag: Uuid,
    command: Command,
    replies: QueueWriter,
    policy: BufferPolicy,
    /// When its wait ends, and the limit it had.
    deadline: Option<(Instant, Duration)>,
    /// For a resumed command: the loss to report in its gap marker.
    gap: Option<Arc<Error>>,
}

struct Supervisor {
    runtime: Arc<dyn Runtime>,
    policy: ReconnectPolicy,
    connectors: Vec<Connector>,
    /// Addresses that refused a login: never tried again.
    refused: Vec<bool>,
    command_timeout: Option<Duration>,
    requests: Pin<Box<Receiver<Request>>>,
    orphanage: Orphanage,
    link: Arc<Link>,
    waiting: VecDeque<Waiting>,
    /// Resumed commands: the tag each has on the current connection, by the
    /// tag its stream knows, and back. Rebuilt at every loss from the orphans.
    by_user: HashMap<Uuid, Uuid>,
    by_current: HashMap<Uuid, Uuid>,
    /// The backoff level: one more per attempt, 0 after a healthy connection.
    level: u32,
    lost_at: Instant,
    /// The span reconnect attempts are traced under (it names the router).
    span: ConnectionSpan,
}

impl Supervisor {
    async fn run(mut self, first: ConnectionHandle) {
        let mut current = first;
        let stop = loop {
            let up_since = self.runtime.now();
            *self.link.current() = Some(current.clone());
            self.link.state.set(ConnectionState::Connected);
            self.flush(&current);
            let cause = match self.serve(&current).await {
                Ok(cause) => cause,
                Err(stop) => break stop,
            };
            self.lost_at = self.runtime.now();
            if self.lost_at.saturating_duration_since(up_since) >= self.policy.reset_after {
                self.level = 0;
            }
            *self.link.current() = None;
            drop(current);
            self.take_orphans(&cause);
            match self.reconnect(cause).await {
                Ok(next) => current = next,
                Err(stop) => break stop,
            }
        };
        self.stop(stop);
    }

    /// Passes requests to `current` until it ends (its error) or every
    /// handle and stream is gone.
    async fn serve(&mut self, current: &ConnectionHandle) -> Result<Error, Stop> {
        let mut closed = pin!(current.closed());
        std::future::poll_fn(|cx| {
            for _ in 0..REQUESTS_PER_POLL {
                match self.requests.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Request::Cancel { tag })) => {
                        let tag = self.by_user.get(&tag).copied().unwrap_or(tag);
                        let _ = current.forward(Request::Cancel { tag });
                    }
                    Poll::Ready(Some(send)) => {
                        // Gone already: the command waits for the next one.
                        if let Err(Request::Send {
                            command,
                            replies,
                            policy,
                        }) = current.forward(send)
                        {
                            self.enqueue(command, replies, policy);
                        }
                    }
                    Poll::Ready(None) => return Poll::Ready(Err(Stop::AllGone)),
                    Poll::Pending => {
                        if closed.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(Ok(current
                                .closed_reason()
                                .unwrap_or(Error::Closed)));
                        }
                        return Poll::Pending;
                    }
                }
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    /// Takes what the ended connection handed back: resumable commands
    /// first (they are older), each to be sent again after a gap marker.
    fn take_orphans(&mut self, cause: &Error) {
        let cause = Arc::new(cause.clone());
        let old = std::mem::take(&mut self.by_current);
        self.by_user.clear();
        let now = self.runtime.now();
        let mut orphans = Vec::new();
        while let Ok(orphan) = self.orphanage.orphans.try_recv() {
            let user_tag = old.get(&orphan.tag).copied().unwrap_or(orphan.tag);
            let deadline = if orphan.written {
                None
            } else {
                self.deadline_of(&orphan.command, now)
            };
            orphans.push(Waiting {
                user_tag,
                command: orphan.command,
                replies: orphan.replies,
                policy: orphan.policy,
                deadline,
                gap: orphan.written.then(|| Arc::clone(&cause)),
            });
        }
        for waiting in orphans.into_iter().rev() {
            self.waiting.push_front(waiting);
        }
    }

    fn deadline_of(&self, command: &Command, now: Instant) -> Option<(Instant, Duration)> {
        let limit = command.timeout().or(self.command_timeout)?;
        Some((now.checked_add(limit)?, limit))
    }

    /// Queues a command for the next connection, or ends it if the queue is full.
    fn enqueue(&mut self, command: Command, replies: QueueWriter, policy: BufferPolicy) {
        if self.waiting.len() >= self.policy.queue_capacity {
            let full: Item = Err(Error::QueueFull {
                capacity: self.policy.queue_capacity,
            });
            end_with(&replies, full);
            return;
        }
        let deadline = self.deadline_of(&command, self.runtime.now());
        self.waiting.push_back(Waiting {
            user_tag: command.tag(),
            command,
            replies,
            policy,
            deadline,
            gap: None,
        });
    }

    /// Ends waiting commands past their deadline and forgets those whose
    /// stream is gone; returns the next deadline.
    fn expire(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        self.waiting.retain(|waiting| {
            if waiting.replies.reader_gone() {
                return false;
            }
            match waiting.deadline {
                Some((at, after)) if at <= now => {
                    let timeout: Item = Err(Error::Timeout {
                        what: crate::TimeoutKind::Command,
                        after,
                        address: None,
                    });
                    end_with(&waiting.replies, timeout);
                    false
                }
                Some((at, _)) => {
                    next = Some(next.map_or(at, |n| n.min(at)));
                    true
                }
                None => true,
            }
        });
        next
    }

    /// Sends every waiting command on the new connection, in order.
    fn flush(&mut self, current: &ConnectionHandle) {
        let now = self.runtime.now();
        let gap = now.saturating_duration_since(self.lost_at);
        while let Some(mut waiting) = self.waiting.pop_front() {
            if waiting.replies.reader_gone() {
                continue;
            }
            if let Some(cause) = waiting.gap.take() {
                let marker: Item = Err(Error::Resumed { gap, cause });
                if !waiting.replies.push_marker(marker) {
                    continue;
                }
            }
            let mut command = waiting.command;
            if let Some((at, _)) = waiting.deadline {
                command = command.with_timeout(at.saturating_duration_since(now));
            }
            let sent_as = command.tag();
            if sent_as != waiting.user_tag {
                self.by_user.insert(waiting.user_tag, sent_as);
                self.by_current.insert(sent_as, waiting.user_tag);
            }
            let send = Request::Send {
                command,
                replies: waiting.replies,
                policy: waiting.policy,
            };
            if let Err(Request::Send {
                command,
                replies,
                policy,
            }) = current.forward(send)
            {
                // Lost again at once: it waits for the one after.
                self.waiting.push_front(Waiting {
                    command,
                    replies,
                    policy,
                    gap: None,
                    ..waiting
                });
                return;
            }
        }
    }

    /// Backs off and tries every address not yet refused, until one logs in.
    async fn reconnect(&mut self, cause: Error) -> Result<ConnectionHandle, Stop> {
        let mut last_error = cause;
        let mut refusal = None;
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let delay = self.policy.delay(self.level, random());
            let now = self.runtime.now();
            let starts = now
                .saturating_duration_since(self.lost_at)
                .saturating_add(delay);
            if !self.policy.allows(attempt, starts) {
                return Err(Stop::Final(Error::GaveUp {
                    attempts: attempt - 1,
                    last: Arc::new(last_error),
                }));
            }
            self.level = self.level.saturating_add(1);
            trace::reconnect_attempt(&self.span, attempt, delay, &last_error);
            self.link.state.set(ConnectionState::Reconnecting {
                attempt,
                last_error: last_error.clone(),
                next_attempt_in: delay,
            });
            self.wait(now.checked_add(delay), std::future::pending::<()>())
                .await?;
            self.link.state.set(ConnectionState::Reconnecting {
                attempt,
                last_error: last_error.clone(),
                next_attempt_in: Duration::ZERO,
            });
            for at in 0..self.connectors.len() {
                if self.refused[at] {
                    continue;
                }
                let connecting = (self.connectors[at])(self.orphanage.handback());
                match self.wait(None, connecting).await? {
                    Some(Ok(handle)) => return Ok(handle),
                    Some(Err(error)) => {
                        if matches!(error, Error::Authentication { .. }) {
                            // Never again: a refused login is not retried.
                            self.refused[at] = true;
                            refusal = Some(error.clone());
                        }
                        last_error = error;
                    }
                    None => {}
                }
            }
            if self.refused.iter().all(|r| *r)
                && let Some(refusal) = refusal.take()
            {
                return Err(Stop::Final(refusal));
            }
        }
    }

    /// Waits for `work` (`Some`) or until `until` (`None`), whichever is
    /// first, while queueing requests and ending those whose wait is over.
    async fn wait<T>(
        &mut self,
        until: Option<Instant>,
        work: impl Future<Output = T>,
    ) -> Result<Option<T>, Stop> {
        let mut work = pin!(work);
        let mut backoff = until.map(|at| self.runtime.timer(at));
        let mut expiry: Option<Pin<Box<dyn Timer>>> = None;
        std::future::poll_fn(|cx| {
            for _ in 0..REQUESTS_PER_POLL {
                match self.requests.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Request::Send {
                        command,
                        replies,
                        policy,
                    })) => self.enqueue(command, replies, policy),
                    Poll::Ready(Some(Request::Cancel { tag })) => {
                        // Dropping it ends its queue; its reader is gone anyway.
                        self.waiting.retain(|w| w.user_tag != tag);
                    }
                    Poll::Ready(None) => return Poll::Ready(Err(Stop::AllGone)),
                    Poll::Pending => break,
                }
            }
            // A timer fires when the clock has passed it, so this ends.
            while let Some(next) = self.expire(self.runtime.now()) {
                let timer = expiry.get_or_insert_with(|| self.runtime.timer(next));
                timer.as_mut().reset(next);
                if timer.as_mut().poll_expired(cx).is_pending() {
                    break;
                }
            }
            if let Poll::Ready(value) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(Some(value)));
            }
            if let Some(timer) = &mut backoff
                && timer.as_mut().poll_expired(cx).is_ready()
            {
                return Poll::Ready(Ok(None));
            }
            Poll::Pending
        })
        .await
    }

    /// The end: the final state, and every waiting or queued command ends with its error.
    fn stop(mut self, stop: Stop) {
        let error = match stop {
            Stop::AllGone => Error::Closed,
            Stop::Final(error) => error,
        };
        self.link.state.set(ConnectionState::Closed {
            error: error.clone(),
        });
        *self.link.current() = None;
        self.requests.close();
        for waiting in self.waiting.drain(..) {
            end_with(&waiting.replies, Err(error.clone()));
        }
        while let Ok(request) = self.requests.try_recv() {
            if let Request::Send { replies, .. } = request {
                end_with(&replies, Err(error.clone()));
            }
        }
    }
}

fn end_with(replies: &QueueWriter, item: Item) {
    let mut wakes = Vec::new();
    replies.end_with(item, &mut wakes);
    wakes.into_iter().for_each(Waker::wake);
}

/// 64 random bits for the jitter.
fn random() -> u64 {
    Uuid::new_v4().as_u64_pair().0
}
