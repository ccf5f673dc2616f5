//! The routing table: which stream each tag's replies go to, and what a full
//! or abandoned stream means for its command.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Duration, Instant};

use async_channel::{Receiver, Sender};
use uuid::Uuid;

use std::sync::Arc;

use super::{BufferPolicy, Item, Shared};
use crate::Error;
use crate::protocol::{CommandResponse, InvalidReply, ProtocolError, Sentence};

/// Tags are random UUIDs we chose, so their first 8 bytes already are a good hash.
#[derive(Default)]
pub(crate) struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

/// Where a command's replies go.
struct Sink {
    replies: Sender<Item>,
    policy: BufferPolicy,
    /// For [`BufferPolicy::KeepLatest`]: a receiver to drop the oldest reply with.
    oldest: Option<Box<Receiver<Item>>>,
    /// For [`BufferPolicy::Bounded`]: since when the reader has taken nothing
    /// while at least `capacity` replies wait (boxed: rare, and routes stay small).
    stall: Option<Box<Stall>>,
}

/// A reader that may have stopped reading.
struct Stall {
    since: Instant,
    /// How many replies would be unread now if the reader took none since `since`.
    unread: usize,
}

/// A full buffer overflows only when its reader has taken nothing for this
/// long: a reader that is merely descheduled (a loaded machine, another
/// thread) catches up without losing its command.
const STALL_PATIENCE: Duration = Duration::from_secs(1);
/// However alive the reader, a command never buffers more than this many
/// times its capacity.
const HARD_LIMIT_FACTOR: usize = 8;

/// One command in flight.
struct Route {
    /// `None` once the command's stream is finished early (dropped, overflowed,
    /// timed out) or for internal commands: replies are then swallowed until `!done`.
    sink: Option<Sink>,
    /// Whether `/cancel` was sent for it.
    cancelled: bool,
}

/// What the actor must do after a delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Nothing,
    /// The command's stream is finished early: send `/cancel` for it.
    Cancel,
}

pub(crate) struct Routes {
    map: HashMap<Uuid, Route, BuildHasherDefault<TagHasher>>,
    last_tag: LastTag,
    /// Where the number of commands in flight is published, always before a
    /// stream can see the item that ended its command.
    shared: Arc<Shared>,
}

/// The last `.tag=` value read in its usual 36-byte form, and its UUID: the
/// replies of a streaming command repeat it, so it is compared, not parsed.
struct LastTag {
    text: [u8; 36],
    tag: Option<Uuid>,
}

impl Default for LastTag {
    fn default() -> Self {
        Self {
            text: [0; 36],
            tag: None,
        }
    }
}

impl LastTag {
    fn read(&mut self, value: &[u8]) -> Result<Uuid, ProtocolError> {
        match self.tag {
            Some(tag) if value == self.text => return Ok(tag),
            _ => {}
        }
        let tag = CommandResponse::read_tag(value)?;
        if let Ok(text) = value.try_into() {
            (self.text, self.tag) = (text, Some(tag));
        }
        Ok(tag)
    }
}

impl Routes {
    /// Reads a decoded sentence as a reply, remembering the last tag read.
    pub(crate) fn parse(&mut self, sentence: Sentence) -> Result<CommandResponse, InvalidReply> {
        CommandResponse::parse_with(sentence, |value| self.last_tag.read(value))
    }

    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            map: HashMap::default(),
            last_tag: LastTag::default(),
            shared,
        }
    }

    fn publish(&self) {
        self.shared.set_in_flight(self.map.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn contains(&self, tag: &Uuid) -> bool {
        self.map.contains_key(tag)
    }

    /// Registers a user command. Must happen before its bytes are written.
    /// `oldest` is a clone of the stream's receiver, needed by [`BufferPolicy::KeepLatest`].
    pub(crate) fn insert(
        &mut self,
        tag: Uuid,
        replies: Sender<Item>,
        policy: BufferPolicy,
        oldest: Option<Receiver<Item>>,
    ) {
        let oldest = oldest.map(Box::new);
        self.map.insert(
            tag,
            Route {
                sink: Some(Sink {
                    replies,
                    policy,
                    oldest,
                    stall: None,
                }),
                cancelled: false,
            },
        );
        self.publish();
    }

    /// Registers an internal command (cancel, keepalive) whose replies nobody reads.
    pub(crate) fn insert_internal(&mut self, tag: Uuid) {
        self.map.insert(
            tag,
            Route {
                sink: None,
                cancelled: true,
            },
        );
        self.publish();
    }

    /// Hands `item` to the stream of `tag`. `None` when no command has that tag.
    pub(crate) fn deliver(&mut self, tag: Uuid, item: Item, last: bool) -> Option<Next> {
        if last {
            // Forget the command before its stream can see the end.
            let mut route = self.map.remove(&tag)?;
            self.publish();
            if let Some(sink) = &mut route.sink {
                let _ = sink.push(item, true);
            }
            return Some(Next::Nothing);
        }
        let route = self.map.get_mut(&tag)?;
        let Some(sink) = &mut route.sink else {
            return Some(Next::Nothing);
        };
        Some(match sink.push(item, false) {
            Ok(()) => Next::Nothing,
            Err(()) => {
                route.sink = None;
                Self::needs_cancel(route)
            }
        })
    }

    /// Ends the stream of `tag` early, giving it `error` as its last item.
    pub(crate) fn finish_early(&mut self, tag: Uuid, error: Option<Error>) -> Next {
        let Some(route) = self.map.get_mut(&tag) else {
            return Next::Nothing;
        };
        let Some(sink) = route.sink.take() else {
            return Next::Nothing;
        };
        if let Some(error) = error {
            let _ = sink.replies.try_send(Err(error));
        }
        Self::needs_cancel(route)
    }

    fn needs_cancel(route: &mut Route) -> Next {
        if route.cancelled {
            return Next::Nothing;
        }
        route.cancelled = true;
        Next::Cancel
    }

    /// Gives `item` to every open stream and forgets every command.
    pub(crate) fn close_all(&mut self, item: impl Fn() -> Item) {
        let routes = std::mem::take(&mut self.map);
        self.publish();
        for (_, route) in routes {
            if let Some(sink) = route.sink {
                let _ = sink.replies.try_send(item());
            }
        }
    }
}

impl Sink {
    /// Queues `item`; `Err` when the stream is finished early (its reader is
    /// gone, or its buffer overflowed and got the overflow error).
    fn push(&mut self, item: Item, last: bool) -> Result<(), ()> {
        let policy = self.policy;
        match policy {
            BufferPolicy::Bounded(capacity) if !last && self.reader_stalled(capacity) => {
                let _ = self.replies.try_send(Err(Error::Overflow { capacity }));
                return Err(());
            }
            BufferPolicy::KeepLatest(capacity) if self.replies.len() >= capacity.max(1) => {
                if let Some(oldest) = &self.oldest {
                    let _ = oldest.try_recv();
                }
            }
            _ => {}
        }
        // Unbounded channel: fails only when the stream was dropped.
        self.replies.try_send(item).map_err(drop)
    }

    /// Whether one more reply would overflow: `capacity` replies wait and the
    /// reader has taken none for [`STALL_PATIENCE`], or it is
    /// [`HARD_LIMIT_FACTOR`] times behind.
    fn reader_stalled(&mut self, capacity: usize) -> bool {
        let unread = self.replies.len();
        if unread < capacity {
            self.stall = None;
            return false;
        }
        if unread >= capacity.saturating_mul(HARD_LIMIT_FACTOR) {
            return true;
        }
        let now = Instant::now();
        match &mut self.stall {
            // Nothing taken since the last reply: the stall goes on.
            Some(stall) if unread >= stall.unread => {
                stall.unread = unread + 1;
                now.duration_since(stall.since) >= STALL_PATIENCE
            }
            // First time full, or the reader took some: (re)start the clock.
            _ => {
                self.stall = Some(Box::new(Stall {
                    since: now,
                    unread: unread + 1,
                }));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_tag_is_remembered_and_reads_like_a_parse() {
        let mut last = LastTag::default();
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let text_a = a.hyphenated().to_string();
        for _ in 0..3 {
            assert_eq!(last.read(text_a.as_bytes()), Ok(a));
        }
        assert_eq!(last.read(b.hyphenated().to_string().as_bytes()), Ok(b));
        assert_eq!(last.read(text_a.to_uppercase().as_bytes()), Ok(a));
        // Other forms are parsed, not remembered; errors stay errors.
        assert_eq!(last.read(a.simple().to_string().as_bytes()), Ok(a));
        assert_eq!(last.read(text_a.as_bytes()), Ok(a));
        for bad in [&b"login"[..], b"", &[0u8; 36]] {
            assert_eq!(last.read(bad), CommandResponse::read_tag(bad));
            assert!(last.read(bad).is_err());
        }
        assert_eq!(last.read(text_a.as_bytes()), Ok(a));
    }

    #[test]
    fn parse_through_the_routes_equals_parse() {
        let mut routes = Routes::new(Arc::default());
        let tag = Uuid::new_v4();
        let tag_word = format!(".tag={tag}");
        let sentences: [&[&str]; 5] = [
            &["!re", &tag_word, "=a=1"],
            &["!re", "=a=2", &tag_word],
            &["!done", &tag_word],
            &["!re", ".tag=nope"],
            &["!fatal", "bye"],
        ];
        for words in sentences {
            let sentence = Sentence::from_words(words);
            assert_eq!(
                routes.parse(sentence.clone()),
                CommandResponse::parse(sentence)
            );
        }
    }
}
