//! The diff itself: desired items against one read of the menu.

use std::collections::HashMap;

use super::normalise::{canonical, same_value};
use super::order;
use super::plan::{Add, FieldChange, ReadMark, Remove, Set};
use super::{Desired, Fields, Plan};
use crate::protocol::ReplyResponse;

/// The plan of `desired` against `rows` (a whole `print` of the menu, in the
/// router's order). `desired` has been checked.
pub(crate) fn compute(desired: &Desired, rows: &[ReplyResponse]) -> Plan {
    let keys = desired.keys();
    let managed: Vec<&ReplyResponse> = rows
        .iter()
        .filter(|row| row.get(".id").is_some() && desired.managed_items().manages(row))
        .collect();
    let identity_of = |get: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        keys.iter()
            .map(|k| canonical(k, &get(k).unwrap_or_default()).into_owned())
            .collect()
    };
    // Identity → the managed rows holding it, first first.
    let mut by_identity: HashMap<Vec<String>, Vec<usize>> = HashMap::with_capacity(managed.len());
    for (index, row) in managed.iter().enumerate() {
        let identity = identity_of(&|k| row.get(k).map(str::to_owned));
        by_identity.entry(identity).or_default().push(index);
    }
    let mut matched = vec![false; managed.len()];
    let (mut adds, mut sets) = (Vec::new(), Vec::new());
    // Per desired item, the `.id` of the existing item it is (ordered menus).
    let mut kept: Vec<Option<String>> = Vec::with_capacity(desired.items().len());
    for item in desired.items() {
        let identity = identity_of(&|k| item.get(k).cloned());
        let found = by_identity
            .get_mut(&identity)
            .and_then(|rows| (!rows.is_empty()).then(|| rows.remove(0)));
        let Some(index) = found else {
            adds.push((
                kept.len(),
                Add {
                    fields: item.clone(),
                    place_before: None,
                },
            ));
            kept.push(None);
            continue;
        };
        matched[index] = true;
        let row = managed[index];
        kept.push(row.get(".id").map(str::to_owned));
        let changes: Vec<FieldChange> = item
            .iter()
            .filter(|(field, _)| !keys.contains(field))
            .filter(|(field, value)| !same_value(field, row.get(field), value))
            .map(|(field, value)| FieldChange {
                field: field.clone(),
                old: row.get(field).map(str::to_owned),
                new: value.clone(),
            })
            .collect();
        if !changes.is_empty() {
            sets.push(Set {
                id: row.get(".id").unwrap_or_default().to_owned(),
                identity: identity_fields(keys, row),
                changes,
            });
        }
    }
    let removes = managed
        .iter()
        .zip(&matched)
        .filter(|(_, matched)| !**matched)
        .map(|(row, _)| Remove {
            id: row.get(".id").unwrap_or_default().to_owned(),
            identity: identity_fields(keys, row),
        })
        .collect();
    let mut moves = Vec::new();
    if desired.is_ordered() {
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get(".id").map(str::to_owned))
            .collect();
        let kept_ids: Vec<String> = kept.iter().flatten().cloned().collect();
        moves = order::moves(&ids, &kept_ids);
        // Each new item goes right before the next kept item in desired order.
        for (at, add) in &mut adds {
            add.place_before = kept[*at + 1..].iter().flatten().next().cloned();
        }
    }
    Plan {
        read: read_mark(desired, &managed, rows),
        desired: desired.clone(),
        adds: adds.into_iter().map(|(_, add)| add).collect(),
        sets,
        removes,
        moves,
    }
}

fn identity_fields(keys: &[String], row: &ReplyResponse) -> Fields {
    keys.iter()
        .filter_map(|k| row.get(k).map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// The hash of what a plan depends on: each managed item's `.id` and the
/// values of every field the desired state names (keys, given fields,
/// conditions), in the router's order. Counters and other fields the plan
/// never reads do not make it stale.
/// In an ordered menu, the order of every row's `.id` counts too.
fn read_mark(desired: &Desired, managed: &[&ReplyResponse], rows: &[ReplyResponse]) -> ReadMark {
    let mut fields: Vec<&str> = desired
        .items()
        .iter()
        .flat_map(|i| i.keys().map(String::as_str))
        .chain(desired.keys().iter().map(String::as_str))
        .chain(desired.managed_items().conditions.iter().map(|c| c.field()))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let mut hash = Fnv::new();
    for row in managed {
        hash.write(row.get(".id").unwrap_or_default().as_bytes());
        for field in &fields {
            hash.write(field.as_bytes());
            match row.get_raw(field) {
                Some(value) => hash.write(value),
                None => hash.write(&[0xff]),
            }
        }
        hash.write(b"\n");
    }
    if desired.is_ordered() {
        for row in rows {
            hash.write(row.get(".id").unwrap_or_default().as_bytes());
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
