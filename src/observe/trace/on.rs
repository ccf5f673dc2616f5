//! With the `tracing` feature: the spans and events themselves.
//!
//! Levels as in hyper and quinn: `debug` for connections, commands and
//! their events, `trace` for each sentence, `warn` for what an operator
//! should look at (overflows, keepalive failures, `!fatal`, a failed login,
//! reconnect attempts). Every `warn` event carries the router's `address`
//! itself: a subscriber filtering at `warn` never records the `debug`
//! connection span that holds it.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{Span, field};
use uuid::Uuid;

use super::super::Outcome;
use crate::Error;
use crate::protocol::CommandResponse;
use crate::protocol::command::Command;

const TARGET: &str = "mikrotik_rs";

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// The span of one connection: the parent of its commands and events.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSpan {
    span: Span,
    /// For the `warn` events, which name the router whatever the span's level.
    address: Option<Arc<str>>,
}

impl Default for ConnectionSpan {
    /// A connection made with `connection::new`: no address known.
    fn default() -> Self {
        Self {
            span: tracing::debug_span!(target: TARGET, "connection", identity = field::Empty),
            address: None,
        }
    }
}

impl ConnectionSpan {
    pub(crate) fn new(address: &str, tls: bool) -> Self {
        Self {
            span: tracing::debug_span!(
                target: TARGET,
                "connection",
                address,
                tls,
                identity = field::Empty
            ),
            address: Some(Arc::from(address)),
        }
    }

    /// The span of a reconnecting device's supervisor, for as long as it
    /// lives: its reconnect attempts are events under it.
    pub(crate) fn reconnecting(address: &str) -> Self {
        Self {
            span: tracing::debug_span!(target: TARGET, "reconnecting", address),
            address: Some(Arc::from(address)),
        }
    }

    /// The address for an event's field (none for `connection::new`).
    fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// Whether a subscriber records this span, so that asking the router
    /// for its identity is worth a command.
    pub(crate) fn is_recorded(&self) -> bool {
        !self.span.is_disabled()
    }

    /// The router's `/system/identity` name, once known.
    pub(crate) fn identity(&self, name: &str) {
        self.span.record("identity", name);
    }

    /// Entered for each poll of the actor, so what it does is inside.
    #[inline]
    pub(crate) fn enter(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }
}

/// The span of one command, and what it closes with.
#[derive(Debug)]
pub(crate) struct CommandTrace {
    span: Span,
    /// The connection's address, for the `warn` event of an overflow.
    address: Option<Arc<str>>,
    started: Instant,
    rows: u64,
    bytes: u64,
}

impl CommandTrace {
    pub(crate) fn start(
        connection: &ConnectionSpan,
        command: &Command,
        policy: impl Debug,
        now: Instant,
    ) -> Self {
        let span = tracing::debug_span!(
            target: TARGET,
            "command",
            path = %command.path(),
            tag = %command.tag(),
            buffer = ?policy,
            rows = field::Empty,
            bytes = field::Empty,
            duration_us = field::Empty,
            outcome = field::Empty,
        );
        Self {
            span,
            address: connection.address.clone(),
            started: now,
            rows: 0,
            bytes: 0,
        }
    }

    /// A reply delivered to the command's stream.
    #[inline]
    pub(crate) fn reply(&mut self, is_row: bool, bytes: usize) {
        self.rows += u64::from(is_row);
        self.bytes += bytes as u64;
    }

    pub(crate) fn overflow(&self, tag: Uuid, capacity: usize) {
        tracing::warn!(
            name: "mikrotik.overflow",
            target: TARGET,
            parent: &self.span,
            address = self.address.as_deref(),
            %tag,
            capacity,
            "the reader fell behind its bounded buffer: command ended and cancelled"
        );
    }

    pub(crate) fn end(self, outcome: Outcome, now: Instant) {
        if self.span.is_disabled() {
            return;
        }
        let duration_us = micros(now.saturating_duration_since(self.started));
        let outcome = outcome.as_str();
        self.span.record("rows", self.rows);
        self.span.record("bytes", self.bytes);
        self.span.record("duration_us", duration_us);
        self.span.record("outcome", outcome);
        tracing::debug!(
            name: "mikrotik.command.end",
            target: TARGET,
            parent: &self.span,
            rows = self.rows,
            bytes = self.bytes,
            duration_us,
            outcome,
            "command ended"
        );
    }
}

/// A login in progress; one event when it ends (or is given up on).
#[derive(Debug)]
pub(crate) struct LoginTrace {
    parent: Span,
    address: Option<Arc<str>>,
    started: Instant,
    method: &'static str,
    reported: bool,
}

impl LoginTrace {
    pub(crate) fn start(connection: &ConnectionSpan) -> Self {
        Self {
            parent: connection.span.clone(),
            address: connection.address.clone(),
            started: Instant::now(),
            method: "login",
            reported: false,
        }
    }

    /// The router answered with a challenge: the pre-6.43 MD5 method.
    pub(crate) fn legacy(&mut self) {
        self.method = "legacy md5 challenge";
    }

    pub(crate) fn finish(mut self, result: &Result<(), Error>) {
        self.reported = true;
        let duration_us = micros(self.started.elapsed());
        match result {
            Ok(()) => tracing::debug!(
                name: "mikrotik.login",
                target: TARGET,
                parent: &self.parent,
                method = self.method,
                duration_us,
                outcome = "ok",
                "logged in"
            ),
            Err(error) => tracing::warn!(
                name: "mikrotik.login",
                target: TARGET,
                parent: &self.parent,
                address = self.address.as_deref(),
                method = self.method,
                duration_us,
                outcome = "failed",
                %error,
                "login failed"
            ),
        }
    }
}

impl Drop for LoginTrace {
    fn drop(&mut self) {
        if !self.reported {
            // The caller stopped waiting (the login deadline, a dropped future).
            tracing::warn!(
                name: "mikrotik.login",
                target: TARGET,
                parent: &self.parent,
                address = self.address.as_deref(),
                method = self.method,
                duration_us = micros(self.started.elapsed()),
                outcome = "abandoned",
                "login given up before the router answered"
            );
        }
    }
}

fn kind(reply: &Result<CommandResponse, Error>) -> &'static str {
    match reply {
        Ok(CommandResponse::Reply(_)) => "!re",
        Ok(CommandResponse::Done(_)) => "!done",
        Ok(CommandResponse::Trap(_)) => "!trap",
        Ok(CommandResponse::Empty(_)) => "!empty",
        Ok(CommandResponse::Fatal(_)) => "!fatal",
        Err(_) => "invalid",
    }
}

#[inline]
pub(crate) fn sentence_read(
    tag: Option<Uuid>,
    reply: &Result<CommandResponse, Error>,
    bytes: usize,
) {
    tracing::trace!(
        name: "mikrotik.sentence.read",
        target: TARGET,
        kind = kind(reply),
        tag = tag.map(field::display),
        bytes,
    );
}

#[inline]
pub(crate) fn sentence_written(bytes: usize) {
    tracing::trace!(name: "mikrotik.sentence.written", target: TARGET, bytes);
}

pub(crate) fn cancel_sent(tag: Uuid) {
    tracing::debug!(name: "mikrotik.cancel", target: TARGET, %tag, "/cancel sent");
}

/// A command ended before any byte of it was written: taken back, never sent.
pub(crate) fn command_withdrawn(tag: Uuid) {
    tracing::debug!(name: "mikrotik.withdrawn", target: TARGET, %tag, "cancelled before it was written: never sent");
}

pub(crate) fn keepalive_probe() {
    tracing::debug!(name: "mikrotik.keepalive.probe", target: TARGET, "idle: keepalive probe sent");
}

pub(crate) fn keepalive_failed(connection: &ConnectionSpan, error: &Error) {
    let address = connection.address();
    tracing::warn!(name: "mikrotik.keepalive.failed", target: TARGET, address, %error, "keepalive probe unanswered");
}

/// `requested`: the `!fatal` answers this side's `/quit` (an orderly close),
/// so it is no warning.
pub(crate) fn fatal(connection: &ConnectionSpan, reason: &str, requested: bool) {
    let address = connection.address();
    if requested {
        tracing::debug!(name: "mikrotik.fatal", target: TARGET, address, reason, "the router ended the session on request");
    } else {
        tracing::warn!(name: "mikrotik.fatal", target: TARGET, address, reason, "the router sent !fatal");
    }
}

pub(crate) fn connection_ended(connection: &ConnectionSpan, error: &Error) {
    let address = connection.address();
    if matches!(error, Error::Closed) {
        tracing::debug!(name: "mikrotik.connection.end", target: TARGET, address, %error, "connection closed");
    } else {
        tracing::warn!(name: "mikrotik.connection.end", target: TARGET, address, %error, "connection failed");
    }
}

/// For the reconnecting layer: before waiting `delay` for attempt `attempt`
/// (1 for the first reconnect) after `error`, under the supervisor's span.
pub(crate) fn reconnect_attempt(
    supervisor: &ConnectionSpan,
    attempt: u32,
    delay: Duration,
    error: &Error,
) {
    tracing::warn!(
        name: "mikrotik.reconnect",
        target: TARGET,
        parent: &supervisor.span,
        address = supervisor.address(),
        attempt,
        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        %error,
        "reconnecting"
    );
}

/// For the fleet layer: one router's job of a run ended.
pub(crate) fn fleet_job(router: &str, duration: Duration, result: Result<(), &Error>) {
    let duration_us = micros(duration);
    match result {
        Ok(()) => tracing::debug!(
            name: "mikrotik.fleet.job",
            target: TARGET,
            router,
            duration_us,
            outcome = "ok",
        ),
        Err(error) => tracing::warn!(
            name: "mikrotik.fleet.job",
            target: TARGET,
            router,
            duration_us,
            outcome = "failed",
            %error,
        ),
    }
}
