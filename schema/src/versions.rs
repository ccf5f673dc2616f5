//! Which covered releases a menu, command or argument exists in: a bit set over
//! [`Schema::releases`](crate::Schema::releases).

use std::fmt;

use crate::schema;

/// A set of covered releases (bit `i` is `schema().releases()[i]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Versions(u64);

impl Versions {
    /// The first `count` releases.
    pub(crate) fn all(count: usize) -> Self {
        Self(if count >= 64 {
            u64::MAX
        } else {
            (1 << count) - 1
        })
    }

    /// The one release with this index.
    pub(crate) fn single(index: usize) -> Self {
        Self(1 << index)
    }

    /// From the generator's bit mask.
    pub(crate) fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The raw bits (bit `i` is release `i`).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// Whether the two sets share a release.
    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set holds no release.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The releases in the set, oldest first (`7.9.2`, …).
    pub fn releases(self) -> impl Iterator<Item = &'static str> {
        schema()
            .releases()
            .iter()
            .enumerate()
            .filter(move |(index, _)| self.0 & (1 << index) != 0)
            .map(|(_, release)| *release)
    }
}

/// The minor version of a version string: `7.16.1` → (7, 16); `7.20beta3` → (7, 20).
pub(crate) fn minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor.bytes().take_while(u8::is_ascii_digit).count();
    Some((major, minor[..digits].parse().ok()?))
}

/// The minor version as shown: `7.16`.
fn short(release: &str) -> String {
    minor(release).map_or_else(|| release.to_owned(), |(a, b)| format!("{a}.{b}"))
}

/// Ranges of minor versions: `7.9–7.24` (all), `since 7.22`, `up to 7.15`,
/// `7.12–7.14, since 7.20`.
impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let releases = schema().releases();
        let count = releases.len();
        let mut runs = Vec::new();
        let mut index = 0;
        while index < count {
            if self.0 & (1 << index) == 0 {
                index += 1;
                continue;
            }
            let start = index;
            while index + 1 < count && self.0 & (1 << (index + 1)) != 0 {
                index += 1;
            }
            runs.push((start, index));
            index += 1;
        }
        if runs.is_empty() {
            return f.write_str("no covered release");
        }
        let parts: Vec<String> = runs
            .iter()
            .map(|&(start, end)| {
                let (first, last) = (short(releases[start]), short(releases[end]));
                match (start == 0, end == count - 1) {
                    (true, true) => format!("{first}–{last}"),
                    (false, true) => format!("since {first}"),
                    (true, false) if start != end => format!("up to {last}"),
                    _ if start == end => first,
                    _ => format!("{first}–{last}"),
                }
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_ranges() {
        let all = schema().all_versions();
        assert_eq!(all.to_string(), "7.9–7.24");
        assert_eq!(Versions(0b1).to_string(), "7.9");
        assert_eq!(Versions(0b111).to_string(), "up to 7.11");
        assert_eq!(Versions(0b11 << 14).to_string(), "since 7.23");
        assert_eq!(
            Versions(0b1110 | (0b11 << 14)).to_string(),
            "7.10–7.12, since 7.23"
        );
        assert_eq!(Versions(0).to_string(), "no covered release");
    }
}
