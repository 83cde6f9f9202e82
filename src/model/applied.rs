//! What a commit stored of one batch of an import: the one contract between the store's
//! commit, which produces it, and the indexes' publication, which consumes it. It lives in
//! the model because both sides depend on the model and neither may depend on the other.

use super::{Concept, TranslationUnit};

/// The records one applied batch wrote, for the caller to publish to its indexes.
#[derive(Debug, Default)]
pub struct Applied {
    /// Concepts as stored, with revision and times.
    pub concepts: Vec<Concept>,
    /// Unit entries the batch went through.
    pub unit_entries: usize,
    /// Positions among those (from 0, in spool order) of the units not stored as spooled:
    /// a stored unit with the same id was kept (unchanged, or skipped), merged or replaced.
    /// Every other unit entry was added exactly as spooled, so a caller that analyzed the
    /// spooled units for an index need not receive them again.
    pub units_not_as_spooled: Vec<usize>,
    /// The units stored otherwise than spooled (merged or replacing), as stored, with their
    /// memory: the last state of each id in the batch.
    pub units_rewritten: Vec<(String, TranslationUnit)>,
}
