//! Ensuring order in ordered menus (firewall rules, simple queues, routing
//! filters): the fewest `move`s that put the kept items in the desired
//! order, and where each new item is added.
//!
//! The kept items (existing items the desired state keeps) are read in the
//! router's order; each has its place in the desired order. The longest run
//! of them already in increasing desired order (a longest increasing
//! subsequence) stays where it is: every other kept item is moved once, so
//! the number of moves is the fewest possible (kept − that run). Moves are
//! made one at a time, in reverse desired order, each placing an item right
//! before its desired successor (already in place), the last one right after
//! the last item of the run. New items are then added straight at their
//! final place (`place-before` their desired successor), never at the end
//! to be moved later.

use super::plan::Move;

/// The moves that order `rows` (the menu's `.id`s in the router's order)
/// so that `kept` (`.id`s in the desired order, each in `rows`) appear in
/// that order. Other rows do not move.
pub(crate) fn moves(rows: &[String], kept: &[String]) -> Vec<Move> {
    // Linear in the rows: a map from `.id` to desired rank, not a search per row.
    let ranks: std::collections::HashMap<&str, usize> = kept
        .iter()
        .enumerate()
        .map(|(rank, id)| (id.as_str(), rank))
        .collect();
    // The kept items' desired ranks, in the router's order.
    let sequence: Vec<usize> = rows
        .iter()
        .filter_map(|id| ranks.get(id.as_str()).copied())
        .collect();
    let stays = longest_increasing(&sequence);
    let mut in_run = vec![false; kept.len()];
    for &rank in &stays {
        in_run[rank] = true;
    }
    let Some(&last_of_run) = stays.last() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rank in (0..kept.len()).rev().filter(|&r| !in_run[r]) {
        let id = &kept[rank];
        let before = match kept.get(rank + 1) {
            Some(successor) => Some(successor.clone()),
            // The last desired item, moved first (so the menu is still as
            // read): right after the run's last item.
            None => {
                let anchor = rows.iter().position(|r| *r == kept[last_of_run]);
                anchor
                    .and_then(|at| rows[at + 1..].iter().find(|r| *r != id))
                    .cloned()
            }
        };
        out.push(Move {
            id: id.clone(),
            before,
        });
    }
    out
}

/// A longest strictly increasing subsequence of `sequence` (its values, in order).
fn longest_increasing(sequence: &[usize]) -> Vec<usize> {
    // tails[k]: index of the smallest tail of an increasing run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous = vec![usize::MAX; sequence.len()];
    for (i, &value) in sequence.iter().enumerate() {
        let k = tails.partition_point(|&t| sequence[t] < value);
        if k > 0 {
            previous[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut run = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(i) = at {
        run.push(sequence[i]);
        at = (previous[i] != usize::MAX).then(|| previous[i]);
    }
    run.reverse();
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    /// Applies `moves` to `rows` as RouterOS `move` does.
    fn replay(rows: &[String], moves: &[Move]) -> Vec<String> {
        let mut order = rows.to_vec();
        for m in moves {
            order.retain(|r| *r != m.id);
            let at = m
                .before
                .as_ref()
                .and_then(|b| order.iter().position(|r| r == b))
                .unwrap_or(order.len());
            order.insert(at, m.id.clone());
        }
        order
    }

    #[test]
    fn fewest_moves_and_the_right_order() {
        for (rows, kept, expected_moves) in [
            ("a b c d", "a b c d", 0),
            ("a b c d", "b a c d", 1),
            ("a b c d", "d a b c", 1),
            ("a b c d", "b c d a", 1),
            ("a b c d", "d c b a", 3),
            ("a x b y c", "c b a", 2),
            ("a x b y c", "a c", 0),
            ("x a b", "b a", 1),
        ] {
            let (rows, kept) = (ids(rows), ids(kept));
            let moves = moves(&rows, &kept);
            assert_eq!(
                moves.len(),
                expected_moves,
                "{rows:?} → {kept:?}: {moves:?}"
            );
            let after = replay(&rows, &moves);
            let kept_after: Vec<_> = after.iter().filter(|r| kept.contains(r)).cloned().collect();
            assert_eq!(kept_after, kept, "{rows:?} → {kept:?}: {moves:?}");
            let others = |v: &[String]| {
                v.iter()
                    .filter(|r| !kept.contains(r))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                others(&after),
                others(&rows),
                "unmanaged rows keep their order"
            );
        }
    }

    #[test]
    fn longest_run() {
        assert_eq!(longest_increasing(&[3, 0, 1, 4, 2]), [0, 1, 2]);
        assert_eq!(longest_increasing(&[]), Vec::<usize>::new());
    }
}
