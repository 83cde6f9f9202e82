//! Durable storage of concepts, their history and collections in sled.
//!
//! One tree per record kind (`meta`, `concepts`, `history`, `collections`, `units`, `jobs`,
//! the access records `api_keys`, `audit`, `authors`, and the change log `changes` with its
//! per-concept index `concept_changes`, the memory log `memory_changes`); keys are
//! built only in `keys`. Imports not yet committed wait in spool files beside the database
//! (see `import`). This module knows nothing of gRPC or of the indexes built from it.
//!
//! # Durability
//!
//! The single writes ([`Store::upsert_concept`], [`Store::put_units`], the deletes,
//! [`Store::append_audit`], ...) commit atomically but return *before* the change is on disk:
//! a caller that acknowledges a write to a client first waits for [`Store::flushed`] with a
//! [`FlushPoint`] taken after the commit, or calls [`Store::flush`] (`durable.rs`: group
//! commit, one sled flush for every write committed while the previous flush ran). The write
//! path (`app::writes`) does so for every write it answers. The writes that carry their own
//! protocol still return only once durable: an API key with its audit record
//! ([`Store::put_api_key`]), an import's commit marker and its applied batches
//! (`import.rs`), crash recovery.
//!
//! # Files
//!
//! `mod.rs` declares [`Store`] with its reads and single writes. The other files depend on
//! each other one way, down this list, never back up:
//!
//! * `import.rs`: the import protocol (spool, commit, recover, preview);
//! * `jobs.rs`: import jobs, whose outcome is recorded with their commit;
//! * `apply.rs`: a committed import's entries resolved and written in batches, and what each
//!   batch reports ([`Applied`](crate::model::Applied), [`ImportCounts`]);
//! * `spool.rs`: the spool files and the entries they hold ([`Staged`]);
//! * `access.rs`: API keys, the audit log, the author of each concept revision;
//! * `changes.rs`: the change log every termbase write appends to in its own transaction,
//!   numbered by the store revision ([`ChangeRecord`]);
//! * `memory_log.rs`: the memory revision, the log of the units each memory write touched
//!   ([`MemoryDelta`]);
//! * `durable.rs`: group commit, the flushes that make committed writes durable
//!   ([`FlushPoint`]);
//! * `codec.rs` (record encoding), `keys.rs`, `error.rs`, `content.rs`: leaves.
//!
//! `import.rs` and `apply.rs` add methods to [`Store`] and write its trees, the only use of
//! `mod.rs` from below.

mod access;
mod apply;
mod changes;
mod codec;
mod content;
mod delete;
mod durable;
mod error;
mod import;
mod jobs;
mod keys;
mod memory_log;
mod spool;

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

use crate::model::{Collection, Concept, TranslationUnit};
pub use access::{AuditEntry, Authorship, KeyRecord, Role};
pub use apply::ImportCounts;
use changes::ChangeLog;
pub use changes::{changed_fields, ChangeKind, ChangeRecord};
use codec::{decode, encode};
pub use content::{content_id, unit_content_id};
pub use durable::FlushPoint;
use durable::GroupFlush;
pub use error::StoreError;
pub use jobs::{
    JobProblem, JobRecord, JobReport, JobSeverity, JobState, JobTarget, JOBS_KEPT, JOBS_KEPT_DAYS,
};
pub use memory_log::MemoryDelta;
use spool::SpoolDir;
pub use spool::{ImportSpool, SpoolEntries, Staged};

/// The on-disk schema this build writes. Bump it when the encoding of any tree changes, and
/// teach [`Store::open`] to migrate the previous one.
pub const SCHEMA_VERSION: u32 = 1;

/// sled's page cache. The default (1 GiB) fills while start-up reads every record once to
/// build the indexes, which keep their own copy; reads after that are point lookups.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// How long [`Store::open`] waits for a previous instance to release the directory.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The database: an embedded sled instance with one tree per record kind.
///
/// Cloning is cheap and shares the same database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
    concepts: sled::Tree,
    history: sled::Tree,
    collections: sled::Tree,
    units: sled::Tree,
    /// Entries staged by builds before spool files, left only by a crash mid-import.
    staging: sled::Tree,
    /// How import jobs (imports with a client-chosen id) ended.
    jobs: sled::Tree,
    /// Where imports spool their entries until they commit.
    imports: Arc<SpoolDir>,
    /// API keys by public id.
    api_keys: sled::Tree,
    /// The audit log by sequence number.
    audit: sled::Tree,
    /// Who wrote each concept revision, keyed like `history`.
    authors: sled::Tree,
    /// The change log: one record per termbase write, by store revision.
    changes: sled::Tree,
    /// The store revisions that wrote or deleted each concept, keyed like `history`.
    concept_changes: sled::Tree,
    /// The last store revision written, shared by every clone.
    revision: Arc<AtomicU64>,
    /// The memory log: one record per write of units, by memory revision (`memory_log.rs`).
    memory_changes: sled::Tree,
    /// The last memory revision written, shared by every clone.
    memory_revision: Arc<AtomicU64>,
    /// This database's id ([`Store::id`]).
    id: [u8; 16],
    /// The data directory; `None` for a temporary store.
    dir: Option<std::path::PathBuf>,
    /// The flushes that make committed writes durable, shared by every clone.
    flushes: Arc<GroupFlush>,
    /// The replicated log's entry this handle's termbase writes apply (see
    /// [`applying`](Store::applying)).
    applying: Option<u64>,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    ///
    /// Refuses a database written by a newer schema rather than misreading it.
    ///
    /// sled releases its directory lock only when its background flusher has exited, a
    /// moment after the previous `Store` is dropped; a restart in the same process (or a quick
    /// service restart) waits for it, up to [`LOCK_WAIT`], before reporting the directory as
    /// in use.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let started = std::time::Instant::now();
        loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Ok(db) => {
                    let mut store = Store::from_db(db, SpoolDir::open(dir)?)?;
                    store.dir = Some(dir.to_path_buf());
                    return Ok(store);
                }
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if started.elapsed() > LOCK_WAIT {
                        return Err(StoreError::Locked {
                            path: dir.to_path_buf(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A database that lives in memory and a temporary file, gone when dropped; for tests.
    pub fn temporary() -> Result<Store, StoreError> {
        Store::from_db(
            sled::Config::new().temporary(true).open()?,
            SpoolDir::temporary()?,
        )
    }

    fn from_db(db: sled::Db, imports: SpoolDir) -> Result<Store, StoreError> {
        let meta = db.open_tree("meta")?;
        match meta.get(keys::SCHEMA_VERSION)? {
            None => {
                meta.insert(keys::SCHEMA_VERSION, &keys::encode_version(SCHEMA_VERSION))?;
                db.flush()?;
            }
            Some(bytes) => {
                let found =
                    keys::decode_version(&bytes).ok_or_else(|| StoreError::BadSchemaMarker {
                        reason: format!("{} bytes where 4 were expected", bytes.len()),
                    })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::SchemaTooNew {
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
            }
        }
        let id = Store::read_or_make_id(&db, &meta)?;
        let changes = db.open_tree("changes")?;
        let memory_changes = db.open_tree("memory_changes")?;
        Ok(Store {
            memory_revision: Arc::new(AtomicU64::new(Store::logged_memory_revision(
                &memory_changes,
            )?)),
            memory_changes,
            id,
            dir: None,
            revision: Arc::new(AtomicU64::new(Store::logged_revision(&changes)?)),
            flushes: Arc::default(),
            applying: None,
            changes,
            concept_changes: db.open_tree("concept_changes")?,
            concepts: db.open_tree("concepts")?,
            history: db.open_tree("history")?,
            collections: db.open_tree("collections")?,
            units: db.open_tree("units")?,
            staging: db.open_tree("staging")?,
            jobs: db.open_tree("jobs")?,
            imports: Arc::new(imports),
            api_keys: db.open_tree("api_keys")?,
            audit: db.open_tree("audit")?,
            authors: db.open_tree("authors")?,
            meta,
            db,
        })
    }

    /// The id kept in `meta`, made of 16 random bytes and flushed at first open.
    fn read_or_make_id(db: &sled::Db, meta: &sled::Tree) -> Result<[u8; 16], StoreError> {
        if let Some(bytes) = meta.get(keys::STORE_ID)? {
            return <[u8; 16]>::try_from(&*bytes).map_err(|_| StoreError::Corrupt {
                tree: "meta",
                key: String::from_utf8_lossy(keys::STORE_ID).into_owned(),
                reason: format!("{} bytes where 16 were expected", bytes.len()),
            });
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| StoreError::Random(e.to_string()))?;
        meta.insert(keys::STORE_ID, &id)?;
        db.flush()?;
        Ok(id)
    }

    /// This database's id: random, made at its first open and kept for its life, so that
    /// files derived from it (a persisted index) are never taken for another database's.
    pub fn id(&self) -> [u8; 16] {
        self.id
    }

    /// The data directory the store lives in; `None` for a [temporary](Store::temporary) one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A new unique number, for ids the server assigns.
    pub fn generate_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Whether the shipped glossary was loaded once already; a terminologist who later deletes
    /// its concepts does not want them back at the next start.
    pub fn is_seeded(&self) -> Result<bool, StoreError> {
        Ok(self.meta.contains_key(keys::SEEDED)?)
    }

    /// Records that the shipped glossary has been loaded; durable once flushed.
    pub fn mark_seeded(&self) -> Result<(), StoreError> {
        self.meta.insert(keys::SEEDED, &[1u8])?;
        Ok(())
    }

    /// In cluster mode, the sequence of the last entry of the replicated log this store
    /// applied (0 before the first); the node resumes the log after it.
    pub fn replicated(&self) -> Result<u64, StoreError> {
        match self.meta.get(keys::REPLICATED)? {
            Some(bytes) => decode("meta", keys::REPLICATED, &bytes),
            None => Ok(0),
        }
    }

    /// The same store, whose termbase writes record that they apply the replicated log's entry
    /// `sequence` in their own transaction (cluster mode), so that the write and the mark are
    /// durable together. Not for an import's commit, whose batches are several transactions.
    pub fn applying(&self, sequence: u64) -> Store {
        Store {
            applying: Some(sequence),
            ..self.clone()
        }
    }

    /// Records that the replicated log's entry `sequence` is applied; durable with the flush
    /// that makes the entry's own writes durable, since the write path records it right
    /// after the commit.
    pub fn mark_replicated(&self, sequence: u64) -> Result<(), StoreError> {
        self.meta.insert(keys::REPLICATED, encode(&sequence))?;
        Ok(())
    }

    /// Reads one concept.
    pub fn concept(&self, id: &str) -> Result<Option<Concept>, StoreError> {
        self.concepts
            .get(keys::concept(id))?
            .map(|bytes| decode("concepts", id.as_bytes(), &bytes))
            .transpose()
    }

    /// Every concept in id order, starting after `after` when given (for paging).
    pub fn concepts_after(
        &self,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<Concept, StoreError>> + '_ {
        let iter = match after {
            Some(id) => {
                let mut start = keys::concept(id);
                start.push(0);
                self.concepts.range(start..)
            }
            None => self.concepts.iter(),
        };
        iter.map(|entry| {
            let (key, bytes) = entry?;
            decode("concepts", &key, &bytes)
        })
    }

    /// Stores `concept`, stamping times and revision; keeps the replaced revision in history
    /// and records `author` (a key's name, empty on an open server) as the new revision's
    /// author, and the write's change record, in the same transaction.
    ///
    /// With `expected_revision`, fails unless the stored revision is that one (0 = must not
    /// exist yet). Returns the concept as stored, committed; durable once flushed.
    pub fn upsert_concept(
        &self,
        concept: Concept,
        expected_revision: Option<u64>,
        now_ms: i64,
        author: &str,
    ) -> Result<Concept, StoreError> {
        let authorship = Authorship {
            key: author.to_owned(),
            time_ms: now_ms,
        };
        let trees = (
            &self.concepts,
            &self.history,
            &self.authors,
            &self.changes,
            &self.concept_changes,
            &self.meta,
        );
        let (stored, last) =
            trees.transaction(|(concepts, history, authors, changes, index, meta)| {
                let previous: Option<Concept> = concepts
                    .get(keys::concept(&concept.id))?
                    .map(|bytes| decode("concepts", concept.id.as_bytes(), &bytes))
                    .transpose()
                    .map_err(ConflictableTransactionError::Abort)?;
                let current = previous.as_ref().map_or(0, |p| p.revision);
                if let Some(expected) = expected_revision {
                    if expected != current {
                        return Err(ConflictableTransactionError::Abort(
                            StoreError::RevisionMismatch {
                                id: concept.id.clone(),
                                expected,
                                current,
                            },
                        ));
                    }
                }
                let mut next = concept.clone();
                next.revision = current + 1;
                next.updated_ms = now_ms;
                next.created_ms = previous.as_ref().map_or(now_ms, |p| p.created_ms);
                if let Some(previous) = &previous {
                    put(
                        history,
                        &keys::history(&previous.id, previous.revision),
                        previous,
                    )?;
                }
                put(concepts, &keys::concept(&next.id), &next)?;
                put(
                    authors,
                    &keys::history(&next.id, next.revision),
                    &authorship,
                )?;
                let mut log = ChangeLog::new(self, (changes, index, meta), now_ms, author);
                log.upserted(previous.as_ref(), &next)?;
                Ok((next, log.last()))
            })?;
        self.advance_revision(last);
        Ok(stored)
    }

    /// Stores many new concepts with their change records in one transaction (the shipped
    /// glossary, without an author), stamping each as revision 1. Concepts whose id already
    /// exists are replaced. Durable once flushed.
    pub fn insert_concepts(
        &self,
        concepts: Vec<Concept>,
        now_ms: i64,
    ) -> Result<Vec<Concept>, StoreError> {
        let stored: Vec<Concept> = concepts
            .into_iter()
            .map(|mut concept| {
                concept.revision = 1;
                concept.created_ms = now_ms;
                concept.updated_ms = now_ms;
                concept
            })
            .collect();
        let trees = (
            &self.concepts,
            &self.changes,
            &self.concept_changes,
            &self.meta,
        );
        let last = trees.transaction(|(concepts, changes, index, meta)| {
            let mut log = ChangeLog::new(self, (changes, index, meta), now_ms, "");
            for concept in &stored {
                put(concepts, &keys::concept(&concept.id), concept)?;
                log.upserted(None, concept)?;
            }
            Ok(log.last())
        })?;
        self.advance_revision(last);
        Ok(stored)
    }

    /// Deletes a concept, with the change record of `author` at `now_ms`, and answers what
    /// it was; `None` when there was none. Its history is kept, so a deletion can be undone
    /// by a terminologist. Durable once flushed.
    pub fn delete_concept(
        &self,
        id: &str,
        now_ms: i64,
        author: &str,
    ) -> Result<Option<Concept>, StoreError> {
        let trees = (
            &self.concepts,
            &self.history,
            &self.changes,
            &self.concept_changes,
            &self.meta,
        );
        let removed = trees.transaction(|(concepts, history, changes, index, meta)| {
            let Some(bytes) = concepts.remove(keys::concept(id))? else {
                return Ok(None);
            };
            let previous: Concept = decode("concepts", id.as_bytes(), &bytes)
                .map_err(ConflictableTransactionError::Abort)?;
            put(history, &keys::history(id, previous.revision), &previous)?;
            let mut log = ChangeLog::new(self, (changes, index, meta), now_ms, author);
            log.deleted(&previous)?;
            Ok(Some((previous, log.last())))
        })?;
        let Some((removed, last)) = removed else {
            return Ok(None);
        };
        self.advance_revision(last);
        Ok(Some(removed))
    }

    /// Past revisions of a concept, oldest first.
    pub fn history(&self, id: &str) -> Result<Vec<Concept>, StoreError> {
        self.history
            .scan_prefix(keys::history_prefix(id))
            .map(|entry| {
                let (key, bytes) = entry?;
                decode("history", &key, &bytes)
            })
            .collect()
    }

    /// Stores translation units in `memory` in one atomic batch; answers, per unit, whether it
    /// replaced a unit with the same id: a stored one, or an earlier one of the same batch (the
    /// later wins). Durable once flushed.
    pub fn put_units(
        &self,
        memory: &str,
        units: &[TranslationUnit],
    ) -> Result<Vec<bool>, StoreError> {
        let mut batch = sled::Batch::default();
        let mut replaced = Vec::with_capacity(units.len());
        let mut seen = std::collections::HashSet::with_capacity(units.len());
        let mut written = Vec::with_capacity(units.len());
        for unit in units {
            let key = keys::unit(memory, &unit.id);
            let earlier = !seen.insert(unit.id.as_str());
            replaced.push(earlier || self.units.contains_key(&key)?);
            batch.insert(key.as_slice(), encode(unit));
            written.push(key);
        }
        self.log_memory_write(written.iter().map(Vec::as_slice))?;
        self.units.apply_batch(batch)?;
        Ok(replaced)
    }

    /// Deletes units of `memory` by id; answers how many were stored. Durable once flushed.
    pub fn delete_units(&self, memory: &str, ids: &[String]) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut removed = Vec::new();
        for id in ids {
            let key = keys::unit(memory, id);
            if self.units.contains_key(&key)? {
                batch.remove(key.as_slice());
                removed.push(key);
            }
        }
        if !removed.is_empty() {
            self.log_memory_write(removed.iter().map(Vec::as_slice))?;
        }
        let deleted = removed.len();
        self.units.apply_batch(batch)?;
        Ok(deleted)
    }

    /// Every stored unit with its memory, for building the search index at start-up.
    pub fn all_units(
        &self,
    ) -> impl Iterator<Item = Result<(String, TranslationUnit), StoreError>> + '_ {
        self.units.iter().map(|entry| {
            let (key, bytes) = entry?;
            let memory = keys::parse_unit(&key)
                .map(|(m, _)| m.to_owned())
                .ok_or_else(|| StoreError::Corrupt {
                    tree: "units",
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "key is not memory NUL id".into(),
                })?;
            Ok((memory, decode("units", &key, &bytes)?))
        })
    }

    /// The units of one memory in id order, starting after `after` when given.
    pub fn units_after<'a>(
        &'a self,
        memory: &str,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<TranslationUnit, StoreError>> + 'a {
        let prefix = keys::unit_prefix(memory);
        let start = match after {
            Some(id) => {
                let mut key = keys::unit(memory, id);
                key.push(0);
                key
            }
            None => prefix.clone(),
        };
        self.units
            .range(start..)
            .take_while(move |entry| entry.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
            .map(|entry| {
                let (key, bytes) = entry?;
                decode("units", &key, &bytes)
            })
    }

    /// Creates or replaces a collection, with the change record of `author` at `now_ms`.
    /// Durable once flushed.
    pub fn upsert_collection(
        &self,
        collection: &Collection,
        now_ms: i64,
        author: &str,
    ) -> Result<(), StoreError> {
        let trees = (
            &self.collections,
            &self.changes,
            &self.concept_changes,
            &self.meta,
        );
        let last = trees.transaction(|(collections, changes, index, meta)| {
            put(collections, &keys::collection(&collection.name), collection)?;
            let mut log = ChangeLog::new(self, (changes, index, meta), now_ms, author);
            log.append(ChangeKind::CollectionUpserted {
                collection: collection.clone(),
            })?;
            Ok(log.last())
        })?;
        self.advance_revision(last);
        Ok(())
    }

    /// Every collection, in name order.
    pub fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        self.collections
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                decode("collections", &key, &bytes)
            })
            .collect()
    }
}

fn put<T: Serialize>(
    tree: &TransactionalTree,
    key: &[u8],
    value: &T,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    tree.insert(key, encode(value))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, LangSection, Term};

    fn concept(id: &str, en: &str) -> Concept {
        let english = LangSection::new(Lang::en(), vec![Term::preferred(en)]);
        Concept::new(id, "test", vec![english])
    }

    #[test]
    fn updates_bump_the_revision_and_keep_history() {
        let store = Store::temporary().unwrap();
        let first = store
            .upsert_concept(concept("c", "one"), None, 10, "")
            .unwrap();
        assert_eq!((first.revision, first.created_ms), (1, 10));
        let second = store
            .upsert_concept(concept("c", "two"), Some(1), 20, "desk-7")
            .unwrap();
        assert_eq!(
            (second.revision, second.created_ms, second.updated_ms),
            (2, 10, 20)
        );
        let stale = store.upsert_concept(concept("c", "three"), Some(1), 30, "");
        assert!(matches!(
            stale,
            Err(StoreError::RevisionMismatch { current: 2, .. })
        ));
        assert_eq!(store.history("c").unwrap(), vec![first]);
        let author = store.authorship("c", 2).unwrap();
        assert_eq!(
            author,
            Some(Authorship {
                key: "desk-7".into(),
                time_ms: 20
            })
        );
    }

    #[test]
    fn paging_resumes_after_the_last_id() {
        let store = Store::temporary().unwrap();
        for id in ["a", "b", "c"] {
            store.upsert_concept(concept(id, id), None, 0, "").unwrap();
        }
        let rest: Vec<String> = store
            .concepts_after(Some("a"))
            .map(|c| c.unwrap().id)
            .collect();
        assert_eq!(rest, ["b", "c"]);
    }

    #[test]
    fn refuses_a_database_from_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        {
            // The dropped Store's flusher may still hold the lock for a moment.
            let db = (0..250)
                .find_map(|_| {
                    let opened = sled::open(dir.path()).ok();
                    if opened.is_none() {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    opened
                })
                .expect("the directory is released within 5 s");
            let meta = db.open_tree("meta").unwrap();
            meta.insert(
                keys::SCHEMA_VERSION,
                &keys::encode_version(SCHEMA_VERSION + 1),
            )
            .unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(dir.path()).err().expect("must refuse");
        assert!(matches!(err, StoreError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION));
        assert!(err.to_string().contains("upgrade Tolmach"));
    }
}
