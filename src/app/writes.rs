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
//! That function is the hook for what must see every write in order: authentication and audit
//! (check the [`Change`] before the turn is taken), a live change feed (emit the change after
//! step 3), a replicated log (append the change between steps 1 and 2, apply on followers
//! through the same path). A write never bypasses it: the store's write methods are called
//! only from closures passed here, except by start-up (crash recovery and the first load of
//! the shipped glossary), which writes before any index is built or any call is served.
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

use super::memory::MemoryReadiness;
use super::{work, AppError};
use crate::index::memory::LiveMemoryIndex;
use crate::index::TermSearch;
use crate::store::Store;

/// What a write changes, for the log today and for audit, change feeds and replication
/// tomorrow.
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
    termbase_turn: Arc<Mutex<()>>,
    memory_turn: Arc<Mutex<()>>,
}

impl WritePath {
    /// The path writing to `store` and publishing to `terms` and (once built) the memory
    /// index behind `memory`.
    pub fn new(store: Store, terms: Arc<TermSearch>, memory: MemoryReadiness) -> WritePath {
        WritePath {
            store,
            terms,
            memory,
            termbase_turn: Arc::default(),
            memory_turn: Arc::default(),
        }
    }

    /// A termbase write: `commit` writes to the store (with the term index at hand for
    /// writes that publish as they go, like an import), then `publish` applies what it
    /// committed to the term index on the blocking pool.
    pub async fn termbase<C, R, F>(
        &self,
        change: Change,
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
        self.ordered(change, turn, index, commit, publish).await
    }

    /// A memory write, the same way; waits first for the memory index built at start-up, so
    /// that no unit reaches the store while the build reads it.
    pub async fn memory<C, R, F>(
        &self,
        change: Change,
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
        self.ordered(change, turn, index, commit, publish).await
    }

    /// The one place every write passes: turn, commit, publish, in a task of its own.
    async fn ordered<I, C, R, F>(
        &self,
        change: Change,
        turn: Arc<Mutex<()>>,
        index: Arc<I>,
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
        let write = async move {
            let _turn = turn.lock_owned().await;
            let committed = commit(store, Arc::clone(&index)).await?;
            tracing::debug!(%change, "committed");
            work::run("index publication", move || publish(committed, &index)).await
        };
        tokio::spawn(write)
            .await
            .map_err(|error| work::joined("a write", error))?
    }
}
