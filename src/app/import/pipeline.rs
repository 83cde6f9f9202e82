//! One import, on a blocking thread: read the upload entry by entry, check each entry with
//! the domain's checks (as the unary API does), spool the sound ones, and commit them (or
//! not) when the file is done, reporting to the client as it goes.
//!
//! A large memory import keeps both cores busy from start to end:
//! - while the file is read, the spooled units are also analyzed for the memory index, on
//!   other threads ([`Analysis`]);
//! - while the commit writes them, another thread resolves the next batches against the store
//!   (`store/apply.rs`), and the index part's search structures are built;
//! - at the end, only the part's id table waits for what the commit kept.

use std::io::Read;
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::entry::{self, Rejected};
use super::job::JobGuard;
use super::plan::{check_target, Plan};
use super::read::{entries, peek, Entry, ReadEntry, PEEK_BYTES};
use super::report::{refusal, ImportEvent, Problem, Severity, Tally};
use super::staging::Staging;
use super::upload::{Broken, UploadState};
use super::Imports;
use crate::app::{work, AppError, Sink};
use crate::formats::detect_format;
use crate::model::{Invalid, Violations};
use crate::store::{ImportCounts, Staged};

/// Entries checked and queued before they are spooled (or previewed, in a dry run) together.
const STAGE_BATCH: usize = 1000;
/// A progress event at least this often, in entries.
const PROGRESS_EVERY: u64 = 10_000;
/// Problems that trigger a progress event before `PROGRESS_EVERY` entries.
const PROBLEMS_PER_EVENT: usize = 256;

impl Imports {
    /// Runs the import `plan` admitted by `admitted` on the blocking pool: reads `upload`
    /// (whose progress `state` follows), checks, spools and commits, and sends `events`
    /// the progress, the report, and the error it ends with if it fails. With `job`, records
    /// the outcome as the job's before the client hears it. Call from the runtime: the
    /// commit goes through the async write path.
    pub fn start(
        &self,
        admitted: OwnedSemaphorePermit,
        plan: Plan,
        job: Option<JobGuard>,
        upload: impl Read + Send + 'static,
        state: Arc<UploadState>,
        events: Sink<ImportEvent>,
    ) {
        let imports = self.clone();
        let runtime = tokio::runtime::Handle::current();
        work::detach("an import", move || {
            let mut import = Import {
                admitted: Some(admitted),
                job,
                imports,
                plan,
                events,
                runtime,
                state,
                staging: None,
                pending: Vec::with_capacity(STAGE_BATCH),
                tally: Tally::default(),
                preview: ImportCounts::default(),
                claimed: Vec::new(),
            };
            if let Some(job) = &import.job {
                job.record_started();
            }
            if let Err(error) = import.run(upload) {
                import.abandon();
                import.admitted = None;
                if let Some(job) = import.job.take() {
                    job.failed(None, &error);
                }
                (import.events)(Err(error));
            }
        });
    }
}

struct Import {
    imports: Imports,
    plan: Plan,
    events: Sink<ImportEvent>,
    runtime: tokio::runtime::Handle,
    state: Arc<UploadState>,
    /// Where the accepted entries wait for the commit, once the first is accepted (with the
    /// memory index analysis of the units, for a memory import).
    staging: Option<Staging>,
    pending: Vec<Staged>,
    tally: Tally,
    /// What a dry run would do.
    preview: ImportCounts,
    /// The concept ids this import claimed, given back when it ends.
    claimed: Vec<String>,
    /// This import's admission, given back before the client hears the end, so that a
    /// client that then starts its next import finds the permit free.
    admitted: Option<OwnedSemaphorePermit>,
    /// The import's job, if it has one; ended, with its outcome recorded, before the client
    /// hears the end, so that a client that then asks finds the outcome.
    job: Option<JobGuard>,
}

impl Drop for Import {
    fn drop(&mut self) {
        self.imports.claims().release(&self.claimed);
    }
}

impl Import {
    fn run(&mut self, mut upload: impl Read + 'static) -> Result<(), AppError> {
        let first = peek(&mut upload, PEEK_BYTES).map_err(|_| self.upload_failure())?;
        let format = match self.plan.format {
            Some(format) => format,
            None => {
                let format =
                    detect_format(&first, Some(&self.plan.file_name)).ok_or_else(|| {
                        Invalid::field(
                            "header.format",
                            "the file is not recognizably TBX, TMX, CSV or TSV; name the format",
                        )
                    })?;
                let mut violations = Violations::default();
                check_target(format, &self.plan.target, &mut violations);
                violations.into_result(())?;
                format
            }
        };
        self.tally.report.format = Some(format);
        self.tally.report.dry_run = self.plan.dry_run;
        let mut fatal = false;
        for item in entries(format, first, upload, self.plan.skip_empty_terms) {
            match item {
                Ok(read) => self.accept(read)?,
                Err(error) if !error.is_fatal() => {
                    self.tally.progress.entries_read += 1;
                    self.tally.progress.rejected += 1;
                    self.tally.format_error(Severity::Rejected, &error);
                }
                Err(error) => {
                    if self.state.broken().is_some() {
                        return Err(self.upload_failure());
                    }
                    self.tally.format_error(Severity::Fatal, &error);
                    fatal = true;
                    break;
                }
            }
            if self.pending.len() >= STAGE_BATCH {
                self.stage()?;
            }
            if self
                .tally
                .progress
                .entries_read
                .is_multiple_of(PROGRESS_EVERY)
                || self.tally.progress.problems.len() >= PROBLEMS_PER_EVENT
            {
                self.send_progress()?;
            }
        }
        if let Some(broken) = self.state.broken() {
            return Err(broken.into());
        }
        // The announced size is checked only against what is known: the whole upload when the
        // reader reached its end, or more bytes than announced already read. A reader stopped
        // by a fatal error leaves the rest unread, and then the fatal error and the report are
        // the answer (in best effort, with the entries read before it committed).
        let bytes = self.state.bytes_read();
        let expected = self.plan.expected_bytes;
        if expected != 0 && ((self.state.ended() && bytes != expected) || bytes > expected) {
            return Err(Invalid::field(
                "header.expected_bytes",
                format!(
                    "the header announced {expected} bytes, the upload ended after {bytes}; \
                     nothing was imported"
                ),
            )
            .into());
        }
        self.stage()?;
        self.send_progress()?;
        self.finish(fatal)
    }

    /// Checks one entry as the unary API would and queues it for staging.
    fn accept(&mut self, read: ReadEntry) -> Result<(), AppError> {
        self.tally.progress.entries_read += 1;
        for warning in &read.warnings {
            // A warning is about an element (or row) inside the entry: report where it is
            // rather than the entry's start.
            self.tally.problem(Problem {
                severity: Severity::Warning,
                line: warning.line,
                column: warning.column,
                entry_id: read.entry.id(),
                reason: warning.message.clone(),
            });
            self.tally.report.warnings += 1;
        }
        let prepared = match read.entry {
            Entry::Concept(concept) => entry::concept(
                &self.imports,
                &self.plan,
                concept,
                read.generated_id,
                &mut self.claimed,
            )
            .map(Staged::Concept),
            Entry::Unit(unit) => entry::unit(&self.plan, unit).map(|unit| Staged::Unit {
                memory: self.plan.target.name().to_owned(),
                unit,
            }),
        };
        match prepared {
            Ok(staged) => {
                self.tally.progress.accepted += 1;
                self.pending.push(staged);
            }
            Err(Rejected { entry_id, reason }) => {
                self.tally.progress.rejected += 1;
                self.tally.problem(Problem {
                    severity: Severity::Rejected,
                    line: read.line,
                    column: read.column,
                    entry_id,
                    reason,
                });
            }
        }
        Ok(())
    }

    /// Writes the queued entries to the spool (or previews them in a dry run). A strict
    /// import that has rejected anything stops writing: it will not commit.
    fn stage(&mut self) -> Result<(), AppError> {
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
        } else if !(self.plan.strict && self.tally.progress.rejected > 0) {
            let store = self.imports.store();
            let staging = match &mut self.staging {
                Some(staging) => staging,
                None => self
                    .staging
                    .insert(Staging::begin(store, &self.plan.target)?),
            };
            staging.append(store, &mut entries)?;
        } else if let Some(staging) = &mut self.staging {
            // This import will not commit: nothing to analyze any more.
            staging.stop_analysis();
        }
        self.pending = entries;
        self.pending.clear();
        Ok(())
    }

    /// Commits, or refuses, once the whole file is read; sends the report.
    fn finish(&mut self, fatal: bool) -> Result<(), AppError> {
        // A file unreadable before its first entry (an unsupported encoding, not the format
        // it claims to be, broken inside the first entry) has nothing sound to keep: best
        // effort too refuses it, rather than answering success with nothing imported.
        let progress = &self.tally.progress;
        let unreadable = fatal && progress.entries_read == 0;
        let refused = unreadable || (self.plan.strict && (progress.rejected > 0 || fatal));
        let report = &mut self.tally.report;
        report.bytes_read = self.state.bytes_read();
        report.entries_read = progress.entries_read;
        report.accepted = progress.accepted;
        report.rejected = progress.rejected;
        report.job_id = self.plan.job_id.clone().unwrap_or_default();
        // The store's id of the import, named in the report once it committed.
        let mut import = None;
        let counts = if self.plan.dry_run || refused {
            self.abandon();
            self.preview
        } else {
            import = self.staging.as_ref().map(Staging::import);
            let started = std::time::Instant::now();
            let counts = self.commit()?;
            tracing::info!(
                target = self.plan.target.name(),
                entries = self.tally.progress.accepted,
                added = counts.added,
                updated = counts.updated,
                commit_seconds = started.elapsed().as_secs_f64(),
                "import committed"
            );
            counts
        };
        let report = &mut self.tally.report;
        report.committed = !(self.plan.dry_run || refused);
        report.import_id = import.map(|id| format!("{id:016x}")).unwrap_or_default();
        report.added = counts.added;
        report.updated = counts.updated;
        report.unchanged = counts.unchanged;
        report.skipped = counts.skipped;
        let refusal = refused.then(|| AppError::Refused {
            summary: refusal(report),
        });
        let report = std::mem::take(report);
        // A commit recorded its job with it.
        let job = self.job.take();
        if let (Some(job), Some(refusal)) = (job, &refusal) {
            job.failed(Some(&report), refusal);
        }
        self.admitted = None;
        (self.events)(Ok(ImportEvent::Report(report)));
        refusal.map_or(Ok(()), Err)
    }

    /// Commits the spooled entries through the application's write path (in cluster mode,
    /// through the replicated log first), which publishes them to the index concerned in
    /// commit order.
    fn commit(&mut self) -> Result<ImportCounts, AppError> {
        let Some(staging) = self.staging.take() else {
            return Ok(ImportCounts::default());
        };
        let job = self
            .job
            .as_ref()
            .map(|job| job.committing(&self.tally.report));
        // Reading and spooling a memory import went on while the server was still building
        // the memory index at start-up; the commit waits for it.
        self.runtime.block_on(self.imports.commit(
            staging,
            self.plan.target.clone(),
            self.plan.on_conflict,
            job,
        ))
    }

    /// Drops whatever was spooled; logged, not reported, when that fails: recovery at the
    /// next start removes it anyway.
    fn abandon(&mut self) {
        let Some(staging) = self.staging.take() else {
            return;
        };
        let id = staging.import();
        if let Err(error) = self.imports.store().discard_import(staging.spool) {
            tracing::warn!(%error, import = id, "could not discard a refused import's spool");
        }
    }

    /// Why the upload could not be read: broken off, or (a defect) for no known reason.
    fn upload_failure(&self) -> AppError {
        self.state.broken().map_or_else(
            || {
                tracing::error!("the upload could not be read, though it did not break off");
                AppError::Internal {
                    what: "reading the upload",
                    detail: "no reason known".into(),
                }
            },
            AppError::from,
        )
    }

    fn send_progress(&mut self) -> Result<(), AppError> {
        let progress = &mut self.tally.progress;
        let mut event = super::Progress {
            bytes_read: self.state.bytes_read(),
            expected_bytes: self.plan.expected_bytes,
            problems: std::mem::take(&mut progress.problems),
            ..progress.clone()
        };
        event.problems.shrink_to_fit();
        if (self.events)(Ok(ImportEvent::Progress(event))) {
            Ok(())
        } else {
            Err(Broken::Interrupted("the client went away".into()).into())
        }
    }
}
