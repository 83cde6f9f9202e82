//! The index the server searches while it changes: readers take the current snapshot without
//! ever waiting, writers prepare the next snapshot and publish it in one atomic swap.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use super::MemoryIndex;
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

    /// Publishes units of any memories (added, or replacing units with the same memory and
    /// id) once `items` ends, building their part while they come; see
    /// [`MemoryIndex::insert_stream`].
    pub fn insert_stream(
        &self,
        items: impl IntoIterator<Item = (String, TranslationUnit)>,
        expected: usize,
    ) {
        self.update(|index| index.insert_stream(items, expected));
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
