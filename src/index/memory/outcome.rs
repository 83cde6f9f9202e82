//! What the store did with the units of an import, in the slots of the part the index
//! analyzed: the index's own form of the store's per-batch report ([`Applied`]), which
//! [`LiveMemoryIndex::publish_import`] derives from it by spool position.
//!
//! [`Applied`]: crate::model::Applied
//! [`LiveMemoryIndex::publish_import`]: super::LiveMemoryIndex::publish_import

/// What the store did with the units of an [`ImportPart`](super::ImportPart), by their
/// position in it.
#[derive(Clone, Debug, Default)]
pub struct ImportOutcome {
    /// The commit went through the units before this position; any after it were not stored
    /// (the commit failed part way).
    pub committed: usize,
    /// Positions of the units not stored as read, ascending: a unit with the same id was kept,
    /// merged with or replaced by them.
    pub not_stored_as_read: Vec<u32>,
}
