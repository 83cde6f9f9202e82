//! What the termbase readers hand out: a concept with where it starts in the file, and the
//! warnings about it, each at its own line and column.
//!
//! Owns [`ConceptEntry`] and [`ReadWarning`]. It must not know about the store or gRPC: the
//! caller decides what an entry and its warnings become.

use std::fmt;

use crate::model::Concept;

/// One concept read from a termbase file: a TBX entry ([`TbxReader`](super::TbxReader)) or
/// the rows of one concept in a glossary ([`CsvReader`](super::CsvReader)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConceptEntry {
    /// The concept, with `collection` empty, timestamps 0 and revision 0.
    pub concept: Concept,
    /// Line where the entry starts: its start tag, or its first row (1-based).
    pub line: u64,
    /// Column where the entry starts (1-based; 1 for a glossary row).
    pub column: u64,
    /// What the reader kept in a lossy way or could not map, e.g. an unknown data category
    /// kept as a note, in the order it was read.
    pub warnings: Vec<ReadWarning>,
    /// The entry had no id: `concept.id` was made from its position (`entry-7`, `row-7`), so
    /// it does not identify the concept across files.
    pub generated_id: bool,
}

/// Something a reader kept in a lossy way, dropped or could not map, at the element (or
/// glossary row) it concerns; the entry it belongs to is read all the same.
///
/// Positions count as in [`FormatError`](super::FormatError): 1-based, in Unicode scalar
/// values of the decoded text. A glossary row is reported as a whole, at column 1.
///
/// ```
/// use tolmach::formats::{ReadWarning, TbxReader};
///
/// let tbx = "<martif type=\"TBX\"><text><body>\n\
///            <termEntry id=\"c\"><langSet xml:lang=\"en\"><tig><term>term</term>\n\
///            <termNote type=\"register\">neutral</termNote></tig></langSet></termEntry>\n\
///            </body></text></martif>";
/// let entry = TbxReader::new(tbx.as_bytes()).next().unwrap().unwrap();
/// assert_eq!((entry.line, entry.column), (2, 1));
/// let warning = &entry.warnings[0];
/// assert_eq!((warning.line, warning.column), (3, 1));
/// assert_eq!(
///     warning.to_string(),
///     "line 3, column 1: data category \"register\" has no field; kept as a note"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadWarning {
    /// Line of the element (or row) the warning is about (1-based).
    pub line: u64,
    /// Column of the element's start tag (1-based; 1 for a glossary row).
    pub column: u64,
    /// What was lost or changed, in words, without the position.
    pub message: String,
}

impl ReadWarning {
    pub(crate) fn new(line: u64, column: u64, message: impl fmt::Display) -> ReadWarning {
        ReadWarning {
            line,
            column,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for ReadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}
