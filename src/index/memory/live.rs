//! The index the server searches while it changes: readers take the current snapshot without
//! ever waiting, writers prepare the next snapshot and publish it in one atomic swap.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;

use super::import::ImportPart;
use super::outcome::ImportOutcome;
use super::snapshot::MemoryIndex;
use crate::model::{Applied, TranslationUnit};

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

    /// Publishes committed units of `memory` (added, or replacing units with the same ids),
    /// written at memory `revision`: one new snapshot that holds both.
    pub fn insert(&self, memory: &str, units: Vec<Arc<TranslationUnit>>, revision: u64) {
        self.update(|index| {
            index.insert_many(memory, units);
            index.set_revision(revision);
        });
    }

    /// Publishes a committed import of `memory`: the units of `part` as `outcome` says the
    /// store kept them, then `rewritten`, the units stored otherwise than read (merged or
    /// replacing), as stored, later ones winning; see [`MemoryIndex::insert_import`].
    fn insert_import(
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

    /// Publishes a committed import of `memory`. `part` holds its units as spooled, analyzed
    /// while the file was read, the unit at spool position `positions[slot]` in each slot
    /// (ascending); `batches` yields what the commit did with each batch, in commit order, and
    /// ends when the commit has ended. The part's search structures are built, and the units
    /// stored otherwise than spooled analyzed, while the commit writes. Should `batches`
    /// yield an error, nothing is published and the error is the answer. Call on a blocking
    /// thread.
    pub fn publish_import<E>(
        &self,
        memory: &str,
        mut part: ImportPart,
        positions: &[u32],
        batches: impl IntoIterator<Item = Result<Applied, E>>,
    ) -> Result<(), E> {
        part.build();
        // Spool positions: of the units not stored as spooled, and where the commit got to.
        let (mut not_as_spooled, mut committed) = (Vec::new(), 0);
        let mut failure = None;
        let rewritten = ImportPart::analyze(batches.into_iter().flat_map(|applied| {
            let applied = match applied {
                Ok(applied) => applied,
                Err(error) => {
                    failure = Some(error);
                    Applied::default()
                }
            };
            let first = committed;
            not_as_spooled.extend(applied.units_not_as_spooled.iter().map(|&at| first + at));
            committed += applied.unit_entries;
            applied.units_rewritten.into_iter().map(|(_, unit)| unit)
        }));
        if let Some(error) = failure {
            return Err(error);
        }
        // The same, as positions in the part.
        let mut outcome = ImportOutcome {
            committed: positions.partition_point(|&p| (p as usize) < committed),
            not_stored_as_read: Vec::new(),
        };
        let mut dropped = not_as_spooled.into_iter().peekable();
        for (slot, &position) in positions.iter().enumerate() {
            while dropped.next_if(|&p| p < position as usize).is_some() {}
            if dropped.next_if_eq(&(position as usize)).is_some() {
                outcome.not_stored_as_read.push(slot as u32);
            }
        }
        self.insert_import(memory, part, &outcome, rewritten);
        Ok(())
    }

    /// Records that the current snapshot reflects the store up to memory `revision` (see
    /// [`MemoryIndex::revision`]); an import's writer calls it once its import is published.
    pub fn reflect(&self, revision: u64) {
        self.update(|index| index.set_revision(revision));
    }

    /// Publishes committed removals, written at memory `revision`, in one new snapshot;
    /// answers how many of the ids were indexed.
    pub fn remove(&self, memory: &str, ids: &[String], revision: u64) -> usize {
        self.update(|index| {
            let removed = ids.iter().filter(|id| index.remove(memory, id)).count();
            index.set_revision(revision);
            removed
        })
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
