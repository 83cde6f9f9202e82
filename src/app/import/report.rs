//! What an import tells its client as it goes: progress events with the problems found
//! since the last one, and the final report; and the message of a refused strict import.

use crate::formats::{Format, FormatError};

/// Problems repeated in the final report.
const REPORT_PROBLEMS: usize = 1000;

/// How serious a problem with an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The entry was kept; something in it was left out or repaired.
    Warning,
    /// The entry was not kept.
    Rejected,
    /// The file could not be read any further.
    Fatal,
}

/// One problem with one entry of the file, or with the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// How serious it is.
    pub severity: Severity,
    /// Where it is (1-based); 0 when not known.
    pub line: u64,
    /// Where on the line (1-based); 0 when not known.
    pub column: u64,
    /// The entry's id, when it has one.
    pub entry_id: String,
    /// What is wrong.
    pub reason: String,
}

/// Where an import is, sent every so often while the file is read.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Bytes of the upload read.
    pub bytes_read: u64,
    /// The upload's size as announced; 0 when not announced.
    pub expected_bytes: u64,
    /// Entries read.
    pub entries_read: u64,
    /// Entries accepted.
    pub accepted: u64,
    /// Entries rejected.
    pub rejected: u64,
    /// The problems found since the previous event.
    pub problems: Vec<Problem>,
}

/// What an import did, sent once at its end.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The store's import id, in hexadecimal; empty when nothing was spooled.
    pub import_id: String,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Whether the entries were committed.
    pub committed: bool,
    /// The file's format, named or detected.
    pub format: Option<Format>,
    /// Bytes of the upload read.
    pub bytes_read: u64,
    /// Entries read.
    pub entries_read: u64,
    /// Entries accepted.
    pub accepted: u64,
    /// Entries rejected.
    pub rejected: u64,
    /// Warnings about entries kept.
    pub warnings: u64,
    /// Entries added.
    pub added: u64,
    /// Entries updated.
    pub updated: u64,
    /// Entries the same as stored.
    pub unchanged: u64,
    /// Entries skipped because their id was stored.
    pub skipped: u64,
    /// The first problems of the whole import.
    pub problems: Vec<Problem>,
}

/// What an import sends its client.
#[derive(Clone, Debug)]
pub enum ImportEvent {
    /// Where it is.
    Progress(Progress),
    /// What it did; the last event.
    Report(Report),
}

/// The progress and the report of one import as they build up.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) progress: Progress,
    pub(super) report: Report,
}

impl Tally {
    /// Records a problem in the next progress event and, among the first, in the report.
    pub(super) fn problem(&mut self, problem: Problem) {
        if self.report.problems.len() < REPORT_PROBLEMS {
            self.report.problems.push(problem.clone());
        }
        self.progress.problems.push(problem);
    }

    /// Records a reader's error about the entry at hand, or the file.
    pub(super) fn format_error(&mut self, severity: Severity, error: &FormatError) {
        let (line, column) = error.position().unwrap_or((0, 0));
        let reason = match error {
            FormatError::Rejected { reason, .. } | FormatError::Malformed { reason, .. } => {
                reason.clone()
            }
            other => other.to_string(),
        };
        self.problem(Problem {
            severity,
            line,
            column,
            entry_id: String::new(),
            reason,
        });
    }
}

/// The message of a refused strict import: the counts and the first problems.
pub(super) fn refusal(report: &Report) -> String {
    let unreadable = report
        .problems
        .iter()
        .any(|p| p.severity == Severity::Fatal);
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
        .filter(|p| p.severity != Severity::Warning);
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
