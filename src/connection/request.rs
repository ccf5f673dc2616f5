//! Messages from device handles and streams to the connection actor.

use async_channel::{Receiver, Sender};
use uuid::Uuid;

use super::BufferPolicy;
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
        replies: Sender<Item>,
        policy: BufferPolicy,
        /// A second receiver of the stream, for [`BufferPolicy::KeepLatest`] to drop the oldest reply.
        oldest: Option<Receiver<Item>>,
    },
    /// The stream of `tag` was dropped before its end: cancel it on the router.
    Cancel { tag: Uuid },
}
