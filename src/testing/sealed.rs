//! A login secret as a transcript keeps it: a salted, iterated hash, so
//! replay can refuse a wrong password without the transcript holding it.
//!
//! This is a test fixture, not a password store: the hash is MD5 (the one
//! hash the crate always has) iterated [`ITERATIONS`] times over a random
//! salt chosen per recording, which makes precomputed tables useless and
//! each guess cost as much as the iterations. A weak password can still be
//! found by a patient attacker who has the transcript: record against a
//! test account, never with a production password. 10,000 rounds cost a
//! few milliseconds in an optimised build and tens in a debug test build,
//! where the recorder seals inside a write and replay checks inside a login.
//!
//! Written as the value `<redacted:md5x10000:SALT:HASH>` (hex), which
//! starts like [`REDACTED`](super::REDACTED) so every reader sees a
//! redaction.

use md5::{Digest, Md5};

/// How many rounds of MD5 one check costs.
pub(crate) const ITERATIONS: u32 = 10_000;

const PREFIX: &str = "<redacted:md5x";

/// A fresh random salt (from the operating system, through `uuid`).
pub(crate) fn fresh_salt() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

fn hash(salt: &[u8], secret: &[u8], iterations: u32) -> [u8; 16] {
    let mut state: [u8; 16] = Md5::new()
        .chain_update(salt)
        .chain_update(secret)
        .finalize()
        .into();
    for _ in 1..iterations {
        state = Md5::new()
            .chain_update(state)
            .chain_update(salt)
            .chain_update(secret)
            .finalize()
            .into();
    }
    state
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The value a transcript keeps for `secret`.
pub(crate) fn seal(salt: &[u8], secret: &[u8]) -> String {
    format!(
        "{PREFIX}{ITERATIONS}:{}:{}>",
        hex(salt),
        hex(&hash(salt, secret, ITERATIONS))
    )
}

/// Whether `recorded` is a sealed value (else it is a plain redaction, or
/// not redacted at all).
pub(crate) fn is_sealed(recorded: &[u8]) -> bool {
    recorded.starts_with(PREFIX.as_bytes()) && recorded.ends_with(b">")
}

/// `Some(true)` when `secret` is what `recorded` sealed, `Some(false)` when
/// not, `None` when `recorded` is not a well-formed sealed value.
pub(crate) fn check(recorded: &[u8], secret: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(recorded).ok()?;
    let body = text.strip_prefix(PREFIX)?.strip_suffix('>')?;
    let mut parts = body.split(':');
    let iterations: u32 = parts.next()?.parse().ok()?;
    let salt = unhex(parts.next()?)?;
    let expected = unhex(parts.next()?)?;
    if parts.next().is_some() || iterations == 0 || iterations > 10 * ITERATIONS {
        return None;
    }
    let actual = hash(&salt, secret, iterations);
    // Not constant-time: a test fixture on loopback.
    Some(actual[..] == expected[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_checks_and_does_not_show() {
        let salt = fresh_salt();
        let sealed = seal(&salt, b"hunter2");
        assert!(!sealed.contains("hunter2"));
        assert!(is_sealed(sealed.as_bytes()));
        assert_eq!(check(sealed.as_bytes(), b"hunter2"), Some(true));
        assert_eq!(check(sealed.as_bytes(), b"hunter3"), Some(false));
        assert_ne!(seal(&fresh_salt(), b"hunter2"), sealed, "salted");
        assert_eq!(check(b"<redacted>", b"x"), None);
        assert_eq!(check(b"<redacted:md5x0:00:00>", b"x"), None);
    }
}
