//! Plans and results shown as a person reviews them: a diff in the style of
//! `terraform plan`.

use std::fmt;

use super::plan::{Add, Counts, FieldChange, Held, Remove, Set};
use super::{Action, Desired, Fields, Plan};
use crate::protocol::secrets::is_secret;

/// What a secret value shows as.
const REDACTED: &str = "<redacted>";

/// `value` of `field` as shown to a person or a log: [`REDACTED`] when the
/// crate's secrets policy says the field is secret in `menu` (`None`: in any
/// menu, which errs safe). A plan of `/ppp/secret` shows that a password
/// changes, never what it was or becomes.
fn shown<'a>(menu: Option<&str>, field: &str, value: &'a str) -> &'a str {
    if is_secret(menu.map(str::as_bytes), field.as_bytes()) {
        REDACTED
    } else {
        value
    }
}

/// `list=blocklist address=192.0.2.7`: the fields in order, values quoted when
/// they hold spaces or are empty, secrets of `menu` redacted.
pub(crate) struct ShowFields<'a>(pub(crate) &'a str, pub(crate) &'a Fields);

impl fmt::Display for ShowFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (field, value)) in self.1.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            let value = shown(Some(self.0), field, value);
            write!(f, "{field}={}", ShowValue(Some(value)))?;
        }
        Ok(())
    }
}

/// Fields as `Debug` shows them: a map, every secret value redacted.
struct DebugFields<'a>(&'a Fields);

impl fmt::Debug for DebugFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, shown(None, k, v))))
            .finish()
    }
}

impl fmt::Debug for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<DebugFields<'_>> = self.items().iter().map(|i| DebugFields(i)).collect();
        f.debug_struct("Desired")
            .field("menu", &self.menu())
            .field("keys", &self.keys())
            .field("items", &items)
            .field("managed", self.managed_items())
            .field("ordered", &self.is_ordered())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Add {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Add")
            .field("fields", &DebugFields(&self.fields))
            .field("place_before", &self.place_before)
            .finish()
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Set")
            .field("id", &self.id)
            .field("identity", &DebugFields(&self.identity))
            .field("changes", &self.changes)
            .finish()
    }
}

impl fmt::Debug for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field.as_str();
        f.debug_struct("FieldChange")
            .field("field", &field)
            .field("old", &self.old.as_deref().map(|v| shown(None, field, v)))
            .field("new", &shown(None, field, &self.new))
            .finish()
    }
}

impl fmt::Debug for Remove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remove")
            .field("id", &self.id)
            .field("identity", &DebugFields(&self.identity))
            .finish()
    }
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held")
            .field("id", &self.id)
            .field("identity", &DebugFields(&self.identity))
            .finish()
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Add(fields) => f.debug_tuple("Add").field(&DebugFields(fields)).finish(),
            Self::Set { id, identity } => f
                .debug_struct("Set")
                .field("id", id)
                .field("identity", &DebugFields(identity))
                .finish(),
            Self::Move { id, before } => f
                .debug_struct("Move")
                .field("id", id)
                .field("before", before)
                .finish(),
            Self::Remove { id, identity } => f
                .debug_struct("Remove")
                .field("id", id)
                .field("identity", &DebugFields(identity))
                .finish(),
        }
    }
}

/// A value: bare when plain, quoted when empty or spaced, `(unset)` when absent.
struct ShowValue<'a>(Option<&'a str>);

impl fmt::Display for ShowValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("(unset)"),
            Some(v) if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '"') => {
                write!(f, "{v:?}")
            }
            Some(v) => f.write_str(v),
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to add, {} to change, {} to remove",
            self.add, self.change, self.remove
        )?;
        if self.moves > 0 {
            write!(f, ", {} to move", self.moves)?;
        }
        Ok(())
    }
}

/// ```text
/// /ip/firewall/address-list: 1 to add, 1 to change, 1 to remove
///   + address=192.0.2.9 list=blocklist
///   ~ *3 address=192.0.2.7 list=blocklist
///       comment: "old" → "new"
///   - *4 address=192.0.2.8 list=blocklist
/// ```
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let menu = self.desired.menu();
        if self.is_empty() {
            return writeln!(f, "{menu}: no changes");
        }
        writeln!(f, "{menu}: {}", self.counts())?;
        for add in &self.adds {
            write!(f, "  + {}", ShowFields(menu, &add.fields))?;
            match &add.place_before {
                Some(before) => writeln!(f, " (before {before})")?,
                None => writeln!(f)?,
            }
        }
        for set in &self.sets {
            writeln!(f, "  ~ {} {}", set.id, ShowFields(menu, &set.identity))?;
            for change in &set.changes {
                writeln!(
                    f,
                    "      {}: {} → {}",
                    change.field,
                    ShowValue(
                        change
                            .old
                            .as_deref()
                            .map(|v| shown(Some(menu), &change.field, v))
                    ),
                    ShowValue(Some(shown(Some(menu), &change.field, &change.new)))
                )?;
            }
        }
        for step in &self.moves {
            match &step.before {
                Some(before) => writeln!(f, "  ↕ {} before {before}", step.id)?,
                None => writeln!(f, "  ↕ {} to the end", step.id)?,
            }
        }
        for remove in &self.removes {
            writeln!(
                f,
                "  - {} {}",
                remove.id,
                ShowFields(menu, &remove.identity)
            )?;
        }
        for held in &self.held {
            writeln!(
                f,
                "  ! {} {} is not the plan's to change (dynamic, built-in or not managed): an add of it may be refused",
                held.id,
                ShowFields(menu, &held.identity)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::desired::Desired;
    use crate::desired::test_row as row;

    #[test]
    fn secrets_never_reach_display_or_debug() {
        let rows = [
            row(&["=.id=*1", "=name=alice", "=password=old-hunter2"]),
            row(&["=.id=*2", "=name=bob", "=password=bob-secret"]),
        ];
        let desired = Desired::new("/ppp/secret", ["name"])
            .item([("name", "alice"), ("password", "new-hunter2")])
            .item([("name", "carol"), ("password", "carol-secret")]);
        let plan = desired.plan_against(&rows).unwrap();
        assert_eq!(
            (plan.adds.len(), plan.sets.len(), plan.removes.len()),
            (1, 1, 1)
        );
        for (how, shown) in [
            ("Display", plan.to_string()),
            ("Debug", format!("{plan:?}")),
        ] {
            for secret in ["old-hunter2", "new-hunter2", "carol-secret"] {
                assert!(!shown.contains(secret), "{how} shows {secret}: {shown}");
            }
            assert!(
                shown.contains("alice") && shown.contains("carol"),
                "{how}: {shown}"
            );
        }
        assert!(!format!("{desired:?}").contains("hunter2"));
    }

    #[test]
    fn an_apply_result_shows_no_secret_either() {
        use crate::desired::{Action, Applied, ItemResult, Outcome};
        let rows = [row(&["=.id=*1", "=name=alice", "=password=old-hunter2"])];
        let desired = Desired::new("/ppp/secret", ["name"])
            .item([("name", "alice"), ("password", "new-hunter2")])
            .item([("name", "carol"), ("password", "carol-secret")]);
        let plan = desired.plan_against(&rows).unwrap();
        let added = ItemResult {
            action: Action::Add(std::sync::Arc::clone(&plan.adds[0].fields)),
            outcome: Outcome::Applied {
                id: Some("*2".into()),
            },
        };
        let applied = Applied {
            replanned: Some(plan.clone()),
            items: vec![added],
            remaining: Some(plan),
            verify_error: None,
        };
        let shown = format!("{applied:?}");
        for secret in ["old-hunter2", "new-hunter2", "carol-secret"] {
            assert!(!shown.contains(secret), "Debug shows {secret}: {shown}");
        }
        assert!(shown.contains("carol"), "{shown}");
    }
}
