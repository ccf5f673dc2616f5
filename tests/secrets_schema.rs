//! The secrets policy against every argument name of RouterOS 7.9–7.24 (the
//! project's committed schema): any name that looks secret-like must be
//! classified either way, so a new secret argument is noticed, not leaked.

use mikrotik_rs::protocol::secrets::{Classification, classify, is_secret, looks_secret};
use mikrotik_rs_schema::schema;

#[test]
fn every_secret_looking_argument_is_classified() {
    let mut unclassified = Vec::new();
    let mut checked = 0;
    for (menu, command, argument) in schema().arguments() {
        let name = argument.name();
        if !looks_secret(name.as_bytes()) {
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
    assert!(checked > 100, "the walk saw the schema ({checked} names)");
    assert!(
        unclassified.is_empty(),
        "{} secret-looking arguments the policy does not classify \
         (add them to src/protocol/secrets.rs, as secret or not):\n{}",
        unclassified.len(),
        unclassified.join("\n")
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
