//! Import jobs: imports started with a client-chosen job id, whose outcome a client can ask
//! for when its connection broke before the report, and which a retry never runs twice.
//!
//! [`Jobs`] knows the jobs running in this process; the store keeps every job's record
//! (`store/jobs.rs`), written `Committed` in the same write as the import's commit. A job id
//! that is running refuses a second import ([`AppError::JobRunning`]); one that committed
//! answers its stored report instead of importing again ([`JobStart::Replay`]); one that
//! failed runs again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::plan::Target;
use super::report::{Problem, Report, Severity};
use crate::app::{now_ms, AppError};
use crate::formats::Format;
use crate::model::Invalid;
use crate::store::{
    JobProblem, JobRecord, JobReport, JobSeverity, JobState, JobTarget, Store, JOBS_KEPT,
    JOBS_KEPT_DAYS,
};

/// Jobs started between two prunings of the store's job records.
const PRUNE_EVERY: u64 = 1000;

/// Problems a job record keeps of its report (the rest are counted): a replay or
/// `GetImportJob` shows the first of them. A listed problem is at most about 1.3 KB, so
/// the 10 000 jobs kept take at most about 260 MB even when every report is full (with the
/// 1 000 problems an import lists, that would be 13 GB).
const KEPT_PROBLEMS: usize = 20;

/// The formats by the names job records keep them under.
const FORMAT_NAMES: [(Format, &str); 4] = [
    (Format::Tbx, "TBX"),
    (Format::Tmx, "TMX"),
    (Format::Csv, "CSV"),
    (Format::Tsv, "TSV"),
];

/// The import jobs of one server. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    store: Store,
    /// The jobs running now, by id, with when they started.
    running: Arc<Mutex<HashMap<String, (Target, i64)>>>,
    /// Jobs started since this server started, to prune the records every so often.
    started: Arc<AtomicU64>,
}

/// What an import with a job id does.
pub enum JobStart {
    /// Run: the job is registered as running until the guard is dropped.
    Run(JobGuard),
    /// Do not run: the job committed already, and this was its report.
    Replay(Report),
}

/// An import job as a client asks for it.
#[derive(Clone, Debug)]
pub struct ImportJob {
    /// The job id.
    pub job_id: String,
    /// Where it is.
    pub state: JobState,
    /// Where its entries go.
    pub target: Target,
    /// What it did or would have done; none while it runs or when it failed before reading.
    pub report: Option<Report>,
    /// Why it failed; empty otherwise.
    pub error: String,
    /// When it started (ms since the Unix epoch).
    pub started_ms: i64,
    /// When it committed or failed; 0 while it runs.
    pub ended_ms: i64,
}

impl Jobs {
    /// The jobs whose records `store` keeps.
    pub fn new(store: Store) -> Jobs {
        Jobs {
            store,
            running: Arc::default(),
            started: Arc::default(),
        }
    }

    /// Starts job `job_id` of an import into `target`: registered as running, or its stored
    /// report when it committed already. [`AppError::JobRunning`] when it runs now; invalid
    /// when it committed into another target.
    pub fn begin(&self, job_id: &str, target: &Target) -> Result<JobStart, AppError> {
        let mut running = self.lock();
        if running.contains_key(job_id) {
            return Err(AppError::JobRunning {
                job_id: job_id.to_owned(),
            });
        }
        if let Some(record) = self.store.job(job_id)? {
            if record.state == JobState::Committed {
                let stored = target_of(&record.target);
                if stored != *target {
                    return Err(Invalid::field(
                        "header.job_id",
                        format!(
                            "job {job_id:?} was an import into {}; a retry names the same target",
                            target_words(&stored)
                        ),
                    )
                    .into());
                }
                let mut report = report_of(record.report.unwrap_or_default());
                report.job_id = job_id.to_owned();
                report.replayed = true;
                return Ok(JobStart::Replay(report));
            }
        }
        let started_ms = now_ms();
        running.insert(job_id.to_owned(), (target.clone(), started_ms));
        Ok(JobStart::Run(JobGuard {
            jobs: self.clone(),
            job_id: job_id.to_owned(),
            target: match target {
                Target::Collection(name) => JobTarget::Collection(name.clone()),
                Target::Memory(name) => JobTarget::Memory(name.clone()),
            },
            started_ms,
        }))
    }

    /// Job `job_id` as it is now; [`AppError::JobNotFound`] when no record of it is kept.
    pub fn get(&self, job_id: &str) -> Result<ImportJob, AppError> {
        // Before the store: a job records its outcome before it stops running.
        if let Some((target, started_ms)) = self.lock().get(job_id).cloned() {
            return Ok(ImportJob {
                job_id: job_id.to_owned(),
                state: JobState::Running,
                target,
                report: None,
                error: String::new(),
                started_ms,
                ended_ms: 0,
            });
        }
        let record = self
            .store
            .job(job_id)?
            .ok_or_else(|| AppError::JobNotFound {
                job_id: job_id.to_owned(),
                days: JOBS_KEPT_DAYS,
                kept: JOBS_KEPT,
            })?;
        let (state, error) = match record.state {
            // Not running here, so it ended without its failure being recorded.
            JobState::Running => (
                JobState::Failed,
                "the import ended without recording its outcome; nothing was committed".into(),
            ),
            state => (state, record.error),
        };
        Ok(ImportJob {
            job_id: job_id.to_owned(),
            state,
            target: target_of(&record.target),
            report: record.report.map(|report| {
                let mut report = report_of(report);
                report.job_id = job_id.to_owned();
                report
            }),
            error,
            started_ms: record.started_ms,
            ended_ms: record.ended_ms,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Target, i64)>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A job registered as running; dropping it ends that, whatever the outcome recorded.
pub struct JobGuard {
    jobs: Jobs,
    job_id: String,
    target: JobTarget,
    started_ms: i64,
}

impl JobGuard {
    /// The job id.
    pub fn id(&self) -> &str {
        &self.job_id
    }

    /// Records the job as running in the store, so that a restart after a crash can say it
    /// failed; and every [`PRUNE_EVERY`] jobs, forgets the oldest records. Best effort: a
    /// failure is logged, and the import goes on. Call on a blocking thread.
    pub(super) fn record_started(&self) {
        let store = &self.jobs.store;
        if let Err(error) = store.start_job(&self.job_id, self.target.clone(), self.started_ms) {
            tracing::warn!(%error, job = self.job_id, "could not record an import job's start");
        }
        if (self.jobs.started.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(PRUNE_EVERY) {
            if let Err(error) = store.prune_jobs(now_ms()) {
                tracing::warn!(%error, "could not forget old import jobs");
            }
        }
    }

    /// The job's id and record for the store to write with the commit of `report`'s import.
    pub(super) fn committing(&self, report: &Report) -> (String, JobRecord) {
        (
            self.job_id.clone(),
            self.record(Some(report), String::new()),
        )
    }

    /// Records that the job failed with `error`, after `report` if it got that far. Best
    /// effort: a failure to record is logged.
    pub(super) fn failed(self, report: Option<&Report>, error: &AppError) {
        // A commit that failed after its marker is the store's to finish at the next start:
        // its record says committed, and stays so.
        if let Ok(Some(stored)) = self.jobs.store.job(&self.job_id) {
            if stored.state == JobState::Committed {
                return;
            }
        }
        let mut record = self.record(report, error.to_string());
        record.state = JobState::Failed;
        record.ended_ms = now_ms();
        if let Err(error) = self.jobs.store.record_job(&self.job_id, &record) {
            tracing::warn!(%error, job = self.job_id, "could not record an import job's failure");
        }
    }

    fn record(&self, report: Option<&Report>, error: String) -> JobRecord {
        JobRecord {
            state: JobState::Running,
            started_ms: self.started_ms,
            ended_ms: 0,
            target: self.target.clone(),
            report: report.map(job_report),
            error,
        }
    }
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.jobs.lock().remove(&self.job_id);
    }
}

fn target_of(target: &JobTarget) -> Target {
    match target {
        JobTarget::Collection(name) => Target::Collection(name.clone()),
        JobTarget::Memory(name) => Target::Memory(name.clone()),
    }
}

fn target_words(target: &Target) -> String {
    match target {
        Target::Collection(name) => format!("collection {name:?}"),
        Target::Memory(name) => format!("memory {name:?}"),
    }
}

/// The report as a job record keeps it.
fn job_report(report: &Report) -> JobReport {
    JobReport {
        import_id: report.import_id.clone(),
        format: report
            .format
            .and_then(|format| FORMAT_NAMES.iter().find(|(f, _)| *f == format))
            .map_or_else(String::new, |(_, name)| (*name).to_owned()),
        committed: report.committed,
        bytes_read: report.bytes_read,
        entries_read: report.entries_read,
        accepted: report.accepted,
        rejected: report.rejected,
        warnings: report.warnings,
        counts: crate::store::ImportCounts {
            added: report.added,
            updated: report.updated,
            unchanged: report.unchanged,
            skipped: report.skipped,
        },
        problems: report
            .problems
            .iter()
            .take(KEPT_PROBLEMS)
            .map(|p| JobProblem {
                severity: match p.severity {
                    Severity::Warning => JobSeverity::Warning,
                    Severity::Rejected => JobSeverity::Rejected,
                    Severity::Fatal => JobSeverity::Fatal,
                },
                line: p.line,
                column: p.column,
                entry_id: p.entry_id.clone(),
                reason: p.reason.clone(),
            })
            .collect(),
        problems_unlisted: report.problems_unlisted
            + report.problems.len().saturating_sub(KEPT_PROBLEMS) as u64,
    }
}

/// The report a job record kept.
fn report_of(kept: JobReport) -> Report {
    Report {
        import_id: kept.import_id,
        dry_run: false,
        committed: kept.committed,
        format: FORMAT_NAMES
            .iter()
            .find(|(_, name)| *name == kept.format)
            .map(|(format, _)| *format),
        bytes_read: kept.bytes_read,
        entries_read: kept.entries_read,
        accepted: kept.accepted,
        rejected: kept.rejected,
        warnings: kept.warnings,
        added: kept.counts.added,
        updated: kept.counts.updated,
        unchanged: kept.counts.unchanged,
        skipped: kept.counts.skipped,
        problems: kept
            .problems
            .into_iter()
            .map(|p| Problem {
                severity: match p.severity {
                    JobSeverity::Warning => Severity::Warning,
                    JobSeverity::Rejected => Severity::Rejected,
                    JobSeverity::Fatal => Severity::Fatal,
                },
                line: p.line,
                column: p.column,
                entry_id: p.entry_id,
                reason: p.reason,
            })
            .collect(),
        problems_unlisted: kept.problems_unlisted,
        job_id: String::new(),
        replayed: false,
    }
}
