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
    match address(value) {
        Some(address) => Cow::Owned(address),
        None => Cow::Borrowed(value),
    }
}

/// The form RouterOS prints an address in, when `value` is one: an IP
/// address (with a prefix, dropped when it names a single host) as Rust
/// prints it (IPv6 compressed, lower case), a MAC address in upper case.
/// `None` for anything else.
fn address(value: &str) -> Option<String> {
    let (host, prefix) = match value.split_once('/') {
        Some((host, prefix)) => (host, Some(prefix)),
        None => (value, None),
    };
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let width = if ip.is_ipv4() { 32 } else { 128 };
        return match prefix.map(str::parse::<u8>) {
            None => Some(ip.to_string()),
            Some(Ok(bits)) if bits == width => Some(ip.to_string()),
            Some(Ok(bits)) if bits < width => Some(format!("{ip}/{bits}")),
            Some(_) => None,
        };
    }
    let groups: Vec<&str> = value.split(':').collect();
    let mac = prefix.is_none()
        && groups.len() == 6
        && groups
            .iter()
            .all(|g| g.len() == 2 && g.bytes().all(|b| b.is_ascii_hexdigit()));
    mac.then(|| value.to_ascii_uppercase())
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
        return Cow::Owned(address);
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
    fn unset_is_empty() {
        assert!(same_value("comment", None, ""));
        assert!(!same_value("comment", None, "x"));
    }
}
