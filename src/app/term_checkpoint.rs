//! The term index across restarts: read back from its file and brought up to date from the
//! change log at start ([`open_term_index`]), written again at checkpoints
//! ([`Checkpoints`]).
//!
//! At start the file (`index::TERM_INDEX_FILE` in the data directory) is read if it was
//! written for this store by this build, and every concept the change log names after the
//! file's revision is read from the store and applied: upserted if it is there, deleted if
//! not; a collection deleted takes the concepts the file had in it. A missing or unusable
//! file, or one older than the oldest record the log keeps, is one `warn!` and a build from
//! the store, as without a file.
//!
//! A checkpoint writes the current snapshot, stamped with the revision last published to the
//! change feed, on the blocking pool: the snapshot is immutable and the termbase's write turn
//! is never taken, so writes go on meanwhile. A write published after the stamp may be in the
//! snapshot too; the next start applies it again, which changes nothing. Checkpoints are
//! written at graceful shutdown, and by a background task that looks every
//! [`CHECK_EVERY`]: when [`CHECKPOINT_CHANGES`] revisions or more are new (so a large import
//! is written within seconds of its end), or when any is and the last checkpoint is
//! [`CHECKPOINT_AGE`] old. Under a steady stream of writes the first rule alone would write
//! a large index back to back, taking a core and the disk from the writes: the task never
//! starts one sooner after the last than [`IDLE_FACTOR`] times the last one took.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::changes::Changes;
use super::termbase::priorities;
use super::{work, AppError};
use crate::index::{Stamp, TermFileError, TermSearch, TERM_INDEX_FILE};
use crate::store::{ChangeKind, Store, StoreError};

/// New revisions that make the background task write a checkpoint at once.
pub const CHECKPOINT_CHANGES: u64 = 1_000;

/// Age of the last checkpoint after which any new revision is written.
pub const CHECKPOINT_AGE: Duration = Duration::from_secs(60);

/// How often the background task looks at the revision.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// The background task waits this many times as long as the last checkpoint took before it
/// writes the next one, so that checkpoints take at most about a tenth of one core.
pub const IDLE_FACTOR: u32 = 10;

/// Change records read at a time while a restored index is brought up to date.
const CHANGES_PAGE: usize = 10_000;

/// How the term index was obtained at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermIndexSource {
    /// Read from the file, then brought up to date.
    File {
        /// The revision the file reflected.
        revision: u64,
        /// Concepts read from the store and applied over it.
        applied: usize,
    },
    /// Built from every concept in the store.
    Store {
        /// Why the file was not used.
        reason: String,
    },
}

/// The term index over `store`, from the file in `data_dir` when it can be used, and how it
/// was obtained. Blocking: run it on the blocking pool.
pub fn open_term_index(
    store: &Store,
    data_dir: &Path,
) -> Result<(TermSearch, TermIndexSource), StoreError> {
    let path = data_dir.join(TERM_INDEX_FILE);
    let started = Instant::now();
    let reason = match TermSearch::restore(&path, store.id(), priorities(store)?) {
        Ok((search, revision)) => match bring_up_to_date(store, &search, revision)? {
            Ok(applied) => {
                tracing::info!(
                    revision,
                    applied,
                    seconds = started.elapsed().as_secs_f64(),
                    "term index read from its file and brought up to date"
                );
                return Ok((search, TermIndexSource::File { revision, applied }));
            }
            Err(reason) => reason,
        },
        Err(error) => error.to_string(),
    };
    tracing::warn!(
        file = %path.display(),
        %reason,
        "the term index file was not used; building the term index from the store"
    );
    let started = Instant::now();
    let concepts = store.concepts_after(None).collect::<Result<Vec<_>, _>>()?;
    let search = TermSearch::new(concepts, priorities(store)?);
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "term index built from the store"
    );
    Ok((search, TermIndexSource::Store { reason }))
}

/// Applies to `search`, restored at `revision`, every concept the change log names after it;
/// answers how many, or why the log cannot bring it up to date.
fn bring_up_to_date(
    store: &Store,
    search: &TermSearch,
    revision: u64,
) -> Result<Result<usize, String>, StoreError> {
    let current = store.revision();
    if revision > current {
        return Ok(Err(format!(
            "the file is at revision {revision}, past the store's {current}"
        )));
    }
    let oldest = store.oldest_change()?;
    if revision < current && oldest > revision + 1 {
        return Ok(Err(format!(
            "the file is at revision {revision} and the change log starts at {oldest}"
        )));
    }
    let mut ids = HashSet::new();
    let mut deleted_collections = HashSet::new();
    let mut after = revision;
    loop {
        let page = store.changes_between(after, current, CHANGES_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.revision;
        for record in page {
            match record.what {
                ChangeKind::ConceptUpserted { id, .. } | ChangeKind::ConceptDeleted { id, .. } => {
                    ids.insert(id);
                }
                ChangeKind::CollectionDeleted { name, .. } => {
                    deleted_collections.insert(name);
                }
                // Priorities are read from the store at every start.
                ChangeKind::CollectionUpserted { .. } => {}
            }
        }
    }
    ids.extend(search.ids_in_collections(&deleted_collections));
    let mut upserted = Vec::new();
    let mut deleted = Vec::new();
    for id in &ids {
        match store.concept(id)? {
            Some(concept) => upserted.push(concept),
            None => deleted.push(id.clone()),
        }
    }
    if !upserted.is_empty() {
        search.upserted_many(upserted);
    }
    if !deleted.is_empty() {
        search.deleted_many(deleted);
    }
    Ok(Ok(ids.len()))
}

/// Why a checkpoint was not written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be written.
    #[error("the term index checkpoint was not written: {0}")]
    File(#[from] TermFileError),
    /// The work on the blocking pool panicked (logged where it happened).
    #[error(transparent)]
    Task(#[from] AppError),
}

/// A checkpoint in the file.
struct Written {
    /// The store revision it holds.
    revision: u64,
    /// When it was written.
    at: Instant,
    /// How long writing it took.
    took: Duration,
}

/// Writes the term index to its file, one checkpoint at a time. Cheap to clone.
#[derive(Clone)]
pub struct Checkpoints {
    store: Store,
    search: Arc<TermSearch>,
    changes: Changes,
    path: PathBuf,
    /// The last checkpoint written (or read at start), `None` before the first; held while
    /// one is written.
    last: Arc<Mutex<Option<Written>>>,
}

impl Checkpoints {
    /// Checkpoints of `search` into `data_dir`; `revision` is the one its file holds already
    /// (`None` when it holds none that is of use).
    pub fn new(
        store: Store,
        search: Arc<TermSearch>,
        changes: Changes,
        data_dir: &Path,
        revision: Option<u64>,
    ) -> Checkpoints {
        // A store without a usable file is checkpointed at the first look.
        Checkpoints {
            store,
            search,
            changes,
            path: data_dir.join(TERM_INDEX_FILE),
            last: Arc::new(Mutex::new(revision.map(|revision| Written {
                revision,
                at: Instant::now(),
                took: Duration::ZERO,
            }))),
        }
    }

    /// Writes a checkpoint unless the file already holds the revision last published;
    /// answers whether one was written. Waits for a checkpoint being written.
    pub async fn write(&self) -> Result<bool, CheckpointError> {
        self.write_if(|_| true).await
    }

    /// What the background task does every [`CHECK_EVERY`]: a checkpoint when enough is new.
    async fn write_if_due(&self) -> Result<bool, CheckpointError> {
        let revision = self.changes.revision();
        self.write_if(|last| {
            let age = last.at.elapsed();
            age >= last.took * IDLE_FACTOR
                && (age >= CHECKPOINT_AGE
                    || revision.saturating_sub(last.revision) >= CHECKPOINT_CHANGES)
        })
        .await
    }

    /// Writes a checkpoint if there is none yet, or if the revision moved on since the last
    /// one and `due` says so of it.
    async fn write_if(&self, due: impl Fn(&Written) -> bool) -> Result<bool, CheckpointError> {
        let mut last = self.last.lock().await;
        let revision = self.changes.revision();
        if let Some(written) = &*last {
            if revision == written.revision || !due(written) {
                return Ok(false);
            }
        }
        let stamp = Stamp {
            store_id: self.store.id(),
            revision,
        };
        let (search, path) = (Arc::clone(&self.search), self.path.clone());
        let started = Instant::now();
        let bytes = work::run("term index checkpoint", move || {
            search.checkpoint(&path, stamp)
        })
        .await??;
        tracing::info!(
            revision,
            bytes,
            seconds = started.elapsed().as_secs_f64(),
            "term index checkpoint written"
        );
        *last = Some(Written {
            revision,
            at: Instant::now(),
            took: started.elapsed(),
        });
        Ok(true)
    }

    /// Writes checkpoints when due until `stop` completes.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(CHECK_EVERY) => {}
            }
            if let Err(error) = self.write_if_due().await {
                tracing::error!(%error, "the term index file is behind the store");
            }
        }
    }
}
