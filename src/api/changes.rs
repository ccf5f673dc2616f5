//! Change streams of `listen` and `print follow`: [`Changes`] of [`Change`] events.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use uuid::Uuid;

use super::collect::{Step, step};
use crate::connection::ResponseStream;
use crate::protocol::{ReplyResponse, TrapResponse};
use crate::{Error, Result};

/// One change of a menu, as `listen` and `print follow` report it.
///
/// `T` is the row type: the raw [`ReplyResponse`], or a user struct after
/// `Changes::typed` (feature `serde`).
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T = ReplyResponse> {
    /// An item was added or changed (or, with `follow`, already existed): its row.
    Upsert(T),
    /// An item was removed: the router sent its row with `.dead=yes` (RouterOS 6)
    /// or `.dead=true` (RouterOS 7).
    ///
    /// The row stays raw even on a typed stream: a removed item usually comes
    /// with nothing but `.id` and `.dead`, which would not decode into `T`.
    Removed {
        /// The removed item's `.id` (empty if the router sent none).
        id: String,
        /// The row as the router sent it.
        row: ReplyResponse,
    },
}

impl<T> Change<T> {
    /// Whether this is a [`Removed`](Self::Removed) event.
    pub fn is_removed(&self) -> bool {
        matches!(self, Self::Removed { .. })
    }
}

/// Whether a row reports a removed item (`.dead=yes` or `.dead=true`).
fn is_dead(row: &ReplyResponse) -> bool {
    matches!(row.get_raw(".dead"), Some(b"yes" | b"true"))
}

fn raw(row: ReplyResponse) -> Result<ReplyResponse> {
    Ok(row)
}

/// The change events of a `listen` or `print follow` command.
///
/// Read it with [`recv`](Self::recv) or as a [`Stream`]. It never ends by
/// itself while the router keeps the command running; it ends with `None`
/// when the command ends (for example after a trap, reported first as
/// [`Error::Trap`]), or after a connection error.
///
/// A row that does not decode (on a `typed` stream, feature `serde`) is an
/// `Err` item and the stream goes on.
///
/// **Dropping it cancels the command on the router** (`/cancel`), like
/// dropping the [`ResponseStream`] it wraps.
pub struct Changes<T = ReplyResponse> {
    stream: ResponseStream,
    traps: Vec<TrapResponse>,
    ended: bool,
    decode: fn(ReplyResponse) -> Result<T>,
}

impl<T> fmt::Debug for Changes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish()
    }
}

impl Changes {
    /// Wraps the response stream of a `listen` or `print follow` command.
    pub fn new(stream: ResponseStream) -> Self {
        Self {
            stream,
            traps: Vec::new(),
            ended: false,
            decode: raw,
        }
    }

    /// Decodes upserted rows into `T` (feature `serde`, conventions as in
    /// [`from_reply`](super::from_reply)); removed rows stay raw.
    #[cfg(feature = "serde")]
    pub fn typed<T: serde::de::DeserializeOwned>(self) -> Changes<T> {
        fn decode<T: serde::de::DeserializeOwned>(row: ReplyResponse) -> Result<T> {
            super::from_reply(&row)
        }
        Changes {
            stream: self.stream,
            traps: self.traps,
            ended: self.ended,
            decode: decode::<T>,
        }
    }
}

impl<T> Changes<T> {
    /// The next change; `None` once the command has ended.
    pub async fn recv(&mut self) -> Option<Result<Change<T>>> {
        std::future::poll_fn(|cx| self.poll_change(cx)).await
    }

    /// The tag of the underlying command.
    pub fn tag(&self) -> Uuid {
        self.stream.tag()
    }

    /// Stops listening: cancels the command on the router (the same as dropping it).
    pub fn cancel(self) {}

    fn poll_change(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Change<T>>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            let Some(item) = std::task::ready!(Pin::new(&mut self.stream).poll_next(cx)) else {
                self.ended = true;
                return Poll::Ready(None);
            };
            if let Err(error) = item {
                // A malformed sentence of this command is reported and the command
                // goes on; anything else ends it.
                self.ended = !matches!(&error, Error::Protocol(e) if !e.is_framing());
                return Poll::Ready(Some(Err(error)));
            }
            match step(item, &mut self.traps) {
                Step::Row(row) => return Poll::Ready(Some(self.change(row))),
                Step::Skip => {}
                Step::Done(end) => {
                    self.ended = true;
                    return Poll::Ready(end.err().map(Err));
                }
            }
        }
    }

    fn change(&self, row: ReplyResponse) -> Result<Change<T>> {
        if is_dead(&row) {
            let id = row
                .attributes
                .get_lossy(".id")
                .map(|id| id.into_owned())
                .unwrap_or_default();
            return Ok(Change::Removed { id, row });
        }
        (self.decode)(row).map(Change::Upsert)
    }
}

impl<T> Stream for Changes<T> {
    type Item = Result<Change<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_change(cx)
    }
}
