//! Login sentences, both the 6.43+ form and the older MD5 challenge–response.

use crate::prelude::*;
use md5::{Digest, Md5};

use super::ProtocolError;
use super::command::{Command, CommandBuilder};

/// `/login =name=<user> =<key>=<secret>`, in a buffer sized for exactly
/// these words, so it never grows and leaves no unwiped copy of the secret
/// behind; the command is [`sensitive`](Command::sensitive), so the buffer
/// is wiped when dropped.
fn login_command(user: &str, key: &str, secret: &str) -> Command {
    let words = [
        "/login".len(),
        "=name=".len() + user.len(),
        key.len() + 2 + secret.len(),
    ];
    CommandBuilder::exactly_for(words)
        .command("/login")
        .attribute("name", Some(user))
        .attribute(key, Some(secret))
        .build()
        .sensitive()
}

/// `/login =name=<user> =password=<password>` (RouterOS 6.43 and later).
///
/// A pre-6.43 router answers it with `!done =ret=<challenge>`; finish with
/// [`legacy_login`] on the same connection.
///
/// The password is copied once, into a buffer of exactly the command's size
/// that is wiped when the command is dropped. That is best effort: the
/// caller's own copies, and whatever the operating system does with memory
/// (swap, core dumps), are out of its reach.
pub fn login(user: &str, password: &str) -> Command {
    login_command(user, "password", password)
}

/// `/login =name=<user> =response=<response>` answering a pre-6.43 challenge.
///
/// Secrets are handled as in [`login`]; the response text is wiped too once
/// it is in the command (the MD5 state that saw the password is not: best effort).
pub fn legacy_login(
    user: &str,
    password: &str,
    challenge_hex: &str,
) -> Result<Command, ProtocolError> {
    let response = challenge_response(password.as_bytes(), challenge_hex)?;
    let command = login_command(user, "response", &response);
    let mut response = response.into_bytes();
    response.fill(0);
    core::hint::black_box(&response);
    Ok(command)
}

/// `"00"` followed by hex(md5(0x00 ‖ password ‖ challenge)), the challenge
/// given as the hex text of `=ret=`.
pub fn challenge_response(password: &[u8], challenge_hex: &str) -> Result<String, ProtocolError> {
    let challenge = decode_hex(challenge_hex).ok_or_else(|| {
        ProtocolError::InvalidChallenge(super::quote::quote(challenge_hex.as_bytes()))
    })?;
    let mut md5 = Md5::new();
    md5.update([0u8]);
    md5.update(password);
    md5.update(&challenge);
    let mut response = String::with_capacity(34);
    response.push_str("00");
    for byte in md5.finalize() {
        response.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        response.push(char::from_digit(u32::from(byte & 0xF), 16).unwrap_or('0'));
    }
    Ok(response)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_login_words() {
        let cmd = login("admin", "secret");
        let words = cmd.words();
        assert_eq!(
            words[..3],
            [
                b"/login".to_vec(),
                b"=name=admin".to_vec(),
                b"=password=secret".to_vec()
            ]
        );
    }

    #[test]
    fn challenge_response_matches_an_independent_computation() {
        // md5(00 ‖ "" ‖ 00×16), checked with Python's hashlib:
        // hashlib.md5(b"\0" + b"" + bytes(16)).hexdigest()
        assert_eq!(
            challenge_response(b"", "00000000000000000000000000000000").unwrap(),
            "00f3c8bdb6b9df478f227af2ce61c8a5a1"
        );
        // hashlib.md5(b"\0" + b"password" + bytes.fromhex("ebddd18775b1a2a5b4ac5ca94f9f5e3d")).hexdigest()
        assert_eq!(
            challenge_response(b"password", "ebddd18775b1a2a5b4ac5ca94f9f5e3d").unwrap(),
            "006e746990df19066d8813aafd55c635f7"
        );
    }

    #[test]
    fn malformed_challenges_are_errors() {
        for bad in ["", "abc", "zz", "0g"] {
            assert!(
                matches!(
                    challenge_response(b"x", bad),
                    Err(ProtocolError::InvalidChallenge(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn login_commands_are_sized_exactly_and_never_grow() {
        // Lengths around each prefix size boundary (1, 2, 3 byte prefixes).
        for len in [
            0, 1, 100, 117, 118, 127, 128, 1_000, 16_373, 16_374, 16_384, 100_000,
        ] {
            let password = "p".repeat(len);
            for user in ["", "admin", &"u".repeat(200)] {
                let cmd = login(user, &password);
                // The buffer is exactly the command's size: what was reserved
                // was enough (the builder's own test shows that such a buffer
                // is never reallocated while the words are added).
                assert_eq!(cmd.capacity(), cmd.as_bytes().len(), "{len} {}", user.len());
                assert_eq!(cmd.words()[2].len(), 10 + len);
                assert!(cmd.is_sensitive());
                let legacy =
                    legacy_login(user, &password, "00000000000000000000000000000000").unwrap();
                assert_eq!(legacy.capacity(), legacy.as_bytes().len());
                assert!(legacy.is_sensitive());
            }
        }
    }

    #[test]
    fn an_absurd_challenge_is_quoted_short() {
        let huge = "z".repeat(1 << 20);
        let Err(ProtocolError::InvalidChallenge(quoted)) = challenge_response(b"x", &huge) else {
            panic!("not refused")
        };
        assert!(quoted.len() < 400, "{}", quoted.len());
        assert!(quoted.ends_with("(1048576 bytes)"), "{quoted}");
    }

    #[test]
    fn legacy_login_words() {
        let cmd = legacy_login("admin", "", "00000000000000000000000000000000").unwrap();
        let words = cmd.words();
        assert_eq!(words[1], b"=name=admin");
        assert_eq!(words[2], b"=response=00f3c8bdb6b9df478f227af2ce61c8a5a1");
    }
}
