//! Model test of the routing: many commands in flight, a router that
//! interleaves their replies sentence by sentence in a random order, some
//! commands cancelled mid-stream, reads of random sizes. Each stream must
//! receive exactly its own sentences, in order; cancelled ones exactly what
//! came before the drop; nothing stays in the routing table.
//!
//! The router is the in-memory one of `mikrotik_rs::testing::fuzz`: the
//! actor runs on this thread, polled step by step, so a hang is a panic.
#![cfg(feature = "__fuzz")]

use mikrotik_rs::Error;
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::testing::fuzz::{Session, Step, Word, check_outcome, run_session};
use proptest::prelude::*;

/// One command's part in the session.
#[derive(Debug, Clone)]
struct Plan {
    rows: usize,
    trap: bool,
    /// Dropped by the client after this many rows; the router then sends
    /// `extra` more rows before it sees the `/cancel`.
    cancel: Option<(usize, usize)>,
}

fn arb_plan() -> impl Strategy<Value = Plan> {
    (
        0..6usize,
        any::<bool>(),
        prop::option::weighted(0.3, (0..6usize, 0..3usize)),
    )
        .prop_map(|(rows, trap, cancel)| Plan {
            rows,
            trap,
            cancel: cancel.map(|(at, extra)| (at.min(rows), extra)),
        })
}

fn row(i: usize, j: usize) -> Step {
    let mut words = vec![
        Word::text("!re"),
        Word::text(&format!("=c={i}")),
        Word::text(&format!("=n={j}")),
    ];
    // `.tag` right after the reply word, or last: both occur in the wild.
    if j.is_multiple_of(2) {
        words.insert(1, Word::Tag(i));
    } else {
        words.push(Word::Tag(i));
    }
    Step::Sentence(words)
}

/// The steps of command `i`, in its own order.
fn steps_of(i: usize, plan: &Plan) -> Vec<Step> {
    let mut steps = Vec::new();
    match plan.cancel {
        None => {
            steps.extend((0..plan.rows).map(|j| row(i, j)));
            if plan.trap {
                steps.push(Step::Sentence(vec![
                    Word::text("!trap"),
                    Word::Tag(i),
                    Word::text("=category=1"),
                    Word::text(&format!("=message=t{i}")),
                ]));
            }
            steps.push(Step::Sentence(vec![Word::text("!done"), Word::Tag(i)]));
        }
        Some((at, extra)) => {
            steps.extend((0..at).map(|j| row(i, j)));
            steps.push(Step::Drop(i));
            steps.extend((at..at + extra).map(|j| row(i, j)));
            // The documented order: the interrupted trap, the cancel's own
            // `!done`, then the cancelled command's `!done`.
            steps.push(Step::Sentence(vec![
                Word::text("!trap"),
                Word::Tag(i),
                Word::text("=category=2"),
                Word::text("=message=interrupted"),
            ]));
            steps.push(Step::Sentence(vec![
                Word::text("!done"),
                Word::CancelTag(i),
            ]));
            steps.push(Step::Sentence(vec![Word::text("!done"), Word::Tag(i)]));
        }
    }
    steps
}

/// Merges the commands' step lists in the order `picks` chooses, keeping
/// each command's own order.
fn interleave(
    mut lists: Vec<std::collections::VecDeque<Step>>,
    picks: &[prop::sample::Index],
) -> Vec<Step> {
    let mut out = Vec::new();
    let mut picks = picks.iter().cycle();
    loop {
        let open: Vec<usize> = (0..lists.len()).filter(|&i| !lists[i].is_empty()).collect();
        if open.is_empty() {
            return out;
        }
        let pick = picks.next().map_or(0, |p| p.index(open.len()));
        out.push(lists[open[pick]].pop_front().unwrap());
    }
}

fn expected_rows(i: usize, rows: usize) -> Vec<String> {
    (0..rows).map(|j| format!("re c={i} n={j}")).collect()
}

fn describe(items: &[Result<CommandResponse, Error>]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Ok(CommandResponse::Reply(r)) => format!(
                "re c={} n={}",
                r.get("c").unwrap_or("?"),
                r.get("n").unwrap_or("?")
            ),
            Ok(CommandResponse::Trap(t)) => format!("trap {}", t.message),
            Ok(other) => other.reply_word().to_owned(),
            Err(e) => format!("error {e}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_stream_gets_exactly_its_own_replies_in_order(
        plans in prop::collection::vec(arb_plan(), 1..16),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..64),
        chunk in prop::sample::select(vec![1usize, 2, 5, 13, 64, 4096, usize::MAX]),
    ) {
        let lists = plans.iter().enumerate().map(|(i, p)| steps_of(i, p).into()).collect();
        let mut session = Session::new(plans.len());
        session.steps = interleave(lists, &picks);
        session.chunk = chunk;
        let outcome = run_session(session);
        check_outcome(&outcome);
        for (i, plan) in plans.iter().enumerate() {
            let got = describe(&outcome.items[i]);
            match plan.cancel {
                None => {
                    let mut want = expected_rows(i, plan.rows);
                    if plan.trap {
                        want.push(format!("trap t{i}"));
                    }
                    want.push("!done".to_owned());
                    prop_assert_eq!(&got, &want, "command {}", i);
                    prop_assert!(outcome.ended[i]);
                }
                Some((at, _)) => {
                    prop_assert!(outcome.dropped[i], "command {} was dropped", i);
                    prop_assert_eq!(&got, &expected_rows(i, at), "cancelled command {}", i);
                }
            }
        }
        // Every route is gone once the router has answered everything.
        prop_assert_eq!(outcome.in_flight_after_steps, 0);
        // One `/cancel` per dropped command, naming it, with a tag of its own.
        let cancels: Vec<_> = outcome.written.iter().filter(|s| s.word(0) == Some(&b"/cancel"[..])).collect();
        prop_assert_eq!(cancels.len(), plans.iter().filter(|p| p.cancel.is_some()).count());
        for cancel in cancels {
            let target = cancel.words().find_map(|w| w.strip_prefix(b"=tag=")).unwrap();
            let own = cancel.words().find_map(|w| w.strip_prefix(b".tag=")).unwrap();
            prop_assert_ne!(target, own);
        }
        prop_assert!(
            matches!(outcome.closed_reason, Some(Error::ConnectionClosed { mid_sentence: false })),
            "{:?}", outcome.closed_reason
        );
    }
}

/// The machinery itself: a plain session of two commands.
#[test]
fn a_plain_session() {
    let mut session = Session::new(2);
    session.steps = vec![row(1, 0), row(0, 0), row(1, 1)];
    session.steps.extend(steps_of(
        0,
        &Plan {
            rows: 0,
            trap: true,
            cancel: None,
        },
    ));
    session
        .steps
        .push(Step::Sentence(vec![Word::text("!done"), Word::Tag(1)]));
    let outcome = run_session(session);
    check_outcome(&outcome);
    assert_eq!(
        describe(&outcome.items[0]),
        ["re c=0 n=0", "trap t0", "!done"]
    );
    assert_eq!(
        describe(&outcome.items[1]),
        ["re c=1 n=0", "re c=1 n=1", "!done"]
    );
    assert_eq!(outcome.in_flight_after_steps, 0);
    println!("{} polls", outcome.polls);
}
