//! One import: the header's checks and the import's admission, then a blocking thread that
//! reads the upload entry by entry, checks each entry with the domain's checks (as the unary
//! API does), spools the sound ones, and has the application commit them (or not) when the
//! file is done ([`Imports::commit_concepts`], [`Imports::commit_units`]).
//!
//! A large memory import keeps both cores busy from start to end:
//! - while the file is read, the spooled units are also analyzed for the memory index, on
//!   other threads ([`Analysis`]);
//! - while the commit writes them, another thread resolves the next batches against the store
//!   (`store/apply.rs`), and the index part's search structures are built;
//! - at the end, only the part's id table waits for what the commit kept.

use std::io::{BufReader, Cursor, Read};
use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tonic::Status;

use super::upload::{Broken, Upload, UploadState};
use crate::app::import::{Analysis, Imports};
use crate::app::work;
use crate::app::{check, now_ms};
use crate::formats::{
    detect_format, ConceptEntry, CsvOptions, CsvReader, Format, FormatError, ReadWarning,
    TbxReader, TmxReader,
};
use crate::model::violation::MAX_TERM_BYTES;
use crate::model::{Concept, OnConflict, TranslationUnit, Violations};
use crate::service::proto::{self, entry_problem::Severity, import_event::Event};
use crate::store::{content_id, unit_content_id, ImportCounts, ImportSpool, Staged};
use crate::text;

/// Entries checked and queued before they are spooled (or previewed, in a dry run) together.
const STAGE_BATCH: usize = 1000;
/// A progress event at least this often, in entries.
const PROGRESS_EVERY: u64 = 10_000;
/// Problems that trigger a progress event before `PROGRESS_EVERY` entries.
const PROBLEMS_PER_EVENT: usize = 256;
/// Problems repeated in the final report.
const REPORT_PROBLEMS: usize = 1000;
/// Bytes looked at to detect the format.
const PEEK_BYTES: usize = 4096;
/// Read buffer of the format readers.
const READ_BUFFER: usize = 64 * 1024;
/// Events buffered towards a slow client.
const EVENT_CHANNEL: usize = 16;

/// Where an import's entries go.
#[derive(Clone, Debug)]
enum Target {
    Collection(String),
    Memory(String),
}

/// The header, checked.
#[derive(Clone, Debug)]
struct Plan {
    format: Option<Format>,
    file_name: String,
    target: Target,
    strict: bool,
    on_conflict: OnConflict,
    dry_run: bool,
    skip_empty_terms: bool,
    expected_bytes: u64,
}

impl Plan {
    fn check(header: proto::ImportHeader) -> Result<Plan, Status> {
        let mut violations = Violations::default();
        violations.max_len("header.file_name", &header.file_name, MAX_TERM_BYTES);
        let target = match header.target {
            Some(proto::import_header::Target::Collection(name)) => {
                violations.identifier("header.collection", &name);
                Some(Target::Collection(name))
            }
            Some(proto::import_header::Target::Memory(name)) => {
                violations.identifier("header.memory", &name);
                Some(Target::Memory(name))
            }
            None => {
                violations.add("header.target", "set either collection or memory");
                None
            }
        };
        let format = match proto::FileFormat::try_from(header.format) {
            Ok(proto::FileFormat::Unspecified) => None,
            Ok(proto::FileFormat::Tbx | proto::FileFormat::Tbx2008) => Some(Format::Tbx),
            Ok(proto::FileFormat::Tmx) => Some(Format::Tmx),
            Ok(proto::FileFormat::Csv) => Some(Format::Csv),
            Ok(proto::FileFormat::Tsv) => Some(Format::Tsv),
            Err(_) => {
                violations.add(
                    "header.format",
                    format!("{} is not a format", header.format),
                );
                None
            }
        };
        let strict = match proto::ImportMode::try_from(header.mode) {
            Ok(proto::ImportMode::BestEffort) => false,
            Ok(_) => true,
            Err(_) => {
                violations.add("header.mode", format!("{} is not a mode", header.mode));
                true
            }
        };
        let on_conflict = match proto::OnConflict::try_from(header.on_conflict) {
            Ok(proto::OnConflict::Replace) => OnConflict::Replace,
            Ok(proto::OnConflict::Skip) => OnConflict::Skip,
            Ok(_) => OnConflict::Merge,
            Err(_) => {
                violations.add(
                    "header.on_conflict",
                    format!("{} is not a conflict rule", header.on_conflict),
                );
                OnConflict::Merge
            }
        };
        if let (Some(format), Some(target)) = (format, &target) {
            check_target(format, target, &mut violations);
        }
        let target = violations.into_checked(target)?;
        Ok(Plan {
            format,
            file_name: header.file_name,
            target,
            strict,
            on_conflict,
            dry_run: header.dry_run,
            skip_empty_terms: header.skip_empty_terms,
            expected_bytes: header.expected_bytes,
        })
    }
}

/// TMX holds units for a memory; every other format holds concepts for a collection.
fn check_target(format: Format, target: &Target, violations: &mut Violations) {
    match (format, target) {
        (Format::Tmx, Target::Collection(_)) => violations.add(
            "header.collection",
            "a TMX file holds translation units: import it into a memory",
        ),
        (Format::Tbx | Format::Csv | Format::Tsv, Target::Memory(_)) => violations.add(
            "header.memory",
            "a TBX, CSV or TSV file holds concepts: import it into a collection",
        ),
        _ => {}
    }
}

fn format_to_proto(format: Format) -> proto::FileFormat {
    match format {
        Format::Tbx => proto::FileFormat::Tbx,
        Format::Tmx => proto::FileFormat::Tmx,
        Format::Csv => proto::FileFormat::Csv,
        Format::Tsv => proto::FileFormat::Tsv,
    }
}

/// Checks the header and starts the import; the events follow on the returned channel.
pub(super) async fn start(
    imports: Imports,
    mut inbound: tonic::Streaming<proto::ImportRequest>,
) -> Result<mpsc::Receiver<Result<proto::ImportEvent, Status>>, Status> {
    let header = match inbound.message().await? {
        Some(proto::ImportRequest {
            message: Some(proto::import_request::Message::Header(header)),
        }) => header,
        Some(_) => {
            return Err(Status::invalid_argument(
                "invalid request: header: the first message must be the header",
            ))
        }
        None => {
            return Err(Status::invalid_argument(
                "invalid request: header: the stream ended before the header",
            ))
        }
    };
    let plan = Plan::check(header)?;
    // Held until the import ends: each reads, checks, spools and analyzes a whole file.
    let admitted = imports.admit()?;
    let (events, receiver) = mpsc::channel(EVENT_CHANNEL);
    let (upload, state) = Upload::start(inbound);
    let runtime = tokio::runtime::Handle::current();
    work::detach("an import", move || {
        let mut import = Import {
            admitted: Some(admitted),
            imports,
            plan,
            events,
            runtime,
            state,
            id: None,
            spool: None,
            analysis: None,
            pending: Vec::with_capacity(STAGE_BATCH),
            progress: proto::ImportProgress::default(),
            report: proto::ImportReport::default(),
            preview: ImportCounts::default(),
            claimed: Vec::new(),
        };
        if let Err(status) = import.run(upload) {
            import.abandon();
            import.admitted = None;
            let _ = import.events.blocking_send(Err(status));
        }
    });
    Ok(receiver)
}

/// One entry of any format, with where it starts.
struct ReadEntry {
    entry: Entry,
    line: u64,
    column: u64,
    warnings: Vec<ReadWarning>,
    generated_id: bool,
}

impl From<ConceptEntry> for ReadEntry {
    fn from(e: ConceptEntry) -> ReadEntry {
        ReadEntry {
            entry: Entry::Concept(e.concept),
            line: e.line,
            column: e.column,
            warnings: e.warnings,
            generated_id: e.generated_id,
        }
    }
}

enum Entry {
    Concept(Concept),
    Unit(TranslationUnit),
}

type Entries = Box<dyn Iterator<Item = Result<ReadEntry, FormatError>>>;

fn entries(format: Format, input: impl std::io::BufRead + 'static, skip_empty: bool) -> Entries {
    let csv = |delimiter: u8| CsvOptions {
        delimiter: Some(delimiter),
        ..CsvOptions::default()
    };
    match format {
        Format::Tbx => Box::new(
            TbxReader::new(input)
                .skip_empty_terms(skip_empty)
                .map(|r| r.map(ReadEntry::from)),
        ),
        Format::Tmx => Box::new(TmxReader::new(input).map(|r| {
            r.map(|e| ReadEntry {
                generated_id: e.unit.id.is_empty(),
                entry: Entry::Unit(e.unit),
                line: e.line,
                column: e.column,
                warnings: e.warnings,
            })
        })),
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            Box::new(CsvReader::with_options(input, csv(delimiter)).map(|r| r.map(ReadEntry::from)))
        }
    }
}

struct Import {
    imports: Imports,
    plan: Plan,
    events: mpsc::Sender<Result<proto::ImportEvent, Status>>,
    runtime: tokio::runtime::Handle,
    state: Arc<UploadState>,
    /// The store's import id, once the first entry is spooled.
    id: Option<u64>,
    /// Where the accepted entries wait for the commit.
    spool: Option<ImportSpool>,
    /// The memory index analysis of the spooled units, for a memory import.
    analysis: Option<Analysis>,
    pending: Vec<Staged>,
    progress: proto::ImportProgress,
    report: proto::ImportReport,
    /// What a dry run would do.
    preview: ImportCounts,
    /// The concept ids this import claimed, given back when it ends.
    claimed: Vec<String>,
    /// This import's admission, given back before the client hears the end, so that a
    /// client that then starts its next import finds the permit free.
    admitted: Option<OwnedSemaphorePermit>,
}

impl Drop for Import {
    fn drop(&mut self) {
        self.imports.claims().release(&self.claimed);
    }
}

impl Import {
    fn run(&mut self, mut upload: Upload) -> Result<(), Status> {
        let first = upload.peek(PEEK_BYTES).map_err(|_| self.upload_failure())?;
        let format = match self.plan.format {
            Some(format) => format,
            None => {
                let format = detect_format(&first, Some(&self.plan.file_name))
                    .ok_or_else(|| Status::invalid_argument(
                        "invalid request: header.format: the file is not recognizably TBX, TMX, CSV or TSV; name the format",
                    ))?;
                let mut violations = Violations::default();
                check_target(format, &self.plan.target, &mut violations);
                violations.into_result(())?;
                format
            }
        };
        self.report.format = format_to_proto(format) as i32;
        self.report.dry_run = self.plan.dry_run;
        let input = BufReader::with_capacity(READ_BUFFER, Cursor::new(first).chain(upload));
        let mut fatal = false;
        for item in entries(format, input, self.plan.skip_empty_terms) {
            match item {
                Ok(read) => self.accept(read)?,
                Err(error) if !error.is_fatal() => {
                    self.progress.entries_read += 1;
                    self.progress.rejected += 1;
                    self.problem(Severity::Rejected, &error, String::new());
                }
                Err(error) => {
                    if self.state.broken().is_some() {
                        return Err(self.upload_failure());
                    }
                    self.problem(Severity::Fatal, &error, String::new());
                    fatal = true;
                    break;
                }
            }
            if self.pending.len() >= STAGE_BATCH {
                self.stage()?;
            }
            if self.progress.entries_read.is_multiple_of(PROGRESS_EVERY)
                || self.progress.problems.len() >= PROBLEMS_PER_EVENT
            {
                self.send_progress()?;
            }
        }
        if let Some(broken) = self.state.broken() {
            return Err(broken_status(broken));
        }
        // The announced size is checked only against what is known: the whole upload when the
        // reader reached its end, or more bytes than announced already read. A reader stopped
        // by a fatal error leaves the rest unread, and then the fatal error and the report are
        // the answer (in best effort, with the entries read before it committed).
        let bytes = self.state.bytes_read();
        let expected = self.plan.expected_bytes;
        if expected != 0 && ((self.state.ended() && bytes != expected) || bytes > expected) {
            return Err(Status::invalid_argument(format!(
                "invalid request: header.expected_bytes: the header announced {expected} bytes, the upload \
                 ended after {bytes}; nothing was imported",
            )));
        }
        self.stage()?;
        self.send_progress()?;
        self.finish(fatal)
    }

    /// Checks one entry as the unary API would and queues it for staging.
    fn accept(&mut self, read: ReadEntry) -> Result<(), Status> {
        self.progress.entries_read += 1;
        for warning in &read.warnings {
            // A warning is about an element (or row) inside the entry: report where it is
            // rather than the entry's start.
            self.push_problem(problem(
                Severity::Warning,
                warning.line,
                warning.column,
                entry_id(&read.entry),
                warning.message.clone(),
            ));
            self.report.warnings += 1;
        }
        let prepared = match read.entry {
            Entry::Concept(concept) => self
                .prepare_concept(concept, read.generated_id)
                .map(Staged::Concept),
            Entry::Unit(unit) => self.prepare_unit(unit).map(|unit| Staged::Unit {
                memory: self.target_name().to_owned(),
                unit,
            }),
        };
        match prepared {
            Ok(staged) => {
                self.progress.accepted += 1;
                self.pending.push(staged);
            }
            Err((id, reason)) => {
                self.progress.rejected += 1;
                self.push_problem(problem(
                    Severity::Rejected,
                    read.line,
                    read.column,
                    id,
                    reason,
                ));
            }
        }
        Ok(())
    }

    fn target_name(&self) -> &str {
        match &self.plan.target {
            Target::Collection(name) | Target::Memory(name) => name,
        }
    }

    fn prepare_concept(
        &mut self,
        mut concept: Concept,
        generated_id: bool,
    ) -> Result<Concept, (String, String)> {
        let collection = self.target_name().to_owned();
        if generated_id {
            concept.id = content_id(
                &format!("{collection}-"),
                concept
                    .terms()
                    .map(|(lang, t)| (lang.to_string(), text::content_key(&t.text))),
            );
        }
        concept.collection = collection;
        let id = concept.id.clone();
        let mut violations = Violations::default();
        let mut concept = check::concept(concept, "entry", &mut violations);
        if let Err(invalid) = violations.into_result(()) {
            return Err((id, invalid.reasons()));
        }
        // Ids are unique across collections: a file's id that another collection already uses,
        // or that an import in progress will write into another collection, is qualified by
        // this collection's name instead of taking that concept over. The claim comes first:
        // an import that commits meanwhile is then seen by its claim or in the store.
        let claims = self.imports.claims();
        let claimed = self.plan.dry_run || claims.claim(&concept.id, &concept.collection);
        let taken = self
            .imports
            .store()
            .concept_collection(&concept.id)
            .map_err(|e| (id.clone(), e.to_string()))?;
        let ours = claimed && taken.is_none_or(|other| other == concept.collection);
        if !self.plan.dry_run && claimed {
            if ours {
                self.claimed.push(concept.id.clone());
            } else {
                claims.release([&concept.id]);
            }
        }
        if !ours {
            concept.id = format!("{}.{}", concept.collection, concept.id);
        }
        Ok(concept)
    }

    fn prepare_unit(&self, mut unit: TranslationUnit) -> Result<TranslationUnit, (String, String)> {
        if unit.id.is_empty() {
            unit.id = unit_content_id(&unit);
        }
        if unit.origin.is_empty() {
            unit.origin = self.plan.file_name.clone();
        }
        if unit.created_ms == 0 {
            unit.created_ms = now_ms();
        }
        let mut violations = Violations::default();
        check::unit(&unit, "entry", &mut violations);
        match violations.into_result(()) {
            Err(invalid) => Err((unit.id, invalid.reasons())),
            Ok(()) => Ok(unit),
        }
    }

    /// Writes the queued entries to the spool (or previews them in a dry run). A strict
    /// import that has rejected anything stops writing: it will not commit.
    fn stage(&mut self) -> Result<(), Status> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut entries = std::mem::take(&mut self.pending);
        if self.plan.dry_run {
            let counts = self
                .imports
                .store()
                .preview(&entries, self.plan.on_conflict)?;
            self.preview.add(counts);
        } else if !(self.plan.strict && self.progress.rejected > 0) {
            let spool = match &mut self.spool {
                Some(spool) => spool,
                None => {
                    let spool = self.imports.store().begin_import()?;
                    self.id = Some(spool.import());
                    self.spool.insert(spool)
                }
            };
            spool.append(&entries)?;
            if let Target::Memory(memory) = &self.plan.target {
                let store = self.imports.store();
                let analysis = match &mut self.analysis {
                    Some(analysis) => analysis,
                    None => self.analysis.insert(Analysis::start(store, memory)?),
                };
                let units = entries.drain(..).filter_map(|entry| match entry {
                    Staged::Unit { unit, .. } => Some(unit),
                    Staged::Concept(_) => None,
                });
                analysis.send(store, memory, units)?;
            }
        } else {
            // This import will not commit: nothing to analyze any more.
            self.analysis = None;
        }
        self.pending = entries;
        self.pending.clear();
        Ok(())
    }

    /// Commits, or refuses, once the whole file is read; sends the report.
    fn finish(&mut self, fatal: bool) -> Result<(), Status> {
        // A file unreadable before its first entry (an unsupported encoding, not the format
        // it claims to be, broken inside the first entry) has nothing sound to keep: best
        // effort too refuses it, rather than answering success with nothing imported.
        let unreadable = fatal && self.progress.entries_read == 0;
        let refused = unreadable || (self.plan.strict && (self.progress.rejected > 0 || fatal));
        let counts = if self.plan.dry_run || refused {
            self.abandon();
            self.preview
        } else {
            let started = std::time::Instant::now();
            let counts = self.commit()?;
            tracing::info!(
                target = self.target_name(),
                entries = self.progress.accepted,
                added = counts.added,
                updated = counts.updated,
                commit_seconds = started.elapsed().as_secs_f64(),
                "import committed"
            );
            counts
        };
        self.report.committed = !(self.plan.dry_run || refused);
        self.report.import_id = self.id.map(|id| format!("{id:016x}")).unwrap_or_default();
        self.report.bytes_read = self.state.bytes_read();
        self.report.entries_read = self.progress.entries_read;
        self.report.accepted = self.progress.accepted;
        self.report.rejected = self.progress.rejected;
        self.report.added = counts.added;
        self.report.updated = counts.updated;
        self.report.unchanged = counts.unchanged;
        self.report.skipped = counts.skipped;
        let summary = refused.then(|| refusal(&self.report));
        let report = std::mem::take(&mut self.report);
        self.admitted = None;
        let _ = self.events.blocking_send(Ok(proto::ImportEvent {
            event: Some(Event::Report(report)),
        }));
        match summary {
            Some(summary) => Err(Status::invalid_argument(summary)),
            None => Ok(()),
        }
    }

    /// Commits the spooled entries through the application's write path, which publishes
    /// them to the index concerned in commit order.
    fn commit(&mut self) -> Result<ImportCounts, Status> {
        let Some(spool) = self.spool.take() else {
            return Ok(ImportCounts::default());
        };
        let on_conflict = self.plan.on_conflict;
        let commit = match self.plan.target.clone() {
            Target::Collection(name) => {
                self.runtime
                    .block_on(self.imports.commit_concepts(spool, on_conflict, name))
            }
            // Reading and spooling the file went on while the server was still building the
            // memory index at start-up; the commit waits for it.
            Target::Memory(name) => {
                let analysis = self.analysis.take();
                self.runtime.block_on(
                    self.imports
                        .commit_units(spool, on_conflict, name, analysis),
                )
            }
        };
        Ok(commit?)
    }

    /// Drops whatever was spooled; logged, not reported, when that fails: recovery at the
    /// next start removes it anyway.
    fn abandon(&mut self) {
        let (Some(id), Some(spool)) = (self.id.take(), self.spool.take()) else {
            return;
        };
        if let Err(error) = self.imports.store().discard_import(spool) {
            tracing::warn!(%error, import = id, "could not discard a refused import's spool");
        }
    }

    fn upload_failure(&self) -> Status {
        self.state.broken().map_or_else(
            || Status::internal("the upload could not be read"),
            broken_status,
        )
    }

    fn problem(&mut self, severity: Severity, error: &FormatError, entry_id: String) {
        let (line, column) = error.position().unwrap_or((0, 0));
        let reason = match error {
            FormatError::Rejected { reason, .. } | FormatError::Malformed { reason, .. } => {
                reason.clone()
            }
            other => other.to_string(),
        };
        self.push_problem(problem(severity, line, column, entry_id, reason));
    }

    fn push_problem(&mut self, problem: proto::EntryProblem) {
        if self.report.problems.len() < REPORT_PROBLEMS {
            self.report.problems.push(problem.clone());
        }
        self.progress.problems.push(problem);
    }

    fn send_progress(&mut self) -> Result<(), Status> {
        let mut progress = proto::ImportProgress {
            bytes_read: self.state.bytes_read(),
            expected_bytes: self.plan.expected_bytes,
            problems: std::mem::take(&mut self.progress.problems),
            ..self.progress.clone()
        };
        progress.problems.shrink_to_fit();
        self.events
            .blocking_send(Ok(proto::ImportEvent {
                event: Some(Event::Progress(progress)),
            }))
            .map_err(|_| Status::cancelled("the client went away; nothing was imported"))
    }
}

fn entry_id(entry: &Entry) -> String {
    match entry {
        Entry::Concept(c) => c.id.clone(),
        Entry::Unit(u) => u.id.clone(),
    }
}

fn problem(
    severity: Severity,
    line: u64,
    column: u64,
    entry_id: String,
    reason: String,
) -> proto::EntryProblem {
    proto::EntryProblem {
        severity: severity as i32,
        line,
        column,
        entry_id,
        reason,
    }
}

fn broken_status(broken: Broken) -> Status {
    match broken {
        Broken::Protocol(reason) => {
            Status::invalid_argument(format!("invalid request: {reason}; nothing was imported"))
        }
        Broken::Interrupted(reason) => Status::cancelled(format!("{reason}; nothing was imported")),
    }
}

/// The status message of a refused strict import: the counts and the first problems.
fn refusal(report: &proto::ImportReport) -> String {
    let unreadable = report
        .problems
        .iter()
        .any(|p| p.severity == Severity::Fatal as i32);
    let mut message = if unreadable && report.entries_read == 0 {
        "invalid file: unreadable before its first entry; nothing was imported".to_owned()
    } else if unreadable {
        format!(
            "invalid file: unreadable after {} entries ({} rejected); strict mode, nothing was \
             imported",
            report.entries_read, report.rejected
        )
    } else {
        format!(
            "invalid file: {} of {} entries rejected; strict mode, nothing was imported",
            report.rejected, report.entries_read
        )
    };
    let serious = report
        .problems
        .iter()
        .filter(|p| p.severity != Severity::Warning as i32);
    for (shown, p) in serious.enumerate() {
        if shown == 5 {
            message.push_str("; …");
            break;
        }
        let at = if p.line > 0 {
            format!("line {}, column {}", p.line, p.column)
        } else {
            "file".to_owned()
        };
        message.push_str(&format!("; {at}: {}", p.reason));
    }
    message
}
