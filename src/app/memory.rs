//! The translation memories: the start-up build of their index, the calls that wait for it,
//! writes through the [write path](super::writes), and searches, concordance and statistics
//! on the blocking pool.
//!
//! The search index is built from the store after the server starts serving (see
//! [`Memory::loading`]): searches and writes wait for it, calls that read only the store
//! (Stats, ListUnits) do not. In a cluster whose nodes hold some shards of the memory each,
//! searches ask the other nodes for the rest ([`super::shards`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::watch;

use super::commands::{Command, Outcome};
use super::memory_checkpoint::{Checkpoints, MemorySource};
use super::shards::{
    self, ConcordanceQuery, ShardAnswer, ShardHits, ShardPeers, ShardQuery, Sharded,
};
use super::work::{self, Admission, Heavy};
use super::writes::{Author, Change, WritePath};
use super::{now_ms, take_page, AppError, Page};
use crate::index::memory::{
    ConcordanceHit, LiveMemoryIndex, MemoryIndex, MemoryMatch, MemoryQuery, Partition, UnitSource,
};
use crate::index::Cancel;
use crate::model::TranslationUnit;
use crate::store::{unit_content_id, Store, StoreError};

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
/// "building" to the index or to why there is none, once; with how the index was obtained,
/// and where it is checkpointed. Cheap to clone; it holds no store, so waiting on it never
/// keeps the database open.
#[derive(Clone)]
pub struct MemoryReadiness {
    loaded: watch::Receiver<Loaded>,
    source: Arc<OnceLock<MemorySource>>,
    checkpoints: Arc<Checkpoints>,
    partition: Arc<Partition>,
}

impl MemoryReadiness {
    /// Waits until the index is built; answers how many units it holds by then.
    pub async fn wait(&self) -> Result<usize, MemoryUnavailable> {
        Ok(self.index().await?.snapshot().len())
    }

    /// The live index if it is built, without waiting.
    pub fn ready(&self) -> Option<Arc<LiveMemoryIndex>> {
        self.loaded.borrow().as_ref()?.as_ref().ok().cloned()
    }

    /// How the index was obtained at start-up: `None` until it is ready.
    pub fn source(&self) -> Option<MemorySource> {
        self.source.get().cloned()
    }

    /// Where the index is checkpointed.
    pub fn checkpoints(&self) -> Arc<Checkpoints> {
        Arc::clone(&self.checkpoints)
    }

    /// The shards the index holds.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// Waits for the live index. The fast path after start-up is one uncontended read lock.
    pub(crate) async fn index(&self) -> Result<Arc<LiveMemoryIndex>, MemoryUnavailable> {
        let mut loaded = self.loaded.clone();
        let outcome = match loaded.wait_for(Option::is_some).await {
            Ok(loaded) => loaded.clone(),
            // The loader went away without an answer: only a runtime shutting down drops it.
            Err(_) => None,
        };
        outcome.unwrap_or(Err(MemoryUnavailable::Stopped))
    }
}

/// Loads the memory index (from its checkpoint, or built from the store) and hands it over;
/// see [`Memory::loading`].
pub struct MemoryLoader {
    store: Store,
    partition: Partition,
    loaded: watch::Sender<Loaded>,
    source: Arc<OnceLock<MemorySource>>,
    checkpoints: Arc<Checkpoints>,
    stop: Arc<AtomicBool>,
}

impl MemoryLoader {
    /// A handle that stops the build early, so that a shutdown does not wait for a read of
    /// the whole store (which also keeps the database open).
    pub fn stopper(&self) -> StopLoading {
        StopLoading(Arc::clone(&self.stop))
    }

    /// Reads the index's checkpoint and the units written since, or else every stored unit
    /// (other cores analyze what it has read), on a blocking thread (see [`Checkpoints::load`]),
    /// then releases every call waiting for it; answers the unit count, or why there is no
    /// index, which the waiting calls receive too.
    pub async fn run(self) -> Result<usize, MemoryUnavailable> {
        let MemoryLoader {
            store,
            partition,
            loaded,
            source,
            checkpoints,
            stop,
        } = self;
        let built = work::run("loading the memory index", move || {
            let rebuild = || {
                let units = store.all_units().map(|unit| {
                    if stop.load(Ordering::Relaxed) {
                        Err(MemoryUnavailable::Stopped)
                    } else {
                        unit.map_err(|e| MemoryUnavailable::Store(Arc::new(e)))
                    }
                });
                MemoryIndex::from_units_of(partition, units)
            };
            checkpoints.load(&store, rebuild)
        })
        .await
        .unwrap_or_else(|e| Err(MemoryUnavailable::Panicked(e.to_string())));
        let built = built.map(|(index, how)| {
            let _ = source.set(how);
            index
        });
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

/// What AddUnits did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The units' ids, in request order (given, or the content id).
    pub ids: Vec<String>,
    /// Units stored under a new id.
    pub added: usize,
    /// Units that replaced a stored unit, or an earlier one of the same call.
    pub replaced: usize,
}

/// Unit counts of one memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryStats {
    /// The memory.
    pub memory: String,
    /// Its units.
    pub units: u64,
    /// Segments per language, in tag order.
    pub langs: Vec<(String, u64)>,
}

/// The translation memories of one server. Cheap to clone.
#[derive(Clone)]
pub struct Memory {
    store: Store,
    index: MemoryReadiness,
    writes: WritePath,
    admission: Admission,
    /// In a cluster whose nodes hold some shards each: the nodes holding the others.
    peers: Arc<OnceLock<Arc<dyn ShardPeers>>>,
}

impl Memory {
    /// Where memory calls wait for the index that the returned loader builds from `store`,
    /// holding the units of the shards `partition` holds.
    /// Until [`MemoryLoader::run`] finishes, searches and writes wait for it (other calls,
    /// which read only the store, do not), so the server can serve the rest of its API during
    /// the seconds a large memory takes to index. Writes waiting too is what keeps the build
    /// exact: no unit reaches the store while the build reads it.
    pub fn loading(store: Store, partition: Partition) -> (MemoryReadiness, MemoryLoader) {
        let (loaded, readiness) = watch::channel(None);
        let checkpoints = Arc::new(Checkpoints::new(&store, partition.clone()));
        let source = Arc::new(OnceLock::new());
        let loader = MemoryLoader {
            store,
            partition: partition.clone(),
            loaded,
            source: Arc::clone(&source),
            checkpoints: Arc::clone(&checkpoints),
            stop: Arc::default(),
        };
        let readiness = MemoryReadiness {
            loaded: readiness,
            source,
            checkpoints,
            partition: Arc::new(partition),
        };
        (readiness, loader)
    }

    /// The memories of `store`, searched through `index`, written through `writes`.
    pub fn new(
        store: Store,
        index: MemoryReadiness,
        writes: WritePath,
        admission: Admission,
    ) -> Memory {
        Memory {
            store,
            index,
            writes,
            admission,
            peers: Arc::default(),
        }
    }

    /// Puts `peers` behind the searches, for the shards this node does not hold (cluster
    /// mode); answers false if peers were installed already.
    pub fn install_peers(&self, peers: Arc<dyn ShardPeers>) -> bool {
        self.peers.set(peers).is_ok()
    }

    /// Where calls wait for the index built at start-up.
    pub fn readiness(&self) -> MemoryReadiness {
        self.index.clone()
    }

    /// Stores checked `units` in `memory`, giving a unit without an id its content id (which
    /// normalizes its texts: work for the blocking pool when a call brings thousands) and one
    /// without a time the present.
    pub async fn add_units(
        &self,
        author: &Author,
        memory: String,
        units: Vec<TranslationUnit>,
    ) -> Result<Added, AppError> {
        let now = now_ms();
        let units = work::run("unit ids", move || {
            let mut units = units;
            for unit in &mut units {
                if unit.id.is_empty() {
                    unit.id = unit_content_id(unit);
                }
                if unit.created_ms == 0 {
                    unit.created_ms = now;
                }
            }
            units
        })
        .await?;
        let command = Command::AddUnits {
            author: author.clone(),
            memory,
            units,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .added()
    }

    /// Deletes units of `memory` by id; answers how many were stored.
    pub async fn delete_units(
        &self,
        author: &Author,
        memory: String,
        ids: Vec<String>,
    ) -> Result<usize, AppError> {
        let command = Command::DeleteUnits {
            author: author.clone(),
            memory,
            ids,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .count()
    }

    /// Deletes every unit of `memory`, all or nothing; answers how many there were.
    pub async fn delete_memory(&self, author: &Author, memory: String) -> Result<usize, AppError> {
        let command = Command::DeleteMemory {
            author: author.clone(),
            memory,
        };
        self.writes
            .submit(command, |command| self.apply(command))
            .await?
            .count()
    }

    /// The same memories applying entry `sequence` of the replicated log (cluster mode).
    pub fn applying(&self, sequence: u64) -> Memory {
        Memory {
            writes: self.writes.applying(sequence),
            ..self.clone()
        }
    }

    /// Applies a memory `command` through the write path.
    pub async fn apply(&self, command: Command) -> Result<Outcome, AppError> {
        match command {
            Command::AddUnits {
                author,
                memory,
                units,
            } => Ok(Outcome::Added(
                self.apply_add_units(&author, memory, units).await?,
            )),
            Command::DeleteUnits {
                author,
                memory,
                ids,
            } => Ok(Outcome::Count(
                self.apply_delete_units(&author, memory, ids).await?,
            )),
            Command::DeleteMemory { author, memory } => Ok(Outcome::Count(
                self.apply_delete_memory(&author, memory).await?,
            )),
            Command::UpsertConcept { .. }
            | Command::DeleteConcept { .. }
            | Command::UpsertCollection { .. }
            | Command::DeleteCollection { .. }
            | Command::ImportChunk { .. }
            | Command::Import(_)
            | Command::PutKey { .. } => Err(AppError::Internal {
                what: "a memory write",
                detail: "another kind of write was sent to the memories".to_owned(),
            }),
        }
    }

    async fn apply_add_units(
        &self,
        author: &Author,
        memory: String,
        units: Vec<TranslationUnit>,
    ) -> Result<Added, AppError> {
        let ids: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
        let change = Change::AddUnits {
            memory: memory.clone(),
            units: units.len(),
        };
        let replaced = self
            .writes
            .memory(
                change,
                author,
                |store, _| async move {
                    let replaced = store.put_units(&memory, &units)?;
                    Ok((memory, units, replaced, store.memory_revision()))
                },
                |(memory, units, replaced, revision), index| {
                    let units = units.into_iter().map(Arc::new).collect();
                    index.insert(&memory, units, revision);
                    replaced.iter().filter(|r| **r).count()
                },
            )
            .await?;
        Ok(Added {
            added: ids.len() - replaced,
            replaced,
            ids,
        })
    }

    async fn apply_delete_units(
        &self,
        author: &Author,
        memory: String,
        ids: Vec<String>,
    ) -> Result<usize, AppError> {
        let change = Change::DeleteUnits {
            memory: memory.clone(),
            ids: ids.len(),
        };
        self.writes
            .memory(
                change,
                author,
                |store, _| async move {
                    let deleted = store.delete_units(&memory, &ids)?;
                    Ok((memory, ids, deleted, store.memory_revision()))
                },
                |(memory, ids, deleted, revision), index| {
                    index.remove(&memory, &ids, revision);
                    deleted
                },
            )
            .await
    }

    async fn apply_delete_memory(
        &self,
        author: &Author,
        memory: String,
    ) -> Result<usize, AppError> {
        let change = Change::DeleteMemory {
            memory: memory.clone(),
        };
        self.writes
            .memory(
                change,
                author,
                |store, _| async move {
                    let ids = store.delete_memory(&memory)?;
                    if ids.is_empty() {
                        return Err(AppError::MemoryNotFound { name: memory });
                    }
                    Ok((memory, ids, store.memory_revision()))
                },
                |(memory, ids, revision), index| {
                    index.remove(&memory, &ids, revision);
                    ids.len()
                },
            )
            .await
    }

    /// The names of the memories that have held units since the server started, in name
    /// order; none while the index is being built. A memory deleted since is still named
    /// until a restart (its name costs the index nothing to keep; a restart leaves out the
    /// memories without units, whether it reads the saved index or rebuilds it).
    pub fn names(&self) -> Vec<String> {
        self.index
            .ready()
            .map(|index| index.snapshot().memory_names())
            .unwrap_or_default()
    }

    /// The stored units closest to `query`, best first, from every shard: those this node
    /// holds and, in a partitioned cluster, those other nodes hold.
    pub async fn search(&self, query: MemoryQuery) -> Result<Sharded<MemoryMatch>, AppError> {
        let local = self.search_held(query.clone());
        let (local, (remote, missing)) =
            tokio::join!(local, self.gather(ShardQuery::Search(query.clone())));
        Ok(Sharded {
            hits: shards::merge_search(&query, local?, remote),
            missing,
        })
    }

    /// Every stored segment in `query.lang` containing `query.text`, at most `query.limit`,
    /// from every shard (see [`search`](Self::search)).
    pub async fn concordance(
        &self,
        query: ConcordanceQuery,
    ) -> Result<Sharded<ConcordanceHit>, AppError> {
        let local = self.concordance_held(query.clone());
        let (local, (remote, missing)) =
            tokio::join!(local, self.gather(ShardQuery::Concordance(query.clone())));
        Ok(Sharded {
            hits: shards::merge_concordances(&query, local?, remote),
            missing,
        })
    }

    /// This node's answer to another node's `query`: its hits over the shards it holds.
    pub async fn answer(&self, query: ShardQuery) -> Result<ShardAnswer, AppError> {
        let hits = match query {
            ShardQuery::Search(query) => ShardHits::Search(self.search_held(query).await?),
            ShardQuery::Concordance(query) => {
                ShardHits::Concordance(self.concordance_held(query).await?)
            }
        };
        Ok(ShardAnswer {
            held: self.index.partition().held().to_vec(),
            hits,
        })
    }

    /// The other nodes' answers for the shards this node does not hold, and the shards none
    /// answered for; nothing to ask when it holds them all.
    async fn gather(&self, query: ShardQuery) -> (Vec<ShardHits>, Vec<u32>) {
        let partition = self.index.partition();
        if partition.holds_all() {
            return (Vec::new(), Vec::new());
        }
        match self.peers.get() {
            Some(peers) => shards::gather(peers.as_ref(), partition, &query).await,
            None => (Vec::new(), partition.not_held()),
        }
    }

    /// Search in the shards this node holds.
    async fn search_held(&self, query: MemoryQuery) -> Result<Vec<MemoryMatch>, AppError> {
        self.read(Heavy::Search, "search", move |index, units, cancel| {
            index.search_cancellable(&query, units, cancel)
        })
        .await
    }

    /// Concordance in the shards this node holds.
    async fn concordance_held(
        &self,
        query: ConcordanceQuery,
    ) -> Result<Vec<ConcordanceHit>, AppError> {
        let ConcordanceQuery {
            text,
            lang,
            memories,
            limit,
        } = query;
        self.read(Heavy::Search, "concordance", move |index, units, cancel| {
            index.concordance_cancellable(&text, &lang, &memories, limit, units, cancel)
        })
        .await
    }

    /// Unit counts per memory and language, from the store (every unit decoded once).
    pub async fn stats(&self) -> Result<Vec<MemoryStats>, AppError> {
        let store = self.store.clone();
        self.admission
            .run(Heavy::Scan, "memory statistics", move |cancel| {
                let mut memories: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
                let mut checkpoint = cancel.checkpoint();
                for entry in store.all_units().take_while(|_| !checkpoint.stop()) {
                    let (memory, unit) = entry?;
                    let (units, langs) = memories.entry(memory).or_default();
                    *units += 1;
                    for segment in &unit.segments {
                        *langs.entry(segment.lang.to_string()).or_default() += 1;
                    }
                }
                Ok(memories
                    .into_iter()
                    .map(|(memory, (units, langs))| MemoryStats {
                        memory,
                        units,
                        langs: langs.into_iter().collect(),
                    })
                    .collect())
            })
            .await?
    }

    /// One page of `memory`'s units in id order, after `after`: a bounded range read.
    pub fn units_page(
        &self,
        memory: &str,
        after: Option<&str>,
        size: usize,
    ) -> Result<Page<TranslationUnit>, AppError> {
        let units = self.store.units_after(memory, after);
        Ok(take_page(units, size, |u| &u.id)?)
    }

    /// Runs a read over the current snapshot, whose units are read from the store, on the
    /// blocking pool: scoring thousands of candidates is CPU work that would otherwise stall
    /// every other request on the worker.
    async fn read<R: Send + 'static>(
        &self,
        kind: Heavy,
        what: &'static str,
        search: impl FnOnce(&MemoryIndex, &Store, &Cancel) -> R + Send + 'static,
    ) -> Result<R, AppError> {
        let snapshot = self.index.index().await?.snapshot();
        let store = self.store.clone();
        self.admission
            .run(kind, what, move |cancel| search(&snapshot, &store, cancel))
            .await
    }
}

/// The store behind the index: a search reads the units it returns from it. A unit that
/// cannot be read is logged and left out of the answer, as one the store no longer holds.
impl UnitSource for Store {
    fn unit(&self, memory: &str, id: &str) -> Option<Arc<TranslationUnit>> {
        match Store::unit(self, memory, id) {
            Ok(unit) => unit.map(Arc::new),
            Err(error) => {
                tracing::warn!(%error, memory, id, "a unit of a memory match could not be read");
                None
            }
        }
    }
}
