//! What an import tells its client as it goes: progress events with the problems found
//! since the last one, and the final report; and the message of a refused strict import.
//!
//! Every message stays far below a client's 4 MiB limit, however bad the file: an import
//! lists its first [`LISTED_PROBLEMS`] problems and counts the rest, and a listed problem's
//! reason and entry id are cut to [`MAX_REASON_BYTES`] and [`MAX_ENTRY_ID_BYTES`].

use crate::formats::{Format, FormatError};

/// Problems an import lists, in its events and its report; the rest are counted.
pub const LISTED_PROBLEMS: usize = 1000;
/// Longest reason of a listed problem, in bytes; longer ones are cut.
pub const MAX_REASON_BYTES: usize = 1024;
/// Longest entry id of a listed problem, in bytes; longer ones are cut.
pub const MAX_ENTRY_ID_BYTES: usize = 256;

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
    /// The problems found since the previous event, while fewer than [`LISTED_PROBLEMS`]
    /// were listed.
    pub problems: Vec<Problem>,
    /// Problems found so far and not listed.
    pub problems_unlisted: u64,
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
    /// The first [`LISTED_PROBLEMS`] problems of the whole import.
    pub problems: Vec<Problem>,
    /// Problems found and not listed.
    pub problems_unlisted: u64,
    /// The import's job id; empty when it has none.
    pub job_id: String,
    /// Whether this is the stored report of the job's earlier, committed import.
    pub replayed: bool,
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
    /// Records a problem: among the first, listed in the next progress event and the
    /// report, cut to size; past them, counted.
    pub(super) fn problem(&mut self, mut problem: Problem) {
        if self.report.problems.len() >= LISTED_PROBLEMS {
            self.progress.problems_unlisted += 1;
            self.report.problems_unlisted += 1;
            return;
        }
        cut(&mut problem.reason, MAX_REASON_BYTES);
        cut(&mut problem.entry_id, MAX_ENTRY_ID_BYTES);
        self.report.problems.push(problem.clone());
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

/// Cuts `text` to at most `max` bytes, on a character boundary, ending it with `…` when cut.
fn cut(text: &mut String, max: usize) {
    const MORE: &str = "…";
    if text.len() <= max {
        return;
    }
    let mut end = max - MORE.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(MORE);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(reason: String) -> Problem {
        Problem {
            severity: Severity::Rejected,
            line: 1,
            column: 1,
            entry_id: "é".repeat(MAX_ENTRY_ID_BYTES),
            reason,
        }
    }

    #[test]
    fn the_first_problems_are_listed_cut_to_size_and_the_rest_counted() {
        let mut tally = Tally::default();
        for _ in 0..LISTED_PROBLEMS + 5 {
            tally.problem(rejected("слово ".repeat(1000)));
        }
        assert_eq!(tally.report.problems.len(), LISTED_PROBLEMS);
        assert_eq!(tally.progress.problems.len(), LISTED_PROBLEMS);
        assert_eq!(
            (
                tally.report.problems_unlisted,
                tally.progress.problems_unlisted
            ),
            (5, 5)
        );
        let listed = &tally.report.problems[0];
        assert!(
            listed.reason.len() <= MAX_REASON_BYTES,
            "{}",
            listed.reason.len()
        );
        assert!(listed.reason.starts_with("слово слово") && listed.reason.ends_with('…'));
        assert!(listed.entry_id.len() <= MAX_ENTRY_ID_BYTES);
        tally.problem(rejected("short".into()));
        assert_eq!(tally.report.problems_unlisted, 6);
    }
}
