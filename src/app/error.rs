//! The errors of the application layer: what a call could not do, in domain terms. The
//! service layer maps each to a gRPC status (`service/status.rs`); nothing here knows gRPC.

use std::time::Duration;

use super::import::Broken;
use super::memory::MemoryUnavailable;
use super::work::Heavy;
use crate::formats::FormatError;
use crate::model::Invalid;
use crate::store::StoreError;

/// Why a call into the application layer failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request or entry broke one rule or more, named field by field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// No concept has this id.
    #[error("no concept with id {id:?}")]
    ConceptNotFound {
        /// The id asked for.
        id: String,
    },
    /// No collection has this name (neither a record nor a concept).
    #[error("no collection named {name:?}")]
    CollectionNotFound {
        /// The name asked for.
        name: String,
    },
    /// The memory holds no unit.
    #[error("memory {name:?} has no units")]
    MemoryNotFound {
        /// The name asked for.
        name: String,
    },
    /// A write named a concept id that another collection owns (stored there, or claimed by
    /// an import into it in progress), without saying the concept may move.
    #[error(
        "concept id {id:?} belongs to collection {owner:?}{pending}: choose another id, or set \
         move_from_other_collection to move that concept into {collection:?} (its language \
         sections not in this request would be dropped)",
        pending = if *.importing { " (an import into it is in progress)" } else { "" }
    )]
    IdInOtherCollection {
        /// The id.
        id: String,
        /// The collection that owns it.
        owner: String,
        /// The collection the write named.
        collection: String,
        /// Whether the owner is an import in progress rather than the store.
        importing: bool,
    },
    /// The collection is protected from deletion without `force`.
    #[error(
        "{name:?} is the shipped glossary, loaded only into an empty database: a restart would \
         not bring it back; set force to delete it all the same"
    )]
    ProtectedCollection {
        /// The collection.
        name: String,
    },
    /// Too many calls of one heavy kind are running; the client should retry later.
    #[error(
        "the server is running {limit} {kind} calls at once, its limit; retry in {} ms",
        retry_after.as_millis()
    )]
    Busy {
        /// The kind of call.
        kind: Heavy,
        /// The limit reached.
        limit: usize,
        /// When a retry has a fair chance.
        retry_after: Duration,
    },
    /// A strict import refused its file (or any import a file unreadable from its start):
    /// the counts and the first problems.
    #[error("{summary}")]
    Refused {
        /// The message: counts and first problems.
        summary: String,
    },
    /// An upload broke off before its end; nothing was imported.
    #[error(transparent)]
    Upload(#[from] Broken),
    /// A change stream's resume token is older than the oldest change the store keeps: the
    /// changes in between are gone, and the client must start again from a snapshot.
    #[error(
        "the changes after revision {after} are no longer kept: the oldest available is \
         revision {oldest}; watch again with snapshot set to start from the current state"
    )]
    ChangesCompacted {
        /// The token.
        after: u64,
        /// The oldest revision the store still keeps.
        oldest: u64,
    },
    /// A stored entry cannot be written in the format an export asked for.
    #[error("a stored entry cannot be written in this format: {0}")]
    Unwritable(FormatError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The translation-memory index is not there and will not come.
    #[error(transparent)]
    MemoryUnavailable(#[from] MemoryUnavailable),
    /// Work on the blocking pool panicked or was cancelled: a defect, logged where it
    /// happened.
    #[error("{what} failed: {detail}")]
    Internal {
        /// What was running.
        what: &'static str,
        /// The panic's message.
        detail: String,
    },

    // Cluster mode.
    /// The replicated log did not take the write, or this node did not apply it, in time.
    #[error(
        "the replicated log {detail}; the write may still be applied: repeat it (a repeated \
         upsert, delete or unit write leaves the same content) or read with a minimum revision"
    )]
    LogUnavailable {
        /// What went wrong.
        detail: String,
    },
    /// A write larger than one entry of the replicated log may be.
    #[error(
        "the write encodes to {bytes} bytes, more than the {limit} bytes one entry of the \
         replicated log may hold: send fewer or shorter units per call"
    )]
    WriteTooLarge {
        /// Its encoded size.
        bytes: usize,
        /// The log's limit.
        limit: usize,
    },

    // Access: keys, roles and scopes.
    /// The call carried no API key where one is needed, or a key that is malformed, unknown,
    /// expired or revoked.
    #[error("{reason}")]
    Unauthenticated {
        /// Why, in a sentence.
        reason: String,
    },
    /// The key's role or scope does not cover the call.
    #[error("{message}")]
    PermissionDenied {
        /// What was needed and what the key is.
        message: String,
    },
    /// A key with this name exists (maybe revoked).
    #[error(
        "a key named {name:?} exists already (names stay with their writes in the audit log, \
         so a revoked key's name is not reused): choose another name"
    )]
    KeyNameTaken {
        /// The name.
        name: String,
    },
    /// No key has this name.
    #[error("no API key named {name:?}")]
    KeyNotFound {
        /// The name asked for.
        name: String,
    },

    // Import jobs.
    /// An import with this job id is running; a retry must wait for its outcome.
    #[error(
        "import job {job_id:?} is still running: ask GetImportJob for its outcome, or retry \
         once it has ended"
    )]
    JobRunning {
        /// The job id.
        job_id: String,
    },
    /// No import job with this id is known (never started, or forgotten).
    #[error(
        "no import job {job_id:?}: it never started here, or it ended more than {days} days \
         or {kept} jobs ago"
    )]
    JobNotFound {
        /// The job id.
        job_id: String,
        /// Days a job is remembered.
        days: i64,
        /// Jobs remembered at most.
        kept: usize,
    },
}

impl AppError {
    /// Whether the error is a fault of this node (its storage, its memory index, a defect)
    /// rather than the write's own refusal, which every node applying the same write reaches
    /// alike. A replica that meets a fault stops applying the log instead of skipping a write.
    pub fn is_node_fault(&self) -> bool {
        match self {
            AppError::Store(StoreError::RevisionMismatch { .. }) => false,
            AppError::Store(_) | AppError::MemoryUnavailable(_) | AppError::Internal { .. } => true,
            _ => false,
        }
    }
}
