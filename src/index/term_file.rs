//! The term index persisted to one file, so that a restart reads it back instead of
//! analysing every term again ([`TermSearch::checkpoint`], [`TermSearch::restore`]).
//!
//! The file is a fixed header and a body of flat little-endian arrays (`flat.rs`): the
//! current snapshot's base index and delta index (`terms/persisted.rs`) and the ids the
//! delta shadows, so that the live index comes back exactly as it was. The header holds a
//! magic, the format version, the key hash of the build that wrote it, the id of the store
//! and the store revision the index reflects, the body's length and CRC-32, and its own
//! CRC-32. Whoever reads it applies the store's changes after that revision.
//!
//! A file is written beside its final name, synced, renamed over it, and the directory
//! synced: a crash leaves the old file or the new one, never half of one. Any file that is
//! not exactly what this build wrote for this store is refused with a [`TermFileError`]
//! saying why; nothing in it can make the reader panic.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::flat::{FlatError, FlatReader, FlatWriter};
use super::key_table::hash_probe;
use super::terms::TermIndex;
use super::{Snapshot, TermSearch, WriterState};
use crate::model::Concept;

/// The file's name in the data directory.
pub const TERM_INDEX_FILE: &str = "terms.index";

/// The first bytes of every term index file.
const MAGIC: &[u8; 8] = b"TOLMTERM";

/// The layout this build writes and reads; any other is rebuilt. Version 2 holds each
/// index's automaton, version 3 the terms of each of its keys, version 4 the stem count and
/// fingerprint of each term by first stem, version 5 whether its key is its stems.
pub const FORMAT_VERSION: u32 = 5;

/// Bytes of the header.
const HEADER_BYTES: usize = 64;

/// What a term index file reflects: which store, up to which of its revisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The store's id (`Store::id`).
    pub store_id: [u8; 16],
    /// The last store revision the index holds.
    pub revision: u64,
}

/// Why a term index file could not be written or was not used.
#[derive(Debug, thiserror::Error)]
pub enum TermFileError {
    /// There is no file.
    #[error("no term index file at {0}")]
    Missing(PathBuf),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The file is shorter than its header says.
    #[error("truncated: {expected} bytes expected, {found} found")]
    Truncated {
        /// Bytes the header announces.
        expected: u64,
        /// Bytes the file has.
        found: u64,
    },
    /// The file is not a term index, or its header is damaged.
    #[error("not a term index file, or its header is damaged")]
    NotAnIndex,
    /// Written in another layout.
    #[error("format version {found}, this build reads {expected}")]
    Version {
        /// The version this build reads.
        expected: u32,
        /// The file's.
        found: u32,
    },
    /// Written by a build whose key hash differs from this one's.
    #[error("written by a build that hashes keys differently")]
    OtherBuild,
    /// Written for another store.
    #[error("written for another store")]
    OtherStore,
    /// The body's checksum does not match.
    #[error("body checksum mismatch")]
    Checksum,
    /// The body's checksum matches but its arrays do not make an index.
    #[error("body: {0}")]
    Body(#[from] FlatError),
}

impl TermSearch {
    /// Writes the current snapshot to `path`, stamped with `stamp`; answers the file's size.
    /// `stamp.revision` must be a revision whose writes the snapshot already holds (the one
    /// last published before it was taken): later writes it may also hold are applied again
    /// at restore, which changes nothing. Blocking: run it on the blocking pool.
    pub fn checkpoint(&self, path: &Path, stamp: Stamp) -> Result<u64, TermFileError> {
        let snapshot = self.snapshot();
        let mut body = FlatWriter::default();
        snapshot.base.write(&mut body);
        // The file holds one delta: the fresh index, when there is one, goes into it.
        if snapshot.fresh.concepts.is_empty() {
            snapshot.delta.write(&mut body);
        } else {
            TermIndex::build(snapshot.recent_concepts()).write(&mut body);
        }
        let changed = snapshot.changed_since_base();
        let mut ends = Vec::with_capacity(changed.len());
        let mut ids = String::new();
        for id in changed {
            ids.push_str(id);
            ends.push(ids.len() as u64);
        }
        body.u64s(&ends);
        body.bytes(ids.as_bytes());
        let header = header(stamp, &body.bytes);
        write_atomically(path, &header, &body.bytes)?;
        Ok((header.len() + body.bytes.len()) as u64)
    }

    /// The index `path` holds, if it was written for store `store_id` by a build like this
    /// one, with collection `priorities`; and the revision it reflects. Blocking.
    pub fn restore(
        path: &Path,
        store_id: [u8; 16],
        priorities: HashMap<String, i32>,
    ) -> Result<(TermSearch, u64), TermFileError> {
        let io = |source: std::io::Error| match source.kind() {
            std::io::ErrorKind::NotFound => TermFileError::Missing(path.to_path_buf()),
            _ => TermFileError::Io {
                path: path.to_path_buf(),
                source,
            },
        };
        let bytes = std::fs::read(path).map_err(io)?;
        let (stamp, body) = checked(&bytes)?;
        if stamp.store_id != store_id {
            return Err(TermFileError::OtherStore);
        }
        let mut reader = FlatReader::new(body);
        let base = TermIndex::read(&mut reader)?;
        let delta = TermIndex::read(&mut reader)?;
        let ends = reader.u64s("changed ids")?;
        let ids = reader.str("changed ids")?;
        if !reader.is_empty() {
            return Err(FlatError::Invalid {
                what: "body",
                reason: "bytes after the last array".into(),
            }
            .into());
        }
        let mut changed = HashSet::with_capacity(ends.len());
        let mut start = 0;
        for end in ends {
            let id = usize::try_from(end)
                .ok()
                .and_then(|end| ids.get(start..end).map(|id| (id, end)));
            let Some((id, end)) = id else {
                return Err(FlatError::Invalid {
                    what: "changed ids",
                    reason: "an id outside the text".into(),
                }
                .into());
            };
            changed.insert(id.to_owned());
            start = end;
        }
        let search = TermSearch::from_snapshot(base, delta, changed, priorities);
        Ok((search, stamp.revision))
    }

    /// The live index of a snapshot read back: the writer's state is made again from it.
    fn from_snapshot(
        base: TermIndex,
        delta: TermIndex,
        changed: HashSet<String>,
        priorities: HashMap<String, i32>,
    ) -> TermSearch {
        let by_id = |concepts: &[Arc<Concept>]| -> HashMap<String, Arc<Concept>> {
            concepts.iter().map(|c| (c.id.clone(), c.clone())).collect()
        };
        let written = by_id(&delta.concepts);
        let mut all: HashMap<String, Arc<Concept>> = base
            .concepts
            .iter()
            .filter(|c| !changed.contains(&c.id))
            .map(|c| (c.id.clone(), c.clone()))
            .collect();
        all.extend(written.clone());
        let recent = changed
            .iter()
            .map(|id| (id.clone(), written.get(id).cloned()))
            .collect();
        let snapshot = Snapshot::layered(
            Arc::new(base),
            Arc::new(delta),
            changed,
            priorities.clone(),
            all.len(),
        );
        TermSearch::resumed(snapshot, WriterState::new(all, recent, priorities))
    }

    /// The ids of the concepts of the given collections: what a collection deleted took
    /// with it, for a restore to apply.
    pub fn ids_in_collections(&self, collections: &HashSet<String>) -> Vec<String> {
        let state = self.lock();
        state
            .all
            .values()
            .filter(|c| collections.contains(&c.collection))
            .map(|c| c.id.clone())
            .collect()
    }
}

/// The header of a file whose body is `body`.
fn header(stamp: Stamp, body: &[u8]) -> [u8; HEADER_BYTES] {
    let mut header = [0u8; HEADER_BYTES];
    header[0..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[16..24].copy_from_slice(&hash_probe().to_le_bytes());
    header[24..40].copy_from_slice(&stamp.store_id);
    header[40..48].copy_from_slice(&stamp.revision.to_le_bytes());
    header[48..56].copy_from_slice(&(body.len() as u64).to_le_bytes());
    header[56..60].copy_from_slice(&crc32fast::hash(body).to_le_bytes());
    let own = crc32fast::hash(&header[..60]);
    header[60..64].copy_from_slice(&own.to_le_bytes());
    header
}

/// The stamp and body of a whole file, once its header and checksums are verified.
fn checked(bytes: &[u8]) -> Result<(Stamp, &[u8]), TermFileError> {
    let field = |range: std::ops::Range<usize>| &bytes[range];
    let u32_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let u64_at = |at: usize| {
        let mut le = [0u8; 8];
        le.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(le)
    };
    if bytes.len() < HEADER_BYTES
        || field(0..8) != MAGIC
        || crc32fast::hash(field(0..60)) != u32_at(60)
    {
        return Err(TermFileError::NotAnIndex);
    }
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(TermFileError::Version {
            expected: FORMAT_VERSION,
            found: version,
        });
    }
    if u64_at(16) != hash_probe() {
        return Err(TermFileError::OtherBuild);
    }
    let body = &bytes[HEADER_BYTES..];
    let expected = u64_at(48);
    if body.len() as u64 != expected {
        return Err(TermFileError::Truncated {
            expected: HEADER_BYTES as u64 + expected,
            found: bytes.len() as u64,
        });
    }
    if crc32fast::hash(body) != u32_at(56) {
        return Err(TermFileError::Checksum);
    }
    let mut store_id = [0u8; 16];
    store_id.copy_from_slice(field(24..40));
    let stamp = Stamp {
        store_id,
        revision: u64_at(40),
    };
    Ok((stamp, body))
}

/// Writes `header` and `body` to a temporary file beside `path`, syncs it, renames it to
/// `path` and syncs the directory.
fn write_atomically(path: &Path, header: &[u8], body: &[u8]) -> Result<(), TermFileError> {
    let temporary = path.with_extension("index.tmp");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TermFileError::Io { path, source }
    };
    let mut file = File::create(&temporary).map_err(io(&temporary))?;
    file.write_all(header).map_err(io(&temporary))?;
    file.write_all(body).map_err(io(&temporary))?;
    file.sync_all().map_err(io(&temporary))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::LookupQuery;
    use crate::model::{Lang, LangSection, Term};

    fn concept(id: &str, collection: &str, zh: &str, en: &str) -> Concept {
        Concept::new(
            id,
            collection,
            vec![
                LangSection::new(Lang::zh(), vec![Term::preferred(zh)]),
                LangSection::new(Lang::en(), vec![Term::preferred(en)]),
            ],
        )
    }

    fn search() -> TermSearch {
        let search = TermSearch::new(
            vec![
                concept("c1", "a", "一带一路", "Belt and Road Initiative"),
                concept(
                    "c2",
                    "a",
                    "上海合作组织",
                    "Shanghai Cooperation Organisation",
                ),
                concept("c3", "b", "人类命运共同体", "community of shared future"),
            ],
            HashMap::new(),
        );
        // A delta over the base: one concept replaced, one deleted.
        search.upserted(concept("c2", "a", "上合组织", "SCO"));
        search.deleted("c3");
        search
    }

    fn answers(search: &TermSearch) -> Vec<String> {
        let snapshot = search.snapshot();
        let mut out: Vec<String> = [
            "Belt and Road Initiative",
            "SCO",
            "Shanghai Cooperation Organisation",
            "共同体",
            "Belt and Roat",
        ]
        .into_iter()
        .flat_map(|text| {
            let query = LookupQuery {
                text: text.into(),
                source_lang: None,
                limit: 10,
                min_score: 0.5,
                collections: vec![],
                pinyin: true,
            };
            snapshot
                .lookup(&query)
                .into_iter()
                .map(move |hit| format!("{text} → {} {:?} {}", hit.concept.id, hit.kind, hit.score))
        })
        .collect();
        let text = "一带一路和上合组织, the Belt and Road Initiative and the SCO";
        out.extend(
            snapshot
                .recognize(text, None, &[])
                .into_iter()
                .map(|o| format!("{:?} {}", o.spans.bytes, o.concept.id)),
        );
        out.push(format!("{} concepts", snapshot.concept_count()));
        out
    }

    const STORE: [u8; 16] = [7; 16];

    fn written(search: &TermSearch) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TERM_INDEX_FILE);
        let stamp = Stamp {
            store_id: STORE,
            revision: 42,
        };
        search.checkpoint(&path, stamp).unwrap();
        (dir, path)
    }

    #[test]
    fn an_index_read_back_answers_as_the_one_written() {
        let search = search();
        let (_dir, path) = written(&search);
        let (read, revision) = TermSearch::restore(&path, STORE, HashMap::new()).unwrap();
        assert_eq!(revision, 42);
        assert_eq!(answers(&read), answers(&search));
        assert!(answers(&read).iter().any(|a| a.starts_with("SCO → c2")));
        // Writes go on over the index read back as over the live one.
        for s in [&search, &read] {
            s.upserted(concept("c4", "b", "丝绸之路", "Silk Road"));
            s.deleted_many(s.ids_in_collections(&HashSet::from(["a".to_owned()])));
        }
        assert_eq!(answers(&read), answers(&search));
        assert_eq!(read.snapshot().concept_count(), 1);
    }

    #[test]
    fn a_file_not_written_for_this_store_by_this_build_is_refused() {
        let (_dir, path) = written(&search());
        let refused = |bytes: &[u8], store: [u8; 16]| {
            std::fs::write(&path, bytes).unwrap();
            TermSearch::restore(&path, store, HashMap::new())
                .err()
                .unwrap()
        };
        let good = std::fs::read(&path).unwrap();
        assert!(matches!(refused(&good, [8; 16]), TermFileError::OtherStore));
        let cut = &good[..good.len() - 5];
        assert!(matches!(
            refused(cut, STORE),
            TermFileError::Truncated { .. }
        ));
        assert!(matches!(
            refused(&good[..10], STORE),
            TermFileError::NotAnIndex
        ));
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(refused(&flipped, STORE), TermFileError::Checksum));
        let mut header = good.clone();
        header[41] ^= 1;
        assert!(matches!(refused(&header, STORE), TermFileError::NotAnIndex));
        let mut version = good.clone();
        version[8..12].copy_from_slice(&1u32.to_le_bytes());
        let own = crc32fast::hash(&version[..60]);
        version[60..64].copy_from_slice(&own.to_le_bytes());
        assert!(matches!(
            refused(&version, STORE),
            TermFileError::Version { found: 1, .. }
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            TermSearch::restore(&path, STORE, HashMap::new())
                .err()
                .unwrap(),
            TermFileError::Missing(_)
        ));
    }

    /// `bytes` with its header made again for its body, as if written so.
    fn restamped(mut bytes: Vec<u8>) -> Vec<u8> {
        let stamp = Stamp {
            store_id: STORE,
            revision: 42,
        };
        let header = header(stamp, &bytes[HEADER_BYTES..]);
        bytes[..HEADER_BYTES].copy_from_slice(&header);
        bytes
    }

    /// Where the two automata are in a file of `search`: each index's body starts with its
    /// automaton's bytes, after their length.
    fn automata(search: &TermSearch, file: &[u8]) -> [std::ops::Range<usize>; 2] {
        let mut base = FlatWriter::default();
        search.snapshot().base.write(&mut base);
        let section = |at: usize| {
            let length = u64::from_le_bytes(file[at..at + 8].try_into().unwrap()) as usize;
            at + 8..at + 8 + length
        };
        [
            section(HEADER_BYTES),
            section(HEADER_BYTES + base.bytes.len()),
        ]
    }

    /// A body whose checksum was made to match garbage is still refused, never a panic:
    /// garbage in the automata's sections, and in everything else.
    #[test]
    fn a_damaged_body_with_a_matching_checksum_is_refused() {
        let search = search();
        let (_dir, path) = written(&search);
        let good = std::fs::read(&path).unwrap();
        let automata = automata(&search, &good);
        let in_automata = |at: usize| automata.iter().any(|a| a.contains(&at));
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for automaton in [false, true] {
            let mut damaged = 0;
            while damaged < 300 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = HEADER_BYTES + (seed as usize) % (good.len() - HEADER_BYTES);
                if in_automata(at) != automaton {
                    continue;
                }
                damaged += 1;
                let mut bytes = good.clone();
                bytes[at] = (seed >> 32) as u8;
                std::fs::write(&path, restamped(bytes)).unwrap();
                // Either refused, or a change the arrays cannot tell (a key's letter, a
                // prefilter's entry): no panic, no endless scan.
                if let Ok((read, _)) = TermSearch::restore(&path, STORE, HashMap::new()) {
                    answers(&read);
                }
            }
        }
    }

    #[test]
    fn a_damaged_automaton_refuses_the_file() {
        let search = search();
        let (_dir, path) = written(&search);
        let good = std::fs::read(&path).unwrap();
        for automaton in automata(&search, &good) {
            // The count of its states, zero.
            let mut bytes = good.clone();
            bytes[automaton.start..automaton.start + 4].fill(0);
            std::fs::write(&path, restamped(bytes)).unwrap();
            let refused = TermSearch::restore(&path, STORE, HashMap::new()).err();
            assert!(
                matches!(&refused, Some(TermFileError::Body(e)) if e.to_string().contains("automaton")),
                "{refused:?}"
            );
        }
    }
}
