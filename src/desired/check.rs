//! Checking a [`Desired`] state before anything is sent, and keeping what the
//! check found: every item's identity and the fields the items name.
//!
//! A plan, its apply's precondition and its verifying read all need both;
//! over 10,000 items, finding them once instead of three times is most of
//! what a plan of an unchanged menu costs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock};

use super::Desired;
use super::normalise::identity;
use super::schema::{FieldVerdict, Schema};
use crate::{Error, Result};

/// What the check of a desired state found.
pub(crate) struct CheckedItems {
    /// Each item's identity (see `normalise::identity`) → its index.
    pub(crate) item_of: HashMap<Vec<u8>, usize>,
    /// Every field the desired state names (the items' fields, the keys, the
    /// conditions'), each once, in name order.
    pub(crate) field_names: Vec<String>,
}

impl CheckedItems {
    /// [`field_names`](Self::field_names) as `&str`s.
    pub(crate) fn field_names(&self) -> impl Iterator<Item = &str> {
        self.field_names.iter().map(String::as_str)
    }
}

/// A [`Desired`]'s [`CheckedItems`] once found, shared by the clones a plan
/// makes of it. Every method that changes a `Desired` starts a new one. Not
/// part of the value: two equal `Desired`s may differ in it.
#[derive(Clone, Default)]
pub(crate) struct Checked(Arc<OnceLock<Arc<CheckedItems>>>);

impl Checked {
    /// Forgets what was found, because the `Desired` changed: in place when
    /// no clone shares it (10,000 pushes allocate nothing for it).
    pub(crate) fn reset(&mut self) {
        match Arc::get_mut(&mut self.0) {
            Some(unshared) => {
                unshared.take();
            }
            None => *self = Self::default(),
        }
    }
}

impl PartialEq for Checked {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Desired {
    /// Everything that can be wrong with the desired state itself: no
    /// identity keys, an item without one of them, two items with the same
    /// identity, one outside the managed items, a field that cannot be set
    /// or that the schema does not know. Checked once per `Desired`.
    pub(crate) fn check(&self) -> Result<Arc<CheckedItems>> {
        if let Some(checked) = self.checked.0.get() {
            return Ok(Arc::clone(checked));
        }
        let checked = Arc::new(self.check_items()?);
        Ok(Arc::clone(self.checked.0.get_or_init(|| checked)))
    }

    fn check_items(&self) -> Result<CheckedItems> {
        let fail = |what: String| Err(Error::Config(format!("desired {}: {what}", self.menu())));
        let keys = self.keys();
        if keys.is_empty() {
            return fail("no identity keys".into());
        }
        let managed = self.managed_items();
        let mut item_of = HashMap::with_capacity(self.items().len());
        for (n, item) in self.items().iter().enumerate() {
            for field in item.keys() {
                if field.is_empty() || field.contains('=') || field.starts_with('.') {
                    return fail(format!("item {n}: field {field:?} cannot be set"));
                }
            }
            if let Some(key) = keys.iter().find(|key| !item.contains_key(*key)) {
                return fail(format!("item {n} has no identity key `{key}`"));
            }
            if !managed.admits(item) {
                return fail(format!(
                    "item {n} is outside the managed items ({:?}): once added it would not be managed",
                    managed.conditions
                ));
            }
            let identity = identity(keys, |key| item.get(key).map(|v| Cow::Borrowed(v.as_str())));
            match item_of.entry(identity) {
                Entry::Occupied(_) => {
                    return fail(format!("item {n} has the same identity as an earlier one"));
                }
                Entry::Vacant(free) => {
                    free.insert(n);
                }
            }
        }
        let field_names = self.field_names();
        if let Some(Schema(schema)) = &self.schema {
            for field in &field_names {
                if let FieldVerdict::Unknown { message } = schema.field(self.menu(), field) {
                    let hint = message.map(|m| format!(" ({m})")).unwrap_or_default();
                    return fail(format!("the menu has no field `{field}`{hint}"));
                }
            }
        }
        Ok(CheckedItems {
            item_of,
            field_names,
        })
    }

    /// Every field the desired state names, each once, in name order. A menu
    /// has few fields, so a short list beats a set even over 10,000 items.
    fn field_names(&self) -> Vec<String> {
        let mut names: Vec<&str> = Vec::new();
        let named = self
            .items()
            .iter()
            .flat_map(|i| i.keys().map(String::as_str))
            .chain(self.keys().iter().map(String::as_str))
            .chain(self.managed_items().conditions.iter().map(|c| c.field()));
        for name in named {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.sort_unstable();
        names.into_iter().map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::desired::{Desired, Managed};

    #[test]
    fn a_change_after_a_plan_is_checked_again() {
        let first = Desired::new("/ip/firewall/address-list", ["list", "address"])
            .item([("list", "a"), ("address", "192.0.2.1")]);
        assert_eq!(first.plan_against(&[]).unwrap().adds.len(), 1);
        // Changed alone (nothing shares what was found), it is checked again.
        let mut alone = Desired::new("/ip/firewall/address-list", ["list", "address"])
            .item([("list", "a"), ("address", "192.0.2.1")]);
        assert_eq!(alone.plan_against(&[]).unwrap().adds.len(), 1);
        alone.push([("list", "a"), ("address", "192.0.2.1")]);
        let refused = alone.plan_against(&[]).unwrap_err().to_string();
        assert!(refused.contains("same identity"), "{refused}");
        // A clone shares what was found; changing it starts afresh.
        let mut twice = first.clone();
        twice.push([("list", "a"), ("address", "192.0.2.1/32")]);
        let refused = twice.plan_against(&[]).unwrap_err().to_string();
        assert!(refused.contains("same identity"), "{refused}");
        assert_eq!(first.plan_against(&[]).unwrap().adds.len(), 1);
        let outside = first.clone().managed(Managed::all().equal("list", "b"));
        let refused = outside.plan_against(&[]).unwrap_err().to_string();
        assert!(refused.contains("outside the managed items"), "{refused}");
        let unknown = first.schema(|_: &str, field: &str| match field {
            "list" | "address" => crate::desired::FieldVerdict::Known,
            _ => crate::desired::FieldVerdict::Unknown { message: None },
        });
        assert_eq!(unknown.plan_against(&[]).unwrap().adds.len(), 1);
        let unknown = unknown.item([("list", "a"), ("address", "192.0.2.9"), ("coment", "x")]);
        let refused = unknown.plan_against(&[]).unwrap_err().to_string();
        assert!(refused.contains("no field `coment`"), "{refused}");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_typed_item_after_a_plan_is_checked_again() {
        #[derive(serde::Serialize)]
        struct Entry {
            list: &'static str,
            address: &'static str,
        }
        let first = Desired::new("/ip/firewall/address-list", ["list", "address"])
            .item([("list", "a"), ("address", "192.0.2.1")]);
        assert_eq!(first.plan_against(&[]).unwrap().adds.len(), 1);
        let twice = first
            .clone()
            .typed_item(&Entry {
                list: "a",
                address: "192.0.2.1/32",
            })
            .unwrap();
        let refused = twice.plan_against(&[]).unwrap_err().to_string();
        assert!(refused.contains("same identity"), "{refused}");
        let other = first
            .typed_item(&Entry {
                list: "a",
                address: "192.0.2.2",
            })
            .unwrap();
        assert_eq!(other.plan_against(&[]).unwrap().adds.len(), 2);
    }
}
