//! The index the server searches while it changes: readers take the current snapshot without
//! ever waiting, writers prepare the next snapshot and publish it in one atomic swap.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use super::import::ImportPart;
use super::outcome::ImportOutcome;
use super::snapshot::MemoryIndex;
use crate::model::TranslationUnit;

/// The live translation-memory index. A search holds an `Arc` of the snapshot it started on,
/// so a write in progress (even one that merges large parts) never delays it; writers are
/// applied one at a time, in the order they take the writer lock.
pub struct LiveMemoryIndex {
    current: ArcSwap<MemoryIndex>,
    writer: Mutex<()>,
}

impl LiveMemoryIndex {
    /// Serves `index` until the first write.
    pub fn new(index: MemoryIndex) -> LiveMemoryIndex {
        LiveMemoryIndex {
            current: ArcSwap::from_pointee(index),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot; cheap, and never blocked by writers.
    pub fn snapshot(&self) -> Arc<MemoryIndex> {
        self.current.load_full()
    }

    /// Publishes committed units of `memory` (added, or replacing units with the same ids).
    pub fn insert(&self, memory: &str, units: Vec<Arc<TranslationUnit>>) {
        self.update(|index| index.insert_many(memory, units));
    }

    /// Publishes a committed import of `memory`: the units of `part` as `outcome` says the
    /// store kept them, then `rewritten`, the units stored otherwise than read (merged or
    /// replacing), as stored, later ones winning; see [`MemoryIndex::insert_import`].
    pub fn insert_import(
        &self,
        memory: &str,
        part: ImportPart,
        outcome: &ImportOutcome,
        rewritten: ImportPart,
    ) {
        let all = ImportOutcome {
            committed: rewritten.len(),
            not_stored_as_read: Vec::new(),
        };
        self.update(|index| {
            index.insert_import(memory, part, outcome);
            if !rewritten.is_empty() {
                index.insert_import(memory, rewritten, &all);
            }
        });
    }

    /// Publishes committed removals; answers how many of the ids were indexed.
    pub fn remove(&self, memory: &str, ids: &[String]) -> usize {
        self.update(|index| ids.iter().filter(|id| index.remove(memory, id)).count())
    }

    /// Applies `change` to a copy of the current snapshot and publishes the copy. The copy
    /// shares every part with the snapshot readers hold; only what `change` touches is new.
    pub fn update<R>(&self, change: impl FnOnce(&mut MemoryIndex) -> R) -> R {
        // The lock only orders writers; the index it guards is replaced, never left torn.
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = MemoryIndex::clone(&self.current.load());
        let answer = change(&mut next);
        self.current.store(Arc::new(next));
        answer
    }
}
