//! `tolmach.v1.Memory`: translation units in, CAT-style fuzzy matches and concordance out.

use std::collections::BTreeMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{span, unit_from_proto, unit_to_proto};
use super::now_ms;
use super::paging::{collect_page, page_size, page_start};
use super::proto::{self, memory_server::Memory};
use super::validate::{Violations, MAX_SEGMENT_BYTES, MAX_TERM_BYTES};
use crate::index::memory::{
    comparison_length, DiffKind, LiveMemoryIndex, MemoryIndex, MemoryQuery,
};
use crate::model::TranslationUnit;
use crate::store::{unit_content_id, Store};

const MAX_UNITS_PER_CALL: usize = 10_000;
const DEFAULT_LIMIT: u32 = 5;
const MAX_LIMIT: u32 = 100;
/// The usual CAT threshold below which a fuzzy match costs more to edit than to translate.
const DEFAULT_MIN_SCORE: f32 = 0.70;
/// Most comparison units (characters for Chinese, words otherwise) in a Search query. The
/// distance to each candidate costs |query| × |candidate| / 64 machine words, and a candidate
/// may be up to |query| / min_score units long, so this bounds the work of one search. A
/// sentence, even a long paragraph, is far below it; a pasted page of text is not, and a
/// 64 KiB segment of single-byte characters tagged `zh` is 16 times over it.
const MAX_QUERY_UNITS: usize = 4096;
const DEFAULT_CONCORDANCE_LIMIT: u32 = 20;
const MAX_CONCORDANCE_LIMIT: u32 = 200;
const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

/// The Memory service: the store for durability, the index for search.
#[derive(Clone)]
pub struct MemoryService {
    store: Store,
    index: Arc<LiveMemoryIndex>,
    /// Serializes writes so the index applies them in the order the store committed them.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl MemoryService {
    /// A service over `store`, searching `index` (built from the same store).
    pub fn new(store: Store, index: MemoryIndex) -> MemoryService {
        MemoryService {
            store,
            index: Arc::new(LiveMemoryIndex::new(index)),
            writes: Arc::default(),
        }
    }

    /// Waits for, and holds, this service's write turn; imports take it too, so that the index
    /// applies writes in the order the store committed them.
    pub(crate) async fn lock_writes(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writes.clone().lock_owned().await
    }

    /// How many units the live index holds.
    pub(crate) fn indexed_units(&self) -> usize {
        self.index.snapshot().len()
    }

    /// Rebuilds the live index from the store, in parallel, and publishes it (call with the
    /// write turn held). After a bulk import this is cheaper than merging the import in.
    pub(crate) fn rebuild_from_store(&self) -> Result<(), crate::store::StoreError> {
        self.index.replace(build_index(&self.store)?);
        Ok(())
    }

    /// Makes units an import committed searchable (call with the write turn held, off the
    /// async workers: a large batch is an index build of its own).
    pub(crate) fn publish_committed(&self, units: Vec<(String, TranslationUnit)>) {
        let mut by_memory: BTreeMap<String, Vec<Arc<TranslationUnit>>> = BTreeMap::new();
        for (memory, unit) in units {
            by_memory.entry(memory).or_default().push(Arc::new(unit));
        }
        for (memory, units) in by_memory {
            self.index.insert(&memory, units);
        }
    }

    /// Applies a committed change to the index off the async workers: a large batch is a
    /// build of its own, and searches keep running on the previous snapshot meanwhile.
    async fn publish<R: Send + 'static>(
        &self,
        change: impl FnOnce(&LiveMemoryIndex) -> R + Send + 'static,
    ) -> Result<R, Status> {
        let index = Arc::clone(&self.index);
        off_workers("index update", move || change(&index)).await
    }

    /// Runs a search over the current snapshot off the async workers: scoring thousands of
    /// candidates is CPU work that would otherwise stall every other request on the worker.
    async fn read<R: Send + 'static>(
        &self,
        search: impl FnOnce(&MemoryIndex) -> R + Send + 'static,
    ) -> Result<R, Status> {
        let snapshot = self.index.snapshot();
        off_workers("search", move || search(&snapshot)).await
    }
}

/// Runs CPU-bound work on the blocking pool; a panic in it is a server fault (`INTERNAL`).
async fn off_workers<R: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Status> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Status::internal(format!("{what} failed: {e}")))
}

/// Builds the search index over every stored unit, reading the store on this thread while
/// the other cores analyze what it has read.
pub fn build_index(store: &Store) -> Result<MemoryIndex, crate::store::StoreError> {
    MemoryIndex::from_units(store.all_units())
}

#[tonic::async_trait]
impl Memory for MemoryService {
    async fn add_units(
        &self,
        request: Request<proto::AddUnitsRequest>,
    ) -> Result<Response<proto::AddUnitsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        if request.units.is_empty() {
            violations.add("units", "must not be empty");
        }
        if request.units.len() > MAX_UNITS_PER_CALL {
            violations.add(
                "units",
                format!("more than {MAX_UNITS_PER_CALL} units in one call"),
            );
        }
        let mut units: Vec<TranslationUnit> = request
            .units
            .into_iter()
            .enumerate()
            .map(|(i, u)| unit_from_proto(u, &format!("units[{i}]"), &mut violations))
            .collect();
        violations.into_result(())?;
        let now = now_ms();
        for unit in &mut units {
            if unit.id.is_empty() {
                unit.id = unit_content_id(unit);
            }
            if unit.created_ms == 0 {
                unit.created_ms = now;
            }
        }
        let _write = self.writes.lock().await;
        let replaced = self.store.put_units(&request.memory, &units).await?;
        let ids: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
        let units: Vec<Arc<TranslationUnit>> = units.into_iter().map(Arc::new).collect();
        let memory = request.memory;
        self.publish(move |index| index.insert(&memory, units))
            .await?;
        let replaced_count = replaced.iter().filter(|r| **r).count();
        Ok(Response::new(proto::AddUnitsResponse {
            added: (ids.len() - replaced_count) as u32,
            replaced: replaced_count as u32,
            ids,
        }))
    }

    async fn delete_units(
        &self,
        request: Request<proto::DeleteUnitsRequest>,
    ) -> Result<Response<proto::DeleteUnitsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        for (i, id) in request.ids.iter().enumerate() {
            violations.entry_id(&format!("ids[{i}]"), id);
        }
        violations.into_result(())?;
        let _write = self.writes.lock().await;
        let deleted = self
            .store
            .delete_units(&request.memory, &request.ids)
            .await?;
        self.publish(move |index| index.remove(&request.memory, &request.ids))
            .await?;
        Ok(Response::new(proto::DeleteUnitsResponse {
            deleted: deleted as u32,
        }))
    }

    async fn search(
        &self,
        request: Request<proto::SearchRequest>,
    ) -> Result<Response<proto::SearchResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.required_text("text", &request.text, MAX_SEGMENT_BYTES);
        let source = violations.lang("source_lang", &request.source_lang);
        let target = violations.lang("target_lang", &request.target_lang);
        violations.identifiers("memories", &request.memories);
        violations.min_score("min_score", request.min_score);
        if let Some(source) = &source {
            let (length, counted) = comparison_length(&request.text, source);
            if length > MAX_QUERY_UNITS {
                violations.add(
                    "text",
                    format!(
                        "is {length} {counted} long, more than the limit of {MAX_QUERY_UNITS}: \
                         search sentence by sentence"
                    ),
                );
            }
        }
        let (source, target) = violations.into_checked(source.zip(target))?;
        let query = MemoryQuery {
            text: request.text,
            source,
            target,
            limit: match request.limit {
                0 => DEFAULT_LIMIT,
                n => n.min(MAX_LIMIT),
            } as usize,
            min_score: if request.min_score > 0.0 {
                request.min_score
            } else {
                DEFAULT_MIN_SCORE
            },
            memories: request.memories,
        };
        let found = self.read(move |index| index.search(&query)).await?;
        let matches = found
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
        Ok(Response::new(proto::SearchResponse { matches }))
    }

    async fn concordance(
        &self,
        request: Request<proto::ConcordanceRequest>,
    ) -> Result<Response<proto::ConcordanceResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.required_text("text", &request.text, MAX_TERM_BYTES);
        let lang = violations.lang("lang", &request.lang);
        violations.identifiers("memories", &request.memories);
        let lang = violations.into_checked(lang)?;
        let limit = match request.limit {
            0 => DEFAULT_CONCORDANCE_LIMIT,
            n => n.min(MAX_CONCORDANCE_LIMIT),
        } as usize;
        let (text, memories) = (request.text, request.memories);
        let found = self
            .read(move |index| index.concordance(&text, &lang, &memories, limit))
            .await?;
        let hits = found
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
        Ok(Response::new(proto::ConcordanceResponse { hits }))
    }

    async fn stats(
        &self,
        _request: Request<proto::StatsRequest>,
    ) -> Result<Response<proto::StatsResponse>, Status> {
        let mut memories: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
        for entry in self.store.all_units() {
            let (memory, unit) = entry?;
            let (units, langs) = memories.entry(memory).or_default();
            *units += 1;
            for segment in &unit.segments {
                *langs.entry(segment.lang.to_string()).or_default() += 1;
            }
        }
        let memories = memories
            .into_iter()
            .map(|(memory, (units, langs))| proto::MemoryStats {
                memory,
                units,
                langs: langs
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
        let request = request.into_inner();
        let mut violations = Violations::default();
        violations.identifier("memory", &request.memory);
        let after = page_start(&request.page_token, &mut violations);
        violations.into_result(())?;
        let size = page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
        let units = self.store.units_after(&request.memory, after.as_deref());
        let (page, next_page_token) = collect_page(units, size, |u| &u.id)?;
        let units = page.iter().map(unit_to_proto).collect();
        Ok(Response::new(proto::ListUnitsResponse {
            units,
            next_page_token,
        }))
    }
}
