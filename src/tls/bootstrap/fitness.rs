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
/// show are not compared, except the names: none shown means none.
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
        .all(|(attribute, wanted)| match row.get(attribute) {
            Some(found) => found == wanted,
            // A template without names shows none; one without the rest shows defaults.
            None => attribute != "subject-alt-name" || wanted.is_empty(),
        })
}

fn has_usage(usage: &str, wanted: &str) -> bool {
    usage.split(',').any(|u| u.trim() == wanted)
}

pub(super) fn is_true(value: &str) -> bool {
    matches!(value, "true" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{CommandResponse, Sentence};

    fn row(attributes: &[(&str, &str)]) -> ReplyResponse {
        let mut words: Vec<Vec<u8>> = vec![b"!re".to_vec()];
        for (key, value) in attributes {
            words.push(format!("={key}={value}").into_bytes());
        }
        words.push(b".tag=0b9d9a3c-6f0e-4a55-9a3e-2d9a0c6a1f11".to_vec());
        match CommandResponse::parse(Sentence::from_words(words)).unwrap() {
            CommandResponse::Reply(reply) => reply,
            other => panic!("{other:?}"),
        }
    }

    const FIT: &[(&str, &str)] = &[
        ("private-key", "true"),
        ("expired", "false"),
        ("revoked", "false"),
        ("authority", "false"),
        ("key-usage", KEY_USAGE),
    ];

    fn with(changes: &[(&'static str, &'static str)]) -> ReplyResponse {
        let mut attributes: Vec<(&str, &str)> = FIT
            .iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .copied()
            .collect();
        attributes.extend_from_slice(changes);
        row(&attributes)
    }

    #[test]
    fn only_a_server_certificate_with_its_key_valid_now_is_fit() {
        assert_eq!(unfit_reason(&row(FIT), false), None);
        assert_eq!(unfit_reason(&with(&[("private-key", "yes")]), false), None);
        let cases = [
            (with(&[("private-key", "false")]), "private key"),
            (with(&[("expired", "true")]), "expired"),
            (with(&[("revoked", "yes")]), "revoked"),
            (
                with(&[("key-usage", "digital-signature,tls-client")]),
                "tls-server",
            ),
            (with(&[("authority", "true")]), "CA"),
            (with(&[("key-usage", "key-cert-sign,tls-server")]), "CA"),
            // RouterOS's default usage (none given) makes a CA.
            (row(&[("private-key", "true")]), "CA"),
        ];
        for (row, why) in cases {
            let reason = unfit_reason(&row, false).unwrap_or_default();
            assert!(reason.contains(why), "{row:?}: {reason:?}");
        }
        assert_eq!(unfit_reason(&with(&[("authority", "true")]), true), None);
    }

    #[test]
    fn only_explicit_options_are_differences() {
        let certificate = row(&[("common-name", "router"), ("days-valid", "3650")]);
        assert!(differences(&certificate, &BootstrapOptions::new()).is_empty());
        let options = BootstrapOptions::new()
            .common_name("router")
            .days_valid(30)
            .subject_alt_name("IP:10.0.0.1");
        let found = differences(&certificate, &options);
        let pairs: Vec<_> = found
            .iter()
            .map(|d| (d.attribute, d.wanted.as_str(), d.found.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("subject-alt-name", "IP:10.0.0.1", ""),
                ("days-valid", "30", "3650")
            ]
        );
    }

    #[test]
    fn a_template_is_the_bootstraps_only_with_the_options_it_would_add() {
        let name = super::super::DEFAULT_CERTIFICATE_NAME;
        let template = row(&[
            ("name", name),
            ("common-name", name),
            ("key-size", "prime256v1"),
            ("days-valid", "3650"),
            ("key-usage", KEY_USAGE),
        ]);
        assert!(template_matches(&template, &BootstrapOptions::new()));
        assert!(!template_matches(
            &template,
            &BootstrapOptions::new().days_valid(7)
        ));
        assert!(!template_matches(
            &template,
            &BootstrapOptions::new().subject_alt_name("IP:10.0.0.1")
        ));
        let refused = row(&[("common-name", name), ("subject-alt-name", "IP:nope")]);
        assert!(!template_matches(&refused, &BootstrapOptions::new()));
        let ca = row(&[("common-name", name), ("key-usage", "key-cert-sign")]);
        assert!(!template_matches(&ca, &BootstrapOptions::new()));
    }
}
