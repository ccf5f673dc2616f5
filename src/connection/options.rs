//! Knobs of one connection.

use std::time::Duration;

use crate::protocol::DecoderLimits;

/// What happens when a command's replies arrive faster than its stream is read.
///
/// Every command has its own buffer, so a slow reader never delays another
/// command. The policy decides what a full buffer means for its own command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BufferPolicy {
    /// Keep up to this many unread replies while the reader is stuck. When this
    /// many wait and the reader has taken none for a second — or, however busy
    /// it is, it falls 8 times this far behind — the next reply ends the
    /// command with [`Error::Overflow`](crate::Error::Overflow) as its last
    /// item and cancels it on the router. Nothing is dropped silently, and a
    /// reader that is only briefly descheduled never loses its command.
    Bounded(usize),
    /// Keep the newest this many replies, dropping the oldest: for monitors
    /// where only the latest reading matters.
    KeepLatest(usize),
    /// No bound. Memory grows as long as the reader lags.
    Unbounded,
}

impl Default for BufferPolicy {
    fn default() -> Self {
        Self::Bounded(8192)
    }
}

/// The application keepalive: a cheap command sent when the connection is
/// idle, which detects a peer that vanished without closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time after which a probe (`/system/identity/print`) is sent.
    pub interval: Duration,
    /// How long to wait for any bytes after the probe before failing the connection.
    pub timeout: Duration,
}

/// Options of one connection; the device builder fills them in.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// Bounds on words and sentences from the router.
    pub limits: DecoderLimits,
    /// The buffer policy of commands that do not choose their own.
    pub buffer: BufferPolicy,
    /// The deadline of commands that do not set their own (`None`: no deadline).
    pub command_timeout: Option<Duration>,
    /// The application keepalive (`None`: off).
    pub keepalive: Option<Keepalive>,
}
