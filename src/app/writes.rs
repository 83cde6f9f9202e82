//! The one ordered write path: every write of the server, from a single UpsertConcept to a
//! million-unit import, passes through [`WritePath::termbase`] or [`WritePath::memory`], and
//! both through one private function, `ordered`, which
//!
//! 1. takes the write turn of the index concerned (one for the termbase, one for the
//!    memories) and, under it, commits the change to the store and writes its audit record,
//!    without waiting for the disk, then gives the turn back;
//! 2. waits until a flush covers the commit (group commit, `store::FlushPoint`: one flush
//!    makes durable every write committed before it started, so the writes that commit while
//!    a flush runs share the next one);
//! 3. publishes it to the index on the blocking pool, in the order of the commits, and
//!    answers once readers see it. The term index only stages a write in that order, and
//!    then one publication (one index of the recent writes built) makes visible every write
//!    staged so far (see [`Publication`]): under many writers that index is built once per
//!    group of writes, as the disk is synced once per group, not once per write.
//!
//! So the order is total per index (the commits take turns, and each takes the next number
//! in its lane), the disk is synced once per group of writes rather than once per write, and
//! nothing reaches an index, the change feed or a client before it is durable: a write is
//! published only after a flush that covers it succeeded, and only after every write
//! committed before it was published. Store reads that bypass the indexes (GetConcept,
//! ListConcepts, history, listings of units) read sled, which shows a commit from the moment
//! it is made: such a read may see a write up to one flush before it is durable (a window
//! that flushing after the commit, grouped or not, cannot close).
//!
//! A failed flush fails every write waiting on it, and every later one: the store refuses to
//! report anything durable after a failed flush (see `store::durable`), since what sled then
//! holds on disk is unknown. None of those writes is published or acknowledged, so the indexes
//! and the change feed keep showing exactly the writes acknowledged so far; a restart
//! rebuilds them from what the disk holds. A commit that fails is answered with its error once
//! the writes before it are published, and what it committed before failing (an import's
//! first batches, a collection created for a refused concept) goes with the next flush.
//!
//! The audit log is written there too: right after the commit, under the turn, one record of
//! the [`Change`] and its [`Author`] (the API key that wrote; access itself is checked before
//! the write reaches the application), made durable by the same flush as the write. A
//! termbase write's change records (the store revision, the change feed's source) are written
//! in the commit's own transactions, within the turn, so revisions follow the order of the
//! commits; the revision the commit reached is noted under the turn, and after step 3 the
//! [change feed](super::changes) is told that revision (not the store's latest, which may
//! belong to later writes not yet durable) and wakes its streams.
//!
//! In cluster mode a write reaches this path as a [`Command`] taken from the replicated log
//! (see [`WritePath::submit`] and [`super::commands`]); its commit also records which entry
//! of the log it applied, under the same turn, so the flush that makes it durable makes that
//! mark durable as well.
//!
//! An import publishes to its index as its commit goes (`store::import` flushes its commit
//! marker and batches itself), so it waits, under the turn, until every write committed
//! before it is published, and keeps the publication order until it ends: nothing published
//! before it can overwrite what it published, nor the other way round.
//!
//! A write never bypasses the path: the store's write methods are called only from closures
//! passed here, except by start-up (crash recovery and the first load of the shipped
//! glossary), which writes and flushes before any index is built or any call is served, and
//! by the key ring (`auth::KeyRing`): keys feed no index, and each key write carries its
//! audit record in its own transaction and flushes it itself (in cluster mode after the
//! replicated log, as [`Command::PutKey`]).
//!
//! The steps run in a task of their own, so that a client that goes away mid-write (which
//! drops its call) leaves neither a commit unpublished nor the order broken.
//!
//! The termbase and the memories have a lane each: their indexes are independent, and an
//! import of a million units into a memory must not hold up a terminologist's upsert. Within
//! each, the order is total. Both share the store's flushes.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, Mutex};

use super::changes::Changes;
use super::commands::{Command, Outcome, WriteLog};
use super::memory::MemoryReadiness;
use super::{now_ms, work, AppError};
use crate::index::memory::LiveMemoryIndex;
use crate::index::TermSearch;
use crate::store::{AuditEntry, Store};

/// Who makes a write, as the audit log and a concept's history record it: the name of the
/// API key, empty on an open server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author(pub String);

/// What a write changes, for the log and the audit today and for change feeds and
/// replication tomorrow.
#[derive(Clone, Debug)]
pub enum Change {
    /// A concept created or replaced.
    UpsertConcept {
        /// Its id.
        id: String,
        /// Its collection.
        collection: String,
    },
    /// A concept deleted.
    DeleteConcept {
        /// Its id.
        id: String,
    },
    /// A collection created or updated.
    UpsertCollection {
        /// Its name.
        name: String,
    },
    /// A collection deleted with its concepts.
    DeleteCollection {
        /// Its name.
        name: String,
    },
    /// Units stored in a memory.
    AddUnits {
        /// The memory.
        memory: String,
        /// How many units.
        units: usize,
    },
    /// Units deleted from a memory.
    DeleteUnits {
        /// The memory.
        memory: String,
        /// How many ids.
        ids: usize,
    },
    /// A memory deleted with its units.
    DeleteMemory {
        /// The memory.
        memory: String,
    },
    /// A committed import of a file into a collection or memory.
    Import {
        /// The store's import id.
        import: u64,
        /// The collection or memory.
        target: String,
    },
}

impl Change {
    /// The kind of write, as the audit log names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::UpsertConcept { .. } => "upsert_concept",
            Change::DeleteConcept { .. } => "delete_concept",
            Change::UpsertCollection { .. } => "upsert_collection",
            Change::DeleteCollection { .. } => "delete_collection",
            Change::AddUnits { .. } => "add_units",
            Change::DeleteUnits { .. } => "delete_units",
            Change::DeleteMemory { .. } => "delete_memory",
            Change::Import { .. } => "import",
        }
    }

    /// What it writes to: the concept id, collection or memory.
    pub fn target(&self) -> &str {
        match self {
            Change::UpsertConcept { id, .. } | Change::DeleteConcept { id } => id,
            Change::UpsertCollection { name } | Change::DeleteCollection { name } => name,
            Change::AddUnits { memory, .. }
            | Change::DeleteUnits { memory, .. }
            | Change::DeleteMemory { memory } => memory,
            Change::Import { target, .. } => target,
        }
    }

    /// How many units or ids it carries: 1 for a single record, 0 where the count is known
    /// only after the commit (whole deletes, imports).
    pub fn count(&self) -> u64 {
        match self {
            Change::UpsertConcept { .. }
            | Change::DeleteConcept { .. }
            | Change::UpsertCollection { .. } => 1,
            Change::AddUnits { units, .. } => *units as u64,
            Change::DeleteUnits { ids, .. } => *ids as u64,
            Change::DeleteCollection { .. }
            | Change::DeleteMemory { .. }
            | Change::Import { .. } => 0,
        }
    }

    /// The audit log's record of this change by `author`, now.
    fn audited(&self, author: &Author) -> AuditEntry {
        AuditEntry {
            time_ms: now_ms(),
            key: author.0.clone(),
            change: self.kind().to_owned(),
            target: self.target().to_owned(),
            count: self.count(),
            summary: self.to_string(),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::UpsertConcept { id, collection } => {
                write!(f, "upsert concept {id} in {collection}")
            }
            Change::DeleteConcept { id } => write!(f, "delete concept {id}"),
            Change::UpsertCollection { name } => write!(f, "upsert collection {name}"),
            Change::DeleteCollection { name } => write!(f, "delete collection {name}"),
            Change::AddUnits { memory, units } => write!(f, "add {units} units to {memory}"),
            Change::DeleteUnits { memory, ids } => write!(f, "delete {ids} units of {memory}"),
            Change::DeleteMemory { memory } => write!(f, "delete memory {memory}"),
            Change::Import { import, target } => write!(f, "import {import:016x} into {target}"),
        }
    }
}

/// The write path of one server: the store, the two live indexes and their lanes. Cheap to
/// clone.
#[derive(Clone)]
pub struct WritePath {
    store: Store,
    terms: Arc<TermSearch>,
    memory: MemoryReadiness,
    changes: Changes,
    termbase_lane: Arc<Lane>,
    memory_lane: Arc<Lane>,
    /// In cluster mode, the replicated log every write is submitted to first.
    log: Arc<OnceLock<Arc<dyn WriteLog>>>,
    /// The replicated log's entry the writes through this path apply, recorded with their
    /// commit (cluster mode's replicas only).
    entry: Option<u64>,
}

impl WritePath {
    /// The path writing to `store` and publishing to `terms`, (once built) the memory index
    /// behind `memory`, and the termbase's `changes` feed.
    pub fn new(
        store: Store,
        terms: Arc<TermSearch>,
        memory: MemoryReadiness,
        changes: Changes,
    ) -> WritePath {
        WritePath {
            store,
            terms,
            memory,
            changes,
            termbase_lane: Arc::default(),
            memory_lane: Arc::default(),
            log: Arc::default(),
            entry: None,
        }
    }

    /// Puts the replicated `log` in front of every write from now on (cluster mode); answers
    /// `false` if a log was installed already.
    pub fn install_log(&self, log: Arc<dyn WriteLog>) -> bool {
        self.log.set(log).is_ok()
    }

    /// The replicated log writes go through (cluster mode), if any.
    pub fn log(&self) -> Option<Arc<dyn WriteLog>> {
        self.log.get().cloned()
    }

    /// The same path for the writes that apply entry `sequence` of the replicated log: each
    /// records the sequence right after its commit, under its turn, so the flush that makes
    /// the write durable makes the mark durable too.
    pub fn applying(&self, sequence: u64) -> WritePath {
        WritePath {
            entry: Some(sequence),
            ..self.clone()
        }
    }

    /// Runs `command`: through the replicated log when there is one (which answers once this
    /// node applied it), else at once by `apply`.
    pub async fn submit<F>(
        &self,
        command: Command,
        apply: impl FnOnce(Command) -> F,
    ) -> Result<Outcome, AppError>
    where
        F: Future<Output = Result<Outcome, AppError>>,
    {
        match self.log() {
            Some(log) => log.submit(command).await,
            None => apply(command).await,
        }
    }

    /// A termbase write: `commit` writes to the store (with the term index at hand for
    /// writes that publish as they go, like an import), then, once durable, `publish` applies
    /// what it committed to the term index on the blocking pool, then the change feed is told.
    pub async fn termbase<C, R, F>(
        &self,
        change: Change,
        author: &Author,
        commit: impl FnOnce(Store, Arc<TermSearch>) -> F + Send + 'static,
        publish: impl FnOnce(C, &TermSearch) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let lane = Arc::clone(&self.termbase_lane);
        let index = Arc::clone(&self.terms);
        let feed = Some(self.changes.clone());
        self.ordered(change, author, lane, index, feed, commit, publish)
            .await
    }

    /// A memory write, the same way; waits first for the memory index built at start-up, so
    /// that no unit reaches the store while the build reads it.
    pub async fn memory<C, R, F>(
        &self,
        change: Change,
        author: &Author,
        commit: impl FnOnce(Store, Arc<LiveMemoryIndex>) -> F + Send + 'static,
        publish: impl FnOnce(C, &LiveMemoryIndex) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let index = self.memory.index().await?;
        let lane = Arc::clone(&self.memory_lane);
        self.ordered(change, author, lane, index, None, commit, publish)
            .await
    }

    /// The one place every write passes: turn, commit, audit, flush, publication in commit
    /// order, and for the termbase the change `feed`, in a task of its own.
    #[allow(clippy::too_many_arguments)]
    async fn ordered<I, C, R, F>(
        &self,
        change: Change,
        author: &Author,
        lane: Arc<Lane>,
        index: Arc<I>,
        feed: Option<Changes>,
        commit: impl FnOnce(Store, Arc<I>) -> F + Send + 'static,
        publish: impl FnOnce(C, &I) -> R + Send + 'static,
    ) -> Result<R, AppError>
    where
        I: Publication,
        F: Future<Output = Result<C, AppError>> + Send + 'static,
        C: Send + 'static,
        R: Send + 'static,
    {
        let store = self.store.clone();
        let author = author.clone();
        let entry = self.entry;
        let write = async move {
            let (committed, revision, point, mut place) = {
                let mut turn = lane.turn.lock().await;
                let mut place = Place::new(&lane, *turn);
                *turn += 1;
                // An import publishes as it commits: after every write before it.
                if let Change::Import { .. } = change {
                    place.reached().await;
                }
                // A single write applying a log entry records it in its own transaction; an
                // import's commit, several transactions, records it once it has ended.
                let committing = match entry {
                    Some(sequence) if !matches!(change, Change::Import { .. }) => {
                        store.applying(sequence)
                    }
                    _ => store.clone(),
                };
                let committed = commit(committing, Arc::clone(&index)).await;
                if committed.is_ok() {
                    tracing::debug!(%change, author = author.0, "committed");
                    // Committed whatever happens here: a failed audit record is the server's
                    // fault to log, not a reason to tell the client its write failed.
                    if let Err(error) = store.append_audit(&change.audited(&author)) {
                        tracing::error!(%error, %change, "the audit record of a write was lost");
                    }
                }
                // Refused or not, the log's entry is done with: a replay does not apply it again
                // (for a termbase write that changed something, its transaction recorded it
                // already; a unit write applied twice stores the same units).
                if let Some(sequence) = entry {
                    if let Err(error) = store.mark_replicated(sequence) {
                        tracing::error!(%error, sequence, "the applied log sequence was not recorded");
                    }
                }
                (committed, store.revision(), store.flush_point(), place)
            };
            store.flushed(point).await?;
            place.reached().await;
            let answer = match committed {
                Ok(committed) => {
                    let index = Arc::clone(&index);
                    work::run_write("index publication", move || {
                        let published = publish(committed, &index);
                        (published, index.staged())
                    })
                    .await
                }
                Err(error) => Err(error),
            };
            // The writes after this one stage theirs while it becomes visible, and share the
            // publication that makes it so.
            drop(place);
            let answer = match answer {
                Ok((published, staged)) => lane.visible(&index, staged).await.map(|()| published),
                Err(error) => Err(error),
            };
            // The feed keeps the highest revision it is told, and every write up to this one
            // is visible by now: it need not be told in order.
            if let Some(feed) = feed {
                feed.published(revision).await;
            }
            answer
        };
        tokio::spawn(write)
            .await
            .map_err(|error| work::joined("a write", error))?
    }
}

/// An index the write path publishes to. A write's publication, run in commit order, may
/// only stage what the write changes; the write then waits, no longer holding up the writes
/// after it, until one publication of everything staged so far made it visible (the term
/// index's group publication). An index that publishes at once keeps the defaults.
pub trait Publication: Send + Sync + 'static {
    /// The number of the last staging made; 0 for an index that publishes at once.
    fn staged(&self) -> u64 {
        0
    }

    /// The number of the last staging readers see.
    fn published(&self) -> u64 {
        0
    }

    /// Makes everything staged so far visible. Blocking: called on the blocking pool.
    fn publish_staged(self: &Arc<Self>) {}
}

impl Publication for TermSearch {
    fn staged(&self) -> u64 {
        TermSearch::staged(self)
    }

    fn published(&self) -> u64 {
        TermSearch::published(self)
    }

    fn publish_staged(self: &Arc<Self>) {
        TermSearch::publish_staged(self);
    }
}

impl Publication for LiveMemoryIndex {}

/// The order of one index's writes: the turn every commit takes, the publications in the
/// order of the commits, and the group publication that makes them visible.
#[derive(Default)]
struct Lane {
    /// Held while a write commits; counts the commits, so that each takes the next number.
    turn: Mutex<u64>,
    /// Which write publishes next, and the writes waiting for their turn to publish.
    publishing: std::sync::Mutex<Publishing>,
    /// Held by the write whose publication makes visible what was staged: the others wait
    /// here as tasks, not as blocked threads, and find their staging published when their
    /// turn comes, or publish everything staged meanwhile themselves.
    visibility: Mutex<()>,
}

impl Lane {
    /// Waits until staging `staged` of `index` and every one before it is visible.
    async fn visible<I: Publication>(&self, index: &Arc<I>, staged: u64) -> Result<(), AppError> {
        if index.published() >= staged {
            return Ok(());
        }
        let _visibility = self.visibility.lock().await;
        if index.published() >= staged {
            return Ok(());
        }
        let index = Arc::clone(index);
        work::run_write("index publication", move || index.publish_staged()).await
    }

    fn publishing(&self) -> std::sync::MutexGuard<'_, Publishing> {
        // No critical section can panic; a poisoned lock would still hold a consistent state.
        self.publishing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Publishing {
    /// The number of the write whose turn it is.
    next: u64,
    /// The writes waiting, by number, each woken when its turn comes; a write that went away
    /// (its receiver dropped) is passed over.
    waiting: HashMap<u64, oneshot::Sender<()>>,
}

impl Publishing {
    /// Gives the turn to write `next`, or past it to the first one still there.
    fn pass_to(&mut self, next: u64) {
        self.next = next;
        while let Some(wake) = self.waiting.remove(&self.next) {
            if wake.send(()).is_ok() {
                return;
            }
            self.next += 1;
        }
    }
}

/// A write's place in its lane's publication order. Dropped, it passes the turn on: at once
/// when the turn had come, or else when it comes (so that a write whose task ended early, by
/// a panic or the runtime stopping, holds up no other).
struct Place {
    lane: Arc<Lane>,
    sequence: u64,
    reached: bool,
}

impl Place {
    /// The place of the write numbered `sequence` in `lane`.
    fn new(lane: &Arc<Lane>, sequence: u64) -> Place {
        Place {
            lane: Arc::clone(lane),
            sequence,
            reached: false,
        }
    }

    /// Waits until every write numbered before this one has published (or gone).
    async fn reached(&mut self) {
        if self.reached {
            return;
        }
        let woken = {
            let mut publishing = self.lane.publishing();
            if publishing.next == self.sequence {
                None
            } else {
                let (wake, woken) = oneshot::channel();
                publishing.waiting.insert(self.sequence, wake);
                Some(woken)
            }
        };
        if let Some(woken) = woken {
            // A sender is only dropped unsent when its receiver is gone, and this one is here.
            let _ = woken.await;
        }
        self.reached = true;
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut publishing = self.lane.publishing();
        if self.reached || publishing.next == self.sequence {
            publishing.pass_to(self.sequence + 1);
        } else {
            // Still to come: a sender without a receiver, passed over when it does.
            publishing
                .waiting
                .insert(self.sequence, oneshot::channel().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn places_publish_in_order_and_a_write_gone_early_holds_up_none() {
        let lane = Arc::new(Lane::default());
        let mut places: Vec<Place> = (0..3).map(|n| Place::new(&lane, n)).collect();
        let mut last = places.pop().expect("three places");
        let gone = places.pop().expect("two places");
        let mut first = places.pop().expect("one place");
        // The second write's task ends before its turn: the third must not wait for it.
        drop(gone);
        let waiting = tokio::spawn(async move {
            last.reached().await;
            last.sequence
        });
        first.reached().await;
        assert_eq!(lane.publishing().next, 0, "the first write still publishes");
        drop(first);
        assert_eq!(waiting.await.unwrap(), 2);
        assert_eq!(lane.publishing().next, 3, "every place passed on");
    }
}
