//! The change log of the termbase: one [`ChangeRecord`] per termbase write, numbered by the
//! store revision (`changes` tree: revision, big-endian → record), and a per-concept index of
//! the store revisions that wrote or deleted each concept (`concept_changes` tree: id, NUL,
//! store revision → the concept's own revision).
//!
//! Every write method of the termbase (`Store::upsert_concept`, `delete_concept`,
//! `upsert_collection`, `delete_collection`, `insert_concepts`, an import's batches) appends
//! its records through a [`ChangeLog`] **inside its own sled transaction**, so that a write
//! and its records are durable together or not at all. Revisions are strictly increasing and
//! without gaps: the store's counter is the last revision written, read from the log at open,
//! and advanced only once a transaction committed. Termbase writes run one at a time (the
//! termbase write turn, or start-up before anything is served), so no two writes draw the
//! same number.
//!
//! An import applies its batches after its commit marker, and a crash repeats the batch it
//! was in (see `import.rs`). Each batch's concepts and their records are one transaction:
//! a repeated batch finds its concepts written (they resolve unchanged, so it writes no
//! record again) or not written at all (then it writes the very records the first attempt
//! would have: the same concepts, in id order, from the same revision, with the commit's
//! time and author kept in `meta`). Either way the log ends as if there had been no crash.
//!
//! Compaction ([`Store::trim_changes`]) keeps the last records only; the oldest retained
//! revision is the first key of the log. The per-concept index is not trimmed: like
//! `history`, it is what a concept went through.
//!
//! The records are stored with postcard: never reorder or add fields, append enum variants
//! at the end.

use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::codec::{decode, encode};
use super::{keys, Store, StoreError};
use crate::model::{Collection, Concept, Lang, LangSection};

/// One termbase write as the change log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The store revision: 1 for the first write, one more for each write after it.
    pub revision: u64,
    /// When it was written, in ms since the epoch (an import's: when it committed).
    pub time_ms: i64,
    /// The writing key's name; empty on an open server and for the shipped glossary.
    pub author: String,
    /// What it changed.
    pub what: ChangeKind,
}

/// What one termbase write changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    /// A concept created or replaced.
    ConceptUpserted {
        /// Its id.
        id: String,
        /// Its collection.
        collection: String,
        /// Its revision as stored (the concept's own counter, not the store's).
        concept_revision: u64,
        /// What differs from its previous revision (every field it has, when new):
        /// `collection`, `subject_field`, `source`, `notes`, `cross_refs`, and per language
        /// `terms.<lang>`, `definition.<lang>`, `notes.<lang>`.
        changed: Vec<String>,
        /// The collection it was in before, when this write moved it; empty otherwise.
        moved_from: String,
    },
    /// A concept deleted.
    ConceptDeleted {
        /// Its id.
        id: String,
        /// The collection it was in.
        collection: String,
        /// The revision it had.
        concept_revision: u64,
    },
    /// A collection created or updated.
    CollectionUpserted {
        /// The collection as stored.
        collection: Collection,
    },
    /// A collection deleted with its concepts.
    CollectionDeleted {
        /// Its name.
        name: String,
        /// How many concepts went with it.
        concepts: u64,
    },
}

impl ChangeKind {
    /// The record of concept `next` replacing `previous` (if any).
    pub(super) fn upserted(previous: Option<&Concept>, next: &Concept) -> ChangeKind {
        let moved_from = previous
            .filter(|p| p.collection != next.collection)
            .map(|p| p.collection.clone())
            .unwrap_or_default();
        ChangeKind::ConceptUpserted {
            id: next.id.clone(),
            collection: next.collection.clone(),
            concept_revision: next.revision,
            changed: changed_fields(previous, next),
            moved_from,
        }
    }
}

/// The fields in which `next` differs from `previous` (every field `next` has when there is
/// no previous revision), named as [`ChangeKind::ConceptUpserted::changed`] says.
pub fn changed_fields(previous: Option<&Concept>, next: &Concept) -> Vec<String> {
    let blank = Concept::new("", "", Vec::new());
    let old = previous.unwrap_or(&blank);
    let mut changed: Vec<String> = [
        ("collection", old.collection != next.collection),
        ("subject_field", old.subject_field != next.subject_field),
        ("source", old.source != next.source),
        ("notes", old.notes != next.notes),
        ("cross_refs", old.cross_refs != next.cross_refs),
    ]
    .into_iter()
    .filter(|(_, differs)| *differs)
    .map(|(name, _)| name.to_owned())
    .collect();
    let mut langs: Vec<&Lang> = old
        .langs
        .iter()
        .chain(&next.langs)
        .map(|s| &s.lang)
        .collect();
    langs.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    langs.dedup();
    for lang in langs {
        let (old_terms, old_definition, old_notes) = parts(old.section(lang));
        let (terms, definition, notes) = parts(next.section(lang));
        for (name, differs) in [
            ("terms", old_terms != terms),
            ("definition", old_definition != definition),
            ("notes", old_notes != notes),
        ] {
            if differs {
                changed.push(format!("{name}.{lang}"));
            }
        }
    }
    changed
}

/// A section's terms, definition and notes; empty ones for a section that is not there.
fn parts(section: Option<&LangSection>) -> (&[crate::model::Term], &str, &[String]) {
    match section {
        Some(s) => (&s.terms, &s.definition, &s.notes),
        None => (&[], "", &[]),
    }
}

/// Appends records to the change log within one sled transaction over the `changes`,
/// `concept_changes` and `meta` trees, numbering them from the revision after the store's
/// last. A store [applying](Store::applying) an entry of the replicated log records the
/// entry's sequence in `meta` with the first record, in the same transaction: a write and
/// the mark that it is applied are durable together, so a restart never applies it twice.
pub(super) struct ChangeLog<'a> {
    changes: &'a TransactionalTree,
    index: &'a TransactionalTree,
    meta: &'a TransactionalTree,
    /// The log entry to mark applied with the first record, if any.
    applying: Option<u64>,
    /// The revision the next record gets.
    next: u64,
    time_ms: i64,
    author: &'a str,
}

impl<'a> ChangeLog<'a> {
    /// A log appending after `store`'s last revision, each record written at `time_ms` by
    /// `author`. Make a new one each time a transaction's closure runs (sled may repeat it).
    pub(super) fn new(
        store: &Store,
        (changes, index, meta): (
            &'a TransactionalTree,
            &'a TransactionalTree,
            &'a TransactionalTree,
        ),
        time_ms: i64,
        author: &'a str,
    ) -> ChangeLog<'a> {
        ChangeLog {
            changes,
            index,
            meta,
            applying: store.applying,
            next: store.revision() + 1,
            time_ms,
            author,
        }
    }

    /// Appends the record of a concept `next` replacing `previous` (if any).
    pub(super) fn upserted(
        &mut self,
        previous: Option<&Concept>,
        next: &Concept,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        self.append(ChangeKind::upserted(previous, next))
    }

    /// Appends the record of `deleted`'s deletion.
    pub(super) fn deleted(
        &mut self,
        deleted: &Concept,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        self.append(ChangeKind::ConceptDeleted {
            id: deleted.id.clone(),
            collection: deleted.collection.clone(),
            concept_revision: deleted.revision,
        })
    }

    /// Appends the record of collection `name` deleted with `members`.
    pub(super) fn collection_deleted(
        &mut self,
        name: &str,
        members: &[Concept],
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        for concept in members {
            self.index(&concept.id, concept.revision)?;
        }
        self.append(ChangeKind::CollectionDeleted {
            name: name.to_owned(),
            concepts: members.len() as u64,
        })
    }

    /// Appends a record of `what`, and for a concept its entry in the per-concept index.
    pub(super) fn append(
        &mut self,
        what: ChangeKind,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        if let ChangeKind::ConceptUpserted {
            id,
            concept_revision,
            ..
        }
        | ChangeKind::ConceptDeleted {
            id,
            concept_revision,
            ..
        } = &what
        {
            self.index(id, *concept_revision)?;
        }
        let record = ChangeRecord {
            revision: self.next,
            time_ms: self.time_ms,
            author: self.author.to_owned(),
            what,
        };
        self.changes
            .insert(&keys::change(record.revision), encode(&record))?;
        if let Some(sequence) = self.applying.take() {
            self.meta.insert(keys::REPLICATED, encode(&sequence))?;
        }
        self.next += 1;
        Ok(())
    }

    /// Notes in the per-concept index that the next record touches concept `id` at its
    /// revision `concept_revision`.
    fn index(
        &self,
        id: &str,
        concept_revision: u64,
    ) -> Result<(), ConflictableTransactionError<StoreError>> {
        self.index.insert(
            keys::concept_change(id, self.next),
            &concept_revision.to_be_bytes(),
        )?;
        Ok(())
    }

    /// The last revision appended; the store's revision once the transaction commits.
    pub(super) fn last(&self) -> u64 {
        self.next - 1
    }
}

impl Store {
    /// The last store revision written: 0 before the first termbase write.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Makes `last` the store's revision, once the transaction that wrote it committed.
    pub(super) fn advance_revision(&self, last: u64) {
        self.revision.fetch_max(last, Ordering::AcqRel);
    }

    /// The last revision in the log at open (0 for an empty log).
    pub(super) fn logged_revision(changes: &sled::Tree) -> Result<u64, StoreError> {
        changes
            .last()?
            .map_or(Ok(0), |(key, _)| parse_change_key(&key))
    }

    /// The oldest revision the log still holds: the first after the store's revision when
    /// it holds none.
    pub fn oldest_change(&self) -> Result<u64, StoreError> {
        match self.changes.first()? {
            Some((key, _)) => parse_change_key(&key),
            None => Ok(self.revision() + 1),
        }
    }

    /// At most `limit` records after revision `after` and up to `until`, oldest first.
    pub fn changes_between(
        &self,
        after: u64,
        until: u64,
        limit: usize,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        if after >= until {
            return Ok(Vec::new());
        }
        self.changes
            .range(keys::change(after + 1)..=keys::change(until))
            .take(limit)
            .map(|entry| {
                let (key, bytes) = entry?;
                decode("changes", &key, &bytes)
            })
            .collect()
    }

    /// Removes the records older than the last `keep` ones (at least one is always kept);
    /// answers how many went.
    pub fn trim_changes(&self, keep: u64) -> Result<usize, StoreError> {
        let keep = keep.max(1);
        let below = self.revision().saturating_sub(keep) + 1;
        let mut removed = 0;
        while let Some((key, _)) = self.changes.first()? {
            if parse_change_key(&key)? >= below {
                break;
            }
            self.changes.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Concept `id` as its revision `revision` stored it: the current one, or a past one
    /// from history; `None` when neither holds it.
    pub fn concept_at(&self, id: &str, revision: u64) -> Result<Option<Concept>, StoreError> {
        if let Some(current) = self.concept(id)?.filter(|c| c.revision == revision) {
            return Ok(Some(current));
        }
        let key = keys::history(id, revision);
        self.history
            .get(&key)?
            .map(|bytes| decode("history", &key, &bytes))
            .transpose()
    }

    /// The last store revision that wrote concept `id`; 0 when none did since the change log
    /// exists.
    pub fn last_change(&self, id: &str) -> Result<u64, StoreError> {
        match self
            .concept_changes
            .scan_prefix(keys::history_prefix(id))
            .next_back()
        {
            Some(entry) => {
                let (key, _) = entry?;
                keys::parse_concept_change(&key).ok_or_else(|| StoreError::Corrupt {
                    tree: "concept_changes",
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "not an id and a store revision".into(),
                })
            }
            None => Ok(0),
        }
    }

    /// The store revisions that wrote or deleted concept `id`, oldest first, each with the
    /// concept's revision then (kept beyond the log's compaction).
    pub fn concept_changes(&self, id: &str) -> Result<Vec<(u64, u64)>, StoreError> {
        self.concept_changes
            .scan_prefix(keys::history_prefix(id))
            .map(|entry| {
                let (key, value) = entry?;
                let corrupt = || StoreError::Corrupt {
                    tree: "concept_changes",
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "not an id, a store revision and a concept revision".into(),
                };
                let store_revision = keys::parse_concept_change(&key).ok_or_else(corrupt)?;
                let concept_revision = keys::decode_offset(&value).ok_or_else(corrupt)?;
                Ok((store_revision, concept_revision))
            })
            .collect()
    }
}

/// The revision of a `changes` key.
fn parse_change_key(key: &[u8]) -> Result<u64, StoreError> {
    keys::parse_change(key).ok_or_else(|| StoreError::Corrupt {
        tree: "changes",
        key: String::from_utf8_lossy(key).into_owned(),
        reason: "key is not a revision".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Term;

    fn concept(collection: &str, sections: &[(Lang, &str)]) -> Concept {
        let langs = sections
            .iter()
            .map(|(lang, text)| LangSection::new(lang.clone(), vec![Term::preferred(*text)]))
            .collect();
        Concept::new("a", collection, langs)
    }

    #[test]
    fn changed_fields_name_what_differs_and_everything_a_new_concept_has() {
        let first = concept("news", &[(Lang::en(), "summit")]);
        assert_eq!(changed_fields(None, &first), ["collection", "terms.en"]);
        let mut next = concept("news", &[(Lang::en(), "summit"), (Lang::ru(), "саммит")]);
        next.notes.push("checked".into());
        next.langs[0].definition = "a meeting".into();
        assert_eq!(
            changed_fields(Some(&first), &next),
            ["notes", "definition.en", "terms.ru"]
        );
        assert!(changed_fields(Some(&next), &next).is_empty());
    }

    #[test]
    fn a_termbase_write_applying_a_log_entry_records_it_in_its_own_transaction() {
        let store = Store::temporary().unwrap();
        let first = concept("news", &[(Lang::en(), "summit")]);
        store
            .applying(7)
            .upsert_concept(first, None, 10, "")
            .unwrap();
        assert_eq!(store.replicated().unwrap(), 7);
        // A write that changes nothing records nothing: the caller marks the entry itself.
        assert_eq!(
            store.applying(8).delete_concept("missing", 20, "").unwrap(),
            None
        );
        assert_eq!(store.replicated().unwrap(), 7);
        store.applying(9).delete_concept("a", 30, "").unwrap();
        assert_eq!(store.replicated().unwrap(), 9);
        // A store that applies no entry leaves the mark alone.
        let again = concept("news", &[(Lang::en(), "summit")]);
        store.upsert_concept(again, None, 40, "").unwrap();
        assert_eq!(store.replicated().unwrap(), 9);
    }

    #[test]
    fn every_write_appends_one_record_and_compaction_keeps_the_last() {
        let store = Store::temporary().unwrap();
        let first = concept("news", &[(Lang::en(), "summit")]);
        store
            .upsert_concept(first.clone(), None, 10, "desk-7")
            .unwrap();
        let moved = concept("sport", &[(Lang::en(), "summit")]);
        store.upsert_concept(moved, None, 20, "").unwrap();
        store.delete_concept("a", 30, "desk-7").unwrap();
        assert_eq!((store.revision(), store.oldest_change().unwrap()), (3, 1));
        let records = store.changes_between(0, 3, 10).unwrap();
        assert_eq!(
            records[1].what,
            ChangeKind::ConceptUpserted {
                id: "a".into(),
                collection: "sport".into(),
                concept_revision: 2,
                changed: vec!["collection".into()],
                moved_from: "news".into(),
            }
        );
        assert_eq!(
            (records[2].time_ms, records[2].author.as_str()),
            (30, "desk-7")
        );
        assert_eq!(
            store.concept_at("a", 1).unwrap().map(|c| c.collection),
            Some("news".to_owned())
        );

        assert_eq!(store.trim_changes(2).unwrap(), 1);
        assert_eq!(store.oldest_change().unwrap(), 2);
        let kept: Vec<u64> = store
            .changes_between(0, 3, 10)
            .unwrap()
            .iter()
            .map(|r| r.revision)
            .collect();
        assert_eq!(kept, [2, 3]);
        assert_eq!(
            store.concept_changes("a").unwrap(),
            [(1, 1), (2, 2), (3, 2)]
        );
    }
}
