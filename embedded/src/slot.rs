//! One command in flight: its tag and a queue of fixed capacity for the
//! replies that arrived while nobody was reading them.

use mikrotik_rs_protocol::ProtocolError;
use mikrotik_rs_protocol::{CommandResponse, uuid::Uuid};

/// A reply as a command's reader gets it: the reply, or why one of its
/// sentences could not be read (the command goes on).
pub(crate) type Queued = Result<CommandResponse, ProtocolError>;

/// What became of a reply handed to [`Slot::deliver`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// Queued for the reader.
    Queued,
    /// Dropped on purpose: the command was cancelled, or it overflowed before.
    Discarded,
    /// Dropped because the queue was full: the command now reports overflow.
    Overflowed,
}

pub(crate) struct Slot<const QUEUE: usize> {
    /// The command's tag; `None` when the slot is free.
    pub(crate) tag: Option<Uuid>,
    ring: [Option<Queued>; QUEUE],
    head: usize,
    len: usize,
    /// The `!done` has arrived: nothing more comes for this tag.
    pub(crate) finished: bool,
    /// Replies are dropped on arrival (a cancelled command).
    pub(crate) discard: bool,
    /// The tag of the `/cancel` sent for this command, whose replies this
    /// slot also takes (and drops): a cancel needs no slot of its own.
    pub(crate) cancel_tag: Option<Uuid>,
    /// The `/cancel`'s `!done` has arrived.
    cancel_finished: bool,
    /// Replies dropped because the queue was full (reported once, then none).
    dropped: u32,
    overflow_reported: bool,
}

impl<const QUEUE: usize> Slot<QUEUE> {
    pub(crate) fn free() -> Self {
        Self {
            tag: None,
            ring: core::array::from_fn(|_| None),
            head: 0,
            len: 0,
            finished: false,
            discard: false,
            cancel_tag: None,
            cancel_finished: false,
            dropped: 0,
            overflow_reported: false,
        }
    }

    /// Takes the slot for a new command; any old state goes.
    pub(crate) fn occupy(&mut self, tag: Uuid) {
        *self = Self::free();
        self.tag = Some(tag);
    }

    /// From now on the command's replies are dropped, and so are those of
    /// the `/cancel` sent under `cancel_tag`; what was queued goes.
    pub(crate) fn cancel(&mut self, cancel_tag: Uuid) {
        let tag = self.tag;
        *self = Self::free();
        self.tag = tag;
        self.discard = true;
        self.cancel_tag = Some(cancel_tag);
    }

    /// Whether replies under `tag` belong here.
    pub(crate) fn takes(&self, tag: Uuid) -> bool {
        self.tag == Some(tag) || self.cancel_tag == Some(tag)
    }

    /// A reply of the `/cancel` sent for this command: dropped.
    pub(crate) fn deliver_to_cancel(&mut self, is_done: bool) {
        if is_done {
            self.cancel_finished = true;
        }
    }

    /// A cancelled command whose replies and whose `/cancel`'s replies have
    /// all come: the slot can go.
    pub(crate) fn is_cancelled_and_over(&self) -> bool {
        self.discard && self.is_spent()
    }

    pub(crate) fn release(&mut self) {
        *self = Self::free();
    }

    /// Stores a reply for the reader; `is_done` marks the command's end.
    pub(crate) fn deliver(&mut self, reply: Queued, is_done: bool) -> Delivered {
        if is_done {
            self.finished = true;
        }
        if self.discard {
            return Delivered::Discarded;
        }
        if self.dropped > 0 {
            self.dropped = self.dropped.saturating_add(1);
            return Delivered::Discarded;
        }
        if self.len == QUEUE {
            self.dropped = 1;
            return Delivered::Overflowed;
        }
        let at = (self.head + self.len) % QUEUE;
        self.ring[at] = Some(reply);
        self.len += 1;
        Delivered::Queued
    }

    /// The oldest queued reply.
    pub(crate) fn pop(&mut self) -> Option<Queued> {
        if self.len == 0 {
            return None;
        }
        let reply = self.ring[self.head].take();
        self.head = (self.head + 1) % QUEUE;
        self.len -= 1;
        reply
    }

    /// Once the queue is read out after an overflow: how many were dropped
    /// (reported once).
    pub(crate) fn take_overflow(&mut self) -> Option<u32> {
        (self.len == 0 && self.dropped > 0 && !self.overflow_reported).then(|| {
            self.overflow_reported = true;
            self.dropped
        })
    }

    /// Nothing more will be handed to a reader: free the slot.
    pub(crate) fn is_spent(&self) -> bool {
        self.finished
            && self.len == 0
            && (self.dropped == 0 || self.overflow_reported)
            && (self.cancel_tag.is_none() || self.cancel_finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mikrotik_rs_protocol::EmptyResponse;

    fn reply(n: u128) -> Queued {
        Ok(CommandResponse::Empty(EmptyResponse {
            tag: Uuid::from_u128(n),
        }))
    }

    #[test]
    fn a_full_queue_overflows_once_and_reports_what_it_dropped() {
        let mut slot = Slot::<2>::free();
        slot.occupy(Uuid::from_u128(1));
        assert_eq!(slot.deliver(reply(1), false), Delivered::Queued);
        assert_eq!(slot.deliver(reply(2), false), Delivered::Queued);
        assert_eq!(slot.deliver(reply(3), false), Delivered::Overflowed);
        assert_eq!(slot.deliver(reply(4), true), Delivered::Discarded);
        assert!(slot.finished);
        assert_eq!(slot.take_overflow(), None, "queued replies come first");
        assert_eq!(slot.pop(), Some(reply(1)));
        assert_eq!(slot.pop(), Some(reply(2)));
        assert!(!slot.is_spent());
        assert_eq!(slot.take_overflow(), Some(2));
        assert_eq!(slot.take_overflow(), None);
        assert!(slot.is_spent());
    }

    #[test]
    fn the_ring_wraps() {
        let mut slot = Slot::<2>::free();
        slot.occupy(Uuid::from_u128(1));
        for n in 0..10 {
            assert_eq!(slot.deliver(reply(n), false), Delivered::Queued);
            assert_eq!(slot.pop(), Some(reply(n)));
        }
        assert_eq!(slot.pop(), None);
    }
}
