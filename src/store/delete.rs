//! Deleting a whole collection or memory: all or nothing, durable once flushed (see
//! `durable.rs`).
//!
//! A collection spans five trees (its record, its concepts, their history, the change log and
//! its per-concept index), so it goes in one sled transaction; a memory is only its units, all in one tree, so one atomic batch is
//! enough. Either way a crash leaves the records all there or all gone, with nothing for
//! recovery to finish.

use sled::Transactional;

use super::{keys, put, ChangeLog, Store, StoreError};
use crate::model::Concept;

impl Store {
    /// Deletes collection `name` and every concept in it, keeping each concept's last
    /// revision in its history as [`Store::delete_concept`] does, with one change record of
    /// `author` at `now_ms`; answers the deleted concepts' ids, or `None` when there is
    /// neither a collection record nor a concept of that name. The caller holds the termbase
    /// write turn, so no concept joins the collection between the scan and the transaction.
    pub fn delete_collection(
        &self,
        name: &str,
        now_ms: i64,
        author: &str,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let mut members: Vec<Concept> = Vec::new();
        for concept in self.concepts_after(None) {
            let concept = concept?;
            if concept.collection == name {
                members.push(concept);
            }
        }
        let record = keys::collection(name);
        let trees = (
            &self.concepts,
            &self.history,
            &self.collections,
            &self.changes,
            &self.concept_changes,
            &self.meta,
        );
        let deleted =
            trees.transaction(|(concepts, history, collections, changes, index, meta)| {
                let had_record = collections.remove(record.as_slice())?.is_some();
                if !had_record && members.is_empty() {
                    return Ok(None);
                }
                for concept in &members {
                    concepts.remove(keys::concept(&concept.id))?;
                    put(
                        history,
                        &keys::history(&concept.id, concept.revision),
                        concept,
                    )?;
                }
                let mut log = ChangeLog::new(self, (changes, index, meta), now_ms, author);
                log.collection_deleted(name, &members)?;
                Ok(Some(log.last()))
            })?;
        let Some(last) = deleted else {
            return Ok(None);
        };
        self.advance_revision(last);
        Ok(Some(members.into_iter().map(|c| c.id).collect()))
    }

    /// Deletes every unit of `memory` in one atomic batch; answers their ids (empty when the
    /// memory held none). The caller holds the memory write turn.
    pub fn delete_memory(&self, memory: &str) -> Result<Vec<String>, StoreError> {
        let mut batch = sled::Batch::default();
        let mut ids = Vec::new();
        let mut removed = Vec::new();
        for entry in self.units.scan_prefix(keys::unit_prefix(memory)) {
            let (key, _) = entry?;
            let (_, id) = keys::parse_unit(&key).ok_or_else(|| StoreError::Corrupt {
                tree: "units",
                key: String::from_utf8_lossy(&key).into_owned(),
                reason: "key is not memory NUL id".into(),
            })?;
            ids.push(id.to_owned());
            batch.remove(&key);
            removed.push(key);
        }
        if ids.is_empty() {
            return Ok(ids);
        }
        self.log_memory_write(removed.iter().map(|key| key.as_ref()))?;
        self.units.apply_batch(batch)?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Collection, Lang, LangSection, Term};

    fn concept(id: &str, collection: &str) -> Concept {
        let english = LangSection::new(Lang::en(), vec![Term::preferred(id)]);
        Concept::new(id, collection, vec![english])
    }

    #[test]
    fn a_collection_goes_with_its_concepts_and_leaves_their_history() {
        let store = Store::temporary().unwrap();
        for (id, collection) in [("a", "gone"), ("b", "kept"), ("c", "gone")] {
            store
                .upsert_concept(concept(id, collection), None, 1, "")
                .unwrap();
        }
        store
            .upsert_collection(
                &Collection {
                    name: "gone".into(),
                    priority: 0,
                    description: String::new(),
                },
                1,
                "",
            )
            .unwrap();
        let deleted = store.delete_collection("gone", 2, "desk-7").unwrap();
        assert_eq!(deleted, Some(vec!["a".to_owned(), "c".to_owned()]));
        let left: Vec<String> = store.concepts_after(None).map(|c| c.unwrap().id).collect();
        assert_eq!(left, ["b"]);
        assert!(store.collections().unwrap().is_empty());
        assert_eq!(store.history("a").unwrap().len(), 1);
        assert_eq!(store.delete_collection("gone", 3, "").unwrap(), None);
        let last = store.changes_between(0, store.revision(), 10).unwrap();
        assert_eq!(last.len(), 5, "three upserts, a collection, its deletion");
        assert_eq!(
            last[4].what,
            crate::store::ChangeKind::CollectionDeleted {
                name: "gone".into(),
                concepts: 2
            }
        );
        assert_eq!(store.concept_changes("a").unwrap(), [(1, 1), (5, 1)]);
    }
}
