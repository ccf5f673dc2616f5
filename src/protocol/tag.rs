//! Fresh command tags: random (version 4) UUIDs without a system call each.

use std::cell::Cell;

use uuid::Uuid;

thread_local! {
    /// SplitMix64 state, seeded once per thread from the operating system.
    static STATE: Cell<u64> = Cell::new(Uuid::new_v4().as_u64_pair().0);
}

/// SplitMix64: a full-period 64-bit generator with well-mixed output. Tags
/// only need to be unique among one connection's commands, not secret.
fn next(state: &Cell<u64>) -> u64 {
    let x = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
    state.set(x);
    let x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A new random tag (a version-4 UUID).
pub(crate) fn fresh_tag() -> Uuid {
    STATE.with(|state| {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&next(state).to_le_bytes());
        bytes[8..].copy_from_slice(&next(state).to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tags_are_version_4_and_unique() {
        let tags: HashSet<Uuid> = (0..100_000).map(|_| fresh_tag()).collect();
        assert_eq!(tags.len(), 100_000);
        assert!(
            tags.iter()
                .all(|t| t.get_version_num() == 4 && t.get_variant() == uuid::Variant::RFC4122)
        );
    }

    #[test]
    fn threads_draw_different_streams() {
        let here = fresh_tag();
        let there = std::thread::spawn(fresh_tag).join().unwrap();
        assert_ne!(here, there);
    }
}
