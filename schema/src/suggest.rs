//! Nearest names for "did you mean" messages: the optimal-string-alignment distance
//! (Damerau–Levenshtein where a swapped pair counts as one edit, so `adress`,
//! `addrses` and `adddress` are all one edit from `address`).

/// The edit distance between two names.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    // Three rows: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The furthest a name may be from what was written to be suggested: about one
/// edit in three characters, and at least two.
fn limit(written: &str) -> usize {
    (written.len() / 3).max(2)
}

/// The candidates nearest to `written` (within [`limit`], and at most one edit worse
/// than the nearest), nearest first, at most `count`; ties keep the candidates' order.
pub(crate) fn nearest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    count: usize,
) -> Vec<&'a str> {
    let limit = limit(written);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|candidate| candidate.len().abs_diff(written.len()) <= limit)
        .map(|candidate| (distance(written, candidate), candidate))
        .filter(|&(distance, _)| distance <= limit)
        .collect();
    scored.sort_by_key(|&(distance, _)| distance);
    scored.dedup_by(|a, b| a.1 == b.1);
    // Far worse than the best is noise next to it.
    let best = scored.first().map_or(0, |&(distance, _)| distance);
    scored
        .into_iter()
        .take_while(|&(distance, _)| distance <= best + 1)
        .take(count)
        .map(|(_, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("address", "address"), 0);
        assert_eq!(distance("adress", "address"), 1);
        assert_eq!(distance("addrses", "address"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("print", "pirnt"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_first_within_the_limit() {
        let names = ["interface", "address", "network", "addresses"];
        assert_eq!(nearest("adress", names, 3), ["address"]);
        assert_eq!(nearest("addresse", names, 3), ["address", "addresses"]);
        assert!(nearest("zzzzzz", names, 3).is_empty());
    }
}
