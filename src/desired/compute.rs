//! The diff itself: desired items against one read of the menu.

use std::sync::Arc;

use super::check::CheckedItems;
use super::managed::is_routers_own;
use super::normalise::{same_value, write_identity};
use super::order;
use super::plan::{Add, FieldChange, ReadMark, Remove, Set};
use super::table::{FLAGS, Table};
use super::{Desired, Fields, Plan};
use crate::protocol::ReplyResponse;

/// The plan of `desired` against `rows` (a whole `print` of the menu, in the
/// router's order). `desired` has been checked, which found `checked`.
pub(crate) fn compute(desired: &Desired, checked: &CheckedItems, rows: &[ReplyResponse]) -> Plan {
    let keys = desired.keys();
    let table = table(checked, rows);
    let id = table.column(".id");
    let managed = managed_rows(desired, &table, rows.len());
    // Each desired item's row: the first managed row with its identity. A
    // later row with the same identity is a duplicate: removed.
    let key_columns: Vec<Option<usize>> = keys.iter().map(|k| table.column(k)).collect();
    let mut row_of: Vec<Option<usize>> = vec![None; desired.items().len()];
    let mut matched = vec![false; managed.len()];
    let mut identity = Vec::new();
    for (index, &row) in managed.iter().enumerate() {
        write_identity(&mut identity, keys, |at, _| {
            table.raw(row, key_columns[at]).map(String::from_utf8_lossy)
        });
        if let Some(&item) = checked.item_of.get(identity.as_slice())
            && row_of[item].is_none()
        {
            row_of[item] = Some(index);
            matched[index] = true;
        }
    }
    let identity_fields = |row: usize| -> Fields {
        keys.iter()
            .zip(&key_columns)
            .filter_map(|(k, &column)| table.text(row, column).map(|v| (k.clone(), v.to_owned())))
            .collect()
    };
    let (mut adds, mut sets) = (Vec::new(), Vec::new());
    // Per desired item, the `.id` of the existing item it is (ordered menus).
    let mut kept: Vec<Option<&str>> = Vec::with_capacity(desired.items().len());
    for (item, row) in desired.items().iter().zip(row_of) {
        let Some(index) = row else {
            adds.push((
                kept.len(),
                Add {
                    fields: Arc::clone(item),
                    place_before: None,
                },
            ));
            kept.push(None);
            continue;
        };
        let row = managed[index];
        kept.push(table.text(row, id));
        let changes: Vec<FieldChange> = item
            .iter()
            .filter(|(field, _)| !keys.contains(field))
            .filter_map(|(field, value)| {
                let current = table.raw(row, table.column(field));
                (!holds(field, current, value)).then(|| FieldChange {
                    field: field.clone(),
                    old: current.map(|bytes| String::from_utf8_lossy(bytes).into_owned()),
                    new: value.clone(),
                })
            })
            .collect();
        if !changes.is_empty() {
            sets.push(Set {
                id: table.text(row, id).unwrap_or_default().to_owned(),
                identity: identity_fields(row),
                changes,
            });
        }
    }
    let removes = managed
        .iter()
        .zip(&matched)
        .filter(|(_, matched)| !**matched)
        .map(|(&row, _)| Remove {
            id: table.text(row, id).unwrap_or_default().to_owned(),
            identity: identity_fields(row),
        })
        .collect();
    let mut moves = Vec::new();
    if desired.is_ordered() {
        let ids: Vec<String> = (0..rows.len())
            .filter_map(|row| table.text(row, id).map(str::to_owned))
            .collect();
        let kept_ids: Vec<String> = kept.iter().flatten().map(|id| (*id).to_owned()).collect();
        moves = order::moves(&ids, &kept_ids);
        // Each new item goes right before the next kept item in desired
        // order: one pass from the end, not a search per add.
        let mut next_kept: Vec<Option<&str>> = vec![None; kept.len() + 1];
        for at in (0..kept.len()).rev() {
            next_kept[at] = kept[at].or(next_kept[at + 1]);
        }
        for (at, add) in &mut adds {
            add.place_before = next_kept[*at + 1].map(str::to_owned);
        }
    }
    Plan {
        read: read_mark(desired, checked, &table, &managed, rows.len()),
        desired: desired.clone(),
        adds: adds.into_iter().map(|(_, add)| add).collect(),
        sets,
        removes,
        moves,
    }
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

/// Every field a plan reads from `rows`, read once.
fn table<'d, 'r>(checked: &'d CheckedItems, rows: &'r [ReplyResponse]) -> Table<'d, 'r> {
    Table::new(checked.field_names().chain([".id"]).chain(FLAGS), rows)
}

/// The rows (indexes into the table) a plan may change or remove: as
/// [`Managed::manages`](super::Managed::manages), with each column found once.
fn managed_rows(desired: &Desired, table: &Table<'_, '_>, rows: usize) -> Vec<usize> {
    let id = table.column(".id");
    let flags = FLAGS.map(|flag| table.column(flag));
    let conditions: Vec<_> = desired
        .managed_items()
        .conditions
        .iter()
        .map(|c| (c, table.column(c.field())))
        .collect();
    (0..rows)
        .filter(|&row| {
            table.text(row, id).is_some()
                && !is_routers_own(flags.map(|flag| table.text(row, flag)))
                && conditions
                    .iter()
                    .all(|(condition, column)| condition.holds(table.text(row, *column)))
        })
        .collect()
}

/// The [`ReadMark`] a plan of `desired` against `rows` would have, without
/// computing the plan: an apply's precondition needs only this when the
/// menu has not moved.
pub(crate) fn mark_of(
    desired: &Desired,
    checked: &CheckedItems,
    rows: &[ReplyResponse],
) -> ReadMark {
    let table = table(checked, rows);
    let managed = managed_rows(desired, &table, rows.len());
    read_mark(desired, checked, &table, &managed, rows.len())
}

/// The hash of what a plan depends on: each managed item's `.id` and the
/// values of every field the desired state names (keys, given fields,
/// conditions), in the router's order. Counters and other fields the plan
/// never reads do not make it stale.
/// In an ordered menu, the order of every row's `.id` counts too.
fn read_mark(
    desired: &Desired,
    checked: &CheckedItems,
    table: &Table<'_, '_>,
    managed: &[usize],
    rows: usize,
) -> ReadMark {
    let fields: Vec<(&str, Option<usize>)> = checked
        .field_names()
        .map(|name| (name, table.column(name)))
        .collect();
    let id = table.column(".id");
    let mut hash = Fnv::new();
    for &row in managed {
        hash.write(table.text(row, id).unwrap_or_default().as_bytes());
        for (field, column) in &fields {
            hash.write(field.as_bytes());
            match table.raw(row, *column) {
                Some(value) => hash.write(value),
                None => hash.write(&[0xff]),
            }
        }
        hash.write(b"\n");
    }
    if desired.is_ordered() {
        for row in 0..rows {
            hash.write(table.text(row, id).unwrap_or_default().as_bytes());
        }
    }
    ReadMark {
        managed: managed.len(),
        digest: hash.0,
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
