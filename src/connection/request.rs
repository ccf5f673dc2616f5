//! Messages from device handles and streams to the connection actor.

use uuid::Uuid;

use super::BufferPolicy;
use super::queue::QueueWriter;
use crate::Error;
use crate::protocol::CommandResponse;
use crate::protocol::command::Command;

/// One item of a command's stream.
pub(crate) type Item = Result<CommandResponse, Error>;

#[derive(Debug)]
pub(crate) enum Request {
    /// Register the command's route, then write it.
    Send {
        command: Command,
        replies: QueueWriter,
        policy: BufferPolicy,
        /// Who sent it: only what a supervisor forwarded is handed back to it.
        origin: Origin,
    },
    /// The stream of `tag` was dropped before its end: cancel it on the router.
    Cancel { tag: Uuid },
}

/// Where a [`Request::Send`] came from, which decides what the actor does
/// with it at its end and how it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Sent on this connection's own handle (a login, a direct device): at
    /// the end it ends with the connection's error, never handed back.
    Direct,
    /// Forwarded by the supervisor: handed back to it if never written.
    Forwarded,
    /// Sent again by the supervisor after a gap: already counted as started
    /// on an earlier connection, so not counted again.
    Resumed,
}
