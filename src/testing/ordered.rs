//! `add =place-before=<id>` in the mock's list menus, as in ordered
//! RouterOS menus (firewall rules, simple queues): the new row goes right
//! before that one. (`move` itself is `Db::move_rows`.)

use super::db::{Db, ItemId, Refusal};

/// Takes `place-before` out of an `add`'s attributes: it says where, it is
/// not a property of the new row.
pub(crate) fn take_place_before<K: AsRef<[u8]>, V>(attrs: &mut Vec<(K, V)>) -> Option<V> {
    let at = attrs
        .iter()
        .position(|(k, _)| k.as_ref() == b"place-before")?;
    Some(attrs.remove(at).1)
}

impl Db {
    /// `add`, the new row right before `before` when given (an unknown one
    /// is refused, nothing added).
    pub(crate) fn add_placed<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        menu: &str,
        attrs: &[(K, V)],
        before: Option<impl AsRef<[u8]>>,
    ) -> Result<ItemId, Refusal> {
        if let Some(before) = &before {
            // Refused before anything is added, as `move` would refuse it.
            let probe: &[u8] = before.as_ref();
            let exists = self.menus.get(menu).is_some_and(|m| {
                m.items
                    .iter()
                    .any(|i| i.get(b".id") == Some(probe) || i.get(b"name") == Some(probe))
            });
            if !exists {
                return Err(super::db::NO_SUCH_ITEM);
            }
        }
        let id = self.add(menu, attrs)?;
        if let Some(before) = before {
            self.move_rows(menu, &id, Some(before.as_ref()))?;
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MockMenu;
    use crate::testing::db::Attr;

    fn ids(db: &Db) -> Vec<String> {
        db.menus["/ip/firewall/filter"]
            .items
            .iter()
            .map(|i| String::from_utf8_lossy(i.get(b".id").unwrap()).into_owned())
            .collect()
    }

    #[test]
    fn place_before() {
        let mut db = Db::default();
        let mut menu = MockMenu::new("/ip/firewall/filter");
        for n in 0..3 {
            menu = menu.row([("comment", format!("r{n}"))]);
        }
        db.register(menu);
        let mut attrs = vec![
            (b"comment".to_vec(), b"new".to_vec()),
            (b"place-before".to_vec(), b"*2".to_vec()),
        ];
        let before = take_place_before(&mut attrs);
        assert_eq!(attrs.len(), 1);
        assert_eq!(
            &*db.add_placed("/ip/firewall/filter", &attrs, before)
                .unwrap(),
            b"*4"
        );
        assert_eq!(ids(&db), ["*1", "*4", "*2", "*3"]);
        let bad = Some(b"*9".to_vec());
        assert!(
            db.add_placed("/ip/firewall/filter", &Vec::<Attr>::new(), bad)
                .is_err()
        );
        assert_eq!(ids(&db).len(), 4, "a refused add adds nothing");
    }
}
