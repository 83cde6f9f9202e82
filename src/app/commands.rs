//! Writes as data. Each write the application accepts becomes a [`Command`] holding
//! everything its outcome depends on, fixed before it is applied: the concept's id, the
//! units' content ids, the time, the author. Applying the same command to the same state
//! therefore gives the same state and answer wherever it runs.
//!
//! A single server applies each command at once, through the [write path](super::writes).
//! In cluster mode the command is first appended to a replicated log ([`WriteLog`],
//! implemented by `crate::cluster`), and every node applies the log in order through the
//! same write path; the node that took the call answers with what its own application gave.
//!
//! An import is checked and spooled by the node that reads the file, as on a single server;
//! in cluster mode it then goes to the log as [`Command::ImportChunk`]s (the spooled
//! entries, a bounded number of bytes each) and one [`Command::Import`] naming them, which
//! every node applies as one commit: the import is whole on every node or on none. An API
//! key's record (its hash, never its secret) goes to the log as [`Command::PutKey`], applied
//! by the key ring of every node.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::import::Target;
use super::memory::Added;
use super::termbase::Upserted;
use super::writes::Author;
use super::AppError;
use crate::model::{Collection, Concept, OnConflict, TranslationUnit};
use crate::store::{AuditEntry, ImportCounts, JobRecord, KeyRecord, Staged};

/// One write with all its inputs fixed (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// A concept created or replaced; `concept` has its collection and id.
    UpsertConcept {
        /// Who writes.
        author: Author,
        /// When, in ms since the epoch.
        time_ms: i64,
        /// The concept.
        concept: Concept,
        /// Only over this revision (0 = new).
        expected_revision: Option<u64>,
        /// Whether it may leave another collection.
        move_from_other_collection: bool,
    },
    /// A concept deleted.
    DeleteConcept {
        /// Who writes.
        author: Author,
        /// When, in ms since the epoch.
        time_ms: i64,
        /// The concept.
        id: String,
    },
    /// A collection created or updated.
    UpsertCollection {
        /// Who writes.
        author: Author,
        /// When, in ms since the epoch.
        time_ms: i64,
        /// The collection.
        collection: Collection,
    },
    /// A collection deleted with its concepts.
    DeleteCollection {
        /// Who writes.
        author: Author,
        /// When, in ms since the epoch.
        time_ms: i64,
        /// The collection.
        name: String,
    },
    /// Units stored in a memory, each with its id and time.
    AddUnits {
        /// Who writes.
        author: Author,
        /// The memory.
        memory: String,
        /// The units.
        units: Vec<TranslationUnit>,
    },
    /// Units deleted from a memory by id.
    DeleteUnits {
        /// Who writes.
        author: Author,
        /// The memory.
        memory: String,
        /// The ids.
        ids: Vec<String>,
    },
    /// A memory deleted with its units.
    DeleteMemory {
        /// Who writes.
        author: Author,
        /// The memory.
        memory: String,
    },
    /// Entries of an import to come, in file order; nothing is written until the
    /// [`Command::Import`] that names this chunk.
    ImportChunk {
        /// The entries, checked.
        entries: Vec<Staged>,
    },
    /// An import's commit: the entries of the chunks at these log sequences, in order.
    Import(ReplicatedImport),
    /// An API key created or revoked (`auth::KeyRing`), with its audit record.
    PutKey {
        /// The key's record: its hash, never its secret.
        record: KeyRecord,
        /// The audit record written with it.
        audit: AuditEntry,
    },
}

/// An import committed through the replicated log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicatedImport {
    /// Who imports.
    pub author: Author,
    /// The collection or memory.
    pub target: Target,
    /// How entries meet stored ones.
    pub on_conflict: OnConflict,
    /// The job id and the record written with the commit, if the client named a job.
    pub job: Option<(String, JobRecord)>,
    /// The log sequences of its [`Command::ImportChunk`]s, in file order.
    pub chunks: Vec<u64>,
}

impl Command {
    /// Whether it writes the translation memories (else the termbase).
    pub fn is_memory_write(&self) -> bool {
        matches!(
            self,
            Command::AddUnits { .. } | Command::DeleteUnits { .. } | Command::DeleteMemory { .. }
        )
    }
}

/// What applying a [`Command`] answers, by kind of write.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// UpsertConcept: the concept as stored, with warnings.
    Upserted(Upserted),
    /// DeleteConcept: the concept as it was.
    Deleted(Concept),
    /// DeleteCollection, DeleteUnits, DeleteMemory: how many records went.
    Count(usize),
    /// AddUnits.
    Added(Added),
    /// An import's commit.
    Imported(ImportCounts),
    /// UpsertCollection, an import's chunk.
    Done,
}

impl Outcome {
    /// The answer of an UpsertConcept.
    pub fn upserted(self) -> Result<Upserted, AppError> {
        match self {
            Outcome::Upserted(upserted) => Ok(upserted),
            other => Err(mismatch(&other)),
        }
    }

    /// The answer of a DeleteConcept.
    pub fn deleted(self) -> Result<Concept, AppError> {
        match self {
            Outcome::Deleted(concept) => Ok(concept),
            other => Err(mismatch(&other)),
        }
    }

    /// The answer of a whole delete or DeleteUnits.
    pub fn count(self) -> Result<usize, AppError> {
        match self {
            Outcome::Count(count) => Ok(count),
            other => Err(mismatch(&other)),
        }
    }

    /// The answer of an AddUnits.
    pub fn added(self) -> Result<Added, AppError> {
        match self {
            Outcome::Added(added) => Ok(added),
            other => Err(mismatch(&other)),
        }
    }

    /// The answer of an import's commit.
    pub fn imported(self) -> Result<ImportCounts, AppError> {
        match self {
            Outcome::Imported(counts) => Ok(counts),
            other => Err(mismatch(&other)),
        }
    }

    /// The answer of an UpsertCollection.
    pub fn done(self) -> Result<(), AppError> {
        match self {
            Outcome::Done => Ok(()),
            other => Err(mismatch(&other)),
        }
    }
}

/// A command answered with the outcome of another kind: a bug, reported rather than panicked.
fn mismatch(outcome: &Outcome) -> AppError {
    AppError::Internal {
        what: "a write",
        detail: format!("answered with an outcome of another kind: {outcome:?}"),
    }
}

/// A future of a [`WriteLog`].
pub type Submitted = Pin<Box<dyn Future<Output = Result<Outcome, AppError>> + Send>>;

/// A future of [`WriteLog::append`]: the log sequence the entry was stored at.
pub type Appended = Pin<Box<dyn Future<Output = Result<u64, AppError>> + Send>>;

/// A replicated log in front of the write path (cluster mode): [`WriteLog::submit`] appends
/// the command and answers once this node has applied it, with what that application gave.
pub trait WriteLog: Send + Sync {
    /// Appends `command` to the log and waits until this node applied it.
    fn submit(&self, command: Command) -> Submitted;

    /// Appends `command` (an import's chunk) without waiting for its application.
    fn append(&self, command: Command) -> Appended;
}
