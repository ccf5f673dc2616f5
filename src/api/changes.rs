//! Change streams of `listen` and `print follow`: [`Changes`] of [`Change`] events.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use uuid::Uuid;

use super::Rows;
use super::collect::Collected;
use crate::connection::ResponseStream;
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, ReplyResponse, Sentence};
use crate::runtime::BoxFuture;
use crate::{Error, MikrotikDevice, Result};

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
    /// On a reconnecting device: what makes a resumed subscription whole again.
    resync: Option<Box<Resync>>,
}

/// After a gap, a snapshot (`print`) reconciled against the items reported
/// so far: every item it lists is an upsert, every item reported before and
/// not listed now a removal. The subscription was sent again before the
/// snapshot, so no later change is missed; its events wait in its stream
/// while the snapshot is read, and come after it, in order.
struct Resync {
    device: MikrotikDevice,
    snapshot: Command,
    known: HashSet<String>,
    running: Option<BoxFuture<Result<Collected>>>,
    ready: VecDeque<ReplyResponse>,
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
            resync: None,
        }
    }

    /// Names the command in the error of its traps.
    pub(crate) fn for_command(mut self, path: &str) -> Self {
        self.rows = self.rows.for_command(path);
        self
    }

    /// After each gap of a resumed subscription, takes `snapshot` (a
    /// `print`, sent after the subscription was sent again) and reports it:
    /// an upsert of every item it lists, then a removal of every item
    /// reported before that it does not list. `subscription` is the command
    /// the stream runs; the snapshot is it without `follow`/`follow-only`,
    /// and `listen` becomes `print`.
    pub(crate) fn resyncing(mut self, device: MikrotikDevice, subscription: &Command) -> Self {
        self.resync = Some(Box::new(Resync {
            device,
            snapshot: snapshot_of(subscription),
            known: HashSet::new(),
            running: None,
            ready: VecDeque::new(),
        }));
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
            resync: self.resync,
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
        if let Some(resync) = &mut self.resync {
            if let Some(running) = &mut resync.running {
                let taken = std::task::ready!(running.as_mut().poll(cx));
                resync.running = None;
                match taken {
                    Ok(snapshot) => resync.reconcile(snapshot.into_rows()),
                    Err(error) => return Poll::Ready(Some(Err(error))),
                }
            }
            if let Some(row) = resync.ready.pop_front() {
                return Poll::Ready(Some(self.change(row)));
            }
        }
        match std::task::ready!(self.rows.poll_raw(cx)) {
            None => Poll::Ready(None),
            Some(Ok(row)) => Poll::Ready(Some(self.change(row))),
            Some(Err(error)) => {
                // A gap: report it, then make the table whole again.
                if let (Error::Resumed { .. }, Some(resync)) = (&error, &mut self.resync) {
                    let device = resync.device.clone();
                    let snapshot = resync.snapshot.clone();
                    resync.running = Some(Box::pin(async move { device.collect(snapshot).await }));
                }
                Poll::Ready(Some(Err(error)))
            }
        }
    }

    fn change(&mut self, row: ReplyResponse) -> Result<Change<T>> {
        let id = row.attributes.get_lossy(".id").map(|id| id.into_owned());
        if let (Some(resync), Some(id)) = (&mut self.resync, &id) {
            if is_dead(&row) {
                resync.known.remove(id);
            } else {
                resync.known.insert(id.clone());
            }
        }
        if is_dead(&row) {
            let id = id.unwrap_or_default();
            return Ok(Change::Removed { id, row });
        }
        (self.decode)(row).map(Change::Upsert)
    }
}

impl Resync {
    /// Queues the snapshot's rows, then a `.dead` row for each item reported
    /// before and absent from it.
    fn reconcile(&mut self, rows: Vec<ReplyResponse>) {
        let now: HashSet<String> = rows
            .iter()
            .filter_map(|row| row.get(".id").map(str::to_owned))
            .collect();
        let mut gone: Vec<&String> = self.known.iter().filter(|id| !now.contains(*id)).collect();
        gone.sort();
        let tag = rows.first().map(|row| row.tag).unwrap_or_default();
        let dead: Vec<ReplyResponse> = gone
            .into_iter()
            .filter_map(|id| dead_row(id, tag))
            .collect();
        self.ready.extend(rows);
        self.ready.extend(dead);
    }
}

/// A row saying that item `id` is gone, as the router would send it.
fn dead_row(id: &str, tag: Uuid) -> Option<ReplyResponse> {
    let sentence = Sentence::from_words([
        "!re".to_owned(),
        format!("=.id={id}"),
        "=.dead=true".to_owned(),
        format!(".tag={}", tag.hyphenated()),
    ]);
    match CommandResponse::parse(sentence) {
        Ok(CommandResponse::Reply(row)) => Some(row),
        _ => None,
    }
}

/// The `print` that lists what a subscription watches: its words without
/// `follow`, `follow-only` or the tag; a `listen` becomes a `print`.
fn snapshot_of(subscription: &Command) -> Command {
    let words = subscription.words();
    let path = words
        .first()
        .map(|w| String::from_utf8_lossy(w).into_owned());
    let path = path.unwrap_or_default();
    let path = match path.strip_suffix("/listen") {
        Some(menu) => format!("{menu}/print"),
        None => path,
    };
    let mut builder = CommandBuilder::new().command(&path);
    for word in words.iter().skip(1) {
        let skip = word.starts_with(b".tag=")
            || word.starts_with(b"=follow=")
            || word.starts_with(b"=follow-only=");
        if !skip {
            builder = builder.word(word);
        }
    }
    builder.build()
}

impl<T> Stream for Changes<T> {
    type Item = Result<Change<T>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_change(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &Command) -> Vec<String> {
        command
            .words()
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .filter(|w| !w.starts_with(".tag="))
            .collect()
    }

    #[test]
    fn the_snapshot_of_a_subscription_is_its_print() {
        let listen = CommandBuilder::new().command("/ip/address/listen").build();
        assert_eq!(words(&snapshot_of(&listen)), ["/ip/address/print"]);
        let follow = CommandBuilder::new()
            .command("/interface/print")
            .attribute("follow", None)
            .query_equal("type", "vlan")
            .proplist([".id", "name"])
            .build();
        let snapshot = snapshot_of(&follow);
        assert_eq!(
            words(&snapshot),
            ["/interface/print", "?type=vlan", "=.proplist=.id,name"]
        );
        assert_ne!(snapshot.tag(), follow.tag());
        let only = CommandBuilder::new()
            .command("/interface/print")
            .attribute("follow-only", Some(""))
            .build();
        assert_eq!(words(&snapshot_of(&only)), ["/interface/print"]);
    }

    #[test]
    fn a_dead_row_says_removed_with_the_id() {
        let row = dead_row("*7", Uuid::nil()).unwrap();
        assert_eq!(row.get(".id"), Some("*7"));
        assert!(is_dead(&row));
    }
}
