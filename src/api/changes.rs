//! Change streams of `listen` and `print follow`: [`Changes`] of [`Change`] events.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use uuid::Uuid;

use super::Rows;
use crate::Result;
use crate::connection::ResponseStream;
use crate::protocol::ReplyResponse;

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

/// The change events of a `listen` or `print follow` command.
///
/// Read it with [`recv`](Self::recv) or as a [`Stream`](futures_core::Stream). It never
/// ends by itself while the router keeps the command running; it ends with `None`
/// when the command ends (for example after a trap, reported first as
/// [`Error::Trap`](crate::Error::Trap)), or after a connection error.
///
/// A row that does not decode (on a `typed` stream, feature `serde`) is an
/// `Err` item and the stream goes on. An update may carry only the properties
/// that changed, so typed fields that may be missing should be `Option`s.
///
/// **Cancel safety**: [`recv`](Self::recv) may be dropped at any time (in a
/// `select!`) without losing a change. **Dropping the `Changes` cancels the
/// command on the router** (`/cancel`), like dropping the [`ResponseStream`] it wraps.
pub struct Changes<T = ReplyResponse> {
    rows: Rows,
    decode: fn(ReplyResponse) -> Result<T>,
}

impl<T> fmt::Debug for Changes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes").field("rows", &self.rows).finish()
    }
}

fn raw(row: ReplyResponse) -> Result<ReplyResponse> {
    Ok(row)
}

impl Changes {
    /// Wraps the response stream of a `listen` or `print follow` command.
    pub fn new(stream: ResponseStream) -> Self {
        Self {
            rows: stream.rows(),
            decode: raw,
        }
    }

    /// Names the command in the error of its traps.
    pub(crate) fn for_command(mut self, path: &str) -> Self {
        self.rows = self.rows.for_command(path);
        self
    }

    /// Decodes upserted rows into `T` (feature `serde`, conventions as in
    /// [`from_reply`](super::from_reply)); removed rows stay raw. Updates may
    /// be partial: use `Option` fields for properties that may be missing.
    #[cfg(feature = "serde")]
    pub fn typed<T: serde::de::DeserializeOwned>(self) -> Changes<T> {
        fn decode<T: serde::de::DeserializeOwned>(row: ReplyResponse) -> Result<T> {
            super::from_reply(&row)
        }
        self.decoded_by(decode::<T>)
    }

    /// The same changes, each upserted row passed through `decode`.
    pub(crate) fn decoded_by<T>(self, decode: fn(ReplyResponse) -> Result<T>) -> Changes<T> {
        Changes {
            rows: self.rows,
            decode,
        }
    }
}

impl<T> Changes<T> {
    /// The next change; `None` once the command has ended. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Change<T>>> {
        std::future::poll_fn(|cx| self.poll_change(cx)).await
    }

    /// The tag of the underlying command.
    pub fn tag(&self) -> Uuid {
        self.rows.tag()
    }

    /// Replies received and not read yet.
    pub fn unread(&self) -> usize {
        self.rows.unread()
    }

    /// Stops listening: cancels the command on the router (the same as dropping it).
    pub fn cancel(self) {}

    fn poll_change(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Change<T>>>> {
        self.rows
            .poll_raw(cx)
            .map(|item| item.map(|row| row.and_then(|row| self.change(row))))
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
