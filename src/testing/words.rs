//! The router's own words for what it refuses, one function per message, each
//! with where the words were seen. Every trap the mock's menus send is built
//! here, so the wording lives in one place.

use std::borrow::Cow;

use super::db::Refusal;

/// An argument the command does not take.
///
/// RouterOS 7 names it: `unknown parameter src-address` (a RouterOS 7.18
/// router's answer quoted in terraform-routeros/terraform-provider-routeros
/// issue 679; the REST API passes the API's trap message on). RouterOS 6
/// does not: `unknown parameter` alone (GideonLeGrange/mikrotik-java issue 39
/// on 6.35.4, and terraform-provider-routeros issue 407 on 6.49.10). The
/// category is not documented; none is sent.
pub(crate) fn unknown_parameter(name: &str, v6: bool) -> Refusal {
    if v6 {
        (None, Cow::Borrowed("unknown parameter"))
    } else {
        (None, Cow::Owned(format!("unknown parameter {name}")))
    }
}

/// `add` without an argument the menu requires: `missing value(s) of
/// argument(s) <names>`. The words are the router's own, quoted from
/// RouterOS 7.20–7.24 script errors in public repositories (e.g. `missing
/// value(s) of argument(s) password` from `/system/backup/load`); the API
/// carries the same message in its `!trap` (no API capture with its
/// category is known: none is sent).
pub(crate) fn missing_arguments(names: &[&str]) -> Refusal {
    let message = format!("missing value(s) of argument(s) {}", names.join(" "));
    (None, Cow::Owned(message))
}

/// A value the argument's type does not take, e.g. `invalid value for
/// argument remote-address` for a `/ppp/secret` address that is not one,
/// with `=category=1` before the message (PHP clients that test these exact
/// words at the third word of the `!trap`, after the category).
pub(crate) fn invalid_value(name: &str) -> Refusal {
    (
        Some(1),
        Cow::Owned(format!("invalid value for argument {name}")),
    )
}

/// A MAC address argument given something else: `invalid value of
/// mac-address, mac address required` (PHP hotspot clients that test these
/// exact words), category 1.
pub(crate) fn mac_address_required(name: &str) -> Refusal {
    (
        Some(1),
        Cow::Owned(format!("invalid value of {name}, mac address required")),
    )
}

/// A word that names no item: `input does not match any value of
/// interface` (MikroTik's API manual, `/ip/address/add =interface=asdf`;
/// `… of profile` in PHP clients of `/ppp/secret/add`), category 1. The mock
/// answers the same to a word that is none of an enumeration's choices;
/// that use is its best guess.
pub(crate) fn no_such_value(name: &str) -> Refusal {
    (
        Some(1),
        Cow::Owned(format!("input does not match any value of {name}")),
    )
}

/// A number outside the argument's range. The words follow the console's
/// (`value of mtu out of range (0..65535)`); no API capture of them is
/// known, so they are the mock's best guess (see the module docs).
pub(crate) fn out_of_range(name: &str, min: &str, max: &str) -> Refusal {
    (
        Some(1),
        Cow::Owned(format!("value of {name} out of range ({min}..{max})")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routeros_7_names_the_unknown_parameter_and_6_does_not() {
        assert_eq!(
            unknown_parameter("colour", false).1,
            "unknown parameter colour"
        );
        assert_eq!(unknown_parameter("colour", true).1, "unknown parameter");
        assert_eq!(invalid_value("address").0, Some(1));
    }
}
