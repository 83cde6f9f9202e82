//! Terms by a string key, without a copy of the keys.
//!
//! The index looks terms up by four keys (the stored text, the normalized key, the joined
//! stems and the first stem), and each is text the index already holds elsewhere. A hash map
//! from an owned key to a vector of ids cost two allocations per term and key, over half of
//! the index's memory at 10⁶ terms. A [`KeyTable`] keeps only sorted (hash, id) pairs; the
//! caller confirms each id by comparing the key where it is stored, which also makes hash
//! collisions harmless.
//!
//! The hash is seeded per table, so that stored keys cannot be chosen to collide, and is
//! the same in every process given the seed, so that a table can be written to disk and
//! read back (`term_file.rs`) instead of hashed again.

use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};
use std::ops::Range;

use super::flat::{FlatError, FlatReader, FlatWriter};

/// Position of a term in the term index (`TermIndex::terms` in `terms.rs`): the id every
/// table maps keys to.
pub(super) type TermId = u32;

/// Term ids sorted by the hash of their key, then by id.
pub(super) struct KeyTable {
    hasher: KeyHasher,
    /// Hash of each entry's key, ascending.
    hashes: Vec<u64>,
    /// Term of each entry, ascending among equal hashes.
    ids: Vec<TermId>,
    /// For each value of a hash's top `bucket_bits` bits, the first entry with it (and the
    /// entry count at the end): a lookup goes straight to a handful of entries instead of
    /// binary-searching them all, which Recognize does for every match in a text.
    bucket_starts: Vec<u32>,
    bucket_bits: u32,
}

impl KeyTable {
    /// A table of `(key, id)` pairs; a term may appear under several keys and a key under
    /// several terms.
    pub fn build<'k>(entries: impl Iterator<Item = (&'k str, TermId)>) -> KeyTable {
        let hasher = KeyHasher::random();
        let mut pairs: Vec<(u64, TermId)> = entries
            .map(|(key, id)| (hasher.hash_one(key), id))
            .collect();
        pairs.sort_unstable();
        let (hashes, ids): (Vec<u64>, Vec<TermId>) = pairs.into_iter().unzip();
        KeyTable::from_sorted(hasher, hashes, ids)
    }

    /// The table of entries already sorted by hash, then id.
    fn from_sorted(hasher: KeyHasher, hashes: Vec<u64>, ids: Vec<TermId>) -> KeyTable {
        // About one entry per bucket.
        let bucket_bits = hashes.len().max(1).ilog2() + 1;
        let mut bucket_starts = Vec::with_capacity((1 << bucket_bits) + 1);
        for (at, &hash) in hashes.iter().enumerate() {
            while bucket_starts.len() <= bucket(hash, bucket_bits) {
                bucket_starts.push(at as u32);
            }
        }
        bucket_starts.resize((1 << bucket_bits) + 1, hashes.len() as u32);
        KeyTable {
            hasher,
            hashes,
            ids,
            bucket_starts,
            bucket_bits,
        }
    }

    /// The terms whose key may be `key`, in id order: every term with that key, and rarely
    /// one whose key only shares its hash. The caller compares keys.
    pub fn candidates(&self, key: &str) -> &[TermId] {
        &self.ids[self.entries_of(self.hash(key))]
    }

    /// The hash this table gives `key`: the same in every process for a table read back.
    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The positions of the entries whose key has `hash` (see [`hash`](Self::hash)), for a
    /// caller keeping something per entry beside the table, in [`ids`](Self::ids) order.
    pub fn entries_of(&self, hash: u64) -> Range<usize> {
        let at = bucket(hash, self.bucket_bits);
        let (first, last) = (self.bucket_starts[at], self.bucket_starts[at + 1]);
        let in_bucket = &self.hashes[first as usize..last as usize];
        let start = first as usize + in_bucket.partition_point(|&h| h < hash);
        let end = start + self.hashes[start..last as usize].partition_point(|&h| h == hash);
        start..end
    }

    /// The term of every entry, in the table's order.
    pub fn ids(&self) -> &[TermId] {
        &self.ids
    }

    /// Appends the table to a persisted index's body.
    pub fn write(&self, out: &mut FlatWriter) {
        out.u64(self.hasher.seed);
        out.u64s(&self.hashes);
        out.u32s(&self.ids);
    }

    /// Reads a table [`write`](Self::write) appended, for an index of `terms` terms.
    pub fn read(body: &mut FlatReader<'_>, terms: usize) -> Result<KeyTable, FlatError> {
        let hasher = KeyHasher {
            seed: body.u64("key table seed")?,
        };
        let hashes = body.u64s("key table hashes")?;
        let ids = body.u32s("key table ids")?;
        let invalid = |reason: &str| FlatError::Invalid {
            what: "key table",
            reason: reason.to_owned(),
        };
        if hashes.len() != ids.len() {
            return Err(invalid("hashes and ids differ in number"));
        }
        if !hashes.is_sorted() {
            return Err(invalid("hashes out of order"));
        }
        if ids.iter().any(|&id| id as usize >= terms) {
            return Err(invalid("an id past the last term"));
        }
        Ok(KeyTable::from_sorted(hasher, hashes, ids))
    }
}

/// The hash of keys in one table: SipHash-1-3 (the standard library's) keyed by a seed.
///
/// The standard library does not promise the same algorithm in every release; a persisted
/// index records [`KeyHasher::probe`] and is rebuilt when a build hashes differently.
#[derive(Clone, Copy)]
struct KeyHasher {
    seed: u64,
}

impl KeyHasher {
    /// A hasher with a seed no one can predict.
    fn random() -> KeyHasher {
        KeyHasher {
            seed: RandomState::new().hash_one(0u64),
        }
    }

    fn hash_one(&self, key: &str) -> u64 {
        let mut hasher = DefaultHasher::new();
        hasher.write_u64(self.seed);
        key.hash(&mut hasher);
        hasher.finish()
    }
}

/// The hash this build gives a fixed key under a fixed seed: equal in the process that wrote
/// a persisted index and the one reading it exactly when their tables hash alike.
pub(super) fn hash_probe() -> u64 {
    KeyHasher {
        seed: 0x746f_6c6d_6163_6800,
    }
    .hash_one("一带一路 Belt and Road пояс")
}

/// The bucket of a hash: its top `bits` bits.
fn bucket(hash: u64, bits: u32) -> usize {
    (hash >> (u64::BITS - bits)) as usize
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
    }

    #[test]
    fn finds_keys_among_many() {
        let keys: Vec<String> = (0..5000).map(|i| format!("k{}", i % 3000)).collect();
        let table = KeyTable::build(
            keys.iter()
                .enumerate()
                .map(|(id, k)| (k.as_str(), id as u32)),
        );
        for i in 0..3000u32 {
            let want: Vec<TermId> = [i, i + 3000].into_iter().filter(|&id| id < 5000).collect();
            assert_eq!(table.candidates(&format!("k{i}")), want);
        }
    }

    #[test]
    fn a_table_read_back_finds_what_it_found() {
        let keys = ["дух", "road", "дух", "一带一路"];
        let table = KeyTable::build(keys.iter().enumerate().map(|(id, k)| (*k, id as u32)));
        let mut out = FlatWriter::default();
        table.write(&mut out);
        let read = KeyTable::read(&mut FlatReader::new(&out.bytes), keys.len()).unwrap();
        for key in keys {
            assert_eq!(read.candidates(key), table.candidates(key));
        }
        // Ids beyond the index it is read for are refused.
        assert!(KeyTable::read(&mut FlatReader::new(&out.bytes), 2).is_err());
    }
}
