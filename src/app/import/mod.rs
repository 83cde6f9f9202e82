//! Imports: a file read, checked, spooled, analyzed and committed.
//!
//! - [`plan`]: what an import was asked to do, checked;
//! - `read`: the file's format and its entries, whatever the format;
//! - `entry`: each entry made ready for the spool and checked as the unary API checks it;
//! - `pipeline`: one import on a blocking thread: each entry read and checked, the sound
//!   ones spooled (and, for a memory, analyzed for its index while the file is read), then
//!   committed or refused as a whole;
//! - [`report`]: the progress events and the final report, in domain terms, bounded;
//! - [`job`]: imports with a client-chosen job id: their outcome kept, a retry never run
//!   twice;
//! - [`upload`]: what the import and the feeder of its bytes share about the upload;
//! - `analysis`: the memory index analysis of the units as they are spooled, and their
//!   publication as the commit kept them;
//! - here: admission, and the commit through the [write path](super::writes), which
//!   publishes what the store kept to the index concerned.
//!
//! The contract between the store's commit and the indexes' publication is one type,
//! [`model::Applied`]: the store's commit produces one per batch; the term index is given
//! its concepts, and the memory index consumes the batches themselves
//! ([`LiveMemoryIndex::publish_import`]).
//!
//! [`LiveMemoryIndex::publish_import`]: crate::index::memory::LiveMemoryIndex::publish_import
//! [`model::Applied`]: crate::model::Applied

mod analysis;
mod entry;
pub mod job;
mod pipeline;
pub mod plan;
mod read;
pub mod report;
mod staging;
pub mod upload;

pub use analysis::Analysis;
use analysis::{publish_units, AnalyzedImport};
pub use job::{ImportJob, JobGuard, JobStart, Jobs};
pub use plan::{check_job_id, check_target, Plan, Target};
pub use report::{ImportEvent, Problem, Progress, Report, Severity};
pub use staging::Staging;
pub use upload::{Broken, UploadState};

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;
use tokio_stream::{Stream, StreamExt};

use super::claims::Claims;
use super::commands::{Command, ReplicatedImport, WriteLog};
use super::memory_checkpoint::Checkpoints;
use super::termbase::ensure_collection;
use super::work::{self, Admission, Heavy};
use super::writes::{Author, Change, WritePath};
use super::{now_ms, AppError};
use crate::model::OnConflict;
use crate::store::{ImportCounts, ImportSpool, JobRecord, Staged, Store};

/// Committed entries published to the term index at a time: each publication rebuilds or
/// merges index structures, so a large import publishes in large groups.
const PUBLISH_ENTRIES: usize = 100_000;

/// About how many encoded bytes of entries one chunk of a replicated import carries: well
/// under the 1 MiB an entry of the log may hold, so that one more large entry still fits.
const CHUNK_BYTES: usize = 512 * 1024;

/// Imports of one server: their admission, the ids they claim, their commits. Cheap to clone.
#[derive(Clone)]
pub struct Imports {
    store: Store,
    writes: WritePath,
    admission: Admission,
    claims: Claims,
    /// Where the memory index is checkpointed: after each memory import commits.
    checkpoints: Arc<Checkpoints>,
    /// Who commits: each import is started on a copy made by [`Imports::by`].
    author: Author,
    jobs: Jobs,
}

impl Imports {
    /// Imports into `store` through `writes`; a memory import asks `checkpoints` for a
    /// checkpoint once committed.
    pub fn new(
        store: Store,
        writes: WritePath,
        admission: Admission,
        claims: Claims,
        checkpoints: Arc<Checkpoints>,
    ) -> Imports {
        Imports {
            jobs: Jobs::new(store.clone()),
            store,
            writes,
            admission,
            claims,
            checkpoints,
            author: Author::default(),
        }
    }

    /// These imports, committed in the name of `author`: start each import on the copy for
    /// its caller.
    pub fn by(&self, author: Author) -> Imports {
        Imports {
            author,
            ..self.clone()
        }
    }

    /// The import jobs: imports with a client-chosen id, running or kept.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// How long an import waits for its client's next message before it gives up.
    pub fn upload_idle(&self) -> std::time::Duration {
        self.admission.limits().upload_idle
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

    /// Commits `staging` into `target`: here, or in cluster mode through the replicated log
    /// (its entries in chunks, then one commit entry that every node applies; this node
    /// answers once it has applied it). With `job`, its record is written with the commit.
    pub async fn commit(
        &self,
        staging: Staging,
        target: Target,
        on_conflict: OnConflict,
        job: Option<(String, JobRecord)>,
    ) -> Result<ImportCounts, AppError> {
        match self.writes.log() {
            Some(log) => {
                let import = self
                    .publish(staging, target, on_conflict, job, &*log)
                    .await?;
                log.submit(Command::Import(import)).await?.imported()
            }
            None => self.commit_here(staging, target, on_conflict, job).await,
        }
    }

    /// Commits `staging` into `target` on this node, through its write path.
    async fn commit_here(
        &self,
        staging: Staging,
        target: Target,
        on_conflict: OnConflict,
        job: Option<(String, JobRecord)>,
    ) -> Result<ImportCounts, AppError> {
        let Staging {
            spool, analysis, ..
        } = staging;
        match target {
            Target::Collection(name) => self.commit_concepts(spool, on_conflict, name, job).await,
            Target::Memory(name) => {
                self.commit_units(spool, on_conflict, name, analysis, job)
                    .await
            }
        }
    }

    /// Appends what `staging` holds to the replicated `log` in chunks of about
    /// [`CHUNK_BYTES`]; answers the commit entry that names them. The spool here is dropped:
    /// every node, this one too, stages the chunks again when it applies the commit.
    async fn publish(
        &self,
        mut staging: Staging,
        target: Target,
        on_conflict: OnConflict,
        job: Option<(String, JobRecord)>,
        log: &dyn WriteLog,
    ) -> Result<ReplicatedImport, AppError> {
        staging.stop_analysis();
        let mut chunks = Vec::new();
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for entry in self.store.read_spool(&mut staging.spool)? {
            let (entry, encoded) = entry?;
            bytes += encoded;
            chunk.push(entry);
            if bytes >= CHUNK_BYTES {
                let entries = std::mem::take(&mut chunk);
                chunks.push(log.append(Command::ImportChunk { entries }).await?);
                bytes = 0;
            }
        }
        if !chunk.is_empty() {
            chunks.push(log.append(Command::ImportChunk { entries: chunk }).await?);
        }
        self.store.discard_import(staging.spool)?;
        Ok(ReplicatedImport {
            author: self.author.clone(),
            target,
            on_conflict,
            job,
            chunks,
        })
    }

    /// The same imports applying entry `sequence` of the replicated log, in the name of
    /// `author` (cluster mode).
    pub fn applying(&self, sequence: u64, author: Author) -> Imports {
        Imports {
            writes: self.writes.applying(sequence),
            author,
            ..self.clone()
        }
    }

    /// Applies a replicated import's commit here: its `chunks`, read from the log in order
    /// (each a list of entries), are staged, then committed through the write path.
    pub async fn apply_replicated<C>(
        &self,
        import: ReplicatedImport,
        mut chunks: C,
    ) -> Result<ImportCounts, AppError>
    where
        C: Stream<Item = Result<Vec<Staged>, AppError>> + Unpin,
    {
        let store = self.store.clone();
        let target = import.target.clone();
        let mut staging =
            work::run("staging an import", move || Staging::begin(&store, &target)).await??;
        while let Some(entries) = chunks.next().await {
            let mut entries = entries?;
            let store = self.store.clone();
            staging = work::run("staging an import", move || {
                staging.append(&store, &mut entries)?;
                Ok::<_, AppError>(staging)
            })
            .await??;
        }
        self.commit_here(staging, import.target, import.on_conflict, import.job)
            .await
    }

    /// Commits a spooled import of concepts into `collection` (created if missing) and
    /// publishes them to the term index in groups as the batches are written. With `job`,
    /// its record is written with the commit.
    async fn commit_concepts(
        &self,
        spool: ImportSpool,
        on_conflict: OnConflict,
        collection: String,
        job: Option<(String, JobRecord)>,
    ) -> Result<ImportCounts, AppError> {
        let author = self.author.0.clone();
        self.writes
            .termbase(
                import_change(&spool, &collection),
                &self.author,
                move |store, terms| async move {
                    ensure_collection(&store, &collection, &author, now_ms())?;
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
                            &author,
                            job,
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
    /// `analysis` built while the file was read, as the commit kept its units. With `job`,
    /// its record is written with the commit.
    async fn commit_units(
        &self,
        spool: ImportSpool,
        on_conflict: OnConflict,
        memory: String,
        analysis: Option<Analysis>,
        job: Option<(String, JobRecord)>,
    ) -> Result<ImportCounts, AppError> {
        let author = self.author.0.clone();
        let committed = self
            .writes
            .memory(
                import_change(&spool, &memory),
                &self.author,
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
                    let logged = store.clone();
                    let counts = work::run("import commit", move || {
                        runtime.block_on(store.commit_import(
                            spool,
                            on_conflict,
                            now_ms(),
                            &author,
                            job,
                            |applied| {
                                // Fails only if the publication is gone (it panicked),
                                // reported below.
                                let _ = batches.send(applied);
                            },
                        ))
                    })
                    .await?;
                    publication.await??;
                    let counts = counts?;
                    Ok((counts, logged.memory_revision()))
                },
                |(counts, revision), index| {
                    index.reflect(revision);
                    counts
                },
            )
            .await;
        if committed.is_ok() {
            self.checkpoints.request();
        }
        committed
    }
}

/// The write path's name for the commit of the import spooled in `spool` into `target`.
fn import_change(spool: &ImportSpool, target: &str) -> Change {
    Change::Import {
        import: spool.import(),
        target: target.to_owned(),
    }
}
