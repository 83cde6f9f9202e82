//! The errors of the file-format readers and writers.
//!
//! Owns [`FormatError`] only. It must not mention gRPC or the store: the service layer maps these
//! errors to its own status codes.

use std::fmt;

/// What went wrong while reading or writing an exchange file.
///
/// Readers distinguish two severities. [`FormatError::Rejected`] concerns one entry (a concept,
/// a translation unit, a CSV row): the reader reports it and goes on with the next entry.
/// [`FormatError::Malformed`], [`FormatError::Encoding`] and [`FormatError::Io`] are fatal:
/// the reader yields the error once and then ends.
///
/// Line and column are 1-based and count Unicode scalar values of the decoded text, so they
/// match what an editor shows for the same file.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file cannot be read any further: the XML is not well-formed, the text is not valid
    /// in its encoding, or the file is not the format it was opened as.
    #[error("malformed file at line {line}, column {column}: {reason}")]
    Malformed {
        /// Line of the offending construct (1-based).
        line: u64,
        /// Column of the offending construct (1-based).
        column: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// One entry is unusable (e.g. an invalid language tag, a concept without terms, an empty
    /// `<term>`); the reader skips it and continues with the next one.
    #[error("entry rejected at line {line}, column {column}: {reason}")]
    Rejected {
        /// Line of the start tag (or CSV row) of the offending element (1-based).
        line: u64,
        /// Column of the start tag of the offending element (1-based; 1 for CSV rows).
        column: u64,
        /// Why the entry was rejected.
        reason: String,
    },
    /// The file's character encoding is not supported or contradicts itself.
    #[error("unsupported encoding: {reason}")]
    Encoding {
        /// What was found and what is supported.
        reason: String,
    },
    /// A value cannot be written in the target format (e.g. a control character that XML 1.0
    /// cannot carry).
    #[error("cannot write {what}: {reason}")]
    Unwritable {
        /// The value, or the entry it belongs to.
        what: String,
        /// Why it cannot be represented.
        reason: String,
    },
    /// Reading the input or writing the output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FormatError {
    /// Whether the reader stops after this error. Only [`FormatError::Rejected`] lets it go on.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, FormatError::Rejected { .. })
    }

    /// The line and column the error points at, if it points anywhere.
    pub fn position(&self) -> Option<(u64, u64)> {
        match self {
            FormatError::Malformed { line, column, .. }
            | FormatError::Rejected { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }

    pub(crate) fn malformed(line: u64, column: u64, reason: impl fmt::Display) -> FormatError {
        FormatError::Malformed {
            line,
            column,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn rejected(line: u64, column: u64, reason: impl fmt::Display) -> FormatError {
        FormatError::Rejected {
            line,
            column,
            reason: reason.to_string(),
        }
    }
}
