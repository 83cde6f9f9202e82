//! One export: checks the request, then a blocking thread walks the store in key order and
//! runs the format writer into a [`Write`] that sends fixed-size chunks down the response
//! stream. Memory stays bounded by one entry and one chunk, whatever the size of the export.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tonic::Status;

use super::ExchangeService;
use crate::app::work;
use crate::formats::{write_csv, write_tbx, write_tmx, FormatError, TbxStyle};
use crate::model::Violations;
use crate::model::{Concept, Lang, TranslationUnit};
use crate::service::proto;
use crate::store::StoreError;

/// Bytes per chunk sent.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks buffered towards a slow client.
const CHUNK_CHANNEL: usize = 8;

type Chunks = mpsc::Sender<Result<proto::ExportChunk, Status>>;

/// What to write, checked.
enum Plan {
    Concepts {
        format: proto::FileFormat,
        collections: Vec<String>,
        langs: Vec<Lang>,
        subject_fields: Vec<String>,
    },
    Units {
        memory: String,
        langs: Vec<Lang>,
        srclang: String,
    },
}

fn check(request: proto::ExportRequest) -> Result<Plan, Status> {
    let mut violations = Violations::default();
    let langs = violations.langs("langs", &request.langs);
    violations.identifiers("collections", &request.collections);
    let format = proto::FileFormat::try_from(request.format);
    let plan = match format {
        Ok(proto::FileFormat::Tmx) => {
            violations.identifier("memory", &request.memory);
            if !request.collections.is_empty() || !request.subject_fields.is_empty() {
                violations.add(
                    "collections",
                    "TMX exports a memory; collections and subject fields are for concepts",
                );
            }
            if !request.srclang.is_empty() && request.srclang != "*all*" {
                violations.lang("srclang", &request.srclang);
            }
            Some(Plan::Units {
                memory: request.memory,
                langs,
                srclang: match request.srclang.as_str() {
                    "" => "*all*".to_owned(),
                    given => given.to_owned(),
                },
            })
        }
        Ok(
            format @ (proto::FileFormat::Tbx
            | proto::FileFormat::Tbx2008
            | proto::FileFormat::Csv
            | proto::FileFormat::Tsv),
        ) => {
            if !request.memory.is_empty() {
                violations.add(
                    "memory",
                    "only TMX exports a memory; TBX, CSV and TSV export collections",
                );
            }
            Some(Plan::Concepts {
                format,
                collections: request.collections,
                langs,
                subject_fields: request.subject_fields,
            })
        }
        Ok(proto::FileFormat::Unspecified) => {
            violations.add("format", "is required: TBX, TBX 2008, TMX, CSV or TSV");
            None
        }
        Err(_) => {
            violations.add("format", format!("{} is not a format", request.format));
            None
        }
    };
    Ok(violations.into_checked(plan)?)
}

/// Checks the request and starts writing; the chunks follow on the returned channel.
pub(super) fn start(
    service: &ExchangeService,
    request: proto::ExportRequest,
) -> Result<mpsc::Receiver<Result<proto::ExportChunk, Status>>, Status> {
    let plan = check(request)?;
    match &plan {
        Plan::Units { memory, .. } => {
            if service.store.units_after(memory, None).next().is_none() {
                return Err(Status::not_found(format!("memory {memory:?} has no units")));
            }
        }
        Plan::Concepts { collections, .. } => {
            let known = service.store.collections()?;
            if let Some(missing) = collections
                .iter()
                .find(|name| !known.iter().any(|c| &c.name == *name))
            {
                return Err(Status::not_found(format!("no collection {missing:?}")));
            }
        }
    }
    let (sender, receiver) = mpsc::channel(CHUNK_CHANNEL);
    let store = service.store.clone();
    work::detach("an export", move || {
        let entries = Arc::new(AtomicU64::new(0));
        let mut out = ChunkWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
            entries: entries.clone(),
        };
        let mut failure: Option<StoreError> = None;
        let written = match plan {
            Plan::Concepts {
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
                    proto::FileFormat::Csv | proto::FileFormat::Tsv => {
                        match csv_columns(&filter, &store) {
                            Ok(columns) => columns,
                            Err(error) => {
                                let _ = sender.blocking_send(Err(error.into()));
                                return;
                            }
                        }
                    }
                    _ => Vec::new(),
                };
                let concepts = store
                    .concepts_after(None)
                    .map_while(|r| r.map_err(|e| failure = Some(e)).ok())
                    .filter_map(|c| filter.apply(c))
                    .inspect(|_| {
                        entries.fetch_add(1, Ordering::Relaxed);
                    });
                match format {
                    proto::FileFormat::Tbx => write_tbx(&mut out, concepts, TbxStyle::V3Basic),
                    proto::FileFormat::Tbx2008 => write_tbx(&mut out, concepts, TbxStyle::V2Martif),
                    proto::FileFormat::Csv => write_csv(&mut out, concepts, &columns, b','),
                    _ => write_csv(&mut out, concepts, &columns, b'\t'),
                }
            }
            Plan::Units {
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
        let result = match (failure, written) {
            (Some(error), _) => Err(Status::from(error)),
            (None, Err(FormatError::Io(_))) => return, // the client went away
            (None, Err(error)) => Err(Status::failed_precondition(format!(
                "a stored entry cannot be written in this format: {error}"
            ))),
            (None, Ok(())) => out
                .flush()
                .map_err(|_| Status::cancelled("client went away")),
        };
        if let Err(status) = result {
            let _ = sender.blocking_send(Err(status));
        }
    });
    Ok(receiver)
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
fn csv_columns(
    filter: &ConceptFilter,
    store: &crate::store::Store,
) -> Result<Vec<Lang>, StoreError> {
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

/// Sends what is written as chunks of [`CHUNK_BYTES`]; fails once the client is gone, which
/// stops the writer.
struct ChunkWriter {
    sender: Chunks,
    buffer: Vec<u8>,
    entries: Arc<AtomicU64>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = proto::ExportChunk {
            data: std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)),
            entries: self.entries.load(Ordering::Relaxed),
        };
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
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
