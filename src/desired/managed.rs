//! [`Managed`]: which of a menu's existing items a plan may change or remove.

use super::Fields;
use crate::protocol::ReplyResponse;

/// One condition on an item's field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Condition {
    /// The field holds exactly this value (`list=blocklist`).
    Equal {
        /// The field.
        field: String,
        /// Its value.
        value: String,
    },
    /// The field's value contains this text (`comment~"managed-by:billing"`).
    Contains {
        /// The field.
        field: String,
        /// The text it contains.
        text: String,
    },
}

impl Condition {
    /// Whether an item whose field (the one [`field`](Self::field) names)
    /// holds `value` (`None`: not set, or not text) meets the condition.
    pub(crate) fn holds(&self, value: Option<&str>) -> bool {
        match self {
            Self::Equal { value: wanted, .. } => value == Some(wanted.as_str()),
            Self::Contains { text, .. } => value.is_some_and(|v| v.contains(text.as_str())),
        }
    }

    /// The field the condition reads.
    pub fn field(&self) -> &str {
        match self {
            Self::Equal { field, .. } | Self::Contains { field, .. } => field,
        }
    }
}

/// Which existing items of the menu are the plan's to change and remove.
///
/// Never dynamic items (`dynamic=true`: made by the router or a service, such
/// as an address list's entries added by a firewall rule) nor built-in ones
/// (`builtin=true`, `default=true` where the menu marks them so): those are
/// left alone whatever the conditions say. Beyond that, [`Managed::all`] takes
/// every other item; conditions (all must hold) narrow it, so that a tool
/// owns only its share of a menu: `Managed::all().equal("list", "blocklist")`,
/// `Managed::all().contains("comment", "managed-by:billing")`.
///
/// Every desired item must meet the conditions itself (an item added outside
/// them would be unmanaged at the next plan and added again): a plan refuses
/// one that does not, before anything is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Managed {
    /// All must hold; none: every static, non-builtin item.
    pub conditions: Vec<Condition>,
}

impl Managed {
    /// Every item that is neither dynamic nor built-in.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only items whose `field` is exactly `value`.
    pub fn equal(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.conditions.push(Condition::Equal {
            field: field.into(),
            value: value.into(),
        });
        self
    }

    /// Only items whose `field` contains `text`.
    pub fn contains(mut self, field: impl Into<String>, text: impl Into<String>) -> Self {
        self.conditions.push(Condition::Contains {
            field: field.into(),
            text: text.into(),
        });
        self
    }

    /// Whether the router's item `row` is managed.
    pub fn manages(&self, row: &ReplyResponse) -> bool {
        !is_routers_own(super::table::FLAGS.map(|flag| row.get(flag)))
            && self.conditions.iter().all(|c| c.holds(row.get(c.field())))
    }

    /// Whether a desired item meets the conditions.
    pub(crate) fn admits(&self, item: &Fields) -> bool {
        self.conditions
            .iter()
            .all(|c| c.holds(item.get(c.field()).map(String::as_str)))
    }
}

/// Whether an item with these values of [`FLAGS`](super::table::FLAGS) is
/// the router's own (dynamic or built-in): never a plan's to change.
pub(crate) fn is_routers_own<'a>(flags: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    flags
        .into_iter()
        .any(|flag| matches!(flag, Some("true" | "yes")))
}
