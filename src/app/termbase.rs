//! The termbase: concepts and collections written through the [write path](super::writes),
//! Lookup and Recognize over the live term index on the blocking pool.
//!
//! Concept ids are unique across collections. An upsert never takes a concept out of another
//! collection (nor drops its language sections) unless the caller says so; one whose id an
//! import in progress claimed for another collection is refused too, since that import's
//! commit would take the concept back.

use std::collections::HashMap;
use std::sync::Arc;

use super::claims::Claims;
use super::commands::{Command, Outcome};
use super::work::{self, Admission, Heavy};
use super::writes::{Author, Change, WritePath};
use super::{now_ms, take_page, AppError, Page};
use crate::index::{Cancel, LookupQuery, MatchKind, Occurrence, TermChange, TermHit, TermSearch};
use crate::model::{Collection, Concept, Lang};
use crate::store::{Store, StoreError};
use crate::text;

/// Collection of concepts stored without one.
pub const DEFAULT_COLLECTION: &str = "default";

/// The collection the shipped glossary is loaded into.
pub const GLOSSARY_COLLECTION: &str = "sco-glossary";

/// Hits a new term is compared with when looking for a twin in its collection.
const TWIN_CANDIDATES: usize = 20;

/// An upsert's answer: the concept as stored, and what a terminologist should look at.
#[derive(Clone, Debug)]
pub struct Upserted {
    /// The concept as stored, with revision and times.
    pub concept: Concept,
    /// One sentence per new term identical (after normalization) to a term of another
    /// concept of the collection.
    pub warnings: Vec<String>,
}

/// One revision of a concept with who wrote it and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Revision {
    /// The concept as this revision stored it.
    pub concept: Concept,
    /// The writing key's name; empty on an open server, for the shipped glossary and for
    /// imports.
    pub author: String,
    /// When it was written, in ms since the epoch.
    pub time_ms: i64,
    /// Whether it is the revision stored now.
    pub current: bool,
}

/// Which concepts a listing wants; empty fields match every concept.
#[derive(Clone, Debug, Default)]
pub struct ConceptFilter {
    /// Only this collection.
    pub collection: String,
    /// Only these collections (the caller's scope); empty = every one.
    pub within: Vec<String>,
    /// Only this subject field, compared case-insensitively.
    pub subject_field: String,
    /// Only concepts with a section in this language.
    pub lang: Option<Lang>,
    /// Only concepts updated after this time, in ms since the epoch.
    pub updated_after_ms: Option<i64>,
    /// Only concepts written after this store revision (a change feed token).
    pub after_revision: Option<u64>,
}

impl ConceptFilter {
    fn is_empty(&self) -> bool {
        self.collection.is_empty()
            && self.within.is_empty()
            && self.subject_field.is_empty()
            && self.lang.is_none()
            && self.updated_after_ms.is_none()
            && self.after_revision.is_none()
    }

    /// Whether the listing wants `concept`; only the revision filter reads the store.
    fn wants(&self, store: &Store, concept: &Concept) -> Result<bool, StoreError> {
        if !self.wants_content(concept) {
            return Ok(false);
        }
        match self.after_revision {
            Some(after) => Ok(store.last_change(&concept.id)? > after),
            None => Ok(true),
        }
    }

    fn wants_content(&self, concept: &Concept) -> bool {
        (self.collection.is_empty() || concept.collection == self.collection)
            && (self.within.is_empty() || self.within.contains(&concept.collection))
            && (self.subject_field.is_empty()
                || concept.subject_field.to_lowercase() == self.subject_field)
            && self
                .lang
                .as_ref()
                .is_none_or(|l| concept.sections_for(l).next().is_some())
            && self
                .updated_after_ms
                .is_none_or(|after| concept.updated_ms > after)
    }
}

/// The termbase of one server. Cheap to clone.
#[derive(Clone)]
pub struct Termbase {
    store: Store,
    search: Arc<TermSearch>,
    writes: WritePath,
    admission: Admission,
    claims: Claims,
}

impl Termbase {
    /// The termbase of `store`, searched through `search` (built from the same store),
    /// written through `writes`; `claims` are the ids imports in progress will write.
    pub fn new(
        store: Store,
        search: Arc<TermSearch>,
        writes: WritePath,
        admission: Admission,
        claims: Claims,
    ) -> Termbase {
        Termbase {
            store,
            search,
            writes,
            admission,
            claims,
        }
    }

    /// Stores a checked concept (collection and id may be empty: the default collection, an
    /// id of the server's). With `expected_revision`, only over that revision (0 = new).
    /// Refuses an id of another collection unless `move_from_other_collection`.
    pub async fn upsert(
        &self,
        author: &Author,
        mut concept: Concept,
        expected_revision: Option<u64>,
        move_from_other_collection: bool,
    ) -> Result<Upserted, AppError> {
        if concept.collection.is_empty() {
            concept.collection = DEFAULT_COLLECTION.to_owned();
        }
        if concept.id.is_empty() {
            concept.id = format!("c{:016x}", self.store.generate_id()?);
        }
        let command = Command::UpsertConcept {
            author: author.clone(),
            time_ms: now_ms(),
            concept,
            expected_revision,
            move_from_other_collection,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .upserted()
    }

    /// The same termbase applying entry `sequence` of the replicated log (cluster mode).
    pub fn applying(&self, sequence: u64) -> Termbase {
        Termbase {
            writes: self.writes.applying(sequence),
            ..self.clone()
        }
    }

    /// Applies a termbase `command` through the write path.
    pub async fn apply(&self, command: Command) -> Result<Outcome, AppError> {
        match command {
            Command::UpsertConcept {
                author,
                time_ms,
                concept,
                expected_revision,
                move_from_other_collection,
            } => {
                let upserted = self
                    .apply_upsert(
                        &author,
                        time_ms,
                        concept,
                        expected_revision,
                        move_from_other_collection,
                    )
                    .await?;
                Ok(Outcome::Upserted(upserted))
            }
            Command::DeleteConcept {
                author,
                time_ms,
                id,
            } => Ok(Outcome::Deleted(
                self.apply_delete(&author, time_ms, id).await?,
            )),
            Command::UpsertCollection {
                author,
                time_ms,
                collection,
            } => {
                self.apply_upsert_collection(&author, time_ms, collection)
                    .await?;
                Ok(Outcome::Done)
            }
            Command::DeleteCollection {
                author,
                time_ms,
                name,
            } => Ok(Outcome::Count(
                self.apply_delete_collection(&author, time_ms, name).await?,
            )),
            Command::AddUnits { .. }
            | Command::DeleteUnits { .. }
            | Command::DeleteMemory { .. }
            | Command::ImportChunk { .. }
            | Command::Import(_)
            | Command::PutKey { .. } => Err(AppError::Internal {
                what: "a termbase write",
                detail: "another kind of write was sent to the termbase".to_owned(),
            }),
        }
    }

    async fn apply_upsert(
        &self,
        author: &Author,
        time_ms: i64,
        concept: Concept,
        expected_revision: Option<u64>,
        move_from_other_collection: bool,
    ) -> Result<Upserted, AppError> {
        let change = Change::UpsertConcept {
            id: concept.id.clone(),
            collection: concept.collection.clone(),
        };
        let claims = self.claims.clone();
        let name = author.0.clone();
        let (previous, stored) = self
            .writes
            .termbase(
                change,
                author,
                move |store, _| async move {
                    let previous = store.concept(&concept.id)?;
                    if !move_from_other_collection {
                        refuse_other_owner(&claims, &concept, previous.as_ref())?;
                    }
                    ensure_collection(&store, &concept.collection, &name, time_ms)?;
                    let stored =
                        store.upsert_concept(concept, expected_revision, time_ms, &name)?;
                    Ok((previous, stored))
                },
                |(previous, stored), index| {
                    index.stage([TermChange::Upserted(stored.clone())]);
                    (previous, stored)
                },
            )
            .await?;
        // Once the write is visible, off its publication order: a twin written by a
        // concurrent upsert may be named too.
        let search = Arc::clone(&self.search);
        work::run_write("twin terms", move || Upserted {
            warnings: twins(&search, &stored, previous.as_ref()),
            concept: stored,
        })
        .await
    }

    /// Reads one concept.
    pub fn get(&self, id: &str) -> Result<Concept, AppError> {
        self.store
            .concept(id)?
            .ok_or_else(|| AppError::ConceptNotFound { id: id.to_owned() })
    }

    /// The name of the key that wrote the stored revision of `concept`; empty when no key
    /// did.
    pub fn author(&self, concept: &Concept) -> Result<String, AppError> {
        Ok(self
            .store
            .authorship(&concept.id, concept.revision)?
            .map(|a| a.key)
            .unwrap_or_default())
    }

    /// Every revision of concept `id`, newest first, with its author and time: the stored
    /// one (unless deleted) and the past ones.
    pub fn history(&self, id: &str) -> Result<Vec<Revision>, AppError> {
        let current = self.store.concept(id)?;
        let past = self.store.history(id)?;
        let current_revision = current.as_ref().map(|c| c.revision);
        let revisions = current
            .into_iter()
            .map(|c| (c, true))
            .chain(
                past.into_iter()
                    .rev()
                    .filter(|c| Some(c.revision) != current_revision)
                    .map(|c| (c, false)),
            )
            .map(|(concept, current)| {
                let authorship = self.store.authorship(&concept.id, concept.revision)?;
                Ok(Revision {
                    author: authorship
                        .as_ref()
                        .map(|a| a.key.clone())
                        .unwrap_or_default(),
                    time_ms: authorship.map_or(concept.updated_ms, |a| a.time_ms),
                    concept,
                    current,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        if revisions.is_empty() {
            return Err(AppError::ConceptNotFound { id: id.to_owned() });
        }
        Ok(revisions)
    }

    /// Deletes one concept; answers it as it was.
    pub async fn delete(&self, author: &Author, id: String) -> Result<Concept, AppError> {
        let command = Command::DeleteConcept {
            author: author.clone(),
            time_ms: now_ms(),
            id,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .deleted()
    }

    async fn apply_delete(
        &self,
        author: &Author,
        time_ms: i64,
        id: String,
    ) -> Result<Concept, AppError> {
        let change = Change::DeleteConcept { id: id.clone() };
        let name = author.0.clone();
        self.writes
            .termbase(
                change,
                author,
                move |store, _| async move {
                    store
                        .delete_concept(&id, time_ms, &name)?
                        .ok_or(AppError::ConceptNotFound { id })
                },
                |deleted, index| {
                    index.stage([TermChange::Deleted(deleted.id.clone())]);
                    deleted
                },
            )
            .await
    }

    /// One page of the concepts `filter` wants, in id order, after `after`. A filtered
    /// listing may scan the whole store for one page: it runs on the blocking pool as
    /// [`Heavy::Scan`].
    pub async fn list(
        &self,
        filter: ConceptFilter,
        after: Option<String>,
        size: usize,
    ) -> Result<Page<Concept>, AppError> {
        let store = self.store.clone();
        let unfiltered = filter.is_empty();
        let page = move |cancel: &Cancel| {
            let mut checkpoint = cancel.checkpoint();
            let matching = store
                .concepts_after(after.as_deref())
                .take_while(|_| !checkpoint.stop())
                .filter_map(|concept| {
                    let wanted = concept.and_then(|c| Ok(filter.wants(&store, &c)?.then_some(c)));
                    wanted.transpose()
                });
            take_page(matching, size, |c| &c.id)
        };
        if unfiltered {
            // A range read of one page: no heavier than a lookup.
            return Ok(page(&Cancel::never())?);
        }
        Ok(self
            .admission
            .run(Heavy::Scan, "concept listing", page)
            .await??)
    }

    /// The best hits for `query`; with `with_pinyin`, the segmenter that the renderings'
    /// pinyin needs is loaded first.
    pub async fn lookup(
        &self,
        query: LookupQuery,
        with_pinyin: bool,
    ) -> Result<Vec<TermHit>, AppError> {
        let snapshot = self.search.snapshot();
        self.admission
            .run(Heavy::Lookup, "lookup", move |cancel| {
                let hits = snapshot.lookup_cancellable(&query, cancel);
                if with_pinyin {
                    text::segmenter();
                }
                hits
            })
            .await
    }

    /// Every known term in `text`, as [`crate::index::Snapshot::recognize`] finds them.
    pub async fn recognize(
        &self,
        text: Arc<str>,
        lang: Option<Lang>,
        collections: Vec<String>,
        with_pinyin: bool,
    ) -> Result<Vec<Occurrence>, AppError> {
        let snapshot = self.search.snapshot();
        self.admission
            .run(Heavy::Recognize, "recognition", move |cancel| {
                let found =
                    snapshot.recognize_cancellable(&text, lang.as_ref(), &collections, cancel);
                if with_pinyin {
                    text::segmenter();
                }
                found
            })
            .await
    }

    /// Creates or updates a collection; ranking depends on priorities, so the term index is
    /// rebuilt.
    pub async fn upsert_collection(
        &self,
        author: &Author,
        collection: Collection,
    ) -> Result<(), AppError> {
        let command = Command::UpsertCollection {
            author: author.clone(),
            time_ms: now_ms(),
            collection,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .done()
    }

    async fn apply_upsert_collection(
        &self,
        author: &Author,
        time_ms: i64,
        collection: Collection,
    ) -> Result<(), AppError> {
        let change = Change::UpsertCollection {
            name: collection.name.clone(),
        };
        let by = author.0.clone();
        self.writes
            .termbase(
                change,
                author,
                move |store, _| async move {
                    store.upsert_collection(&collection, time_ms, &by)?;
                    Ok(priorities(&store)?)
                },
                |priorities, index| index.set_priorities(priorities),
            )
            .await
    }

    /// How many concepts are stored, as the term index has them now.
    pub fn concept_count(&self) -> usize {
        self.search.snapshot().concept_count()
    }

    /// Every collection, highest priority first, then by name.
    pub fn collections(&self) -> Result<Vec<Collection>, AppError> {
        let mut collections = self.store.collections()?;
        collections.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        Ok(collections)
    }

    /// Deletes collection `name` with every concept in it, all or nothing; answers how many
    /// concepts it held. The shipped glossary only with `force`.
    pub async fn delete_collection(
        &self,
        author: &Author,
        name: String,
        force: bool,
    ) -> Result<usize, AppError> {
        if name == GLOSSARY_COLLECTION && !force {
            return Err(AppError::ProtectedCollection { name });
        }
        let command = Command::DeleteCollection {
            author: author.clone(),
            time_ms: now_ms(),
            name,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .count()
    }

    async fn apply_delete_collection(
        &self,
        author: &Author,
        time_ms: i64,
        name: String,
    ) -> Result<usize, AppError> {
        let change = Change::DeleteCollection { name: name.clone() };
        let by = author.0.clone();
        self.writes
            .termbase(
                change,
                author,
                move |store, _| async move {
                    let ids = store
                        .delete_collection(&name, time_ms, &by)?
                        .ok_or(AppError::CollectionNotFound { name })?;
                    Ok((ids, priorities(&store)?))
                },
                |(ids, priorities), index| {
                    let count = ids.len();
                    index.deleted_many(ids);
                    index.set_priorities(priorities);
                    count
                },
            )
            .await
    }
}

/// Refuses `concept` when its id belongs to another collection: stored there (`previous`),
/// or claimed for it by an import in progress.
fn refuse_other_owner(
    claims: &Claims,
    concept: &Concept,
    previous: Option<&Concept>,
) -> Result<(), AppError> {
    let (owner, importing) = match (previous, claims.owner(&concept.id)) {
        (Some(stored), _) if stored.collection != concept.collection => {
            (stored.collection.clone(), false)
        }
        (_, Some(claimed)) if claimed != concept.collection => (claimed, true),
        _ => return Ok(()),
    };
    Err(AppError::IdInOtherCollection {
        id: concept.id.clone(),
        owner,
        collection: concept.collection.clone(),
        importing,
    })
}

/// Creates collection `name` unless it exists, with priority 0: below the shipped glossary,
/// so that what a write brings does not outrank the curated terms until someone raises its
/// priority. Call with the termbase write turn held; `author` names the write in the change
/// log.
pub(super) fn ensure_collection(
    store: &Store,
    name: &str,
    author: &str,
    time_ms: i64,
) -> Result<(), StoreError> {
    if store.collections()?.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let collection = Collection {
        name: name.to_owned(),
        priority: 0,
        description: String::new(),
    };
    store.upsert_collection(&collection, time_ms, author)
}

/// Every collection's priority, for the term index.
pub(super) fn priorities(store: &Store) -> Result<HashMap<String, i32>, StoreError> {
    Ok(store
        .collections()?
        .into_iter()
        .map(|c| (c.name, c.priority))
        .collect())
}

/// The warnings for the terms `stored` has and `previous` had not that are identical, after
/// normalization, to a term of another concept of the same collection.
fn twins(index: &TermSearch, stored: &Concept, previous: Option<&Concept>) -> Vec<String> {
    let snapshot = index.snapshot();
    let mut warnings = Vec::new();
    for (lang, term) in stored.terms() {
        let known = previous.is_some_and(|p| {
            p.sections_for(lang)
                .any(|s| s.terms.iter().any(|t| t.text == term.text))
        });
        if known {
            continue;
        }
        let query = LookupQuery {
            text: term.text.clone(),
            source_lang: Some(lang.clone()),
            limit: TWIN_CANDIDATES,
            min_score: 0.0,
            collections: vec![stored.collection.clone()],
            pinyin: false,
        };
        for hit in snapshot.lookup_outright(&query) {
            if hit.concept.id != stored.id
                && matches!(hit.kind, MatchKind::Exact | MatchKind::Normalized)
            {
                warnings.push(format!(
                    "term {:?} ({lang}) is also a term of concept {:?} ({:?}) in collection {:?}",
                    term.text,
                    hit.concept.id,
                    hit.matched_term().text,
                    stored.collection
                ));
            }
        }
    }
    warnings
}
