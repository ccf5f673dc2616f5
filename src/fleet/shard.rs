//! Which routers this process polls when several share a fleet, with no
//! coordinator: rendezvous (highest-random-weight) hashing of router names.
//!
//! Every process computes, for each router name, a weight per shard and
//! takes the routers whose highest weight is its own. The answer depends only
//! on the name and the number of shards, so N processes split the fleet
//! disjointly and completely without talking to each other; going from N to
//! N + 1 shards moves only the routers the new shard now wins, about
//! 1/(N + 1) of them, and none between the old shards.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// This process's share of a fleet: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` (from 0) of `count`; [`Error::Config`] unless `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Self> {
        if index >= count {
            return Err(Error::Config(format!(
                "shard {index} of {count}: the index must be below the count (shards count from 0)"
            )));
        }
        Ok(Self { index, count })
    }

    /// The whole fleet: shard 0 of 1.
    pub fn all() -> Self {
        Self { index: 0, count: 1 }
    }

    /// The shard of a Kubernetes StatefulSet pod: the ordinal at the end of
    /// its host name (`poller-3` is shard 3), of `count` replicas.
    pub fn from_ordinal_hostname(hostname: &str, count: u32) -> Result<Self> {
        let ordinal = hostname
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                Error::Config(format!(
                    "host name {hostname:?} does not end in `-<ordinal>` as a StatefulSet pod's does"
                ))
            })?;
        Self::new(ordinal, count)
    }

    /// This shard's index (from 0).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The shard (of `count`) that owns the router called `name`.
    pub fn owner_of(name: &str, count: u32) -> u32 {
        let key = fnv1a(name.as_bytes());
        (0..count.max(1))
            .max_by_key(|&shard| weight(key, shard))
            .unwrap_or(0)
    }

    /// Whether this shard owns the router called `name`.
    pub fn owns(&self, name: &str) -> bool {
        Self::owner_of(name, self.count) == self.index
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::all()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `"index/count"`, e.g. `"2/8"` (what a systemd instance name can carry).
    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "shard {text:?}: expected `index/count`, e.g. `2/8`"
            ))
        };
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index = index.trim().parse().map_err(|_| bad())?;
        let count = count.trim().parse().map_err(|_| bad())?;
        Self::new(index, count)
    }
}

/// FNV-1a over the name: fixed forever (unlike std's hasher, whose
/// algorithm may change between releases), so processes built from
/// different versions still agree on every router's shard.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The splitmix64 finaliser: every input bit flips about half the output
/// bits, so the weights of one name under different shards are unrelated.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn weight(key: u64, shard: u32) -> u64 {
    mix(key ^ mix(u64::from(shard).wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fixed_so_every_build_agrees() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Shard::owner_of("router-1", 1), 0);
    }

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/8".parse::<Shard>().unwrap(), Shard::new(2, 8).unwrap());
        assert_eq!(Shard::new(2, 8).unwrap().to_string(), "2/8");
        for bad in ["8/8", "1", "a/2", "0/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            Shard::from_ordinal_hostname("poller-12", 16).unwrap(),
            Shard::new(12, 16).unwrap()
        );
        assert!(Shard::from_ordinal_hostname("poller", 4).is_err());
        assert!(Shard::from_ordinal_hostname("poller-4", 4).is_err());
    }
}
