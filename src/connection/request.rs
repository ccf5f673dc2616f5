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
    },
    /// The stream of `tag` was dropped before its end: cancel it on the router.
    Cancel { tag: Uuid },
}
