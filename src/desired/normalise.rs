//! How two values of one field compare: as the router normalises them, so a
//! plan never "changes" `yes` into `true` or `1d` into `24h`.
//!
//! The rules, applied to both sides before comparing (see [`same_value`]):
//! 1. **Booleans**: `yes` and `true` are one value, `no` and `false` another
//!    (RouterOS 7 prints `true`/`false`, RouterOS 6 `yes`/`no`, both accept either).
//! 2. **Durations**: two values that both read as a RouterOS duration
//!    ([`parse_duration`]: `1d`, `24h`, `1d00:00:00`, `86400`) are equal
//!    when the durations are; RouterOS prints a duration in its own form.
//! 3. **Addresses** as RouterOS prints them: `10.0.0.1/32` is `10.0.0.1`,
//!    and `2001:db8::1/128` is `2001:db8::1` (a single host is printed
//!    without its prefix); `2001:DB8:0::1` is `2001:db8::1` (IPv6 compressed,
//!    lower case); `aa:bb:cc:dd:ee:ff` is `AA:BB:CC:DD:EE:FF` (MACs upper case).
//! 4. **Unset**: a field the router does not print equals the empty value
//!    (setting a field to empty unsets it).
//!
//! Free text is never reinterpreted: `name`, `comment`, `list` and every
//! secret (a password `yes` is not a password `true`), and any field whose
//! value is not one of the forms above, compare byte for byte. Identity keys
//! are names, not quantities: they compare byte for byte but for rule 3
//! (`canonical_key`), so a list `1d` is never the list `24h`.

use std::borrow::Cow;

use crate::api::parse_duration;
use crate::protocol::secrets::is_secret;

/// Fields whose values are free text: compared exactly, never as booleans or durations.
const FREE_TEXT: [&str; 3] = ["name", "comment", "list"];

/// Whether `field` holds text to compare byte for byte (a name, a comment, a secret).
fn is_text(field: &str) -> bool {
    FREE_TEXT.contains(&field) || is_secret(None, field.as_bytes())
}

/// The canonical form of an identity key's value: only a single-host prefix
/// is dropped (`10.0.0.1/32` is `10.0.0.1`); names are never read as
/// booleans or durations.
pub(crate) fn canonical_key(value: &str) -> Cow<'_, str> {
    address(value).unwrap_or(Cow::Borrowed(value))
}

/// An item's identity as one hashable key: the canonical value of each key
/// field (`value` gives it; `None` counts as empty), each preceded by its
/// length so that no two identities run together.
pub(crate) fn identity<'v>(
    keys: &[String],
    mut value: impl FnMut(&str) -> Option<Cow<'v, str>>,
) -> Vec<u8> {
    let mut identity = Vec::with_capacity(keys.len() * 24);
    write_identity(&mut identity, keys, |_, key| value(key));
    identity
}

/// [`identity`] written into `out` (cleared first), so that a plan reading
/// 10,000 rows reuses one buffer; `value` gets each key with its position.
pub(crate) fn write_identity<'v>(
    out: &mut Vec<u8>,
    keys: &[String],
    mut value: impl FnMut(usize, &str) -> Option<Cow<'v, str>>,
) {
    out.clear();
    for (at, key) in keys.iter().enumerate() {
        let value = value(at, key).unwrap_or_default();
        let canonical = canonical_key(&value);
        let length = u32::try_from(canonical.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(canonical.as_bytes());
    }
}

/// The form RouterOS prints an address in, when `value` is one: an IP
/// address (with a prefix, dropped when it names a single host) as Rust
/// prints it (IPv6 compressed, lower case), a MAC address in upper case.
/// `None` for anything else, and for a value without `:` or `/` (an IPv4
/// address without a prefix stays as written, so it needs no answer).
///
/// Called for every key of every item and row of a plan, so a value already
/// in that form (the usual case) is returned borrowed, without formatting:
/// Rust's IPv4 parser refuses leading zeros and signs, so a parsed IPv4
/// address is written as Rust would print it.
fn address(value: &str) -> Option<Cow<'_, str>> {
    // Names, comments and most other values fail here, at little cost.
    let address_bytes = |b: &u8| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/');
    if value.is_empty() || !value.as_bytes().iter().all(address_bytes) {
        return None;
    }
    // Without `:` or `/` a value is no MAC, no IPv6 address and has no
    // prefix: as an IPv4 address it is printed as written, and anything else
    // is no address. Either way it stays as it is, without parsing it.
    if !value.bytes().any(|b| b == b':' || b == b'/') {
        return None;
    }
    parsed_address(value)
}

/// [`address`] without its shortcuts: `value` parsed as a MAC or an IP
/// address (with a prefix).
fn parsed_address(value: &str) -> Option<Cow<'_, str>> {
    if let Some(mac) = mac_address(value) {
        return Some(mac);
    }
    let (host, prefix) = match value.split_once('/') {
        Some((host, prefix)) => (host, Some(prefix)),
        None => (value, None),
    };
    let ip = host.parse::<std::net::IpAddr>().ok()?;
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match prefix {
        None => None,
        // `u8::from_str` takes a `+`: a prefix is digits only.
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u8>().ok().filter(|&bits| bits <= width)?)
        }
        Some(_) => return None,
    };
    match (bits, prefix) {
        (None, _) => Some(host_form(ip, host)),
        (Some(bits), _) if bits == width => Some(host_form(ip, host)),
        (Some(bits), Some(written)) => Some(match host_form(ip, host) {
            // `/024` is `/24`.
            Cow::Borrowed(_) if written.len() == 1 || !written.starts_with('0') => {
                Cow::Borrowed(value)
            }
            host => Cow::Owned(format!("{host}/{bits}")),
        }),
        (Some(_), None) => None,
    }
}

/// `host` (which parsed as `ip`) as Rust prints `ip`: IPv4 as written.
fn host_form(ip: std::net::IpAddr, host: &str) -> Cow<'_, str> {
    if ip.is_ipv4() {
        return Cow::Borrowed(host);
    }
    let printed = ip.to_string();
    if printed == host {
        Cow::Borrowed(host)
    } else {
        Cow::Owned(printed)
    }
}

/// A MAC address (`aa:bb:cc:dd:ee:ff`) in upper case, as RouterOS prints it.
fn mac_address(value: &str) -> Option<Cow<'_, str>> {
    let bytes = value.as_bytes();
    let mac = bytes.len() == 17
        && bytes.iter().enumerate().all(|(at, &b)| {
            if at % 3 == 2 {
                b == b':'
            } else {
                b.is_ascii_hexdigit()
            }
        });
    if !mac {
        return None;
    }
    Some(if bytes.iter().any(u8::is_ascii_lowercase) {
        Cow::Owned(value.to_ascii_uppercase())
    } else {
        Cow::Borrowed(value)
    })
}

/// The canonical form of `value` of `field`: equal canonical forms mean the
/// router holds the same value.
pub(crate) fn canonical<'a>(field: &str, value: &'a str) -> Cow<'a, str> {
    if is_text(field) {
        return Cow::Borrowed(value);
    }
    match value {
        "yes" | "true" => return Cow::Borrowed("true"),
        "no" | "false" => return Cow::Borrowed("false"),
        _ => {}
    }
    if let Some(address) = address(value) {
        return address;
    }
    // A duration has a digit first; a bare number is kept as it is (a count
    // is not a number of seconds), unless the other side shows units.
    if looks_like_duration(value)
        && let Ok(duration) = parse_duration(value)
    {
        return Cow::Owned(format!("{}ns", duration.as_nanos()));
    }
    Cow::Borrowed(value)
}

/// Whether the router's `current` value (`None`: not printed) and the
/// `desired` one of `field` are the same value, by the rules of this module.
pub fn same_value(field: &str, current: Option<&str>, desired: &str) -> bool {
    let current = current.unwrap_or("");
    if current == desired {
        return true;
    }
    let (a, b) = (canonical(field, current), canonical(field, desired));
    if a == b {
        return true;
    }
    // A bare number of seconds against a duration with units (`86400` / `1d`).
    let bare = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    if (bare(current) || bare(desired))
        && !is_text(field)
        && (looks_like_duration(current) || looks_like_duration(desired))
        && let (Ok(x), Ok(y)) = (parse_duration(current), parse_duration(desired))
    {
        return x == y && (!bare(current) || !bare(desired));
    }
    false
}

/// Whether `value` may be a duration with units (`1d`, `00:01:02`, `1.5s`):
/// a cheap test that keeps addresses and names away from the parser.
fn looks_like_duration(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_digit())
        && value
            .bytes()
            .any(|b| matches!(b, b'w' | b'd' | b'h' | b'm' | b's' | b':'))
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b".:wdhmsun".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::same_value;
    use proptest::prelude::*;

    /// Values an address shortcut could misjudge: dotted numbers (IPv4 or
    /// not, with leading zeros, with a prefix or not), durations, and
    /// anything made of address and duration bytes.
    fn address_like() -> impl Strategy<Value = String> {
        // Mostly four numbers an IPv4 address takes, sometimes not.
        let parts = prop_oneof![
            4 => proptest::collection::vec(0..256u16, 4),
            1 => proptest::collection::vec(0..300u16, 1..6),
        ];
        let dotted = (parts, 0..8u8).prop_map(|(parts, zero)| {
            let parts: Vec<String> = parts
                .iter()
                .map(|p| {
                    if zero == 0 {
                        format!("0{p}")
                    } else {
                        p.to_string()
                    }
                })
                .collect();
            parts.join(".")
        });
        let prefix = proptest::sample::select(vec!["0", "8", "24", "32", "032", "33", "+24", ""]);
        prop_oneof![
            dotted.clone(),
            (dotted, prefix).prop_map(|(host, bits)| format!("{host}/{bits}")),
            "[0-9a-fA-F.:/+dhmswun x]{0,12}",
        ]
    }

    proptest! {
        /// `address` skips the parse for a value without `:` or `/`; where
        /// the parse would have said otherwise (an IPv4 address, printed as
        /// written), the canonical forms are still the same: it is no
        /// duration either, so `canonical` keeps it as written too.
        #[test]
        fn the_address_shortcut_changes_no_canonical_form(value in address_like()) {
            use super::{address, looks_like_duration, parsed_address};
            use std::borrow::Cow;
            let parsed = address_bytes_only(&value).then(|| parsed_address(&value)).flatten();
            let quick = address(&value);
            if quick != parsed {
                prop_assert_eq!(quick, None, "{}", value);
                prop_assert_eq!(parsed, Some(Cow::Borrowed(value.as_str())));
                prop_assert!(!looks_like_duration(&value), "{}", value);
            }
            for field in ["address", "timeout", "name"] {
                let before = match parsed_address_canonical(field, &value) {
                    Some(canonical) => canonical,
                    None => super::canonical(field, &value).into_owned(),
                };
                prop_assert_eq!(super::canonical(field, &value), before, "{} {}", field, value);
            }
        }
    }

    /// `address`'s first test: only the bytes an address is written with.
    fn address_bytes_only(value: &str) -> bool {
        !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'))
    }

    /// What `canonical` returned before the shortcut when the parse found
    /// an address (it returned the address right away); `None` otherwise.
    fn parsed_address_canonical(field: &str, value: &str) -> Option<String> {
        if super::is_text(field) || matches!(value, "yes" | "true" | "no" | "false") {
            return None;
        }
        address_bytes_only(value)
            .then(|| super::parsed_address(value))
            .flatten()
            .map(std::borrow::Cow::into_owned)
    }

    #[test]
    fn booleans() {
        assert!(same_value("disabled", Some("true"), "yes"));
        assert!(same_value("disabled", Some("no"), "false"));
        assert!(!same_value("disabled", Some("true"), "no"));
        assert!(
            !same_value("comment", Some("true"), "yes"),
            "free text stays text"
        );
    }

    #[test]
    fn durations() {
        assert!(same_value("timeout", Some("1d"), "24h"));
        assert!(same_value("timeout", Some("1d00:00:00"), "1d"));
        assert!(same_value("timeout", Some("1m"), "60"));
        assert!(same_value("timeout", Some("60"), "1m"));
        assert!(!same_value("timeout", Some("1d"), "23h"));
        assert!(
            !same_value("priority", Some("10"), "010"),
            "counts stay numbers"
        );
        assert!(!same_value("comment", Some("1d"), "24h"));
    }

    #[test]
    fn single_hosts() {
        assert!(same_value("address", Some("10.0.0.1"), "10.0.0.1/32"));
        assert!(same_value(
            "address",
            Some("2001:db8::1/128"),
            "2001:db8::1"
        ));
        assert!(!same_value("address", Some("10.0.0.1"), "10.0.0.1/24"));
        assert!(!same_value("address", Some("10.0.0.0/24"), "10.0.0.0/32"));
        assert!(!same_value("address", Some("10.0.0.0/24"), "10.0.0.0/25"));
        assert!(same_value(
            "address",
            Some("2001:db8::/32"),
            "2001:DB8:0::/32"
        ));
        assert!(!same_value("address", Some("10.0.0.1/33"), "10.0.0.1"));
        assert!(same_value(
            "mac-address",
            Some("AA:BB:CC:DD:EE:FF"),
            "aa:bb:cc:dd:ee:ff"
        ));
        assert!(!same_value(
            "comment",
            Some("AA:BB:CC:DD:EE:FF"),
            "aa:bb:cc:dd:ee:ff"
        ));
    }

    #[test]
    fn keys_keep_the_form_they_are_written_in_unless_the_router_prints_it_otherwise() {
        use super::canonical_key;
        use std::borrow::Cow;
        for (written, printed) in [
            ("10.0.0.1", "10.0.0.1"),
            ("10.0.0.1/32", "10.0.0.1"),
            ("10.0.0.0/24", "10.0.0.0/24"),
            ("10.0.0.0/024", "10.0.0.0/24"),
            ("2001:DB8:0::1/128", "2001:db8::1"),
            ("2001:db8::/32", "2001:db8::/32"),
            ("aa:bb:cc:0d:ee:ff", "AA:BB:CC:0D:EE:FF"),
            ("bench", "bench"),
            ("1d", "1d"),
            ("10.0.0.1/33", "10.0.0.1/33"),
            ("10.0.0.1/+24", "10.0.0.1/+24"),
            ("", ""),
        ] {
            assert_eq!(canonical_key(written), printed, "{written}");
        }
        // The usual forms cost no allocation.
        for usual in [
            "10.0.0.1",
            "10.0.0.0/24",
            "2001:db8::1",
            "AA:BB:CC:DD:EE:FF",
            "bench",
        ] {
            assert!(matches!(canonical_key(usual), Cow::Borrowed(_)), "{usual}");
        }
    }

    #[test]
    fn unset_is_empty() {
        assert!(same_value("comment", None, ""));
        assert!(!same_value("comment", None, "x"));
    }
}
