//! TMX: a streaming reader for TMX 1.4b and 1.1, and a writer for TMX 1.4b.
//!
//! Owns the mapping between `<tu>` elements and [`TranslationUnit`]. It must not know about the
//! store or gRPC: units come back with `origin` empty (the caller sets it), and with an empty
//! `id` when the file gave no `tuid` (the store assigns one).
//!
//! Inline markup (`bpt`, `ept`, `ph`, `it`, `ut`, `hi`, and `sub` inside them) is kept out of
//! [`Segment::text`](crate::model::Segment::text), so that it never counts as a difference in
//! fuzzy matching, and is recorded as [`InlineTag`](crate::model::InlineTag)s holding the
//! markup as written, at the byte offset where it stood. The writer puts it back there, so a
//! read → write → read round trip is lossless.
//!
//! Where things are: `read` walks the file (`<tu>`, `<tuv>`, properties and notes); `inline`
//! reads the inline markup of a `<seg>`; `check` says whether a unit from elsewhere (the API)
//! can be written and read back as it is; `date` converts TMX's dates; `write` writes TMX 1.4b.

mod check;
mod date;
mod inline;
mod read;
mod write;

#[cfg(test)]
mod tests;

use crate::formats::ReadWarning;
use crate::model::TranslationUnit;

pub use self::check::{check_tmx_markup, check_tmx_unit, TmxProblem};
pub use self::read::TmxReader;
pub use self::write::write_tmx;

/// One translation unit read from a TMX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmxEntry {
    /// The unit, with `origin` empty.
    pub unit: TranslationUnit,
    /// Line of the `<tu>` start tag (1-based).
    pub line: u64,
    /// Column of the `<tu>` start tag (1-based).
    pub column: u64,
    /// What the reader dropped or could not map, in the order it was read.
    pub warnings: Vec<ReadWarning>,
}
