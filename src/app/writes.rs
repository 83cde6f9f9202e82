//! The one ordered write path: every write of the server, from a single UpsertConcept to a
//! million-unit import, passes through [`WritePath::termbase`] or [`WritePath::memory`], and
//! both through one private function, `ordered`, which
//!
//! 1. takes the write turn of the index concerned (one for the termbase, one for the
//!    memories),
//! 2. commits the change durably to the store,
//! 3. publishes it to the index on the blocking pool, in the order of the commits,
//! 4. and only then gives the turn back.
//!
//! That function is the hook for what must see every write in order. The audit log is written
//! there: once the commit is durable, and before the publication and the answer, one record
//! of the [`Change`] and its [`Author`] (the API key that wrote; access itself is checked
//! before the write reaches the application). A crash between the commit's flush and the
//! audit record's flush loses that one record while the write stays: the window is one
//! flush long, and a concept's author is not in it (it is written in the concept's own
//! transaction). A termbase write's change records (the store revision, the change feed's
//! source) are written in the commit's own transactions, within the turn, so revisions follow
//! the order of the commits; after step 3 (or after a commit that failed part way, whose
//! records are there all the same) the [change feed](super::changes) is told the new revision
//! and wakes its streams. Still to come: a replicated log (append the change between steps 1
//! and 2, apply on followers through the same path). A write never bypasses it: the store's write methods are called
//! only from closures passed here, except by start-up (crash recovery and the first load of
//! the shipped glossary), which writes before any index is built or any call is served, and
//! by the key ring (`auth::KeyRing`): keys feed no index, and each key write carries its
//! audit record in its own transaction.
//!
//! The steps run in a task of their own, so that a client that goes away mid-write (which
//! drops its call) leaves neither a commit unpublished nor the turn released early.
//!
//! The termbase and the memories have a turn each: their indexes are independent, and an
//! import of a million units into a memory must not hold up a terminologist's upsert. Within
//! each, the order is total.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::changes::Changes;
use super::memory::MemoryReadiness;
use super::{now_ms, work, AppError};
use crate::index::memory::LiveMemoryIndex;
use crate::index::TermSearch;
use crate::store::{AuditEntry, Store};

/// Who makes a write, as the audit log and a concept's history record it: the name of the
/// API key, empty on an open server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Author(pub String);

/// What a write changes, for the log and the audit today and for change feeds and
/// replication tomorrow.
#[derive(Clone, Debug)]
pub enum Change {
    /// A concept created or replaced.
    UpsertConcept {
        /// Its id.
        id: String,
        /// Its collection.
        collection: String,
    },
    /// A concept deleted.
    DeleteConcept {
        /// Its id.
        id: String,
    },
    /// A collection created or updated.
    UpsertCollection {
        /// Its name.
        name: String,
    },
    /// A collection deleted with its concepts.
    DeleteCollection {
        /// Its name.
        name: String,
    },
    /// Units stored in a memory.
    AddUnits {
        /// The memory.
        memory: String,
        /// How many units.
        units: usize,
    },
    /// Units deleted from a memory.
    DeleteUnits {
        /// The memory.
        memory: String,
        /// How many ids.
        ids: usize,
    },
    /// A memory deleted with its units.
    DeleteMemory {
        /// The memory.
        memory: String,
    },
    /// A committed import of a file into a collection or memory.
    Import {
        /// The store's import id.
        import: u64,
        /// The collection or memory.
        target: String,
    },
}

impl Change {
    /// The kind of write, as the audit log names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::UpsertConcept { .. } => "upsert_concept",
            Change::DeleteConcept { .. } => "delete_concept",
            Change::UpsertCollection { .. } => "upsert_collection",
            Change::DeleteCollection { .. } => "delete_collection",
            Change::AddUnits { .. } => "add_units",
            Change::DeleteUnits { .. } => "delete_units",
            Change::DeleteMemory { .. } => "delete_memory",
            Change::Import { .. } => "import",
        }
    }

    /// What it writes to: the concept id, collection or memory.
    pub fn target(&self) -> &str {
        match self {
            Change::UpsertConcept { id, .. } | Change::DeleteConcept { id } => id,
            Change::UpsertCollection { name } | Change::DeleteCollection { name } => name,
            Change::AddUnits { memory, .. }
            | Change::DeleteUnits { memory, .. }
            | Change::DeleteMemory { memory } => memory,
            Change::Import { target, .. } => target,
        }
    }

    /// How many units or ids it carries: 1 for a single record, 0 where the count is known
    /// only after the commit (whole deletes, imports).
    pub fn count(&self) -> u64 {
        match self {
            Change::UpsertConcept { .. }
            | Change::DeleteConcept { .. }
            | Change::UpsertCollection { .. } => 1,
            Change::AddUnits { units, .. } => *units as u64,
            Change::DeleteUnits { ids, .. } => *ids as u64,
            Change::DeleteCollection { .. }
            | Change::DeleteMemory { .. }
            | Change::Import { .. } => 0,
        }
    }

    /// The audit log's record of this change by `author`, now.
    fn audited(&self, author: &Author) -> AuditEntry {
        AuditEntry {
            time_ms: now_ms(),
            key: author.0.clone(),
            change: self.kind().to_owned(),
            target: self.target().to_owned(),
            count: self.count(),
            summary: self.to_string(),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::UpsertConcept { id, collection } => {
                write!(f, "upsert concept {id} in {collection}")
            }
            Change::DeleteConcept { id } => write!(f, "delete concept {id}"),
            Change::UpsertCollection { name } => write!(f, "upsert collection {name}"),
            Change::DeleteCollection { name } => write!(f, "delete collection {name}"),
            Change::AddUnits { memory, units } => write!(f, "add {units} units to {memory}"),
            Change::DeleteUnits { memory, ids } => write!(f, "delete {ids} units of {memory}"),
            Change::DeleteMemory { memory } => write!(f, "delete memory {memory}"),
            Change::Import { import, target } => write!(f, "import {import:016x} into {target}"),
        }
    }
}

/// The write path of one server: the store, the two live indexes and their write turns.
/// Cheap to clone.
#[derive(Clone)]
pub struct WritePath {
    store: Store,
    terms: Arc<TermSearch>,
    memory: MemoryReadiness,
    changes: Changes,
    termbase_turn: Arc<Mutex<()>>,
    memory_turn: Arc<Mutex<()>>,
}

impl WritePath {
    /// The path writing to `store` and publishing to `terms`, (once built) the memory index
    /// behind `memory`, and the termbase's `changes` feed.
    pub fn new(
        store: Store,
        terms: Arc<TermSearch>,
        memory: MemoryReadiness,
        changes: Changes,
    ) -> WritePath {
        WritePath {
            store,
            terms,
            memory,
            changes,
            termbase_turn: Arc::default(),
            memory_turn: Arc::default(),
        }
    }

    /// A termbase write: `commit` writes to the store (with the term index at hand for
    /// writes that publish as they go, like an import), then `publish` applies what it
    /// committed to the term index on the blocking pool, then the change feed is told.
    pub async fn termbase<C, R, F>(
        &self,
        change: Change,
        author: &Author,
        commit: impl FnOnce(Store, Arc<TermSearch>) -> F + Send + 'static,
        publish: impl FnOnce(C, &TermSearch) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let turn = Arc::clone(&self.termbase_turn);
        let index = Arc::clone(&self.terms);
        let feed = Some(self.changes.clone());
        self.ordered(change, author, turn, index, feed, commit, publish)
            .await
    }

    /// A memory write, the same way; waits first for the memory index built at start-up, so
    /// that no unit reaches the store while the build reads it.
    pub async fn memory<C, R, F>(
        &self,
        change: Change,
        author: &Author,
        commit: impl FnOnce(Store, Arc<LiveMemoryIndex>) -> F + Send + 'static,
        publish: impl FnOnce(C, &LiveMemoryIndex) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let index = self.memory.index().await?;
        let turn = Arc::clone(&self.memory_turn);
        self.ordered(change, author, turn, index, None, commit, publish)
            .await
    }

    /// The one place every write passes: turn, commit, audit, publish, and for the termbase
    /// the change `feed`, in a task of its own.
    #[allow(clippy::too_many_arguments)]
    async fn ordered<I, C, R, F>(
        &self,
        change: Change,
        author: &Author,
        turn: Arc<Mutex<()>>,
        index: Arc<I>,
        feed: Option<Changes>,
        commit: impl FnOnce(Store, Arc<I>) -> F + Send + 'static,
        publish: impl FnOnce(C, &I) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        I: Send + Sync + 'static,
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let store = self.store.clone();
        let author = author.clone();
        let write = async move {
            let _turn = turn.lock_owned().await;
            let committed = commit(store.clone(), Arc::clone(&index)).await;
            let committed = match (committed, &feed) {
                (Err(error), Some(feed)) => {
                    // An import that failed part way committed its first batches.
                    feed.published().await;
                    return Err(error);
                }
                (committed, _) => committed?,
            };
            tracing::debug!(%change, author = author.0, "committed");
            // The write is durable whatever happens here: a failed audit record is the
            // server's fault to log, not a reason to tell the client its write failed.
            if let Err(error) = store.append_audit(&change.audited(&author)).await {
                tracing::error!(%error, %change, "the audit record of a committed write was lost");
            }
            let answer = work::run("index publication", move || publish(committed, &index)).await;
            if let Some(feed) = feed {
                feed.published().await;
            }
            answer
        };
        tokio::spawn(write)
            .await
            .map_err(|error| work::joined("a write", error))?
    }
}
