//! [`Desired`]: what a menu should hold, how its items are told apart, and
//! which of its existing items are the caller's to change.

use std::sync::Arc;

use super::check::Checked;
use super::schema::{FieldNames, Schema};
use super::{Fields, Managed, Plan};
use crate::api::Property;
use crate::protocol::ReplyResponse;
use crate::{MikrotikDevice, Result};

/// The desired items of one menu.
///
/// - `menu`: the path, e.g. `/ip/firewall/address-list`;
/// - `keys`: the fields that identify an item (`list` + `address`; `name`
///   for menus with names): a desired item and an existing one with the same
///   key values (compared as in [`same_value`](super::same_value)) are the
///   same item, so a plan *sets* what differs instead of removing and adding;
/// - the items: each a set of fields. Fields an item does not give are left
///   as the router has them;
/// - [`Managed`]: which existing items the plan may change and remove.
///
/// [`plan`](Self::plan) reads the menu once and computes the [`Plan`].
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Desired {
    menu: String,
    keys: Vec<String>,
    /// Shared: a plan holds its `Desired`, and cloning 10,000 items per plan
    /// cost more than computing it.
    items: Arc<Vec<Arc<Fields>>>,
    managed: Managed,
    #[cfg_attr(feature = "serde", serde(default))]
    ordered: bool,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) schema: Option<Schema>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(super) checked: Checked,
}

impl Desired {
    /// Desired state for `menu`, whose items are identified by `keys`.
    pub fn new(menu: impl Into<String>, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            menu: menu.into(),
            keys: keys.into_iter().map(Into::into).collect(),
            items: Arc::new(Vec::new()),
            managed: Managed::all(),
            ordered: false,
            schema: None,
            checked: Checked::default(),
        }
    }

    /// Adds one desired item: `[("list", "blocklist"), ("address", "192.0.2.7")]`.
    pub fn item(mut self, fields: impl IntoIterator<Item = impl Property>) -> Self {
        self.push(fields);
        self
    }

    /// Adds one desired item (as [`item`](Self::item), in place).
    pub fn push(&mut self, fields: impl IntoIterator<Item = impl Property>) {
        self.checked.reset();
        Arc::make_mut(&mut self.items).push(Arc::new(
            fields
                .into_iter()
                .map(|p| (p.name().to_owned(), p.value().to_owned()))
                .collect(),
        ));
    }

    /// Adds a desired item from a serialisable struct or map (feature
    /// `serde`): each field a property, `snake_case` names as `kebab-case`
    /// (`src_address` → `src-address`; serde's `rename` wins), `None` a
    /// field not given, `bool` as `yes`/`no`, unit enum variants by name,
    /// sequences joined with `,`. Anything else is an [`Error::Config`](crate::Error::Config).
    #[cfg(feature = "serde")]
    pub fn typed_item<T: serde::Serialize + ?Sized>(mut self, item: &T) -> Result<Self> {
        self.checked.reset();
        Arc::make_mut(&mut self.items).push(Arc::new(super::to_fields::to_fields(item)?));
        Ok(self)
    }

    /// Which existing items the plan may change and remove (default: all
    /// that are neither dynamic nor built-in).
    pub fn managed(mut self, managed: Managed) -> Self {
        self.managed = managed;
        self.checked.reset();
        self
    }

    /// Also makes the managed items hold the desired order (for ordered
    /// menus: `/ip/firewall/filter`, `nat`, `mangle`, `raw`,
    /// `/ipv6/firewall/*`, `/queue/simple`, `/routing/filter/rule`…), with
    /// the fewest `move`s; see [`Plan::apply`] for the order of operations.
    pub fn ensure_order(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// Whether the order is ensured.
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// Checks every field name against `schema` before planning: a field
    /// the menu does not have is an [`Error::Config`](crate::Error::Config) naming it (and the
    /// schema's suggestion), before anything is sent.
    pub fn schema(mut self, schema: impl FieldNames + 'static) -> Self {
        self.schema = Some(Schema(Arc::new(schema)));
        self.checked.reset();
        self
    }

    /// The menu's path.
    pub fn menu(&self) -> &str {
        &self.menu
    }

    /// The identity keys.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The desired items, in the order given.
    pub fn items(&self) -> &[Arc<Fields>] {
        &self.items
    }

    /// Which items are managed.
    pub fn managed_items(&self) -> &Managed {
        &self.managed
    }

    /// Reads the menu once (one `print`) and computes what would make it
    /// match. Sends nothing else. A desired item without one of the keys, two
    /// desired items with the same identity, one outside [`Managed`]'s
    /// conditions or a field the schema does not know is an
    /// [`Error::Config`](crate::Error::Config), before the read.
    pub async fn plan(&self, device: &MikrotikDevice) -> Result<Plan> {
        let checked = self.check()?;
        let print = device.menu(&self.menu).print().into_command()?;
        // Each row is planned as it arrives, while the rest are on the wire.
        let mut planner = super::compute::Planner::new(self, &checked, true);
        device.each_row(print, |row| planner.row(&row)).await?;
        Ok(planner.plan())
    }

    /// The plan against rows already read (a `print` of the whole menu, in
    /// the router's order). Sends nothing.
    pub fn plan_against(&self, rows: &[ReplyResponse]) -> Result<Plan> {
        let checked = self.check()?;
        Ok(super::compute::compute(self, &checked, rows))
    }

    /// Reads the menu and returns its [`ReadMark`](super::ReadMark) and, only
    /// when it differs from `mark`, the fresh plan (an apply's precondition:
    /// an unchanged menu needs no second diff).
    pub(crate) async fn plan_unless(
        &self,
        device: &MikrotikDevice,
        mark: super::ReadMark,
    ) -> Result<Option<Plan>> {
        let checked = self.check()?;
        let rows = device.menu(&self.menu).print().await?;
        if super::compute::mark_of(self, &checked, &rows) == mark {
            return Ok(None);
        }
        Ok(Some(super::compute::compute(self, &checked, &rows)))
    }
}
