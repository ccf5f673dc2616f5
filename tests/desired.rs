//! Desired state (`mikrotik_rs::desired`) against the MockRouter: plans of
//! every shape, managed items, normalised values, staleness, an interrupted
//! apply, and plans kept with serde. Every test runs under Tokio (multi- and
//! current-thread) and smol, bounded in time.

mod common;

use std::time::Duration;

use common::connect;
use mikrotik_rs::desired::{
    ApplyError, ApplyOptions, Desired, FieldVerdict, FleetPlans, FleetSummary, Managed, Outcome,
    RouterOsFields,
};
use mikrotik_rs::fleet::Fleet;
use mikrotik_rs::testing::{MockMenu, MockRouter, PropertyType};
use mikrotik_rs::{MikrotikDevice, ReconnectPolicy};

const LIST: &str = "/ip/firewall/address-list";

on_every_runtime!(
    add_only,
    set_only,
    remove_only,
    mixed_plan_shows_as_a_diff,
    no_op_plan_sends_only_its_read,
    a_filter_protects_unmanaged_items,
    dynamic_items_are_left_alone,
    an_identity_held_by_an_item_the_plan_may_not_touch_is_shown,
    normalised_values_compare_equal,
    a_stale_plan_is_refused_or_replanned,
    an_unknown_field_is_refused_before_anything_is_sent,
    a_refused_item_is_failed_and_the_rest_applied,
    an_interrupted_apply_then_another_ends_in_the_desired_state,
    an_apply_interrupted_by_a_mock_restart_then_another_ends_in_the_desired_state,
    plans_serialise_and_deserialise,
    a_fleet_plans_and_applies_per_router,
    the_schema_knows_each_menus_fields,
);

/// An address list as RouterOS 7 keeps it: `disabled` stored as `true`/`false`.
fn address_list() -> MockMenu {
    MockMenu::new(LIST)
        .required("list", PropertyType::Text)
        .required("address", PropertyType::Text)
        .property("timeout", PropertyType::Text)
        .property("comment", PropertyType::Text)
        .property("disabled", PropertyType::Bool)
        .default("disabled", "false")
}

fn router_with(rows: &[&[(&str, &str)]]) -> MockRouter {
    let mut menu = address_list();
    for row in rows {
        menu = menu.row(row.iter().copied());
    }
    MockRouter::builder().menu(menu).start()
}

fn blocklist(addresses: &[&str]) -> Desired {
    let mut desired =
        Desired::new(LIST, ["list", "address"]).managed(Managed::all().equal("list", "blocklist"));
    for address in addresses {
        desired.push([("list", "blocklist"), ("address", address)]);
    }
    desired
}

/// The rows of the list as `(list, address, comment)`.
/// A list of two entries, `192.0.2.1` (comment `old`) and `192.0.2.2`, and
/// a desired state that adds `192.0.2.3`, comments `192.0.2.1` as
/// `comment` and removes `192.0.2.2`: one of each change.
fn mixed(comment: &str) -> (MockRouter, Desired) {
    let router = router_with(&[
        &[
            ("list", "blocklist"),
            ("address", "192.0.2.1"),
            ("comment", "old"),
        ],
        &[("list", "blocklist"), ("address", "192.0.2.2")],
    ]);
    let desired = blocklist(&["192.0.2.3"]).item([
        ("list", "blocklist"),
        ("address", "192.0.2.1"),
        ("comment", comment),
    ]);
    (router, desired)
}

fn rows(router: &MockRouter) -> Vec<(String, String, String)> {
    let text = |row: &Vec<(String, Vec<u8>)>, key: &str| {
        row.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    router
        .items(LIST)
        .iter()
        .map(|r| (text(r, "list"), text(r, "address"), text(r, "comment")))
        .collect()
}

/// The writes (`add`, `set`, `remove`) the router received on the list.
fn writes(router: &MockRouter) -> Vec<String> {
    router
        .received_paths()
        .into_iter()
        .filter(|p| p.starts_with(LIST) && !p.ends_with("/print"))
        .collect()
}

async fn add_only() {
    let router = router_with(&[]);
    let device = connect(&router).await;
    let plan = blocklist(&["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        .plan(&device)
        .await
        .unwrap();
    assert_eq!(
        (plan.adds.len(), plan.sets.len(), plan.removes.len()),
        (3, 0, 0)
    );
    assert!(writes(&router).is_empty(), "planning writes nothing");
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.applied(), 3);
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(rows(&router).len(), 3);
    assert_eq!(writes(&router).len(), 3);
}

async fn set_only() {
    let router = router_with(&[&[
        ("list", "blocklist"),
        ("address", "192.0.2.1"),
        ("comment", "old"),
    ]]);
    let device = connect(&router).await;
    let desired = Desired::new(LIST, ["list", "address"]).item([
        ("list", "blocklist"),
        ("address", "192.0.2.1"),
        ("comment", "new"),
    ]);
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(
        (plan.adds.len(), plan.sets.len(), plan.removes.len()),
        (0, 1, 0)
    );
    let change = &plan.sets[0].changes[0];
    assert_eq!(
        (
            change.field.as_str(),
            change.old.as_deref(),
            change.new.as_str()
        ),
        ("comment", Some("old"), "new")
    );
    let id = plan.sets[0].id.clone();
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(
        rows(&router),
        [("blocklist".into(), "192.0.2.1".into(), "new".into())]
    );
    let ids: Vec<_> = router.items(LIST).iter().map(|r| r[0].1.clone()).collect();
    assert_eq!(ids, [id.into_bytes()], "changed in place, not replaced");
}

async fn remove_only() {
    let router = router_with(&[
        &[("list", "blocklist"), ("address", "192.0.2.1")],
        &[("list", "allow"), ("address", "192.0.2.9")],
        &[("list", "blocklist"), ("address", "192.0.2.2")],
    ]);
    let device = connect(&router).await;
    let plan = blocklist(&[]).plan(&device).await.unwrap();
    assert_eq!(
        (plan.adds.len(), plan.sets.len(), plan.removes.len()),
        (0, 0, 2)
    );
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(
        rows(&router),
        [("allow".into(), "192.0.2.9".into(), String::new())]
    );
}

async fn mixed_plan_shows_as_a_diff() {
    let (router, desired) = mixed("a scanner");
    let device = connect(&router).await;
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(
        plan.to_string(),
        "/ip/firewall/address-list: 1 to add, 1 to change, 1 to remove\n\
         \x20 + address=192.0.2.3 list=blocklist\n\
         \x20 ~ *1 address=192.0.2.1 list=blocklist\n\
         \x20     comment: old → \"a scanner\"\n\
         \x20 - *2 address=192.0.2.2 list=blocklist\n"
    );
    assert_eq!(
        plan.counts().to_string(),
        "1 to add, 1 to change, 1 to remove"
    );
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!((applied.applied(), applied.failed()), (3, 0));
    assert_eq!(applied.converged(), Some(true));
    let mut now = rows(&router);
    now.sort();
    assert_eq!(
        now,
        [
            ("blocklist".into(), "192.0.2.1".into(), "a scanner".into()),
            ("blocklist".into(), "192.0.2.3".into(), String::new()),
        ]
    );
}

async fn no_op_plan_sends_only_its_read() {
    let router = router_with(&[&[("list", "blocklist"), ("address", "192.0.2.1")]]);
    let device = connect(&router).await;
    router.clear_received();
    let plan = blocklist(&["192.0.2.1"]).plan(&device).await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(plan.to_string(), "/ip/firewall/address-list: no changes\n");
    assert_eq!(router.received_paths(), [format!("{LIST}/print")]);
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert!(applied.items.is_empty());
    assert!(writes(&router).is_empty());
}

async fn a_filter_protects_unmanaged_items() {
    let router = router_with(&[
        &[
            ("list", "blocklist"),
            ("address", "192.0.2.1"),
            ("comment", "managed-by:billing"),
        ],
        &[
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("comment", "by hand"),
        ],
    ]);
    let device = connect(&router).await;
    let desired = Desired::new(LIST, ["list", "address"])
        .managed(Managed::all().contains("comment", "managed-by:billing"));
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(plan.removes.len(), 1);
    assert_eq!(plan.removes[0].identity["address"], "192.0.2.1");
    plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(
        rows(&router),
        [("blocklist".into(), "192.0.2.2".into(), "by hand".into())]
    );
    // A desired item outside the filter would be unmanaged once added: refused.
    let outside = desired.item([("list", "blocklist"), ("address", "192.0.2.5")]);
    let err = outside.plan(&device).await.unwrap_err();
    assert!(
        err.to_string().contains("outside the managed items"),
        "{err}"
    );
}

async fn an_identity_held_by_an_item_the_plan_may_not_touch_is_shown() {
    let router = router_with(&[&[("list", "other"), ("address", "192.0.2.9")]]);
    // A dynamic entry (a firewall rule's) with a desired identity.
    let dynamic = router
        .add_item(
            LIST,
            [
                ("list", "blocklist"),
                ("address", "192.0.2.1"),
                ("dynamic", "true"),
            ],
        )
        .expect("the dynamic entry");
    let device = connect(&router).await;
    let plan = blocklist(&["192.0.2.1", "192.0.2.2"])
        .plan(&device)
        .await
        .unwrap();
    let held: Vec<&str> = plan.held.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(held, [dynamic.as_str()], "{plan}");
    assert_eq!(
        plan.held[0].identity.get("address").map(String::as_str),
        Some("192.0.2.1")
    );
    assert_eq!(
        plan.adds.len(),
        2,
        "the plan still adds it: the router decides"
    );
    let shown = plan.to_string();
    assert!(
        shown.contains(&format!(
            "  ! {dynamic} address=192.0.2.1 list=blocklist is not the plan's"
        )),
        "{shown}"
    );
    // An item outside the managed items (`list=other`) holds one too, when
    // the identity is the address alone.
    let plan = Desired::new(LIST, ["address"])
        .managed(Managed::all().equal("list", "blocklist"))
        .item([("list", "blocklist"), ("address", "192.0.2.9")])
        .plan(&device)
        .await
        .unwrap();
    assert_eq!(
        plan.held.len(),
        1,
        "`list=other` holds address 192.0.2.9:\n{plan}"
    );
    assert!(writes(&router).is_empty(), "planning writes nothing");
}

async fn dynamic_items_are_left_alone() {
    let router = router_with(&[]);
    router.add_item(
        LIST,
        [
            ("list", "blocklist"),
            ("address", "198.51.100.1"),
            ("dynamic", "true"),
        ],
    );
    let device = connect(&router).await;
    let plan = blocklist(&["192.0.2.1"]).plan(&device).await.unwrap();
    assert_eq!((plan.adds.len(), plan.removes.len()), (1, 0));
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(rows(&router).len(), 2, "the dynamic entry is still there");
}

async fn normalised_values_compare_equal() {
    let router = router_with(&[]);
    let device = connect(&router).await;
    // The router stores what a client gives in its own words: `yes` → `true`.
    let menu = device.menu(LIST);
    menu.add(&[
        ("list", "blocklist"),
        ("address", "192.0.2.1"),
        ("disabled", "yes"),
    ])
    .await
    .unwrap();
    assert_eq!(
        router.items(LIST)[0]
            .iter()
            .find(|(k, _)| k == "disabled")
            .unwrap()
            .1,
        b"true"
    );
    router.add_item(
        LIST,
        [
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("timeout", "1d"),
        ],
    );
    let same = Desired::new(LIST, ["list", "address"])
        .managed(Managed::all().equal("list", "blocklist"))
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.1/32"),
            ("disabled", "yes"),
        ])
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("timeout", "24h"),
        ]);
    let plan = same.plan(&device).await.unwrap();
    assert!(plan.is_empty(), "normalised values are equal:\n{plan}");
    // And a real difference is still one.
    let different = Desired::new(LIST, ["list", "address"])
        .managed(Managed::all().equal("list", "blocklist"))
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.1"),
            ("disabled", "no"),
        ])
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("timeout", "23h"),
        ]);
    let plan = different.plan(&device).await.unwrap();
    assert_eq!(plan.sets.len(), 2, "{plan}");
}

async fn a_stale_plan_is_refused_or_replanned() {
    let router = router_with(&[&[("list", "blocklist"), ("address", "192.0.2.1")]]);
    let device = connect(&router).await;
    let plan = blocklist(&["192.0.2.1", "192.0.2.2"])
        .plan(&device)
        .await
        .unwrap();
    assert_eq!(plan.adds.len(), 1);
    // Someone else changes the managed items after the read.
    router.add_item(LIST, [("list", "blocklist"), ("address", "192.0.2.66")]);
    match plan.apply(&device, ApplyOptions::default()).await {
        Err(ApplyError::Stale { fresh }) => {
            assert_eq!((fresh.adds.len(), fresh.removes.len()), (1, 1), "{fresh}");
        }
        other => panic!("a stale plan must be refused: {other:?}"),
    }
    assert!(writes(&router).is_empty(), "nothing written");
    // A change outside the managed items does not make it stale.
    let plan = blocklist(&["192.0.2.1", "192.0.2.2"])
        .plan(&device)
        .await
        .unwrap();
    router.add_item(LIST, [("list", "other"), ("address", "203.0.113.1")]);
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.converged(), Some(true));
    // Re-planning by choice applies the fresh plan.
    let plan = blocklist(&["192.0.2.1"]).plan(&device).await.unwrap();
    router.add_item(LIST, [("list", "blocklist"), ("address", "192.0.2.77")]);
    let applied = plan
        .apply(&device, ApplyOptions::default().replan_if_stale(true))
        .await
        .unwrap();
    let replanned = applied
        .replanned
        .as_ref()
        .expect("the fresh plan was applied");
    assert_eq!(replanned.removes.len(), 2, "{replanned}");
    assert_eq!(applied.converged(), Some(true));
}

async fn an_unknown_field_is_refused_before_anything_is_sent() {
    let router = router_with(&[]);
    let device = connect(&router).await;
    router.clear_received();
    let schema = |menu: &str, field: &str| match (menu, field) {
        (LIST, "list" | "address" | "comment" | "timeout" | "disabled") => FieldVerdict::Known,
        (LIST, _) => FieldVerdict::Unknown {
            message: Some("did you mean `comment`?".into()),
        },
        _ => FieldVerdict::UnknownMenu,
    };
    let desired = blocklist(&["192.0.2.1"])
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("coment", "x"),
        ])
        .schema(schema);
    let err = desired.plan(&device).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no field `coment` (did you mean `comment`?)"),
        "{err}"
    );
    assert!(router.received_paths().is_empty(), "nothing sent");
    // Items without a key, or twice the same identity, are refused too.
    let err = Desired::new(LIST, ["list", "address"])
        .item([("list", "blocklist")])
        .plan(&device)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no identity key `address`"),
        "{err}"
    );
    let err = blocklist(&["192.0.2.1", "192.0.2.1/32"])
        .plan(&device)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same identity"), "{err}");
    assert!(router.received_paths().is_empty(), "nothing sent");
}

async fn a_refused_item_is_failed_and_the_rest_applied() {
    let router = router_with(&[]);
    let device = connect(&router).await;
    // `disabled=maybe` is not a boolean: the router traps that one add.
    let desired = blocklist(&["192.0.2.1", "192.0.2.2"]).item([
        ("list", "blocklist"),
        ("address", "192.0.2.3"),
        ("disabled", "maybe"),
    ]);
    let plan = desired.plan(&device).await.unwrap();
    let applied = plan.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!((applied.applied(), applied.failed()), (2, 1));
    let failed = applied
        .items
        .iter()
        .find_map(|i| match &i.outcome {
            Outcome::Failed(error) => Some(error.clone()),
            _ => None,
        })
        .unwrap();
    assert!(failed.traps().is_some(), "the router's trap: {failed}");
    assert_eq!(applied.converged(), Some(false));
    assert_eq!(applied.remaining.as_ref().unwrap().adds.len(), 1);
}

async fn an_interrupted_apply_then_another_ends_in_the_desired_state() {
    let router = router_with(&[]);
    let addresses: Vec<String> = (1..=60).map(|n| format!("192.0.2.{n}")).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let desired = blocklist(&refs);
    // The apply's session is cut after a few replies; the device reconnects.
    router.set_close_after_bytes(Some(700));
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", None)
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(10))
                .jitter(false),
        )
        .connect()
        .await
        .unwrap();
    router.set_close_after_bytes(None);
    let plan = desired.plan(&device).await.unwrap();
    assert_eq!(plan.adds.len(), 60);
    let first = plan
        .apply(&device, ApplyOptions::default().verify(false))
        .await
        .unwrap();
    assert!(
        first.unknown() > 0,
        "the cut lands among the adds: {} applied, {} unknown",
        first.applied(),
        first.unknown()
    );
    // Not sent again by the crate: a second plan reads what the router holds.
    let again = desired.plan(&device).await.unwrap();
    assert_eq!(again.removes.len(), 0);
    assert!(again.adds.len() < 60);
    let second = again.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(second.converged(), Some(true));
    let now = rows(&router);
    assert_eq!(now.len(), 60, "nothing duplicated");
    let adds = writes(&router)
        .iter()
        .filter(|p| p.ends_with("/add"))
        .count();
    assert_eq!(adds, 60, "every add reached the router once");
}

async fn plans_serialise_and_deserialise() {
    let (router, desired) = mixed("new");
    let device = connect(&router).await;
    let plan = desired.plan(&device).await.unwrap();
    let text = serde_json::to_string_pretty(&plan).unwrap();
    let kept: mikrotik_rs::desired::Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(kept, plan);
    assert_eq!(kept.to_string(), plan.to_string());
    // Kept and applied later: still fresh, so applied as reviewed.
    let applied = kept.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(applied.applied(), 3);
    assert_eq!(applied.converged(), Some(true));
}

async fn a_fleet_plans_and_applies_per_router() {
    let empty = router_with(&[]);
    let done = router_with(&[&[
        ("list", "blocklist"),
        ("address", "192.0.2.1"),
        ("comment", "x"),
    ]]);
    // This router's list takes no `comment`: it refuses the add.
    let refusing = MockRouter::builder()
        .menu(
            MockMenu::new(LIST)
                .required("list", PropertyType::Text)
                .required("address", PropertyType::Text),
        )
        .start();
    let absent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let absent_address = absent.local_addr().unwrap().to_string();
    drop(absent);
    let fleet = Fleet::new([
        ("empty", MikrotikDevice::builder(empty.address())),
        ("done", MikrotikDevice::builder(done.address())),
        ("refusing", MikrotikDevice::builder(refusing.address())),
        ("unreachable", MikrotikDevice::builder(absent_address)),
    ])
    .unwrap();
    let plans = FleetPlans::plan(&fleet, |_| {
        blocklist(&[]).item([
            ("list", "blocklist"),
            ("address", "192.0.2.1"),
            ("comment", "x"),
        ])
    })
    .await;
    assert_eq!(
        plans.summary(),
        FleetSummary {
            unchanged: 1,
            to_change: 2,
            unreachable: 1,
            failed: 0
        },
        "{plans}"
    );
    assert!(
        plans
            .to_string()
            .starts_with("1 unchanged, 2 to change, 1 unreachable\n"),
        "{plans}"
    );
    empty.clear_received();
    done.clear_received();
    let results = plans.apply(&fleet, ApplyOptions::default()).await;
    let names: Vec<&str> = results.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["empty", "refusing", "unreachable"],
        "routers with something to do, and the one whose plan failed"
    );
    assert!(
        matches!(
            results["unreachable"],
            Err(mikrotik_rs::desired::FleetApplyError::NotPlanned(_))
        ),
        "{:?}",
        results["unreachable"]
    );
    let applied = results["empty"].as_ref().unwrap();
    assert_eq!(applied.converged(), Some(true));
    assert_eq!(rows(&empty).len(), 1);
    let refused = results["refusing"].as_ref().unwrap();
    assert_eq!((refused.applied(), refused.failed()), (0, 1));
    assert_eq!(refused.converged(), Some(false));
    assert!(
        done.received_paths().is_empty(),
        "an unchanged router is not contacted"
    );
}

async fn the_schema_knows_each_menus_fields() {
    let router = router_with(&[]);
    let device = connect(&router).await;
    router.clear_received();
    let typo = blocklist(&["192.0.2.1"])
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("coment", "x"),
        ])
        .schema(RouterOsFields);
    let err = typo.plan(&device).await.unwrap_err();
    assert!(err.to_string().contains("`coment`"), "{err}");
    assert!(err.to_string().contains("comment"), "a suggestion: {err}");
    assert!(router.received_paths().is_empty(), "nothing sent");
    let good = blocklist(&["192.0.2.1"])
        .item([
            ("list", "blocklist"),
            ("address", "192.0.2.2"),
            ("comment", "x"),
            ("timeout", "1d"),
        ])
        .schema(RouterOsFields);
    assert_eq!(good.plan(&device).await.unwrap().adds.len(), 2);
}

async fn an_apply_interrupted_by_a_mock_restart_then_another_ends_in_the_desired_state() {
    let router = std::sync::Arc::new(router_with(&[]));
    let addresses: Vec<String> = (1..=80).map(|n| format!("198.51.100.{n}")).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let desired = blocklist(&refs);
    let device = MikrotikDevice::builder(router.address())
        .credentials("admin", None)
        .reconnect(
            ReconnectPolicy::new()
                .initial_delay(Duration::from_millis(10))
                .jitter(false),
        )
        .connect()
        .await
        .unwrap();
    let plan = desired.plan(&device).await.unwrap();
    // The router restarts (stops listening, drops every session, listens
    // again) once the fifth add has been answered.
    let restart = {
        let router = std::sync::Arc::clone(&router);
        let answered = std::sync::atomic::AtomicUsize::new(0);
        move |_: &mikrotik_rs::desired::ItemResult| {
            if answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 4 {
                router.stop_listening();
                router.drop_connections();
                router.start_listening().unwrap();
            }
        }
    };
    let first = plan
        .apply(
            &device,
            ApplyOptions::default()
                .in_flight(4)
                .verify(false)
                .after_each(restart),
        )
        .await
        .unwrap();
    assert_eq!(first.items.len(), 80);
    assert!(first.applied() >= 5, "{} applied", first.applied());
    // Answered, lost with the connection (written: may have run), or never
    // sent: each add is exactly one of these, and none failed. (Whether any
    // was in flight at the restart depends on timing; the cut in the test
    // above makes sure some are.)
    assert_eq!(
        first.applied() + first.unknown() + first.not_attempted(),
        80
    );
    assert_eq!(first.failed(), 0);
    // Whatever the router holds now, the next plan and apply finish the job.
    let again = desired.plan(&device).await.unwrap();
    assert_eq!(again.removes.len(), 0, "{again}");
    let second = again.apply(&device, ApplyOptions::default()).await.unwrap();
    assert_eq!(second.converged(), Some(true));
    let mut now: Vec<String> = rows(&router)
        .into_iter()
        .map(|(_, address, _)| address)
        .collect();
    now.sort();
    now.dedup();
    assert_eq!(now.len(), 80, "every entry once");
    assert_eq!(rows(&router).len(), 80, "nothing duplicated");
    let adds = writes(&router)
        .iter()
        .filter(|p| p.ends_with("/add"))
        .count();
    assert_eq!(adds, 80, "every add reached the router once");
}
