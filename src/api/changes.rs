//! Change streams of `listen` and `print follow`: [`Changes`] of [`Change`] events.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use uuid::Uuid;

use super::Rows;
use crate::connection::ResponseStream;
use crate::protocol::command::{Command, CommandBuilder};
use crate::protocol::{CommandResponse, ReplyResponse, Sentence};
use crate::runtime::BoxFuture;
use crate::{Error, MikrotikDevice, Result};

/// One change of a menu, as `listen` and `print follow` report it.
///
/// `T` is the row type: the raw [`ReplyResponse`], or a user struct after
/// `Changes::typed` (feature `serde`).
#[derive(Debug, Clone)]
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
    /// The subscription was interrupted by a reconnect and goes on: what
    /// happened on the router during the gap was not seen. On a stream made
    /// by [`Menu::listen`](super::Menu::listen) or
    /// [`Print::follow`](super::Print::follow) on a reconnecting device, the
    /// events after it make the table whole again as its [`Resync`] says.
    /// Exactly one per gap, never an error: `change?` ends a loop only when
    /// the subscription itself has ended.
    Resumed {
        /// From the loss of the connection to the command sent again.
        gap: Duration,
        /// How the connection ended.
        cause: Arc<Error>,
    },
}

/// What a change stream on a reconnecting device reports after a gap
/// ([`Changes::resync`]).
///
/// Memory: only [`Reconcile`](Self::Reconcile) remembers anything, the
/// `.id` of every item reported and not reported removed; each resync
/// replaces that set with the snapshot's items. On an append-only menu
/// (`/log`), where the router forgets items without reporting them removed,
/// that set grows with every line: choose [`Snapshot`](Self::Snapshot) or
/// [`GapOnly`](Self::GapOnly) there, which remember nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Resync {
    /// The default: after [`Change::Resumed`], an upsert of every item the
    /// menu lists now, then a removal of every item reported before and
    /// gone: the table is exactly the router's again.
    #[default]
    Reconcile,
    /// After [`Change::Resumed`], an upsert of every item the menu lists
    /// now; no removals, nothing remembered.
    Snapshot,
    /// Only [`Change::Resumed`]: the consumer reconciles (or does not need
    /// to). No snapshot is taken, nothing is remembered.
    GapOnly,
}

/// Errors have no equality: two gaps are equal when their lengths are and
/// their causes read the same.
impl<T: PartialEq> PartialEq for Change<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Upsert(a), Self::Upsert(b)) => a == b,
            (Self::Removed { id: a, row: r }, Self::Removed { id: b, row: s }) => a == b && r == s,
            (Self::Resumed { gap: a, cause: c }, Self::Resumed { gap: b, cause: d }) => {
                a == b && (Arc::ptr_eq(c, d) || c.to_string() == d.to_string())
            }
            _ => false,
        }
    }
}

impl<T> Change<T> {
    /// Whether this is a [`Removed`](Self::Removed) event.
    pub fn is_removed(&self) -> bool {
        matches!(self, Self::Removed { .. })
    }

    /// Whether this is a [`Resumed`](Self::Resumed) gap.
    pub fn is_resumed(&self) -> bool {
        matches!(self, Self::Resumed { .. })
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
/// [`Error::Trap`](crate::Error::Trap)), or after a connection error. On a
/// reconnecting device a lost connection is not its end: it yields
/// [`Change::Resumed`] and goes on (see [`Resync`]); an `Err` is then the
/// last item but for an undecodable row.
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
    resync: Option<Box<Resyncer>>,
}

/// After a gap, a snapshot (`print`) reconciled against the items reported
/// so far: every item it lists is an upsert, every item reported before and
/// not listed now a removal. The subscription was sent again before the
/// snapshot, so no later change is missed; its events wait in its stream
/// while the snapshot is read, and come after it, in order.
///
/// The snapshot is the library's own command: if it fails (a trap, a
/// timeout, a full queue, another loss) it is taken again after the
/// device's reconnect backoff, and its error is never reported as the
/// subscription's. Only the device giving up ends the retries (and then the
/// subscription's own stream ends with the device's error).
struct Resyncer {
    device: MikrotikDevice,
    snapshot: Command,
    mode: Resync,
    known: HashSet<String>,
    /// The snapshot being taken: its rows, or `None` if the device gave up.
    running: Option<BoxFuture<Option<Vec<ReplyResponse>>>>,
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
        self.resync = Some(Box::new(Resyncer {
            device,
            snapshot: snapshot_of(subscription),
            mode: Resync::default(),
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
    /// Chooses what a gap reports on a reconnecting device (default
    /// [`Resync::Reconcile`]); no effect on a device without a policy.
    pub fn resync(mut self, mode: Resync) -> Self {
        if let Some(resync) = &mut self.resync {
            resync.mode = mode;
            if mode != Resync::Reconcile {
                resync.known = HashSet::new();
            }
        }
        self
    }

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
                // `None`: the device gave up; the subscription's stream ends next.
                if let Some(rows) = taken {
                    resync.reconcile(rows);
                }
            }
            if let Some(row) = resync.ready.pop_front() {
                return Poll::Ready(Some(self.change(row)));
            }
        }
        match std::task::ready!(self.rows.poll_raw(cx)) {
            None => Poll::Ready(None),
            Some(Ok(row)) => Poll::Ready(Some(self.change(row))),
            Some(Err(Error::Resumed { gap, cause })) => {
                // A gap: report it, then make the table whole again.
                if let Some(resync) = &mut self.resync
                    && resync.mode != Resync::GapOnly
                {
                    resync.ready.clear();
                    resync.running = Some(Box::pin(take_snapshot(
                        resync.device.clone(),
                        resync.snapshot.clone(),
                    )));
                }
                Poll::Ready(Some(Ok(Change::Resumed { gap, cause })))
            }
            Some(Err(error)) => Poll::Ready(Some(Err(error))),
        }
    }

    fn change(&mut self, row: ReplyResponse) -> Result<Change<T>> {
        let id = row.attributes.get_lossy(".id").map(|id| id.into_owned());
        if let (Some(resync), Some(id)) = (&mut self.resync, &id)
            && resync.mode == Resync::Reconcile
        {
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

/// Takes `snapshot` until it succeeds, pausing between tries as the
/// device's reconnect policy does; `None` once the device has given up.
async fn take_snapshot(device: MikrotikDevice, snapshot: Command) -> Option<Vec<ReplyResponse>> {
    let mut level = 0u32;
    loop {
        // A clone has a fresh tag: each try is a new command.
        match device.collect(snapshot.clone()).await {
            Ok(collected) => return Some(collected.into_rows()),
            Err(_) if device.is_closed() => return None,
            Err(_) => {}
        }
        device.retry_pause(level)?.await;
        level = level.saturating_add(1);
    }
}

impl Resyncer {
    /// Queues the snapshot's rows, then (reconciling) a `.dead` row for each
    /// item reported before and absent from it.
    fn reconcile(&mut self, rows: Vec<ReplyResponse>) {
        if self.mode != Resync::Reconcile {
            self.ready.extend(rows);
            return;
        }
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
