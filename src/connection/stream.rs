//! The per-command response stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_channel::Sender;
use futures_util::Stream;
use uuid::Uuid;

use super::queue::{QueueReader, Taken};
use super::{Item, Request};
use crate::Error;
use crate::protocol::CommandResponse;

/// The replies of one command, ending after its `!done`.
///
/// Read it with [`recv`](Self::recv) or as a [`Stream`](futures_core::Stream). Replies wait in this
/// command's own buffer (see [`BufferPolicy`](super::BufferPolicy)), so an
/// unread stream never holds up other commands. They are handed over in
/// batches: a reader that is draining its buffer is not woken again, and a
/// parked one is woken once per batch.
///
/// **Dropping it before the end cancels the command on the router at once**
/// (`/cancel`), whether or not the router is sending anything. If no byte
/// of the command had reached the socket yet (dropped in the poll that sent
/// it, or while it waited behind others for a busy socket), the command is
/// never sent at all, and there is nothing to cancel: keep the stream of a
/// command that must run until its end.
pub struct ResponseStream {
    tag: Uuid,
    replies: QueueReader,
    requests: Sender<Request>,
    finished: bool,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("tag", &self.tag)
            .field("unread", &self.replies.unread())
            .field("finished", &self.finished)
            .finish()
    }
}

impl ResponseStream {
    pub(crate) fn new(tag: Uuid, replies: QueueReader, requests: Sender<Request>) -> Self {
        Self {
            tag,
            replies,
            requests,
            finished: false,
        }
    }

    /// The next reply, or `None` after the last one.
    ///
    /// Errors (connection lost, overflow, timeout) come as the last item.
    ///
    /// Cancel-safe: dropping the future (in `select!`, say) before it is
    /// ready loses nothing; the next call gets the same reply.
    pub async fn recv(&mut self) -> Option<Result<CommandResponse, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The tag of the command.
    pub fn tag(&self) -> Uuid {
        self.tag
    }

    /// Replies received and not read yet.
    pub fn unread(&self) -> usize {
        self.replies.unread()
    }

    /// Bytes of the replies received and not read yet (what
    /// [`ConnectionOptions::max_unread_bytes`](super::ConnectionOptions::max_unread_bytes) bounds).
    pub fn unread_bytes(&self) -> usize {
        self.replies.unread_bytes()
    }

    /// Cancels the command on the router (the same as dropping the stream).
    pub fn cancel(self) {}
}

/// Whether nothing more can follow this item on a command's stream.
pub(crate) fn is_last(item: &Item) -> bool {
    match item {
        Ok(response) => matches!(
            response,
            CommandResponse::Done(_) | CommandResponse::Fatal(_)
        ),
        // A malformed sentence of this command is reported, and the command goes on.
        Err(Error::Protocol(e)) => e.is_framing(),
        // A reconnect's gap marker: the command goes on after it.
        Err(Error::Resumed { .. }) => false,
        Err(_) => true,
    }
}

impl Stream for ResponseStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        if self.finished && self.replies.is_empty() {
            return Poll::Ready(None);
        }
        match self.replies.take(cx.waker()) {
            Taken::Entry(entry) => {
                if is_last(&entry.item) {
                    self.finished = true;
                }
                Poll::Ready(Some(entry.item))
            }
            Taken::Parked => Poll::Pending,
            Taken::Ended => {
                self.finished = true;
                Poll::Ready(None)
            }
        }
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        if !self.finished {
            // Gone before the cancel is sent: the actor acts on a cancel
            // only when the route's own reader is gone, never on one from a
            // stream refused for a tag another command holds.
            self.replies.leave();
            // Fails only when the connection is gone, and then there is nothing to cancel.
            let _ = self.requests.try_send(Request::Cancel { tag: self.tag });
        }
    }
}
