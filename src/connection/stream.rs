//! The per-command response stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender};
use futures_util::Stream;
use uuid::Uuid;

use super::{Item, Request};
use crate::Error;
use crate::protocol::CommandResponse;

/// The replies of one command, ending after its `!done`.
///
/// Read it with [`recv`](Self::recv) or as a [`Stream`]. Replies wait in this
/// command's own buffer (see [`BufferPolicy`](super::BufferPolicy)), so an
/// unread stream never holds up other commands.
///
/// **Dropping it before the end cancels the command on the router at once**
/// (`/cancel`), whether or not the router is sending anything.
pub struct ResponseStream {
    tag: Uuid,
    replies: Pin<Box<Receiver<Item>>>,
    requests: Sender<Request>,
    finished: bool,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("tag", &self.tag)
            .field("unread", &self.replies.len())
            .field("finished", &self.finished)
            .finish()
    }
}

impl ResponseStream {
    pub(crate) fn new(tag: Uuid, replies: Receiver<Item>, requests: Sender<Request>) -> Self {
        Self {
            tag,
            replies: Box::pin(replies),
            requests,
            finished: false,
        }
    }

    /// The next reply, or `None` after the last one.
    ///
    /// Errors (connection lost, overflow, timeout) come as the last item.
    pub async fn recv(&mut self) -> Option<Result<CommandResponse, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The tag of the command.
    pub fn tag(&self) -> Uuid {
        self.tag
    }

    /// Replies received and not read yet.
    pub fn unread(&self) -> usize {
        self.replies.len()
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
        Err(_) => true,
    }
}

impl Stream for ResponseStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        if self.finished && self.replies.is_empty() {
            return Poll::Ready(None);
        }
        let polled = self.replies.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(item)) if is_last(item) => self.finished = true,
            Poll::Ready(None) => self.finished = true,
            _ => {}
        }
        polled
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        if !self.finished {
            // Fails only when the connection is gone, and then there is nothing to cancel.
            let _ = self.requests.try_send(Request::Cancel { tag: self.tag });
        }
    }
}
