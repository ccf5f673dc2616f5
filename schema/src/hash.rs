//! A small non-cryptographic hasher for maps whose keys the program chooses
//! itself: menu paths, argument and field names.
//!
//! The standard library's SipHash resists HashDoS (keys an attacker picks to
//! collide), which costs about ten times more per lookup than a multiply per
//! eight bytes. Maps of this crate's static tree, and the mock router's own
//! tables, are keyed by paths the program (or the test) put there: nobody
//! picks colliding keys for them, so the cheaper hash is enough. Do not use it
//! for maps whose keys come from the network.

use std::hash::{BuildHasherDefault, Hasher};

/// A small non-cryptographic hasher: multiplies in each eight bytes of the
/// key (the multiply-rotate scheme of Firefox's and rustc's hashers), about
/// ten times cheaper than the standard SipHash on short keys.
///
/// Not resistant to chosen collisions (HashDoS): only for maps whose keys the
/// program itself chooses, such as menu paths and argument or field names,
/// never for keys that come from the network. The crate's tree index and the
/// mock router's tables use it.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrustedKeyHasher {
    state: u64,
}

/// Builds [`TrustedKeyHasher`]s: the `S` of a `HashMap<K, V, S>`.
pub type BuildTrustedKeyHasher = BuildHasherDefault<TrustedKeyHasher>;

/// 2^64 divided by the golden ratio (odd, so the multiply loses no bits).
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

impl TrustedKeyHasher {
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for TrustedKeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Zero-padded, with the count in the last byte (at most 7 bytes
            // are left over), so that `ab` and `ab\0` differ. Shifted in
            // byte by byte: a copy of a length known only now is a call.
            let mut word = (rest.len() as u64) << 56;
            for (at, &byte) in rest.iter().enumerate() {
                word |= u64::from(byte) << (8 * at);
            }
            self.mix(word);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn write_usize(&mut self, number: usize) {
        self.mix(number as u64);
    }

    fn write_u64(&mut self, number: u64) {
        self.mix(number);
    }

    fn finish(&self) -> u64 {
        // A multiply mixes upwards: the high bits depend on every input bit,
        // the low ones (where a table takes its bucket) on few. Fold them down.
        self.state ^ (self.state >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;
    use std::collections::{HashMap, HashSet};
    use std::hash::BuildHasher;

    fn hash(key: &str) -> u64 {
        BuildTrustedKeyHasher::default().hash_one(key)
    }

    #[test]
    fn every_menu_path_and_argument_name_hashes_apart() {
        let schema = schema();
        let paths: Vec<&str> = schema.menus().iter().map(|m| m.path()).collect();
        let names: HashSet<&str> = schema.arguments().map(|(_, _, a)| a.name()).collect();
        for keys in [paths, names.into_iter().collect()] {
            let hashes: HashSet<u64> = keys.iter().map(|k| hash(k)).collect();
            assert_eq!(hashes.len(), keys.len(), "no two keys share a hash");
            // The low bits pick a table's bucket, the top seven its tag:
            // both must spread the keys, not just the whole 64 bits.
            let buckets = keys.len().next_power_of_two();
            let mut low = vec![0usize; buckets];
            let mut top = [0usize; 128];
            for key in &keys {
                let h = hash(key);
                low[(h as usize) & (buckets - 1)] += 1;
                top[(h >> 57) as usize] += 1;
            }
            let used = low.iter().filter(|&&n| n > 0).count();
            // Random hashing of n/2..n keys into n buckets fills 39..63 % of
            // them (the tree's fill about 43 % and 48 %); weak low bits fill
            // far fewer (keeping only the high half fails here).
            assert!(used * 100 >= buckets * 30, "{used} of {buckets} buckets");
            assert!(
                low.iter().all(|&n| n <= 8),
                "a bucket of {:?}",
                low.iter().max()
            );
            let tags = top.iter().filter(|&&n| n > 0).count();
            assert!(tags >= 120, "{tags} of 128 tags used");
        }
    }

    #[test]
    fn maps_with_it_behave_as_maps() {
        let mut map: HashMap<String, usize, BuildTrustedKeyHasher> = HashMap::default();
        let keys = ["", "/", "/ip", "/ip/address", "ab", "ab\0", "a", "b"];
        for (n, key) in keys.iter().enumerate() {
            assert_eq!(map.insert((*key).to_owned(), n), None);
        }
        assert_eq!(map.len(), keys.len());
        for (n, key) in keys.iter().enumerate() {
            assert_eq!(map.get(*key), Some(&n), "{key:?}");
        }
        assert_eq!(map.get("/ip/addres"), None);
        assert_eq!(map.insert("/ip".to_owned(), 99), Some(2));
        assert_eq!(map.remove("/ip/address"), Some(3));
        assert_eq!(map.get("/ip/address"), None);
        assert_eq!(map.len(), keys.len() - 1);
        // No random seed: a key hashes the same in every map and every run.
        let mut other: HashMap<&str, usize, BuildTrustedKeyHasher> = HashMap::default();
        other.insert("/ip/address", 3);
        assert_eq!(hash("/ip/address"), hash("/ip/address"));
        assert_eq!(other.get("/ip/address"), Some(&3));
        assert_ne!(hash("ab"), hash("ab\0"));
    }
}
