//! The in-memory menus every session of one mock router shares.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use mikrotik_rs_schema::BuildTrustedKeyHasher;

pub(crate) use super::item::Item;
use super::schema::{self, MockMenu};

/// One attribute: key and raw value bytes.
pub(crate) type Attr = (Vec<u8>, Vec<u8>);

/// A change that `listen` and `print =follow=` report.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) menu: String,
    pub(crate) item: Item,
    pub(crate) dead: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Menu {
    pub(crate) items: Vec<Item>,
    next_id: u32,
    /// Single-row menus (`/system/identity`) have no ids, no add, no remove.
    pub(crate) single: bool,
}

impl Menu {
    /// Appends a row under the next id, which it keeps as its first
    /// attribute (a `.id` of the caller's is dropped); returns the id.
    fn push_row<K: AsRef<[u8]>, V: AsRef<[u8]>>(&mut self, attrs: &[(K, V)]) -> ItemId {
        self.next_id += 1;
        let id = ItemId::new(self.next_id);
        let given = attrs
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .filter(|(k, _)| k != b".id");
        let row = std::iter::once((&b".id"[..], &id[..])).chain(given);
        self.items.push(Item::new(row));
        id
    }
}

/// Why a change was refused: the trap's category (if any) and message.
pub(crate) type Refusal = (Option<u8>, Cow<'static, str>);

pub(crate) const NO_SUCH_ITEM: Refusal = (Some(0), Cow::Borrowed("no such item"));
const DUPLICATE: Refusal = (
    Some(1),
    Cow::Borrowed("failure: item with such name already exists"),
);
const NOT_A_LIST: Refusal = (Some(0), Cow::Borrowed("no such command"));

/// `*1A`: an item id as RouterOS writes it (upper-case hex). Written out by
/// hand, on the stack: the mock writes one per added row, and the `add`
/// answers it without a copy of its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ItemId {
    /// `*` and up to eight hexadecimal digits.
    text: [u8; 9],
    len: usize,
}

impl ItemId {
    pub(crate) fn new(id: u32) -> Self {
        let mut text = [b'*'; 9];
        let digits = (32 - id.leading_zeros()).div_ceil(4).max(1);
        for (at, shift) in (0..digits).rev().enumerate() {
            text[at + 1] = b"0123456789ABCDEF"[((id >> (shift * 4)) & 0xf) as usize];
        }
        Self {
            text,
            len: digits as usize + 1,
        }
    }
}

impl std::ops::Deref for ItemId {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.text[..self.len]
    }
}

/// A map keyed by menu path. The keys are the menus the mock itself holds
/// (built in, a test's, the tree's), looked up several times per command:
/// the cheap hasher will do, a test mock has no HashDoS to resist.
pub(crate) type ByPath<V> = HashMap<String, V, BuildTrustedKeyHasher>;

#[derive(Debug, Default)]
pub(crate) struct Db {
    pub(crate) menus: ByPath<Menu>,
    specs: ByPath<MockMenu>,
    subscribers: Vec<async_channel::Sender<Arc<Change>>>,
}

impl Db {
    /// The preloaded menus of a small home router (`newer`: RouterOS 7.18+).
    pub(crate) fn preloaded(v6: bool, newer: bool) -> Self {
        let mut db = Self::default();
        for menu in schema::builtin(v6, newer) {
            db.register(menu);
        }
        db
    }

    /// Adds (or replaces) a menu with its rows and its rules.
    pub(crate) fn register(&mut self, mut spec: MockMenu) {
        let rows = std::mem::take(&mut spec.rows);
        let path = spec.path.clone();
        if spec.single {
            let attrs = rows.into_iter().next().unwrap_or_default();
            let row = Item::new(attrs.iter().map(|(k, v)| (&k[..], &v[..])));
            self.menus.insert(
                path.clone(),
                Menu {
                    items: vec![row],
                    next_id: 0,
                    single: true,
                },
            );
        } else {
            let mut table = Menu::default();
            for row in &rows {
                table.push_row(row);
            }
            self.menus.insert(path.clone(), table);
        }
        self.specs.insert(path, spec);
    }

    /// Creates an empty table for `menu` unless it exists: how a menu the
    /// RouterOS tree knows comes to life on its first command.
    pub(crate) fn ensure(&mut self, menu: &str, single: bool) {
        if !self.menus.contains_key(menu) {
            let items = if single {
                vec![Item::default()]
            } else {
                Vec::new()
            };
            let table = Menu {
                items,
                next_id: 0,
                single,
            };
            self.menus.insert(menu.to_owned(), table);
        }
    }

    /// Whether `menu` was built by hand (built in, or a test's
    /// [`MockMenu`]): its rules, not the RouterOS tree, decide what its `add`
    /// and `set` take (a hand-built menu without rules takes anything).
    pub(crate) fn is_hand_built(&self, menu: &str) -> bool {
        self.specs.contains_key(menu)
    }

    /// Removes attributes (`unset`) of rows named by ids.
    pub(crate) fn unset(&mut self, menu: &str, ids: &[u8], keys: &[&[u8]]) -> Result<(), Refusal> {
        let single = self.menus.get(menu).ok_or(NO_SUCH_ITEM)?.single;
        let targets = if single {
            vec![0]
        } else {
            self.find(menu, ids)?
        };
        let mut changed = Vec::with_capacity(targets.len());
        if let Some(m) = self.menus.get_mut(menu) {
            for index in targets {
                let item = &mut m.items[index];
                item.retain(|k| !keys.contains(&k));
                changed.push(item.clone());
            }
        }
        for item in changed {
            self.publish(menu, item, false);
        }
        Ok(())
    }

    /// The value of `name` of one row (`get`): `Ok(None)` when the row has
    /// no such property.
    pub(crate) fn value(
        &self,
        menu: &str,
        id: &[u8],
        name: &[u8],
    ) -> Result<Option<Vec<u8>>, Refusal> {
        let m = self.menus.get(menu).ok_or(NO_SUCH_ITEM)?;
        let index = if m.single {
            0
        } else {
            match self.find(menu, id)?[..] {
                [one] => one,
                _ => return Err(NO_SUCH_ITEM),
            }
        };
        Ok(m.items
            .get(index)
            .and_then(|i| i.get(name))
            .map(<[u8]>::to_vec))
    }

    /// Moves rows (`move`): those named by `ids`, in that order, go before
    /// the row `destination`, or to the end without one.
    pub(crate) fn move_rows(
        &mut self,
        menu: &str,
        ids: &[u8],
        destination: Option<&[u8]>,
    ) -> Result<(), Refusal> {
        let moving = self.find(menu, ids)?;
        let before = match destination.filter(|d| !d.is_empty()) {
            Some(d) => Some(self.find(menu, d)?[0]),
            None => None,
        };
        let m = self.menus.get_mut(menu).ok_or(NO_SUCH_ITEM)?;
        let anchor = before.map(|b| m.items[b].clone());
        let rows: Vec<Item> = moving.iter().map(|&i| m.items[i].clone()).collect();
        let mut rest: Vec<Item> = m
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| !moving.contains(i))
            .map(|(_, item)| item.clone())
            .collect();
        let at = match anchor {
            // The destination itself moving: the rows go where it was.
            Some(anchor) => rest
                .iter()
                .position(|i| *i == anchor)
                .unwrap_or(before.unwrap_or(0).min(rest.len())),
            None => rest.len(),
        };
        rest.splice(at..at, rows);
        m.items = rest;
        Ok(())
    }

    /// Checks (and rewrites, see [`MockMenu::check`]) what a client's `add`
    /// or `set` would store.
    pub(crate) fn check(
        &self,
        menu: &str,
        attrs: &mut Vec<Attr>,
        adding: bool,
        v6: bool,
    ) -> Result<(), Refusal> {
        let Some(spec) = self.specs.get(menu) else {
            return Ok(());
        };
        spec.check(attrs, adding, v6, |other, name| {
            self.menus.get(other).is_some_and(|m| {
                m.items
                    .iter()
                    .any(|i| i.get(b"name") == Some(name) || i.get(b".id") == Some(name))
            })
        })
    }

    /// Registers a `listen`/`follow` subscriber; call it under the same lock
    /// as the snapshot of existing rows so that no change falls in between.
    pub(crate) fn subscribe(&mut self) -> async_channel::Receiver<Arc<Change>> {
        let (tx, rx) = async_channel::unbounded();
        self.subscribers.push(tx);
        rx
    }

    fn publish(&mut self, menu: &str, item: Item, dead: bool) {
        if self.subscribers.is_empty() {
            return;
        }
        let change = Arc::new(Change {
            menu: menu.to_owned(),
            item,
            dead,
        });
        self.subscribers
            .retain(|tx| tx.try_send(Arc::clone(&change)).is_ok());
    }

    /// Adds a row; returns its id.
    pub(crate) fn add<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        menu: &str,
        attrs: &[(K, V)],
    ) -> Result<ItemId, Refusal> {
        let Some(m) = self.menus.get_mut(menu) else {
            return Err(NOT_A_LIST);
        };
        if m.single {
            return Err(NOT_A_LIST);
        }
        if let Some((_, name)) = attrs.iter().find(|(k, _)| k.as_ref() == b"name")
            && m.items
                .iter()
                .any(|i| i.get(b"name") == Some(name.as_ref()))
        {
            return Err(DUPLICATE);
        }
        let id = m.push_row(attrs);
        // Only a listener needs its own copy of the new row.
        if !self.subscribers.is_empty()
            && let Some(item) = m.items.last().cloned()
        {
            self.publish(menu, item, false);
        }
        Ok(id)
    }

    /// Indexes of the rows named by a comma-separated list of ids (or names).
    pub(crate) fn find(&self, menu: &str, ids: &[u8]) -> Result<Vec<usize>, Refusal> {
        let m = self.menus.get(menu).ok_or(NO_SUCH_ITEM)?;
        let mut found = Vec::new();
        for id in ids.split(|&b| b == b',').filter(|s| !s.is_empty()) {
            // An id is looked for first (a row named like another row's id
            // does not shadow it); names only when no row has that id.
            let with = |key: &[u8]| m.items.iter().position(|i| i.get(key) == Some(id));
            let index = with(b".id").or_else(|| with(b"name")).ok_or(NO_SUCH_ITEM)?;
            if !found.contains(&index) {
                found.push(index);
            }
        }
        if found.is_empty() {
            return Err(NO_SUCH_ITEM);
        }
        Ok(found)
    }

    /// Updates rows (`ids` is ignored on single-row menus).
    pub(crate) fn set(&mut self, menu: &str, ids: &[u8], attrs: &[Attr]) -> Result<(), Refusal> {
        let single = self.menus.get(menu).ok_or(NO_SUCH_ITEM)?.single;
        let targets = if single {
            vec![0]
        } else {
            self.find(menu, ids)?
        };
        if let Some((_, name)) = attrs.iter().find(|(k, _)| k == b"name") {
            let items = &self.menus[menu].items;
            let clash = items
                .iter()
                .enumerate()
                .any(|(i, item)| !targets.contains(&i) && item.get(b"name") == Some(name));
            if clash || (targets.len() > 1 && !single) {
                return Err(DUPLICATE);
            }
        }
        let mut changed = Vec::with_capacity(targets.len());
        if let Some(m) = self.menus.get_mut(menu) {
            for &index in &targets {
                let item = &mut m.items[index];
                for (k, v) in attrs.iter().filter(|(k, _)| k != b".id") {
                    item.set(k, v);
                }
                changed.push(item.clone());
            }
        }
        for item in changed {
            self.publish(menu, item, false);
        }
        Ok(())
    }

    /// Removes rows named by a comma-separated list of ids (all or none).
    pub(crate) fn remove(&mut self, menu: &str, ids: &[u8]) -> Result<(), Refusal> {
        if self.menus.get(menu).is_some_and(|m| m.single) {
            return Err(NOT_A_LIST);
        }
        let mut targets = self.find(menu, ids)?;
        targets.sort_unstable_by(|a, b| b.cmp(a));
        let mut removed = Vec::with_capacity(targets.len());
        if let Some(m) = self.menus.get_mut(menu) {
            for index in targets {
                removed.push(m.items.remove(index));
            }
        }
        for item in removed.into_iter().rev() {
            self.publish(menu, item, true);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Db;

    #[test]
    fn an_id_is_found_before_a_name_that_looks_like_it() {
        let mut db = Db::default();
        db.ensure("/system/script", false);
        let first = db.add("/system/script", &[("name", "*2")]).unwrap();
        let second = db.add("/system/script", &[("name", "backup")]).unwrap();
        assert_eq!(&*second, b"*2");
        assert_eq!(db.find("/system/script", b"*2").unwrap(), [1]);
        assert_eq!(db.find("/system/script", &first).unwrap(), [0]);
        assert_eq!(db.find("/system/script", b"backup").unwrap(), [1]);
        assert!(db.find("/system/script", b"*9").is_err());
    }

    #[test]
    fn ids_are_upper_case_hex_without_leading_zeros() {
        for id in [0, 1, 9, 10, 15, 16, 255, 4096, 0xABCDEF, u32::MAX] {
            assert_eq!(
                &*super::ItemId::new(id),
                format!("*{id:X}").as_bytes(),
                "{id}"
            );
        }
    }
}
