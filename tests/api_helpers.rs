//! The everyday API (`mikrotik_rs::api`) against the MockRouter: collect, run,
//! menus (print / add / set / remove) and listen / follow. Every test runs
//! under Tokio (multi- and current-thread) and smol, bounded in time.

mod common;

use std::time::Duration;

use common::connect;
use futures_util::StreamExt;
use mikrotik_rs::Error;
use mikrotik_rs::api::Change;
use mikrotik_rs::protocol::TrapCategory;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply, Script};

const WAIT: Duration = Duration::from_secs(5);

on_every_runtime!(
    collect_returns_rows_and_ret,
    collect_maps_a_trap_to_an_error,
    collect_keeps_two_traps_and_waits_for_done,
    unknown_command_is_a_trap,
    empty_print_has_no_rows,
    print_with_query_and_proplist,
    print_count,
    add_returns_the_new_id,
    add_refused_is_a_trap,
    set_and_remove,
    remove_many_removes_all,
    bad_path_sends_nothing,
    listen_yields_upserts_and_removals_v7,
    listen_yields_removals_v6,
    dropping_listen_cancels_on_the_router,
    follow_and_follow_only,
    listen_on_unknown_menu_ends_with_a_trap,
    connection_errors_propagate,
);

async fn collect_returns_rows_and_ret() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let found = device
        .collect(CommandBuilder::new().command("/interface/print"))
        .await
        .unwrap();
    let names: Vec<_> = found.rows.iter().filter_map(|r| r.get("name")).collect();
    assert_eq!(
        names,
        [
            "ether1", "ether2", "ether3", "ether4", "ether5", "bridge", "vlan10"
        ]
    );
    assert_eq!(found.ret, None);

    router.set_script("/system/script/run", Reply::new().ret("42").into());
    let ret = device
        .run(CommandBuilder::new().command("/system/script/run"))
        .await
        .unwrap();
    assert_eq!(ret.as_deref(), Some("42"));
}

async fn collect_maps_a_trap_to_an_error() {
    let router = MockRouter::builder()
        .script(
            "/tool/fail",
            Reply::new()
                .trap(Some(1), "value of interval out of range")
                .into(),
        )
        .start();
    let device = connect(&router).await;
    let err = device
        .collect(CommandBuilder::new().command("/tool/fail"))
        .await
        .unwrap_err();
    let Error::Trap(traps) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(traps.len(), 1);
    assert_eq!(traps[0].category, Some(TrapCategory::ArgumentValueFailure));
    assert_eq!(traps[0].message, "value of interval out of range");
    assert!(err.to_string().contains("out of range"), "{err}");
    // The command is over on the wire, and the device still works.
    assert!(
        device
            .run(CommandBuilder::new().command("/system/identity/print"))
            .await
            .is_ok()
    );
}

async fn collect_keeps_two_traps_and_waits_for_done() {
    let router = MockRouter::builder()
        .script(
            "/tool/twice",
            Reply::new()
                .row([("name", "partial")])
                .trap(Some(4), "first failure")
                .trap(None, "second failure")
                .into(),
        )
        .start();
    let device = connect(&router).await;
    let err = device
        .collect(CommandBuilder::new().command("/tool/twice"))
        .await
        .unwrap_err();
    let traps = err.traps().expect("a trap error");
    let messages: Vec<_> = traps.iter().map(|t| t.message.as_str()).collect();
    assert_eq!(messages, ["first failure", "second failure"]);
    assert_eq!(traps[0].category, Some(TrapCategory::GeneralFailure));
    assert_eq!(traps[1].category, None);
    // Collect read up to `!done`: nothing is left running, nothing was cancelled.
    assert_eq!(device.in_flight(), 0);
    assert!(!router.received_paths().iter().any(|p| p == "/cancel"));
}

async fn unknown_command_is_a_trap() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let err = device.menu("/no/such/menu").print().await.unwrap_err();
    let traps = err.traps().expect("a trap error");
    assert_eq!(traps[0].category, Some(TrapCategory::MissingItemOrCommand));
}

async fn empty_print_has_no_rows() {
    let router = MockRouter::builder().empty_replies(true).start();
    let device = connect(&router).await;
    // The mock does answer `!empty` here (RouterOS 7.18+ behaviour).
    let mut raw = device
        .send_command(
            CommandBuilder::new()
                .command("/interface/print")
                .query_equal("name", "nothing")
                .build(),
        )
        .await
        .unwrap();
    let mut words = Vec::new();
    while let Some(reply) = raw.recv().await {
        words.push(reply.unwrap().reply_word());
    }
    assert_eq!(words, ["!empty", "!done"]);

    let menu = device.menu("/interface");
    let rows = menu.print().query_equal("name", "nothing").await.unwrap();
    assert!(rows.is_empty());
    let collected = device
        .collect(
            CommandBuilder::new()
                .command("/interface/print")
                .query_equal("name", "nothing"),
        )
        .await
        .unwrap();
    assert!(collected.is_empty());
    assert_eq!(menu.get("*99").await.unwrap(), None);
}

async fn print_with_query_and_proplist() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let rows = device
        .menu("/interface")
        .print()
        .query_equal("type", "ether")
        .proplist(["name", "type"])
        .collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        assert_eq!(row.get("type"), Some("ether"));
        assert!(row.get("name").unwrap().starts_with("ether"));
        assert_eq!(row.get("mtu"), None, "not in the proplist");
    }
    let sent = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/interface/print")
        .unwrap();
    assert_eq!(sent.attribute(".proplist"), Some(&b"name,type"[..]));

    // Either ethernet or VLAN: ?type=ether ?type=vlan ?#|
    let rows = device
        .menu("/interface")
        .print()
        .query_equal("type", "ether")
        .query_equal("type", "vlan")
        .query_operations([mikrotik_rs::protocol::command::QueryOperator::Or])
        .await
        .unwrap();
    assert_eq!(rows.len(), 6);
}

async fn print_count() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let ethers = device
        .menu("/interface")
        .print()
        .query_equal("type", "ether")
        .count()
        .await
        .unwrap();
    assert_eq!(ethers, 5);
}

async fn add_returns_the_new_id() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let addresses = device.menu("/ip/address");
    let id = addresses
        .add(&[("address", "10.9.9.1/24"), ("interface", "ether3")])
        .await
        .unwrap();
    assert!(id.starts_with('*'), "{id}");
    let row = addresses.get(&id).await.unwrap().expect("the new item");
    assert_eq!(row.get("address"), Some("10.9.9.1/24"));
    assert_eq!(row.get(".id"), Some(id.as_str()));
    assert!(
        router
            .items("/ip/address")
            .iter()
            .any(|item| item.iter().any(|(k, v)| k == ".id" && v == id.as_bytes()))
    );
}

async fn add_refused_is_a_trap() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let err = device
        .menu("/user")
        .add(&[("name", "admin"), ("group", "full")])
        .await
        .unwrap_err();
    let traps = err.traps().expect("a trap error");
    assert!(traps[0].message.contains("already exists"), "{err}");
    let err = device
        .menu("/system/resource")
        .add(&[("name", "x")])
        .await
        .unwrap_err();
    assert!(err.traps().is_some(), "{err:?}");
}

async fn set_and_remove() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let users = device.menu("/user");
    let id = users
        .add(&[("name", "operator"), ("group", "read")])
        .await
        .unwrap();
    users
        .set(&id, &[("group", "write"), ("comment", "night shift")])
        .await
        .unwrap();
    let row = users.get(&id).await.unwrap().unwrap();
    assert_eq!(row.get("group"), Some("write"));
    assert_eq!(row.get("comment"), Some("night shift"));
    let sent = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/user/set")
        .unwrap();
    assert_eq!(sent.attribute(".id"), Some(id.as_bytes()));

    users.remove(&id).await.unwrap();
    assert_eq!(users.get(&id).await.unwrap(), None);

    let err = users.remove(&id).await.unwrap_err();
    assert_eq!(
        err.traps().expect("a trap error")[0].message,
        "no such item"
    );
    let err = users.set("*FFFF", &[("group", "full")]).await.unwrap_err();
    assert!(err.traps().is_some(), "{err:?}");
}

async fn remove_many_removes_all() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let addresses = device.menu("/ip/address");
    let a = addresses
        .add(&[("address", "10.1.0.1/24"), ("interface", "ether2")])
        .await
        .unwrap();
    let b = addresses
        .add(&[("address", "10.2.0.1/24"), ("interface", "ether2")])
        .await
        .unwrap();
    let before = router.items("/ip/address").len();
    addresses.remove_many(&[&a, &b]).await.unwrap();
    assert_eq!(router.items("/ip/address").len(), before - 2);
    let sent = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/ip/address/remove")
        .unwrap();
    assert_eq!(
        sent.attribute("numbers"),
        Some(format!("{a},{b}").as_bytes())
    );

    let sent_before = router.received().len();
    addresses.remove_many(&[] as &[&str]).await.unwrap();
    assert_eq!(
        router.received().len(),
        sent_before,
        "nothing sent for no ids"
    );

    let err = addresses.remove_many(&[&a]).await.unwrap_err();
    assert!(err.traps().is_some(), "{err:?}");
}

async fn bad_path_sends_nothing() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let sent_before = router.received().len();
    for path in ["/ip/address/", "ip/address", "/ip address", "/"] {
        let menu = device.menu(path);
        let err = menu.print().await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidCommand { reason } if reason.contains("menu path")),
            "{path}: {err:?}"
        );
        assert!(matches!(
            menu.add(&[("a", "b")]).await,
            Err(Error::InvalidCommand { .. })
        ));
        assert!(matches!(
            menu.remove("*1").await,
            Err(Error::InvalidCommand { .. })
        ));
        assert!(matches!(
            menu.listen().await,
            Err(Error::InvalidCommand { .. })
        ));
    }
    assert_eq!(router.received().len(), sent_before);
}

/// Waits until the mock has received a command with this path.
async fn received(router: &MockRouter, path: &str) {
    assert!(
        router
            .wait_for(|log| log.iter().any(|s| s.path() == path), WAIT)
            .await,
        "the mock never received {path}"
    );
}

async fn listen_yields_upserts_and_removals_v7() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let mut changes = device.menu("/ip/address").listen().await.unwrap();
    received(&router, "/ip/address/listen").await;

    let id = router
        .add_item(
            "/ip/address",
            [("address", "172.16.0.1/24"), ("interface", "ether4")],
        )
        .unwrap();
    let Change::Upsert(row) = changes.recv().await.unwrap().unwrap() else {
        panic!("expected an upsert")
    };
    assert_eq!(row.get("address"), Some("172.16.0.1/24"));
    assert_eq!(row.get(".id"), Some(id.as_str()));

    assert!(router.set_item("/ip/address", &id, [("comment", "moved")]));
    let change = changes.next().await.unwrap().unwrap();
    assert!(matches!(&change, Change::Upsert(row) if row.get("comment") == Some("moved")));

    assert!(router.remove_item("/ip/address", &id));
    let change = changes.recv().await.unwrap().unwrap();
    assert!(change.is_removed());
    let Change::Removed { id: removed, row } = change else {
        unreachable!()
    };
    assert_eq!(removed, id);
    assert_eq!(row.get(".dead"), Some("true"), "RouterOS 7 style");
}

async fn listen_yields_removals_v6() {
    let router = MockRouter::builder().routeros6(true).start();
    let device = connect(&router).await;
    let mut changes = device.menu("/interface").listen().await.unwrap();
    received(&router, "/interface/listen").await;
    assert!(router.remove_item("/interface", "vlan10"));
    let Change::Removed { id, row } = changes.recv().await.unwrap().unwrap() else {
        panic!("expected a removal")
    };
    assert_eq!(id, "*7");
    assert_eq!(row.get(".dead"), Some("yes"), "RouterOS 6 style");
}

async fn dropping_listen_cancels_on_the_router() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let changes = device.menu("/interface").listen().await.unwrap();
    let tag = changes.tag().hyphenated().to_string();
    received(&router, "/interface/listen").await;
    drop(changes);
    let cancelled = router
        .wait_for(
            |log| {
                log.iter()
                    .any(|s| s.path() == "/cancel" && s.attribute("tag") == Some(tag.as_bytes()))
            },
            WAIT,
        )
        .await;
    assert!(cancelled, "no /cancel =tag={tag}");
    // The router ends the listen; the device sees it finish.
    let deadline = std::time::Instant::now() + WAIT;
    while router.running_commands() > 0 || device.in_flight() > 0 {
        assert!(std::time::Instant::now() < deadline, "listen still running");
        async_io::Timer::after(Duration::from_millis(5)).await;
    }

    // The same through `cancel()` on a follow stream.
    // Once the router has it: cancelled before it is written, it is never sent.
    let follow = device.menu("/ip/address").print().follow().await.unwrap();
    let tag = follow.tag().hyphenated().to_string();
    received(&router, "/ip/address/print").await;
    follow.cancel();
    assert!(
        router
            .wait_for(
                |log| log
                    .iter()
                    .any(|s| s.path() == "/cancel" && s.attribute("tag") == Some(tag.as_bytes())),
                WAIT,
            )
            .await
    );
}

async fn follow_and_follow_only() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let addresses = device.menu("/ip/address");
    let mut follow = addresses.print().follow().await.unwrap();
    // Existing rows first.
    for expected in ["192.168.88.1/24", "10.0.0.2/30"] {
        let Change::Upsert(row) = follow.recv().await.unwrap().unwrap() else {
            panic!("expected an existing row")
        };
        assert_eq!(row.get("address"), Some(expected));
    }
    let mut only = addresses.print().follow_only().await.unwrap();
    assert!(
        router
            .wait_for(
                |log| log
                    .iter()
                    .filter(|s| s.path() == "/ip/address/print")
                    .count()
                    == 2,
                WAIT
            )
            .await
    );
    let sent = router.received();
    assert!(sent.iter().any(|s| s.attribute("follow").is_some()));
    assert!(sent.iter().any(|s| s.attribute("follow-only").is_some()));

    // Then changes, on both; follow-only never saw the existing rows.
    assert!(router.remove_item("/ip/address", "*1"));
    for stream in [&mut follow, &mut only] {
        let change = stream.recv().await.unwrap().unwrap();
        assert!(
            matches!(&change, Change::Removed { id, .. } if id == "*1"),
            "{change:?}"
        );
    }
}

async fn listen_on_unknown_menu_ends_with_a_trap() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let mut changes = device.menu("/no/such").listen().await.unwrap();
    let first = changes.recv().await.unwrap();
    assert!(matches!(&first, Err(Error::Trap(_))), "{first:?}");
    assert!(changes.recv().await.is_none());
    assert!(changes.recv().await.is_none());
}

async fn connection_errors_propagate() {
    let router = MockRouter::builder()
        .script("/tool/hang", Script::Silent)
        .start();
    let device = connect(&router).await;
    let collect = device.collect(CommandBuilder::new().command("/tool/hang"));
    let cut = async {
        received(&router, "/tool/hang").await;
        router.drop_connections();
    };
    let (result, ()) = futures_util::future::join(collect, cut).await;
    let err = result.unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");
    let err = device.menu("/interface").print().await.unwrap_err();
    assert!(err.is_connection_error(), "{err:?}");

    // `!fatal` ends a collect with Error::Fatal.
    let router = MockRouter::builder()
        .script("/tool/die", Script::Fatal("out of memory".into()))
        .start();
    let device = connect(&router).await;
    let err = device
        .collect(CommandBuilder::new().command("/tool/die"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Fatal(reason) if &**reason == "out of memory"),
        "{err:?}"
    );
}
