//! The router's refusal of a value that breaks its argument's type hint.
//!
//! Whether a value breaks a hint is decided by `mikrotik-rs-schema`'s
//! `Argument::accepts` (the check `command!` runs at compile time, lenient where
//! routers accept more than the hint says); this file only picks the
//! router's words for the kind of hint that was broken.

use mikrotik_rs_schema::Argument;

use super::db::Refusal;
use super::words;

/// The kinds of hint whose refusal the router words differently.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// `AB[:|-|.]CD[:|-|.]… (MAC address)`.
    Mac,
    /// `0..4294967295`: a number in a range.
    Range { min: String, max: String },
    /// `pap|chap|mschap1[,Authentication*]`: a choice of words.
    Words,
    /// Addresses, time intervals, string lengths.
    Other,
}

fn kind(hint: &str) -> Kind {
    let hint = hint.trim();
    if hint.ends_with("(MAC address)") {
        return Kind::Mac;
    }
    if let Some((min, max)) = hint.split_once("..")
        && min.parse::<i128>().is_ok()
        && max.parse::<i128>().is_ok()
    {
        return Kind::Range {
            min: min.to_owned(),
            max: max.to_owned(),
        };
    }
    if hint.contains('|') && !hint.contains(' ') && !hint.contains("..") {
        return Kind::Words;
    }
    Kind::Other
}

/// Checks `value` of `argument` (named `name`); the router's words when the
/// hint refuses it.
pub(crate) fn check(argument: &Argument, name: &str, value: &[u8]) -> Result<(), Refusal> {
    // An argument not always hinted takes anything (`Argument::accepts`):
    // its value need not even be read as text.
    if !argument.always_hinted() {
        return Ok(());
    }
    // Bytes that are not text are not read.
    let Ok(text) = std::str::from_utf8(value) else {
        return Ok(());
    };
    // `check::value`'s test, with the argument the caller already found.
    if argument.accepts(text) {
        return Ok(());
    }
    let hint = argument.hints().first().copied().unwrap_or_default();
    Err(match kind(hint) {
        Kind::Mac => words::mac_address_required(name),
        Kind::Words => words::no_such_value(name),
        Kind::Range { min, max } if text.parse::<i128>().is_ok() => {
            words::out_of_range(name, &min, &max)
        }
        Kind::Range { .. } | Kind::Other => words::invalid_value(name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_told_apart_as_the_router_words_them() {
        let mac = "AB[:|-|.]CD[:|-|.]EF[:|-|.]GH[:|-|.]IJ[:|-|.]KL (MAC address)";
        assert_eq!(kind(mac), Kind::Mac);
        assert_eq!(
            kind("0..4294967295"),
            Kind::Range {
                min: "0".into(),
                max: "4294967295".into()
            }
        );
        assert_eq!(
            kind("pap|chap|mschap1|mschap2[,Authentication*]"),
            Kind::Words
        );
        assert_eq!(kind("A.B.C.D (IP address)"), Kind::Other);
        assert_eq!(kind("00:00:00.020..00:00:30 (time interval)"), Kind::Other);
        assert_eq!(kind("auto|0..100"), Kind::Other);
    }
}
