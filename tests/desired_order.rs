//! Desired state in an ordered menu (`/ip/firewall/filter` on the mock):
//! the fewest moves, new rules added in place, and after every step of the
//! apply, a firewall that accepts nothing that neither the old nor the new
//! rule set accepts. Every test runs under Tokio and smol, bounded in time.

mod common;

use std::sync::{Arc, Mutex};

use common::connect;
use mikrotik_rs::desired::{Action, ApplyOptions, Desired, Managed, Outcome};
use mikrotik_rs::testing::{MockMenu, MockRouter, PropertyType};

const FILTER: &str = "/ip/firewall/filter";

on_every_runtime!(
    ensure_order_never_opens_the_firewall,
    order_alone_is_a_plan,
    a_rule_whose_replacement_failed_stays_in_force,
);

/// A rule as the test reads it: (comment, action, src-address, dst-port).
type Rule = (String, String, String, String);

/// One step of an apply and the input rules right after it.
type Step = (Action, Vec<Rule>);

fn rule<'a>(
    comment: &'a str,
    action: &'a str,
    src: &'a str,
    port: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("chain", "input"), ("comment", comment), ("action", action)];
    if !src.is_empty() {
        fields.push(("src-address", src));
    }
    if !port.is_empty() {
        fields.push(("dst-port", port));
    }
    fields
}

fn rules(router: &MockRouter) -> Vec<Rule> {
    router
        .items(FILTER)
        .iter()
        .map(|row| {
            let get = |key: &str| {
                row.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            (
                get("comment"),
                get("action"),
                get("src-address"),
                get("dst-port"),
            )
        })
        .collect()
}

/// What the rule set does with a new connection from `src` to `port`: the
/// first matching rule's action; none matching: accept (RouterOS's default).
fn accepts(rules: &[Rule], src: &str, port: &str) -> bool {
    rules
        .iter()
        .find(|(_, _, s, p)| (s.is_empty() || s == src) && (p.is_empty() || p == port))
        .is_none_or(|(_, action, _, _)| action == "accept")
}

const OLD: [[&str; 4]; 5] = [
    ["ssh-admin", "accept", "10.0.0.1", "22"],
    ["drop-bad", "drop", "10.0.0.66", ""],
    ["legacy-telnet", "accept", "", "23"],
    ["web", "accept", "", "80"],
    ["drop-all", "drop", "", ""],
];

/// `drop-bad` is replaced by `drop-bad-v2` (removing the old before the new
/// is in place would let 10.0.0.66 reach the web server), `legacy-telnet`
/// goes, `drop-scanner` comes, and `web` moves above `ssh-admin`.
const NEW: [[&str; 4]; 5] = [
    ["drop-bad-v2", "drop", "10.0.0.66", ""],
    ["web", "accept", "", "80"],
    ["ssh-admin", "accept", "10.0.0.1", "22"],
    ["drop-scanner", "drop", "10.0.0.99", ""],
    ["drop-all", "drop", "", ""],
];

fn as_rules(set: &[[&str; 4]]) -> Vec<Rule> {
    set.iter()
        .map(|[c, a, s, p]| (c.to_string(), a.to_string(), s.to_string(), p.to_string()))
        .collect()
}

fn desired(set: &[[&str; 4]]) -> Desired {
    let mut desired = Desired::new(FILTER, ["comment"])
        .managed(Managed::all().equal("chain", "input"))
        .ensure_order(true);
    for [c, a, s, p] in set {
        desired.push(rule(c, a, s, p));
    }
    desired
}

async fn ensure_order_never_opens_the_firewall() {
    let mut menu = MockMenu::new(FILTER);
    for [c, a, s, p] in OLD {
        menu = menu.row(rule(c, a, s, p));
    }
    let router = Arc::new(MockRouter::builder().menu(menu).start());
    // A rule the plan does not manage stays where it is.
    router.add_item(
        FILTER,
        [
            ("chain", "forward"),
            ("comment", "forward-any"),
            ("action", "accept"),
        ],
    );
    let device = connect(&router).await;
    let plan = desired(&NEW).plan(&device).await.unwrap();
    assert_eq!(plan.moves.len(), 1, "the fewest moves:\n{plan}");
    assert_eq!(
        (plan.adds.len(), plan.removes.len(), plan.sets.len()),
        (2, 2, 0)
    );
    let (old, new) = (as_rules(&OLD), as_rules(&NEW));
    let probes: Vec<(String, &str)> = ["10.0.0.1", "10.0.0.66", "10.0.0.99", "10.0.0.5"]
        .iter()
        .flat_map(|src| ["22", "23", "80", "443"].map(|port| (src.to_string(), port)))
        .collect();
    let steps: Arc<Mutex<Vec<Step>>> = Arc::default();
    let observer = {
        let (router, steps) = (Arc::clone(&router), Arc::clone(&steps));
        move |item: &mikrotik_rs::desired::ItemResult| {
            let now: Vec<Rule> = rules(&router)
                .into_iter()
                .filter(|r| r.0 != "forward-any")
                .collect();
            steps.lock().unwrap().push((item.action.clone(), now));
        }
    };
    let applied = plan
        .apply(&device, ApplyOptions::default().after_each(observer))
        .await
        .unwrap();
    assert_eq!(applied.converged(), Some(true));
    let steps = steps.lock().unwrap();
    for (action, now) in steps.iter() {
        for (src, port) in &probes {
            let opens =
                accepts(now, src, port) && !accepts(&old, src, port) && !accepts(&new, src, port);
            assert!(
                !opens,
                "after {action:?} {src}:{port} is accepted by neither rule set: {now:?}"
            );
        }
        // Every rule of both sets that is kept is there at every step.
        for kept in ["ssh-admin", "web", "drop-all"] {
            assert!(
                now.iter().any(|r| r.0 == kept),
                "{kept} missing after {action:?}"
            );
        }
    }
    let kinds: Vec<&str> = steps
        .iter()
        .map(|(action, _)| match action {
            Action::Move { .. } => "move",
            Action::Add(_) => "add",
            Action::Remove { .. } => "remove",
            _ => "other",
        })
        .collect();
    // The order of operations: the move, the adds in place, then the removes.
    assert_eq!(kinds, ["move", "add", "add", "remove", "remove"]);
    assert_eq!(steps[4].1, new, "the new rule set, in order");
    let all = rules(&router);
    assert_eq!(all.len(), 6);
    assert_eq!(all.iter().filter(|r| r.0 == "forward-any").count(), 1);
}

async fn order_alone_is_a_plan() {
    let mut menu = MockMenu::new(FILTER);
    for [c, a, s, p] in OLD {
        menu = menu.row(rule(c, a, s, p));
    }
    let router = MockRouter::builder().menu(menu).start();
    let device = connect(&router).await;
    let mut reversed = OLD;
    reversed.reverse();
    let plan = desired(&reversed).plan(&device).await.unwrap();
    assert_eq!(plan.moves.len(), 4, "n − 1 moves reverse n rules:\n{plan}");
    assert!(plan.to_string().contains("↕ "), "{plan}");
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(rules(&router), as_rules(&reversed));
    // Without ensure_order, the same items in another order are no change.
    let unordered = desired(&OLD)
        .ensure_order(false)
        .plan(&device)
        .await
        .unwrap();
    assert!(unordered.is_empty(), "{unordered}");
}

async fn a_rule_whose_replacement_failed_stays_in_force() {
    // The mock types `disabled`: `maybe` is refused with a trap.
    let mut menu = MockMenu::new(FILTER).property("disabled", PropertyType::Bool);
    for field in ["chain", "comment", "action", "src-address", "dst-port"] {
        menu = menu.property(field, PropertyType::Text);
    }
    for [c, a, s, p] in OLD {
        menu = menu.row(rule(c, a, s, p));
    }
    let router = MockRouter::builder().menu(menu).start();
    let device = connect(&router).await;
    let mut desired = desired(&NEW[1..]);
    let mut replacement = rule("drop-bad-v2", "drop", "10.0.0.66", "");
    replacement.push(("disabled", "maybe"));
    desired.push(replacement);
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(plan.removes.len(), 2, "{plan}");
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(
        applied.failed(),
        1,
        "the replacement is refused: {applied:?}"
    );
    let now = rules(&router);
    assert!(
        now.iter().any(|r| r.0 == "drop-bad"),
        "drop-bad was removed although its replacement failed: {now:?}"
    );
    let held: Vec<&Outcome> = applied
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::Remove { .. }))
        .map(|i| &i.outcome)
        .collect();
    assert!(
        held.iter().all(|o| matches!(o, Outcome::NotAttempted)),
        "removes after a failed write are not attempted: {held:?}"
    );
    assert_eq!(applied.converged(), Some(false));
}
