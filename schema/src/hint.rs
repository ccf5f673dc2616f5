//! Whether a literal value fits an argument's type hint, for the hints that are
//! exact enough to reject a value: addresses, time intervals with their range,
//! enumerations, string lengths, the one numeric range. Every other hint accepts
//! anything. The rule is "never reject a value a real router takes": where routers
//! are known to accept more than the hint says (`address=192.168.88.1/24` under
//! `A.B.C.D (IP address)`, lists such as `dns-server=8.8.8.8,1.1.1.1`, `!` negations
//! in firewall matchers), the check accepts it too, and where unsure, it accepts:
//! an address hint judges only values made of digits and separators (a word may be
//! a pool or interface name, or a keyword), a time interval is judged only by its
//! range, an empty value never.

/// Whether `value` may be what the hint asks for.
pub(crate) fn accepts(hint: &str, value: &str) -> bool {
    if value.is_empty() {
        // An empty value often unsets a property; routers decide.
        return true;
    }
    if let Some(range) = hint.strip_suffix(" (time interval)") {
        return time_in_range(range, value);
    }
    if hint.ends_with("(IP address)") || hint == "A.B.C.D/M (IP prefix)" {
        // Only what is plainly meant as IPv4 is judged: digits and `.`, `/`, `-`,
        // `,` (many take lists: `dns-server=8.8.8.8,1.1.1.1`) and `!`. Words (a
        // pool, `none`, `auto`) and IPv6 are left to the router.
        if !value
            .bytes()
            .all(|b| b.is_ascii_digit() || b".,/-!".contains(&b))
        {
            return true;
        }
        return value.split(',').all(ip_like);
    }
    if hint.ends_with("(MAC address)") {
        // Likewise only hexadecimal digits with separators, one or a list.
        if !value
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b":-.,".contains(&b))
        {
            return true;
        }
        return value.split(',').all(mac_like);
    }
    if hint == "0..4294967295" {
        return value
            .parse::<i128>()
            .map_or(true, |number| (0..=4_294_967_295).contains(&number));
    }
    if let Some(lengths) = hint.strip_prefix("string value, ") {
        return length_fits(lengths, value);
    }
    if let Some(lengths) = hint.strip_prefix("hexadecimal string value, ") {
        return hex_length_fits(lengths, value);
    }
    // `ends_with` first: it is cheaper than the search, and most hints fail it.
    if hint.ends_with("*]")
        && let Some((choices, _)) = hint.split_once("[,")
        && !choices.contains(' ')
    {
        let choices: Vec<&str> = choices.split('|').collect();
        // `!` negates an item in firewall matchers (`tcp-flags=syn,!ack`).
        return value
            .split(',')
            .all(|item| choices.contains(&item.strip_prefix('!').unwrap_or(item)));
    }
    true
}

/// IPv4 (`A.B.C.D`, with an optional `/prefix`, `/mask` or `-A.B.C.D` range, and an
/// optional leading `!`).
fn ip_like(value: &str) -> bool {
    let value = value.strip_prefix('!').unwrap_or(value);
    let (address, rest) = match value.find(['/', '-']) {
        Some(at) => (&value[..at], Some(&value[at + 1..])),
        None => (value, None),
    };
    ipv4(address)
        && rest.is_none_or(|rest| ipv4(rest) || rest.parse::<u8>().is_ok_and(|length| length <= 32))
}

fn ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.len() <= 3 && part.parse::<u8>().is_ok())
}

/// Six hexadecimal pairs with `:`, `-` or `.` between them or none.
fn mac_like(value: &str) -> bool {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    digits.len() == 12 && digits.chars().all(|c| c.is_ascii_hexdigit())
}

/// `min length 1, max length 255` and friends. A value longer than `max` characters
/// is too long in any encoding; one shorter than `min` bytes is too short.
fn length_fits(lengths: &str, value: &str) -> bool {
    lengths.split(", ").all(|part| {
        if let Some(max) = part.strip_prefix("max length ") {
            max.parse::<usize>()
                .map_or(true, |max| value.chars().count() <= max)
        } else if let Some(min) = part.strip_prefix("min length ") {
            min.parse::<usize>().map_or(true, |min| value.len() >= min)
        } else {
            true
        }
    })
}

/// `hexadecimal string value, max length 16` counts BYTES, written as two hexadecimal
/// digits each: MikroTik's MACsec manual shows a router printing `cak=` of 32 digits
/// under `max length 16`. So a value of `2 × max` digits fits. Whether `min length`
/// counts bytes or digits is not documented: a value is refused only if it is too
/// short either way (fewer digits than `min`). A value that is not plain hexadecimal
/// digits (separators, a word) is left to the router.
fn hex_length_fits(lengths: &str, value: &str) -> bool {
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    let digits = value.len();
    lengths.split(", ").all(|part| {
        if let Some(max) = part.strip_prefix("max length ") {
            max.parse::<usize>()
                .map_or(true, |max| digits.div_ceil(2) <= max)
        } else if let Some(min) = part.strip_prefix("min length ") {
            min.parse::<usize>().map_or(true, |min| digits >= min)
        } else {
            true
        }
    })
}

/// A time interval within `FROM..TO` (either end may be missing). A value that does
/// not parse as a time interval is left to the router (some take words too).
fn time_in_range(range: &str, value: &str) -> bool {
    let Some((from, to)) = range.split_once("..") else {
        return true;
    };
    let Some(value) = duration(value) else {
        return true;
    };
    let from_ok = from.is_empty() || duration(from).is_none_or(|from| value >= from);
    let to_ok = to.is_empty() || duration(to).is_none_or(|to| value <= to);
    from_ok && to_ok
}

/// A RouterOS time interval in nanoseconds: `1w2d3h4m5s6ms`, `00:00:00.020`,
/// `3d00:10:00`, a plain number of seconds, each with an optional `-`.
pub(crate) fn duration(text: &str) -> Option<i128> {
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    if text.is_empty() {
        return None;
    }
    const SECOND: i128 = 1_000_000_000;
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(sign * text.parse::<i128>().ok()? * SECOND);
    }
    let mut total: i128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let after = &rest[digits..];
        if after.starts_with(':') {
            // The clock part ends the text: h:m:s with an optional fraction.
            let fields: Vec<&str> = rest.split(':').collect();
            let [hours, minutes, seconds] = fields.as_slice() else {
                return None;
            };
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos: i128 = if fraction.is_empty() {
                0
            } else {
                format!("{fraction:0<9}").parse().ok()?
            };
            total += hours.parse::<i128>().ok()? * 3600 * SECOND
                + minutes.parse::<i128>().ok()? * 60 * SECOND
                + whole.parse::<i128>().ok()? * SECOND
                + nanos;
            return Some(sign * total);
        }
        let number: i128 = rest[..digits].parse().ok()?;
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &after[..unit_len] {
            "w" => 7 * 24 * 3600 * SECOND,
            "d" => 24 * 3600 * SECOND,
            "h" => 3600 * SECOND,
            "m" => 60 * SECOND,
            "s" => SECOND,
            "ms" => 1_000_000,
            "us" => 1_000,
            "ns" => 1,
            _ => return None,
        };
        total += number * unit;
        rest = &after[unit_len..];
    }
    Some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_routers_take_them() {
        let ip = "A.B.C.D (IP address)";
        for good in [
            "192.168.88.1",
            "192.168.88.1/24",
            "10.0.0.1-10.0.0.9",
            "!10.0.0.0/8",
            "::1",
            "fe80::1%ether1",
            "",
            "8.8.8.8,1.1.1.1",
            "pool1",
            "auto",
        ] {
            assert!(accepts(ip, good), "{good}");
        }
        for bad in [
            "192.168.88",
            "192.168.88.256",
            "1.2.3.4/33",
            "8.8.8.8,1.1.1",
        ] {
            assert!(!accepts(ip, bad), "{bad}");
        }
        // `dns-server` and `wins-server` of `/ppp/profile` take two addresses.
        assert!(accepts(ip, "1.1.1.1,9.9.9.9"));
        assert!(accepts("none | A.B.C.D (IP address)", "none"));
        let mac = "AB[:|-|.]CD[:|-|.]EF[:|-|.]GH[:|-|.]IJ[:|-|.]KL (MAC address)";
        for good in [
            "00:0C:42:00:00:01",
            "000c.4200.0001",
            "00-0c-42-00-00-01",
            "000C42000001",
            "00:0C:42:00:00:01/FF:FF:FF:00:00:00",
            "00:0C:42:00:00:01,00:0C:42:00:00:02",
            "any",
        ] {
            assert!(accepts(mac, good), "{good}");
        }
        assert!(!accepts(mac, "00:0C:42:00:00"));
        assert!(!accepts(mac, "00:0C:42:00:00:0"));
        assert!(!accepts(mac, "00:0C:42:00:00:01,00"));
    }

    #[test]
    fn time_intervals_and_their_range() {
        assert_eq!(
            duration("1w2d3h4m5s6ms"),
            Some(((((7 + 2) * 24 + 3) * 60 + 4) * 60 + 5) * 1_000_000_000 + 6_000_000)
        );
        assert_eq!(duration("00:00:00.020"), Some(20_000_000));
        assert_eq!(
            duration("3d00:10:00"),
            Some((3 * 86_400 + 600) * 1_000_000_000)
        );
        assert_eq!(duration("30"), Some(30_000_000_000));
        assert_eq!(duration("-1s"), Some(-1_000_000_000));
        assert_eq!(duration("soon"), None);
        let hint = "00:00:00.020..00:00:30 (time interval)";
        assert!(accepts(hint, "10s") && accepts(hint, "20ms") && accepts(hint, "00:00:30"));
        assert!(!accepts(hint, "31s") && !accepts(hint, "10ms"));
        assert!(accepts("00:00:00.200.. (time interval)", "1w"));
        assert!(!accepts("..1h (time interval)", "2h"));
        assert!(accepts("time interval", "whenever"));
    }

    #[test]
    fn enumerations_lengths_numbers() {
        let hint = "pap|chap|mschap1|mschap2[,Authentication*]";
        assert!(accepts(hint, "pap") && accepts(hint, "pap,chap"));
        let flags = "fin|syn|rst|psh|ack|urg|ece|cwr|ns|res0|res1|res2[,Flags*]";
        assert!(accepts(flags, "syn,!ack") && !accepts(flags, "syn,!acks"));
        assert!(!accepts(hint, "pap,chop"));
        let hint = "string value, min length 1, max length 3";
        assert!(accepts(hint, "abc") && !accepts(hint, "abcd"));
        assert!(!accepts(
            "string value, min length 8, max length 63",
            "short"
        ));
        assert!(accepts("0..4294967295", "42") && !accepts("0..4294967295", "-1"));
        assert!(!accepts("0..4294967295", "4294967296"));
        assert!(accepts("string value", "anything at all"));
        assert!(accepts("hexadecimal string value", "00ff"));
        assert!(accepts("see documentation", "x"));
    }

    /// `max length N` of a hexadecimal hint counts bytes (two digits each), as the
    /// MACsec manual's own 32-digit CAK under `max length 16` shows; `min length` is
    /// read leniently (digits), and anything not plain hexadecimal is the router's.
    #[test]
    fn hexadecimal_lengths_count_bytes_and_refuse_only_what_is_too_long_either_way() {
        let cak = "hexadecimal string value, max length 16";
        assert!(accepts(cak, "71a7c363794da400dbde595d3926b0e9"));
        assert!(accepts(cak, "71a7c363794da400dbde595d3926b0e")); // 31 digits
        assert!(!accepts(cak, "71a7c363794da400dbde595d3926b0e900"));
        let ckn = "hexadecimal string value, max length 32";
        assert!(accepts(ckn, &"ab".repeat(32)) && !accepts(ckn, &"ab".repeat(33)));
        let psk = "hexadecimal string value, min length 128";
        assert!(accepts(psk, &"0".repeat(128)) && accepts(psk, &"0".repeat(256)));
        assert!(!accepts(psk, &"0".repeat(127)));
        // Not plain hexadecimal digits: left to the router.
        assert!(accepts(cak, &"71:a7".repeat(20)));
        assert!(accepts(psk, "short"));
    }
}
