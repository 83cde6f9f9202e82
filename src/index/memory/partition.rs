//! Memory shards: every unit belongs to one of a fixed number of shards by a stable hash of
//! its memory and id, and an index holds the units of some of them. A single server holds the
//! one shard there is; a cluster node may hold a subset, and the others are searched on the
//! nodes that hold them (`merge.rs` puts the answers together).

use std::fmt;

use sha2::{Digest, Sha256};

/// The most shards a memory can be split into.
pub const MAX_SHARDS: u32 = 1024;

/// How units are split into shards, and which shards an index holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    count: u32,
    /// Ascending, without repeats, each below `count`.
    held: Vec<u32>,
}

/// Why a partition was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// The shard count is 0 or above [`MAX_SHARDS`].
    #[error("the shard count must be between 1 and {MAX_SHARDS}, not {0}")]
    Count(u32),
    /// A held shard does not exist.
    #[error("shard {shard} does not exist: shards are numbered 0 to {}", count - 1)]
    NoSuchShard {
        /// The shard named.
        shard: u32,
        /// The shard count.
        count: u32,
    },
    /// No shard is held.
    #[error("a node must hold at least one shard")]
    NothingHeld,
    /// The list of held shards could not be read.
    #[error("{0:?} is not a list of shards such as 0-3,6")]
    Syntax(String),
}

impl Default for Partition {
    fn default() -> Partition {
        Partition::whole()
    }
}

impl Partition {
    /// One shard, held: a single server.
    pub fn whole() -> Partition {
        Partition {
            count: 1,
            held: vec![0],
        }
    }

    /// `count` shards of which `held` are held.
    pub fn new(
        count: u32,
        held: impl IntoIterator<Item = u32>,
    ) -> Result<Partition, PartitionError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(PartitionError::Count(count));
        }
        let mut held: Vec<u32> = held.into_iter().collect();
        if let Some(&shard) = held.iter().find(|&&shard| shard >= count) {
            return Err(PartitionError::NoSuchShard { shard, count });
        }
        held.sort_unstable();
        held.dedup();
        if held.is_empty() {
            return Err(PartitionError::NothingHeld);
        }
        Ok(Partition { count, held })
    }

    /// `count` shards, every one held.
    pub fn all_of(count: u32) -> Result<Partition, PartitionError> {
        Partition::new(count, 0..count)
    }

    /// `count` shards, of which those `list` names (`0-3,6`) are held.
    pub fn parse(count: u32, list: &str) -> Result<Partition, PartitionError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(PartitionError::Count(count));
        }
        let syntax = || PartitionError::Syntax(list.to_owned());
        let number = |text: &str| text.trim().parse::<u32>().map_err(|_| syntax());
        let mut held = Vec::new();
        for item in list.split(',') {
            match item.split_once('-') {
                Some((first, last)) => {
                    let (first, last) = (number(first)?, number(last)?);
                    if first > last {
                        return Err(syntax());
                    }
                    if last >= count {
                        return Err(PartitionError::NoSuchShard { shard: last, count });
                    }
                    held.extend(first..=last);
                }
                None => held.push(number(item)?),
            }
        }
        Partition::new(count, held)
    }

    /// How many shards there are.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The shards held, ascending.
    pub fn held(&self) -> &[u32] {
        &self.held
    }

    /// Whether every shard is held.
    pub fn holds_all(&self) -> bool {
        self.held.len() == self.count as usize
    }

    /// Whether `shard` is held.
    pub fn holds(&self, shard: u32) -> bool {
        self.held.binary_search(&shard).is_ok()
    }

    /// The shards not held, ascending.
    pub fn not_held(&self) -> Vec<u32> {
        (0..self.count).filter(|&s| !self.holds(s)).collect()
    }

    /// The shard of the unit `unit_id` of `memory`: the first eight bytes of the SHA-256 of
    /// the memory name, a zero byte and the id, modulo the count. Stable across versions and
    /// machines, since every node of a cluster must compute the same.
    pub fn shard_of(&self, memory: &str, unit_id: &str) -> u32 {
        if self.count == 1 {
            return 0;
        }
        let digest = Sha256::new()
            .chain_update(memory.as_bytes())
            .chain_update([0])
            .chain_update(unit_id.as_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_le_bytes(first) % u64::from(self.count)) as u32
    }

    /// Whether the unit `unit_id` of `memory` belongs to a held shard.
    pub fn keeps(&self, memory: &str, unit_id: &str) -> bool {
        self.holds_all() || self.holds(self.shard_of(memory, unit_id))
    }
}

impl fmt::Display for Partition {
    /// `shards 0-3,6 of 8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shards ")?;
        let mut rest = self.held.as_slice();
        let mut first = true;
        while let [start, ..] = rest {
            let run = rest
                .iter()
                .enumerate()
                .take_while(|&(i, &s)| s == start + i as u32)
                .count();
            if !first {
                f.write_str(",")?;
            }
            first = false;
            match run {
                1 => write!(f, "{start}")?,
                _ => write!(f, "{start}-{}", start + run as u32 - 1)?,
            }
            rest = &rest[run..];
        }
        write!(f, " of {}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_shards_are_read_and_written_alike() {
        let partition = Partition::parse(8, "0-3, 6").unwrap();
        assert_eq!(partition.held(), &[0, 1, 2, 3, 6]);
        assert_eq!(partition.not_held(), vec![4, 5, 7]);
        assert_eq!(partition.to_string(), "shards 0-3,6 of 8");
        assert!(!partition.holds_all());
        assert!(Partition::all_of(4).unwrap().holds_all());
        assert_eq!(Partition::whole().to_string(), "shards 0 of 1");
    }

    #[test]
    fn impossible_partitions_are_refused() {
        assert_eq!(Partition::parse(0, "0"), Err(PartitionError::Count(0)));
        assert_eq!(
            Partition::parse(4, "2-5"),
            Err(PartitionError::NoSuchShard { shard: 5, count: 4 })
        );
        assert_eq!(
            Partition::parse(4, "1-x"),
            Err(PartitionError::Syntax("1-x".into()))
        );
        assert_eq!(
            Partition::parse(4, "3-1"),
            Err(PartitionError::Syntax("3-1".into()))
        );
        assert_eq!(Partition::new(4, []), Err(PartitionError::NothingHeld));
        // A range long enough to exhaust memory is refused before it is expanded.
        assert!(Partition::parse(4, "0-4000000000").is_err());
    }

    #[test]
    fn every_unit_has_one_stable_shard() {
        let partition = Partition::all_of(8).unwrap();
        // Fixed values: every node of a cluster, of any version, must compute these.
        let shards: Vec<u32> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| partition.shard_of("news", id))
            .collect();
        assert_eq!(shards, fixed_shards());
        let mut sizes = [0usize; 8];
        for i in 0..8000 {
            sizes[partition.shard_of("news", &format!("unit-{i}")) as usize] += 1;
        }
        assert!(sizes.iter().all(|&n| (800..1200).contains(&n)), "{sizes:?}");
    }

    /// The shards of units `a` to `d` of memory `news` among 8, as an independent SHA-256
    /// implementation computes them.
    fn fixed_shards() -> Vec<u32> {
        vec![5, 1, 1, 1]
    }
}
