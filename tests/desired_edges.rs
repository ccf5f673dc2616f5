//! Desired state at its edges, against the MockRouter: an apply future
//! dropped in each of its phases, an `after_each` observer that panics, each
//! of the three reads (the plan's, the precondition's, the verifying one)
//! cut by the router halfway through its rows, and a fleet apply given plans
//! it cannot apply. Every test runs under Tokio
//! (multi- and current-thread) and smol, bounded in time.
//!
//! An apply is stopped mid-phase without timing: the mock stops answering
//! one command path ([`Script::Silent`]: its commands stay running until
//! cancelled) from the start, or from an `after_each` observer once an item
//! of the phase was answered (with one write in flight at a time, the next
//! one is sent only after the observer ran). The test drops the apply once
//! the mock holds exactly the expected commands.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{connect, still_answers, wait_until};
use futures_util::FutureExt;
use futures_util::future::{Either, select};
use mikrotik_rs::desired::{
    Action, ApplyError, ApplyOptions, Desired, FleetApplyError, FleetPlans, ItemResult, Managed,
    Outcome, Plan,
};
use mikrotik_rs::fleet::Fleet;
use mikrotik_rs::testing::{MockMenu, MockRouter, PropertyType, ReceivedSentence, Script};
use mikrotik_rs::{Error, MikrotikDevice, ReconnectPolicy};

const LIST: &str = "/ip/firewall/address-list";
const FILTER: &str = "/ip/firewall/filter";

on_every_runtime!(
    dropped_during_the_precondition_read,
    dropped_during_the_removes,
    dropped_during_the_sets,
    dropped_during_the_adds,
    dropped_during_the_adds_on_a_reconnecting_device,
    dropped_during_the_verifying_read,
    dropped_between_moves,
    dropped_during_the_bottom_up_removes,
    a_panicking_observer_reaches_the_caller_and_leaves_nothing_in_flight,
    a_plan_for_a_router_outside_the_fleet_is_an_error,
    a_plan_that_failed_is_reported_by_the_fleet_apply,
    a_panicking_observer_in_a_fleet_apply_reaches_the_caller,
    a_plan_whose_read_is_cut_mid_rows_is_an_error_and_writes_nothing,
    a_precondition_read_cut_mid_rows_refuses_the_apply_and_writes_nothing,
    a_verifying_read_cut_mid_rows_is_reported_and_the_writes_stand,
);

/// Which items of an apply an observer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Set,
    Move,
    Remove,
    Any,
}

fn kind_of(action: &Action) -> Kind {
    match action {
        Action::Add(_) => Kind::Add,
        Action::Set { .. } => Kind::Set,
        Action::Move { .. } => Kind::Move,
        Action::Remove { .. } => Kind::Remove,
        _ => Kind::Any,
    }
}

/// Where an apply is stopped: the mock stops answering `verb` of `menu`
/// once `after` items of `kind` were answered (0: from the start), and the
/// apply is dropped when `held` of its commands are waiting for an answer.
struct Hold {
    menu: &'static str,
    verb: &'static str,
    kind: Kind,
    after: usize,
    held: usize,
}

impl Hold {
    fn path(&self) -> String {
        format!("{}/{}", self.menu, self.verb)
    }
}

/// Runs `plan.apply` until the mock holds `hold.held` of its commands, drops
/// it there, and checks what a drop must leave: no panic, the held commands
/// cancelled on the router (one `/cancel` each, nothing left running), no
/// write sent after the drop, and the connection still answering. Returns
/// the items answered before the drop.
async fn drop_apply_while_held(
    router: &Arc<MockRouter>,
    device: &MikrotikDevice,
    plan: &Plan,
    options: ApplyOptions,
    hold: Hold,
) -> Vec<ItemResult> {
    let path = hold.path();
    let answered: Arc<std::sync::Mutex<Vec<ItemResult>>> = Arc::default();
    let observer = {
        let (router, answered, path) = (Arc::clone(router), Arc::clone(&answered), path.clone());
        let counted = AtomicUsize::new(0);
        let (kind, after) = (hold.kind, hold.after);
        move |item: &ItemResult| {
            answered.lock().unwrap().push(item.clone());
            if (kind == Kind::Any || kind_of(&item.action) == kind)
                && counted.fetch_add(1, Ordering::SeqCst) + 1 == after
            {
                router.set_script(&path, Script::Silent);
            }
        }
    };
    if hold.after == 0 {
        router.set_script(&path, Script::Silent);
    }
    router.clear_received();
    let apply = plan.apply(device, options.after_each(observer));
    let held = wait_until(
        || router.running_commands() >= hold.held,
        "the mock holds the apply's commands",
    );
    let apply = match select(Box::pin(apply), Box::pin(held)).await {
        Either::Left((result, _)) => panic!("the apply ended before it was held: {result:?}"),
        Either::Right(((), apply)) => apply,
    };
    assert_eq!(
        router.running_commands(),
        hold.held,
        "exactly the expected commands are held"
    );
    let mark = router.received().len();
    drop(apply);
    wait_until(
        || router.running_commands() == 0,
        "the dropped apply's commands are cancelled on the router",
    )
    .await;
    still_answers(device).await;
    wait_until(
        || device.in_flight() == 0,
        "the client holds no command of the dropped apply",
    )
    .await;
    let log = router.received();
    let held_tags: Vec<&str> = log[..mark]
        .iter()
        .filter(|s| s.path() == path)
        .filter_map(ReceivedSentence::tag)
        .collect();
    let cancelled: Vec<&str> = log[mark..]
        .iter()
        .filter(|s| s.path() == "/cancel")
        .filter_map(|s| s.attribute("tag"))
        .map(|tag| std::str::from_utf8(tag).unwrap())
        .collect();
    assert_eq!(cancelled.len(), hold.held, "one /cancel per held command");
    assert!(
        cancelled.iter().all(|tag| held_tags.contains(tag)),
        "each /cancel names a held command: {cancelled:?} of {held_tags:?}"
    );
    // The connection writes in order: anything the apply had queued before
    // the drop reached the mock before the probe of `still_answers`.
    let late: Vec<&str> = log[mark..]
        .iter()
        .map(ReceivedSentence::path)
        .filter(|p| p.starts_with(hold.menu) && !p.ends_with("/print"))
        .collect();
    assert!(late.is_empty(), "writes sent after the drop: {late:?}");
    router.remove_script(&path);
    std::mem::take(&mut *answered.lock().unwrap())
}

/// How many rows of `menu` hold each value of `key` (an identity).
fn count_by(router: &MockRouter, menu: &str, keys: &[&str]) -> BTreeMap<Vec<String>, usize> {
    let mut counts = BTreeMap::new();
    for row in router.items(menu) {
        let identity = keys
            .iter()
            .map(|key| {
                row.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            })
            .collect();
        *counts.entry(identity).or_insert(0) += 1;
    }
    counts
}

/// Plans and applies `desired` again: the menu must then match, with each
/// identity once.
async fn converges(router: &MockRouter, device: &MikrotikDevice, desired: &Desired) {
    let fresh = desired.plan(device).await.unwrap();
    let applied = fresh.apply(device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.failed() + applied.unknown(), 0, "{applied:?}");
    assert_eq!(applied.converged(), Some(true), "{:?}", applied.remaining);
    let keys: Vec<&str> = desired.keys().iter().map(String::as_str).collect();
    let counts = count_by(router, desired.menu(), &keys);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "duplicated items: {twice:?}");
}

// ---- unordered: an address list -------------------------------------

/// A list with two items to change, two to remove, one to keep, and one
/// outside the managed items.
fn address_list_router() -> Arc<MockRouter> {
    let mut menu = MockMenu::new(LIST)
        .required("list", PropertyType::Text)
        .required("address", PropertyType::Text)
        .property("comment", PropertyType::Text)
        .property("disabled", PropertyType::Bool)
        .default("disabled", "false");
    for (list, address, comment) in [
        ("blocklist", "192.0.2.1", "old"),
        ("blocklist", "192.0.2.2", "old"),
        ("blocklist", "192.0.2.3", ""),
        ("blocklist", "192.0.2.4", ""),
        ("blocklist", "192.0.2.5", ""),
        ("allow", "192.0.2.9", ""),
    ] {
        menu = menu.row([("list", list), ("address", address), ("comment", comment)]);
    }
    Arc::new(MockRouter::builder().menu(menu).start())
}

/// Two sets, two removes, three adds against [`address_list_router`].
fn blocklist() -> Desired {
    let mut desired =
        Desired::new(LIST, ["list", "address"]).managed(Managed::all().equal("list", "blocklist"));
    for (address, comment) in [
        ("192.0.2.1", "new"),
        ("192.0.2.2", "new"),
        ("192.0.2.5", ""),
        ("192.0.2.6", ""),
        ("192.0.2.7", ""),
        ("192.0.2.8", ""),
    ] {
        desired.push([
            ("list", "blocklist"),
            ("address", address),
            ("comment", comment),
        ]);
    }
    desired
}

/// Drops an apply of [`blocklist`] where `hold` says, then checks that a
/// fresh plan and apply converge and the unmanaged item is untouched.
async fn unordered_case(options: ApplyOptions, hold: Hold) -> Vec<ItemResult> {
    unordered_case_on(false, options, hold).await
}

/// [`unordered_case`] on a device that reconnects (`reconnecting`): its
/// commands go through the reconnect supervisor, which cancels them too.
async fn unordered_case_on(
    reconnecting: bool,
    options: ApplyOptions,
    hold: Hold,
) -> Vec<ItemResult> {
    let router = address_list_router();
    let device = if reconnecting {
        MikrotikDevice::builder(router.address())
            .credentials("admin", None)
            .reconnect(ReconnectPolicy::new().jitter(false))
            .connect()
            .await
            .unwrap()
    } else {
        connect(&router).await
    };
    let desired = blocklist();
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(
        (plan.sets.len(), plan.removes.len(), plan.adds.len()),
        (2, 2, 3),
        "{plan}"
    );
    let answered = drop_apply_while_held(&router, &device, &plan, options, hold).await;
    converges(&router, &device, &desired).await;
    let counts = count_by(&router, LIST, &["list", "address", "comment"]);
    let expected: BTreeMap<Vec<String>, usize> = [
        ("allow", "192.0.2.9", ""),
        ("blocklist", "192.0.2.1", "new"),
        ("blocklist", "192.0.2.2", "new"),
        ("blocklist", "192.0.2.5", ""),
        ("blocklist", "192.0.2.6", ""),
        ("blocklist", "192.0.2.7", ""),
        ("blocklist", "192.0.2.8", ""),
    ]
    .iter()
    .map(|(l, a, c)| (vec![l.to_string(), a.to_string(), c.to_string()], 1))
    .collect();
    assert_eq!(counts, expected);
    answered
}

fn kinds(items: &[ItemResult]) -> Vec<Kind> {
    items.iter().map(|i| kind_of(&i.action)).collect()
}

async fn dropped_during_the_precondition_read() {
    let answered = unordered_case(
        ApplyOptions::default(),
        Hold {
            menu: LIST,
            verb: "print",
            kind: Kind::Any,
            after: 0,
            held: 1,
        },
    )
    .await;
    assert!(answered.is_empty(), "nothing written: {answered:?}");
}

async fn dropped_during_the_removes() {
    let answered = unordered_case(
        ApplyOptions::default().in_flight(1),
        Hold {
            menu: LIST,
            verb: "remove",
            kind: Kind::Remove,
            after: 1,
            held: 1,
        },
    )
    .await;
    assert_eq!(kinds(&answered), [Kind::Remove]);
}

async fn dropped_during_the_sets() {
    let answered = unordered_case(
        ApplyOptions::default().in_flight(1),
        Hold {
            menu: LIST,
            verb: "set",
            kind: Kind::Set,
            after: 1,
            held: 1,
        },
    )
    .await;
    assert_eq!(kinds(&answered), [Kind::Remove, Kind::Remove, Kind::Set]);
}

async fn dropped_during_the_adds() {
    // Every add in flight at once, all held: three cancels.
    let answered = unordered_case(
        ApplyOptions::default(),
        Hold {
            menu: LIST,
            verb: "add",
            kind: Kind::Add,
            after: 0,
            held: 3,
        },
    )
    .await;
    assert_eq!(
        kinds(&answered),
        [Kind::Remove, Kind::Remove, Kind::Set, Kind::Set]
    );
}

async fn dropped_during_the_adds_on_a_reconnecting_device() {
    let answered = unordered_case_on(
        true,
        ApplyOptions::default(),
        Hold {
            menu: LIST,
            verb: "add",
            kind: Kind::Add,
            after: 0,
            held: 3,
        },
    )
    .await;
    assert_eq!(answered.len(), 4, "{answered:?}");
}

async fn dropped_during_the_verifying_read() {
    let answered = unordered_case(
        ApplyOptions::default(),
        Hold {
            menu: LIST,
            verb: "print",
            kind: Kind::Any,
            after: 7,
            held: 1,
        },
    )
    .await;
    assert_eq!(answered.len(), 7, "every write answered: {answered:?}");
    assert!(
        answered
            .iter()
            .all(|i| matches!(i.outcome, Outcome::Applied { .. })),
        "{answered:?}"
    );
}

// ---- ordered: a firewall filter ----------------------------------------

const RULES: [(&str, &str); 5] = [
    ("ssh", "accept"),
    ("bad", "drop"),
    ("telnet", "accept"),
    ("web", "accept"),
    ("all", "drop"),
];

fn filter_router() -> Arc<MockRouter> {
    let mut menu = MockMenu::new(FILTER);
    for (comment, action) in RULES {
        menu = menu.row([("chain", "input"), ("comment", comment), ("action", action)]);
    }
    let router = MockRouter::builder().menu(menu).start();
    // Not managed: never moved nor removed.
    router.add_item(
        FILTER,
        [
            ("chain", "forward"),
            ("comment", "forward"),
            ("action", "accept"),
        ],
    );
    Arc::new(router)
}

fn ordered(rules: &[(&str, &str)]) -> Desired {
    let mut desired = Desired::new(FILTER, ["comment"])
        .managed(Managed::all().equal("chain", "input"))
        .ensure_order(true);
    for (comment, action) in rules {
        desired.push([("chain", "input"), ("comment", comment), ("action", action)]);
    }
    desired
}

/// The rules' comments in the router's order.
fn order(router: &MockRouter) -> Vec<String> {
    router
        .items(FILTER)
        .iter()
        .filter_map(|row| {
            row.iter()
                .find(|(k, _)| k == "comment")
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        })
        .collect()
}

async fn dropped_between_moves() {
    let router = filter_router();
    let device = connect(&router).await;
    let mut reversed = RULES;
    reversed.reverse();
    let desired = ordered(&reversed);
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(plan.moves.len(), 4, "{plan}");
    let answered = drop_apply_while_held(
        &router,
        &device,
        &plan,
        ApplyOptions::default(),
        Hold {
            menu: FILTER,
            verb: "move",
            kind: Kind::Move,
            after: 1,
            held: 1,
        },
    )
    .await;
    assert_eq!(kinds(&answered), [Kind::Move]);
    // One move done: every rule is there exactly once.
    let mut now = order(&router);
    now.sort();
    let mut all: Vec<String> = RULES.iter().map(|(c, _)| c.to_string()).collect();
    all.push("forward".into());
    all.sort();
    assert_eq!(now, all, "no rule absent nor twice after the drop");
    converges(&router, &device, &desired).await;
    let input: Vec<String> = order(&router)
        .into_iter()
        .filter(|c| c != "forward")
        .collect();
    let expected: Vec<String> = reversed.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(input, expected);
}

async fn dropped_during_the_bottom_up_removes() {
    let router = filter_router();
    let device = connect(&router).await;
    // `telnet` and `bad` go; `scan` comes in place above `all`.
    let kept = [
        ("ssh", "accept"),
        ("web", "accept"),
        ("scan", "drop"),
        ("all", "drop"),
    ];
    let desired = ordered(&kept);
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!((plan.adds.len(), plan.removes.len()), (1, 2), "{plan}");
    let answered = drop_apply_while_held(
        &router,
        &device,
        &plan,
        ApplyOptions::default(),
        Hold {
            menu: FILTER,
            verb: "remove",
            kind: Kind::Remove,
            after: 1,
            held: 1,
        },
    )
    .await;
    assert_eq!(kinds(&answered), [Kind::Add, Kind::Remove]);
    // Bottom up: `telnet` (the lower) went first; `bad` is still in force.
    let now = order(&router);
    assert!(!now.contains(&"telnet".to_string()), "{now:?}");
    assert!(now.contains(&"bad".to_string()), "{now:?}");
    assert!(now.contains(&"scan".to_string()), "{now:?}");
    converges(&router, &device, &desired).await;
    let input: Vec<String> = order(&router)
        .into_iter()
        .filter(|c| c != "forward")
        .collect();
    assert_eq!(input, ["ssh", "web", "scan", "all"]);
}

// ---- a panicking observer ----------------------------------------------

async fn a_panicking_observer_reaches_the_caller_and_leaves_nothing_in_flight() {
    let router = Arc::new(
        MockRouter::builder()
            .menu(
                MockMenu::new(LIST)
                    .required("list", PropertyType::Text)
                    .required("address", PropertyType::Text)
                    .property("comment", PropertyType::Text),
            )
            .start(),
    );
    // The device checks each command against the router's release before
    // sending it: the last add (a field RouterOS does not have) fails at
    // once, without being sent, while the adds before it are in flight
    // (held by the mock).
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", None)
        .check_commands(true)
        .connect()
        .await
        .unwrap();
    let mut good =
        Desired::new(LIST, ["list", "address"]).managed(Managed::all().equal("list", "blocklist"));
    for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        good.push([("list", "blocklist"), ("address", address)]);
    }
    let with_typo = good.clone().item([
        ("list", "blocklist"),
        ("address", "192.0.2.4"),
        ("coment", "x"),
    ]);
    let plan = with_typo.plan(&device).await.unwrap();
    assert_eq!(plan.adds.len(), 4);
    router.set_script(format!("{LIST}/add"), Script::Silent);
    router.clear_received();
    let seen: Arc<std::sync::Mutex<Vec<ItemResult>>> = Arc::default();
    let observer = {
        let seen = Arc::clone(&seen);
        move |item: &ItemResult| {
            seen.lock().unwrap().push(item.clone());
            panic!("observer panics on purpose");
        }
    };
    let apply = plan.apply(&device, ApplyOptions::default().after_each(observer));
    let caught = std::panic::AssertUnwindSafe(apply).catch_unwind().await;
    let payload = caught.expect_err("the observer's panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"observer panics on purpose")
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        matches!(&seen[0].outcome, Outcome::Failed(Error::CommandCheck(_))),
        "{seen:?}"
    );
    // Nothing left running on the router, every add it received cancelled,
    // and the connection still answers.
    wait_until(
        || router.running_commands() == 0,
        "the adds in flight at the panic are cancelled",
    )
    .await;
    still_answers(&device).await;
    wait_until(
        || device.in_flight() == 0,
        "the client holds no command of the apply",
    )
    .await;
    let log = router.received();
    let added: Vec<&str> = log
        .iter()
        .filter(|s| s.path() == format!("{LIST}/add"))
        .filter_map(ReceivedSentence::tag)
        .collect();
    let cancelled: Vec<&[u8]> = log
        .iter()
        .filter(|s| s.path() == "/cancel")
        .filter_map(|s| s.attribute("tag"))
        .collect();
    for tag in &added {
        assert!(
            cancelled.contains(&tag.as_bytes()),
            "the add {tag} was left in flight: {cancelled:?}"
        );
    }
    assert_eq!(
        log.iter()
            .filter(|s| s.path() == format!("{LIST}/add"))
            .count(),
        added.len()
    );
    router.remove_script(format!("{LIST}/add"));
    converges(&router, &device, &good).await;
    assert_eq!(router.items(LIST).len(), 3);
}

// ---- a read cut by the router mid-rows ----------------------------------
//
// The mock closes the connection once it has written a chosen number of
// bytes after the login. Each test first measures, on a connection that is
// not cut, how many bytes each step of the same work receives (the replies
// are the same bytes on a fresh router in the same state), then cuts halfway
// through the rows of the read under test.

/// The bytes `device` has received so far.
fn bytes_received(device: &MikrotikDevice) -> u64 {
    device.snapshot().bytes_received
}

/// The writes to `menu` the router received (anything but a print).
fn writes_received(router: &MockRouter, menu: &str) -> Vec<String> {
    router
        .received_paths()
        .into_iter()
        .filter(|p| p.starts_with(menu) && !p.ends_with("/print"))
        .collect()
}

/// A plan of [`blocklist`] on `router`, and how many bytes a plan's read
/// receives there (a second read, on a connection that is not cut).
async fn plan_and_read_size(router: &MockRouter) -> (Plan, u64) {
    let device = connect(router).await;
    let plan = blocklist().plan(&device).await.unwrap();
    let before = bytes_received(&device);
    blocklist().plan(&device).await.unwrap();
    (plan, bytes_received(&device) - before)
}

/// A new connection to `router` that it cuts after `bytes` of replies
/// (what the router received so far forgotten).
async fn cut_after(router: &MockRouter, bytes: u64) -> MikrotikDevice {
    router.set_close_after_bytes(Some(bytes));
    let cut = connect(router).await;
    router.clear_received();
    cut
}

/// After a cut read: nothing was written, and on a connection that is not
/// cut the desired state is reached with every item once.
async fn nothing_written_then_converges(router: &MockRouter) {
    assert_eq!(writes_received(router, LIST), Vec::<String>::new());
    router.set_close_after_bytes(None);
    converges(router, &connect(router).await, &blocklist()).await;
}

async fn a_plan_whose_read_is_cut_mid_rows_is_an_error_and_writes_nothing() {
    let router = address_list_router();
    let (_, read) = plan_and_read_size(&router).await;
    let cut = cut_after(&router, read / 2).await;
    let error = blocklist().plan(&cut).await.unwrap_err();
    assert!(error.is_connection_error(), "{error:?}");
    nothing_written_then_converges(&router).await;
}

async fn a_precondition_read_cut_mid_rows_refuses_the_apply_and_writes_nothing() {
    let router = address_list_router();
    // The precondition reads what the plan read.
    let (plan, read) = plan_and_read_size(&router).await;
    let cut = cut_after(&router, read / 2).await;
    match plan.apply(&cut, ApplyOptions::default()).await {
        Err(ApplyError::Read(error)) => assert!(error.is_connection_error(), "{error:?}"),
        other => panic!("expected the precondition's read to fail: {other:?}"),
    }
    nothing_written_then_converges(&router).await;
}

async fn a_verifying_read_cut_mid_rows_is_reported_and_the_writes_stand() {
    // Measured on one router: the precondition and the writes, then the
    // verifying read (a plan of the menu as the writes left it).
    let measured = address_list_router();
    let device = connect(&measured).await;
    let plan = blocklist().plan(&device).await.unwrap();
    let before = bytes_received(&device);
    let applied = plan
        .apply(&device, ApplyOptions::default().verify(false))
        .await
        .unwrap();
    assert_eq!(applied.applied(), 7, "{applied:?}");
    let writes = bytes_received(&device) - before;
    let before = bytes_received(&device);
    assert!(blocklist().plan(&device).await.unwrap().is_empty());
    let verify = bytes_received(&device) - before;

    // Cut on a second router in the first one's starting state.
    let router = address_list_router();
    let (plan, _) = plan_and_read_size(&router).await;
    let cut = cut_after(&router, writes + verify / 2).await;
    let applied = plan.apply(&cut, ApplyOptions::default()).await.unwrap();
    assert_eq!(
        (applied.applied(), applied.failed(), applied.unknown()),
        (7, 0, 0),
        "every write was answered before the cut: {applied:?}"
    );
    let error = applied
        .verify_error
        .as_ref()
        .expect("the verifying read failed");
    assert!(error.is_connection_error(), "{error:?}");
    assert!(applied.remaining.is_none());
    assert_eq!(applied.converged(), None, "whether it matches was not read");

    router.set_close_after_bytes(None);
    let fresh = connect(&router).await;
    assert!(blocklist().plan(&fresh).await.unwrap().is_empty());
    assert_eq!(
        router.items(LIST).len(),
        7,
        "six desired items and the unmanaged one"
    );
}

// ---- fleets ------------------------------------------------------------

async fn a_plan_for_a_router_outside_the_fleet_is_an_error() {
    let inside = address_list_router();
    let outside = address_list_router();
    let fleet = Fleet::new([("inside", MikrotikDevice::builder(inside.address()))]).unwrap();
    let other = Fleet::new([("outside", MikrotikDevice::builder(outside.address()))]).unwrap();
    let mut plans = FleetPlans::plan(&fleet, |_| blocklist()).await;
    // A plan made on another fleet, handed to this one by mistake.
    let foreign = FleetPlans::plan(&other, |_| blocklist()).await;
    let only_foreign = foreign.clone();
    outside.clear_received();
    plans.plans.extend(foreign.plans);
    let results = plans.apply(&fleet, ApplyOptions::default()).await;
    let names: Vec<&str> = results.keys().map(String::as_str).collect();
    assert_eq!(names, ["inside", "outside"], "every plan is accounted for");
    assert_eq!(results["inside"].as_ref().unwrap().converged(), Some(true));
    assert!(
        matches!(results["outside"], Err(FleetApplyError::NotInFleet)),
        "{:?}",
        results["outside"]
    );
    assert!(
        outside.received_paths().is_empty(),
        "a router outside the fleet is never contacted"
    );
    // Even with nothing to apply inside the fleet, the stray plan is reported.
    let results = only_foreign.apply(&fleet, ApplyOptions::default()).await;
    assert!(
        matches!(
            results.get("outside"),
            Some(Err(FleetApplyError::NotInFleet))
        ),
        "{results:?}"
    );
    assert!(outside.received_paths().is_empty());
}

async fn a_plan_that_failed_is_reported_by_the_fleet_apply() {
    let reachable = address_list_router();
    let absent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let absent_address = absent.local_addr().unwrap().to_string();
    drop(absent);
    let fleet = Fleet::new([
        ("reachable", MikrotikDevice::builder(reachable.address())),
        ("absent", MikrotikDevice::builder(absent_address)),
    ])
    .unwrap();
    let plans = FleetPlans::plan(&fleet, |_| blocklist()).await;
    assert!(plans.plans["absent"].is_err(), "{plans}");
    let results = plans.apply(&fleet, ApplyOptions::default()).await;
    assert_eq!(
        results["reachable"].as_ref().unwrap().converged(),
        Some(true)
    );
    match &results.get("absent") {
        Some(Err(FleetApplyError::NotPlanned(error))) => {
            assert!(error.is_connection_error(), "{error}");
        }
        other => panic!("a failed plan must be reported, not dropped: {other:?}"),
    }
    // A desired state in error on a reachable router: reported the same way.
    let broken = FleetPlans::plan(&fleet, |_| Desired::new(LIST, Vec::<String>::new())).await;
    let results = broken.apply(&fleet, ApplyOptions::default()).await;
    assert!(
        matches!(
            results.get("reachable"),
            Some(Err(FleetApplyError::NotPlanned(Error::Config(_))))
        ),
        "{results:?}"
    );
}

async fn a_panicking_observer_in_a_fleet_apply_reaches_the_caller() {
    let router = address_list_router();
    let fleet = Fleet::new([("one", MikrotikDevice::builder(router.address()))]).unwrap();
    let plans = FleetPlans::plan(&fleet, |_| blocklist()).await;
    let observer = |_: &ItemResult| panic!("fleet observer panics on purpose");
    let apply = plans.apply(&fleet, ApplyOptions::default().after_each(observer));
    let caught = std::panic::AssertUnwindSafe(apply).catch_unwind().await;
    let payload = caught.expect_err("the observer's panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"fleet observer panics on purpose")
    );
    wait_until(
        || router.running_commands() == 0,
        "nothing left running on the router",
    )
    .await;
    // The fleet still works: plan again (the menu moved) and apply.
    let plans = FleetPlans::plan(&fleet, |_| blocklist()).await;
    let results = plans.apply(&fleet, ApplyOptions::default()).await;
    assert_eq!(results["one"].as_ref().unwrap().converged(), Some(true));
    let twice: Vec<_> = count_by(&router, LIST, &["list", "address"])
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .collect();
    assert!(twice.is_empty(), "{twice:?}");
}

// ---- a drop right after a write was handed to the connection ------------

/// Dropped in the very poll that handed a write to the connection, before the
/// connection's task could write it: the write must never reach the router.
/// Deterministic only on a current-thread Tokio runtime, where the
/// connection's task cannot run between that poll and the drop.
#[test]
fn a_write_queued_but_not_written_at_the_drop_is_never_sent() {
    common::on_tokio_current_thread(async {
        let router = address_list_router();
        let device = connect(&router).await;
        // Two removes, one at a time.
        let desired = blocklist();
        let plan = desired.plan(&device).await.unwrap();
        let first_answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let observer = {
            let first_answered = Arc::clone(&first_answered);
            move |_: &ItemResult| first_answered.store(true, Ordering::SeqCst)
        };
        router.clear_received();
        let mut apply = Box::pin(plan.apply(
            &device,
            ApplyOptions::default().in_flight(1).after_each(observer),
        ));
        // The poll in which the first remove is answered hands the second
        // one to the connection (`device.run` sends without waiting); drop
        // the apply right after that poll.
        std::future::poll_fn(|cx| match apply.as_mut().poll(cx) {
            std::task::Poll::Ready(result) => panic!("the apply ended: {result:?}"),
            std::task::Poll::Pending if first_answered.load(Ordering::SeqCst) => {
                std::task::Poll::Ready(())
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        })
        .await;
        drop(apply);
        still_answers(&device).await;
        let removes: Vec<String> = router
            .received_paths()
            .into_iter()
            .filter(|p| p == &format!("{LIST}/remove"))
            .collect();
        assert_eq!(
            removes.len(),
            1,
            "a remove queued but not written when the apply was dropped reached the router"
        );
        let addresses = count_by(&router, LIST, &["address"]);
        assert_eq!(addresses.len(), 5, "one remove ran, not two: {addresses:?}");
    });
}
