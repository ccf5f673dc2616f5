//! [`Table`]: the fields a plan reads from a menu's rows, each row's words
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

/// The values of some fields of every row, as the rows hold them.
pub(crate) struct Table<'n, 'r> {
    /// The fields, sorted, each once.
    names: Vec<&'n str>,
    /// Row by row, one cell per name: the first value of that field, as
    /// [`ReplyResponse::get_raw`] would give it.
    cells: Vec<Option<&'r [u8]>>,
}

impl<'n, 'r> Table<'n, 'r> {
    /// The values of `names` (in any order, repeats allowed) in each of `rows`.
    pub(crate) fn new(names: impl IntoIterator<Item = &'n str>, rows: &'r [ReplyResponse]) -> Self {
        let mut names: Vec<&'n str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let mut cells = vec![None; names.len() * rows.len()];
        for (row, cells) in rows.iter().zip(cells.chunks_exact_mut(names.len().max(1))) {
            for (key, value) in row.attributes_raw.iter() {
                // Bytes order as the names' text does: no UTF-8 check needed.
                if let Ok(at) = names.binary_search_by(|name| name.as_bytes().cmp(key)) {
                    cells[at].get_or_insert(value);
                }
            }
        }
        Self { names, cells }
    }

    /// The column of `name`, if the table has it.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.names.binary_search(&name).ok()
    }

    /// The raw value of `column` in row `row`.
    pub(crate) fn raw(&self, row: usize, column: Option<usize>) -> Option<&'r [u8]> {
        let column = column?;
        self.cells[row * self.names.len() + column]
    }

    /// The value of `column` in row `row`, if present and UTF-8 (as
    /// [`ReplyResponse::get`] gives it).
    pub(crate) fn text(&self, row: usize, column: Option<usize>) -> Option<&'r str> {
        self.raw(row, column)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::Table;
    use crate::desired::test_row as row;

    #[test]
    fn a_cell_holds_what_the_row_gives() {
        let rows = [
            row(&["=.id=*1", "=name=a", "=name=second", "=comment="]),
            row(&["=.id=*2", "=other=x"]),
        ];
        let table = Table::new([".id", "name", "comment", "missing", "name"], &rows);
        for (at, source) in rows.iter().enumerate() {
            for name in [".id", "name", "comment", "missing", "other"] {
                let expected = if name == "other" {
                    None
                } else {
                    source.get_raw(name)
                };
                assert_eq!(table.raw(at, table.column(name)), expected, "{name}");
            }
        }
        let text = |name| table.text(0, table.column(name));
        assert_eq!(text("name"), Some("a"), "the first of repeated keys");
        assert_eq!(text("comment"), Some(""));
    }
}
