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
//! Imports and API keys are not commands: cluster mode refuses them
//! ([`AppError::NotReplicated`]).

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::memory::Added;
use super::termbase::Upserted;
use super::writes::Author;
use super::AppError;
use crate::model::{Collection, Concept, TranslationUnit};

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
    /// UpsertCollection.
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

/// A replicated log in front of the write path (cluster mode): [`WriteLog::submit`] appends
/// the command and answers once this node has applied it, with what that application gave.
pub trait WriteLog: Send + Sync {
    /// Appends `command` to the log and waits until this node applied it.
    fn submit(&self, command: Command) -> Submitted;
}
