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
//!
//! It is one state machine (`Phase`); `Supervisor::enter` is the only
//! place a transition happens, and so the only place the published
//! [`ConnectionState`] is written (each transition reported once):
//!
//! ```text
//!              loss (orphans taken back)
//!   Connected ──────────────────────────────> Backoff { attempt: 1 }
//!       ^                                        │ timer
//!       │ logged in                              v
//!       └─────────────────────────────────── Connecting { attempt }
//!                                                │ every address failed
//!                      Backoff { attempt + 1 } <─┘
//!
//!   any phase ──> Closed { error }   (final)
//!     every handle and stream dropped: Error::Closed
//!     the policy allows no more attempts: Error::GaveUp
//!     every address refused the login: Error::Authentication
//!     the supervisor itself dropped (runtime shut down): Error::Closed
//! ```
//!
//! Entering `Closed` ends every command the supervisor holds with the error,
//! and its `Drop` enters `Closed` if the task is dropped before, so a
//! watcher or a stream never waits on a supervisor that is gone.

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
    BufferPolicy, ConnectionHandle, Handback, Item, Origin, Orphan, QueueWriter, Request,
    ResponseStream, refuse_misbuilt, submit,
};
use crate::observe::Outcome;
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
    /// For the pauses of work retried above it (a resync's snapshot).
    runtime: Arc<dyn Runtime>,
    policy: ReconnectPolicy,
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

    /// Waits as the policy waits before attempt `level + 1` of a
    /// reconnect: the pause of work above the device that is retried (a
    /// resync's snapshot) while the device goes on.
    pub(crate) fn pause(&self, level: u32) -> impl Future<Output = ()> + Send + 'static {
        let delay = self.policy.delay(level, random());
        let now = self.runtime.now();
        let mut timer = now.checked_add(delay).map(|at| self.runtime.timer(at));
        std::future::poll_fn(move |cx| match &mut timer {
            Some(timer) => timer.as_mut().poll_expired(cx),
            None => Poll::Pending,
        })
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
            handback: Handback::new(sender),
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
    /// Addresses that refused the first login: not tried (same length) but
    /// as `retry_refused_logins` allows.
    pub(crate) refused: Vec<bool>,
    /// The builder's command timeout, which also bounds a command's wait.
    pub(crate) command_timeout: Option<Duration>,
    pub(crate) buffer: BufferPolicy,
    /// Shared by every connection of the router: snapshots span reconnects.
    pub(crate) counters: Arc<crate::observe::Counters>,
    /// The span of the router's reconnecting (`ConnectionSpan::reconnecting`).
    pub(crate) span: ConnectionSpan,
}

/// Spawns the supervisor of `first` (made with `orphanage.handback()`), or,
/// if the first connect failed (`retry_first_connect`), of no connection
/// yet: it starts in the backoff before its first attempt.
pub(crate) fn spawn(
    plan: Plan,
    orphanage: Orphanage,
    first: Result<ConnectionHandle, Error>,
) -> Supervised {
    let (requests, incoming) = async_channel::unbounded();
    let now = plan.runtime.now();
    let (phase, level) = match first {
        Ok(handle) => (Phase::Connected { since: now, handle }, 0),
        Err(last_error) => {
            let delay = plan.policy.delay(0, random());
            let backoff = Phase::Backoff {
                attempt: 1,
                until: now.checked_add(delay),
                delay,
                last_error,
            };
            (backoff, 1)
        }
    };
    let current = match &phase {
        Phase::Connected { handle, .. } => Some(handle.clone()),
        _ => None,
    };
    // The first state is the phase it starts in, published once.
    let link = Arc::new(Link {
        state: Arc::new(StateCell::new(phase.published())),
        current: Mutex::new(current),
    });
    let supervisor = Supervisor {
        runtime: Arc::clone(&plan.runtime),
        refused: plan
            .refused
            .iter()
            .map(|refused| refused.then_some(now))
            .collect(),
        connectors: plan.connectors,
        policy: plan.policy.clone(),
        command_timeout: plan.command_timeout,
        requests: Box::pin(incoming),
        orphanage,
        link: Arc::clone(&link),
        counters: Arc::clone(&plan.counters),
        phase,
        waiting: VecDeque::new(),
        by_user: HashMap::new(),
        by_current: HashMap::new(),
        level,
        lost_at: now,
        span: plan.span,
    };
    plan.runtime.spawn(Box::pin(supervisor.run()));
    Supervised {
        requests,
        link,
        buffer: plan.buffer,
        counters: plan.counters,
        runtime: plan.runtime,
        policy: plan.policy,
    }
}

/// The supervisor's state. [`Supervisor::enter`] is the only place it
/// changes, and the only place the published [`ConnectionState`] and the
/// device's view of the current connection are written.
enum Phase {
    /// Logged in on `handle` since `since`: requests are forwarded to it.
    Connected {
        handle: ConnectionHandle,
        since: Instant,
    },
    /// Waiting `delay` (until `until`; `None`: too far to represent) before
    /// attempt number `attempt` of this outage.
    Backoff {
        attempt: u32,
        until: Option<Instant>,
        delay: Duration,
        last_error: Error,
    },
    /// Attempt number `attempt`: every address not refused, in order.
    Connecting { attempt: u32, last_error: Error },
    /// Final: every command it held ended with `error`.
    Closed { error: Error },
}

impl Phase {
    /// What the device's handles see of this phase.
    fn published(&self) -> ConnectionState {
        match self {
            Phase::Connected { .. } => ConnectionState::Connected,
            Phase::Backoff {
                attempt,
                delay,
                last_error,
                ..
            } => ConnectionState::Reconnecting {
                attempt: *attempt,
                last_error: last_error.clone(),
                next_attempt_in: *delay,
            },
            Phase::Connecting {
                attempt,
                last_error,
            } => ConnectionState::Reconnecting {
                attempt: *attempt,
                last_error: last_error.clone(),
                next_attempt_in: Duration::ZERO,
            },
            Phase::Closed { error } => ConnectionState::Closed {
                error: error.clone(),
            },
        }
    }
}

/// Why the supervisor stops while waiting for something else.
enum Stop {
    /// Every handle and stream was dropped.
    AllGone,
}

impl Stop {
    fn into_phase(self) -> Phase {
        match self {
            Stop::AllGone => Phase::Closed {
                error: Error::Closed,
            },
        }
    }
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
    /// Already counted as started (it ran on an earlier connection): its
    /// end here must be counted, its next send must not count a start.
    counted: bool,
}

struct Supervisor {
    runtime: Arc<dyn Runtime>,
    policy: ReconnectPolicy,
    connectors: Vec<Connector>,
    /// Addresses that refused a login, and when: never tried again, or
    /// (`retry_refused_logins`) once its slow interval has passed since.
    refused: Vec<Option<Instant>>,
    command_timeout: Option<Duration>,
    requests: Pin<Box<Receiver<Request>>>,
    orphanage: Orphanage,
    link: Arc<Link>,
    counters: Arc<crate::observe::Counters>,
    phase: Phase,
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
    /// Runs the state machine until [`Phase::Closed`]: each arm does the
    /// work of one phase and returns the next, which `enter` makes current.
    async fn run(mut self) {
        loop {
            let next = match &self.phase {
                Phase::Connected { handle, since } => {
                    let (handle, since) = (handle.clone(), *since);
                    match self.serve(&handle).await {
                        Ok(cause) => {
                            drop(handle);
                            self.lost(cause, since)
                        }
                        Err(stop) => stop.into_phase(),
                    }
                }
                Phase::Backoff {
                    attempt,
                    until,
                    last_error,
                    ..
                } => {
                    let (attempt, until, last_error) = (*attempt, *until, last_error.clone());
                    match self.wait(until, std::future::pending::<()>()).await {
                        Ok(_) => Phase::Connecting {
                            attempt,
                            last_error,
                        },
                        Err(stop) => stop.into_phase(),
                    }
                }
                Phase::Connecting {
                    attempt,
                    last_error,
                } => {
                    let (attempt, last_error) = (*attempt, last_error.clone());
                    self.attempt(attempt, last_error).await
                }
                Phase::Closed { .. } => return,
            };
            self.enter(next);
        }
    }

    /// The one transition: makes `next` the phase, publishes it, and does
    /// what entering it means (forward the waiting commands on a new
    /// connection; end every command held when closed). `Closed` is final.
    fn enter(&mut self, next: Phase) {
        if matches!(self.phase, Phase::Closed { .. }) {
            return;
        }
        self.phase = next;
        *self.link.current() = match &self.phase {
            Phase::Connected { handle, .. } => Some(handle.clone()),
            _ => None,
        };
        if let Phase::Backoff {
            attempt,
            delay,
            last_error,
            ..
        } = &self.phase
        {
            trace::reconnect_attempt(&self.span, *attempt, *delay, last_error);
        }
        self.link.state.set(self.phase.published());
        match &self.phase {
            Phase::Connected { handle, .. } => {
                let handle = handle.clone();
                self.flush(&handle);
            }
            Phase::Closed { error } => {
                let error = error.clone();
                self.end_everything(&error);
            }
            Phase::Backoff { .. } | Phase::Connecting { .. } => {}
        }
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
                    Poll::Ready(Some(Request::Send {
                        command,
                        replies,
                        policy,
                        ..
                    })) => {
                        // Sent under its own tag: a resumed command that
                        // had that user tag has ended (tags are unique
                        // among running commands), so its cancels no
                        // longer go to the fresh tag it was resumed under.
                        self.by_user.remove(&command.tag());
                        let send = Request::Send {
                            command,
                            replies,
                            policy,
                            origin: Origin::Forwarded,
                        };
                        // Gone already: the command waits for the next one.
                        if let Err(Request::Send {
                            command,
                            replies,
                            policy,
                            ..
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

    /// Connected → the connection ended with `cause`: takes back its orphans
    /// and schedules the first attempt.
    fn lost(&mut self, cause: Error, since: Instant) -> Phase {
        self.lost_at = self.runtime.now();
        if self.lost_at.saturating_duration_since(since) >= self.policy.reset_after {
            self.level = 0;
        }
        self.take_orphans(&cause);
        self.schedule(1, cause)
    }

    /// The backoff before attempt number `attempt`, or the end if the
    /// policy allows no more.
    fn schedule(&mut self, attempt: u32, last_error: Error) -> Phase {
        let delay = self.policy.delay(self.level, random());
        let now = self.runtime.now();
        let starts = now
            .saturating_duration_since(self.lost_at)
            .saturating_add(delay);
        if !self.policy.allows(attempt, starts) {
            return Phase::Closed {
                error: Error::GaveUp {
                    attempts: attempt - 1,
                    last: Arc::new(last_error),
                },
            };
        }
        self.level = self.level.saturating_add(1);
        Phase::Backoff {
            attempt,
            until: now.checked_add(delay),
            delay,
            last_error,
        }
    }

    /// One attempt: every address not refused, in order, until one logs in.
    async fn attempt(&mut self, attempt: u32, mut last_error: Error) -> Phase {
        let mut refusal = None;
        for at in 0..self.connectors.len() {
            if !self.may_try(at) {
                continue;
            }
            let connecting = (self.connectors[at])(self.orphanage.handback());
            match self.wait(None, connecting).await {
                Err(stop) => return stop.into_phase(),
                Ok(Some(Ok(handle))) => {
                    return Phase::Connected {
                        handle,
                        since: self.runtime.now(),
                    };
                }
                Ok(Some(Err(error))) => {
                    if matches!(error, Error::Authentication { .. }) {
                        // Never again (or only at the slow rate): a
                        // refused login is not retried with the others.
                        self.refused[at] = Some(self.runtime.now());
                        refusal = Some(error.clone());
                    } else {
                        self.refused[at] = None;
                    }
                    last_error = error;
                }
                Ok(None) => {}
            }
        }
        if self.refused.iter().all(Option::is_some)
            && let Some(refusal) = refusal
        {
            let Some(every) = self.policy.refused_retry else {
                return Phase::Closed { error: refusal };
            };
            // Asked to keep trying: every address again, at the slow rate,
            // within the policy's limits as any other attempt.
            let now = self.runtime.now();
            let starts = now
                .saturating_duration_since(self.lost_at)
                .saturating_add(every);
            if !self.policy.allows(attempt.saturating_add(1), starts) {
                return Phase::Closed {
                    error: Error::GaveUp {
                        attempts: attempt,
                        last: Arc::new(refusal),
                    },
                };
            }
            self.refused.iter_mut().for_each(|r| *r = None);
            return Phase::Backoff {
                attempt: attempt.saturating_add(1),
                until: now.checked_add(every),
                delay: every,
                last_error: refusal,
            };
        }
        self.schedule(attempt.saturating_add(1), last_error)
    }

    /// Whether address `at` is tried in this attempt: it never refused a
    /// login, or it did and the policy retries refused logins and its slow
    /// interval has passed (another address being down must not keep it
    /// from its retries).
    fn may_try(&self, at: usize) -> bool {
        let Some(refused_at) = self.refused[at] else {
            return true;
        };
        self.policy
            .refused_retry
            .is_some_and(|every| self.runtime.now().saturating_duration_since(refused_at) >= every)
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
                counted: orphan.counted,
            });
        }
        for waiting in orphans.into_iter().rev() {
            self.waiting.push_front(waiting);
        }
    }

    /// How long a command may wait for a connection: its own timeout, or
    /// the builder's, which never applies to a streaming command (see
    /// `ConnectionOptions::command_timeout`).
    fn deadline_of(&self, command: &Command, now: Instant) -> Option<(Instant, Duration)> {
        let builders = self.command_timeout.filter(|_| !command.is_resumable());
        let limit = command.timeout().or(builders)?;
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
            counted: false,
        });
    }

    /// Counts the end of a waiting command that an earlier connection
    /// counted as started, so `commands_in_flight` stays the truth.
    fn count_end(&self, waiting: &Waiting, outcome: Outcome) {
        if waiting.counted {
            self.counters.command_ended(outcome);
        }
    }

    /// Ends waiting commands past their deadline and forgets those whose
    /// stream is gone; returns the next deadline.
    fn expire(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let counters = &self.counters;
        self.waiting.retain(|waiting| {
            if waiting.replies.reader_gone() {
                if waiting.counted {
                    counters.command_ended(Outcome::Cancelled);
                }
                return false;
            }
            match waiting.deadline {
                Some((at, after)) if at <= now => {
                    let timeout: Item = Err(Error::Timeout {
                        what: crate::TimeoutKind::Command,
                        after,
                        address: None,
                        stage: Some(crate::Stage::Queued),
                    });
                    if waiting.counted {
                        counters.command_ended(Outcome::TimedOut);
                    }
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
                self.count_end(&waiting, Outcome::Cancelled);
                continue;
            }
            if let Some(cause) = waiting.gap.take() {
                let marker: Item = Err(Error::Resumed { gap, cause });
                if !waiting.replies.push_marker(marker) {
                    self.count_end(&waiting, Outcome::Cancelled);
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
                origin: if waiting.counted {
                    Origin::Resumed
                } else {
                    Origin::Forwarded
                },
            };
            if let Err(Request::Send {
                command,
                replies,
                policy,
                ..
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
                        ..
                    })) => self.enqueue(command, replies, policy),
                    Poll::Ready(Some(Request::Cancel { tag })) => {
                        // Dropping it ends its queue; its reader is gone anyway.
                        // Only the stream that left: another command of the
                        // same tag (a duplicate refused later) still waits.
                        let counters = &self.counters;
                        self.waiting.retain(|w| {
                            let keep = w.user_tag != tag || !w.replies.reader_gone();
                            if !keep && w.counted {
                                counters.command_ended(Outcome::Cancelled);
                            }
                            keep
                        });
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

    /// Entering `Closed`: no more requests, and every command held (waiting
    /// here, handed back, or still in the request channel) ends with `error`.
    fn end_everything(&mut self, error: &Error) {
        self.requests.close();
        // Handed back and not taken yet (the supervisor closed, or its task
        // was dropped, before it saw the loss): dropped with the channel,
        // their streams would end quietly, as if the router had finished
        // them. Closed first, so a connection ending later ends its own.
        self.orphanage.orphans.close();
        while let Ok(orphan) = self.orphanage.orphans.try_recv() {
            if orphan.counted {
                self.counters.command_ended(Outcome::ConnectionLost);
            }
            end_with(&orphan.replies, Err(error.clone()));
        }
        for waiting in std::mem::take(&mut self.waiting) {
            self.count_end(&waiting, Outcome::ConnectionLost);
            end_with(&waiting.replies, Err(error.clone()));
        }
        while let Ok(request) = self.requests.try_recv() {
            if let Request::Send { replies, .. } = request {
                end_with(&replies, Err(error.clone()));
            }
        }
    }
}

/// Whatever ends the supervisor's task (its runtime shut down, a panic under
/// the executor) ends it as `Closed`: the state is published and every
/// command it holds ends with a typed error, so no watcher or stream hangs.
impl Drop for Supervisor {
    fn drop(&mut self) {
        self.enter(Phase::Closed {
            error: Error::Closed,
        });
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
