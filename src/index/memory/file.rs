//! The memory index as a file: the byte layout a [`MemoryIndex`] is saved in and read back
//! from, so that a restart reads the index in one sequential pass instead of analyzing every
//! stored unit again. Knows nothing of where the file lives or how it is made durable (the
//! caller writes to a temporary file, syncs and renames it).
//!
//! # Layout
//!
//! All integers little-endian. A header: the magic `TOLMMIDX`, the format version
//! ([`FORMAT_VERSION`]), the 16-byte id of the store the index was built from, the memory
//! revision it reflects. Then the body: the memory names, then each part (oldest first) with
//! the slots its snapshot removed, as flat arrays (a length, then the elements). Last, a
//! CRC-32 of every byte before it, so that a flipped byte anywhere, the header included, or a
//! missing tail refuses the whole file. Lengths are checked against the bytes left in the file
//! before anything is allocated, so a damaged length cannot ask for more memory than the file
//! holds.

use std::io::{self, Read, Write};

use super::part::{Bits, Part};
use super::partition::Partition;
use super::snapshot::{LivePart, Memories, MemoryIndex};

/// The first bytes of a memory index file.
const MAGIC: &[u8; 8] = b"TOLMMIDX";

/// The layout version this build writes and reads. Bump it with any change to the layout or
/// to the meaning of a part's arrays: a file of another version is refused and rebuilt.
pub const FORMAT_VERSION: u32 = 3;

/// What a file says of itself before its body is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexFileHeader {
    /// The id of the store the index was built from.
    pub store_id: [u8; 16],
    /// The memory revision the index reflects.
    pub revision: u64,
    /// The shards whose units the index holds.
    pub partition: Partition,
}

/// Why a memory index file was not read.
#[derive(Debug, thiserror::Error)]
pub enum IndexFileError {
    /// Reading failed, or the file ended early.
    #[error("reading it failed: {0}")]
    Io(#[from] io::Error),
    /// Not a memory index file.
    #[error("it is not a memory index file (wrong magic)")]
    Magic,
    /// Written by another version of the layout.
    #[error("its format version is {found}, this build reads {supported}")]
    Version {
        /// The file's version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The caller refused the header (another store's file, a revision the store cannot
    /// bring up to date).
    #[error("{0}")]
    Refused(String),
    /// Its content does not add up: a length beyond the file, a bad value.
    #[error("it is malformed: {0}")]
    Malformed(&'static str),
    /// The checksum does not match: the file was damaged.
    #[error("its checksum does not match (damaged)")]
    Checksum,
}

impl MemoryIndex {
    /// Writes this snapshot, built from store `store_id`, to `out`, with its revision and
    /// the shards it holds.
    pub fn save(&self, out: impl Write, store_id: [u8; 16]) -> io::Result<()> {
        let mut w = Writer::new(out);
        w.bytes(MAGIC)?;
        w.u32(FORMAT_VERSION)?;
        w.bytes(&store_id)?;
        w.u64(self.revision)?;
        w.u32(self.partition.count())?;
        w.u32s(self.partition.held())?;
        w.strings(&self.memories.names)?;
        w.len(self.parts.len())?;
        for live_part in &self.parts {
            w.u64s(live_part.removed.words())?;
            live_part.part.save(&mut w)?;
        }
        w.finish()
    }

    /// Reads an index saved by [`save`](Self::save) from `input`, a file of `len` bytes;
    /// `accept` sees the header before the body is read and may refuse it.
    pub fn load(
        input: impl Read,
        len: u64,
        accept: impl FnOnce(&IndexFileHeader) -> Result<(), String>,
    ) -> Result<(IndexFileHeader, MemoryIndex), IndexFileError> {
        let mut r = Reader::new(input, len);
        let mut magic = [0u8; 8];
        r.fill(&mut magic)?;
        if &magic != MAGIC {
            return Err(IndexFileError::Magic);
        }
        let found = r.u32()?;
        if found != FORMAT_VERSION {
            return Err(IndexFileError::Version {
                found,
                supported: FORMAT_VERSION,
            });
        }
        let mut store_id = [0u8; 16];
        r.fill(&mut store_id)?;
        let revision = r.u64()?;
        let count = r.u32()?;
        let partition = Partition::new(count, r.u32s()?)
            .map_err(|_| IndexFileError::Malformed("the shards held"))?;
        let header = IndexFileHeader {
            store_id,
            revision,
            partition,
        };
        accept(&header).map_err(IndexFileError::Refused)?;
        let names = r.strings()?;
        let parts = r.len(1)?;
        let mut live_parts = Vec::with_capacity(parts);
        for _ in 0..parts {
            let removed = Bits::from_words(r.u64s()?);
            let part = Part::load(&mut r, names.len())?;
            live_parts.push(LivePart::new(part, removed));
        }
        r.finish()?;
        // A memory without a unit left is named no more, as after a rebuild: its id stays
        // taken (removed slots still carry it), and the name gets a new id if used again.
        let mut live = vec![false; names.len()];
        for live_part in &live_parts {
            for slot in (0..live_part.part.slots() as u32).filter(|&slot| live_part.alive(slot)) {
                if let Some(memory) = live_part.part.memory(slot) {
                    live[memory as usize] = true;
                }
            }
        }
        let ids = names
            .iter()
            .enumerate()
            .filter(|&(id, _)| live[id])
            .map(|(id, name)| (name.clone(), id as u32))
            .collect();
        let index = MemoryIndex {
            memories: std::sync::Arc::new(Memories { names, ids }),
            parts: live_parts,
            revision: header.revision,
            partition: std::sync::Arc::new(header.partition.clone()),
        };
        Ok((header, index))
    }
}

/// Bytes per buffered read or write of an array.
const BUFFER: usize = 1 << 16;

/// Writes the layout's primitives and keeps the checksum of everything written.
pub(super) struct Writer<W: Write> {
    out: W,
    crc: crc32fast::Hasher,
    buffer: Vec<u8>,
}

impl<W: Write> Writer<W> {
    fn new(out: W) -> Self {
        Writer {
            out,
            crc: crc32fast::Hasher::new(),
            buffer: Vec::with_capacity(BUFFER),
        }
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc.update(bytes);
        self.out.write_all(bytes)
    }

    pub(super) fn u32(&mut self, value: u32) -> io::Result<()> {
        self.bytes(&value.to_le_bytes())
    }

    pub(super) fn u64(&mut self, value: u64) -> io::Result<()> {
        self.bytes(&value.to_le_bytes())
    }

    pub(super) fn len(&mut self, len: usize) -> io::Result<()> {
        self.u64(len as u64)
    }

    /// A length and the bytes.
    pub(super) fn blob(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.len(bytes.len())?;
        self.bytes(bytes)
    }

    /// A length and the elements, each in `N` little-endian bytes.
    fn array<T: Copy, const N: usize>(
        &mut self,
        items: &[T],
        encode: impl Fn(T) -> [u8; N],
    ) -> io::Result<()> {
        self.len(items.len())?;
        for chunk in items.chunks(BUFFER / N) {
            let mut buffer = std::mem::take(&mut self.buffer);
            buffer.clear();
            buffer.extend(chunk.iter().flat_map(|&item| encode(item)));
            let written = self.bytes(&buffer);
            self.buffer = buffer;
            written?;
        }
        Ok(())
    }

    pub(super) fn u32s(&mut self, items: &[u32]) -> io::Result<()> {
        self.array(items, u32::to_le_bytes)
    }

    pub(super) fn u64s(&mut self, items: &[u64]) -> io::Result<()> {
        self.array(items, u64::to_le_bytes)
    }

    pub(super) fn usizes(&mut self, items: &[usize]) -> io::Result<()> {
        self.array(items, |item| (item as u64).to_le_bytes())
    }

    /// Strings as one blob of their bytes and the array of where each ends.
    pub(super) fn strings<S: AsRef<str>>(&mut self, items: &[S]) -> io::Result<()> {
        let mut ends = Vec::with_capacity(items.len());
        let mut text = String::new();
        for item in items {
            text.push_str(item.as_ref());
            ends.push(text.len() as u64);
        }
        self.u64s(&ends)?;
        self.blob(text.as_bytes())
    }

    /// Writes the checksum and flushes.
    fn finish(mut self) -> io::Result<()> {
        let crc = self.crc.clone().finalize();
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()
    }
}

/// Reads the layout's primitives, keeps the checksum of everything read, and refuses a length
/// beyond what is left of the file.
pub(super) struct Reader<R: Read> {
    input: R,
    crc: crc32fast::Hasher,
    /// Bytes left before the checksum.
    left: u64,
    buffer: Vec<u8>,
}

impl<R: Read> Reader<R> {
    fn new(input: R, len: u64) -> Self {
        Reader {
            input,
            crc: crc32fast::Hasher::new(),
            left: len.saturating_sub(4),
            buffer: vec![0; BUFFER],
        }
    }

    pub(super) fn fill(&mut self, into: &mut [u8]) -> Result<(), IndexFileError> {
        self.left = self
            .left
            .checked_sub(into.len() as u64)
            .ok_or(IndexFileError::Malformed("the file ends early"))?;
        self.input.read_exact(into)?;
        self.crc.update(into);
        Ok(())
    }

    pub(super) fn u32(&mut self) -> Result<u32, IndexFileError> {
        let mut bytes = [0u8; 4];
        self.fill(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    pub(super) fn u64(&mut self) -> Result<u64, IndexFileError> {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// A length of items of `size` bytes each, refused if they cannot fit in the file.
    pub(super) fn len(&mut self, size: u64) -> Result<usize, IndexFileError> {
        let len = self.u64()?;
        if len.saturating_mul(size.max(1)) > self.left {
            return Err(IndexFileError::Malformed(
                "a length beyond the end of the file",
            ));
        }
        usize::try_from(len).map_err(|_| IndexFileError::Malformed("a length beyond memory"))
    }

    pub(super) fn blob(&mut self) -> Result<Vec<u8>, IndexFileError> {
        let len = self.len(1)?;
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    fn array<T, const N: usize>(
        &mut self,
        decode: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, IndexFileError> {
        let len = self.len(N as u64)?;
        let mut items = Vec::with_capacity(len);
        let mut buffer = std::mem::take(&mut self.buffer);
        let mut read = Ok(());
        while items.len() < len {
            let take = (len - items.len()).min(BUFFER / N);
            let bytes = &mut buffer[..take * N];
            read = self.fill(bytes);
            if read.is_err() {
                break;
            }
            items.extend(bytes.chunks_exact(N).map(|chunk| {
                let mut item = [0u8; N];
                item.copy_from_slice(chunk);
                decode(item)
            }));
        }
        self.buffer = buffer;
        read.map(|()| items)
    }

    pub(super) fn u32s(&mut self) -> Result<Vec<u32>, IndexFileError> {
        self.array(u32::from_le_bytes)
    }

    pub(super) fn u64s(&mut self) -> Result<Vec<u64>, IndexFileError> {
        self.array(u64::from_le_bytes)
    }

    pub(super) fn usizes(&mut self) -> Result<Vec<usize>, IndexFileError> {
        let items = self.u64s()?;
        items
            .into_iter()
            .map(|item| usize::try_from(item).map_err(|_| IndexFileError::Malformed("an offset")))
            .collect()
    }

    /// Strings written by [`Writer::strings`].
    pub(super) fn strings(&mut self) -> Result<Vec<String>, IndexFileError> {
        let ends = self.u64s()?;
        let text = String::from_utf8(self.blob()?)
            .map_err(|_| IndexFileError::Malformed("text that is not UTF-8"))?;
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                let end = usize::try_from(end).unwrap_or(usize::MAX);
                let item = text
                    .get(start..end)
                    .ok_or(IndexFileError::Malformed("a string's bounds"))?;
                start = end;
                Ok(item.to_owned())
            })
            .collect()
    }

    /// Checks that the file ends with the checksum of what was read.
    fn finish(mut self) -> Result<(), IndexFileError> {
        if self.left != 0 {
            return Err(IndexFileError::Malformed("bytes after the body"));
        }
        let expected = self.crc.clone().finalize();
        let mut bytes = [0u8; 4];
        self.input.read_exact(&mut bytes)?;
        if u32::from_le_bytes(bytes) != expected {
            return Err(IndexFileError::Checksum);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::index::memory::{HeldUnits, MemoryQuery};
    use crate::model::{Lang, Segment, TranslationUnit};

    const STORE_ID: [u8; 16] = [7; 16];
    const REVISION: u64 = 42;

    fn unit(n: usize) -> Arc<TranslationUnit> {
        let segment = |lang: &str, text: String| Segment {
            lang: Lang::parse(lang).unwrap_or_else(|_| Lang::en()),
            text,
            tags: vec![],
        };
        Arc::new(TranslationUnit {
            id: format!("u{n}"),
            segments: vec![
                segment("zh-CN", format!("第{n}号关于今年收成的报告")),
                segment("ru", format!("Доклад номер {n} об урожае этого года")),
                segment("en", format!("Report {n} on the harvest of year {}", n % 7)),
            ],
            origin: String::new(),
            created_ms: n as i64,
            metadata: vec![],
        })
    }

    /// The units of [`index`], as the store holds them.
    fn stored() -> HeldUnits {
        let mut held = HeldUnits::default();
        (0..300)
            .chain(500..510)
            .for_each(|n| held.insert("a", unit(n)));
        (300..340).for_each(|n| held.insert("b", unit(n)));
        held
    }

    /// Several parts, removed slots, two memories: every structure a file holds.
    fn index() -> MemoryIndex {
        let mut index = MemoryIndex::new();
        index.insert_many("a", (0..300).map(unit));
        index.insert_many("b", (300..340).map(unit));
        index.insert_many("a", (500..510).map(unit));
        index.remove("a", "u17");
        index.insert("a", unit(250));
        index.insert("gone", unit(900));
        index.remove("gone", "u900");
        index.set_revision(REVISION);
        index
    }

    fn answers(index: &MemoryIndex) -> Vec<String> {
        [
            ("第17号关于今年收成的报告", "zh", "en"),
            ("Report 305 on the harvest of year 4", "en", "ru"),
            ("Доклад номер 505 об урожае", "ru", "zh"),
        ]
        .into_iter()
        .map(|(text, source, target)| {
            let query = MemoryQuery {
                text: text.into(),
                source: Lang::parse(source).unwrap_or_else(|_| Lang::en()),
                target: Lang::parse(target).unwrap_or_else(|_| Lang::en()),
                limit: 10,
                min_score: 0.5,
                memories: vec![],
            };
            format!("{:?}", index.search(&query, &stored()))
        })
        .collect()
    }

    fn saved(index: &MemoryIndex) -> Vec<u8> {
        let mut bytes = Vec::new();
        index.save(&mut bytes, STORE_ID).unwrap_or_default();
        bytes
    }

    fn load(bytes: &[u8]) -> Result<(IndexFileHeader, MemoryIndex), IndexFileError> {
        MemoryIndex::load(bytes, bytes.len() as u64, |_| Ok(()))
    }

    #[test]
    fn a_saved_index_loads_with_the_same_answers() {
        let index = index();
        assert!(index.parts.len() > 1, "several parts");
        let bytes = saved(&index);
        let Ok((header, loaded)) = load(&bytes) else {
            panic!("the file loads");
        };
        let expected = IndexFileHeader {
            store_id: STORE_ID,
            revision: REVISION,
            partition: Partition::whole(),
        };
        assert_eq!(header, expected);
        assert_eq!(loaded.revision(), REVISION);
        assert_eq!(loaded.len(), index.len());
        assert_eq!(index.memory_names(), ["a", "b", "gone"]);
        assert_eq!(
            loaded.memory_names(),
            ["a", "b"],
            "a memory without units goes"
        );
        assert_eq!(answers(&loaded), answers(&index));
        assert!(!answers(&index)[0].contains("\"u17\""), "u17 stays removed");
        // And it saves to the same bytes again.
        assert_eq!(saved(&loaded), bytes);
    }

    #[test]
    fn every_flipped_byte_or_missing_tail_is_refused() {
        let bytes = saved(&index());
        for at in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(load(&damaged).is_err(), "byte {at} flipped");
        }
        for cut in [1, 4, 5, bytes.len() / 2, bytes.len() - 10] {
            assert!(load(&bytes[..bytes.len() - cut]).is_err(), "{cut} cut");
        }
    }

    #[test]
    fn the_header_is_shown_before_the_body_is_read() {
        let bytes = saved(&index());
        let refused = MemoryIndex::load(bytes.as_slice(), bytes.len() as u64, |header| {
            Err(format!("revision {}", header.revision))
        });
        assert!(matches!(refused, Err(IndexFileError::Refused(why)) if why == "revision 42"));
    }
}
