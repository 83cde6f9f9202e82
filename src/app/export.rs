//! Exports: a blocking thread walks the store in key order and runs the format writer into a
//! [`Write`] that hands fixed-size chunks to the caller's sink. Memory stays bounded by one
//! entry and one chunk, whatever the size of the export.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{work, AppError, Sink};
use crate::formats::{write_csv, write_tbx, write_tmx, FormatError, TbxStyle};
use crate::model::{Concept, Lang, TranslationUnit};
use crate::store::{Store, StoreError};

/// Bytes per chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// The format concepts are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConceptFormat {
    /// TBX, in this flavour.
    Tbx(TbxStyle),
    /// Comma-separated values, one column per language.
    Csv,
    /// Tab-separated values, one column per language.
    Tsv,
}

/// What to write, checked.
#[derive(Clone, Debug)]
pub enum ExportPlan {
    /// Concepts, in a concept format.
    Concepts {
        /// The format.
        format: ConceptFormat,
        /// The collections exported; all when empty.
        collections: Vec<String>,
        /// The languages kept; all when empty.
        langs: Vec<Lang>,
        /// The subject fields exported; all when empty.
        subject_fields: Vec<String>,
    },
    /// The units of one memory, as TMX.
    Units {
        /// The memory.
        memory: String,
        /// The languages kept; all when empty.
        langs: Vec<Lang>,
        /// The TMX header's source language (`*all*` for any).
        srclang: String,
    },
}

/// One piece of an export's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The bytes.
    pub data: Vec<u8>,
    /// Entries written so far, this chunk's included.
    pub entries: u64,
}

/// Exports of one server, read from its store. Cheap to clone.
#[derive(Clone)]
pub struct Exports {
    store: Store,
}

impl Exports {
    /// Exports from `store`.
    pub fn new(store: Store) -> Exports {
        Exports { store }
    }

    /// Checks that what `plan` names exists, then writes the export on the blocking pool,
    /// handing `chunks` each chunk and, should the export fail part way, the error. Stops
    /// once `chunks` answers `false` (the client is gone).
    pub fn start(&self, plan: ExportPlan, chunks: Sink<Chunk>) -> Result<(), AppError> {
        match &plan {
            ExportPlan::Units { memory, .. } => {
                if self.store.units_after(memory, None).next().is_none() {
                    return Err(AppError::MemoryNotFound {
                        name: memory.clone(),
                    });
                }
            }
            ExportPlan::Concepts { collections, .. } => {
                let known = self.store.collections()?;
                if let Some(missing) = collections
                    .iter()
                    .find(|name| !known.iter().any(|c| &c.name == *name))
                {
                    return Err(AppError::CollectionNotFound {
                        name: missing.clone(),
                    });
                }
            }
        }
        let store = self.store.clone();
        work::detach("an export", move || write(&store, plan, chunks));
        Ok(())
    }
}

/// Writes the export `plan` from `store` into `chunks`.
fn write(store: &Store, plan: ExportPlan, chunks: Sink<Chunk>) {
    let entries = Arc::new(AtomicU64::new(0));
    let mut out = ChunkWriter {
        chunks,
        buffer: Vec::with_capacity(CHUNK_BYTES),
        entries: entries.clone(),
    };
    let mut failure: Option<StoreError> = None;
    let written = match plan {
        ExportPlan::Concepts {
            format,
            collections,
            langs,
            subject_fields,
        } => {
            let filter = ConceptFilter {
                collections,
                langs,
                subject_fields,
            };
            let columns = match format {
                ConceptFormat::Csv | ConceptFormat::Tsv => match csv_columns(&filter, store) {
                    Ok(columns) => columns,
                    Err(error) => {
                        (out.chunks)(Err(error.into()));
                        return;
                    }
                },
                ConceptFormat::Tbx(_) => Vec::new(),
            };
            let concepts = store
                .concepts_after(None)
                .map_while(|r| r.map_err(|e| failure = Some(e)).ok())
                .filter_map(|c| filter.apply(c))
                .inspect(|_| {
                    entries.fetch_add(1, Ordering::Relaxed);
                });
            match format {
                ConceptFormat::Tbx(style) => write_tbx(&mut out, concepts, style),
                ConceptFormat::Csv => write_csv(&mut out, concepts, &columns, b','),
                ConceptFormat::Tsv => write_csv(&mut out, concepts, &columns, b'\t'),
            }
        }
        ExportPlan::Units {
            memory,
            langs,
            srclang,
        } => {
            let units = store
                .units_after(&memory, None)
                .map_while(|r| r.map_err(|e| failure = Some(e)).ok())
                .filter_map(|u| keep_langs(u, &langs))
                .inspect(|_| {
                    entries.fetch_add(1, Ordering::Relaxed);
                });
            write_tmx(&mut out, units, &srclang)
        }
    };
    let error = match (failure, written) {
        (Some(error), _) => AppError::from(error),
        // The client went away: nobody to tell.
        (None, Err(FormatError::Io(_))) => return,
        (None, Err(error)) => AppError::Unwritable(error),
        // Fails only once the client is gone.
        (None, Ok(())) => {
            let _ = out.flush();
            return;
        }
    };
    (out.chunks)(Err(error));
}

/// Which concepts, and which of their languages, an export keeps.
struct ConceptFilter {
    collections: Vec<String>,
    langs: Vec<Lang>,
    subject_fields: Vec<String>,
}

impl ConceptFilter {
    fn apply(&self, mut concept: Concept) -> Option<Concept> {
        if !self.collections.is_empty() && !self.collections.contains(&concept.collection) {
            return None;
        }
        if !self.subject_fields.is_empty() && !self.subject_fields.contains(&concept.subject_field)
        {
            return None;
        }
        if !self.langs.is_empty() {
            concept
                .langs
                .retain(|s| self.langs.iter().any(|l| s.lang.accepts(l)));
            if concept.langs.is_empty() {
                return None;
            }
        }
        Some(concept)
    }
}

/// The language columns of a CSV/TSV export: those asked for, else every language of the
/// exported concepts with zh, ru and en first.
fn csv_columns(filter: &ConceptFilter, store: &Store) -> Result<Vec<Lang>, StoreError> {
    if !filter.langs.is_empty() {
        return Ok(filter.langs.clone());
    }
    let mut found: Vec<Lang> = Vec::new();
    for concept in store.concepts_after(None) {
        if let Some(concept) = filter.apply(concept?) {
            for section in concept.langs {
                if !found.contains(&section.lang) {
                    found.push(section.lang);
                }
            }
        }
    }
    let rank = |lang: &Lang| {
        ["zh", "ru", "en"]
            .iter()
            .position(|l| *l == lang.as_str())
            .unwrap_or(3)
    };
    found.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    Ok(found)
}

/// The unit with only the segments in `langs` (all when empty); `None` when fewer than two
/// remain, since a unit needs two languages to mean anything.
fn keep_langs(mut unit: TranslationUnit, langs: &[Lang]) -> Option<TranslationUnit> {
    if langs.is_empty() {
        return Some(unit);
    }
    unit.segments
        .retain(|s| langs.iter().any(|l| s.lang.accepts(l)));
    (unit.segments.len() >= 2).then_some(unit)
}

/// Hands what is written to the sink as chunks of [`CHUNK_BYTES`]; fails once the client is
/// gone, which stops the writer.
struct ChunkWriter {
    chunks: Sink<Chunk>,
    buffer: Vec<u8>,
    entries: Arc<AtomicU64>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Chunk {
            data: std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)),
            entries: self.entries.load(Ordering::Relaxed),
        };
        if (self.chunks)(Ok(chunk)) {
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the client went away",
            ))
        }
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
