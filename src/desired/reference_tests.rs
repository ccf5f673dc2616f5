//! The plan against a reference: the implementation before the performance
//! rework (commit 14f9ac8: `compute.rs`, `check` in `spec.rs`, `address` in
//! `normalise.rs`), kept here verbatim in substance, compared with today's
//! over generated menus. Any drift in identity matching, duplicates, flags,
//! conditions, non-UTF-8 values, repeated keys, rows without `.id`, order
//! or the [`ReadMark`] digest shows up as a difference.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;

use super::normalise::same_value;
use super::plan::{Add, FieldChange, Held, ReadMark, Remove, Set};
use super::{Desired, Fields, Managed, Plan, order};
use crate::protocol::{CommandResponse, ReplyResponse, Sentence};

/// `address` as it was: the form RouterOS prints an address in.
fn old_address(value: &str) -> Option<String> {
    let (host, prefix) = match value.split_once('/') {
        Some((host, prefix)) => (host, Some(prefix)),
        None => (value, None),
    };
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let width = if ip.is_ipv4() { 32 } else { 128 };
        return match prefix.map(str::parse::<u8>) {
            None => Some(ip.to_string()),
            Some(Ok(bits)) if bits == width => Some(ip.to_string()),
            Some(Ok(bits)) if bits < width => Some(format!("{ip}/{bits}")),
            Some(_) => None,
        };
    }
    let groups: Vec<&str> = value.split(':').collect();
    let mac = prefix.is_none()
        && groups.len() == 6
        && groups
            .iter()
            .all(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_hexdigit()));
    mac.then(|| value.to_ascii_uppercase())
}

fn old_canonical_key(value: &str) -> String {
    old_address(value).unwrap_or_else(|| value.to_owned())
}

fn old_manages(managed: &Managed, row: &ReplyResponse) -> bool {
    let untouchable = ["dynamic", "builtin", "default"]
        .iter()
        .any(|flag| matches!(row.get(flag), Some("true" | "yes")));
    !untouchable
        && managed.conditions.iter().all(|c| {
            let got = row.get(c.field()).map(str::to_owned);
            match c {
                super::Condition::Equal { value, .. } => got.as_deref() == Some(value.as_str()),
                super::Condition::Contains { text, .. } => {
                    got.is_some_and(|v| v.contains(text.as_str()))
                }
            }
        })
}

fn old_admits(managed: &Managed, item: &Fields) -> bool {
    managed.conditions.iter().all(|c| {
        let got = item.get(c.field()).cloned();
        match c {
            super::Condition::Equal { value, .. } => got.as_deref() == Some(value.as_str()),
            super::Condition::Contains { text, .. } => {
                got.is_some_and(|v| v.contains(text.as_str()))
            }
        }
    })
}

/// `check` as it was: whether the desired state is refused.
fn old_refused(desired: &Desired) -> bool {
    if desired.keys().is_empty() {
        return true;
    }
    let mut identities = HashSet::new();
    for item in desired.items() {
        for field in item.keys() {
            if field.is_empty() || field.contains('=') || field.starts_with('.') {
                return true;
            }
        }
        let mut identity = Vec::new();
        for key in desired.keys() {
            let Some(value) = item.get(key) else {
                return true;
            };
            identity.push(old_canonical_key(value));
        }
        if !identities.insert(identity) {
            return true;
        }
        if !old_admits(desired.managed_items(), item) {
            return true;
        }
    }
    false
}

fn lossy(row: &ReplyResponse, field: &str) -> Option<String> {
    row.get_raw(field)
        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
}

fn old_holds(row: &ReplyResponse, field: &str, desired: &str) -> bool {
    match row.get(field) {
        None if row.get_raw(field).is_some() => false,
        current => same_value(field, current, desired),
    }
}

fn old_identity_fields(keys: &[String], row: &ReplyResponse) -> Fields {
    keys.iter()
        .filter_map(|k| row.get(k).map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// `compute` as it was.
fn old_compute(desired: &Desired, rows: &[ReplyResponse]) -> Plan {
    let keys = desired.keys();
    let managed: Vec<&ReplyResponse> = rows
        .iter()
        .filter(|row| row.get(".id").is_some() && old_manages(desired.managed_items(), row))
        .collect();
    let identity_of = |get: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
        keys.iter()
            .map(|k| old_canonical_key(&get(k).unwrap_or_default()))
            .collect()
    };
    let mut by_identity: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
    for (index, row) in managed.iter().enumerate() {
        let identity = identity_of(&|k| lossy(row, k));
        by_identity.entry(identity).or_default().push(index);
    }
    let mut matched = vec![false; managed.len()];
    let (mut adds, mut sets) = (Vec::new(), Vec::new());
    let mut kept: Vec<Option<String>> = Vec::new();
    for item in desired.items() {
        let identity = identity_of(&|k| item.get(k).cloned());
        let found = by_identity
            .get_mut(&identity)
            .and_then(|rows| (!rows.is_empty()).then(|| rows.remove(0)));
        let Some(index) = found else {
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
        matched[index] = true;
        let row = managed[index];
        kept.push(row.get(".id").map(str::to_owned));
        let changes: Vec<FieldChange> = item
            .iter()
            .filter(|(field, _)| !keys.contains(field))
            .filter(|(field, value)| !old_holds(row, field, value))
            .map(|(field, value)| FieldChange {
                field: field.clone(),
                old: lossy(row, field),
                new: value.clone(),
            })
            .collect();
        if !changes.is_empty() {
            sets.push(Set {
                id: row.get(".id").unwrap_or_default().to_owned(),
                identity: old_identity_fields(keys, row),
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
            identity: old_identity_fields(keys, row),
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
        let mut next_kept: Vec<Option<&String>> = vec![None; kept.len() + 1];
        for at in (0..kept.len()).rev() {
            next_kept[at] = kept[at].as_ref().or(next_kept[at + 1]);
        }
        for (at, add) in &mut adds {
            add.place_before = next_kept[*at + 1].cloned();
        }
    }
    // Not in the old plan: the rows it may not touch that hold a desired
    // identity, found here as directly as the old code would have.
    let wanted: HashSet<Vec<String>> = desired
        .items()
        .iter()
        .map(|item| identity_of(&|k| item.get(k).cloned()))
        .collect();
    let held = rows
        .iter()
        .filter(|row| row.get(".id").is_some() && !old_manages(desired.managed_items(), row))
        .filter(|row| wanted.contains(&identity_of(&|k| lossy(row, k))))
        .map(|row| Held {
            id: row.get(".id").unwrap_or_default().to_owned(),
            identity: old_identity_fields(keys, row),
        })
        .collect();
    Plan {
        read: old_read_mark(desired, &managed, rows),
        desired: desired.clone(),
        adds: adds.into_iter().map(|(_, add)| add).collect(),
        sets,
        removes,
        moves,
        held,
    }
}

fn old_read_mark(
    desired: &Desired,
    managed: &[&ReplyResponse],
    rows: &[ReplyResponse],
) -> ReadMark {
    let mut fields: Vec<&str> = desired
        .items()
        .iter()
        .flat_map(|i| i.keys().map(String::as_str))
        .chain(desired.keys().iter().map(String::as_str))
        .chain(desired.managed_items().conditions.iter().map(|c| c.field()))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut write = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0x1f;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    for row in managed {
        write(row.get(".id").unwrap_or_default().as_bytes());
        for field in &fields {
            write(field.as_bytes());
            match row.get_raw(field) {
                Some(value) => write(value),
                None => write(&[0xff]),
            }
        }
        write(b"\n");
    }
    if desired.is_ordered() {
        for row in rows {
            write(row.get(".id").unwrap_or_default().as_bytes());
        }
    }
    ReadMark {
        managed: managed.len(),
        digest: hash,
    }
}

/// A `!re` row of raw `=key=value` words.
fn raw_row(words: &[Vec<u8>]) -> ReplyResponse {
    let mut all: Vec<&[u8]> = vec![b"!re"];
    all.extend(words.iter().map(Vec::as_slice));
    all.push(b".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11");
    match CommandResponse::parse(Sentence::from_words(all)) {
        Ok(CommandResponse::Reply(reply)) => reply,
        other => panic!("not a reply: {other:?}"),
    }
}

/// Values that collide in interesting ways: as written and as printed,
/// a MAC in both cases, IPv6 compressed or not, empty, not UTF-8.
const VALUES: [&[u8]; 14] = [
    b"a",
    b"b",
    b"10.0.0.1",
    b"10.0.0.1/32",
    b"10.0.0.0/24",
    b"10.0.0.0/024",
    b"2001:db8::1",
    b"2001:DB8:0::1/128",
    b"aa:bb:cc:dd:ee:ff",
    b"AA:BB:CC:DD:EE:FF",
    b"",
    b"caf\xe9",
    b"yes",
    b"x y",
];
const FIELDS: [&str; 5] = ["list", "address", "comment", "disabled", "dynamic"];

fn word(field: &str, value: &[u8]) -> Vec<u8> {
    let mut w = format!("={field}=").into_bytes();
    w.extend_from_slice(value);
    w
}

fn rows() -> impl Strategy<Value = Vec<ReplyResponse>> {
    let cell = (0..FIELDS.len(), 0..VALUES.len());
    let keyed = (0..10usize, 0..10usize, 0..4usize);
    let row = (
        // 0: no .id, 1: a non-UTF-8 .id, else an id
        0u8..8,
        keyed,
        proptest::collection::vec(cell, 0..4),
    );
    proptest::collection::vec(row, 0..8).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(n, (id, (list, address, comment), cells))| {
                let mut words = Vec::new();
                match id {
                    0 => {}
                    1 => words.push(b"=.id=*\xff".to_vec()),
                    _ => words.push(format!("=.id=*{n:X}").into_bytes()),
                }
                if list < 8 {
                    words.push(word("list", VALUES[list % 2]));
                }
                if address < 9 {
                    words.push(word("address", VALUES[address]));
                }
                words.push(word("comment", VALUES[[0, 2, 11, 3][comment]]));
                for (field, value) in cells {
                    let value: &[u8] = if FIELDS[field] == "dynamic" {
                        [&b"true"[..], b"false", b"yes"][value % 3]
                    } else {
                        VALUES[value]
                    };
                    words.push(word(FIELDS[field], value));
                }
                raw_row(&words)
            })
            .collect()
    })
}

fn desired() -> impl Strategy<Value = Desired> {
    // Key values from the first values (so that rows match often), other
    // fields from all of them.
    let item = (
        (0..5usize, 0..10usize),
        proptest::collection::vec((2..4usize, 0..VALUES.len()), 0..3),
    );
    (
        0u8..3,
        0u8..3,
        any::<bool>(),
        proptest::collection::vec(item, 0..6),
    )
        .prop_map(|(keys, managed, ordered, items)| {
            let keys: &[&str] = match keys {
                0 => &["list", "address"],
                1 => &["address"],
                _ => &["comment"],
            };
            let managed = match managed {
                0 => Managed::all(),
                1 => Managed::all().equal("list", "a"),
                _ => Managed::all().contains("comment", "a"),
            };
            let mut desired = Desired::new("/ip/firewall/address-list", keys.iter().copied())
                .managed(managed.clone())
                .ensure_order(ordered);
            let text = |value: usize| String::from_utf8_lossy(VALUES[value]).into_owned();
            let mut seen = HashSet::new();
            for ((list, address), extra) in items {
                let mut fields: Fields = extra
                    .into_iter()
                    .map(|(field, value)| (FIELDS[field].to_owned(), text(value)))
                    .collect();
                fields.insert("list".into(), text(list % 2));
                fields.insert("address".into(), text(address));
                if keys == ["comment"] {
                    fields
                        .entry("comment".into())
                        .or_insert_with(|| text(address));
                }
                if !old_admits(&managed, &fields) {
                    continue;
                }
                let identity: Vec<String> = keys
                    .iter()
                    .map(|k| old_canonical_key(&fields[*k]))
                    .collect();
                if seen.insert(identity) {
                    desired.push(fields);
                }
            }
            desired
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_plan_is_the_plan_of_before_the_rework(desired in desired(), rows in rows()) {
        // `10.0.0.1/+24` is deliberately no longer an address: no `+` here.
        let now = desired.plan_against(&rows);
        prop_assert_eq!(now.is_err(), old_refused(&desired), "{:?}", now.as_ref().err());
        if let Ok(now) = now {
            let before = old_compute(&desired, &rows);
            prop_assert_eq!(&now.read, &before.read, "the read mark");
            prop_assert_eq!(&now, &before);
        }
    }
}
