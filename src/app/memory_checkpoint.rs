//! Checkpoints of the memory index: the index saved to one file beside the database, stamped
//! with the store's id and the memory revision it reflects, so that a start reads it back and
//! re-reads only the units written since (the store's memory log) instead of analyzing every
//! stored unit again.
//!
//! A file is trusted only when it is whole and meant for this store: a missing, truncated,
//! damaged (checksum), foreign (another store's id), future (a revision the store has not
//! reached) or stale (older than the log still holds) file is named in the log (a warning
//! unless there is no file at all) and the index is rebuilt from the store, as it always can
//! be. Writing goes to a temporary file, synced, renamed over the old one, and the directory
//! synced: a crash leaves the old file or the new one, never half of one. A checkpoint is
//! written from an immutable snapshot on the blocking pool, never under the memory write turn,
//! so it delays no write.
//!
//! When: at a graceful shutdown, after an import commits, and in the background once
//! [`CHECKPOINT_WRITES`] writes or [`CHECKPOINT_SECONDS`] seconds have passed since the last
//! checkpoint with any write at all.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::work;
use crate::index::memory::{LiveMemoryIndex, MemoryIndex, Partition};
use crate::store::{Store, StoreError};

/// The checkpoint's file name in the data directory.
pub const FILE_NAME: &str = "memory.index";

/// A background checkpoint is written once this many memory writes (AddUnits, DeleteUnits,
/// DeleteMemory calls, import batches) have accumulated: a start then re-reads at most their
/// units, a second or two's work at the largest batches.
pub const CHECKPOINT_WRITES: u64 = 1_000;

/// ...or once this many seconds have passed with at least one write: a quiet server's file is
/// never more than five minutes of writes behind. Writing a million units' index takes a few
/// seconds of disk I/O, so more often would cost more than it saves.
pub const CHECKPOINT_SECONDS: u64 = 300;

/// How often the background task looks at the index's revision.
const POLL: Duration = Duration::from_secs(5);

/// How the memory index was obtained at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemorySource {
    /// Read from the checkpoint at `saved`, then brought up to `revision` by re-reading
    /// `replayed` units.
    Checkpoint {
        /// The memory revision the file was saved at.
        saved: u64,
        /// The memory revision after the units written since were applied.
        revision: u64,
        /// How many units were read again from the store.
        replayed: usize,
    },
    /// Built from every stored unit, because the checkpoint could not be used.
    Rebuilt {
        /// Why the checkpoint was not used.
        reason: String,
    },
}

/// The checkpoint file of one data directory, and the revision last saved to it. Holds no
/// store, so that holding it never keeps the database open.
pub struct Checkpoints {
    /// `None` for a temporary store: nothing is saved.
    path: Option<PathBuf>,
    store_id: [u8; 16],
    /// The shards the index holds: a file of other shards is not read.
    partition: Partition,
    /// The revision of the file on disk (`None` until one is known to be there), and when it
    /// was written; held while a file is written, so writers never overlap.
    saved: Mutex<(Option<u64>, Instant)>,
    /// Asks the background task for a checkpoint now.
    wake: Notify,
}

/// Why a checkpoint could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Writing, syncing or renaming the file failed.
    #[error("cannot write the memory index checkpoint {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Trimming the memory log failed after the file was written.
    #[error("the memory log could not be trimmed: {0}")]
    Store(#[from] StoreError),
}

impl Checkpoints {
    /// The checkpoints of `store`'s data directory, of an index holding `partition`.
    pub fn new(store: &Store, partition: Partition) -> Checkpoints {
        Checkpoints {
            path: store.dir().map(|dir| dir.join(FILE_NAME)),
            store_id: store.id(),
            partition,
            saved: Mutex::new((None, Instant::now())),
            wake: Notify::new(),
        }
    }

    /// The index as of the store's current memory revision: read from the file and brought
    /// up to date from the memory log, or else (with one log line saying why) built from every
    /// stored unit. Blocking; the caller holds back every memory write meanwhile.
    pub fn load(
        &self,
        store: &Store,
        rebuild: impl FnOnce() -> Result<MemoryIndex, super::memory::MemoryUnavailable>,
    ) -> Result<(MemoryIndex, MemorySource), super::memory::MemoryUnavailable> {
        let revision = store.memory_revision();
        match self.read(store) {
            Ok((saved, replayed, index)) => {
                self.remember(saved);
                tracing::info!(
                    saved,
                    revision,
                    replayed,
                    "memory index read from its checkpoint"
                );
                let source = MemorySource::Checkpoint {
                    saved,
                    revision,
                    replayed,
                };
                Ok((index, source))
            }
            Err(reason) => {
                // No file is what a first start, or one after the file was deleted, finds:
                // worth a line, not a warning.
                if self.path.as_ref().is_some_and(|path| !path.exists()) {
                    tracing::info!(%reason, "the memory index is rebuilt from the store");
                } else {
                    tracing::warn!(%reason, "the memory index is rebuilt from the store");
                }
                let mut index = rebuild()?;
                index.set_revision(revision);
                Ok((index, MemorySource::Rebuilt { reason }))
            }
        }
    }

    /// The file's index brought up to the store's revision, with the revision it was saved at
    /// and how many units were re-read; or why it cannot be used.
    fn read(&self, store: &Store) -> Result<(u64, usize, MemoryIndex), String> {
        let path = self.path.as_ref().ok_or("the store is temporary")?;
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let len = file
            .metadata()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        let current = store.memory_revision();
        let (header, mut index) =
            MemoryIndex::load(BufReader::with_capacity(1 << 20, file), len, |header| {
                if header.store_id != self.store_id {
                    return Err("it was written for another store".into());
                }
                if header.partition != self.partition {
                    return Err(format!(
                        "it holds {}, this node {}",
                        header.partition, self.partition
                    ));
                }
                if header.revision > current {
                    return Err(format!(
                        "it is at memory revision {}, ahead of the store's {current}",
                        header.revision
                    ));
                }
                Ok(())
            })
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let delta = store
            .memory_changes_after(header.revision)
            .map_err(|e| format!("reading the memory log: {e}"))?
            .ok_or_else(|| {
                format!(
                    "{}: its revision {} is older than the memory log still holds",
                    path.display(),
                    header.revision
                )
            })?;
        let replayed = delta.units.len();
        index.refresh(delta.units);
        index.set_revision(delta.revision);
        Ok((header.revision, replayed, index))
    }

    fn remember(&self, revision: u64) {
        *self.saved.lock().unwrap_or_else(PoisonError::into_inner) =
            (Some(revision), Instant::now());
    }

    /// Saves the current snapshot of `index` unless the file already holds its revision, then
    /// trims the memory log up to it; on the blocking pool. Answers the revision saved, if
    /// one was.
    pub async fn write(
        self: &Arc<Self>,
        store: &Store,
        index: &LiveMemoryIndex,
    ) -> Result<Option<u64>, CheckpointError> {
        let (this, store, snapshot) = (Arc::clone(self), store.clone(), index.snapshot());
        match work::run("memory index checkpoint", move || {
            this.write_blocking(&store, &snapshot)
        })
        .await
        {
            Ok(written) => written,
            // A panic is logged by `work::run`; the previous file stays as it was.
            Err(_) => Ok(None),
        }
    }

    fn write_blocking(
        &self,
        store: &Store,
        snapshot: &MemoryIndex,
    ) -> Result<Option<u64>, CheckpointError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let revision = snapshot.revision();
        if saved.0 == Some(revision) {
            return Ok(None);
        }
        save_durably(path, snapshot, self.store_id).map_err(|source| CheckpointError::Io {
            path: path.clone(),
            source,
        })?;
        *saved = (Some(revision), Instant::now());
        drop(saved);
        store.trim_memory_log(revision)?;
        tracing::debug!(revision, "memory index checkpoint written");
        Ok(Some(revision))
    }

    /// Asks the background task for a checkpoint now (after an import commits, say).
    pub fn request(&self) {
        self.wake.notify_one();
    }

    /// Whether the background task should write now: a checkpoint was asked for, or writes
    /// have accumulated past the bounds above.
    fn due(&self, revision: u64, asked: bool) -> bool {
        let (saved, at) = *self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let behind = saved != Some(revision);
        let writes = saved.map_or(u64::MAX, |saved| revision.saturating_sub(saved));
        behind
            && (asked
                || writes >= CHECKPOINT_WRITES
                || at.elapsed() >= Duration::from_secs(CHECKPOINT_SECONDS))
    }

    /// Writes checkpoints of `index` in the background as they fall due (at once if the file
    /// does not hold the index's revision, as after a rebuild) until the task is dropped.
    pub async fn run(self: Arc<Self>, store: Store, index: Arc<LiveMemoryIndex>) {
        let mut asked = self.path.is_some();
        loop {
            let revision = index.snapshot().revision();
            if self.due(revision, asked) {
                if let Err(error) = self.write(&store, &index).await {
                    tracing::warn!(%error, "the memory index checkpoint was not written");
                }
            }
            asked = tokio::time::timeout(POLL, self.wake.notified())
                .await
                .is_ok();
        }
    }
}

/// Writes `snapshot` to a temporary file beside `path`, syncs it, renames it to `path` and
/// syncs the directory.
fn save_durably(path: &Path, snapshot: &MemoryIndex, store_id: [u8; 16]) -> std::io::Result<()> {
    let temporary = path.with_extension("index.tmp");
    let file = File::create(&temporary)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    snapshot.save(&mut out, store_id)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        // Not possible (nor needed) on every platform, as for the import spool.
        let _ = File::open(dir).and_then(|dir| dir.sync_all());
    }
    Ok(())
}
