//! `tolmach.v1.Memory`: translation units in, CAT-style fuzzy matches and concordance out.
//!
//! The search index is built from the store after the server starts serving (see
//! [`MemoryService::loading`]): searches and writes wait for it, calls that read only the
//! store (Stats, ListUnits) do not.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::convert::{span, unit_from_proto, unit_to_proto};
use super::paging::{collect_page, page_size, page_start};
use super::proto::{self, memory_server::Memory};
use super::validate::{Violations, MAX_SEGMENT_BYTES, MAX_TERM_BYTES};
use super::{now_ms, off_workers};
use crate::index::memory::{
    comparison_length, DiffKind, ImportOutcome, ImportPart, LiveMemoryIndex, MemoryIndex,
    MemoryQuery,
};
use crate::model::TranslationUnit;
use crate::store::{unit_content_id, Applied, Store, StoreError};

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
    index: MemoryReadiness,
    /// Serializes writes so the index applies them in the order the store committed them.
    writes: Arc<tokio::sync::Mutex<()>>,
}

/// Why memory calls cannot be answered: the index built from the store at start-up is not
/// there and will not come. Cloned to every call that waited for it.
#[derive(Clone, Debug, thiserror::Error)]
pub enum MemoryUnavailable {
    /// Reading the stored units failed (a damaged record, an I/O error); a restart after the
    /// database is repaired builds the index again.
    #[error("cannot build the translation-memory index: {0}")]
    Store(Arc<StoreError>),
    /// The build panicked: a defect, reported to callers instead of leaving them waiting.
    #[error("the translation-memory index build failed: {0}")]
    Panicked(String),
    /// The server is shutting down and stopped the build before it finished.
    #[error("the server is shutting down; the translation memory was not loaded")]
    Stopped,
}

/// What the start-up build has come to: `None` while it runs.
type Loaded = Option<Result<Arc<LiveMemoryIndex>, MemoryUnavailable>>;

/// Where memory calls wait for the index built at start-up: a watch that turns from
/// "building" to the index or to why there is none, once. Cheap to clone; it holds no store,
/// so waiting on it never keeps the database open.
#[derive(Clone)]
pub struct MemoryReadiness(watch::Receiver<Loaded>);

impl MemoryReadiness {
    /// Waits until the index is built; answers how many units it holds by then.
    pub async fn wait(&self) -> Result<usize, MemoryUnavailable> {
        Ok(self.index().await?.snapshot().len())
    }

    /// Waits for the live index. The fast path after start-up is one uncontended read lock.
    async fn index(&self) -> Result<Arc<LiveMemoryIndex>, MemoryUnavailable> {
        let mut loaded = self.0.clone();
        let outcome = match loaded.wait_for(Option::is_some).await {
            Ok(loaded) => loaded.clone(),
            // The loader went away without an answer: only a runtime shutting down drops it.
            Err(_) => None,
        };
        outcome.unwrap_or(Err(MemoryUnavailable::Stopped))
    }
}

/// Builds the index of a [`MemoryService`] from the store and hands it over; see
/// [`MemoryService::loading`].
pub struct MemoryLoader {
    store: Store,
    loaded: watch::Sender<Loaded>,
    stop: Arc<AtomicBool>,
}

impl MemoryLoader {
    /// A handle that stops the build early, so that a shutdown does not wait for a read of
    /// the whole store (which also keeps the database open).
    pub fn stopper(&self) -> StopLoading {
        StopLoading(Arc::clone(&self.stop))
    }

    /// Reads every stored unit into an index on a blocking thread (other cores analyze what
    /// it has read), then releases every call waiting for it; answers the unit count, or why
    /// there is no index, which the waiting calls receive too.
    pub async fn run(self) -> Result<usize, MemoryUnavailable> {
        let MemoryLoader {
            store,
            loaded,
            stop,
        } = self;
        let built = tokio::task::spawn_blocking(move || {
            let units = store.all_units().map(|unit| {
                if stop.load(Ordering::Relaxed) {
                    Err(MemoryUnavailable::Stopped)
                } else {
                    unit.map_err(|e| MemoryUnavailable::Store(Arc::new(e)))
                }
            });
            MemoryIndex::from_units(units)
        })
        .await
        .unwrap_or_else(|e| Err(MemoryUnavailable::Panicked(e.to_string())));
        let count = built.as_ref().map(MemoryIndex::len).map_err(Clone::clone);
        loaded.send_replace(Some(
            built.map(|index| Arc::new(LiveMemoryIndex::new(index))),
        ));
        count
    }
}

/// Stops a [`MemoryLoader`]'s build at the next unit it reads; the calls waiting for it are
/// answered [`MemoryUnavailable::Stopped`]. Does nothing once the build has finished.
#[derive(Clone)]
pub struct StopLoading(Arc<AtomicBool>);

impl StopLoading {
    /// Asks the build to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The units of an import as analyzed while its file was read, for [`WriteTurn::publish_import`].
#[derive(Default)]
pub(crate) struct AnalyzedImport {
    /// The analyzed units.
    pub(crate) part: ImportPart,
    /// The spool position of each unit of `part`, ascending.
    pub(crate) positions: Vec<u32>,
    /// The units left out of `part` because a unit with their id was stored: spool position
    /// and id, ascending.
    pub(crate) left_out: Vec<(u32, String)>,
}

/// The write turn of a [`MemoryService`]: the index is built and no other memory write runs,
/// so the store commit made under it and its publication to the index stay in one order.
pub(crate) struct WriteTurn {
    index: Arc<LiveMemoryIndex>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTurn {
    /// Makes a committed import of `memory` searchable. `analyzed` holds its units as
    /// spooled, analyzed while the file was read; `batches` yields what the commit did with
    /// each batch of them, and ends when the commit has ended. The part's search structures
    /// are built while the commit writes, and so is a part of the units stored otherwise than
    /// spooled (merged or replacing). Call off the async workers; the turn is held until both
    /// are published.
    pub(crate) fn publish_import(
        self,
        store: &Store,
        memory: &str,
        analyzed: AnalyzedImport,
        batches: impl IntoIterator<Item = Applied>,
    ) -> Result<(), StoreError> {
        let AnalyzedImport {
            mut part,
            positions,
            left_out,
        } = analyzed;
        part.build();
        // Spool positions: of the units not stored as spooled, and where the commit got to.
        let (mut not_as_spooled, mut committed) = (Vec::new(), 0);
        let mut left_out = left_out.into_iter().peekable();
        let mut failure = None;
        let rewritten = ImportPart::analyze(batches.into_iter().flat_map(|applied| {
            let first = committed;
            not_as_spooled.extend(applied.units_not_as_spooled.iter().map(|&at| first + at));
            committed += applied.unit_entries;
            // A unit left out of the part because its id was stored, but added as spooled all
            // the same (the stored one was deleted meanwhile), is read back as stored.
            let mut added = Vec::new();
            while let Some((position, id)) = left_out.next_if(|(p, _)| (*p as usize) < committed) {
                let at = position as usize - first;
                if applied.units_not_as_spooled.binary_search(&at).is_ok() {
                    continue;
                }
                match store.unit(memory, &id) {
                    Ok(unit) => added.extend(unit),
                    Err(error) => failure = Some(error),
                }
            }
            let rewritten = applied.units_rewritten.into_iter().map(|(_, unit)| unit);
            added.into_iter().chain(rewritten)
        }));
        if let Some(error) = failure {
            return Err(error);
        }
        // The same, as positions in the part.
        let mut outcome = ImportOutcome {
            committed: positions.partition_point(|&p| (p as usize) < committed),
            not_stored_as_read: Vec::new(),
        };
        let mut dropped = not_as_spooled.into_iter().peekable();
        for (slot, &position) in positions.iter().enumerate() {
            while dropped.next_if(|&p| p < position as usize).is_some() {}
            if dropped.next_if_eq(&(position as usize)).is_some() {
                outcome.not_stored_as_read.push(slot as u32);
            }
        }
        self.index.insert_import(memory, part, &outcome, rewritten);
        Ok(())
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
}

impl MemoryService {
    /// A service over `store` whose index the returned loader builds from that store. Until
    /// [`MemoryLoader::run`] finishes, searches and writes wait for it (other calls, which
    /// read only the store, do not), so the server can serve the rest of its API during the
    /// seconds a large memory takes to index. Writes waiting too is what keeps the build
    /// exact: no unit reaches the store while the build reads it.
    pub fn loading(store: Store) -> (MemoryService, MemoryLoader) {
        let (loaded, readiness) = watch::channel(None);
        let loader = MemoryLoader {
            store: store.clone(),
            loaded,
            stop: Arc::default(),
        };
        let service = MemoryService {
            store,
            index: MemoryReadiness(readiness),
            writes: Arc::default(),
        };
        (service, loader)
    }

    /// Where to wait for this service's index.
    pub fn readiness(&self) -> MemoryReadiness {
        self.index.clone()
    }

    /// Waits for the index, then for this service's write turn, and holds the turn; imports
    /// take it too, so that the index applies writes in the order the store committed them.
    pub(crate) async fn lock_writes(&self) -> Result<WriteTurn, MemoryUnavailable> {
        let index = self.index.index().await?;
        Ok(WriteTurn {
            index,
            _turn: self.writes.clone().lock_owned().await,
        })
    }

    /// Runs a search over the current snapshot off the async workers: scoring thousands of
    /// candidates is CPU work that would otherwise stall every other request on the worker.
    async fn read<R: Send + 'static>(
        &self,
        search: impl FnOnce(&MemoryIndex) -> R + Send + 'static,
    ) -> Result<R, Status> {
        let snapshot = self.index.index().await?.snapshot();
        off_workers("search", move || search(&snapshot)).await
    }
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
        let turn = self.lock_writes().await?;
        let replaced = self.store.put_units(&request.memory, &units).await?;
        let ids: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
        let units: Vec<Arc<TranslationUnit>> = units.into_iter().map(Arc::new).collect();
        let memory = request.memory;
        turn.publish(move |index| index.insert(&memory, units))
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
        let turn = self.lock_writes().await?;
        let deleted = self
            .store
            .delete_units(&request.memory, &request.ids)
            .await?;
        turn.publish(move |index| index.remove(&request.memory, &request.ids))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Lang, Segment};

    fn unit(id: &str, en: &str) -> TranslationUnit {
        TranslationUnit {
            id: id.into(),
            segments: vec![
                Segment {
                    lang: Lang::en(),
                    text: en.into(),
                    tags: Vec::new(),
                },
                Segment {
                    lang: Lang::ru(),
                    text: format!("перевод: {id}"),
                    tags: Vec::new(),
                },
            ],
            origin: "f.tmx".into(),
            created_ms: 1,
            metadata: Vec::new(),
        }
    }

    /// A unit is left out of an import's analysis when its id is stored as the file is read.
    /// Should the commit add it as spooled all the same (the stored one was deleted
    /// meanwhile), the publication reads it back from the store.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_unit_left_out_of_the_analysis_but_added_is_published_as_stored() {
        let store = Store::temporary().unwrap();
        let (service, loader) = MemoryService::loading(store.clone());
        loader.run().await.unwrap();
        let (left_out, analyzed) = (unit("x", "the unit left out"), unit("y", "the unit read"));
        // What the commit wrote: both units, as spooled.
        store
            .put_units("m", &[left_out, analyzed.clone()])
            .await
            .unwrap();
        let analyzed = AnalyzedImport {
            part: ImportPart::analyze([analyzed]),
            positions: vec![1],
            left_out: vec![(0, "x".into())],
        };
        let batch = Applied {
            unit_entries: 2,
            ..Applied::default()
        };
        let turn = service.lock_writes().await.unwrap();
        tokio::task::spawn_blocking(move || turn.publish_import(&store, "m", analyzed, [batch]))
            .await
            .unwrap()
            .unwrap();
        let index = service.index.index().await.unwrap().snapshot();
        assert_eq!(index.len(), 2);
        let query = MemoryQuery {
            text: "the unit left out".into(),
            source: Lang::en(),
            target: Lang::ru(),
            limit: 5,
            min_score: 1.0,
            memories: Vec::new(),
        };
        let found: Vec<_> = index
            .search(&query)
            .iter()
            .map(|m| m.target.clone())
            .collect();
        assert_eq!(found, ["перевод: x"]);
    }
}
