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
    /// The last row's keys, in its order, each with its column: the rows of
    /// one print name their fields in the same order, so a row's key is
    /// first compared with the key at its place in the last row, one
    /// comparison instead of a search.
    last_keys: Vec<(Box<[u8]>, Option<usize>)>,
}

/// How many of a row's keys are remembered for the next row.
const REMEMBERED: usize = 64;

/// Keys longer than this (no field name is) are searched for every time,
/// never remembered: what is remembered outlives its row, and 64 keys as
/// long as the decoder allows (16 MiB each) would be kept for the whole read.
const REMEMBERED_KEY_LEN: usize = 64;

/// How many cells a row gets on the stack; more spill to the heap.
const INLINE: usize = 32;

impl<'n> Columns<'n> {
    /// Columns for `names` (in any order, repeats allowed).
    pub(crate) fn new(names: impl IntoIterator<Item = &'n str>) -> Self {
        let mut names: Vec<&'n str> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        Self {
            names,
            last_keys: Vec::new(),
        }
    }

    /// The column of `name`, if there is one.
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.names.binary_search(&name).ok()
    }

    /// The column of `key`, the `at`-th key of a row.
    fn column_of(&mut self, at: usize, key: &[u8]) -> Option<usize> {
        if let Some((known, column)) = self.last_keys.get(at)
            && **known == *key
        {
            return *column;
        }
        // Bytes order as the names' text does: no UTF-8 check needed.
        let column = self
            .names
            .binary_search_by(|name| name.as_bytes().cmp(key))
            .ok();
        if key.len() > REMEMBERED_KEY_LEN {
            return column;
        }
        if let Some(slot) = self.last_keys.get_mut(at) {
            *slot = (key.into(), column);
        } else if at == self.last_keys.len() && at < REMEMBERED {
            self.last_keys.push((key.into(), column));
        }
        column
    }

    /// Walks `row`'s words once and hands `then` its cells (on the stack for
    /// a menu's usual handful of fields: no allocation per row).
    pub(crate) fn read<'r, T>(
        &mut self,
        row: &'r ReplyResponse,
        then: impl FnOnce(&Cells<'r>) -> T,
    ) -> T {
        let count = self.names.len();
        let mut fill = |cells: &mut Cells<'r>| {
            for (at, (key, value)) in row.attributes_raw.iter().enumerate() {
                if let Some(column) = self.column_of(at, key) {
                    cells[column].get_or_insert(value);
                }
            }
        };
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
    use proptest::prelude::*;

    proptest! {
        /// Rows whose keys come in any order, repeated or missing, one after
        /// another: each row's cells are its own, whatever the last row named
        /// at the same places.
        #[test]
        fn every_row_gets_its_own_cells(
            rows in proptest::collection::vec(
                proptest::collection::vec((0..5usize, 0..3u8), 0..7),
                1..12,
            ),
        ) {
            const KEYS: [&str; 5] = ["a", "b", "ab", "c", "other"];
            let mut columns = Columns::new(["a", "b", "ab", "c"]);
            for words in rows {
                let words: Vec<String> =
                    words.iter().map(|&(k, v)| format!("={}={v}", KEYS[k])).collect();
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                let source = row(&words);
                columns.read(&source, |cells| {
                    // The columns are the names in sorted order.
                    for (column, name) in ["a", "ab", "b", "c"].into_iter().enumerate() {
                        let expected = source.get_raw(name);
                        assert_eq!(raw(cells, Some(column)), expected, "{name} in {words:?}");
                    }
                });
            }
        }
    }

    /// A router's rows are not kept, and neither is what was remembered of
    /// their keys beyond a few bytes: rows of 64, 63, … keys, each ending in
    /// a long one, would otherwise leave 64 long keys behind (64 times the
    /// longest word the decoder takes: 1 GiB by default).
    #[test]
    fn long_keys_are_not_remembered() {
        const LONG: usize = 100_000;
        let mut columns = Columns::new(["a", "b"]);
        for keys in (1..=64).rev() {
            let mut words = vec!["=a=1".to_owned()];
            words.extend((1..keys).map(|n| format!("=k{n}=v")));
            let long = format!("{}{keys}", "x".repeat(LONG));
            words.push(format!("={long}=v"));
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let source = row(&words);
            columns.read(&source, |cells| {
                assert_eq!(text(cells, columns_at(&["a", "b"], "a")), Some("1"));
            });
        }
        let kept: usize = columns.last_keys.iter().map(|(key, _)| key.len()).sum();
        assert!(kept < LONG, "{kept} bytes of keys remembered");
    }

    /// The column of `name` among `names` (sorted).
    fn columns_at(names: &[&str], name: &str) -> Option<usize> {
        names.iter().position(|n| *n == name)
    }

    #[test]
    fn a_cell_holds_what_the_row_gives() {
        let rows = [
            row(&["=.id=*1", "=name=a", "=name=second", "=comment="]),
            row(&["=.id=*2", "=other=x"]),
        ];
        let mut columns = Columns::new([".id", "name", "comment", "missing", "name"]);
        let names = [".id", "name", "comment", "missing", "other"];
        let at: Vec<_> = names.iter().map(|name| columns.column(name)).collect();
        for source in &rows {
            columns.read(source, |cells| {
                for (name, column) in names.iter().zip(&at) {
                    let expected = if *name == "other" {
                        None
                    } else {
                        source.get_raw(name)
                    };
                    assert_eq!(raw(cells, *column), expected, "{name}");
                }
            });
        }
        columns.read(&rows[0], |cells| {
            assert_eq!(text(cells, at[1]), Some("a"), "the first of repeated keys");
            assert_eq!(text(cells, at[2]), Some(""));
        });
    }

    #[test]
    fn more_fields_than_the_stack_holds_spill_to_the_heap() {
        let names: Vec<String> = (0..40).map(|n| format!("f{n:02}")).collect();
        let words: Vec<String> = names.iter().map(|n| format!("={n}={n}")).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let source = row(&words);
        let mut columns = Columns::new(names.iter().map(String::as_str));
        let at: Vec<_> = names.iter().map(|name| columns.column(name)).collect();
        columns.read(&source, |cells| {
            assert_eq!(cells.len(), 40);
            for (name, column) in names.iter().zip(&at) {
                assert_eq!(text(cells, *column), Some(name.as_str()));
            }
        });
    }
}
