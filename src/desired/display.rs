//! Plans and results shown as a person reviews them: a diff in the style of
//! `terraform plan`.

use std::fmt;

use super::plan::Counts;
use super::{Fields, Plan};

/// `list=blocklist address=192.0.2.7`: the fields in order, values quoted when
/// they hold spaces or are empty.
pub(crate) struct ShowFields<'a>(pub(crate) &'a Fields);

impl fmt::Display for ShowFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (field, value)) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{field}={}", ShowValue(Some(value)))?;
        }
        Ok(())
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
            write!(f, "  + {}", ShowFields(&add.fields))?;
            match &add.place_before {
                Some(before) => writeln!(f, " (before {before})")?,
                None => writeln!(f)?,
            }
        }
        for set in &self.sets {
            writeln!(f, "  ~ {} {}", set.id, ShowFields(&set.identity))?;
            for change in &set.changes {
                writeln!(
                    f,
                    "      {}: {} → {}",
                    change.field,
                    ShowValue(change.old.as_deref()),
                    ShowValue(Some(&change.new))
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
            writeln!(f, "  - {} {}", remove.id, ShowFields(&remove.identity))?;
        }
        Ok(())
    }
}
