//! [`FieldNames`]: the seam through which a schema of RouterOS menus tells a
//! plan which fields a menu has, so a misspelt field is an error before
//! anything is sent.

use std::fmt;
use std::sync::Arc;

/// What a schema says about one field of one menu.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldVerdict {
    /// The menu has this field.
    Known,
    /// The menu has no such field.
    Unknown {
        /// What the schema says about it (e.g. the field perhaps meant).
        message: Option<String>,
    },
    /// The schema does not know this menu: no check.
    UnknownMenu,
}

/// Knows which fields each menu has (a compact RouterOS schema, or a
/// hand-written list in tests). Any `Fn(&str, &str) -> FieldVerdict` is one.
pub trait FieldNames: Send + Sync {
    /// What the schema says of `field` in `menu` (e.g. `/ip/firewall/address-list`, `address`).
    fn field(&self, menu: &str, field: &str) -> FieldVerdict;
}

impl<F: Fn(&str, &str) -> FieldVerdict + Send + Sync> FieldNames for F {
    fn field(&self, menu: &str, field: &str) -> FieldVerdict {
        self(menu, field)
    }
}

/// A schema held by a [`Desired`](super::Desired): shared, not serialised.
#[derive(Clone)]
pub(crate) struct Schema(pub(crate) Arc<dyn FieldNames>);

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldNames")
    }
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
