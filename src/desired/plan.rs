//! [`Plan`]: what would make a menu match its [`Desired`] state, computed
//! from one read, to show, keep and apply.

use std::sync::Arc;

use super::{Desired, Fields};

/// One field a [`Set`] changes: the router's value and the desired one.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// What the router holds (`None`: not set).
    pub old: Option<String>,
    /// What it will hold.
    pub new: String,
}

/// An item to add, with every field given.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Add {
    /// The item's fields (shared with the [`Desired`] item it adds).
    pub fields: Arc<Fields>,
    /// In an ordered menu: the `.id` of the existing item it is added right
    /// before (`place-before`); `None`: at the end.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub place_before: Option<String>,
}

/// An existing item moved, in an ordered menu (`move`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Move {
    /// The item moved.
    pub id: String,
    /// The item it is moved right before; `None`: to the end.
    pub before: Option<String>,
}

/// An existing item whose fields differ from the desired ones.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Set {
    /// The router's `.id` of the item, as read.
    pub id: String,
    /// The item's identity (its key fields).
    pub identity: Fields,
    /// Each field that changes, in field order.
    pub changes: Vec<FieldChange>,
}

/// A managed item that is not desired (or a second item with a desired identity).
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Remove {
    /// The router's `.id` of the item, as read.
    pub id: String,
    /// The item's identity (its key fields, as the router printed them).
    pub identity: Fields,
}

/// An existing item the plan may not touch (dynamic, built-in, or outside
/// [`Managed`](super::Managed)'s conditions) that holds the identity of a
/// desired item: the plan adds that item anyway, and a router that keeps
/// identities unique (an address list) refuses the add.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Held {
    /// The router's `.id` of the item holding the identity.
    pub id: String,
    /// The identity (its key fields, as the router printed them).
    pub identity: Fields,
}

/// What the plan was computed from, to tell at apply time whether the menu
/// has moved since: the managed items' ids and the fields the plan reads,
/// in the router's order, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReadMark {
    /// How many managed items the read found.
    pub managed: usize,
    /// FNV-1a of what the plan depends on (stable across processes and releases of this crate's format).
    pub digest: u64,
}

/// The adds, sets and removes that make a menu match a [`Desired`] state.
///
/// Made by [`Desired::plan`]; shown by its `Display` (a diff in the style of
/// `terraform plan`); kept with serde (feature `serde`) to be reviewed and
/// applied later with [`Plan::apply`], which refuses it if the menu has
/// moved since it was read.
///
/// Secrets (a `/ppp/secret` password, a WireGuard `private-key`: whatever
/// [`is_secret`](crate::protocol::secrets::is_secret) names) are redacted in
/// `Display` and `Debug`. A *serialised* plan keeps them in clear, because it
/// must still apply: store it as you store the secrets themselves, or plan
/// again where they are kept instead of shipping the plan.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Plan {
    /// What the plan is for (kept so it can be planned again).
    pub desired: Desired,
    /// Items to add, in the desired order.
    pub adds: Vec<Add>,
    /// Items to change, in the desired order.
    pub sets: Vec<Set>,
    /// Items to remove, in the router's order.
    pub removes: Vec<Remove>,
    /// Moves that put the kept items in the desired order, in the order they
    /// are made (only with [`Desired::ensure_order`]).
    #[cfg_attr(feature = "serde", serde(default))]
    pub moves: Vec<Move>,
    /// Desired identities already held by items the plan may not touch, in
    /// the router's order: shown as warnings, never written to.
    #[cfg_attr(feature = "serde", serde(default))]
    pub held: Vec<Held>,
    /// What the plan was computed from.
    pub read: ReadMark,
}

impl Plan {
    /// Whether there is nothing to do: the menu matches.
    pub fn is_empty(&self) -> bool {
        self.adds.is_empty()
            && self.sets.is_empty()
            && self.removes.is_empty()
            && self.moves.is_empty()
    }

    /// How many commands applying it sends (without its reads).
    pub fn len(&self) -> usize {
        self.adds.len() + self.sets.len() + self.removes.len() + self.moves.len()
    }

    /// The counts, as `terraform plan` gives them.
    pub fn counts(&self) -> Counts {
        Counts {
            add: self.adds.len(),
            change: self.sets.len(),
            remove: self.removes.len(),
            moves: self.moves.len(),
        }
    }
}

/// How many items a plan adds, changes and removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Items to add.
    pub add: usize,
    /// Items to change.
    pub change: usize,
    /// Items to remove.
    pub remove: usize,
    /// Moves (ordered menus).
    pub moves: usize,
}
