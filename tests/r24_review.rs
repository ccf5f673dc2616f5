//! Review of issue 24 (r24): reproductions of where the RouterOS check and the mock
//! break their promises. Each test fails on main as of f203a74.

mod common;

use common::{connect, drain};
use mikrotik_rs::protocol::CommandResponse;
use mikrotik_rs::protocol::command::{Command, CommandBuilder};
use mikrotik_rs::testing::MockRouter;

on_every_runtime!(
    the_mock_takes_the_macsec_key_the_manual_shows,
    a_release_candidate_of_7_20_answers_empty,
    export_answers_done_as_the_mock_docs_say,
    built_in_menus_trap_unknown_print_arguments,
);

/// The manual's MACsec key pair (see below).
const CAK: &str = "71a7c363794da400dbde595d3926b0e9";
const CKN: &str = "f2c4660060169391d29d8db8a1f06e5d4b84a128bad06ad43ea2bd4f7d21968f";

/// Builds `/path name=value …` (console-like; no spaces inside values).
fn sentence(line: &str) -> Command {
    let mut words = line.split(' ');
    let mut builder = CommandBuilder::new().command(words.next().unwrap());
    for word in words {
        builder = match word.split_once('=') {
            Some((name, value)) => builder.attribute(name, Some(value)),
            None => builder.attribute(word, None),
        };
    }
    builder.build()
}

fn refused(lines: &[&String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            sentence(line)
                .check()
                .err()
                .map(|e| format!("{line}\n    -> {e}"))
        })
        .collect()
}

/// MikroTik's MACsec manual shows a router printing `cak=71a7c363794da400dbde595d3926b0e9`
/// (16 bytes as 32 hexadecimal digits) and `ckn=` of 64 digits, and tells to configure
/// the same values on the peer. The hint says `hexadecimal string value, max length 16`
/// (bytes); the check counts characters and refuses the router's own key.
#[test]
fn macsec_keys_as_the_manual_shows_them_pass() {
    let lines = [&format!(
        "/interface/macsec/add interface=ether1 cak={CAK} ckn={CKN}"
    )];
    let refused = refused(&lines);
    assert!(
        refused.is_empty(),
        "refused {}:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

/// The mock refuses the same key with the router's `invalid value` trap.
async fn the_mock_takes_the_macsec_key_the_manual_shows() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let add = sentence(&format!(
        "/interface/macsec/add interface=ether1 cak={CAK} ckn={CKN}"
    ));
    let items = drain(device.send_command(add).await.unwrap()).await;
    assert!(
        matches!(items.as_slice(), [Ok(CommandResponse::Done(done))] if done.attributes.contains_key("ret")),
        "{items:?}"
    );
}

/// `routeros_version` docs: "from 7.18 on it answers `!empty`". With `7.20rc1` the
/// tree of 7.20 is chosen (the schema reads the minor's leading digits), but
/// `!empty` is decided by `"20rc1".parse::<u32>()`, which fails to 0: 7.0.
async fn a_release_candidate_of_7_20_answers_empty() {
    let router = MockRouter::builder().routeros_version("7.20rc1").start();
    let device = connect(&router).await;
    let print = CommandBuilder::new()
        .command("/ip/firewall/raw/print")
        .build();
    let items = drain(device.send_command(print).await.unwrap()).await;
    assert!(
        matches!(items.first(), Some(Ok(CommandResponse::Empty(_)))),
        "7.20rc1 is 7.18+: {items:?}"
    );
}

/// The mock's docs: "any other command (`/ip/dns/cache/flush`,
/// `/system/backup/save`, `export`…) answers `!done`", and the check accepts
/// `/export` (a command of the tree's root). The mock calls it an unknown path.
async fn export_answers_done_as_the_mock_docs_say() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    let export = CommandBuilder::new().command("/export").build();
    export.check().unwrap();
    let items = drain(device.send_command(export).await.unwrap()).await;
    assert!(
        matches!(items.as_slice(), [Ok(CommandResponse::Done(_))]),
        "{items:?}"
    );
}

/// The mock's docs: "Every command of a menu of the tree is checked against the
/// tree: an argument it does not take → `unknown parameter <name>`". Tree-only
/// menus do (`/interface/wireguard/print =adress=x` traps); the built-in
/// `/ip/address` prints its rows for the same typo.
async fn built_in_menus_trap_unknown_print_arguments() {
    let router = MockRouter::start();
    let device = connect(&router).await;
    for path in ["/interface/wireguard/print", "/ip/address/print"] {
        let print = sentence(&format!("{path} adress=x"));
        assert!(print.check().is_err(), "the check refuses it");
        let items = drain(device.send_command(print).await.unwrap()).await;
        assert!(
            matches!(items.first(), Some(Ok(CommandResponse::Trap(trap))) if trap.message == "unknown parameter adress"),
            "{path}: {items:?}"
        );
    }
}
