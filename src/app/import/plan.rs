//! What an import was asked to do, checked: the header of the upload in domain terms.

use serde::{Deserialize, Serialize};

use crate::formats::Format;
use crate::model::{OnConflict, Violations};

/// Where an import's entries go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Concepts, into this collection.
    Collection(String),
    /// Translation units, into this memory.
    Memory(String),
}

impl Target {
    /// The collection's or memory's name.
    pub fn name(&self) -> &str {
        match self {
            Target::Collection(name) | Target::Memory(name) => name,
        }
    }
}

/// An import's header, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The file's format; detected from its first bytes and name when `None`.
    pub format: Option<Format>,
    /// The file's name: detection hint, and the origin of units that name none.
    pub file_name: String,
    /// Where the entries go.
    pub target: Target,
    /// Whether one rejected entry refuses the whole file.
    pub strict: bool,
    /// What to do with an entry whose id is stored already.
    pub on_conflict: OnConflict,
    /// Whether to report what would happen without writing anything.
    pub dry_run: bool,
    /// Whether the TBX reader leaves out empty terms rather than rejecting their entry.
    pub skip_empty_terms: bool,
    /// The upload's size as announced by the client; 0 when not announced.
    pub expected_bytes: u64,
    /// The client's name for this import, whose outcome it can ask for later.
    pub job_id: Option<String>,
}

/// Longest job id, in bytes.
pub const MAX_JOB_ID_BYTES: usize = 128;

/// A job id is optional; given, it is at most [`MAX_JOB_ID_BYTES`] of ASCII letters, digits
/// and `.`, `_`, `:`, `-` (a UUID, a file's path hash, `client:42`), and a dry run, which
/// writes nothing, has none.
pub fn check_job_id(job_id: &str, dry_run: bool, violations: &mut Violations) {
    const FIELD: &str = "header.job_id";
    if job_id.is_empty() {
        return;
    }
    if job_id.len() > MAX_JOB_ID_BYTES {
        violations.add(FIELD, format!("is longer than {MAX_JOB_ID_BYTES} bytes"));
    } else if !job_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    {
        violations.add(
            FIELD,
            "may contain only ASCII letters, digits, '.', '_', ':' and '-'",
        );
    }
    if dry_run {
        violations.add(
            FIELD,
            "a dry run writes nothing and keeps no outcome: leave job_id empty",
        );
    }
}

/// TMX holds units for a memory; every other format holds concepts for a collection.
pub fn check_target(format: Format, target: &Target, violations: &mut Violations) {
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
