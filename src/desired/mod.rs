//! Desired state: make a menu hold what you say, as `terraform plan` /
//! `apply` do for infrastructure.
//!
//! 1. Say what a menu should hold: a [`Desired`] with the menu's path, the
//!    fields that identify an item (`list` + `address`), the items, and which
//!    existing items are yours ([`Managed`]).
//! 2. [`Desired::plan`] reads the menu once and computes a [`Plan`]: adds,
//!    sets (each field old → new) and removes. Fields you do not give are left
//!    alone; dynamic and built-in items are never touched; values compare as
//!    the router normalises them ([`same_value`]). Print it (a diff), keep it
//!    (serde, feature `serde`).
//! 3. [`Plan::apply`] checks the menu has not moved since the read, then
//!    writes with many commands in flight on the one connection, removes
//!    before sets before adds, and says per item what happened and whether
//!    the menu now matches.
//!
//! ```no_run
//! # async fn demo(device: mikrotik_rs::MikrotikDevice) -> Result<(), Box<dyn std::error::Error>> {
//! use mikrotik_rs::desired::{ApplyOptions, Desired, Managed};
//!
//! let blocklist = Desired::new("/ip/firewall/address-list", ["list", "address"])
//!     .managed(Managed::all().equal("list", "blocklist"))
//!     .item([("list", "blocklist"), ("address", "192.0.2.7")])
//!     .item([("list", "blocklist"), ("address", "192.0.2.8"), ("comment", "scanner")]);
//! let plan = blocklist.plan(&device).await?;
//! print!("{plan}");
//! let applied = plan.apply(&device, ApplyOptions::default()).await?;
//! assert_eq!(applied.converged(), Some(true));
//! # Ok(()) }
//! ```

mod apply;
mod check;
mod compute;
mod display;
mod fleet;
mod managed;
mod normalise;
mod order;
mod plan;
#[cfg(test)]
mod reference_tests;
#[cfg(feature = "schema")]
mod routeros;
mod schema;
mod spec;
mod table;
#[cfg(feature = "serde")]
mod to_fields;

/// An item's fields: name → value, in name order.
pub type Fields = std::collections::BTreeMap<String, String>;

pub use apply::{Action, Applied, ApplyError, ApplyOptions, ItemResult, Outcome};
pub use fleet::{FleetApplyError, FleetPlans, FleetSummary};
pub use managed::{Condition, Managed};
pub use normalise::same_value;
pub use plan::{Add, Counts, FieldChange, Held, Move, Plan, ReadMark, Remove, Set};
#[cfg(feature = "schema")]
pub use routeros::RouterOsFields;
pub use schema::{FieldNames, FieldVerdict};
pub use spec::Desired;

/// A `!re` row of `key=value` words, for the unit tests of the plan.
#[cfg(test)]
fn test_row(attributes: &[&str]) -> crate::protocol::ReplyResponse {
    use crate::protocol::{CommandResponse, Sentence};
    let mut words: Vec<&[u8]> = vec![b"!re"];
    words.extend(attributes.iter().map(|a| a.as_bytes()));
    words.push(b".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11");
    match CommandResponse::parse(Sentence::from_words(words)) {
        Ok(CommandResponse::Reply(reply)) => reply,
        other => panic!("not a reply: {other:?}"),
    }
}
