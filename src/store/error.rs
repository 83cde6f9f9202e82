//! Errors of the storage layer.

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer Tolmach; reading it could silently misread data.
    #[error(
        "the database schema is version {found}, but this build supports up to {supported}: \
         upgrade Tolmach, or point --data-dir at another directory"
    )]
    SchemaTooNew {
        /// Version recorded in the database.
        found: u32,
        /// Newest version this build understands.
        supported: u32,
    },
    /// The schema marker is present but unreadable: not a Tolmach database, or damaged.
    #[error(
        "the database's schema marker is unreadable ({reason}); is this a Tolmach data directory?"
    )]
    BadSchemaMarker {
        /// What was wrong with it.
        reason: String,
    },
    /// Another process (a running server) holds the database directory.
    #[error("{path} is in use by another Tolmach process; stop it or choose another --data-dir")]
    Locked {
        /// The data directory.
        path: std::path::PathBuf,
    },
    /// An update named a revision that is no longer current.
    #[error("concept {id:?} is at revision {current}, not {expected}")]
    RevisionMismatch {
        /// The concept id.
        id: String,
        /// The revision the client expected.
        expected: u64,
        /// The revision stored.
        current: u64,
    },
    /// A stored record could not be decoded.
    #[error("stored record {key:?} in tree {tree} is corrupt: {reason}")]
    Corrupt {
        /// The sled tree.
        tree: &'static str,
        /// The record's key, lossily decoded.
        key: String,
        /// The decoder's message.
        reason: String,
    },
    /// An import's spool file could not be written, read or removed (disk full, permissions).
    #[error("import spool {path}: {source}")]
    Spool {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A committed import's spool file does not read back as written: damaged on disk.
    #[error("import spool {path} is damaged at byte {offset}: {reason}")]
    SpoolCorrupt {
        /// The file.
        path: std::path::PathBuf,
        /// Where the unreadable entry starts.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// The embedded database failed (I/O, corruption it detected itself).
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    /// The operating system gave no random bytes for the store's id.
    #[error("no random bytes for the store id: {0}")]
    Random(String),
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(e: sled::transaction::TransactionError<StoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}
