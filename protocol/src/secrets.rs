//! The one secrets policy: which attribute values must never be shown.
//!
//! Every place that renders words or values asks [`is_secret`]: `Command`'s,
//! `CommandBuilder`'s and replies' `Debug`, errors, the test recorder,
//! replay's hints. A
//! secret's value is shown as [`REDACTED`]; its key stays, so a reader still
//! sees *what* was set.
//!
//! The classification comes from RouterOS's own argument names (7.9–7.24):
//! names alone do not tell (`private-key` is a secret, `public-key` and
//! `key-size` are not; `source` is a script in `/system/script` and an
//! address in `/routing/igmp-proxy/mfc`), so the lists below are explicit,
//! and a test walks every argument name of the schema and fails on any that
//! looks secret-like or looks like it holds a script ([`looks_like_script`]:
//! script bodies carry credentials) and is in neither list. A name no list
//! knows that still looks either way (a newer RouterOS) is treated as
//! secret: the policy fails closed. Keys are compared without regard to
//! ASCII case, and a query's operator (`?>`, `?<`, `?-`, `?=`) is not part
//! of its key.
//!
//! A reply's `ret` is judged by what its command asked ([`ret_is_secret`]:
//! a `get` of a secret `value-name` reads the secret back); where the
//! command is unknown, a `ret` is shown only when it is an id or a count
//! ([`ret_may_be_shown`]).
//!
//! Menus are compared on the command's path: an entry for `/system/script`
//! covers `/system/script/add`, `/system/script/set` and the menu itself.
//! Where the menu is unknown (a reply seen without its command), a key that
//! is secret in any menu is secret — except the few credentials whose names
//! are everywhere (a SIM's `pin`, the SNMP community's `name`), hidden only
//! in their own menus.
//!
//! Names of your own (a script argument, a container variable) are added
//! with `add_secret_name`; the list is process-wide, because `Debug` and
//! errors have no device to ask.
//!
//! The classifier needs only `core`; the user list is the one part that
//! uses `std` (a lock): `add_secret_name` comes with the `std` feature.

use crate::prelude::*;
#[cfg(feature = "std")]
use core::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "std")]
use std::sync::RwLock;

/// What a secret's value is shown as.
pub const REDACTED: &[u8] = b"<redacted>";

/// Keys secret in every menu, sorted (a test checks). Script bodies are
/// secrets (they carry credentials: `/tool/fetch user=… password=…`):
/// netwatch's `up-script`, PPP's `on-up`, DHCP's `lease-script`, `/execute
/// script=`, VRRP's `on-master`, … (a test walks the schema for them).
const SECRET_NAMES: &[&str] = &[
    "auth-key",
    "authentication-password",
    "binding-script",
    "challenge-passphrase",
    "challenge-password",
    "client-cert-key",
    "confirm-new-password",
    "connection-request-password",
    "down-script",
    "eab-hmac-key",
    "eab-key-b64",
    "eap-password",
    "enc-key",
    "encryption-key",
    "encryption-password",
    "export-passphrase",
    "hkdf-secret",
    "ipsec-secret",
    "key-passphrase",
    "key-val",
    "lease-script",
    "mac-auth-password",
    "management-protection-key",
    "mschapv2-password",
    "mtik-key",
    "new-password",
    "nv2-preshared-key",
    "nv2-sync-secret",
    "nvme-tcp-password",
    "nvme-tcp-server-password",
    "old-password",
    "on-alert",
    "on-backup",
    "on-down",
    "on-error",
    "on-fail",
    "on-login",
    "on-logout",
    "on-master",
    "on-message",
    "on-up",
    "otp-secret",
    "ovpn-password",
    "passphrase",
    "password",
    "paypal-password",
    "ppk-secret",
    "preshared-key",
    "private-key",
    "private-passphrase",
    "private-pre-shared-key",
    "radius-password",
    "script",
    "secret",
    "secret-download-key",
    "secrets",
    "self-encryption-password",
    "shared-secret",
    "smb-password",
    "smb-server-password",
    "socks5-password",
    "sshfs-password",
    "static-key-0",
    "static-key-1",
    "static-key-2",
    "static-key-3",
    "static-sta-private-key",
    "tcp-md5-key",
    "test-script",
    "up-script",
    "web-private-password",
    "wpa-pre-shared-key",
    "wpa2-pre-shared-key",
];

/// Keys secret only in one menu (and its commands), sorted by menu then key.
const SECRET_IN_MENU: &[(&str, &str)] = &[
    ("/", "response"),
    ("/container/envs", "value"),
    ("/iot/bluetooth", "key"),
    ("/iot/lora/servers", "key"),
    ("/ip/ipsec/key/psk", "key"),
    ("/lora/servers", "key"),
    ("/routing/rip/keys", "key"),
    ("/system/scheduler", "on-event"),
    ("/system/script", "source"),
    ("/task", "source"),
    ("/tool", "key"),
];

/// Keys secret only in one menu whose names are too common to hide when the
/// menu is unknown (`name` is everywhere): a SIM's `pin`, and the SNMP
/// community's `name`, which is the v1/v2c password. Sorted.
const SECRET_IN_KNOWN_MENU: &[(&str, &str)] = &[
    ("/interface/lte", "pin"),
    ("/interface/ppp-client", "pin"),
    ("/snmp/community", "name"),
];

/// Keys that look secret-like but are not secrets (sizes, choices, names of
/// keys, public halves, switches), sorted.
const NOT_SECRET_NAMES: &[&str] = &[
    "allow-sharedkey",
    "always-allow-password-login",
    "authorized-public-key-hash",
    "enc-key-size",
    "ft-r0-key-lifetime",
    "group-key-update",
    "host-key-size",
    "host-key-type",
    "key",
    "key-chain",
    "key-file-prefix",
    "key-id",
    "key-ids",
    "key-name",
    "key-owner",
    "key-size",
    "key-usage",
    "lacp-user-key",
    "log-script-errors",
    "minimum-password-length",
    "multi-passphrase-group",
    "no-key-export",
    "on-event",
    "on-fail-retry-time",
    "on-link",
    "on-smart-card",
    "parallel-scripts-limit",
    "password-authentication",
    "password-characters",
    "password-format",
    "password-length",
    "private-algo",
    "private-key-file",
    "public-key",
    "public-key-file",
    "remote-key",
    "remove-private-as",
    "reset-private-key",
    "script-file",
    "source",
    "static-sta-private-algo",
    "static-transmit-key",
    "use-script-permissions",
    "web-private-username",
];

/// How the policy sees one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// Listed as a secret (everywhere or in this menu).
    Secret,
    /// Listed as not a secret although its name looks secret-like.
    NotSecret,
    /// Not listed, and its name does not look secret-like: shown.
    Plain,
    /// Not listed but its name looks secret-like: treated as a secret.
    Unclassified,
}

impl Classification {
    /// Whether values under this key are redacted.
    pub fn is_secret(self) -> bool {
        matches!(self, Self::Secret | Self::Unclassified)
    }
}

/// Whether the value of `key` in a command of `path` (a command path such
/// as `/interface/wireguard/add`, or a menu) is a secret. `None` for a value
/// whose command is unknown: then a key secret in any menu is secret.
pub fn is_secret(path: Option<&[u8]>, key: &[u8]) -> bool {
    classify(path, key).is_secret() || user_named(key)
}

/// How the built-in lists classify `key` under `path` (names added with
/// `add_secret_name` are not consulted: see [`is_secret`]).
///
/// Keys are compared without regard to ASCII case (RouterOS's are lower
/// case; a key typed otherwise is still hidden: redaction errs safe).
pub fn classify(path: Option<&[u8]>, key: &[u8]) -> Classification {
    // A wifi property path such as `security.passphrase` is classified by
    // its last part.
    let name = match key.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => &key[dot + 1..],
        _ => key,
    };
    let in_menu = SECRET_IN_MENU.iter().any(|(menu, secret)| {
        secret.as_bytes().eq_ignore_ascii_case(name)
            && path.is_none_or(|p| covers(menu.as_bytes(), p))
    }) || SECRET_IN_KNOWN_MENU.iter().any(|(menu, secret)| {
        secret.as_bytes().eq_ignore_ascii_case(name)
            && path.is_some_and(|p| covers(menu.as_bytes(), p))
    });
    if in_menu || listed(SECRET_NAMES, name) {
        Classification::Secret
    } else if listed(NOT_SECRET_NAMES, name) {
        Classification::NotSecret
    } else if looks_secret(name) || looks_like_script(name) {
        Classification::Unclassified
    } else {
        Classification::Plain
    }
}

fn listed(list: &[&str], name: &[u8]) -> bool {
    list.iter()
        .any(|entry| entry.as_bytes().eq_ignore_ascii_case(name))
}

/// Whether `menu` covers `path`: the menu itself, or one command in it.
fn covers(menu: &[u8], path: &[u8]) -> bool {
    if menu == b"/" {
        return path.first() == Some(&b'/') && !path[1..].contains(&b'/');
    }
    match path.strip_prefix(menu) {
        Some([]) => true,
        Some([b'/', rest @ ..]) => !rest.is_empty() && !rest.contains(&b'/'),
        _ => false,
    }
}

/// Whether a name looks like it may hold a secret: it contains `password`,
/// `secret`, `passphrase`, `private`, `psk`, `pre-shared`/`preshared`, or
/// has `key` as a dash-separated part.
pub fn looks_secret(name: &[u8]) -> bool {
    const PARTS: [&[u8]; 7] = [
        b"password",
        b"secret",
        b"passphrase",
        b"private",
        b"psk",
        b"pre-shared",
        b"preshared",
    ];
    let contains = |needle: &[u8]| {
        name.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    PARTS.iter().any(|p| contains(p))
        || name.split(|&b| b == b'-' || b == b'.').any(|part| {
            part.eq_ignore_ascii_case(b"key")
                || part.len() >= 3
                    && part[..3].eq_ignore_ascii_case(b"key")
                    && part[3..].iter().all(u8::is_ascii_digit)
        })
}

/// Whether a name looks like it may hold a script body (which carries
/// credentials as often as a password does): `source`, a name starting
/// with `on-` (`on-up`, `on-event`), or one with `script`/`scripts` as a
/// dash-separated part (`lease-script`).
pub fn looks_like_script(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"source")
        || name.len() > 3 && name[..3].eq_ignore_ascii_case(b"on-")
        || name.split(|&b| b == b'-' || b == b'.').any(|part| {
            part.eq_ignore_ascii_case(b"script") || part.eq_ignore_ascii_case(b"scripts")
        })
}

/// If `word` is `=key=value` (or a query: `?key=value`, or with an
/// operator, `?=key=value`, `?<key=value`, `?>key=value`, `?-key=…`) with a
/// secret key: where its value starts.
pub fn secret_value_at(path: Option<&[u8]>, word: &[u8]) -> Option<usize> {
    let skip = match word {
        [b'?', b'=' | b'<' | b'>' | b'-', ..] => 2,
        [b'=' | b'?', ..] => 1,
        _ => return None,
    };
    let body = &word[skip..];
    let end = body.iter().position(|&b| b == b'=')?;
    is_secret(path, &body[..end]).then_some(skip + end + 1)
}

/// `word` as it may be shown: a secret's value replaced by [`REDACTED`].
/// A reply's `=ret=` whose command is unknown (`path` is `None`) is shown
/// only when it is an id or a count ([`ret_may_be_shown`]).
pub fn redact_word<'w>(path: Option<&[u8]>, word: &'w [u8]) -> alloc::borrow::Cow<'w, [u8]> {
    let unknown_ret = path.is_none()
        && word
            .strip_prefix(b"=ret=")
            .is_some_and(|ret| !ret.is_empty() && !ret_may_be_shown(ret));
    if unknown_ret {
        return alloc::borrow::Cow::Owned([&b"=ret="[..], REDACTED].concat());
    }
    match secret_value_at(path, word) {
        Some(at) => {
            let mut shown = Vec::with_capacity(at + REDACTED.len());
            shown.extend_from_slice(&word[..at]);
            shown.extend_from_slice(REDACTED);
            alloc::borrow::Cow::Owned(shown)
        }
        None => alloc::borrow::Cow::Borrowed(word),
    }
}

/// Whether the `ret` a command's `!done` brings back is a secret, judged by
/// what the command asked (`words`: its path, then its words): a `get`
/// whose `value-name` is secret in the menu reads that secret back.
pub fn ret_is_secret<'w>(words: impl IntoIterator<Item = &'w [u8]>) -> bool {
    let mut words = words.into_iter();
    let Some(path) = words.next() else {
        return false;
    };
    let is_get = path.rsplit(|&b| b == b'/').next() == Some(&b"get"[..]);
    is_get
        && words
            .filter_map(|w| w.strip_prefix(b"=value-name="))
            .any(|name| is_secret(Some(path), name))
}

/// Whether a `ret` whose command is unknown (`Debug` of a `!done`) may be
/// shown: only an id (`*1A`, what `add` returns) or a number (a count).
/// Anything else may be a secret a `get` read back, and is hidden.
/// (A hex string without `*` is hidden: a hex pre-shared key looks so.)
pub fn ret_may_be_shown(value: &[u8]) -> bool {
    match value.strip_prefix(b"*") {
        Some(id) => !id.is_empty() && id.iter().all(u8::is_ascii_hexdigit),
        None => !value.is_empty() && value.iter().all(u8::is_ascii_digit),
    }
}

/// Names added by the program, secret in every menu.
#[cfg(feature = "std")]
static USER_NAMES: RwLock<Vec<Vec<u8>>> = RwLock::new(Vec::new());
/// Whether any name was added (spares the lock when none was).
#[cfg(feature = "std")]
static ANY_USER_NAME: AtomicBool = AtomicBool::new(false);

/// Adds a key whose values are secret in every menu, for the whole process
/// (RouterOS's own secrets are already known; this is for names of your
/// own, e.g. an argument your script takes). Names cannot be removed.
///
/// ```
/// use mikrotik_rs_protocol::secrets::{add_secret_name, is_secret};
///
/// add_secret_name("vault-token");
/// assert!(is_secret(Some(b"/system/script/run"), b"vault-token"));
/// ```
#[cfg(feature = "std")]
pub fn add_secret_name(name: impl AsRef<[u8]>) {
    let name = name.as_ref();
    let mut names = USER_NAMES.write().unwrap_or_else(|e| e.into_inner());
    if !names.iter().any(|n| n == name) {
        names.push(name.to_vec());
    }
    ANY_USER_NAME.store(true, Ordering::Release);
}

/// Without `std` there is no list of names of your own.
#[cfg(not(feature = "std"))]
fn user_named(_key: &[u8]) -> bool {
    false
}

#[cfg(feature = "std")]
fn user_named(key: &[u8]) -> bool {
    ANY_USER_NAME.load(Ordering::Acquire)
        && USER_NAMES
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|n| n.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_disjoint() {
        for list in [SECRET_NAMES, NOT_SECRET_NAMES] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        assert!(SECRET_IN_MENU.windows(2).all(|w| w[0] < w[1]));
        for name in SECRET_NAMES {
            assert!(!NOT_SECRET_NAMES.contains(name), "{name}");
        }
    }

    #[test]
    fn the_issue_examples_are_classified() {
        for key in [
            "password",
            "new-password",
            "eap-password",
            "authentication-password",
            "ipsec-secret",
            "otp-secret",
            "private-key",
            "preshared-key",
            "nv2-preshared-key",
            "private-pre-shared-key",
            "passphrase",
            "key-passphrase",
            "auth-key",
            "tcp-md5-key",
            "encryption-key",
            "key-val",
            "management-protection-key",
            "security.passphrase",
        ] {
            assert_eq!(
                classify(Some(b"/x/add"), key.as_bytes()),
                Classification::Secret,
                "{key}"
            );
        }
        for key in [
            "key-size",
            "key-usage",
            "public-key",
            "password-length",
            "minimum-password-length",
            "name",
        ] {
            assert!(!is_secret(Some(b"/x/add"), key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn menu_specific_names_follow_the_path() {
        assert!(is_secret(Some(b"/system/script/add"), b"source"));
        assert!(is_secret(Some(b"/system/script"), b"source"));
        assert!(is_secret(Some(b"/system/scheduler/set"), b"on-event"));
        assert!(!is_secret(Some(b"/routing/igmp-proxy/mfc/add"), b"source"));
        assert!(!is_secret(
            Some(b"/system/script/environment/foo/set"),
            b"source"
        ));
        assert!(is_secret(None, b"source"), "an unknown menu fails closed");
        assert!(is_secret(Some(b"/login"), b"response"));
        assert!(!is_secret(Some(b"/tool/fetch"), b"response"));
        assert!(is_secret(Some(b"/tool/dns-update"), b"key"));
        assert!(!is_secret(Some(b"/user/ssh-keys/add"), b"key"));
    }

    #[test]
    fn an_unknown_secret_looking_name_is_redacted() {
        assert_eq!(classify(None, b"new-vpn-psk"), Classification::Unclassified);
        assert!(is_secret(None, b"api-key"));
        assert!(!is_secret(None, b"keepalive"));
    }

    #[test]
    fn words_keep_their_key() {
        let path = Some(&b"/interface/wireguard/add"[..]);
        assert_eq!(
            &*redact_word(path, b"=private-key=abc"),
            b"=private-key=<redacted>"
        );
        assert_eq!(
            &*redact_word(path, b"?private-key=abc"),
            b"?private-key=<redacted>"
        );
        assert_eq!(
            &*redact_word(path, b"?=private-key=abc"),
            b"?=private-key=<redacted>"
        );
        assert_eq!(&*redact_word(path, b"=name=wg0"), b"=name=wg0");
        assert_eq!(
            &*redact_word(path, b"/interface/wireguard/add"),
            b"/interface/wireguard/add"
        );
    }

    #[test]
    fn sentences_replies_and_reply_errors_hide_secrets() {
        use crate::{CommandResponse, Sentence};
        let command = Sentence::from_words(["/system/script/add", "=source=pw123", "=name=s"]);
        let shown = format!("{command:?}");
        assert!(
            !shown.contains("pw123") && shown.contains("=name=s"),
            "{shown}"
        );
        let tag = ".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11";
        let row = Sentence::from_words(["!re", "=preshared-key=pw123", "=name=p", tag]);
        let shown = format!("{:?}", CommandResponse::parse(row).unwrap());
        assert!(
            !shown.contains("pw123") && shown.contains("\"p\""),
            "{shown}"
        );
        // A sentence without a reply word quotes its first word in the error.
        let bad = Sentence::from_words(["=private-key=pw123", tag]);
        let error = CommandResponse::parse(bad).unwrap_err();
        let shown = format!("{} {error:?}", error.error);
        assert!(
            !shown.contains("pw123") && shown.contains("private-key"),
            "{shown}"
        );
    }

    #[test]
    fn a_ret_is_judged_by_its_command() {
        let get = |name: &str| {
            let value_name = format!("=value-name={name}");
            ret_is_secret([
                &b"/interface/wireguard/get"[..],
                b"=number=wg0",
                value_name.as_bytes(),
            ])
        };
        assert!(get("private-key"));
        assert!(get("Private-Key"));
        assert!(!get("public-key"));
        assert!(!ret_is_secret([
            &b"/ip/address/add"[..],
            b"=value-name=password"
        ]));
        assert!(ret_may_be_shown(b"*1A") && ret_may_be_shown(b"42"));
        assert!(!ret_may_be_shown(b"WgKey=") && !ret_may_be_shown(b"*"));
        assert!(!ret_may_be_shown(b"a1b2c3"), "a hex key");
        assert_eq!(&*redact_word(None, b"=ret=WgKey="), b"=ret=<redacted>");
        assert_eq!(&*redact_word(None, b"=ret=*1A"), b"=ret=*1A");
        let shown = format!(
            "{:?}",
            crate::Sentence::from_words(["!done", "=ret=WgKey="])
        );
        assert!(!shown.contains("WgKey"), "{shown}");
    }

    #[test]
    fn keys_in_any_case_and_queries_with_operators_are_classified() {
        assert!(is_secret(Some(b"/x/add"), b"PASSWORD"));
        assert!(is_secret(Some(b"/system/script/add"), b"Source"));
        for word in [
            &b"?>source=x"[..],
            b"?<source=x",
            b"?-source=x",
            b"?=source=x",
        ] {
            assert_eq!(
                &*redact_word(Some(b"/system/script/print"), word),
                [&word[..word.len() - 1], REDACTED].concat(),
            );
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn added_names_are_secret_everywhere() {
        assert!(!is_secret(None, b"my-own-thing"));
        add_secret_name("my-own-thing");
        assert!(is_secret(Some(b"/ip/address/add"), b"my-own-thing"));
    }
}
