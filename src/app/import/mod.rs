//! Imports: a file read, checked, spooled, analyzed and committed.
//!
//! - [`plan`]: what an import was asked to do, checked;
//! - `read`: the file's format and its entries, whatever the format;
//! - `pipeline`: one import on a blocking thread: each entry checked as the unary API checks
//!   it, the sound ones spooled (and, for a memory, analyzed for its index while the file is
//!   read), then committed or refused as a whole;
//! - [`report`]: the progress events and the final report, in domain terms;
//! - [`upload`]: what the import and the feeder of its bytes share about the upload;
//! - here: admission, the memory index analysis, and the commit through the
//!   [write path](super::writes), which publishes what the store kept to the index concerned.
//!
//! The contract between the store's commit and the index's publication is one type per
//! side of the boundary: the store reports each applied batch as a [`store::Applied`]
//! (concepts as stored; which units were not stored as spooled, and those as stored), and
//! `publish_units` is the only code that reads it for a memory, turning it into the
//! [`ImportOutcome`] the index applies to the part analyzed beforehand (`AnalyzedImport`).
//!
//! [`store::Applied`]: crate::store::Applied

mod pipeline;
pub mod plan;
mod read;
pub mod report;
pub mod upload;

pub use plan::{check_target, Plan, Target};
pub use report::{ImportEvent, Problem, Progress, Report, Severity};
pub use upload::{Broken, UploadState};

use tokio::sync::OwnedSemaphorePermit;

use super::claims::Claims;
use super::termbase::ensure_collection;
use super::work::{self, Admission, Heavy};
use super::writes::{Change, WritePath};
use super::{now_ms, AppError};
use crate::index::memory::{ImportOutcome, ImportPart, LiveMemoryIndex};
use crate::model::{OnConflict, TranslationUnit};
use crate::store::{Applied, ImportCounts, ImportSpool, Store, StoreError};

/// Committed entries published to the term index at a time: each publication rebuilds or
/// merges index structures, so a large import publishes in large groups.
const PUBLISH_ENTRIES: usize = 100_000;
/// Spooled batches of units queued towards the index analysis of a memory import: enough to
/// keep the analysis busy, few enough that little of the import is held in memory at once.
/// When the analysis falls behind, reading the file waits for it (both are CPU work).
const ANALYSIS_QUEUE: usize = 8;

/// Imports of one server: their admission, the ids they claim, their commits. Cheap to clone.
#[derive(Clone)]
pub struct Imports {
    store: Store,
    writes: WritePath,
    admission: Admission,
    claims: Claims,
}

impl Imports {
    /// Imports into `store` through `writes`.
    pub fn new(store: Store, writes: WritePath, admission: Admission, claims: Claims) -> Imports {
        Imports {
            store,
            writes,
            admission,
            claims,
        }
    }

    /// A permit for one import, held until it ends; [`AppError::Busy`] when
    /// [`super::Limits::import`] imports run already.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        self.admission.admit(Heavy::Import)
    }

    /// The concept ids imports in progress will write.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The store the import reads ids from and spools to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Commits a spooled import of concepts into `collection` (created if missing) and
    /// publishes them to the term index in groups as the batches are written.
    pub async fn commit_concepts(
        &self,
        spool: ImportSpool,
        on_conflict: OnConflict,
        collection: String,
    ) -> Result<ImportCounts, AppError> {
        let change = Change::Import {
            import: spool.import(),
            target: collection.clone(),
        };
        self.writes
            .termbase(
                change,
                move |store, terms| async move {
                    ensure_collection(&store, &collection).await?;
                    let runtime = tokio::runtime::Handle::current();
                    work::run("import commit", move || {
                        // Each publication rebuilds the term index once the recent writes
                        // outgrow its delta, so concepts are published in large groups, not
                        // per batch.
                        let mut unpublished = Vec::new();
                        let counts = runtime.block_on(store.commit_import(
                            spool,
                            on_conflict,
                            now_ms(),
                            |applied| {
                                unpublished.extend(applied.concepts);
                                if unpublished.len() >= PUBLISH_ENTRIES {
                                    terms.upserted_many(std::mem::take(&mut unpublished));
                                }
                            },
                        ));
                        if !unpublished.is_empty() {
                            terms.upserted_many(unpublished);
                        }
                        Ok(counts?)
                    })
                    .await?
                },
                |counts, _| counts,
            )
            .await
    }

    /// Commits a spooled import of units into `memory` and publishes them: the part
    /// `analysis` built while the file was read, as the commit kept its units.
    pub async fn commit_units(
        &self,
        spool: ImportSpool,
        on_conflict: OnConflict,
        memory: String,
        analysis: Option<Analysis>,
    ) -> Result<ImportCounts, AppError> {
        let change = Change::Import {
            import: spool.import(),
            target: memory.clone(),
        };
        self.writes
            .memory(
                change,
                move |store, index| async move {
                    // The import's index part is published when the commit ends: with what
                    // the commit wrote should it fail part way, since the store then holds
                    // that much. The channel is not bounded: the publication analyzes the
                    // units the commit rewrote as they come, and a bound would make the
                    // commit wait for that analysis. What it can hold is bounded by the
                    // import: the units stored otherwise than spooled (merged or replacing),
                    // which the publication's part holds anyway once built.
                    let (batches, committed) = std::sync::mpsc::channel();
                    let reader = store.clone();
                    let publication = work::run("import publication", move || {
                        let analyzed = match analysis {
                            Some(analysis) => analysis.finish()?,
                            None => AnalyzedImport::default(),
                        };
                        publish_units(&index, &reader, &memory, analyzed, committed)?;
                        Ok::<_, AppError>(())
                    });
                    let runtime = tokio::runtime::Handle::current();
                    let counts = work::run("import commit", move || {
                        runtime.block_on(store.commit_import(
                            spool,
                            on_conflict,
                            now_ms(),
                            |applied| {
                                // Fails only if the publication is gone (it panicked),
                                // reported below.
                                let _ = batches.send(applied);
                            },
                        ))
                    })
                    .await?;
                    publication.await??;
                    Ok(counts?)
                },
                |counts, _| counts,
            )
            .await
    }
}

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
    fn finish(self) -> Result<AnalyzedImport, AppError> {
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
struct AnalyzedImport {
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
fn publish_units(
    index: &LiveMemoryIndex,
    store: &Store,
    memory: &str,
    analyzed: AnalyzedImport,
    batches: impl IntoIterator<Item = Applied>,
) -> Result<(), StoreError> {
    let AnalyzedImport {
        mut part,
        positions,
        left_out,
    } = analyzed;
    part.build();
    // Spool positions: of the units not stored as spooled, and where the commit got to.
    let (mut not_as_spooled, mut committed) = (Vec::new(), 0);
    let mut left_out = left_out.into_iter().peekable();
    let mut failure = None;
    let rewritten = ImportPart::analyze(batches.into_iter().flat_map(|applied| {
        let first = committed;
        not_as_spooled.extend(applied.units_not_as_spooled.iter().map(|&at| first + at));
        committed += applied.unit_entries;
        // A unit left out of the part because its id was stored, but added as spooled all
        // the same (the stored one was deleted meanwhile), is read back as stored.
        let mut added = Vec::new();
        while let Some((position, id)) = left_out.next_if(|(p, _)| (*p as usize) < committed) {
            let at = position as usize - first;
            if applied.units_not_as_spooled.binary_search(&at).is_ok() {
                continue;
            }
            match store.unit(memory, &id) {
                Ok(unit) => added.extend(unit),
                Err(error) => failure = Some(error),
            }
        }
        let rewritten = applied.units_rewritten.into_iter().map(|(_, unit)| unit);
        added.into_iter().chain(rewritten)
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
    index.insert_import(memory, part, &outcome, rewritten);
    Ok(())
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
        store
            .put_units("m", &[left_out, analyzed.clone()])
            .await
            .unwrap();
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
        tokio::task::spawn_blocking(move || {
            publish_units(&published, &store, "m", analyzed, [batch])
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
            .search(&query)
            .iter()
            .map(|m| m.target.clone())
            .collect();
        assert_eq!(found, ["перевод: x"]);
    }
}
