//! Command tags: random (version 4) UUIDs, drawn from a fast generator
//! rather than a system call each.
//!
//! With the `std` feature each thread has a generator seeded once from the
//! operating system, and the builder draws from it on its own. Without `std`
//! there is no operating system to ask: a [`Tags`] seeded from the caller's
//! random source (a board's RNG) hands out the tags, and whatever the core
//! tags on its own gets the nil placeholder, to be replaced with
//! [`Command::retagged`](crate::command::Command::retagged) before sending
//! (the embedded client retags every command it sends).

use uuid::Uuid;

/// A generator of tags: SplitMix64, a full-period 64-bit generator with
/// well-mixed output. Tags only need to be unique among one connection's
/// commands, not secret; seed it from a real random source so that two
/// boots (two connections) do not start from the same tags.
#[derive(Debug, Clone)]
pub struct Tags {
    state: u64,
}

impl Tags {
    /// A generator starting from `seed`.
    pub const fn from_seed(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let x = self.state;
        let x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    /// The next tag (a version-4 UUID).
    pub fn next_tag(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

#[cfg(feature = "std")]
std::thread_local! {
    /// Seeded once per thread from the operating system.
    static THREAD_TAGS: core::cell::RefCell<Tags> =
        core::cell::RefCell::new(Tags::from_seed(Uuid::new_v4().as_u64_pair().0));
}

/// A new random tag from this thread's generator.
#[cfg(feature = "std")]
pub(crate) fn fresh_tag() -> Uuid {
    THREAD_TAGS.with(|tags| tags.borrow_mut().next_tag())
}

/// Without an operating system to seed a generator: the nil placeholder.
#[cfg(not(feature = "std"))]
pub(crate) fn fresh_tag() -> Uuid {
    Uuid::nil()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_seeded_generator_gives_version_4_tags_and_no_repeats() {
        let mut tags = Tags::from_seed(0);
        let drawn: HashSet<Uuid> = (0..100_000).map(|_| tags.next_tag()).collect();
        assert_eq!(drawn.len(), 100_000);
        assert!(
            drawn
                .iter()
                .all(|t| t.get_version_num() == 4 && t.get_variant() == uuid::Variant::RFC4122)
        );
        assert_ne!(
            Tags::from_seed(1).next_tag(),
            Tags::from_seed(2).next_tag(),
            "the seed matters"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn tags_are_version_4_and_unique() {
        let tags: HashSet<Uuid> = (0..100_000).map(|_| fresh_tag()).collect();
        assert_eq!(tags.len(), 100_000);
        assert!(
            tags.iter()
                .all(|t| t.get_version_num() == 4 && t.get_variant() == uuid::Variant::RFC4122)
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn threads_draw_different_streams() {
        let here = fresh_tag();
        let there = std::thread::spawn(fresh_tag).join().unwrap();
        assert_ne!(here, there);
    }
}
