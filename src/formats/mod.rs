//! Exchange file formats: streaming readers and writers for TBX, TMX and CSV/TSV.
//!
//! Owns the translation between files and the domain model ([`crate::model`]). It must not
//! know about gRPC or the store: readers yield model values with positions and warnings, and
//! the caller decides what to commit.
//!
//! Every reader is an [`Iterator`] over one entry at a time, so memory stays bounded by the
//! largest entry, not the file. An entry that cannot be used comes back as
//! [`FormatError::Rejected`] with its line and column and the reader goes on; a fatal error
//! ([`FormatError::Malformed`], [`FormatError::Encoding`], [`FormatError::Io`]) comes back once
//! and the reader ends.
//!
//! Encodings: UTF-8 with or without a byte-order mark and UTF-16 with one, for every format;
//! for XML also the single-byte encoding its declaration names (e.g. `windows-1254`).

mod decode;
mod error;
mod legacy;
mod tbx;
mod tmx;
mod xml;

pub use error::FormatError;
pub use tbx::{write_tbx, TbxEntry, TbxReader, TbxStyle};
pub use tmx::{write_tmx, TmxEntry, TmxReader};
