//! The routing table: which stream each tag's replies go to, and what a full
//! or abandoned stream means for its command.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use async_channel::{Receiver, Sender};
use uuid::Uuid;

use super::{BufferPolicy, Item};
use crate::Error;

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
}

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

#[derive(Default)]
pub(crate) struct Routes {
    map: HashMap<Uuid, Route, BuildHasherDefault<TagHasher>>,
}

impl Routes {
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
                }),
                cancelled: false,
            },
        );
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
    }

    /// Hands `item` to the stream of `tag`. `None` when no command has that tag.
    pub(crate) fn deliver(&mut self, tag: Uuid, item: Item, last: bool) -> Option<Next> {
        let route = self.map.get_mut(&tag)?;
        let next = match &route.sink {
            None => Next::Nothing,
            Some(sink) => match sink.push(item, last) {
                Ok(()) => Next::Nothing,
                Err(()) => {
                    route.sink = None;
                    Self::needs_cancel(route, last)
                }
            },
        };
        if last {
            self.map.remove(&tag);
        }
        Some(next)
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
        Self::needs_cancel(route, false)
    }

    fn needs_cancel(route: &mut Route, last: bool) -> Next {
        if last || route.cancelled {
            return Next::Nothing;
        }
        route.cancelled = true;
        Next::Cancel
    }

    /// Gives `item` to every open stream and forgets every command.
    pub(crate) fn close_all(&mut self, item: impl Fn() -> Item) {
        for (_, route) in self.map.drain() {
            if let Some(sink) = route.sink {
                let _ = sink.replies.try_send(item());
            }
        }
    }
}

impl Sink {
    /// Queues `item`; `Err` when the stream is finished early (its reader is
    /// gone, or its buffer overflowed and got the overflow error).
    fn push(&self, item: Item, last: bool) -> Result<(), ()> {
        let full = |capacity: usize| self.replies.len() >= capacity;
        match self.policy {
            BufferPolicy::Bounded(capacity) if !last && full(capacity) => {
                let _ = self.replies.try_send(Err(Error::Overflow { capacity }));
                return Err(());
            }
            BufferPolicy::KeepLatest(capacity) if full(capacity.max(1)) => {
                if let Some(oldest) = &self.oldest {
                    let _ = oldest.try_recv();
                }
            }
            _ => {}
        }
        // Unbounded channel: fails only when the stream was dropped.
        self.replies.try_send(item).map_err(drop)
    }
}
