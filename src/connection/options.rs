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
    /// Keep up to this many unread replies — and up to the connection's
    /// [`max_unread_bytes`](ConnectionOptions::max_unread_bytes) of them —
    /// while the reader is stuck. When either bound is reached and the reader
    /// has taken nothing for a second, the next reply ends the command with
    /// [`Error::Overflow`](crate::Error::Overflow) as its last item and
    /// cancels it on the router. A reader that keeps taking can fall further
    /// behind, but never past 8 times either bound (and, for small bounds,
    /// 256 replies: a live reader takes replies in batches, so its normal lag
    /// must not count as an overflow): that is the most that ever waits for
    /// it, besides the batch it has taken and not read yet. `Bounded(0)` is
    /// `Bounded(1)`. Nothing is dropped silently, and a
    /// reader that is only briefly descheduled never loses its command.
    Bounded(usize),
    /// Keep the newest this many data rows (`!re`), dropping the oldest: for
    /// monitors where only the latest reading matters. Only rows are ever
    /// dropped: `!trap`, `!empty`, `!done` and errors always reach the
    /// reader, in order. `KeepLatest(0)` is `KeepLatest(1)`.
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
///
/// Made with [`new`](Self::new) (or the builder's
/// [`keepalive`](crate::DeviceBuilder::keepalive)); more knobs may be added
/// in later releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keepalive {
    /// Idle time after which a probe (`/system/identity/print`) is sent.
    pub interval: Duration,
    /// How long to wait for any bytes after the probe before failing the connection.
    pub timeout: Duration,
}

impl Keepalive {
    /// A probe after `interval` without incoming bytes; the connection fails
    /// when nothing arrives within `timeout` of the probe.
    pub const fn new(interval: Duration, timeout: Duration) -> Self {
        Self { interval, timeout }
    }
}

/// Options of one connection; the device builder fills them in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// Bounds on words and sentences from the router.
    pub limits: DecoderLimits,
    /// The buffer policy of commands that do not choose their own.
    pub buffer: BufferPolicy,
    /// The deadline of commands that do not set their own (`None`: no
    /// deadline). It never applies to a streaming command (`listen`,
    /// `monitor`, a `print` with `follow`, `follow-only` or `interval`:
    /// [`Command::is_resumable`](crate::protocol::command::Command::is_resumable)),
    /// which runs until cancelled; keepalive detects a dead peer under it.
    pub command_timeout: Option<Duration>,
    /// The application keepalive (`None`: off).
    pub keepalive: Option<Keepalive>,
    /// The byte bound of [`BufferPolicy::Bounded`] commands: unread replies
    /// of one command may hold this many bytes while its reader is stuck
    /// (default 4 MiB; 8 times that at most, however alive the reader).
    pub max_unread_bytes: usize,
    /// How long a cancelled command may go unfinished by the router (no
    /// `!done` after `/cancel`) before its route is given up on and counted
    /// in [`MikrotikDevice::abandoned`](crate::MikrotikDevice::abandoned)
    /// (default 30 s). The same bound applies to internal commands.
    pub cancel_patience: Duration,
    /// After every handle and stream is gone and `/quit` is written, how long
    /// to keep reading (and discarding) before closing, so that the router
    /// gets a clean close instead of a reset (default 2 s).
    pub close_linger: Duration,
    /// Set by a reconnecting device: where an ending connection gives back
    /// the commands that outlive it (see `handback.rs`).
    pub(crate) handback: Option<super::handback::Handback>,
    /// Set by a reconnecting device: the counters every one of its
    /// connections adds to, so a snapshot spans reconnects.
    pub(crate) counters: Option<std::sync::Arc<crate::observe::Counters>>,
    /// Set under a fleet's connect limit: the slot this connection was
    /// opened under, held (until the login releases it) for as long as the
    /// connection lives, so its socket is closed before the slot is free.
    pub(crate) connect_slot: Option<crate::runtime::ConnectSlot>,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            limits: DecoderLimits::default(),
            buffer: BufferPolicy::default(),
            command_timeout: None,
            keepalive: None,
            max_unread_bytes: 4 << 20,
            cancel_patience: Duration::from_secs(30),
            close_linger: Duration::from_secs(2),
            handback: None,
            counters: None,
            connect_slot: None,
        }
    }
}
