//! Typed rows (feature `serde`) against the MockRouter speaking RouterOS 6 and
//! 7 style values; each test under Tokio (multi- and current-thread) and smol.
#![cfg(feature = "serde")]

mod common;

use std::time::Duration;

use common::connect;
use mikrotik_rs::Error;
use mikrotik_rs::api::{Change, RouterOsDuration};
use mikrotik_rs::protocol::command::CommandBuilder;
use mikrotik_rs::testing::{MockRouter, Reply};
use serde::Deserialize;

const WAIT: Duration = Duration::from_secs(5);

on_every_runtime!(
    resource_v7,
    resource_v6,
    interfaces_v6_and_v7_decode_alike,
    collect_as_with_durations_lists_and_clocks,
    bad_value_names_key_and_value,
    typed_listen,
);

#[derive(Debug, Deserialize)]
struct Resource {
    uptime: RouterOsDuration,
    version: String,
    free_memory: u64,
    total_memory: u64,
    cpu_count: u8,
    cpu_load: u8,
    board_name: String,
    #[serde(rename = "architecture-name")]
    arch: String,
    bad_blocks: Option<f32>,
}

async fn resource(router: &MockRouter) -> Resource {
    let device = connect(router).await;
    let mut rows = device
        .menu("/system/resource")
        .print()
        .collect_typed::<Resource>()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    rows.remove(0)
}

async fn resource_v7() {
    let r = resource(&MockRouter::start()).await;
    assert_eq!(
        r.uptime.as_duration(),
        Duration::from_secs(7 * 86_400 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
    );
    assert!(r.version.starts_with("7."));
    assert_eq!(r.total_memory, 1_073_741_824);
    assert!(r.free_memory < r.total_memory);
    assert_eq!(r.cpu_count, 4);
    assert_eq!(r.cpu_load, 3);
    assert_eq!(r.board_name, "RB5009UG+S+");
    assert_eq!(r.arch, "arm64");
    assert_eq!(r.bad_blocks, None);
}

async fn resource_v6() {
    let r = resource(&MockRouter::builder().routeros6(true).start()).await;
    assert!(r.version.starts_with("6."), "{}", r.version);
    assert_eq!(r.uptime.to_string(), "1w2d3h4m5s");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Interface {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: Kind,
    mtu: Option<u16>,
    running: bool,
    disabled: bool,
    comment: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    Ether,
    Bridge,
    Vlan,
}

async fn interfaces_v6_and_v7_decode_alike() {
    let v7 = MockRouter::start();
    let v6 = MockRouter::builder().routeros6(true).start();
    // The two speak differently on the wire…
    let raw6 = connect(&v6).await.menu("/interface").print().await.unwrap();
    let raw7 = connect(&v7).await.menu("/interface").print().await.unwrap();
    assert_eq!(raw6[0].get("running"), Some("yes"));
    assert_eq!(raw7[0].get("running"), Some("true"));
    // …and decode the same.
    let mut typed = Vec::new();
    for router in [&v6, &v7] {
        let rows: Vec<Interface> = connect(router)
            .await
            .menu("/interface")
            .print()
            .collect_typed()
            .await
            .unwrap();
        typed.push(rows);
    }
    assert_eq!(typed[0], typed[1]);
    let ether1 = &typed[0][0];
    assert_eq!(ether1.id, "*1");
    assert_eq!(ether1.name, "ether1");
    assert_eq!(ether1.kind, Kind::Ether);
    assert!(ether1.running && !ether1.disabled);
    assert!(typed[0].iter().any(|i| i.kind == Kind::Vlan));
    assert!(typed[0].iter().any(|i| i.kind == Kind::Bridge));
}

#[derive(Debug, Deserialize)]
struct Probe {
    host: String,
    time: RouterOsDuration,
    sent: u32,
    packet_loss: f64,
    ports: Vec<String>,
    up: bool,
}

async fn collect_as_with_durations_lists_and_clocks() {
    let router = MockRouter::builder()
        .script(
            "/tool/probe",
            Reply::new()
                .row([
                    ("host", "10.0.0.1"),
                    ("time", "14ms612us"),
                    ("sent", "3"),
                    ("packet-loss", "33.3"),
                    ("ports", "ether1,ether2"),
                    ("up", "true"),
                    ("extra", "ignored"),
                ])
                .row([
                    ("host", "10.0.0.2"),
                    ("time", "00:01:02"),
                    ("sent", "1"),
                    ("packet-loss", "0"),
                    ("ports", ""),
                    ("up", "no"),
                ])
                .into(),
        )
        .start();
    let device = connect(&router).await;
    let probes: Vec<Probe> = device
        .collect_typed(CommandBuilder::new().command("/tool/probe"))
        .await
        .unwrap();
    assert_eq!(probes.len(), 2);
    assert_eq!(probes[0].host, "10.0.0.1");
    assert_eq!(probes[0].time.as_duration(), Duration::from_micros(14_612));
    assert_eq!(probes[0].sent, 3);
    assert!((probes[0].packet_loss - 33.3).abs() < 1e-9);
    assert_eq!(probes[0].ports, ["ether1", "ether2"]);
    assert!(probes[0].up);
    assert_eq!(probes[1].time.as_duration(), Duration::from_secs(62));
    assert!(probes[1].ports.is_empty());
    assert!(!probes[1].up);

    // The same rows through `collect` then `deserialize`.
    let collected = device
        .collect(CommandBuilder::new().command("/tool/probe"))
        .await
        .unwrap();
    assert_eq!(collected.deserialize::<Probe>().unwrap().len(), 2);
}

async fn bad_value_names_key_and_value() {
    let router = MockRouter::start();
    assert!(router.set_item("/interface", "ether2", [("mtu", "jumbo")]));
    let device = connect(&router).await;
    let err = device
        .menu("/interface")
        .print()
        .collect_typed::<Interface>()
        .await
        .unwrap_err();
    match &err {
        Error::Decode { key, value, reason } => {
            assert_eq!(key.as_deref(), Some("mtu"));
            assert_eq!(value.as_deref(), Some("jumbo"));
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains("mtu") && shown.contains("jumbo"), "{shown}");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Up {
        uptime: RouterOsDuration,
    }
    router.set_script("/tool/up", Reply::new().row([("uptime", "a while")]).into());
    let err = device
        .collect_typed::<Up>(CommandBuilder::new().command("/tool/up"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { key: Some(k), value: Some(v), .. } if k == "uptime" && v == "a while"),
        "{err:?}"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Address {
    id: String,
    address: String,
    interface: String,
    disabled: bool,
}

async fn typed_listen() {
    let router = MockRouter::builder().routeros6(true).start();
    let device = connect(&router).await;
    let mut changes = device
        .menu("/ip/address")
        .listen()
        .await
        .unwrap()
        .typed::<Address>();
    assert!(
        router
            .wait_for(
                |log| log.iter().any(|s| s.path() == "/ip/address/listen"),
                WAIT
            )
            .await
    );
    let id = router
        .add_item(
            "/ip/address",
            [
                ("address", "10.5.5.5/32"),
                ("interface", "ether5"),
                ("disabled", "yes"),
            ],
        )
        .unwrap();
    let change = changes.recv().await.unwrap().unwrap();
    assert_eq!(
        change,
        Change::Upsert(Address {
            id: id.clone(),
            address: "10.5.5.5/32".into(),
            interface: "ether5".into(),
            disabled: true,
        })
    );
    // A row that does not decode is an error item; the stream goes on.
    assert!(router.set_item("/ip/address", &id, [("disabled", "perhaps")]));
    let err = changes.recv().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Decode { key: Some(k), .. } if k == "disabled"),
        "{err:?}"
    );
    // A removal stays raw: its row has only `.id` and `.dead`.
    assert!(router.remove_item("/ip/address", &id));
    match changes.recv().await.unwrap().unwrap() {
        Change::Removed { id: removed, row } => {
            assert_eq!(removed, id);
            assert_eq!(row.get(".dead"), Some("yes"));
        }
        other => panic!("{other:?}"),
    }
}
