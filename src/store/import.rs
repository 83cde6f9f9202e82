//! Bulk imports that are all-or-nothing and survive a crash.
//!
//! An import first *stages* its entries in the `staging` tree, where nothing reads them. Only
//! when the whole file has been read and accepted does it *commit*: a marker in `meta`,
//! written after the staged entries are on disk, records the decision. Then the staged entries
//! are *applied* to `concepts` and `units` in batches, each batch removing its staged entries.
//!
//! A crash before the marker leaves only staged entries, which [`Store::recover_imports`]
//! discards at the next start; a crash after it leaves the marker, and recovery applies the
//! rest. Applying is safe to repeat because conflict resolution is idempotent (see
//! [`crate::model::resolve`]): an entry applied twice is "unchanged" the second time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{decode, encode, keys, Store, StoreError};
use crate::model::{resolve, Concept, OnConflict, Resolution, TranslationUnit};

/// Staged entries applied per batch: large enough to amortize the tree writes, small enough
/// that the index update after each batch stays short.
const APPLY_BATCH: usize = 4096;

/// One entry an import will write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Staged {
    /// A concept for the termbase; its `collection` is set.
    Concept(Concept),
    /// A translation unit for a memory.
    Unit {
        /// The memory.
        memory: String,
        /// The unit.
        unit: TranslationUnit,
    },
}

/// What a committed import decided, kept in its marker so recovery can finish it alike.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Commit {
    on_conflict: OnConflict,
    now_ms: i64,
}

/// How the entries of an import were resolved against the store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// New to the store.
    pub added: u64,
    /// Changed a stored entry.
    pub updated: u64,
    /// Identical to the stored entry.
    pub unchanged: u64,
    /// Conflicting, and left alone (skip mode).
    pub skipped: u64,
}

impl ImportCounts {
    fn count<T>(&mut self, resolution: &Resolution<T>) {
        match resolution {
            Resolution::Added(_) => self.added += 1,
            Resolution::Updated(_) => self.updated += 1,
            Resolution::Unchanged => self.unchanged += 1,
            Resolution::Skipped => self.skipped += 1,
        }
    }

    /// Adds another batch's counts.
    pub fn add(&mut self, other: ImportCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
    }
}

/// The records one applied batch wrote, for the caller to publish to its indexes.
#[derive(Debug, Default)]
pub struct Applied {
    /// Concepts as stored, with revision and times.
    pub concepts: Vec<Concept>,
    /// Units as stored, with their memory.
    pub units: Vec<(String, TranslationUnit)>,
}

impl Store {
    /// A new import id.
    pub fn begin_import(&self) -> Result<u64, StoreError> {
        self.generate_id()
    }

    /// Stages entries of import `import`, numbered from `first_seq`. Nothing reads staged
    /// entries until the import commits, so this does not wait for the disk.
    pub fn stage(&self, import: u64, first_seq: u64, entries: &[Staged]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (seq, entry) in (first_seq..).zip(entries) {
            batch.insert(&keys::staged(import, seq), encode(entry));
        }
        self.staging.apply_batch(batch)?;
        Ok(())
    }

    /// Drops everything import `import` staged (a refused or abandoned import).
    pub async fn discard_import(&self, import: u64) -> Result<(), StoreError> {
        self.remove_staged(import)?;
        self.flush().await
    }

    fn remove_staged(&self, import: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for entry in self.staging.scan_prefix(keys::staged_prefix(import)) {
            batch.remove(entry?.0);
        }
        self.staging.apply_batch(batch)?;
        Ok(())
    }

    /// Commits import `import` and applies its staged entries, calling `on_batch` with the
    /// records written by each batch. Once this returns the import is durable; if the process
    /// dies part way, [`Store::recover_imports`] finishes it at the next start.
    pub async fn commit_import(
        &self,
        import: u64,
        on_conflict: OnConflict,
        now_ms: i64,
        mut on_batch: impl FnMut(Applied),
    ) -> Result<ImportCounts, StoreError> {
        // The staged entries must be on disk before the marker that makes them count.
        self.flush().await?;
        let commit = Commit {
            on_conflict,
            now_ms,
        };
        self.meta
            .insert(keys::import_marker(import), encode(&commit))?;
        self.flush().await?;
        // From here on a crash no longer loses the import: recovery finishes it.
        tracing::info!(
            import,
            "import marked committed; applying its staged entries"
        );
        let counts = self.apply_staged(import, commit, &mut on_batch)?;
        self.meta.remove(keys::import_marker(import))?;
        self.flush().await?;
        Ok(counts)
    }

    /// Finishes what a crash interrupted: applies the rest of every committed import and
    /// discards the staged entries of every uncommitted one. Call once at start, before
    /// building indexes. Answers how many imports were finished and how many discarded.
    pub fn recover_imports(&self) -> Result<(usize, usize), StoreError> {
        let mut finished = Vec::new();
        for entry in self.meta.scan_prefix(keys::import_marker_prefix()) {
            let (key, bytes) = entry?;
            let import = keys::parse_import_marker(&key).ok_or_else(|| StoreError::Corrupt {
                tree: "meta",
                key: String::from_utf8_lossy(&key).into_owned(),
                reason: "import marker key without an id".into(),
            })?;
            let commit: Commit = decode("meta", &key, &bytes)?;
            self.apply_staged(import, commit, &mut |_| {})?;
            self.meta.remove(&key)?;
            finished.push(import);
        }
        let mut abandoned: Vec<u64> = Vec::new();
        for entry in self.staging.iter() {
            let (key, _) = entry?;
            if let Some(import) = keys::parse_staged(&key) {
                if abandoned.last() != Some(&import) {
                    abandoned.push(import);
                }
            }
        }
        for import in &abandoned {
            self.remove_staged(*import)?;
        }
        self.db.flush()?;
        Ok((finished.len(), abandoned.len()))
    }

    /// What committing these entries would do, writing nothing (a dry run).
    pub fn preview(
        &self,
        entries: &[Staged],
        on_conflict: OnConflict,
    ) -> Result<ImportCounts, StoreError> {
        let mut counts = ImportCounts::default();
        for entry in entries {
            match entry {
                Staged::Concept(incoming) => {
                    let stored = self.concept(&incoming.id)?;
                    counts.count(&resolve(stored.as_ref(), incoming.clone(), on_conflict));
                }
                Staged::Unit { memory, unit } => {
                    let stored = self.unit(memory, &unit.id)?;
                    counts.count(&resolve(stored.as_ref(), unit.clone(), on_conflict));
                }
            }
        }
        Ok(counts)
    }

    /// Reads one unit.
    pub fn unit(&self, memory: &str, id: &str) -> Result<Option<TranslationUnit>, StoreError> {
        let key = keys::unit(memory, id);
        self.units
            .get(&key)?
            .map(|bytes| decode("units", &key, &bytes))
            .transpose()
    }

    /// The collection of the concept stored under `id`, if any.
    pub fn concept_collection(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.concept(id)?.map(|c| c.collection))
    }

    fn apply_staged(
        &self,
        import: u64,
        commit: Commit,
        on_batch: &mut dyn FnMut(Applied),
    ) -> Result<ImportCounts, StoreError> {
        let mut counts = ImportCounts::default();
        loop {
            let staged = self
                .staging
                .scan_prefix(keys::staged_prefix(import))
                .take(APPLY_BATCH)
                .map(|entry| {
                    let (key, bytes) = entry?;
                    let staged: Staged = decode("staging", &key, &bytes)?;
                    Ok((key, staged))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            if staged.is_empty() {
                return Ok(counts);
            }
            let (applied, batch_counts) = self.apply_batch(staged, commit)?;
            counts.add(batch_counts);
            on_batch(applied);
        }
    }

    /// Resolves and writes one batch of staged entries, then unstages them. Entries with the
    /// same id within the batch resolve against each other in file order.
    fn apply_batch(
        &self,
        staged: Vec<(sled::IVec, Staged)>,
        commit: Commit,
    ) -> Result<(Applied, ImportCounts), StoreError> {
        let mut counts = ImportCounts::default();
        let mut concepts: HashMap<String, (Option<Concept>, Concept)> = HashMap::new();
        let mut units: HashMap<Vec<u8>, (String, TranslationUnit)> = HashMap::new();
        let mut history = sled::Batch::default();
        let mut unstage = sled::Batch::default();
        for (key, entry) in staged {
            unstage.remove(key);
            match entry {
                Staged::Concept(incoming) => {
                    // The stored revision, and the result of earlier entries of this batch.
                    let (stored, current) = match concepts.get(&incoming.id) {
                        Some((stored, pending)) => (stored.clone(), Some(pending.clone())),
                        None => {
                            let stored = self.concept(&incoming.id)?;
                            (stored.clone(), stored)
                        }
                    };
                    let resolution = resolve(current.as_ref(), incoming, commit.on_conflict);
                    counts.count(&resolution);
                    let mut next = match resolution {
                        Resolution::Added(c) | Resolution::Updated(c) => c,
                        Resolution::Unchanged | Resolution::Skipped => continue,
                    };
                    next.updated_ms = commit.now_ms;
                    next.revision = stored.as_ref().map_or(1, |p| p.revision + 1);
                    next.created_ms = stored.as_ref().map_or(commit.now_ms, |p| p.created_ms);
                    concepts.insert(next.id.clone(), (stored, next));
                }
                Staged::Unit { memory, unit } => {
                    let key = keys::unit(&memory, &unit.id);
                    let stored = match units.get(&key) {
                        Some((_, u)) => Some(u.clone()),
                        None => self.unit(&memory, &unit.id)?,
                    };
                    let resolution = resolve(stored.as_ref(), unit, commit.on_conflict);
                    counts.count(&resolution);
                    if let Resolution::Added(next) | Resolution::Updated(next) = resolution {
                        units.insert(key, (memory, next));
                    }
                }
            }
        }
        let mut concept_batch = sled::Batch::default();
        let mut applied = Applied::default();
        for (stored, next) in concepts.into_values() {
            if let Some(previous) = stored {
                history.insert(
                    keys::history(&previous.id, previous.revision),
                    encode(&previous),
                );
            }
            concept_batch.insert(keys::concept(&next.id), encode(&next));
            applied.concepts.push(next);
        }
        let mut unit_batch = sled::Batch::default();
        for (key, (memory, unit)) in units {
            unit_batch.insert(key, encode(&unit));
            applied.units.push((memory, unit));
        }
        // History first and the unstaging last: a crash in between leaves entries that a
        // repeat resolves as unchanged.
        self.history.apply_batch(history)?;
        self.concepts.apply_batch(concept_batch)?;
        self.units.apply_batch(unit_batch)?;
        self.staging.apply_batch(unstage)?;
        Ok((applied, counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, LangSection, Term};

    fn concept(id: &str, en: &str) -> Concept {
        let english = LangSection::new(Lang::en(), vec![Term::preferred(en)]);
        Concept::new(id, "imported", vec![english])
    }

    fn ids(store: &Store) -> Vec<String> {
        store.concepts_after(None).map(|c| c.unwrap().id).collect()
    }

    #[tokio::test]
    async fn staged_entries_are_invisible_until_commit_and_gone_after_discard() {
        let store = Store::temporary().unwrap();
        let import = store.begin_import().unwrap();
        store
            .stage(import, 0, &[Staged::Concept(concept("a", "one"))])
            .unwrap();
        assert!(ids(&store).is_empty());
        store.discard_import(import).await.unwrap();
        assert_eq!(store.staging.len(), 0);
        assert!(ids(&store).is_empty());
    }

    #[tokio::test]
    async fn commit_applies_in_file_order_and_reimport_changes_nothing() {
        let store = Store::temporary().unwrap();
        let entries = [
            Staged::Concept(concept("a", "one")),
            Staged::Concept(concept("a", "uno")),
            Staged::Concept(concept("b", "two")),
        ];
        let import = store.begin_import().unwrap();
        store.stage(import, 0, &entries).unwrap();
        let mut published = 0;
        let counts = store
            .commit_import(import, OnConflict::Merge, 7, |a| {
                published += a.concepts.len()
            })
            .await
            .unwrap();
        assert_eq!((counts.added, counts.updated), (2, 1));
        assert_eq!(published, 2);
        let a = store.concept("a").unwrap().unwrap();
        assert_eq!(
            a.langs[0].terms.len(),
            2,
            "the second entry merged into the first"
        );
        assert_eq!(a.revision, 1, "one write, one revision");

        let again = store.begin_import().unwrap();
        store.stage(again, 0, &entries).unwrap();
        assert_eq!(
            store
                .preview(&entries, OnConflict::Merge)
                .unwrap()
                .unchanged,
            3
        );
        let counts = store
            .commit_import(again, OnConflict::Merge, 8, |_| {})
            .await
            .unwrap();
        assert_eq!(counts.unchanged, 3);
        assert_eq!(store.concept("a").unwrap().unwrap().revision, 1);
    }

    #[tokio::test]
    async fn recovery_discards_uncommitted_and_finishes_committed_imports() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let abandoned = store.begin_import().unwrap();
            store
                .stage(abandoned, 0, &[Staged::Concept(concept("lost", "x"))])
                .unwrap();
            let committed = store.begin_import().unwrap();
            store
                .stage(committed, 0, &[Staged::Concept(concept("kept", "y"))])
                .unwrap();
            // As if the process died right after writing the commit marker.
            let commit = Commit {
                on_conflict: OnConflict::Merge,
                now_ms: 1,
            };
            store
                .meta
                .insert(keys::import_marker(committed), encode(&commit))
                .unwrap();
            store.db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.recover_imports().unwrap(), (1, 1));
        assert_eq!(ids(&store), ["kept"]);
        assert_eq!(store.staging.len(), 0);
        assert_eq!(store.recover_imports().unwrap(), (0, 0));
    }
}
