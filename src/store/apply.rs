//! Applying a committed import's entries: each batch is *resolved* against what is stored
//! (read, merged by [`crate::model::resolve`], encoded), then *written*. The writes, sled's
//! work, are the critical path of a large import, so [`Store::apply_spool`] runs the two on
//! two threads: resolving a batch overlaps writing the one before it. A [`Resolver`] therefore
//! answers "what is stored" as it will be once every batch it resolved before is written,
//! whether or not the writer has got that far.
//!
//! [`Store::apply_spool`]: super::Store

use std::collections::hash_map::Entry as Slot;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sled::IVec;

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::codec::{decode, encode};
use super::spool::{SpooledEntry, Staged};
use super::{keys, ChangeKind, ChangeLog, Store, StoreError};
use crate::model::{resolve, Applied, Concept, OnConflict, Resolution, TranslationUnit};

/// Entries resolved and written per batch; each batch ends with one progress record, and a
/// crash repeats at most one batch.
pub(super) const APPLY_BATCH: usize = 512;

/// What a committed import decided, kept in its marker so recovery can finish it alike.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(super) struct Commit {
    pub(super) on_conflict: OnConflict,
    pub(super) now_ms: i64,
}

/// How the entries of an import were resolved against the store; kept in import job
/// records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(super) fn count<T>(&mut self, resolution: &Resolution<T>) {
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

/// One batch, resolved and encoded: the records to write, and what they mean for the caller.
pub(super) struct Resolved {
    /// The revisions the batch's concepts replace, by key.
    history: Vec<(Vec<u8>, IVec)>,
    /// The concepts and units, shared with the resolver until the batch is written.
    records: Arc<Records>,
    /// The change record of each concept the batch writes, in id order: the order a repeat
    /// of the batch writes them in, from the same revision.
    changes: Vec<ChangeKind>,
    /// When the import committed: the time of its change records.
    time_ms: i64,
    /// What the batch writes, for the caller's indexes.
    pub(super) applied: Applied,
    /// How its entries resolved.
    pub(super) counts: ImportCounts,
}

/// An entry to resolve.
pub(super) enum Entry {
    /// As read back from a spool; decoded only when it must be.
    Spooled(SpooledEntry),
    /// Already decoded.
    Decoded(Staged),
}

/// A unit a batch will write.
enum PendingUnit {
    /// New to the store, and written exactly as spooled: never decoded.
    Spooled(IVec),
    /// As resolved, with its memory, and whether that is the unit as spooled.
    Resolved(String, TranslationUnit, bool),
}

/// The records one batch writes, by key.
#[derive(Default)]
struct Records {
    concepts: HashMap<Vec<u8>, IVec>,
    units: HashMap<Vec<u8>, IVec>,
}

/// Resolves batches in order, each against the store as the batches before it leave it.
pub(super) struct Resolver<'a> {
    store: &'a Store,
    commit: Commit,
    /// How many batches the writer has written; it counts them up after each.
    written: &'a AtomicU64,
    /// Batches resolved that the writer may not have written yet, by number, oldest first:
    /// their records stand in for the store's.
    unwritten: VecDeque<(u64, Arc<Records>)>,
    /// The number of the next batch.
    next: u64,
}

impl<'a> Resolver<'a> {
    /// A resolver of the batches of one commit, the first of which is batch 0 of `written`.
    pub(super) fn new(store: &'a Store, commit: Commit, written: &'a AtomicU64) -> Resolver<'a> {
        Resolver {
            store,
            commit,
            written,
            unwritten: VecDeque::new(),
            next: 0,
        }
    }

    /// Resolves the next batch. Entries with the same id within the batch resolve against
    /// each other in file order.
    pub(super) fn resolve(&mut self, entries: Vec<Entry>) -> Result<Resolved, StoreError> {
        let written = self.written.load(Ordering::Acquire);
        while self.unwritten.front().is_some_and(|(n, _)| *n < written) {
            self.unwritten.pop_front();
        }
        let (on_conflict, now_ms) = (self.commit.on_conflict, self.commit.now_ms);
        let mut counts = ImportCounts::default();
        let mut concepts: HashMap<String, (Option<Concept>, Concept)> = HashMap::new();
        let mut units: HashMap<Vec<u8>, PendingUnit> = HashMap::new();
        let mut applied = Applied::default();
        for entry in entries {
            // For a spooled unit: what is stored under its key, read once.
            let mut stored_bytes = None;
            let entry = match entry {
                Entry::Decoded(staged) => staged,
                Entry::Spooled(spooled) => {
                    if let Some((memory, id, encoded)) = spooled.unit() {
                        if let Slot::Vacant(slot) = units.entry(keys::unit(memory, id)) {
                            stored_bytes = self.stored_unit_bytes(slot.key())?;
                            if stored_bytes.is_none() {
                                // Most units of a large import are new: they are written as
                                // spooled, neither decoded nor encoded again.
                                counts.added += 1;
                                applied.unit_entries += 1;
                                slot.insert(PendingUnit::Spooled(IVec::from(encoded)));
                                continue;
                            }
                        }
                    }
                    spooled.decode()?
                }
            };
            match entry {
                Staged::Concept(incoming) => {
                    // The stored revision, and the result of earlier entries of this batch.
                    let (stored, current) = match concepts.get(&incoming.id) {
                        Some((stored, pending)) => (stored.clone(), Some(pending.clone())),
                        None => {
                            let stored = self.stored_concept(&incoming.id)?;
                            (stored.clone(), stored)
                        }
                    };
                    let resolution = resolve(current.as_ref(), incoming, on_conflict);
                    counts.count(&resolution);
                    let mut next = match resolution {
                        Resolution::Added(c) | Resolution::Updated(c) => c,
                        Resolution::Unchanged | Resolution::Skipped => continue,
                    };
                    next.updated_ms = now_ms;
                    next.revision = stored.as_ref().map_or(1, |p| p.revision + 1);
                    next.created_ms = stored.as_ref().map_or(now_ms, |p| p.created_ms);
                    concepts.insert(next.id.clone(), (stored, next));
                }
                Staged::Unit { memory, unit } => {
                    let key = keys::unit(&memory, &unit.id);
                    let stored = match units.get(&key) {
                        Some(PendingUnit::Resolved(_, u, _)) => Some(u.clone()),
                        Some(PendingUnit::Spooled(bytes)) => Some(decode("units", &key, bytes)?),
                        None => {
                            let bytes = match stored_bytes {
                                Some(bytes) => Some(bytes),
                                None => self.stored_unit_bytes(&key)?,
                            };
                            bytes.map(|b| decode("units", &key, &b)).transpose()?
                        }
                    };
                    let resolution = resolve(stored.as_ref(), unit, on_conflict);
                    counts.count(&resolution);
                    let as_spooled = matches!(resolution, Resolution::Added(_));
                    if !as_spooled {
                        applied.units_not_as_spooled.push(applied.unit_entries);
                    }
                    applied.unit_entries += 1;
                    if let Resolution::Added(next) | Resolution::Updated(next) = resolution {
                        units.insert(key, PendingUnit::Resolved(memory, next, as_spooled));
                    }
                }
            }
        }
        let mut records = Records::default();
        let mut history = Vec::new();
        let mut concepts: Vec<_> = concepts.into_values().collect();
        concepts.sort_unstable_by(|(_, a), (_, b)| a.id.cmp(&b.id));
        let mut changes = Vec::with_capacity(concepts.len());
        for (stored, next) in concepts {
            changes.push(ChangeKind::upserted(stored.as_ref(), &next));
            if let Some(previous) = stored {
                let key = keys::history(&previous.id, previous.revision);
                history.push((key, encode(&previous).into()));
            }
            let (key, value) = (keys::concept(&next.id), IVec::from(encode(&next)));
            records.concepts.insert(key, value);
            applied.concepts.push(next);
        }
        records.units.reserve(units.len());
        for (key, pending) in units {
            let value = match pending {
                PendingUnit::Spooled(encoded) => encoded,
                PendingUnit::Resolved(memory, unit, as_spooled) => {
                    let value = IVec::from(encode(&unit));
                    if !as_spooled {
                        applied.units_rewritten.push((memory, unit));
                    }
                    value
                }
            };
            records.units.insert(key, value);
        }
        let records = Arc::new(records);
        self.unwritten.push_back((self.next, Arc::clone(&records)));
        self.next += 1;
        Ok(Resolved {
            history,
            records,
            changes,
            time_ms: now_ms,
            applied,
            counts,
        })
    }

    /// The record the newest unwritten batch writes under `key` in the map `of` picks.
    fn unwritten(&self, of: fn(&Records) -> &HashMap<Vec<u8>, IVec>, key: &[u8]) -> Option<IVec> {
        self.unwritten
            .iter()
            .rev()
            .find_map(|(_, records)| of(records).get(key).cloned())
    }

    /// The concept stored under `id` once the batches resolved so far are written.
    fn stored_concept(&self, id: &str) -> Result<Option<Concept>, StoreError> {
        let key = keys::concept(id);
        match self.unwritten(|r| &r.concepts, &key) {
            Some(bytes) => decode("concepts", &key, &bytes).map(Some),
            None => self.store.concept(id),
        }
    }

    /// The encoded unit stored under `key` once the batches resolved so far are written.
    fn stored_unit_bytes(&self, key: &[u8]) -> Result<Option<IVec>, StoreError> {
        match self.unwritten(|r| &r.units, key) {
            Some(bytes) => Ok(Some(bytes)),
            None => Ok(self.store.units.get(key)?),
        }
    }
}

impl Store {
    /// Writes a resolved batch, its change records in the name of `author`, then counts it
    /// in `written`.
    ///
    /// The batch's concepts, the revisions they replace and their change records are one
    /// transaction (at most [`APPLY_BATCH`] concepts), so that a repeat of the batch after a
    /// crash finds all of them or none (see `changes.rs`). Units, the bulk of a memory import,
    /// are inserted one by one instead: a sled batch or transaction holds sled's lock while it
    /// is applied, which would stop the resolver's reads of the next batch. Nothing needs the
    /// units to appear at once, and a crash part way is repaired by applying the batch again
    /// (see the module docs of `import`).
    pub(super) fn write_resolved(
        &self,
        resolved: Resolved,
        written: &AtomicU64,
        author: &str,
    ) -> Result<(Applied, ImportCounts), StoreError> {
        let records = &resolved.records;
        if !resolved.changes.is_empty() {
            let trees = (
                &self.concepts,
                &self.history,
                &self.changes,
                &self.concept_changes,
                &self.meta,
            );
            let last = trees.transaction(|(concepts, history, changes, index, meta)| {
                for (key, value) in &resolved.history {
                    history.insert(key.as_slice(), value.clone())?;
                }
                for (key, value) in &records.concepts {
                    concepts.insert(key.as_slice(), value.clone())?;
                }
                let mut log =
                    ChangeLog::new(self, (changes, index, meta), resolved.time_ms, author);
                for what in &resolved.changes {
                    log.append(what.clone())?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(log.last())
            })?;
            self.advance_revision(last);
        }
        if !records.units.is_empty() {
            self.log_memory_write(records.units.keys().map(Vec::as_slice))?;
        }
        for (key, value) in &records.units {
            self.units.insert(key.as_slice(), value.clone())?;
        }
        written.fetch_add(1, Ordering::Release);
        Ok((resolved.applied, resolved.counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, LangSection, OnConflict, Term};

    fn concept(id: &str, en: &str) -> Entry {
        let english = LangSection::new(Lang::en(), vec![Term::preferred(en)]);
        Entry::Decoded(Staged::Concept(Concept::new(id, "imported", vec![english])))
    }

    fn unit(id: &str, en: &str) -> Entry {
        Entry::Decoded(Staged::test_unit(id, en))
    }

    /// The resolver runs ahead of the writer: a batch resolved before the one ahead of it
    /// is written must still see that batch's records, as revisions, history and counts show.
    #[test]
    fn a_batch_resolves_against_the_unwritten_batches_before_it() {
        let store = Store::temporary().unwrap();
        let written = AtomicU64::new(0);
        let commit = Commit {
            on_conflict: OnConflict::Merge,
            now_ms: 5,
        };
        let mut resolver = Resolver::new(&store, commit, &written);
        let first = resolver
            .resolve(vec![concept("a", "one"), unit("u", "first")])
            .unwrap();
        let second = resolver
            .resolve(vec![concept("a", "uno"), unit("u", "first")])
            .unwrap();
        assert_eq!((second.counts.updated, second.counts.unchanged), (1, 1));
        assert_eq!(second.applied.concepts[0].revision, 2);
        assert_eq!(second.applied.units_not_as_spooled, [0]);
        store.write_resolved(first, &written, "").unwrap();
        store.write_resolved(second, &written, "").unwrap();
        // Once both are written, the store answers for them.
        let third = resolver.resolve(vec![concept("a", "uno")]).unwrap();
        assert_eq!(third.counts.unchanged, 1);
        assert!(resolver.unwritten.len() <= 1, "written batches are let go");
        let a = store.concept("a").unwrap().unwrap();
        assert_eq!((a.revision, a.langs[0].terms.len()), (2, 2));
        assert_eq!(store.history("a").unwrap().len(), 1);
    }

    /// Units new to the store are written as spooled, without being decoded; a repeat of one
    /// in the same batch resolves against it all the same.
    #[test]
    fn spooled_units_new_to_the_store_are_written_as_spooled() {
        let store = Store::temporary().unwrap();
        let mut spool = store.begin_import().unwrap();
        let entries = [
            Staged::test_unit("u", "first"),
            Staged::test_unit("u", "second"),
            Staged::test_unit("v", "other"),
        ];
        spool.append(&entries).unwrap();
        spool.make_durable(&store.imports).unwrap();
        let path = store.imports.file(spool.import());
        let mut reader = super::super::spool::SpoolReader::open(path, 0).unwrap();
        let spooled = std::iter::from_fn(|| reader.next_entry().unwrap())
            .map(Entry::Spooled)
            .collect();
        let written = AtomicU64::new(0);
        let commit = Commit {
            on_conflict: OnConflict::Replace,
            now_ms: 5,
        };
        let resolved = Resolver::new(&store, commit, &written)
            .resolve(spooled)
            .unwrap();
        assert_eq!((resolved.counts.added, resolved.counts.updated), (2, 1));
        assert_eq!(resolved.applied.units_not_as_spooled, [1]);
        assert_eq!(resolved.applied.units_rewritten.len(), 1);
        store.write_resolved(resolved, &written, "").unwrap();
        let text = |id: &str| {
            store.unit("m", id).unwrap().unwrap().segments[0]
                .text
                .clone()
        };
        assert_eq!(
            (text("u"), text("v")),
            ("second".to_owned(), "other".to_owned())
        );
    }
}
