//! `tolmach.v1.Termbase`: concept CRUD, collections, Lookup and Recognize.

use std::collections::HashMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{
    concept_from_proto, concept_to_proto, kind_to_proto, renderings, spans_to_proto,
    status_to_proto,
};
use super::paging::{collect_page, page_size, page_start};
use super::proto::{self, termbase_server::Termbase};
use super::validate::{Violations, MAX_TERM_BYTES, MAX_TEXT_BYTES};
use super::{now_ms, off_workers};
use crate::index::{score, LookupQuery, TermSearch};
use crate::model::{Collection, Concept, Lang};
use crate::store::Store;
use crate::text;

/// Collection of concepts stored without one.
pub const DEFAULT_COLLECTION: &str = "default";
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 100;
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

/// The Termbase service: the store for durability, the live index for search.
#[derive(Clone)]
pub struct TermbaseService {
    store: Store,
    search: Arc<TermSearch>,
    /// Serializes writes so the index sees them in the order the store committed them.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl TermbaseService {
    /// A service over `store`, searching `search` (built from the same store).
    pub fn new(store: Store, search: Arc<TermSearch>) -> TermbaseService {
        TermbaseService {
            store,
            search,
            writes: Arc::default(),
        }
    }

    /// Waits for, and holds, this service's write turn; imports take it too, so that the index
    /// publishes writes in the order the store committed them.
    pub(crate) async fn lock_writes(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writes.clone().lock_owned().await
    }

    /// Publishes concepts an import committed (call with the write turn held).
    pub(crate) fn publish(&self, concepts: Vec<Concept>) {
        if !concepts.is_empty() {
            self.search.upserted_many(concepts);
        }
    }

    /// Creates the collection `name` unless it exists, with priority 0: below the shipped
    /// glossary, so that what an import brings does not outrank the curated terms until
    /// someone raises its priority.
    pub(crate) async fn ensure_collection(&self, name: &str) -> Result<(), Status> {
        let collections = self.store.collections()?;
        if collections.iter().any(|c| c.name == name) {
            return Ok(());
        }
        let collection = Collection {
            name: name.to_owned(),
            priority: 0,
            description: String::new(),
        };
        self.store.upsert_collection(&collection).await?;
        Ok(())
    }

    fn priorities(&self) -> Result<HashMap<String, i32>, Status> {
        Ok(self
            .store
            .collections()?
            .into_iter()
            .map(|c| (c.name, c.priority))
            .collect())
    }
}

fn check_id(field: &str, id: &str) -> Result<(), Status> {
    let mut violations = Violations::default();
    violations.entry_id(field, id);
    violations.into_result(())
}

fn not_found(id: &str) -> Status {
    Status::not_found(format!("no concept with id {id:?}"))
}

/// Loads the Chinese segmenter that the pinyin of renderings needs, off the async workers:
/// the first load takes a moment, later calls return at once.
async fn pinyin_ready() -> Result<(), Status> {
    off_workers("loading the segmenter", || {
        text::segmenter();
    })
    .await
}

/// The language of a query or text: the given tag, else the script's.
fn query_lang(given: Option<Lang>, text: &str) -> Option<Lang> {
    given.or_else(|| text::detect_lang(text).and_then(|tag| Lang::parse(tag).ok()))
}

#[tonic::async_trait]
impl Termbase for TermbaseService {
    async fn upsert_concept(
        &self,
        request: Request<proto::UpsertConceptRequest>,
    ) -> Result<Response<proto::Concept>, Status> {
        let request = request.into_inner();
        let Some(concept) = request.concept else {
            return Err(Status::invalid_argument(
                "invalid request: concept: is required",
            ));
        };
        let mut violations = Violations::default();
        let mut concept = concept_from_proto(concept, "concept", &mut violations);
        violations.into_result(())?;
        if concept.collection.is_empty() {
            concept.collection = DEFAULT_COLLECTION.to_owned();
        }
        if concept.id.is_empty() {
            concept.id = format!("c{:016x}", self.store.generate_id()?);
        }
        let expected = (request.expected_revision != 0).then_some(request.expected_revision);
        let _write = self.writes.lock().await;
        self.ensure_collection(&concept.collection).await?;
        let stored = self
            .store
            .upsert_concept(concept, expected, now_ms())
            .await?;
        self.search.upserted(stored.clone());
        Ok(Response::new(concept_to_proto(&stored)))
    }

    async fn get_concept(
        &self,
        request: Request<proto::GetConceptRequest>,
    ) -> Result<Response<proto::Concept>, Status> {
        let id = request.into_inner().id;
        check_id("id", &id)?;
        let concept = self.store.concept(&id)?.ok_or_else(|| not_found(&id))?;
        Ok(Response::new(concept_to_proto(&concept)))
    }

    async fn delete_concept(
        &self,
        request: Request<proto::DeleteConceptRequest>,
    ) -> Result<Response<proto::DeleteConceptResponse>, Status> {
        let id = request.into_inner().id;
        check_id("id", &id)?;
        let _write = self.writes.lock().await;
        let deleted = self
            .store
            .delete_concept(&id)
            .await?
            .ok_or_else(|| not_found(&id))?;
        self.search.deleted(&id);
        Ok(Response::new(proto::DeleteConceptResponse {
            deleted: Some(concept_to_proto(&deleted)),
        }))
    }

    async fn list_concepts(
        &self,
        request: Request<proto::ListConceptsRequest>,
    ) -> Result<Response<proto::ListConceptsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let after = page_start(&request.page_token, &mut violations);
        if !request.collection.is_empty() {
            violations.identifier("collection", &request.collection);
        }
        let lang = violations.optional_lang("lang", &request.lang);
        violations.max_len("subject_field", &request.subject_field, MAX_TERM_BYTES);
        violations.into_result(())?;
        let subject = request.subject_field.trim().to_lowercase();
        let wanted = |concept: &Concept| {
            (request.collection.is_empty() || concept.collection == request.collection)
                && (subject.is_empty() || concept.subject_field.to_lowercase() == subject)
                && lang
                    .as_ref()
                    .is_none_or(|l| concept.sections_for(l).next().is_some())
        };
        let matching = self
            .store
            .concepts_after(after.as_deref())
            .filter(|c| c.as_ref().map_or(true, wanted));
        let size = page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        let (page, next_page_token) = collect_page(matching, size, |c| &c.id)?;
        let concepts = page.iter().map(concept_to_proto).collect();
        Ok(Response::new(proto::ListConceptsResponse {
            concepts,
            next_page_token,
        }))
    }

    async fn lookup(
        &self,
        request: Request<proto::LookupRequest>,
    ) -> Result<Response<proto::LookupResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.required_text("text", &request.text, MAX_TERM_BYTES);
        let source_lang = violations.optional_lang("source_lang", &request.source_lang);
        let targets = violations.langs("target_langs", &request.target_langs);
        violations.identifiers("collections", &request.collections);
        violations.min_score("min_score", request.min_score);
        violations.into_result(())?;
        let pinyin = source_lang
            .as_ref()
            .is_none_or(|lang| lang.primary() == "zh");
        let source_lang = query_lang(source_lang, &request.text);
        let query = LookupQuery {
            text: request.text,
            source_lang: source_lang.clone(),
            limit: match request.limit {
                0 => DEFAULT_LIMIT,
                n => n.min(MAX_LIMIT),
            } as usize,
            min_score: if request.min_score > 0.0 {
                request.min_score
            } else {
                score::DEFAULT_MIN_SCORE
            },
            collections: request.collections,
            pinyin,
        };
        let hits = self.search.snapshot().lookup(&query);
        if request.with_pinyin {
            pinyin_ready().await?;
        }
        let hits = hits
            .into_iter()
            .map(|hit| {
                let term = hit.matched_term();
                proto::LookupHit {
                    concept: Some(concept_to_proto(&hit.concept)),
                    matched_term: term.text.clone(),
                    matched_lang: hit.matched_section().lang.to_string(),
                    score: hit.score,
                    kind: kind_to_proto(hit.kind) as i32,
                    renderings: renderings(&hit.concept, &targets, request.with_pinyin),
                    matched_status: status_to_proto(term.status) as i32,
                }
            })
            .collect();
        Ok(Response::new(proto::LookupResponse {
            hits,
            source_lang: source_lang.map(|l| l.to_string()).unwrap_or_default(),
        }))
    }

    async fn recognize(
        &self,
        request: Request<proto::RecognizeRequest>,
    ) -> Result<Response<proto::RecognizeResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.required_text("text", &request.text, MAX_TEXT_BYTES);
        let lang = violations.optional_lang("lang", &request.lang);
        let targets = violations.langs("target_langs", &request.target_langs);
        violations.identifiers("collections", &request.collections);
        violations.into_result(())?;
        // A long text takes milliseconds to scan: off the async workers, so that it does not
        // hold up the lookups of other clients.
        let snapshot = self.search.snapshot();
        let (request, found) = off_workers("recognition", move || {
            let found = snapshot.recognize(&request.text, lang.as_ref(), &request.collections);
            (request, found)
        })
        .await?;
        if request.with_pinyin {
            pinyin_ready().await?;
        }
        let occurrences = found
            .into_iter()
            .map(|o| {
                let (bytes, chars, utf16) = spans_to_proto(&o.spans);
                let term = o.matched_term();
                proto::Occurrence {
                    surface: request.text[o.spans.bytes.clone()].to_owned(),
                    bytes: Some(bytes),
                    chars: Some(chars),
                    utf16: Some(utf16),
                    concept: Some(concept_to_proto(&o.concept)),
                    matched_term: term.text.clone(),
                    matched_status: status_to_proto(term.status) as i32,
                    renderings: renderings(&o.concept, &targets, request.with_pinyin),
                    suggestion: o.suggestion().map(|t| t.text.clone()).unwrap_or_default(),
                    kind: kind_to_proto(o.kind) as i32,
                    current_term: o.current_term().map(|t| t.text.clone()).unwrap_or_default(),
                    matched_note: term.note.clone(),
                }
            })
            .collect();
        Ok(Response::new(proto::RecognizeResponse { occurrences }))
    }

    async fn upsert_collection(
        &self,
        request: Request<proto::Collection>,
    ) -> Result<Response<proto::Collection>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("name", &request.name);
        violations.max_len("description", &request.description, MAX_TERM_BYTES);
        violations.into_result(())?;
        let collection = Collection {
            name: request.name.clone(),
            priority: request.priority,
            description: request.description.clone(),
        };
        let _write = self.writes.lock().await;
        self.store.upsert_collection(&collection).await?;
        self.search.set_priorities(self.priorities()?);
        Ok(Response::new(request))
    }

    async fn list_collections(
        &self,
        _request: Request<proto::ListCollectionsRequest>,
    ) -> Result<Response<proto::ListCollectionsResponse>, Status> {
        let mut collections = self.store.collections()?;
        collections.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        let collections = collections
            .into_iter()
            .map(|c| proto::Collection {
                name: c.name,
                priority: c.priority,
                description: c.description,
            })
            .collect();
        Ok(Response::new(proto::ListCollectionsResponse {
            collections,
        }))
    }
}
