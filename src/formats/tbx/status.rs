//! Term status and term type values, both ways: what TBX and glossary files write for them,
//! what they mean in [`TermStatus`] and [`TermType`], and the notes that carry what TBX-Basic's
//! picklists cannot (a forbidden term, a part of speech outside the list).

use crate::model::{TermStatus, TermType};

/// Maps an `administrativeStatus`, `normativeAuthorization` or TBX-Min `termStatus` value.
pub(super) fn parse_status(value: &str) -> Option<TermStatus> {
    let value = value.trim();
    let base = value.strip_suffix("-admn-sts").unwrap_or(value);
    match base.to_ascii_lowercase().as_str() {
        "preferredterm" | "preferred" | "legalterm" | "regulatedterm" | "standardizedterm" => {
            Some(TermStatus::Preferred)
        }
        "admittedterm" | "admitted" | "permitted" => Some(TermStatus::Admitted),
        "supersededterm" | "superseded" => Some(TermStatus::Superseded),
        // Weblate's and TBX-Min's `obsolete` is a term not to use any more, not a former name
        // of something renamed: deprecated.
        "deprecatedterm" | "deprecated" | "obsolete" | "obsoleteterm" | "outdated"
        | "notrecommended" => Some(TermStatus::Deprecated),
        "forbiddenterm" | "forbidden" => Some(TermStatus::Forbidden),
        _ => None,
    }
}

/// Maps a `termType` value.
pub(in crate::formats) fn parse_term_type(value: &str) -> Option<TermType> {
    match value.trim() {
        "fullForm" => Some(TermType::FullForm),
        "acronym" | "initialism" => Some(TermType::Acronym),
        "abbreviation" | "abbreviatedForm" => Some(TermType::Abbreviation),
        "shortForm" | "clippedTerm" => Some(TermType::ShortForm),
        "variant" => Some(TermType::Variant),
        "phrase" | "setPhrase" => Some(TermType::Phrase),
        _ => None,
    }
}

/// The start of the note that carries a part of speech outside TBX-Basic's picklist (a
/// glossary's "proper noun"), written beside `partOfSpeech` `other` so that the file stays
/// valid TBX-Basic and the value still reads back as it was.
pub(super) const POS_NOTE_PREFIX: &str = "partOfSpeech: ";

/// The note TBX-Basic files carry next to `deprecatedTerm-admn-sts` to mark a forbidden term:
/// TBX-Basic has no status value for it.
pub(super) const FORBIDDEN_NOTE: &str = "forbidden";

pub(super) fn status_value(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferredTerm-admn-sts",
        TermStatus::Admitted => "admittedTerm-admn-sts",
        TermStatus::Superseded => "supersededTerm-admn-sts",
        TermStatus::Deprecated | TermStatus::Forbidden => "deprecatedTerm-admn-sts",
    }
}

pub(in crate::formats) fn term_type_value(term_type: TermType) -> Option<&'static str> {
    term_type.tbx_value()
}
