//! [`Columns`]: the fields a plan reads from a menu's rows, each row's words
//! walked once.
//!
//! A plan asks every row for its `.id`, its flags, its keys, the managed
//! conditions' fields and every desired field; asked of the row itself, each
//! question walks the row's words again. Over 10,000 rows read three times
//! per apply (plan, precondition, verify) that walking was most of a plan's
//! time.

use crate::protocol::ReplyResponse;

/// The flags that make a row the router's own (see `managed::is_routers_own`).
pub(crate) const FLAGS: [&str; 3] = ["dynamic", "builtin", "default"];

/// One row's values of the [`Columns`]: the first value of each field, as
/// [`ReplyResponse::get_raw`] would give it.
pub(crate) type Cells<'r> = [Option<&'r [u8]>];

/// The fields read from every row, each at a fixed place in a row's [`Cells`].
pub(crate) struct Columns<'n> {
    /// The fields, sorted, each once.
    names: Vec<&'n str>,
}

/// How many cells a row gets on the stack; more spill to the heap.
const INLINE: usize = 32;

impl<'n> Columns<'n> {
    /// Columns for `names` (in any order, repeats allowed).
    pub(crate) fn new(names: impl IntoIterator<Item = &'n str>) -> Self {
        let mut names: Vec<&'n str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        Self { names }
    }

    /// The column of `name`, if there is one.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.names.binary_search(&name).ok()
    }

    /// Walks `row`'s words once and hands `then` its cells (on the stack for
    /// a menu's usual handful of fields: no allocation per row).
    pub(crate) fn read<'r, T>(
        &self,
        row: &'r ReplyResponse,
        then: impl FnOnce(&Cells<'r>) -> T,
    ) -> T {
        let fill = |cells: &mut Cells<'r>| {
            for (key, value) in row.attributes_raw.iter() {
                // Bytes order as the names' text does: no UTF-8 check needed.
                if let Ok(at) = self.names.binary_search_by(|name| name.as_bytes().cmp(key)) {
                    cells[at].get_or_insert(value);
                }
            }
        };
        let count = self.names.len();
        if count <= INLINE {
            let mut cells = [None; INLINE];
            fill(&mut cells[..count]);
            then(&cells[..count])
        } else {
            let mut cells = vec![None; count];
            fill(&mut cells);
            then(&cells)
        }
    }
}

/// The raw value of `column` in `cells`.
pub(crate) fn raw<'r>(cells: &Cells<'r>, column: Option<usize>) -> Option<&'r [u8]> {
    cells.get(column?).copied().flatten()
}

/// The value of `column` in `cells`, if present and UTF-8 (as
/// [`ReplyResponse::get`] gives it).
pub(crate) fn text<'r>(cells: &Cells<'r>, column: Option<usize>) -> Option<&'r str> {
    raw(cells, column).and_then(|bytes| std::str::from_utf8(bytes).ok())
}

#[cfg(test)]
mod tests {
    use super::{Columns, raw, text};
    use crate::desired::test_row as row;

    #[test]
    fn a_cell_holds_what_the_row_gives() {
        let rows = [
            row(&["=.id=*1", "=name=a", "=name=second", "=comment="]),
            row(&["=.id=*2", "=other=x"]),
        ];
        let columns = Columns::new([".id", "name", "comment", "missing", "name"]);
        for source in &rows {
            columns.read(source, |cells| {
                for name in [".id", "name", "comment", "missing", "other"] {
                    let expected = if name == "other" {
                        None
                    } else {
                        source.get_raw(name)
                    };
                    assert_eq!(raw(cells, columns.column(name)), expected, "{name}");
                }
            });
        }
        columns.read(&rows[0], |cells| {
            let text = |name| text(cells, columns.column(name));
            assert_eq!(text("name"), Some("a"), "the first of repeated keys");
            assert_eq!(text("comment"), Some(""));
        });
    }

    #[test]
    fn more_fields_than_the_stack_holds_spill_to_the_heap() {
        let names: Vec<String> = (0..40).map(|n| format!("f{n:02}")).collect();
        let words: Vec<String> = names.iter().map(|n| format!("={n}={n}")).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let source = row(&words);
        let columns = Columns::new(names.iter().map(String::as_str));
        columns.read(&source, |cells| {
            assert_eq!(cells.len(), 40);
            for name in &names {
                assert_eq!(text(cells, columns.column(name)), Some(name.as_str()));
            }
        });
    }
}
