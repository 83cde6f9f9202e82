//! The memory index side of an import: the units analyzed on a thread of their own as they
//! are spooled ([`Analysis`]), and their publication once the store has committed them
//! (`publish_units`), which hands the index what the store did with each batch
//! ([`Applied`]), with the units the analysis left out read back where the commit added
//! them.

use crate::app::AppError;
use crate::index::memory::{ImportPart, LiveMemoryIndex};
use crate::model::{Applied, TranslationUnit};
use crate::store::{Store, StoreError};

/// Spooled batches of units queued towards the index analysis of a memory import: enough to
/// keep the analysis busy, few enough that little of the import is held in memory at once.
/// When the analysis falls behind, reading the file waits for it (both are CPU work).
const ANALYSIS_QUEUE: usize = 8;

/// The memory index analysis of an import's units, on another thread, fed each batch as it
/// is spooled: the index build overlaps reading the file, where it would otherwise follow the
/// whole commit.
pub struct Analysis {
    units: std::sync::mpsc::SyncSender<Vec<TranslationUnit>>,
    analyzed: std::thread::JoinHandle<ImportPart>,
    /// Whether units with an id already stored are left out: the memory held units when the
    /// import began. Such a unit is all but sure to be kept, merged or replaced rather than
    /// added as read, so analyzing it would only double the memory a re-import takes.
    leave_out_stored: bool,
    /// Spool positions of the units sent for analysis, ascending.
    positions: Vec<u32>,
    /// Units left out: spool position and id.
    left_out: Vec<(u32, String)>,
    /// Units spooled so far.
    spooled: u32,
}

impl Analysis {
    /// Starts the analysis of units spooled for `memory`, on a thread of its own.
    pub fn start(store: &Store, memory: &str) -> Result<Analysis, AppError> {
        let (units, queue) = std::sync::mpsc::sync_channel::<Vec<TranslationUnit>>(ANALYSIS_QUEUE);
        let analyzed = std::thread::Builder::new()
            .name("import-analysis".into())
            .spawn(move || ImportPart::analyze(queue.into_iter().flatten()))
            .map_err(|e| AppError::Internal {
                what: "starting the import's index analysis",
                detail: e.to_string(),
            })?;
        Ok(Analysis {
            units,
            analyzed,
            leave_out_stored: !store.memory_is_empty(memory)?,
            positions: Vec::new(),
            left_out: Vec::new(),
            spooled: 0,
        })
    }

    /// Queues spooled units for analysis, waiting while `ANALYSIS_QUEUE` batches are
    /// queued.
    pub fn send(
        &mut self,
        store: &Store,
        memory: &str,
        units: impl Iterator<Item = TranslationUnit>,
    ) -> Result<(), AppError> {
        let mut batch = Vec::new();
        for unit in units {
            let position = self.spooled;
            self.spooled += 1;
            if self.leave_out_stored && store.has_unit(memory, &unit.id)? {
                self.left_out.push((position, unit.id));
                continue;
            }
            self.positions.push(position);
            batch.push(unit);
        }
        // Fails only if the analysis panicked, which `finish` reports.
        let _ = self.units.send(batch);
        Ok(())
    }

    /// The analyzed part, once every queued unit is analyzed.
    pub(super) fn finish(self) -> Result<AnalyzedImport, AppError> {
        drop(self.units);
        let part = self.analyzed.join().map_err(|_| {
            tracing::error!("the import's index analysis panicked");
            AppError::Internal {
                what: "the import's index analysis",
                detail: "panicked".into(),
            }
        })?;
        Ok(AnalyzedImport {
            part,
            positions: self.positions,
            left_out: self.left_out,
        })
    }
}

/// The units of an import as analyzed while its file was read, for [`publish_units`].
#[derive(Default)]
pub(super) struct AnalyzedImport {
    /// The analyzed units.
    part: ImportPart,
    /// The spool position of each unit of `part`, ascending.
    positions: Vec<u32>,
    /// The units left out of `part` because a unit with their id was stored: spool position
    /// and id, ascending.
    left_out: Vec<(u32, String)>,
}

/// Makes a committed import of `memory` searchable. `analyzed` holds its units as spooled,
/// analyzed while the file was read; `batches` yields what the commit did with each batch of
/// them, and ends when the commit has ended. The part's search structures are built while the
/// commit writes, and so is a part of the units stored otherwise than spooled (merged or
/// replacing). Call on the blocking pool, within the memory write turn.
pub(super) fn publish_units(
    index: &LiveMemoryIndex,
    store: &Store,
    memory: &str,
    analyzed: AnalyzedImport,
    batches: impl IntoIterator<Item = Applied>,
) -> Result<(), StoreError> {
    let AnalyzedImport {
        part,
        positions,
        left_out,
    } = analyzed;
    // A unit left out of the part because its id was stored, but added as spooled all the
    // same (the stored one was deleted meanwhile), is read back as stored and published with
    // the units the batch rewrote, before them.
    let mut left_out = left_out.into_iter().peekable();
    let mut committed = 0;
    let batches = batches.into_iter().map(|mut applied| {
        let first = committed;
        committed += applied.unit_entries;
        let mut added = Vec::new();
        while let Some((position, id)) = left_out.next_if(|(p, _)| (*p as usize) < committed) {
            let at = position as usize - first;
            if applied.units_not_as_spooled.binary_search(&at).is_err() {
                added.extend(
                    store
                        .unit(memory, &id)?
                        .map(|unit| (memory.to_owned(), unit)),
                );
            }
        }
        applied.units_rewritten.splice(0..0, added);
        Ok(applied)
    });
    index.publish_import(memory, part, &positions, batches)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::index::memory::{MemoryIndex, MemoryQuery};
    use crate::model::{Lang, Segment};

    fn unit(id: &str, en: &str) -> TranslationUnit {
        TranslationUnit {
            id: id.into(),
            segments: vec![
                Segment {
                    lang: Lang::en(),
                    text: en.into(),
                    tags: Vec::new(),
                },
                Segment {
                    lang: Lang::ru(),
                    text: format!("перевод: {id}"),
                    tags: Vec::new(),
                },
            ],
            origin: "f.tmx".into(),
            created_ms: 1,
            metadata: Vec::new(),
        }
    }

    /// A unit is left out of an import's analysis when its id is stored as the file is read.
    /// Should the commit add it as spooled all the same (the stored one was deleted
    /// meanwhile), the publication reads it back from the store.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_unit_left_out_of_the_analysis_but_added_is_published_as_stored() {
        let store = Store::temporary().unwrap();
        let index = Arc::new(LiveMemoryIndex::new(MemoryIndex::new()));
        let (left_out, analyzed) = (unit("x", "the unit left out"), unit("y", "the unit read"));
        // What the commit wrote: both units, as spooled.
        store.put_units("m", &[left_out, analyzed.clone()]).unwrap();
        let analyzed = AnalyzedImport {
            part: ImportPart::analyze([analyzed]),
            positions: vec![1],
            left_out: vec![(0, "x".into())],
        };
        let batch = Applied {
            unit_entries: 2,
            ..Applied::default()
        };
        let published = Arc::clone(&index);
        let publishing = store.clone();
        tokio::task::spawn_blocking(move || {
            publish_units(&published, &publishing, "m", analyzed, [batch])
        })
        .await
        .unwrap()
        .unwrap();
        let snapshot = index.snapshot();
        assert_eq!(snapshot.len(), 2);
        let query = MemoryQuery {
            text: "the unit left out".into(),
            source: Lang::en(),
            target: Lang::ru(),
            limit: 5,
            min_score: 1.0,
            memories: Vec::new(),
        };
        let found: Vec<_> = snapshot
            .search(&query, &store)
            .iter()
            .map(|m| m.target.clone())
            .collect();
        assert_eq!(found, ["перевод: x"]);
    }
}
