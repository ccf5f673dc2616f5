//! The secrets policy against every argument name of RouterOS 7.9–7.24 (the
//! project's committed schema): any name that looks secret-like must be
//! classified either way, so a new secret argument is noticed, not leaked.

use mikrotik_rs::protocol::secrets::{
    Classification, classify, is_secret, looks_like_script, looks_secret,
};
use mikrotik_rs_schema::schema;

/// Walks every (menu, command, argument) of the schema whose name `looks`
/// says is of interest, and fails listing those the policy leaves
/// unclassified; `at_least` proves the walk saw the schema.
fn each_argument_is_classified(what: &str, looks: fn(&[u8]) -> bool, at_least: usize) {
    let mut unclassified = Vec::new();
    let mut checked = 0;
    for (menu, command, argument) in schema().arguments() {
        let name = argument.name();
        if !looks(name.as_bytes()) {
            continue;
        }
        checked += 1;
        let path = menu.command_path(command.name());
        if classify(Some(path.as_bytes()), name.as_bytes()) == Classification::Unclassified {
            unclassified.push(format!("{path} {name}"));
        }
    }
    unclassified.sort();
    unclassified.dedup();
    assert!(
        checked > at_least,
        "the walk saw the schema ({checked} names)"
    );
    assert!(
        unclassified.is_empty(),
        "{} {what} arguments the policy does not classify \
         (add them to src/protocol/secrets.rs, as secret or not):\n{}",
        unclassified.len(),
        unclassified.join("\n")
    );
}

#[test]
fn every_secret_looking_argument_is_classified() {
    each_argument_is_classified("secret-looking", looks_secret, 100);
}

/// Script bodies carry credentials as often as passwords do: every
/// argument whose name looks like it holds a script (`source`, `on-…`,
/// `…-script`) must be classified either way.
#[test]
fn every_script_holding_argument_is_classified() {
    each_argument_is_classified("script-looking", looks_like_script, 50);
}

#[test]
fn script_bodies_are_secret_wherever_they_are_set() {
    for (path, key) in [
        ("/tool/netwatch/add", "up-script"),
        ("/tool/netwatch/add", "down-script"),
        ("/tool/netwatch/add", "test-script"),
        ("/execute", "script"),
        ("/ppp/profile/add", "on-up"),
        ("/ppp/profile/add", "on-down"),
        ("/ip/dhcp-server/set", "lease-script"),
        ("/ip/dhcp-client/add", "script"),
        ("/ipv6/dhcp-client/add", "script"),
        ("/ipv6/dhcp-server/add", "binding-script"),
        ("/ip/dhcp-server/alert/add", "on-alert"),
        ("/ip/hotspot/user/profile/add", "on-login"),
        ("/ip/hotspot/user/profile/add", "on-logout"),
        ("/system/logging/action/add", "script"),
        ("/interface/vrrp/add", "on-master"),
        ("/interface/vrrp/add", "on-backup"),
        ("/interface/vrrp/add", "on-fail"),
        ("/iot/mqtt/subscriptions/add", "on-message"),
        ("/system/scheduler/add", "on-event"),
        ("/system/script/add", "source"),
    ] {
        assert!(
            schema()
                .command(path)
                .is_some_and(|(_, c)| c.argument(key).is_some()),
            "{path} {key} is in the schema"
        );
        assert!(
            is_secret(Some(path.as_bytes()), key.as_bytes()),
            "{path} {key}"
        );
    }
}

/// Credentials whose names do not look secret, secret in their menus only.
#[test]
fn a_sim_pin_and_an_snmp_community_name_are_secret_in_their_menus() {
    for (path, key) in [
        ("/interface/lte/set", "pin"),
        ("/interface/ppp-client/add", "pin"),
        ("/snmp/community/add", "name"),
    ] {
        assert!(
            schema()
                .command(path)
                .is_some_and(|(_, c)| c.argument(key).is_some()),
            "{path} {key} is in the schema"
        );
        assert!(
            is_secret(Some(path.as_bytes()), key.as_bytes()),
            "{path} {key}"
        );
    }
    assert!(!is_secret(Some(b"/interface/add"), b"name"));
    assert!(
        !is_secret(None, b"name"),
        "too common to hide where the menu is unknown"
    );
}

#[test]
fn the_secrets_the_issue_names_are_secret_in_their_menus() {
    for (path, key) in [
        ("/interface/wireguard/add", "private-key"),
        ("/interface/wireguard/peers/add", "preshared-key"),
        ("/interface/wireguard/peers/add", "private-key"),
        ("/interface/l2tp-server/server/set", "ipsec-secret"),
        ("/routing/bgp/connection/add", "tcp-md5-key"),
        ("/routing/ospf/interface-template/add", "auth-key"),
        ("/system/script/add", "source"),
        ("/system/scheduler/add", "on-event"),
        ("/ppp/secret/add", "password"),
        ("/user/add", "password"),
        ("/system/ntp/key/add", "key-val"),
        ("/interface/wifi/security/add", "passphrase"),
        ("/interface/wifi/add", "security.passphrase"),
        ("/certificate/export-certificate", "export-passphrase"),
        ("/ip/ipsec/key/psk/add", "key"),
    ] {
        assert!(
            schema()
                .command(path)
                .is_some_and(|(_, c)| c.argument(key).is_some()),
            "{path} {key} is in the schema"
        );
        assert!(
            is_secret(Some(path.as_bytes()), key.as_bytes()),
            "{path} {key}"
        );
    }
    for (path, key) in [
        ("/certificate/add", "key-size"),
        ("/certificate/add", "key-usage"),
        ("/interface/wireguard/peers/add", "public-key"),
        ("/user/settings/set", "minimum-password-length"),
        ("/routing/igmp-proxy/mfc/add", "source"),
        ("/user/ssh-keys/add", "key"),
    ] {
        assert!(
            !is_secret(Some(path.as_bytes()), key.as_bytes()),
            "{path} {key}"
        );
    }
}
