//! The in-memory menus every session of one mock router shares.

use std::collections::HashMap;
use std::sync::Arc;

/// One attribute: key and raw value bytes.
pub(crate) type Attr = (Vec<u8>, Vec<u8>);

/// One row of a menu. List menus keep `.id` as the first attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) attrs: Vec<Attr>,
}

impl Item {
    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &v[..])
    }

    fn set(&mut self, key: &[u8], value: &[u8]) {
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_vec(),
            None => self.attrs.push((key.to_vec(), value.to_vec())),
        }
    }
}

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

/// Why a change was refused: the trap's category and message.
pub(crate) type Refusal = (u8, &'static str);

pub(crate) const NO_SUCH_ITEM: Refusal = (0, "no such item");
const DUPLICATE: Refusal = (1, "failure: item with such name already exists");
const NOT_A_LIST: Refusal = (0, "no such command");

pub(crate) fn format_id(id: u32) -> Vec<u8> {
    format!("*{id:X}").into_bytes()
}

#[derive(Debug, Default)]
pub(crate) struct Db {
    pub(crate) menus: HashMap<String, Menu>,
    subscribers: Vec<async_channel::Sender<Arc<Change>>>,
}

fn pairs(list: &[(&str, &str)]) -> Vec<Attr> {
    list.iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

impl Db {
    /// The preloaded menus of a small home router.
    pub(crate) fn preloaded(v6: bool) -> Self {
        let (yes, no) = if v6 { ("yes", "no") } else { ("true", "false") };
        let mut db = Self::default();
        for i in 1..=5 {
            let name = format!("ether{i}");
            let mac = format!("4C:5E:0C:12:34:{:02X}", 0x50 + i);
            let mtu = if i == 5 { "9000" } else { "1500" };
            let mut row = vec![
                ("name", name.as_str()),
                ("type", "ether"),
                ("mtu", mtu),
                ("actual-mtu", mtu),
                ("mac-address", mac.as_str()),
                ("running", if i == 5 { no } else { yes }),
                ("disabled", no),
            ];
            if i == 1 {
                row.push(("comment", "uplink"));
            }
            db.add_unchecked("/interface", pairs(&row));
        }
        db.add_unchecked(
            "/interface",
            pairs(&[
                ("name", "bridge"),
                ("type", "bridge"),
                ("mtu", "1500"),
                ("actual-mtu", "1500"),
                ("mac-address", "4C:5E:0C:12:34:51"),
                ("running", yes),
                ("disabled", no),
                ("comment", "defconf"),
            ]),
        );
        db.add_unchecked(
            "/interface",
            pairs(&[
                ("name", "vlan10"),
                ("type", "vlan"),
                ("mtu", "1500"),
                ("actual-mtu", "1500"),
                ("mac-address", "4C:5E:0C:12:34:51"),
                ("running", yes),
                ("disabled", no),
            ]),
        );
        db.add_unchecked(
            "/ip/address",
            pairs(&[
                ("address", "192.168.88.1/24"),
                ("network", "192.168.88.0"),
                ("interface", "bridge"),
                ("dynamic", no),
                ("invalid", no),
                ("disabled", no),
                ("comment", "defconf"),
            ]),
        );
        db.add_unchecked(
            "/ip/address",
            pairs(&[
                ("address", "10.0.0.2/30"),
                ("network", "10.0.0.0"),
                ("interface", "ether1"),
                ("dynamic", no),
                ("invalid", no),
                ("disabled", no),
            ]),
        );
        db.add_unchecked(
            "/user",
            pairs(&[
                ("name", "admin"),
                ("group", "full"),
                ("address", ""),
                ("disabled", no),
                ("comment", "system default user"),
            ]),
        );
        db.single("/system/identity", pairs(&[("name", "MikroTik")]));
        let version = if v6 {
            "6.49.10 (long-term)"
        } else {
            "7.16 (stable)"
        };
        db.single(
            "/system/resource",
            pairs(&[
                ("uptime", "1w2d3h4m5s"),
                ("version", version),
                ("build-time", "2024-09-20 13:00:27"),
                ("factory-software", "7.8"),
                ("free-memory", "824754176"),
                ("total-memory", "1073741824"),
                ("cpu", "ARM64"),
                ("cpu-count", "4"),
                ("cpu-frequency", "1400"),
                ("cpu-load", "3"),
                ("free-hdd-space", "911511552"),
                ("total-hdd-space", "1073741824"),
                ("architecture-name", "arm64"),
                ("board-name", "RB5009UG+S+"),
                ("platform", "MikroTik"),
            ]),
        );
        db
    }

    fn single(&mut self, menu: &str, attrs: Vec<Attr>) {
        self.menus.insert(
            menu.to_owned(),
            Menu {
                items: vec![Item { attrs }],
                next_id: 0,
                single: true,
            },
        );
    }

    fn add_unchecked(&mut self, menu: &str, attrs: Vec<Attr>) -> (Vec<u8>, Item) {
        let menu = self.menus.entry(menu.to_owned()).or_default();
        menu.next_id += 1;
        let id = format_id(menu.next_id);
        let mut row = Vec::with_capacity(attrs.len() + 1);
        row.push((b".id".to_vec(), id.clone()));
        row.extend(attrs.into_iter().filter(|(k, _)| k != b".id"));
        let item = Item { attrs: row };
        menu.items.push(item.clone());
        (id, item)
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
    pub(crate) fn add(&mut self, menu: &str, attrs: Vec<Attr>) -> Result<Vec<u8>, Refusal> {
        let Some(m) = self.menus.get(menu) else {
            return Err(NOT_A_LIST);
        };
        if m.single {
            return Err(NOT_A_LIST);
        }
        if let Some((_, name)) = attrs.iter().find(|(k, _)| k == b"name")
            && m.items.iter().any(|i| i.get(b"name") == Some(name))
        {
            return Err(DUPLICATE);
        }
        let (id, item) = self.add_unchecked(menu, attrs);
        self.publish(menu, item, false);
        Ok(id)
    }

    /// Indexes of the rows named by a comma-separated list of ids (or names).
    fn find(&self, menu: &str, ids: &[u8]) -> Result<Vec<usize>, Refusal> {
        let m = self.menus.get(menu).ok_or(NO_SUCH_ITEM)?;
        let mut found = Vec::new();
        for id in ids.split(|&b| b == b',').filter(|s| !s.is_empty()) {
            let index = m
                .items
                .iter()
                .position(|i| i.get(b".id") == Some(id) || i.get(b"name") == Some(id))
                .ok_or(NO_SUCH_ITEM)?;
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
