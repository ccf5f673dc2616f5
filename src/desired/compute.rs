//! The diff itself: desired items against one read of the menu.

use std::sync::Arc;

use super::check::CheckedItems;
use super::managed::Condition;
use super::managed::is_routers_own;
use super::normalise::{same_value, write_identity};
use super::order;
use super::plan::{Add, FieldChange, Held, ReadMark, Remove, Set};
use super::table::{Cells, Columns, FLAGS, raw, text};
use super::{Desired, Fields, Plan};
use crate::protocol::ReplyResponse;

/// The plan of `desired` against `rows` (a whole `print` of the menu, in the
/// router's order). `desired` has been checked, which found `checked`.
pub(crate) fn compute(desired: &Desired, checked: &CheckedItems, rows: &[ReplyResponse]) -> Plan {
    let mut planner = Planner::new(desired, checked, true);
    for row in rows {
        planner.row(row);
    }
    planner.plan()
}

/// The [`ReadMark`] a plan of `desired` against `rows` would have, without
/// computing the plan: an apply's precondition needs only this when the
/// menu has not moved.
pub(crate) fn mark_of(
    desired: &Desired,
    checked: &CheckedItems,
    rows: &[ReplyResponse],
) -> ReadMark {
    let mut planner = Planner::new(desired, checked, false);
    for row in rows {
        planner.row(row);
    }
    planner.mark()
}

/// A plan worked out row by row, in the router's order, as a print's rows
/// arrive: each row's words are walked once and the row is not kept, so
/// the work on 10,000 rows goes on while the rest are still on the wire.
pub(crate) struct Planner<'d> {
    /// Where each field sits in a row's cells.
    columns: Columns<'d>,
    /// What the rows taken so far make of the plan.
    planned: Planned<'d>,
}

/// A [`Planner`]'s work so far, and what it needs to go on.
struct Planned<'d> {
    desired: &'d Desired,
    checked: &'d CheckedItems,
    id: Option<usize>,
    flags: [Option<usize>; 3],
    conditions: Vec<(&'d Condition, Option<usize>)>,
    keys: Vec<Option<usize>>,
    /// The fields the read mark hashes (every field the desired state
    /// names, in name order), with their columns.
    marked: Vec<Marked<'d>>,
    /// `false`: only the read mark is wanted.
    whole: bool,
    hash: Fnv,
    managed: usize,
    /// Every row's `.id`, in the router's order (ordered menus).
    ids: Vec<Option<String>>,
    /// Per desired item, whether a managed row is it.
    found: Vec<bool>,
    /// Ordered menus only (where new items are placed before kept ones):
    /// per desired item, the `.id` of the managed row that is it.
    kept: Vec<Option<String>>,
    /// Per item index, the changes of its row.
    sets: Vec<(usize, Set)>,
    removes: Vec<Remove>,
    held: Vec<Held>,
    /// One identity at a time, written here.
    identity: Vec<u8>,
}

/// A field the desired state names, where it sits in a row's cells, and
/// whether it is an identity key (compared as the identity, never set).
struct Marked<'d> {
    name: &'d str,
    column: Option<usize>,
    key: bool,
}

/// Every field of a desired item is among the fields the check found
/// (`CheckedItems::field_names`); were one not, it would read as absent
/// from the row (a change), which is what a field the menu lacks is.
fn unreachable_field(field: &str) -> Option<usize> {
    debug_assert!(false, "field {field:?} is not among the desired fields");
    None
}

impl<'d> Planner<'d> {
    /// A planner for `desired`; with `whole` false it works out the read mark only.
    pub(crate) fn new(desired: &'d Desired, checked: &'d CheckedItems, whole: bool) -> Self {
        let columns = Columns::new(checked.field_names().chain([".id"]).chain(FLAGS));
        let conditions = desired
            .managed_items()
            .conditions
            .iter()
            .map(|c| (c, columns.column(c.field())))
            .collect();
        let planned = Planned {
            id: columns.column(".id"),
            flags: FLAGS.map(|flag| columns.column(flag)),
            conditions,
            keys: desired.keys().iter().map(|k| columns.column(k)).collect(),
            marked: checked
                .field_names()
                .map(|name| Marked {
                    name,
                    column: columns.column(name),
                    key: desired.keys().iter().any(|key| key == name),
                })
                .collect(),
            desired,
            checked,
            whole,
            hash: Fnv::new(),
            managed: 0,
            ids: Vec::new(),
            found: vec![false; if whole { desired.items().len() } else { 0 }],
            kept: vec![
                None;
                if whole && desired.is_ordered() {
                    desired.items().len()
                } else {
                    0
                }
            ],
            sets: Vec::new(),
            removes: Vec::new(),
            held: Vec::new(),
            identity: Vec::new(),
        };
        Self { columns, planned }
    }

    /// Takes the next row of the print.
    pub(crate) fn row(&mut self, row: &ReplyResponse) {
        let planned = &mut self.planned;
        self.columns.read(row, |cells| planned.cells(cells));
    }

    /// The read mark of the rows taken (see [`Planned::mark`]).
    pub(crate) fn mark(&self) -> ReadMark {
        self.planned.mark()
    }

    /// The plan of the rows taken (planner made with `whole`).
    pub(crate) fn plan(self) -> Plan {
        self.planned.plan()
    }
}

impl<'d> Planned<'d> {
    fn cells(&mut self, cells: &Cells<'_>) {
        let id = text(cells, self.id);
        if self.desired.is_ordered() {
            self.ids.push(id.map(str::to_owned));
        }
        // The rows a plan may change or remove: as `Managed::manages`.
        let managed = id.is_some()
            && !is_routers_own(self.flags.map(|flag| text(cells, flag)))
            && self
                .conditions
                .iter()
                .all(|(condition, column)| condition.holds(text(cells, *column)));
        let Some(id) = id else {
            return;
        };
        if !managed {
            if self.whole {
                self.note_held(cells, id);
            }
            return;
        }
        self.managed += 1;
        self.hash.write(id.as_bytes());
        for marked in &self.marked {
            self.hash.write(marked.name.as_bytes());
            match raw(cells, marked.column) {
                Some(value) => self.hash.write(value),
                None => self.hash.write(&[0xff]),
            }
        }
        self.hash.write(b"\n");
        if !self.whole {
            return;
        }
        let keys = self.desired.keys();
        let key_columns = &self.keys;
        write_identity(&mut self.identity, keys, |at, _| {
            raw(cells, key_columns[at]).map(String::from_utf8_lossy)
        });
        let identity_fields = || identity_fields(keys, key_columns, cells);
        // The first managed row with a desired identity is that item; a
        // later one with the same identity is a duplicate: removed.
        let item = self
            .checked
            .item_of
            .get(self.identity.as_slice())
            .copied()
            .filter(|&item| !self.found[item]);
        let Some(item) = item else {
            self.removes.push(Remove {
                id: id.to_owned(),
                identity: identity_fields(),
            });
            return;
        };
        self.found[item] = true;
        if let Some(kept) = self.kept.get_mut(item) {
            *kept = Some(id.to_owned());
        }
        // The item's fields and `marked` are both in name order: one walk
        // finds every field's column, with no search per field.
        let mut marked = self.marked.iter();
        let changes: Vec<FieldChange> = self.desired.items()[item]
            .iter()
            .filter_map(|(field, value)| {
                let column = match marked.find(|m| m.name == field) {
                    Some(m) if m.key => return None,
                    Some(m) => m.column,
                    None => unreachable_field(field),
                };
                let current = raw(cells, column);
                (!holds(field, current, value)).then(|| FieldChange {
                    field: field.clone(),
                    old: current.map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
                    new: value.clone(),
                })
            })
            .collect();
        if !changes.is_empty() {
            let set = Set {
                id: id.to_owned(),
                identity: identity_fields(),
                changes,
            };
            self.sets.push((item, set));
        }
    }

    /// Notes a row the plan may not touch that holds a desired identity.
    fn note_held(&mut self, cells: &Cells<'_>, id: &str) {
        let keys = self.desired.keys();
        let key_columns = &self.keys;
        write_identity(&mut self.identity, keys, |at, _| {
            raw(cells, key_columns[at]).map(String::from_utf8_lossy)
        });
        if self.checked.item_of.contains_key(self.identity.as_slice()) {
            self.held.push(Held {
                id: id.to_owned(),
                identity: identity_fields(keys, key_columns, cells),
            });
        }
    }

    /// The read mark of the rows taken: each managed item's `.id` and the
    /// values of every field the desired state names (keys, given fields,
    /// conditions), in the router's order. Counters and other fields the
    /// plan never reads do not make it stale. In an ordered menu, the order
    /// of every row's `.id` counts too.
    fn mark(&self) -> ReadMark {
        let mut hash = Fnv(self.hash.0);
        if self.desired.is_ordered() {
            for id in &self.ids {
                hash.write(id.as_deref().unwrap_or_default().as_bytes());
            }
        }
        ReadMark {
            managed: self.managed,
            digest: hash.0,
        }
    }

    fn plan(mut self) -> Plan {
        let read = self.mark();
        let desired = self.desired;
        let mut adds: Vec<(usize, Add)> = desired
            .items()
            .iter()
            .zip(&self.found)
            .enumerate()
            .filter(|(_, (_, found))| !**found)
            .map(|(at, (item, _))| {
                let add = Add {
                    fields: Arc::clone(item),
                    place_before: None,
                };
                (at, add)
            })
            .collect();
        self.sets.sort_by_key(|(item, _)| *item);
        let mut moves = Vec::new();
        if desired.is_ordered() {
            let ids: Vec<String> = self.ids.iter().flatten().cloned().collect();
            let kept_ids: Vec<String> = self.kept.iter().flatten().cloned().collect();
            moves = order::moves(&ids, &kept_ids);
            // Each new item goes right before the next kept item in desired
            // order: one pass from the end, not a search per add.
            let kept = &self.kept;
            let mut next_kept: Vec<Option<&String>> = vec![None; kept.len() + 1];
            for at in (0..kept.len()).rev() {
                next_kept[at] = kept[at].as_ref().or(next_kept[at + 1]);
            }
            for (at, add) in &mut adds {
                add.place_before = next_kept[*at + 1].cloned();
            }
        }
        Plan {
            read,
            desired: desired.clone(),
            adds: adds.into_iter().map(|(_, add)| add).collect(),
            sets: self.sets.into_iter().map(|(_, set)| set).collect(),
            removes: self.removes,
            moves,
            held: self.held,
        }
    }
}

/// A row's identity as the router printed it: its key fields.
fn identity_fields(keys: &[String], columns: &[Option<usize>], cells: &Cells<'_>) -> Fields {
    keys.iter()
        .zip(columns)
        .filter_map(|(k, &column)| text(cells, column).map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// Whether the router's value of `field` (`None`: not printed) holds
/// `desired`. A value whose bytes are not UTF-8 never equals a desired one
/// (which is text): the plan sets it rather than call it unchanged.
fn holds(field: &str, current: Option<&[u8]>, desired: &str) -> bool {
    match current.map(std::str::from_utf8) {
        None => same_value(field, None, desired),
        Some(Ok(current)) => same_value(field, Some(current), desired),
        Some(Err(_)) => false,
    }
}

/// 64-bit FNV-1a: small, stable, and enough to notice a change (not a defence).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("ab","c") and ("a","bc") differ.
        self.0 ^= 0x1f;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

#[cfg(test)]
mod tests {
    use crate::desired::{Desired, Managed};
    // `Managed::all()`: the other list is managed too, so only the identity tells them apart.
    use crate::desired::test_row as row;
    use crate::protocol::{CommandResponse, Sentence};

    #[test]
    fn a_list_named_like_a_duration_or_a_boolean_is_another_list() {
        for (theirs, ours) in [("1d", "24h"), ("yes", "true"), ("1m", "60")] {
            let rows = [row(&[
                "=.id=*1",
                &format!("=list={theirs}"),
                "=address=192.0.2.1",
            ])];
            let desired = Desired::new("/ip/firewall/address-list", ["list", "address"])
                .managed(Managed::all())
                .item([("list", ours), ("address", "192.0.2.1")]);
            let plan = desired.plan_against(&rows).unwrap();
            assert_eq!(
                plan.adds.len(),
                1,
                "list {ours} is not list {theirs}: the entry must be added\n{plan}"
            );
        }
    }

    #[test]
    fn a_second_row_with_a_desired_identity_is_removed_and_the_first_kept() {
        let rows = [
            row(&["=.id=*1", "=list=a", "=address=192.0.2.1/32", "=comment=x"]),
            row(&["=.id=*2", "=list=a", "=address=192.0.2.1", "=comment=y"]),
            row(&["=.id=*3", "=list=a", "=address=192.0.2.2", "=comment=y"]),
        ];
        let desired = Desired::new("/ip/firewall/address-list", ["list", "address"])
            .item([("list", "a"), ("address", "192.0.2.1"), ("comment", "y")])
            .item([("list", "a"), ("address", "192.0.2.2"), ("comment", "y")]);
        let plan = desired.plan_against(&rows).unwrap();
        let sets: Vec<&str> = plan.sets.iter().map(|s| s.id.as_str()).collect();
        let removes: Vec<&str> = plan.removes.iter().map(|r| r.id.as_str()).collect();
        assert_eq!((sets, removes), (vec!["*1"], vec!["*2"]), "{plan}");
        assert!(plan.adds.is_empty(), "{plan}");
    }

    #[test]
    fn a_secret_is_compared_as_written() {
        for (theirs, ours) in [("yes", "true"), ("1d", "24h"), ("no", "false")] {
            let rows = [row(&[
                "=.id=*1",
                "=name=alice",
                &format!("=password={theirs}"),
            ])];
            let desired =
                Desired::new("/ppp/secret", ["name"]).item([("name", "alice"), ("password", ours)]);
            let plan = desired.plan_against(&rows).unwrap();
            assert_eq!(plan.sets.len(), 1, "password {theirs} → {ours} must be set");
        }
    }

    #[test]
    fn a_comment_the_router_cannot_show_as_text_is_not_empty() {
        // A comment of Latin-1 bytes: not UTF-8 on the wire.
        let words: [&[u8]; 5] = [
            b"!re",
            b"=.id=*1",
            b"=name=alice",
            b"=comment=caf\xe9",
            b".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11",
        ];
        let latin = match CommandResponse::parse(Sentence::from_words(words)) {
            Ok(CommandResponse::Reply(reply)) => reply,
            other => panic!("not a reply: {other:?}"),
        };
        let rows = [row(&["=.id=*1", "=name=alice", "=comment=café"])];
        let desired =
            Desired::new("/ppp/secret", ["name"]).item([("name", "alice"), ("comment", "")]);
        assert_eq!(desired.plan_against(&rows).unwrap().sets.len(), 1);
        assert_eq!(
            desired.plan_against(&[latin]).unwrap().sets.len(),
            1,
            "a comment of bytes that are not UTF-8 is not the empty comment"
        );
    }

    #[test]
    fn a_mac_or_an_address_written_otherwise_is_the_same_value() {
        // RouterOS prints MAC addresses in upper case and IPv6 addresses
        // compressed in lower case, whatever was written.
        let rows = [row(&[
            "=.id=*1",
            "=mac-address=AA:BB:CC:0D:EE:FF",
            "=address=2001:db8::1",
        ])];
        let desired = Desired::new("/ip/dhcp-server/lease", ["mac-address"]).item([
            ("mac-address", "aa:bb:cc:0d:ee:ff"),
            ("address", "2001:DB8:0::1"),
        ]);
        let plan = desired.plan_against(&rows).unwrap();
        assert!(plan.is_empty(), "the lease is already as desired:\n{plan}");
    }
}
