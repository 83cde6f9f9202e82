//! The memory revision and its log: which units each memory write touched, so that a copy of
//! the memory index saved at one revision can be brought up to date by re-reading only those
//! units instead of the whole store.
//!
//! Every write of units (AddUnits, DeleteUnits, DeleteMemory, each batch an import applies)
//! appends one record to the `memory_changes` tree, keyed by the next memory revision: the
//! keys (memory NUL id) of the units it adds, replaces or removes. The record is inserted
//! *before* the units are written and both are made durable by the same flush. sled recovers
//! a prefix of its operations after a crash, so every unit change that survives has its
//! record; a record whose units did not survive costs only a needless re-read, since the
//! replay reads each unit's state from the store, never from the record. This holds for an
//! import's units too, which are inserted one by one rather than in one batch (see
//! `apply.rs`), and costs one insert per write, never one per unit.
//!
//! The memory revision is the log's last key. [`Store::trim_memory_log`] drops the records
//! before a revision but always keeps the last one, so the revision survives a restart.

use std::sync::atomic::Ordering;

use super::{codec, keys, Store, StoreError};
use crate::model::TranslationUnit;

/// What the memory log says changed after a revision.
#[derive(Debug, Default)]
pub struct MemoryDelta {
    /// The memory revision the delta brings an index up to.
    pub revision: u64,
    /// Per unit touched, once: its memory, its id, and the unit as stored now (`None` when
    /// it is no longer stored).
    pub units: Vec<(String, String, Option<TranslationUnit>)>,
}

impl Store {
    /// The last memory revision written: 0 before the first memory write.
    pub fn memory_revision(&self) -> u64 {
        self.memory_revision.load(Ordering::Acquire)
    }

    /// The memory revision at open: the log's last key (0 for an empty log).
    pub(super) fn logged_memory_revision(log: &sled::Tree) -> Result<u64, StoreError> {
        log.last()?
            .map_or(Ok(0), |(key, _)| parse_memory_change_key(&key))
    }

    /// Appends the record of a write that touches the units under `unit_keys`, at the next
    /// memory revision; call before writing the units, and flush after (see the module
    /// docs). The caller holds the memory write turn (or runs before serving).
    pub(super) fn log_memory_write<'k>(
        &self,
        unit_keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> Result<u64, StoreError> {
        let record: Vec<&[u8]> = unit_keys.into_iter().collect();
        let revision = self.memory_revision() + 1;
        self.memory_changes
            .insert(keys::memory_change(revision), codec::encode(&record))?;
        self.memory_revision.store(revision, Ordering::Release);
        Ok(revision)
    }

    /// The units written after memory revision `after`, with their state now; `None` when the
    /// log no longer holds every record after it (trimmed), or `after` is beyond the store's
    /// revision (a file from elsewhere, or from a store restored from an older backup).
    pub fn memory_changes_after(&self, after: u64) -> Result<Option<MemoryDelta>, StoreError> {
        let revision = self.memory_revision();
        if after > revision {
            return Ok(None);
        }
        if after < revision {
            // The record just after `after` must be there (records are contiguous).
            let next = keys::memory_change(after + 1);
            if !self.memory_changes.contains_key(next)? {
                return Ok(None);
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut units = Vec::new();
        for entry in self.memory_changes.range(keys::memory_change(after + 1)..) {
            let (key, bytes) = entry?;
            let record: Vec<Vec<u8>> = codec::decode("memory_changes", &key, &bytes)?;
            for unit_key in record {
                if !seen.insert(unit_key.clone()) {
                    continue;
                }
                let (memory, id) =
                    keys::parse_unit(&unit_key).ok_or_else(|| StoreError::Corrupt {
                        tree: "memory_changes",
                        key: String::from_utf8_lossy(&key).into_owned(),
                        reason: "a unit key is not memory NUL id".into(),
                    })?;
                let unit = self
                    .units
                    .get(&unit_key)?
                    .map(|bytes| codec::decode("units", &unit_key, &bytes))
                    .transpose()?;
                units.push((memory.to_owned(), id.to_owned(), unit));
            }
        }
        Ok(Some(MemoryDelta { revision, units }))
    }

    /// Drops the log's records before `revision` (an index saved at `revision` no longer needs
    /// them), keeping the last record whatever `revision` is.
    pub fn trim_memory_log(&self, revision: u64) -> Result<(), StoreError> {
        let end = revision.min(self.memory_revision());
        let mut batch = sled::Batch::default();
        for entry in self.memory_changes.range(..keys::memory_change(end)) {
            let (key, _) = entry?;
            batch.remove(key);
        }
        self.memory_changes.apply_batch(batch)?;
        Ok(())
    }
}

fn parse_memory_change_key(key: &[u8]) -> Result<u64, StoreError> {
    keys::parse_memory_change(key).ok_or_else(|| StoreError::Corrupt {
        tree: "memory_changes",
        key: String::from_utf8_lossy(key).into_owned(),
        reason: "key is not a big-endian revision".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, Segment};

    fn unit(id: &str, text: &str) -> TranslationUnit {
        TranslationUnit {
            id: id.into(),
            segments: vec![Segment {
                lang: Lang::en(),
                text: text.into(),
                tags: vec![],
            }],
            origin: String::new(),
            created_ms: 1,
            metadata: vec![],
        }
    }

    #[test]
    fn every_unit_write_is_logged_and_the_delta_reads_the_units_as_stored() {
        let store = Store::temporary().unwrap();
        assert_eq!(store.memory_revision(), 0);
        store
            .put_units("m", &[unit("a", "one"), unit("b", "two")])
            .unwrap();
        store.put_units("m", &[unit("a", "uno")]).unwrap();
        store.delete_units("m", &["b".into()]).unwrap();
        store.put_units("n", &[unit("c", "three")]).unwrap();
        store.delete_memory("n").unwrap();
        assert_eq!(store.memory_revision(), 5);
        let delta = store.memory_changes_after(1).unwrap().unwrap();
        assert_eq!(delta.revision, 5);
        let summary: Vec<(String, String, Option<String>)> = delta
            .units
            .into_iter()
            .map(|(m, id, u)| (m, id, u.map(|u| u.segments[0].text.clone())))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("m".into(), "a".into(), Some("uno".into())),
                ("m".into(), "b".into(), None),
                ("n".into(), "c".into(), None),
            ]
        );
        assert!(store.memory_changes_after(6).unwrap().is_none(), "ahead");
        store.trim_memory_log(4).unwrap();
        assert!(store.memory_changes_after(2).unwrap().is_none(), "trimmed");
        assert_eq!(
            store.memory_changes_after(3).unwrap().unwrap().units.len(),
            1
        );
        store.trim_memory_log(u64::MAX).unwrap();
        assert_eq!(
            store.memory_changes_after(5).unwrap().unwrap().units.len(),
            0
        );
        assert_eq!(store.memory_revision(), 5, "the last record is kept");
    }
}
