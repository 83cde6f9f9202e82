//! `tolmach.v1.Termbase`: checks each request, calls the [termbase](crate::app::termbase)
//! (and for Watch the [change feed](crate::app::changes), converted in `watch.rs`), converts
//! the answer.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{
    concept_from_request, concept_to_proto, kind_to_proto, renderings, status_to_proto, timestamp,
    RecognizeReply,
};
use super::paging::{next_page_token, page_size, page_start};
use super::proto::{self, termbase_server::Termbase as TermbaseRpc};
use super::requests::{self, LookupFields, RecognizeFields};
use super::watch::{subscription, watch_stream, WatchStream};
use crate::app::changes::Changes;
use crate::app::termbase::{ConceptFilter, Termbase, DEFAULT_COLLECTION};
use crate::app::{work, AppError};
use crate::auth::{self, Caller, Role};
use crate::model::violation::MAX_TERM_BYTES;
use crate::model::{Collection, Invalid, Violations};

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 1000;

/// The Termbase service over the application's termbase and its change feed.
#[derive(Clone)]
pub struct TermbaseService {
    termbase: Termbase,
    changes: Changes,
}

impl TermbaseService {
    /// The service answering from `termbase`, and Watch from `changes`.
    pub fn new(termbase: Termbase, changes: Changes) -> TermbaseService {
        TermbaseService { termbase, changes }
    }
}

/// Milliseconds since the epoch of a timestamp, saturating far outside the range of stored
/// times.
fn millis(time: &prost_types::Timestamp) -> i64 {
    time.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(time.nanos) / 1_000_000)
}

fn check_id(field: &str, id: &str) -> Result<(), Invalid> {
    let mut violations = Violations::default();
    violations.entry_id(field, id);
    violations.into_result(())
}

/// Refuses a concept write by `caller` unless it may edit the collection it writes to and,
/// when the concept would move, the collection it is stored in.
fn check_concept_write(
    termbase: &Termbase,
    caller: &Caller,
    concept: &crate::model::Concept,
    moving: bool,
) -> Result<(), Status> {
    let collection = match concept.collection.as_str() {
        "" => DEFAULT_COLLECTION,
        named => named,
    };
    caller.check_collection("UpsertConcept", Role::Editor, collection)?;
    if moving && !concept.id.is_empty() {
        if let Some(stored) = stored_collection(termbase, &concept.id)? {
            caller.check_collection("UpsertConcept", Role::Editor, &stored)?;
        }
    }
    Ok(())
}

/// The collection concept `id` is stored in; `None` when there is no such concept.
fn stored_collection(termbase: &Termbase, id: &str) -> Result<Option<String>, Status> {
    match termbase.get(id) {
        Ok(stored) => Ok(Some(stored.collection)),
        Err(AppError::ConceptNotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

#[tonic::async_trait]
impl TermbaseRpc for TermbaseService {
    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<proto::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let caller = auth::caller(&request)?;
        let subscription = requests::watch(&caller, subscription(request.into_inner()))?;
        let stream = self.changes.subscribe(subscription)?;
        Ok(Response::new(watch_stream(stream)))
    }

    async fn upsert_concept(
        &self,
        request: Request<proto::UpsertConceptRequest>,
    ) -> Result<Response<proto::Concept>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let Some(concept) = request.concept else {
            return Err(Invalid::field("concept", "is required").into());
        };
        let concept = concept_from_request(concept).await?;
        let moving = request.move_from_other_collection;
        check_concept_write(&self.termbase, &caller, &concept, moving)?;
        let expected = (request.expected_revision != 0).then_some(request.expected_revision);
        let upserted = self
            .termbase
            .upsert(&caller.author(), concept, expected, moving)
            .await?;
        Ok(Response::new(proto::Concept {
            warnings: upserted.warnings,
            updated_by: caller.key,
            ..concept_to_proto(&upserted.concept)
        }))
    }

    async fn get_concept(
        &self,
        request: Request<proto::GetConceptRequest>,
    ) -> Result<Response<proto::Concept>, Status> {
        let caller = auth::caller(&request)?;
        let id = request.into_inner().id;
        check_id("id", &id)?;
        let concept = self.termbase.get(&id)?;
        caller.check_collection("GetConcept", Role::Reader, &concept.collection)?;
        Ok(Response::new(proto::Concept {
            updated_by: self.termbase.author(&concept)?,
            ..concept_to_proto(&concept)
        }))
    }

    async fn delete_concept(
        &self,
        request: Request<proto::DeleteConceptRequest>,
    ) -> Result<Response<proto::DeleteConceptResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = request.into_inner().id;
        check_id("id", &id)?;
        if let Some(stored) = stored_collection(&self.termbase, &id)? {
            caller.check_collection("DeleteConcept", Role::Editor, &stored)?;
        }
        let deleted = self.termbase.delete(&caller.author(), id).await?;
        Ok(Response::new(proto::DeleteConceptResponse {
            deleted: Some(concept_to_proto(&deleted)),
        }))
    }

    async fn list_concepts(
        &self,
        request: Request<proto::ListConceptsRequest>,
    ) -> Result<Response<proto::ListConceptsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        let after = page_start(&request.page_token, &mut violations);
        if !request.collection.is_empty() {
            violations.identifier("collection", &request.collection);
        }
        let lang = violations.optional_lang("lang", &request.lang);
        violations.max_len("subject_field", &request.subject_field, MAX_TERM_BYTES);
        violations.into_result(())?;
        if !request.collection.is_empty() {
            caller.check_collection("ListConcepts", Role::Reader, &request.collection)?;
        }
        let filter = ConceptFilter {
            within: caller.scope.collections,
            collection: request.collection,
            subject_field: request.subject_field.trim().to_lowercase(),
            lang,
            updated_after_ms: request.updated_after.as_ref().map(millis),
            after_revision: (request.after_revision != 0).then_some(request.after_revision),
        };
        let size = page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        let page = self.termbase.list(filter, after, size).await?;
        Ok(Response::new(proto::ListConceptsResponse {
            next_page_token: next_page_token(&page),
            concepts: page.items.iter().map(concept_to_proto).collect(),
        }))
    }

    async fn lookup(
        &self,
        request: Request<proto::LookupRequest>,
    ) -> Result<Response<proto::LookupResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let with_pinyin = request.with_pinyin;
        let checked = requests::lookup(
            &caller,
            LookupFields {
                text: request.text,
                source_lang: request.source_lang,
                target_langs: request.target_langs,
                collections: request.collections,
                limit: request.limit,
                min_score: request.min_score,
            },
        )?;
        let source_lang = checked.query.source_lang.clone();
        let hits = self.termbase.lookup(checked.query, with_pinyin).await?;
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
                    renderings: renderings(&hit.concept, &checked.targets, with_pinyin),
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
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let checked = requests::recognize(
            &caller,
            RecognizeFields {
                text: request.text,
                lang: request.lang,
                target_langs: request.target_langs,
                collections: request.collections,
            },
        )?;
        let found = self
            .termbase
            .recognize(
                Arc::clone(&checked.text),
                checked.lang,
                checked.collections,
                request.with_pinyin,
            )
            .await?;
        let reply = RecognizeReply {
            text: checked.text,
            targets: checked.targets,
            with_pinyin: request.with_pinyin,
            max_occurrences: request.max_occurrences,
            inline_concepts: request.inline_concepts,
            whole_concepts: request.whole_concepts,
        };
        let reply = work::run("Recognize reply", move || reply.bounded(found)).await?;
        Ok(Response::new(reply))
    }

    async fn upsert_collection(
        &self,
        request: Request<proto::Collection>,
    ) -> Result<Response<proto::Collection>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("name", &request.name);
        violations.max_len("description", &request.description, MAX_TERM_BYTES);
        violations.into_result(())?;
        caller.check_collection("UpsertCollection", Role::Admin, &request.name)?;
        self.termbase
            .upsert_collection(
                &caller.author(),
                Collection {
                    name: request.name.clone(),
                    priority: request.priority,
                    description: request.description.clone(),
                },
            )
            .await?;
        Ok(Response::new(request))
    }

    async fn list_collections(
        &self,
        request: Request<proto::ListCollectionsRequest>,
    ) -> Result<Response<proto::ListCollectionsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let collections = self
            .termbase
            .collections()?
            .into_iter()
            .filter(|c| caller.sees_collection(&c.name))
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

    async fn delete_collection(
        &self,
        request: Request<proto::DeleteCollectionRequest>,
    ) -> Result<Response<proto::DeleteCollectionResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("name", &request.name);
        violations.into_result(())?;
        caller.check_collection("DeleteCollection", Role::Admin, &request.name)?;
        let deleted = self
            .termbase
            .delete_collection(&caller.author(), request.name, request.force)
            .await?;
        Ok(Response::new(proto::DeleteCollectionResponse {
            deleted_concepts: deleted as u64,
        }))
    }

    async fn get_concept_history(
        &self,
        request: Request<proto::GetConceptHistoryRequest>,
    ) -> Result<Response<proto::GetConceptHistoryResponse>, Status> {
        let caller = auth::caller(&request)?;
        let id = request.into_inner().id;
        check_id("id", &id)?;
        let revisions = self.termbase.history(&id)?;
        for collection in revisions.iter().map(|r| &r.concept.collection) {
            caller.check_collection("GetConceptHistory", Role::Reader, collection)?;
        }
        let revisions = revisions
            .into_iter()
            .map(|r| proto::ConceptRevision {
                concept: Some(proto::Concept {
                    updated_by: r.author.clone(),
                    ..concept_to_proto(&r.concept)
                }),
                author: r.author,
                time: timestamp(r.time_ms),
                current: r.current,
            })
            .collect();
        Ok(Response::new(proto::GetConceptHistoryResponse {
            revisions,
        }))
    }
}
