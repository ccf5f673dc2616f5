//! A password that never prints and is wiped when dropped.

use std::fmt;

/// Holds a password only as long as the login needs it.
///
/// `Debug` shows `"<redacted>"`; dropping it overwrites the bytes before the
/// memory is freed. The copy is made once, at exactly the password's size,
/// and never grows (nor does a clone), so no earlier buffer of ours is left
/// unwiped. Best effort all the same: the caller's own `&str` and what the
/// operating system does with memory (swap, core dumps) are out of reach.
#[derive(Clone, Default)]
pub(crate) struct Password(String);

impl Password {
    pub(crate) fn new(password: &str) -> Self {
        Self(password.to_owned())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        // Keep the compiler from dropping the writes as dead stores.
        std::hint::black_box(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::new("hunter2");
        assert_eq!(format!("{password:?}"), "\"<redacted>\"");
        assert_eq!(password.expose(), "hunter2");
    }

    #[test]
    fn the_copy_is_exactly_the_password_so_the_wipe_covers_it_all() {
        for len in [0, 1, 7, 64, 1000] {
            let password = Password::new(&"p".repeat(len));
            // The wipe overwrites `len` bytes: nothing may lie beyond them.
            assert_eq!(password.0.capacity(), len);
            assert_eq!(password.clone().0.capacity(), len);
        }
    }
}
