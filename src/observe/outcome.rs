//! How a command ended: the one word its span closes with, and the counter
//! it adds to.

/// Exactly one per started command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `!done` without a `!trap` before it.
    Done,
    /// `!done` after at least one `!trap`.
    Trapped,
    /// Its stream was dropped before the end: `/cancel` was sent.
    Cancelled,
    /// Its deadline passed.
    TimedOut,
    /// Its reader fell too far behind a bounded buffer.
    Overflowed,
    /// The connection ended first.
    ConnectionLost,
}

impl Outcome {
    /// The value of the command span's `outcome` field.
    #[cfg_attr(
        not(feature = "tracing"),
        allow(dead_code, reason = "only spans print the outcome")
    )]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Trapped => "trap",
            Outcome::Cancelled => "cancelled",
            Outcome::TimedOut => "timed out",
            Outcome::Overflowed => "overflowed",
            Outcome::ConnectionLost => "connection lost",
        }
    }
}
