//! Whether a certificate on the router can serve API-SSL, and how it
//! differs from what the options ask for.

use super::options::BootstrapOptions;
use super::outcome::OptionDifference;
use crate::protocol::ReplyResponse;

/// The key usage of the certificates the bootstrap makes: a server
/// certificate, not a CA. Without `key-cert-sign`, RouterOS does not mark it
/// as an authority, so CA verification accepts it as the router's own.
pub(super) const KEY_USAGE: &str = "digital-signature,key-encipherment,tls-server";

/// Why the signed certificate `row` cannot serve API-SSL; `None` when it can.
pub(super) fn unfit_reason(row: &ReplyResponse, allow_ca: bool) -> Option<String> {
    let flag = |key: &str| row.get(key).is_some_and(is_true);
    if !flag("private-key") {
        return Some("the router holds no private key for it, so no service can present it".into());
    }
    if flag("expired") {
        return Some("it has expired".into());
    }
    if flag("revoked") {
        return Some("it is revoked".into());
    }
    let usage = row.get("key-usage");
    if let Some(usage) = usage
        && !usage.is_empty()
        && !has_usage(usage, "tls-server")
    {
        return Some(format!(
            "its key usage ({usage}) does not include tls-server: CA verification refuses \
             it as not meant for a TLS server"
        ));
    }
    // RouterOS's default usage (an empty or absent `key-usage`) has key-cert-sign.
    let ca =
        flag("authority") || usage.is_none_or(|u| u.is_empty() || has_usage(u, "key-cert-sign"));
    if ca && !allow_ca {
        return Some(
            "it is a CA certificate (key-cert-sign): CA verification refuses a CA presented as \
             the router's own certificate (BootstrapOptions::allow_ca to accept one)"
                .into(),
        );
    }
    None
}

/// The options given explicitly that differ from the certificate `row`.
pub(super) fn differences(
    row: &ReplyResponse,
    options: &BootstrapOptions,
) -> Vec<OptionDifference> {
    let days = options.days_valid.map(|d| d.to_string());
    let wanted = [
        ("common-name", options.common_name.as_deref()),
        ("subject-alt-name", options.subject_alt_name.as_deref()),
        ("key-size", options.key_size.as_deref()),
        ("days-valid", days.as_deref()),
    ];
    wanted
        .into_iter()
        .filter_map(|(attribute, wanted)| {
            let wanted = wanted?;
            let found = row.get(attribute).unwrap_or_default();
            (found != wanted).then(|| OptionDifference {
                attribute,
                wanted: wanted.to_owned(),
                found: found.to_owned(),
            })
        })
        .collect()
}

/// Whether the unsigned template `row` is the one these options would add
/// (defaults included): then it is this bootstrap's, left by an
/// interrupted run or being made by a concurrent one, and is signed as it
/// is; otherwise it is removed and made again. Attributes the row does not
/// show are not compared.
pub(super) fn template_matches(row: &ReplyResponse, options: &BootstrapOptions) -> bool {
    let days = options.effective_days_valid().to_string();
    let wanted = [
        ("common-name", options.effective_common_name()),
        (
            "subject-alt-name",
            options.subject_alt_name.as_deref().unwrap_or(""),
        ),
        ("key-size", options.effective_key_size()),
        ("days-valid", &days),
        ("key-usage", KEY_USAGE),
    ];
    wanted
        .into_iter()
        .all(|(attribute, wanted)| row.get(attribute).is_none_or(|found| found == wanted))
}

fn has_usage(usage: &str, wanted: &str) -> bool {
    usage.split(',').any(|u| u.trim() == wanted)
}

pub(super) fn is_true(value: &str) -> bool {
    matches!(value, "true" | "yes")
}
