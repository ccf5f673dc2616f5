//! [`RouterOsFields`]: the field names of every RouterOS 7 menu, from the
//! `mikrotik-rs-schema` command tree (feature `schema`).

use super::{FieldNames, FieldVerdict};

/// Knows each menu's fields from the RouterOS 7.9–7.24 command tree: a field
/// is known when the menu's `add` or `set` takes it as an argument (in any
/// covered release). Menus the tree does not have, or without `add` and
/// `set`, are not checked. The tree holds arguments, not what `print`
/// returns: a read-only field (`dynamic`, `running`) is unknown to it, and a
/// desired state cannot set one anyway.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouterOsFields;

impl FieldNames for RouterOsFields {
    fn field(&self, menu: &str, field: &str) -> FieldVerdict {
        use mikrotik_rs_schema::check::{Target, argument};
        let schema = mikrotik_rs_schema::schema();
        let Some(found) = schema.menu(menu) else {
            return FieldVerdict::UnknownMenu;
        };
        let commands: Vec<_> = ["add", "set"]
            .iter()
            .filter_map(|name| found.command(name))
            .collect();
        let Some(first) = commands.first() else {
            return FieldVerdict::UnknownMenu;
        };
        if commands.iter().any(|c| c.argument(field).is_some()) {
            return FieldVerdict::Known;
        }
        let message = argument(&Target::Command(found, first), field, schema.all_versions()).err();
        FieldVerdict::Unknown { message }
    }
}
