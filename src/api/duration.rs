//! RouterOS durations: `1w2d3h4m5s`, `14ms612us`, `00:01:02`, `1d00:01:02`.
//!
//! Works without the `serde` feature; with it, [`RouterOsDuration`] also
//! implements `Deserialize` (from any deserializer that yields a string).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// The units RouterOS writes, largest first, with their length in nanoseconds.
/// `ms` and `us` come before `m` and `s` so that the longest suffix wins.
const UNITS: [(&str, u128); 8] = [
    ("w", 7 * 24 * 3600 * NANOS_PER_SEC),
    ("d", 24 * 3600 * NANOS_PER_SEC),
    ("h", 3600 * NANOS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
    ("m", 60 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
];

/// The rank of a unit in descending size, to enforce RouterOS's order.
fn rank(unit: &str) -> usize {
    match unit {
        "w" => 0,
        "d" => 1,
        "h" => 2,
        "m" => 3,
        "s" => 4,
        "ms" => 5,
        "us" => 6,
        _ => 7, // ns
    }
}

/// Why a text is not a RouterOS duration; shows the text and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDurationError {
    input: String,
    reason: &'static str,
}

impl ParseDurationError {
    fn new(input: &str, reason: &'static str) -> Self {
        Self {
            input: input.to_owned(),
            reason,
        }
    }

    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl fmt::Display for ParseDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for ParseDurationError {}

/// Parses a duration as RouterOS prints it.
///
/// Accepted forms, as RouterOS 6 and 7 write them:
/// - unit groups, largest first, each at most once: `1w2d3h4m5s`, `14ms612us`,
///   `500ns`, `1.5s` (units `w d h m s ms us ns`; a group may have a decimal fraction);
/// - a clock `HH:MM:SS` with an optional fraction, optionally after `w`/`d`
///   groups: `00:01:02`, `1d00:01:02`, `2w3d04:05:06.5`;
/// - a bare number, read as seconds (how RouterOS reads one on input): `30`.
///
/// Negative values, empty text, repeated or out-of-order units and values
/// beyond [`Duration::MAX`] are errors.
///
/// ```
/// use std::time::Duration;
/// use mikrotik_rs::api::parse_duration;
/// assert_eq!(parse_duration("1h2m3s")?, Duration::from_secs(3723));
/// assert_eq!(parse_duration("14ms612us")?, Duration::from_micros(14_612));
/// assert_eq!(parse_duration("1d00:01:02")?, Duration::from_secs(86_462));
/// # Ok::<(), mikrotik_rs::api::ParseDurationError>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, ParseDurationError> {
    let err = |reason| ParseDurationError::new(text, reason);
    if text.is_empty() {
        return Err(err("empty"));
    }
    if !text.is_ascii() {
        return Err(err("unexpected character"));
    }
    let mut total: u128 = 0;
    let mut rest = text;
    let mut last_rank: Option<usize> = None;
    while !rest.is_empty() {
        let (number, after) = split_number(rest);
        if number.is_empty() {
            return Err(err("expected a number"));
        }
        if after.starts_with(':') {
            // The clock may only follow weeks and days.
            if last_rank.is_some_and(|r| r > rank("d")) {
                return Err(err("a clock may follow only weeks and days"));
            }
            total = add(total, parse_clock(rest).map_err(err)?).ok_or_else(|| err("too large"))?;
            return to_duration(total).ok_or_else(|| err("too large"));
        }
        let Some(&(unit, nanos)) = UNITS.iter().find(|(unit, _)| after.starts_with(unit)) else {
            if after.is_empty() && last_rank.is_none() {
                // A bare number: seconds.
                let value = scaled(number, NANOS_PER_SEC).map_err(err)?;
                return to_duration(value).ok_or_else(|| err("too large"));
            }
            return Err(err("expected a unit (w, d, h, m, s, ms, us, ns)"));
        };
        let this_rank = rank(unit);
        if last_rank.is_some_and(|r| r >= this_rank) {
            return Err(err("units must come largest first, each once"));
        }
        last_rank = Some(this_rank);
        total = add(total, scaled(number, nanos).map_err(err)?).ok_or_else(|| err("too large"))?;
        rest = &after[unit.len()..];
    }
    to_duration(total).ok_or_else(|| err("too large"))
}

fn add(a: u128, b: u128) -> Option<u128> {
    a.checked_add(b)
}

fn to_duration(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / NANOS_PER_SEC).ok()?;
    Some(Duration::new(secs, (nanos % NANOS_PER_SEC) as u32))
}

/// Splits off a leading `digits[.digits]`.
fn split_number(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    let mut end = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if end > 0 && bytes.get(end) == Some(&b'.') {
        let fraction = bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if fraction > 0 {
            end += 1 + fraction;
        }
    }
    text.split_at(end)
}

/// `digits[.digits]` times `unit` nanoseconds, truncated to whole nanoseconds.
fn scaled(number: &str, unit: u128) -> Result<u128, &'static str> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let whole: u128 = whole.parse().map_err(|_| "too large")?;
    let mut value = whole.checked_mul(unit).ok_or("too large")?;
    // Each fractional digit is worth a tenth of the one before; beyond the
    // unit's precision the digits no longer change the value.
    let mut place = unit;
    for digit in fraction.bytes() {
        place /= 10;
        if place == 0 {
            break;
        }
        value = value
            .checked_add(u128::from(digit - b'0') * place)
            .ok_or("too large")?;
    }
    Ok(value)
}

/// `H+:MM:SS[.fraction]`, the whole rest of the text.
fn parse_clock(text: &str) -> Result<u128, &'static str> {
    let mut parts = text.split(':');
    let (Some(h), Some(m), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("a clock is HH:MM:SS");
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (s_whole, s_fraction) = s.split_once('.').unwrap_or((s, ""));
    let fraction_ok = (s_fraction.is_empty() && !s.contains('.')) || digits(s_fraction);
    if !digits(h)
        || m.len() != 2
        || !digits(m)
        || s_whole.len() != 2
        || !digits(s_whole)
        || !fraction_ok
    {
        return Err("a clock is HH:MM:SS");
    }
    let hours: u128 = h.parse().map_err(|_| "too large")?;
    let minutes: u128 = m.parse().map_err(|_| "a clock is HH:MM:SS")?;
    let seconds = scaled(s, NANOS_PER_SEC)?;
    if minutes >= 60 || seconds >= 60 * NANOS_PER_SEC {
        return Err("minutes and seconds of a clock are below 60");
    }
    hours
        .checked_mul(3600 * NANOS_PER_SEC)
        .and_then(|h| h.checked_add(minutes * 60 * NANOS_PER_SEC + seconds))
        .ok_or("too large")
}

/// A [`Duration`] that parses from and prints as RouterOS text.
///
/// Use it as a field type of a typed row (feature `serde`) or parse it with
/// [`FromStr`]; see [`parse_duration`] for the accepted forms. It prints in
/// RouterOS's own unit form (`1w2d3h4m5s`, `14ms612us`, `0s`), which the
/// router accepts back as a value for `set` or `add`.
///
/// ```
/// use mikrotik_rs::api::RouterOsDuration;
/// let uptime: RouterOsDuration = "2w1d3h25m47s".parse()?;
/// assert_eq!(uptime.as_duration().as_secs(), 1_308_347);
/// assert_eq!(uptime.to_string(), "2w1d3h25m47s");
/// # Ok::<(), mikrotik_rs::api::ParseDurationError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouterOsDuration(pub Duration);

impl RouterOsDuration {
    /// The standard-library duration.
    pub fn as_duration(self) -> Duration {
        self.0
    }
}

impl FromStr for RouterOsDuration {
    type Err = ParseDurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_duration(text).map(Self)
    }
}

impl From<Duration> for RouterOsDuration {
    fn from(duration: Duration) -> Self {
        Self(duration)
    }
}

impl From<RouterOsDuration> for Duration {
    fn from(duration: RouterOsDuration) -> Self {
        duration.0
    }
}

impl fmt::Display for RouterOsDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut nanos = self.0.as_nanos();
        if nanos == 0 {
            return f.write_str("0s");
        }
        // Largest first, in RouterOS's order.
        let order = ["w", "d", "h", "m", "s", "ms", "us", "ns"];
        for unit in order {
            let size = UNITS
                .iter()
                .find(|(u, _)| *u == unit)
                .map_or(1, |(_, n)| *n);
            let count = nanos / size;
            if count > 0 {
                write!(f, "{count}{unit}")?;
                nanos %= size;
            }
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RouterOsDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RouterOsDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a RouterOS duration such as 1w2d3h4m5s or 00:01:02")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                text.parse()
                    .map_err(|e: ParseDurationError| E::custom(e.reason))
            }

            fn visit_u64<E: serde::de::Error>(self, secs: u64) -> Result<Self::Value, E> {
                Ok(RouterOsDuration(Duration::from_secs(secs)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// For `#[serde(with = "mikrotik_rs::api::duration")]` on a `std::time::Duration`
/// field (feature `serde`): reads RouterOS durations (`1w2d3h`, `00:01:02`).
#[cfg(feature = "serde")]
pub fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    serde::Deserialize::deserialize(deserializer).map(|d: RouterOsDuration| d.0)
}

/// For `#[serde(with = "mikrotik_rs::api::duration")]` (feature `serde`): writes
/// the duration as RouterOS does (`1d2h`), so derived `Serialize` works too.
#[cfg(feature = "serde")]
pub fn serialize<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&RouterOsDuration(*duration))
}

/// For `#[serde(with = "mikrotik_rs::api::duration::option", default)]` on an
/// `Option<std::time::Duration>` field (feature `serde`).
#[cfg(feature = "serde")]
pub mod option {
    use std::time::Duration;

    use super::RouterOsDuration;

    /// Reads an optional RouterOS duration.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        serde::Deserialize::deserialize(deserializer)
            .map(|d: Option<RouterOsDuration>| d.map(|d| d.0))
    }

    /// Writes an optional duration as RouterOS does.
    pub fn serialize<S: serde::Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => serializer.collect_str(&RouterOsDuration(*duration)),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn fails(text: &str) -> String {
        match parse_duration(text) {
            Ok(d) => panic!("{text:?} parsed as {d:?}"),
            Err(e) => {
                assert_eq!(e.input(), text);
                e.to_string()
            }
        }
    }

    const S: u64 = 1;
    const M: u64 = 60;
    const H: u64 = 3600;
    const D: u64 = 86_400;
    const W: u64 = 7 * D;

    #[test]
    fn unit_groups() {
        assert_eq!(
            ok("1w2d3h4m5s"),
            Duration::from_secs(W + 2 * D + 3 * H + 4 * M + 5 * S)
        );
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("4m"), Duration::from_secs(240));
        assert_eq!(ok("3h"), Duration::from_secs(3 * H));
        assert_eq!(ok("2w"), Duration::from_secs(2 * W));
        assert_eq!(ok("1d"), Duration::from_secs(D));
        assert_eq!(ok("2w1d3h25m47s"), Duration::from_secs(1_308_347));
        assert_eq!(
            ok("100h"),
            Duration::from_secs(100 * H),
            "a unit may overflow into the next"
        );
    }

    #[test]
    fn sub_second_units() {
        assert_eq!(ok("14ms612us"), Duration::from_micros(14_612));
        assert_eq!(ok("1s500ms"), Duration::from_millis(1500));
        assert_eq!(ok("612us"), Duration::from_micros(612));
        assert_eq!(ok("750ns"), Duration::from_nanos(750));
        assert_eq!(ok("1ms1us1ns"), Duration::from_nanos(1_001_001));
        assert_eq!(ok("1m1ms"), Duration::from_millis(60_001), "m then ms");
    }

    #[test]
    fn fractions() {
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25ms"), Duration::from_micros(250));
        assert_eq!(
            ok("1.0000000019s"),
            Duration::new(1, 1),
            "digits past ns are cut"
        );
        assert_eq!(
            ok("1.5"),
            Duration::from_millis(1500),
            "bare seconds with a fraction"
        );
    }

    #[test]
    fn clocks() {
        assert_eq!(ok("00:01:02"), Duration::from_secs(62));
        assert_eq!(ok("1d00:01:02"), Duration::from_secs(D + 62));
        assert_eq!(
            ok("2w3d04:05:06"),
            Duration::from_secs(2 * W + 3 * D + 4 * H + 5 * M + 6)
        );
        assert_eq!(
            ok("123:00:00"),
            Duration::from_secs(123 * H),
            "hours are not capped"
        );
        assert_eq!(ok("00:00:01.5"), Duration::from_millis(1500));
        assert_eq!(ok("1w00:00:00"), Duration::from_secs(W));
    }

    #[test]
    fn bare_numbers_are_seconds() {
        assert_eq!(ok("30"), Duration::from_secs(30));
        assert_eq!(ok("0"), Duration::ZERO);
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "s",
            "1x",
            "1h1h",
            "1s1h",
            "1ms1s",
            "-1s",
            "1 s",
            " 1s",
            "1s ",
            "1h30",
            "abc",
            "1.s",
            ".5s",
            "1:02",
            "1:2:3",
            "00:60:00",
            "00:00:60",
            "00:01:02:03",
            "1h00:01:02",
            "00:01:02s",
            "1d00:01",
            "1e3s",
            "1μs",
            "yes",
            "00:00:01.",
        ] {
            fails(text);
        }
    }

    #[test]
    fn error_names_the_text_and_the_reason() {
        let shown = fails("1s1h");
        assert!(shown.contains("\"1s1h\""), "{shown}");
        assert!(shown.contains("largest first"), "{shown}");
        assert!(fails("5x").contains("expected a unit"));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        fails("99999999999999999999999999999999999999999w");
        fails("999999999999999999999999999999999999999999");
        fails(&format!("{}w", u64::MAX));
        fails(&format!("{}:00:00", u128::MAX));
        assert_eq!(ok(&format!("{}s", u64::MAX)), Duration::from_secs(u64::MAX));
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "0s",
            "1w2d3h4m5s",
            "14ms612us",
            "1s",
            "2w1d3h25m47s",
            "1m1ms",
            "5ns",
        ] {
            let parsed: RouterOsDuration = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
        let clock: RouterOsDuration = "1d00:01:02".parse().unwrap();
        assert_eq!(clock.to_string(), "1d1m2s");
        for nanos in [1, 999, 1_000_001, 61_000_000_000, 694_861_001_000_000] {
            let d = RouterOsDuration(Duration::from_nanos(nanos));
            assert_eq!(parse_duration(&d.to_string()).unwrap(), d.0, "{d}");
        }
    }

    #[test]
    fn conversions() {
        let d = RouterOsDuration::from(Duration::from_secs(3));
        assert_eq!(Duration::from(d), Duration::from_secs(3));
        assert_eq!(d.as_duration(), Duration::from_secs(3));
    }
}
