//! `ConnectionHandle`: the low-level handle to one connection actor.
//!
//! As hyper's `SendRequest` is to its `Connection`: it sends commands to the
//! actor and reads what the actor publishes, and nothing else. The device
//! layer wraps it (`MikrotikDevice`); a supervisor above the actor can swap
//! one handle for another without the actor knowing.

use std::fmt;
use std::sync::Arc;

use async_channel::Sender;

use super::{BufferPolicy, Request, ResponseStream, Shared, reply_queue};
use crate::Error;
use crate::observe::Stats;
use crate::observe::trace::ConnectionSpan;
use crate::protocol::command::Command;

/// Sends commands over one connection. Cloning is cheap; the connection
/// closes when every clone and every [`ResponseStream`] is dropped.
#[derive(Clone)]
pub struct ConnectionHandle {
    requests: Sender<Request>,
    shared: Arc<Shared>,
    /// The policy of commands sent without one of their own.
    buffer: BufferPolicy,
}

impl fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("in_flight", &self.in_flight())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl ConnectionHandle {
    pub(crate) fn new(
        requests: Sender<Request>,
        shared: Arc<Shared>,
        buffer: BufferPolicy,
    ) -> Self {
        Self {
            requests,
            shared,
            buffer,
        }
    }

    /// The buffer policy of commands sent without one of their own.
    pub fn default_buffer(&self) -> BufferPolicy {
        self.buffer
    }

    /// Sends `command` and returns the stream of its replies; never waits.
    ///
    /// The command's tag is registered before its bytes are written, so no
    /// reply can arrive too early. Fails at once if the connection has ended,
    /// and with [`Error::InvalidCommand`] (nothing written, the connection
    /// unharmed) if the command's builder was misused ([`Command::invalid`]).
    pub fn send(&self, command: Command, policy: BufferPolicy) -> Result<ResponseStream, Error> {
        refuse_misbuilt(&command)?;
        submit(&self.requests, command, policy).ok_or_else(|| self.gone())
    }

    /// Asks the actor to finish for every clone: it takes the requests
    /// already sent, ends every command still running with
    /// [`Error::Closed`] (and cancels it on the router), writes `/quit` and
    /// closes the connection. Later sends fail with [`Error::Closed`].
    pub fn close(&self) {
        self.requests.close();
    }

    /// [`close`](Self::close) without the linger: for a connection whose
    /// login was abandoned, which has no session to end cleanly.
    pub(crate) fn close_at_once(&self) {
        self.shared.set_close_at_once();
        self.requests.close();
    }

    /// Completes when the connection has ended (at once if it has): for a
    /// supervisor that must notice the end without sending anything.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.shared.ended()
    }

    /// What the actor publishes, for a watcher that must not keep the
    /// connection open.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Passes a request (a command with its stream's queue, or a cancel)
    /// to the actor as it is; gives it back if the connection has ended.
    pub(crate) fn forward(&self, request: Request) -> Result<(), Request> {
        self.requests.try_send(request).map_err(|e| e.into_inner())
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.shared.failure().is_some() || self.requests.is_closed()
    }

    /// Why the connection ended, once it has.
    pub fn closed_reason(&self) -> Option<Error> {
        self.shared.failure().cloned()
    }

    /// The error for a request the connection can no longer take. The actor
    /// records its reason before it closes the request channel, so the
    /// fallback is for a channel closed without one, which only this side
    /// can do.
    pub(crate) fn gone(&self) -> Error {
        self.closed_reason().unwrap_or(Error::Closed)
    }

    /// Commands in flight, including internal ones (`/cancel`, keepalive
    /// probes) until the router finishes them.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight()
    }

    /// Cancelled (or internal) commands the router never finished within
    /// [`ConnectionOptions::cancel_patience`](super::ConnectionOptions::cancel_patience):
    /// their routes were given up on, so that [`in_flight`](Self::in_flight)
    /// returns to 0 even when a `/cancel` goes unanswered.
    pub fn abandoned(&self) -> u64 {
        self.shared.abandoned()
    }

    /// What the connection has done so far: bytes and sentences each way,
    /// how its commands ended, the last error. Relaxed atomic loads only.
    pub fn snapshot(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// The connection's span, the parent of events about it from above
    /// (a login).
    pub(crate) fn span(&self) -> &ConnectionSpan {
        &self.shared.span
    }

    /// The counters this connection adds to.
    pub(crate) fn counters(&self) -> &crate::observe::Counters {
        &self.shared.counters
    }
}

/// Refuses a command whose builder was misused ([`Command::invalid`]):
/// nothing of it is ever written.
pub(crate) fn refuse_misbuilt(command: &Command) -> Result<(), Error> {
    match command.invalid() {
        // Names the command, so that "attribute key is empty" says where.
        Some(reason) => Err(Error::InvalidCommand {
            reason: match command.words().first() {
                Some(path) if !reason.starts_with("word 1:") => {
                    format!("{}: {reason}", String::from_utf8_lossy(path))
                }
                _ => reason.to_owned(),
            },
        }),
        None => Ok(()),
    }
}

/// Sends `command` with a new reply queue to whoever takes `requests` (an
/// actor, or a supervisor that forwards to one); the stream cancels through
/// the same channel. `None` when the channel is closed.
pub(crate) fn submit(
    requests: &Sender<Request>,
    command: Command,
    policy: BufferPolicy,
) -> Option<ResponseStream> {
    let tag = command.tag();
    let (replies, receiver) = reply_queue();
    let request = Request::Send {
        command,
        replies,
        policy,
        origin: super::request::Origin::Direct,
    };
    requests
        .try_send(request)
        .ok()
        .map(|()| ResponseStream::new(tag, receiver, requests.clone()))
}
