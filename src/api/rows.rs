//! [`Rows`]: only the `!re` rows of a command, as a stream, for commands that
//! stream rows (monitors, `print interval=…`, `/tool/…`).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use uuid::Uuid;

use super::TextPolicy;
use super::collect::{Step, step};
use crate::connection::ResponseStream;
use crate::protocol::{ReplyResponse, TrapResponse};
use crate::{Error, Result};

/// The rows of one command: each `!re` as an item; `!empty` and `!done` are
/// consumed, and the stream ends after `!done`. Made by
/// [`ResponseStream::rows`] or [`Menu::monitor`](super::Menu::monitor).
///
/// A `!trap` is kept until the command's `!done` and then comes as one
/// [`Error::Trap`] naming the command, as the last item. A connection error,
/// timeout or overflow is the last item too. A row that does not decode (on a
/// `typed` stream, feature `serde`) is an `Err` item and the stream goes on.
///
/// **Cancel safety**: [`recv`](Self::recv) (and `StreamExt::next`) may be
/// dropped at any time, in a `select!` for example, without losing a row: a
/// row is taken from the buffer only by the poll that returns it.
/// Dropping the `Rows` itself cancels the command on the router.
///
/// ```no_run
/// # async fn demo(device: mikrotik_rs::MikrotikDevice) -> mikrotik_rs::Result<()> {
/// use mikrotik_rs::command;
/// let mut rows = device
///     .send_command(command!("/interface/monitor-traffic", interface = "ether1"))
///     .await?
///     .rows();
/// while let Some(row) = rows.recv().await {
///     println!("rx {:?} bit/s", row?.get("rx-bits-per-second"));
/// }
/// # Ok(()) }
/// ```
pub struct Rows<T = ReplyResponse> {
    stream: ResponseStream,
    traps: Vec<TrapResponse>,
    ended: bool,
    decode: fn(ReplyResponse, TextPolicy) -> Result<T>,
    /// How `decode` reads text that is not UTF-8.
    text: TextPolicy,
    /// The command's path, named in its traps' error.
    path: Option<Arc<str>>,
}

impl<T> fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("stream", &self.stream)
            .field("path", &self.path)
            .field("ended", &self.ended)
            .finish()
    }
}

fn raw(row: ReplyResponse, _: TextPolicy) -> Result<ReplyResponse> {
    Ok(row)
}

impl ResponseStream {
    /// Only the rows of this command: see [`Rows`].
    pub fn rows(self) -> Rows {
        Rows {
            stream: self,
            traps: Vec::new(),
            ended: false,
            decode: raw,
            text: TextPolicy::Lossy,
            path: None,
        }
    }
}

impl Rows {
    /// Decodes each row into `T` (feature `serde`, conventions as in
    /// [`from_reply`](super::from_reply)).
    ///
    /// For a monitor or `listen`, rows after the first may carry only what
    /// changed: make fields that may be missing `Option`s.
    ///
    /// Text that is not UTF-8 is read lossily ([`TextPolicy::Lossy`]); see
    /// [`typed_with`](Self::typed_with).
    #[cfg(feature = "serde")]
    pub fn typed<T: serde::de::DeserializeOwned>(self) -> Rows<T> {
        self.typed_with(TextPolicy::Lossy)
    }

    /// [`typed`](Self::typed), with text that is not UTF-8 read as `text`
    /// says: an error naming the key under `Strict`, a code page (a
    /// Windows-1252 comment) under `Fallback`.
    #[cfg(feature = "serde")]
    pub fn typed_with<T: serde::de::DeserializeOwned>(self, text: TextPolicy) -> Rows<T> {
        fn decode<T: serde::de::DeserializeOwned>(
            row: ReplyResponse,
            text: TextPolicy,
        ) -> Result<T> {
            super::from_reply_with(&row, text)
        }
        self.decoded_by(decode::<T>, text)
    }

    /// The same stream, each row passed through `decode`.
    pub(crate) fn decoded_by<T>(
        self,
        decode: fn(ReplyResponse, TextPolicy) -> Result<T>,
        text: TextPolicy,
    ) -> Rows<T> {
        Rows {
            stream: self.stream,
            traps: self.traps,
            ended: self.ended,
            decode,
            text,
            path: self.path,
        }
    }
}

impl<T> Rows<T> {
    /// Names the command in the error of its traps.
    pub(crate) fn for_command(mut self, path: &str) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The next row; `None` once the command has ended. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_row(cx)).await
    }

    /// The tag of the command.
    pub fn tag(&self) -> Uuid {
        self.stream.tag()
    }

    /// Rows received and not read yet (including `!done` and traps).
    pub fn unread(&self) -> usize {
        self.stream.unread()
    }

    /// Stops the command: cancels it on the router (the same as dropping it).
    pub fn cancel(self) {}

    /// The next raw row, before decoding.
    pub(crate) fn poll_raw(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ReplyResponse>>> {
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
                // goes on, and so does a resumed one (a gap marker); anything
                // else ends it.
                self.ended = !matches!(&error, Error::Protocol(e) if !e.is_framing())
                    && !matches!(error, Error::Resumed { .. });
                return Poll::Ready(Some(Err(error)));
            }
            match step(item, &mut self.traps) {
                Step::Row(row) => return Poll::Ready(Some(Ok(row))),
                Step::Skip => {}
                Step::Done(end) => {
                    self.ended = true;
                    let path = self.path.as_deref();
                    return Poll::Ready(end.err().map(|error| match path {
                        Some(path) => Err(error.in_command(path)),
                        None => Err(error),
                    }));
                }
            }
        }
    }

    fn poll_row(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let (decode, text) = (self.decode, self.text);
        self.poll_raw(cx)
            .map(|item| item.map(|row| row.and_then(|row| decode(row, text))))
    }
}

impl<T> Stream for Rows<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_row(cx)
    }
}
