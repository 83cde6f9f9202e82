//! The application layer: what the server does, in domain terms, between the gRPC services
//! (`service/`, which only convert and validate) and the store and indexes. Nothing here
//! knows gRPC.
//!
//! - [`termbase`]: concepts and collections, Lookup, Recognize;
//! - [`memory`]: the translation memories, their index built at start-up, Search,
//!   Concordance, Stats;
//! - [`import`]: imports: a file read, checked, spooled, analyzed and committed;
//! - [`export`]: exports: the store walked and written in a format, chunk by chunk;
//! - [`changes`]: the live change feed of the termbase (resume tokens, snapshots,
//!   bookmarks), for gRPC's Watch and any other transport;
//! - [`term_checkpoint`]: the term index read back from its file at start and brought up to
//!   date, and written to it again at checkpoints;
//! - [`writes`]: the one ordered write path every write above goes through;
//! - [`commands`]: writes as data, for a replicated log in front of the write path;
//! - [`work`]: where heavy work runs, and how many heavy calls may run at once;
//! - [`check`]: the domain's checks of concepts and units, for RPCs and imports alike;
//! - [`review`]: translations checked against the termbase, glossaries for one text;
//! - [`shards`]: searches of a memory split into shards held by different cluster nodes.

pub mod changes;
pub mod check;
mod claims;
pub mod commands;
mod error;
pub mod export;
pub mod import;
pub mod memory;
pub mod memory_checkpoint;
pub mod review;
pub mod shards;
pub mod term_checkpoint;
pub mod termbase;
pub mod work;
pub mod writes;

use std::sync::Arc;

pub use claims::Claims;
pub use error::AppError;
pub use work::{Heavy, Limits};

use crate::index::memory::Partition;
use crate::index::TermSearch;
use crate::store::Store;
use changes::Changes;
use commands::{Command, Outcome, WriteLog};
use export::Exports;
use import::Imports;
use memory::{Memory, MemoryLoader};
use review::Review;
use termbase::Termbase;
use work::Admission;
use writes::WritePath;

/// The application of one server: its termbase, memories and imports, sharing one write
/// path and one admission. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Concepts and collections.
    pub termbase: Termbase,
    /// Translation memories.
    pub memory: Memory,
    /// Imports.
    pub imports: Imports,
    /// Exports.
    pub exports: Exports,
    /// The termbase's change feed.
    pub changes: Changes,
    /// Translation checks and glossaries.
    pub review: Review,
    /// The write path all of them share.
    writes: WritePath,
}

impl App {
    /// The application over `store`, whose term index `terms` was built from it, keeping the
    /// last `retention` change records; the memory index, of the shards `partition` holds, is
    /// built by the returned loader (see [`Memory::loading`]).
    pub fn new(
        store: Store,
        terms: Arc<TermSearch>,
        limits: Limits,
        retention: u64,
        partition: Partition,
    ) -> (App, MemoryLoader) {
        let (readiness, loader) = Memory::loading(store.clone(), partition);
        let admission = Admission::new(limits);
        let changes = Changes::new(store.clone(), retention, admission.clone());
        let writes = WritePath::new(
            store.clone(),
            Arc::clone(&terms),
            readiness.clone(),
            changes.clone(),
        );
        let claims = Claims::default();
        let app = App {
            review: Review::new(Arc::clone(&terms), admission.clone()),
            termbase: Termbase::new(
                store.clone(),
                terms,
                writes.clone(),
                admission.clone(),
                claims.clone(),
            ),
            memory: Memory::new(
                store.clone(),
                readiness.clone(),
                writes.clone(),
                admission.clone(),
            ),
            imports: Imports::new(
                store.clone(),
                writes.clone(),
                admission,
                claims,
                readiness.checkpoints(),
            ),
            exports: Exports::new(store),
            changes,
            writes,
        };
        (app, loader)
    }
}

impl App {
    /// Applies entry `sequence` of the replicated log, `command`, through the write path
    /// (cluster mode); the sequence is recorded with the write's commit. An import's chunk
    /// writes nothing (its commit reads it from the log); an import's commit is applied with
    /// its chunks by [`import::Imports::apply_replicated`], a key by the key ring.
    pub async fn apply(&self, sequence: u64, command: Command) -> Result<Outcome, AppError> {
        match command {
            Command::ImportChunk { .. } => Ok(Outcome::Done),
            Command::Import(_) => Err(AppError::Internal {
                what: "an import's commit",
                detail: "applied without its chunks".to_owned(),
            }),
            Command::PutKey { .. } => Err(AppError::Internal {
                what: "a key write",
                detail: "applied without the key ring".to_owned(),
            }),
            command if command.is_memory_write() => {
                self.memory.applying(sequence).apply(command).await
            }
            command => self.termbase.applying(sequence).apply(command).await,
        }
    }

    /// Puts the replicated `log` in front of every write (cluster mode); imports are refused
    /// from then on. Answers `false` if a log was installed already.
    pub fn install_log(&self, log: Arc<dyn WriteLog>) -> bool {
        self.writes.install_log(log)
    }
}

/// Where a streaming call's output goes as it is made: each item, then the error it ends
/// with if it fails. Answers `false` once the client is gone, which stops the work.
pub type Sink<T> = Box<dyn FnMut(Result<T, AppError>) -> bool + Send>;

/// One page of a listing in id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The id to resume after for the next page; `None` on the last page.
    pub next_after: Option<String>,
}

/// Takes one page from `items` (already filtered, in id order).
pub fn take_page<T, E>(
    items: impl Iterator<Item = Result<T, E>>,
    size: usize,
    id: impl Fn(&T) -> &str,
) -> Result<Page<T>, E> {
    let mut page = Vec::with_capacity(size);
    for item in items {
        let item = item?;
        if page.len() == size {
            let next_after = page.last().map(|last| id(last).to_owned());
            return Ok(Page {
                items: page,
                next_after,
            });
        }
        page.push(item);
    }
    Ok(Page {
        items: page,
        next_after: None,
    })
}

/// Milliseconds since the Unix epoch, for record timestamps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
