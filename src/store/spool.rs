//! Spool files: the entries an import has accepted, written one after the other to
//! `<data dir>/imports/<id>.spool` while the upload streams in, and read back once when the
//! import commits.
//!
//! Nothing reads an import's entries before it commits, so they need neither keys nor a tree:
//! appending to a file costs a copy, where a sled insert (and the removal after applying it)
//! costs a copy-on-write of a tree node each. The file is made durable (`fsync`) before the
//! commit marker that makes it count; see [`super::import`] for the protocol.
//!
//! Layout: [`MAGIC`], then per entry a `u32` little-endian length and the postcard encoding
//! of a [`Staged`]. Knows nothing of sled.

use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::encode_into;
use super::error::StoreError;
use super::keys;
use crate::model::{encoded_str, Concept, TranslationUnit};

/// The first bytes of every spool file: what it is and the layout version, so that a later
/// build that changes the layout recognizes an old file instead of misreading it.
const MAGIC: &[u8; 8] = b"TMSPOOL1";

/// Write buffer of a spool: entries average a few hundred bytes.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Read buffer of a spool being applied.
const READ_BUFFER: usize = 1024 * 1024;

/// The largest entry a spool holds. Entries are checked at the service edge to be far below
/// it; a larger length on reading means a damaged file, not a reason to allocate gigabytes.
const MAX_ENTRY_BYTES: u32 = 256 * 1024 * 1024;

/// One entry an import will write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Staged {
    /// A concept for the termbase; its `collection` is set.
    Concept(Concept),
    /// A translation unit for a memory.
    Unit {
        /// The memory.
        memory: String,
        /// The unit.
        unit: TranslationUnit,
    },
}

#[cfg(test)]
impl Staged {
    /// A unit of memory `m` with one English segment.
    pub(super) fn test_unit(id: &str, text: &str) -> Staged {
        Staged::Unit {
            memory: "m".into(),
            unit: TranslationUnit {
                id: id.into(),
                segments: vec![crate::model::Segment {
                    lang: crate::model::Lang::en(),
                    text: text.into(),
                    tags: Vec::new(),
                }],
                origin: "f.tmx".into(),
                created_ms: 1,
                metadata: Vec::new(),
            },
        }
    }
}

/// The directory of the spool files, removed when dropped if it was made for a temporary
/// store.
#[derive(Debug)]
pub(super) struct SpoolDir {
    path: PathBuf,
    temporary: bool,
}

impl SpoolDir {
    /// `imports` inside the data directory, created if needed.
    pub(super) fn open(data_dir: &Path) -> Result<SpoolDir, StoreError> {
        SpoolDir::create(data_dir.join("imports"), false)
    }

    /// A fresh directory under the system's temporary directory, for a temporary store.
    pub(super) fn temporary() -> Result<SpoolDir, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tolmach-imports-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        SpoolDir::create(std::env::temp_dir().join(name), true)
    }

    fn create(path: PathBuf, temporary: bool) -> Result<SpoolDir, StoreError> {
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Spool {
            path: path.clone(),
            source,
        })?;
        Ok(SpoolDir { path, temporary })
    }

    /// Where the spool of import `import` is.
    pub(super) fn file(&self, import: u64) -> PathBuf {
        self.path.join(keys::spool_file(import))
    }

    /// Every spool file present, by import id, in id order.
    pub(super) fn imports(&self) -> Result<Vec<u64>, StoreError> {
        let failed = |source| StoreError::Spool {
            path: self.path.clone(),
            source,
        };
        let mut imports = Vec::new();
        for entry in std::fs::read_dir(&self.path).map_err(failed)? {
            let name = entry.map_err(failed)?.file_name();
            if let Some(import) = name.to_str().and_then(keys::parse_spool_file) {
                imports.push(import);
            }
        }
        imports.sort_unstable();
        Ok(imports)
    }

    /// Removes the spool of `import`; one already gone is fine.
    pub(super) fn remove(&self, import: u64) -> Result<(), StoreError> {
        let path = self.file(import);
        match std::fs::remove_file(&path) {
            Err(source) if source.kind() != ErrorKind::NotFound => {
                Err(StoreError::Spool { path, source })
            }
            _ => Ok(()),
        }
    }

    /// Makes the directory's entries durable: a new file's name survives a crash only once
    /// its directory was synced. Not possible (nor needed) on every platform.
    fn sync(&self) -> Result<(), StoreError> {
        #[cfg(unix)]
        File::open(&self.path)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| StoreError::Spool {
                path: self.path.clone(),
                source,
            })?;
        Ok(())
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The entries an import has accepted so far, in a spool file of its own. Dropping it
/// before the import is committed removes the file: the import is abandoned.
#[derive(Debug)]
pub struct ImportSpool {
    import: u64,
    path: PathBuf,
    writer: BufWriter<File>,
    encoded: Vec<u8>,
    /// Set once the commit marker names this spool: from then on the file belongs to the
    /// commit (or to recovery), and dropping this must leave it.
    committed: bool,
}

impl ImportSpool {
    /// Creates the spool file of import `import`.
    pub(super) fn create(dir: &SpoolDir, import: u64) -> Result<ImportSpool, StoreError> {
        let path = dir.file(import);
        let failed = |source| StoreError::Spool {
            path: path.clone(),
            source,
        };
        let file = File::create(&path).map_err(failed)?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
        writer.write_all(MAGIC).map_err(failed)?;
        Ok(ImportSpool {
            import,
            path,
            writer,
            encoded: Vec::new(),
            committed: false,
        })
    }

    /// The import's id.
    pub fn import(&self) -> u64 {
        self.import
    }

    /// Appends entries in file order. Nothing reads them until the import commits, so this
    /// does not wait for the disk.
    pub fn append(&mut self, entries: &[Staged]) -> Result<(), StoreError> {
        for entry in entries {
            self.encoded.clear();
            encode_into(entry, &mut self.encoded);
            let length = u32::try_from(self.encoded.len())
                .ok()
                .filter(|&n| n <= MAX_ENTRY_BYTES)
                .ok_or_else(|| {
                    std::io::Error::new(
                        ErrorKind::InvalidInput,
                        format!("an entry of {} bytes is too large", self.encoded.len()),
                    )
                });
            length
                .and_then(|length| self.writer.write_all(&length.to_le_bytes()))
                .and_then(|()| self.writer.write_all(&self.encoded))
                .map_err(|source| StoreError::Spool {
                    path: self.path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Writes out and syncs the file and its directory entry: after this, the entries
    /// survive a crash, and a commit marker may name them.
    pub(super) fn make_durable(&mut self, dir: &SpoolDir) -> Result<(), StoreError> {
        self.writer
            .flush()
            .and_then(|()| self.writer.get_ref().sync_data())
            .map_err(|source| StoreError::Spool {
                path: self.path.clone(),
                source,
            })?;
        dir.sync()
    }

    /// Writes out what is buffered, so that a reader sees every entry appended so far.
    pub(super) fn flush(&mut self) -> Result<(), StoreError> {
        self.writer.flush().map_err(|source| StoreError::Spool {
            path: self.path.clone(),
            source,
        })
    }

    /// The spool file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Hands the file over to the commit: dropping the spool no longer removes it.
    pub(super) fn mark_committed(&mut self) {
        self.committed = true;
    }
}

impl Drop for ImportSpool {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: recovery at the next start removes a file left behind.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Reads the entries of a spool file back in order.
pub(super) struct SpoolReader {
    path: Arc<Path>,
    reader: BufReader<File>,
    /// Where the next entry starts.
    offset: u64,
}

/// An entry read back from a spool, still encoded: the apply decodes only what it must.
#[derive(Debug)]
pub(super) struct SpooledEntry {
    bytes: Vec<u8>,
    /// The spool file and where the entry starts in it, to name it should it not decode.
    path: Arc<Path>,
    offset: u64,
}

impl SpooledEntry {
    /// The entry, decoded.
    pub(super) fn decode(&self) -> Result<Staged, StoreError> {
        postcard::from_bytes(&self.bytes).map_err(|e| StoreError::SpoolCorrupt {
            path: self.path.to_path_buf(),
            offset: self.offset,
            reason: e.to_string(),
        })
    }

    /// For a unit: its memory, its id and its encoding (which is what the store writes),
    /// read without decoding it. Postcard writes `Staged::Unit` as its variant index (1), then
    /// the memory and the unit, whose first field is its id.
    pub(super) fn unit(&self) -> Option<(&str, &str, &[u8])> {
        let (&variant, rest) = self.bytes.split_first()?;
        if variant != 1 {
            return None;
        }
        let (memory, unit) = encoded_str(rest)?;
        let (id, _) = encoded_str(unit)?;
        Some((memory, id, unit))
    }
}

/// The entries of a spool read back in order, decoded, each with the size of its encoding
/// in the spool ([`super::Store::read_spool`]).
pub struct SpoolEntries(pub(super) SpoolReader);

impl Iterator for SpoolEntries {
    type Item = Result<(Staged, usize), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = match self.0.next_entry() {
            Ok(entry) => entry?,
            Err(error) => return Some(Err(error)),
        };
        Some(entry.decode().map(|staged| (staged, entry.bytes.len())))
    }
}

impl SpoolReader {
    /// Opens a spool file at the entry that starts at `offset` (0: the first entry).
    pub(super) fn open(path: PathBuf, offset: u64) -> Result<SpoolReader, StoreError> {
        let failed = |source| StoreError::Spool {
            path: path.clone(),
            source,
        };
        let mut reader = BufReader::with_capacity(READ_BUFFER, File::open(&path).map_err(failed)?);
        let mut magic = [0u8; MAGIC.len()];
        reader.read_exact(&mut magic).map_err(failed)?;
        if &magic != MAGIC {
            return Err(StoreError::SpoolCorrupt {
                path,
                offset: 0,
                reason: "not a spool file of this version".into(),
            });
        }
        let offset = offset.max(MAGIC.len() as u64);
        reader.seek(SeekFrom::Start(offset)).map_err(failed)?;
        Ok(SpoolReader {
            path: path.into(),
            reader,
            offset,
        })
    }

    /// Where the next entry starts: the offset to resume from once every entry read so far
    /// is applied.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// The next entry; `None` at the end of the file.
    pub(super) fn next_entry(&mut self) -> Result<Option<SpooledEntry>, StoreError> {
        let mut length = [0u8; 4];
        match self.reader.read_exact(&mut length[..1]) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            read => read.map_err(|e| self.read_failed(e))?,
        }
        self.reader
            .read_exact(&mut length[1..])
            .map_err(|e| self.read_failed(e))?;
        let length = u32::from_le_bytes(length);
        if length > MAX_ENTRY_BYTES {
            return Err(self.corrupt(format!("an entry claims {length} bytes")));
        }
        let mut bytes = vec![0; length as usize];
        self.reader
            .read_exact(&mut bytes)
            .map_err(|e| self.read_failed(e))?;
        let entry = SpooledEntry {
            bytes,
            path: Arc::clone(&self.path),
            offset: self.offset,
        };
        self.offset += 4 + u64::from(length);
        Ok(Some(entry))
    }

    fn read_failed(&self, source: std::io::Error) -> StoreError {
        if source.kind() == ErrorKind::UnexpectedEof {
            self.corrupt("the file ends inside an entry".into())
        } else {
            StoreError::Spool {
                path: self.path.to_path_buf(),
                source,
            }
        }
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::SpoolCorrupt {
            path: self.path.to_path_buf(),
            offset: self.offset,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str) -> Staged {
        Staged::test_unit(id, &format!("text of {id}"))
    }

    fn next_entry(reader: &mut SpoolReader) -> Option<Staged> {
        Some(reader.next_entry().unwrap()?.decode().unwrap())
    }

    fn read_all(reader: &mut SpoolReader) -> Vec<Staged> {
        std::iter::from_fn(|| next_entry(reader)).collect()
    }

    #[test]
    fn entries_read_back_in_order_and_from_a_recorded_offset() {
        let dir = SpoolDir::temporary().unwrap();
        let mut spool = ImportSpool::create(&dir, 7).unwrap();
        let entries = [unit("a"), unit("b"), unit("c")];
        spool.append(&entries).unwrap();
        spool.make_durable(&dir).unwrap();
        assert_eq!(dir.imports().unwrap(), [7]);

        let mut reader = SpoolReader::open(dir.file(7), 0).unwrap();
        assert_eq!(next_entry(&mut reader), Some(entries[0].clone()));
        let resume = reader.offset();
        assert_eq!(read_all(&mut reader), entries[1..]);
        let mut resumed = SpoolReader::open(dir.file(7), resume).unwrap();
        assert_eq!(read_all(&mut resumed), entries[1..]);
    }

    #[test]
    fn a_spooled_unit_is_read_without_decoding() {
        let dir = SpoolDir::temporary().unwrap();
        let mut spool = ImportSpool::create(&dir, 4).unwrap();
        let entry = Staged::test_unit("ид-1", "text");
        spool.append(std::slice::from_ref(&entry)).unwrap();
        spool.make_durable(&dir).unwrap();
        let mut reader = SpoolReader::open(dir.file(4), 0).unwrap();
        let spooled = reader.next_entry().unwrap().unwrap();
        let Staged::Unit { unit, .. } = entry else {
            unreachable!("a unit was spooled")
        };
        let encoded = postcard::to_stdvec(&unit).unwrap();
        assert_eq!(spooled.unit(), Some(("m", "ид-1", encoded.as_slice())));
    }

    #[test]
    fn dropping_an_uncommitted_spool_removes_its_file() {
        let dir = SpoolDir::temporary().unwrap();
        let mut spool = ImportSpool::create(&dir, 1).unwrap();
        spool.append(&[unit("a")]).unwrap();
        drop(spool);
        assert!(dir.imports().unwrap().is_empty());

        let mut spool = ImportSpool::create(&dir, 2).unwrap();
        spool.mark_committed();
        drop(spool);
        assert_eq!(dir.imports().unwrap(), [2]);
    }

    #[test]
    fn a_truncated_spool_is_reported_with_its_offset() {
        let dir = SpoolDir::temporary().unwrap();
        let mut spool = ImportSpool::create(&dir, 3).unwrap();
        spool.append(&[unit("a"), unit("b")]).unwrap();
        spool.make_durable(&dir).unwrap();
        spool.mark_committed();
        let path = dir.file(3);
        let length = std::fs::metadata(&path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(length - 3).unwrap();

        let mut reader = SpoolReader::open(path, 0).unwrap();
        assert!(next_entry(&mut reader).is_some());
        let second = reader.offset();
        let err = reader.next_entry().unwrap_err();
        assert!(
            matches!(err, StoreError::SpoolCorrupt { offset, .. } if offset == second),
            "{err}"
        );
    }
}
