//! Without the `tracing` feature: the same interface as `on.rs`, empty, so
//! every call compiles away.

#![allow(
    clippy::unused_self,
    reason = "the same signatures as the tracing build"
)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::super::Outcome;
use crate::Error;
use crate::protocol::CommandResponse;
use crate::protocol::command::Command;

/// The span of one connection (nothing without `tracing`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionSpan;

impl ConnectionSpan {
    pub(crate) fn new(_address: &str, _tls: bool) -> Self {
        Self
    }

    /// Nothing to enter: a guard that does nothing.
    pub(crate) fn enter(&self) -> Entered {
        Entered
    }

    pub(crate) fn reconnecting(_address: &str) -> Self {
        Self
    }

    /// No subscriber can see it: never worth asking the router's identity.
    pub(crate) fn is_recorded(&self) -> bool {
        false
    }

    pub(crate) fn identity(&self, _name: &str) {}
}

/// The guard of an entered [`ConnectionSpan`].
#[derive(Debug)]
pub(crate) struct Entered;

/// The span of one command (nothing without `tracing`).
#[derive(Debug)]
pub(crate) struct CommandTrace;

impl CommandTrace {
    pub(crate) fn start(
        _connection: &ConnectionSpan,
        _command: &Command,
        _policy: impl Debug,
        _now: Instant,
    ) -> Self {
        Self
    }

    pub(crate) fn reply(&mut self, _is_row: bool, _bytes: usize) {}

    pub(crate) fn overflow(&self, _tag: Uuid, _capacity: usize) {}

    pub(crate) fn end(self, _outcome: Outcome, _now: Instant) {}
}

/// A login in progress (nothing without `tracing`).
#[derive(Debug)]
pub(crate) struct LoginTrace;

impl LoginTrace {
    pub(crate) fn start(_connection: &ConnectionSpan) -> Self {
        Self
    }

    pub(crate) fn legacy(&mut self) {}

    pub(crate) fn finish(self, _result: &Result<(), Error>) {}
}

pub(crate) fn sentence_read(
    _tag: Option<Uuid>,
    _reply: &Result<CommandResponse, Error>,
    _bytes: usize,
) {
}

pub(crate) fn sentence_written(_bytes: usize) {}

pub(crate) fn cancel_sent(_tag: Uuid) {}

pub(crate) fn command_withdrawn(_tag: Uuid) {}

pub(crate) fn keepalive_probe() {}

pub(crate) fn keepalive_failed(_connection: &ConnectionSpan, _error: &Error) {}

pub(crate) fn fatal(_connection: &ConnectionSpan, _reason: &str, _requested: bool) {}

pub(crate) fn connection_ended(_connection: &ConnectionSpan, _error: &Error) {}

pub(crate) fn reconnect_attempt(
    _supervisor: &ConnectionSpan,
    _attempt: u32,
    _delay: Duration,
    _error: &Error,
) {
}

pub(crate) fn fleet_job(_router: &str, _duration: Duration, _result: Result<(), &Error>) {}
