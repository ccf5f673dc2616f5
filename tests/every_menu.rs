//! The MockRouter knows every menu of the RouterOS tree (`mikrotik-rs-schema`):
//! a sample of 500 commands of the release it emulates, spread evenly over
//! the tree (not picked by hand), runs against it — an add/print/set/remove
//! cycle where the menu has them; and the traps for unknown paths, arguments
//! and bad values are the router's own words, each assertion citing where
//! those words were seen. Every test runs under Tokio and smol, bounded.

mod common;

use std::time::Duration;

use common::{cmd, connect, drain};
use mikrotik_rs::api::Change;
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::protocol::{CommandResponse, TrapCategory};
use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{Error, MikrotikDevice};
use mikrotik_rs_schema::{Command, Versions, schema};

const WAIT: Duration = Duration::from_secs(5);
const SAMPLE: usize = 500;

on_every_runtime!(
    a_sample_of_500_commands_runs_against_the_mock,
    a_sample_of_500_commands_of_the_oldest_release_runs_against_the_mock,
    unknown_paths_answer_the_traps_routers_send,
    unknown_arguments_answer_unknown_parameter,
    values_that_break_their_hint_answer_the_routers_refusal,
    the_emulated_release_decides_what_exists,
    tree_menus_are_tables_that_report_their_changes,
    move_reorders_the_rows_of_a_table,
    commands_without_a_table_answer_as_their_kind,
    a_reboot_closes_the_connection_without_an_answer,
);

/// The commands of `release`, in the tree's order (menus sorted by path,
/// commands by name), every `len / SAMPLE`-th one. Left out: the root's
/// scripting commands (`:put`, not API menus) and the two that end every
/// connection (`/system/reboot`, `/system/shutdown`: tested on their own).
fn sample(release: Versions) -> Vec<(&'static str, &'static Command)> {
    let mut all = Vec::new();
    for menu in schema().menus() {
        if menu.path() == "/" || !menu.versions().intersects(release) {
            continue;
        }
        for command in menu.commands() {
            let ends_connection =
                menu.path() == "/system" && matches!(command.name(), "reboot" | "shutdown");
            if command.versions().intersects(release) && !ends_connection {
                all.push((menu.path(), command));
            }
        }
    }
    assert!(
        all.len() > SAMPLE * 4,
        "the tree has {} commands",
        all.len()
    );
    (0..SAMPLE).map(|i| all[i * all.len() / SAMPLE]).collect()
}

fn takes(menu: &str, verb: &str, release: Versions) -> Option<&'static Command> {
    schema()
        .menu(menu)?
        .command(verb)
        .filter(|c| c.versions().intersects(release))
}

/// A text argument both `add` and `set` take in `release` (`comment`,
/// `name`), if any.
fn text_argument(add: &Command, set: &Command, release: Versions) -> Option<&'static str> {
    let takes = |command: &Command, name: &str| {
        command
            .argument(name)
            .is_some_and(|a| a.versions().intersects(release))
    };
    ["comment", "name"]
        .into_iter()
        .find(|name| takes(add, name) && takes(set, name))
}

fn message(error: &Error) -> String {
    error
        .traps()
        .map(|traps| {
            traps
                .iter()
                .map(|t| t.message.clone())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .unwrap_or_else(|| format!("not a trap: {error}"))
}

/// A value the mock's hand-built menus take for an argument they require
/// (`/ip/address` requires an `address` and an existing `interface`).
fn plausible(argument: &str, n: usize) -> String {
    match argument {
        "interface" => "ether1".to_owned(),
        "group" => "full".to_owned(),
        "address" => format!("192.0.2.{}/24", n % 250 + 1),
        _ => format!("required-{n}"),
    }
}

/// add, print (the row is there with what was given), set, print again,
/// remove, print (gone). Menus of the tree take any of their arguments;
/// the hand-built ones require some, which the router names: those are
/// given on a second try.
async fn cycle(device: &MikrotikDevice, menu_path: &str, argument: Option<&str>, n: usize) {
    let menu = device.menu(menu_path);
    let added = format!("sample-{n}");
    let mut given: Vec<(String, String)> = argument
        .map(|a| (a.to_owned(), added.clone()))
        .into_iter()
        .collect();
    let id = match menu.add(given.clone()).await {
        Ok(id) => id,
        Err(error) => {
            let words = message(&error);
            let missing = words
                .strip_prefix("missing value(s) of argument(s) ")
                .unwrap_or_else(|| panic!("{menu_path}/add {given:?}: {words}"));
            for name in missing.split(' ') {
                given.push((name.to_owned(), plausible(name, n)));
            }
            menu.add(given.clone())
                .await
                .unwrap_or_else(|e| panic!("{menu_path}/add {given:?}: {}", message(&e)))
        }
    };
    let row = menu.get(&id).await.unwrap().expect("the added row prints");
    if let Some(argument) = argument {
        assert_eq!(row.get(argument), Some(added.as_str()), "{menu_path}");
        let changed = format!("changed-{n}");
        menu.set(&id, [(argument, changed.as_str())])
            .await
            .unwrap_or_else(|e| panic!("{menu_path}/set: {}", message(&e)));
        let row = menu.get(&id).await.unwrap().expect("the set row prints");
        assert_eq!(row.get(argument), Some(changed.as_str()), "{menu_path}");
    }
    menu.remove(&id)
        .await
        .unwrap_or_else(|e| panic!("{menu_path}/remove: {}", message(&e)));
    assert!(
        menu.get(&id).await.unwrap().is_none(),
        "{menu_path}: removed"
    );
}

/// Sends `/menu/verb` without arguments and reads its first answer: a row,
/// `!done`, or a trap that is not about the path or an argument. Streaming
/// commands are cancelled by dropping the stream.
async fn once(device: &MikrotikDevice, menu: &str, verb: &str) {
    let path = format!("{menu}/{verb}");
    let mut stream = device.send_command(cmd(&path)).await.unwrap();
    let first = stream.recv().await.expect("an answer");
    match first {
        Ok(CommandResponse::Reply(_) | CommandResponse::Done(_) | CommandResponse::Empty(_)) => {}
        Ok(CommandResponse::Trap(trap)) => {
            let words = trap.message;
            assert!(
                !words.starts_with("no such command") && !words.starts_with("unknown parameter"),
                "{path}: {words}"
            );
        }
        other => panic!("{path}: {other:?}"),
    }
}

async fn a_sample_of_500_commands_runs_against_the_mock() {
    run_sample(MockRouter::start()).await;
}

async fn a_sample_of_500_commands_of_the_oldest_release_runs_against_the_mock() {
    let router = MockRouter::builder().routeros_version("7.9").start();
    assert_eq!(router.routeros_release(), Some("7.9.2"));
    run_sample(router).await;
}

async fn run_sample(router: MockRouter) {
    let release = schema()
        .version(router.routeros_release().unwrap())
        .unwrap();
    let device = connect(&router).await;
    let (mut cycles, mut prints, mut others) = (0, 0, 0);
    for (n, (menu, command)) in sample(release).into_iter().enumerate() {
        let table = ["add", "print", "set", "remove"].map(|verb| takes(menu, verb, release));
        match table {
            [Some(add), Some(_), Some(set), Some(_)] => {
                cycle(&device, menu, text_argument(add, set, release), n).await;
                cycles += 1;
            }
            _ if command.name() == "print" => {
                let rows = device.menu(menu).print().await;
                assert!(
                    rows.is_ok(),
                    "{menu}/print: {:?}",
                    rows.map_err(|e| message(&e))
                );
                prints += 1;
            }
            _ => {
                once(&device, menu, command.name()).await;
                others += 1;
            }
        }
    }
    assert_eq!(cycles + prints + others, SAMPLE);
    // Spread over the tree: every kind is well represented.
    assert!(cycles >= 100, "{cycles} add/print/set/remove cycles");
    assert!(others >= 100, "{others} other commands");
    common::still_answers(&device).await;
}

async fn unknown_paths_answer_the_traps_routers_send() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    // Two traps, the first naming the first unknown segment (PROTOCOL.md:
    // the 2013 wiki and third-party RouterOS 7 captures, e.g.
    // `!trap =category=0 =message=no such command or directory (adress)`).
    for (path, segment) in [
        ("/ip/adress/print", "adress"),
        ("/ip/firewall/filtre/add", "filtre"),
        ("/interface/wireguard/peers/explode", "explode"),
    ] {
        let error = device.run(cmd(path)).await.unwrap_err();
        assert_eq!(
            message(&error),
            format!("no such command or directory ({segment}) / no such command prefix"),
            "{path}"
        );
        let traps = error.traps().unwrap();
        assert_eq!(traps[0].category, Some(TrapCategory::MissingItemOrCommand));
    }
}

async fn unknown_arguments_answer_unknown_parameter() {
    // RouterOS 7 names the parameter (terraform-provider-routeros issue 679,
    // RouterOS 7.18: `unknown parameter src-address`); RouterOS 6 does not
    // (mikrotik-java issue 39 on 6.35.4, terraform-provider-routeros issue
    // 407 on 6.49.10: `unknown parameter`).
    for (v6, expected) in [
        (false, "unknown parameter colour"),
        (true, "unknown parameter"),
    ] {
        let router = MockRouter::builder().routeros6(v6).start();
        let device = connect(&router).await;
        let filter = device.menu("/ip/firewall/filter");
        let error = filter
            .add([("chain", "input"), ("colour", "blue")])
            .await
            .unwrap_err();
        assert_eq!(message(&error), expected, "v6={v6}");
        let error = device
            .menu("/interface/wireguard")
            .print()
            .attribute("colour", Some("blue"))
            .await
            .unwrap_err();
        assert_eq!(message(&error), expected, "print, v6={v6}");
        assert!(
            router.items("/ip/firewall/filter").is_empty(),
            "nothing stored"
        );
    }
}

async fn values_that_break_their_hint_answer_the_routers_refusal() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let refused = |path: &'static str, properties: Vec<(&'static str, &'static str)>| {
        let device = device.clone();
        async move {
            let error = device.menu(path).add(properties).await.unwrap_err();
            let trap = error.traps().unwrap()[0].clone();
            (trap.category, trap.message)
        }
    };
    // `invalid value for argument remote-address` at category 1 (PHP
    // clients that test these exact words of `/ppp/secret/add`).
    assert_eq!(
        refused(
            "/ppp/secret",
            vec![("name", "a"), ("remote-address", "10.0.0.256")]
        )
        .await,
        (
            Some(TrapCategory::ArgumentValueFailure),
            "invalid value for argument remote-address".to_owned()
        )
    );
    // `invalid value of mac-address, mac address required` (PHP hotspot
    // clients that test these words).
    assert_eq!(
        refused(
            "/ip/arp",
            vec![("address", "192.0.2.9"), ("mac-address", "12:34")]
        )
        .await,
        (
            Some(TrapCategory::ArgumentValueFailure),
            "invalid value of mac-address, mac address required".to_owned()
        )
    );
    // What routers take although the hint is narrower passes; so do words
    // under an address hint (a pool's name, `auto`): the mock, like the
    // macro, leaves those to the router rather than refuse what one may take.
    let id = device
        .menu("/ppp/secret")
        .add([("name", "b"), ("remote-address", "10.0.0.2")])
        .await
        .unwrap();
    assert!(id.starts_with('*'));
    device
        .menu("/ip/dhcp-server/network")
        .add([("address", "192.168.88.0/24"), ("gateway", "192.168.88.1")])
        .await
        .unwrap();
    // Two DNS servers under an `A.B.C.D` hint, as routers take them.
    device
        .menu("/ppp/profile")
        .add([("name", "two-dns"), ("dns-server", "1.1.1.1,9.9.9.9")])
        .await
        .unwrap();
}

async fn the_emulated_release_decides_what_exists() {
    // `/app` (containers as apps) exists only since 7.21 in the tree.
    let old = MockRouter::builder().routeros_version("7.16").start();
    assert_eq!(old.routeros_release(), Some("7.16.2"));
    let device = connect(&old).await;
    let error = device.menu("/app").print().await.unwrap_err();
    assert_eq!(
        message(&error),
        "no such command or directory (app) / no such command prefix"
    );
    let resource = device.menu("/system/resource").print().one().await.unwrap();
    assert_eq!(resource.get("version"), Some("7.16 (stable)"));
    let check = device
        .collect(cmd("/system/package/update/check-for-updates"))
        .await
        .unwrap();
    let last = check.rows.last().unwrap();
    assert_eq!(last.get("installed-version"), Some("7.16"));
    assert_eq!(last.get("latest-version"), Some("7.24"));

    let new = MockRouter::start();
    assert_eq!(new.routeros_release(), Some("7.24"));
    let device = connect(&new).await;
    assert!(device.menu("/app").print().await.unwrap().is_empty());

    // Without the tree only the hand-built menus exist.
    let bare = MockRouter::builder().every_menu(false).start();
    assert_eq!(bare.routeros_release(), None);
    let device = connect(&bare).await;
    assert!(device.menu("/ip/route").print().await.is_err());
    assert!(device.menu("/interface").print().await.is_ok());

    let uncovered = MockRouter::builder().routeros_version("6.49").try_start();
    assert_eq!(
        uncovered.unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

async fn tree_menus_are_tables_that_report_their_changes() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let queues = device.menu("/queue/simple");
    let mut changes = queues.listen().await.unwrap();
    let subscribed = router
        .wait_for(
            |log| log.iter().any(|s| s.path() == "/queue/simple/listen"),
            WAIT,
        )
        .await;
    assert!(subscribed, "the listen reached the mock");
    let id = queues
        .add([("name", "guest"), ("target", "192.168.88.0/24")])
        .await
        .unwrap();
    let Some(Ok(Change::Upsert(row))) = changes.recv().await else {
        panic!("the add is reported");
    };
    assert_eq!(row.get(".id"), Some(id.as_str()));
    // `disabled` is stored in RouterOS 7's words, as the router prints it.
    assert_eq!(row.get("disabled"), Some("false"));
    let disable = CommandBuilder::new()
        .command("/queue/simple/disable")
        .attribute("numbers", Some(&id))
        .build();
    device.run(disable).await.unwrap();
    let Some(Ok(Change::Upsert(row))) = changes.recv().await else {
        panic!("the disable is reported");
    };
    assert_eq!(row.get("disabled"), Some("true"));
    let comment = CommandBuilder::new()
        .command("/queue/simple/comment")
        .attribute("numbers", Some("guest"))
        .attribute("comment", Some("visitors"))
        .build();
    device.run(comment).await.unwrap();
    let Some(Ok(Change::Upsert(row))) = changes.recv().await else {
        panic!("the comment is reported");
    };
    assert_eq!(row.get("comment"), Some("visitors"));
    let get = CommandBuilder::new()
        .command("/queue/simple/get")
        .attribute("number", Some(&id))
        .attribute("value-name", Some("target"))
        .build();
    assert_eq!(
        device.run(get).await.unwrap().as_deref(),
        Some("192.168.88.0/24")
    );
    queues.remove(&id).await.unwrap();
    let Some(Ok(Change::Removed { id: gone, row })) = changes.recv().await else {
        panic!("the remove is reported");
    };
    assert_eq!(gone, id);
    assert_eq!(row.get(".dead"), Some("true"));
    // A test may fill a menu of the tree before any client touched it.
    let rule = router
        .add_item(
            "/ip/firewall/raw",
            [("chain", "prerouting"), ("action", "drop")],
        )
        .expect("a table of the tree");
    let rows = device.menu("/ip/firewall/raw").print().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get(".id"), Some(rule.as_str()));
    assert!(router.set_item("/ip/firewall/raw", &rule, [("comment", "seeded")]));
    assert!(router.remove_item("/ip/firewall/raw", &rule));
    // A single-row menu of the tree: `set` without ids, one row printed.
    let dns = device.menu("/ip/dns");
    let set = CommandBuilder::new()
        .command("/ip/dns/set")
        .attribute("servers", Some("9.9.9.9"))
        .build();
    device.run(set).await.unwrap();
    let rows = dns.print().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("servers"), Some("9.9.9.9"));
    assert_eq!(rows[0].get(".id"), None);
}

async fn move_reorders_the_rows_of_a_table() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let filter = device.menu("/ip/firewall/filter");
    let mut ids = Vec::new();
    for comment in ["a", "b", "c"] {
        ids.push(
            filter
                .add([("chain", "input"), ("comment", comment)])
                .await
                .unwrap(),
        );
    }
    // `print follow` sees the rows as they are, then the changes.
    let mut follow = filter.print().follow().await.unwrap();
    for _ in 0..3 {
        assert!(matches!(follow.recv().await, Some(Ok(Change::Upsert(_)))));
    }
    let order = || async {
        let rows = filter.print().await.unwrap();
        rows.iter()
            .map(|r| r.get("comment").unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    // `c` before `a`.
    let to_front = CommandBuilder::new()
        .command("/ip/firewall/filter/move")
        .attribute("numbers", Some(&ids[2]))
        .attribute("destination", Some(&ids[0]))
        .build();
    device.run(to_front).await.unwrap();
    assert_eq!(order().await, ["c", "a", "b"]);
    // Without a destination: to the end.
    let to_end = CommandBuilder::new()
        .command("/ip/firewall/filter/move")
        .attribute("numbers", Some(&ids[2]))
        .build();
    device.run(to_end).await.unwrap();
    assert_eq!(order().await, ["a", "b", "c"]);
    let unknown = CommandBuilder::new()
        .command("/ip/firewall/filter/move")
        .attribute("numbers", Some("*99"))
        .build();
    assert_eq!(
        message(&device.run(unknown).await.unwrap_err()),
        "no such item"
    );
    let enable = CommandBuilder::new()
        .command("/ip/firewall/filter/enable")
        .attribute("numbers", Some(&ids[1]))
        .build();
    device.run(enable).await.unwrap();
    let Some(Ok(Change::Upsert(row))) = follow.recv().await else {
        panic!("the enable is reported to follow");
    };
    assert_eq!(row.get("comment"), Some("b"));
    assert_eq!(row.get("disabled"), Some("false"));
}

async fn commands_without_a_table_answer_as_their_kind() {
    let router = MockRouter::builder()
        .monitor_interval(Duration::from_millis(10))
        .start();
    let device = connect(&router).await;
    // `ping` with a count: that many rows, then `!done` (PROTOCOL.md).
    for path in ["/ping", "/tool/ping"] {
        let ping = CommandBuilder::new()
            .command(path)
            .attribute("address", Some("192.0.2.1"))
            .attribute("count", Some("3"))
            .build();
        let items = drain(device.send_command(ping).await.unwrap()).await;
        let rows: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Ok(CommandResponse::Reply(row)) => Some(row.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(rows.len(), 3, "{path}: {items:?}");
        assert_eq!(rows[2].get("seq"), Some("2"));
        assert_eq!(rows[2].get("host"), Some("192.0.2.1"));
        assert!(matches!(items.last(), Some(Ok(CommandResponse::Done(_)))));
    }
    // Without a count it streams until cancelled (the stream dropped).
    let ping = CommandBuilder::new()
        .command("/ping")
        .attribute("address", Some("192.0.2.1"))
        .build();
    let mut stream = device.send_command(ping).await.unwrap();
    for _ in 0..3 {
        assert!(matches!(
            stream.recv().await,
            Some(Ok(CommandResponse::Reply(_)))
        ));
    }
    drop(stream);
    common::wait_until(|| router.running_commands() == 0, "the ping is cancelled").await;
    // An action of the tree answers `!done`.
    let flush = device.run(cmd("/ip/dns/cache/flush")).await.unwrap();
    assert_eq!(flush, None);
    // Its arguments are checked like any other.
    let error = device
        .run(
            CommandBuilder::new()
                .command("/ip/dns/cache/flush")
                .attribute("colour", Some("blue"))
                .build(),
        )
        .await
        .unwrap_err();
    assert_eq!(message(&error), "unknown parameter colour");
}

async fn a_reboot_closes_the_connection_without_an_answer() {
    // EvilFreelancer/routeros-api-php issue 36 (RouterOS 6.44.5): "RouterOS
    // reboot command terminates the API connection without response".
    let router = MockRouter::start();
    let device = connect(&router).await;
    let items = drain(device.send_command(cmd("/system/reboot")).await.unwrap()).await;
    assert!(
        items
            .iter()
            .all(|i| !matches!(i, Ok(CommandResponse::Done(_)))),
        "no !done: {items:?}"
    );
    assert!(matches!(items.last(), Some(Err(_))), "{items:?}");
    // The mock is up again at once: a new connection answers.
    let again = connect(&router).await;
    common::still_answers(&again).await;
}
