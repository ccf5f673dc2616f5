//! Order in the mock's list menus, as in ordered RouterOS menus (firewall
//! rules, simple queues): `move` (`numbers` placed right before
//! `destination`, or at the end without one) and `add =place-before=`.

use super::db::{Attr, Db, NO_SUCH_ITEM, Refusal};

/// Takes `place-before` out of an `add`'s attributes: it says where, it is
/// not a property of the new row.
pub(crate) fn take_place_before(attrs: &mut Vec<Attr>) -> Option<Vec<u8>> {
    let at = attrs.iter().position(|(k, _)| k == b"place-before")?;
    Some(attrs.remove(at).1)
}

impl Db {
    /// `add`, honouring `place-before=<id>` (taken out of `attrs` by
    /// [`take_place_before`]): the new row goes right before it.
    pub(crate) fn add_placed(
        &mut self,
        menu: &str,
        attrs: Vec<Attr>,
        before: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Refusal> {
        if let Some(before) = &before {
            self.position(menu, before)?;
        }
        let id = self.add(menu, attrs)?;
        if let Some(before) = before {
            self.move_items(menu, &id, Some(&before))?;
        }
        Ok(id)
    }

    /// `move`: the rows named by `ids` (comma-separated, in that order) go
    /// right before `destination`, or to the end without one.
    pub(crate) fn move_items(
        &mut self,
        menu: &str,
        ids: &[u8],
        destination: Option<&[u8]>,
    ) -> Result<(), Refusal> {
        let mut moving = Vec::new();
        for id in ids.split(|&b| b == b',').filter(|s| !s.is_empty()) {
            let at = self.position(menu, id)?;
            if !moving.contains(&at) {
                moving.push(at);
            }
        }
        if moving.is_empty() {
            return Err(NO_SUCH_ITEM);
        }
        if let Some(destination) = destination {
            self.position(menu, destination)?;
        }
        let Some(m) = self.menus.get_mut(menu) else {
            return Err(NO_SUCH_ITEM);
        };
        let rows: Vec<_> = moving.iter().map(|&at| m.items[at].clone()).collect();
        let ids: Vec<Vec<u8>> = rows
            .iter()
            .map(|r| r.get(b".id").unwrap_or_default().to_vec())
            .collect();
        m.items
            .retain(|item| !ids.iter().any(|id| item.get(b".id") == Some(id)));
        let at = destination
            .and_then(|d| {
                m.items
                    .iter()
                    .position(|i| i.get(b".id") == Some(d) || i.get(b"name") == Some(d))
            })
            .unwrap_or(m.items.len());
        m.items.splice(at..at, rows);
        Ok(())
    }

    fn position(&self, menu: &str, id: &[u8]) -> Result<usize, Refusal> {
        self.menus
            .get(menu)
            .filter(|m| !m.single)
            .and_then(|m| {
                m.items
                    .iter()
                    .position(|i| i.get(b".id") == Some(id) || i.get(b"name") == Some(id))
            })
            .ok_or(NO_SUCH_ITEM)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MockMenu;

    fn ids(db: &Db) -> Vec<String> {
        db.menus["/ip/firewall/filter"]
            .items
            .iter()
            .map(|i| String::from_utf8_lossy(i.get(b".id").unwrap()).into_owned())
            .collect()
    }

    #[test]
    fn move_and_place_before() {
        let mut db = Db::default();
        let mut menu = MockMenu::new("/ip/firewall/filter");
        for n in 0..4 {
            menu = menu.row([("comment", format!("r{n}"))]);
        }
        db.register(menu);
        assert_eq!(ids(&db), ["*1", "*2", "*3", "*4"]);
        db.move_items("/ip/firewall/filter", b"*4", Some(b"*1"))
            .unwrap();
        assert_eq!(ids(&db), ["*4", "*1", "*2", "*3"]);
        db.move_items("/ip/firewall/filter", b"*4,*1", None)
            .unwrap();
        assert_eq!(ids(&db), ["*2", "*3", "*4", "*1"]);
        let mut attrs = vec![(b"place-before".to_vec(), b"*3".to_vec())];
        let before = take_place_before(&mut attrs);
        assert!(attrs.is_empty());
        assert_eq!(
            db.add_placed("/ip/firewall/filter", attrs, before).unwrap(),
            b"*5"
        );
        assert_eq!(ids(&db), ["*2", "*5", "*3", "*4", "*1"]);
        assert_eq!(
            db.move_items("/ip/firewall/filter", b"*9", None),
            Err(NO_SUCH_ITEM)
        );
        let bad = Some(b"*9".to_vec());
        assert_eq!(
            db.add_placed("/ip/firewall/filter", Vec::new(), bad),
            Err(NO_SUCH_ITEM)
        );
        assert_eq!(ids(&db).len(), 5, "a refused add adds nothing");
    }
}
