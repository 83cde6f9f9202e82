//! The domain model: concepts, terms and translation units as plain data.
//!
//! Everything here is serde data with no behaviour beyond its own invariants and the pure
//! rules for merging an imported entry into a stored one ([`resolve`]).
//! It must not know about sled, gRPC or file formats: those layers convert to and from it.

mod applied;
mod concept;
mod lang;
mod merge;
mod unit;
pub mod violation;

pub use applied::Applied;
pub use concept::{Collection, Concept, LangSection, Term, TermStatus, TermType};
pub use lang::{Lang, LangError};
pub use merge::{resolve, Mergeable, OnConflict, Resolution};
pub use unit::{encoded_str, InlineTag, Segment, TagKind, TranslationUnit};
pub use violation::{Invalid, Violation, Violations};
