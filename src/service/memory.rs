//! `tolmach.v1.Memory`: checks each request, calls the [memories](crate::app::memory),
//! converts the answer.

use tonic::{Request, Response, Status};

use super::convert::{span, unit_to_proto, units_from_request};
use super::paging::{next_page_token, page_size, page_start};
use super::proto::{self, memory_server::Memory as MemoryRpc};
use super::requests::{self, SearchFields};
use crate::app::memory::Memory;
use crate::app::shards::ConcordanceQuery;
use crate::auth::{self, Role};
use crate::index::memory::DiffKind;
use crate::model::violation::MAX_TERM_BYTES;
use crate::model::Violations;

const MAX_UNITS_PER_CALL: usize = 10_000;
const DEFAULT_CONCORDANCE_LIMIT: u32 = 20;
const MAX_CONCORDANCE_LIMIT: u32 = 200;
const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

/// The Memory service over the application's memories.
#[derive(Clone)]
pub struct MemoryService {
    memory: Memory,
}

impl MemoryService {
    /// The service answering from `memory`.
    pub fn new(memory: Memory) -> MemoryService {
        MemoryService { memory }
    }
}

#[tonic::async_trait]
impl MemoryRpc for MemoryService {
    async fn add_units(
        &self,
        request: Request<proto::AddUnitsRequest>,
    ) -> Result<Response<proto::AddUnitsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        if request.units.is_empty() {
            violations.add("units", "must not be empty");
        }
        caller.check_memory("AddUnits", Role::Editor, &request.memory)?;
        let units = units_from_request(request.units, MAX_UNITS_PER_CALL, violations).await?;
        let added = self
            .memory
            .add_units(&caller.author(), request.memory, units)
            .await?;
        Ok(Response::new(proto::AddUnitsResponse {
            added: added.added as u32,
            replaced: added.replaced as u32,
            ids: added.ids,
        }))
    }

    async fn delete_units(
        &self,
        request: Request<proto::DeleteUnitsRequest>,
    ) -> Result<Response<proto::DeleteUnitsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        for (i, id) in request.ids.iter().enumerate() {
            violations.entry_id(&format!("ids[{i}]"), id);
        }
        violations.into_result(())?;
        caller.check_memory("DeleteUnits", Role::Editor, &request.memory)?;
        let deleted = self
            .memory
            .delete_units(&caller.author(), request.memory, request.ids)
            .await?;
        Ok(Response::new(proto::DeleteUnitsResponse {
            deleted: deleted as u32,
        }))
    }

    async fn search(
        &self,
        request: Request<proto::SearchRequest>,
    ) -> Result<Response<proto::SearchResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let query = requests::search(
            &caller,
            SearchFields {
                text: request.text,
                source_lang: request.source_lang,
                target_lang: request.target_lang,
                memories: request.memories,
                limit: request.limit,
                min_score: request.min_score,
            },
        )?;
        let found = self.memory.search(query).await?;
        let matches = found
            .hits
            .into_iter()
            .map(|m| proto::MemoryMatch {
                source: m.source,
                target: m.target,
                score: m.score,
                unit_id: m.unit.id.clone(),
                memory: m.memory,
                diffs: m
                    .diffs
                    .iter()
                    .map(|d| proto::DiffSpan {
                        kind: match d.kind {
                            DiffKind::Inserted => proto::DiffKind::Inserted,
                            DiffKind::Deleted => proto::DiffKind::Deleted,
                            DiffKind::Replaced => proto::DiffKind::Replaced,
                        } as i32,
                        query: Some(span(&d.query)),
                        stored: Some(span(&d.stored)),
                    })
                    .collect(),
                numbers_only: m.numbers_only,
                adapted_target: m.adapted_target.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(proto::SearchResponse {
            matches,
            missing_shards: found.missing,
        }))
    }

    async fn concordance(
        &self,
        request: Request<proto::ConcordanceRequest>,
    ) -> Result<Response<proto::ConcordanceResponse>, Status> {
        let caller = auth::caller(&request)?;
        let mut request = request.into_inner();
        let mut violations = Violations::default();
        violations.required_text("text", &request.text, MAX_TERM_BYTES);
        let lang = violations.lang("lang", &request.lang);
        violations.identifiers("memories", &request.memories);
        let lang = violations.into_checked(lang)?;
        caller.readable_memories("Concordance", &mut request.memories)?;
        let limit = match request.limit {
            0 => DEFAULT_CONCORDANCE_LIMIT,
            n => n.min(MAX_CONCORDANCE_LIMIT),
        } as usize;
        let query = ConcordanceQuery {
            text: request.text,
            lang,
            memories: request.memories,
            limit,
        };
        let found = self.memory.concordance(query).await?;
        let hits = found
            .hits
            .into_iter()
            .map(|h| proto::ConcordanceHit {
                unit_id: h.unit.id.clone(),
                memory: h.memory,
                text: h.text,
                spans: h.spans.iter().map(span).collect(),
                translations: h
                    .translations
                    .into_iter()
                    .map(|(lang, text)| proto::Translation {
                        lang: lang.to_string(),
                        text,
                    })
                    .collect(),
            })
            .collect();
        Ok(Response::new(proto::ConcordanceResponse {
            hits,
            missing_shards: found.missing,
        }))
    }

    async fn stats(
        &self,
        request: Request<proto::StatsRequest>,
    ) -> Result<Response<proto::StatsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let memories = self
            .memory
            .stats()
            .await?
            .into_iter()
            .filter(|m| caller.sees_memory(&m.memory))
            .map(|m| proto::MemoryStats {
                memory: m.memory,
                units: m.units,
                langs: m
                    .langs
                    .into_iter()
                    .map(|(lang, units)| proto::LangCount { lang, units })
                    .collect(),
            })
            .collect();
        Ok(Response::new(proto::StatsResponse { memories }))
    }

    async fn list_units(
        &self,
        request: Request<proto::ListUnitsRequest>,
    ) -> Result<Response<proto::ListUnitsResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        let after = page_start(&request.page_token, &mut violations);
        violations.into_result(())?;
        caller.check_memory("ListUnits", Role::Reader, &request.memory)?;
        let size = page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        let page = self
            .memory
            .units_page(&request.memory, after.as_deref(), size)?;
        Ok(Response::new(proto::ListUnitsResponse {
            next_page_token: next_page_token(&page),
            units: page.items.iter().map(unit_to_proto).collect(),
        }))
    }

    async fn delete_memory(
        &self,
        request: Request<proto::DeleteMemoryRequest>,
    ) -> Result<Response<proto::DeleteMemoryResponse>, Status> {
        let caller = auth::caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        violations.into_result(())?;
        caller.check_memory("DeleteMemory", Role::Admin, &request.memory)?;
        let deleted = self
            .memory
            .delete_memory(&caller.author(), request.memory)
            .await?;
        Ok(Response::new(proto::DeleteMemoryResponse {
            deleted_units: deleted as u64,
        }))
    }
}
