//! Terms by a string key, without a copy of the keys.
//!
//! The index looks terms up by four keys (the stored text, the normalized key, the joined
//! stems and the first stem), and each is text the index already holds elsewhere. A hash map
//! from an owned key to a vector of ids cost two allocations per term and key, over half of
//! the index's memory at 10⁶ terms. A [`KeyTable`] keeps only sorted (hash, id) pairs; the
//! caller confirms each id by comparing the key where it is stored, which also makes hash
//! collisions harmless.

use std::hash::{BuildHasher, RandomState};

use super::terms::TermId;

/// Term ids sorted by the hash of their key, then by id.
pub(super) struct KeyTable {
    hasher: RandomState,
    /// Hash of each entry's key, ascending.
    hashes: Vec<u64>,
    /// Term of each entry, ascending among equal hashes.
    ids: Vec<TermId>,
}

impl KeyTable {
    /// A table of `(key, id)` pairs; a term may appear under several keys and a key under
    /// several terms.
    pub fn build<'k>(entries: impl Iterator<Item = (&'k str, TermId)>) -> KeyTable {
        let hasher = RandomState::new();
        let mut pairs: Vec<(u64, TermId)> = entries
            .map(|(key, id)| (hasher.hash_one(key), id))
            .collect();
        pairs.sort_unstable();
        let (hashes, ids) = pairs.into_iter().unzip();
        KeyTable {
            hasher,
            hashes,
            ids,
        }
    }

    /// The terms whose key may be `key`, in id order: every term with that key, and rarely
    /// one whose key only shares its hash. The caller compares keys.
    pub fn candidates(&self, key: &str) -> &[TermId] {
        let hash = self.hasher.hash_one(key);
        let start = self.hashes.partition_point(|&h| h < hash);
        let end = start + self.hashes[start..].partition_point(|&h| h == hash);
        &self.ids[start..end]
    }

    /// The entries in runs of equal hashes: the terms of each key together, with now and then
    /// two keys in one run.
    pub fn runs(&self) -> impl Iterator<Item = &[TermId]> {
        self.hashes.chunk_by(|a, b| a == b).scan(0, |start, run| {
            let ids = &self.ids[*start..*start + run.len()];
            *start += run.len();
            Some(ids)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_term_of_a_key_in_id_order() {
        let table = KeyTable::build(
            [
                ("дух", 3),
                ("road", 1),
                ("дух", 0),
                ("一带一路", 2),
                ("дух", 7),
            ]
            .into_iter(),
        );
        assert_eq!(table.candidates("дух"), [0, 3, 7]);
        assert_eq!(table.candidates("road"), [1]);
        assert!(table.candidates("roads").is_empty());
        assert!(KeyTable::build(std::iter::empty())
            .candidates("")
            .is_empty());
        let mut runs: Vec<Vec<TermId>> = table.runs().map(|r| r.to_vec()).collect();
        runs.sort();
        assert_eq!(runs, [vec![0, 3, 7], vec![1], vec![2]]);
    }
}
