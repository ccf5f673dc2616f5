//! One row of a mock menu, in one buffer.

/// One row of a menu: its attributes in order (list menus keep `.id`
/// first). Each attribute is its key's length, the key, its value's length
/// and the value, back to back in one buffer (lengths in LEB128): a row is
/// one allocation, not two per attribute (a mock taking 10,000 adds spent a
/// third of its time allocating them one by one). The encoding is minimal,
/// so two rows are equal exactly when their attributes are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Item {
    fields: Vec<u8>,
}

/// The bytes a length takes in LEB128.
fn length_size(mut length: usize) -> usize {
    let mut size = 1;
    while length >= 0x80 {
        length >>= 7;
        size += 1;
    }
    size
}

fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    let mut length = field.len();
    while length >= 0x80 {
        out.push((length & 0x7f) as u8 | 0x80);
        length >>= 7;
    }
    out.push(length as u8);
    out.extend_from_slice(field);
}

/// The first field of `bytes` and what follows it; `None` at the end.
fn split_field(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    // Nearly every key and value is shorter than 128 bytes: one byte of length.
    if let Some((&length, rest)) = bytes.split_first()
        && length < 0x80
    {
        let length = usize::from(length);
        return (length <= rest.len()).then(|| rest.split_at(length));
    }
    let mut length = 0usize;
    for (at, &byte) in bytes.iter().enumerate() {
        let shift = u32::try_from(7 * at).ok()?;
        length |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            let rest = bytes.get(at + 1..)?;
            return (length <= rest.len()).then(|| rest.split_at(length));
        }
    }
    None
}

/// The attributes of an [`Item`], in order.
#[derive(Clone)]
pub(crate) struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, rest) = split_field(self.rest)?;
        let (value, rest) = split_field(rest)?;
        self.rest = rest;
        Some((key, value))
    }
}

impl Item {
    /// A row of `attrs`, in their order.
    pub(crate) fn new<'a>(attrs: impl IntoIterator<Item = (&'a [u8], &'a [u8])> + Clone) -> Self {
        let size = attrs
            .clone()
            .into_iter()
            .map(|(k, v)| length_size(k.len()) + k.len() + length_size(v.len()) + v.len())
            .sum();
        let mut item = Self {
            fields: Vec::with_capacity(size),
        };
        for (k, v) in attrs {
            item.push(k, v);
        }
        item
    }

    fn push(&mut self, key: &[u8], value: &[u8]) {
        put_field(&mut self.fields, key);
        put_field(&mut self.fields, value);
    }

    /// The attributes, in order.
    pub(crate) fn attrs(&self) -> Attrs<'_> {
        Attrs { rest: &self.fields }
    }

    /// The attributes as owned pairs (a certificate's template to sign).
    #[cfg(feature = "testing-tls")]
    pub(crate) fn to_attrs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.attrs()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.attrs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Sets `key`: its first occurrence, or a new last attribute.
    pub(crate) fn set(&mut self, key: &[u8], value: &[u8]) {
        let Some(at) = self.attrs().position(|(k, _)| k == key) else {
            self.push(key, value);
            return;
        };
        let old = std::mem::take(self);
        let changed = old.attrs().enumerate().map(
            |(index, (k, v))| {
                if index == at { (k, value) } else { (k, v) }
            },
        );
        *self = Self::new(changed);
    }

    /// Keeps the attributes whose key `keep` approves.
    pub(crate) fn retain(&mut self, keep: impl Fn(&[u8]) -> bool) {
        if self.attrs().all(|(k, _)| keep(k)) {
            return;
        }
        let old = std::mem::take(self);
        *self = Self::new(old.attrs().filter(|(k, _)| keep(k)));
    }
}

#[cfg(test)]
mod tests {
    use super::Item;
    use proptest::prelude::*;

    /// The row as it was before it became one buffer: a list of pairs.
    type Model = Vec<(Vec<u8>, Vec<u8>)>;

    #[derive(Debug, Clone)]
    enum Step {
        Set(u8, usize),
        Retain(u8),
    }

    /// A key of a small alphabet (repeats are likely) and a value whose
    /// length may take one, two or three bytes to write.
    fn key(k: u8) -> Vec<u8> {
        vec![b'a' + k % 4; usize::from(k / 4) + 1]
    }

    fn value(length: usize) -> Vec<u8> {
        (0..length).map(|n| (n % 251) as u8).collect()
    }

    proptest! {
        /// `get`, `set` and `retain` do to the buffer what they did to the
        /// list of pairs, repeated keys included, and two rows are equal
        /// exactly when their pairs are.
        #[test]
        fn a_row_behaves_as_its_list_of_pairs(
            start in proptest::collection::vec((0..8u8, 0..200usize), 0..6),
            steps in proptest::collection::vec(
                prop_oneof![
                    (0..8u8, prop_oneof![0..3usize, 126..130usize, 16_383..16_386usize])
                        .prop_map(|(k, n)| Step::Set(k, n)),
                    (0..8u8).prop_map(Step::Retain),
                ],
                0..8,
            ),
        ) {
            let mut model: Model = start.iter().map(|&(k, n)| (key(k), value(n))).collect();
            let mut item = Item::new(model.iter().map(|(k, v)| (&k[..], &v[..])));
            for step in steps {
                match step {
                    Step::Set(k, n) => {
                        let (k, v) = (key(k), value(n));
                        match model.iter_mut().find(|(known, _)| *known == k) {
                            Some((_, old)) => *old = v.clone(),
                            None => model.push((k.clone(), v.clone())),
                        }
                        item.set(&k, &v);
                    }
                    Step::Retain(k) => {
                        let k = key(k);
                        model.retain(|(known, _)| *known != k);
                        item.retain(|known| known != k);
                    }
                }
                let pairs: Model = item.attrs().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                prop_assert_eq!(&pairs, &model);
                for k in 0..8 {
                    let k = key(k);
                    let first = model.iter().find(|(known, _)| *known == k).map(|(_, v)| &v[..]);
                    prop_assert_eq!(item.get(&k), first);
                }
                let rebuilt = Item::new(model.iter().map(|(k, v)| (&k[..], &v[..])));
                prop_assert_eq!(&item, &rebuilt);
            }
        }
    }

    fn pairs(item: &Item) -> Vec<(String, String)> {
        item.attrs()
            .map(|(k, v)| {
                let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
                (text(k), text(v))
            })
            .collect()
    }

    fn expected(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn a_row_keeps_its_attributes_in_order_and_changes_them_in_place() {
        let given: [(&[u8], &[u8]); 4] = [(b".id", b"*1"), (b"a", b""), (b"b", b"2"), (b"a", b"3")];
        let mut item = Item::new(given);
        assert_eq!(
            pairs(&item),
            expected(&[(".id", "*1"), ("a", ""), ("b", "2"), ("a", "3")])
        );
        assert_eq!(
            item.get(b"a"),
            Some(&b""[..]),
            "the first of a repeated key"
        );
        assert_eq!(item.get(b"c"), None);
        item.set(b"a", b"longer value");
        item.set(b"c", b"new");
        assert_eq!(
            pairs(&item),
            expected(&[
                (".id", "*1"),
                ("a", "longer value"),
                ("b", "2"),
                ("a", "3"),
                ("c", "new")
            ])
        );
        item.retain(|k| k != b"a");
        assert_eq!(
            pairs(&item),
            expected(&[(".id", "*1"), ("b", "2"), ("c", "new")])
        );
        // Equal rows compare equal however they came about (`move` finds
        // its anchor by equality).
        let built: [(&[u8], &[u8]); 3] = [(b".id", b"*1"), (b"b", b"2"), (b"c", b"new")];
        assert_eq!(item, Item::new(built));
        assert_eq!(Item::new(std::iter::empty()), Item::default());
        assert_eq!(Item::default().attrs().count(), 0);
    }

    #[test]
    fn long_keys_and_values_keep_their_bytes() {
        // Lengths that take one, two and three bytes to write.
        for length in [0, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let value: Vec<u8> = (0..length).map(|n| (n % 251) as u8).collect();
            let key = vec![b'k'; length % 200];
            let item = Item::new([(&key[..], &value[..]), (&b"next"[..], &b"1"[..])]);
            let attrs: Vec<_> = item.attrs().collect();
            assert_eq!(
                attrs,
                [(&key[..], &value[..]), (&b"next"[..], &b"1"[..])],
                "{length}"
            );
            assert_eq!(item.get(b"next"), Some(&b"1"[..]));
        }
        // Rows whose bytes run together differently are not equal.
        let a = Item::new([(&b"ab"[..], &b"c"[..])]);
        let b = Item::new([(&b"a"[..], &b"bc"[..])]);
        assert_ne!(a, b);
    }
}
