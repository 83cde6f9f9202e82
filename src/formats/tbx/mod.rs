//! TBX: a streaming reader for TBX v3 (DCA and DCT styles), TBX 2008 / v2 (`martif`) and the
//! 2013 TBX-Min dialect, and a writer for TBX v3 TBX-Basic and TBX 2008.
//!
//! Owns the mapping between TBX data categories and [`Concept`](crate::model::Concept). It must
//! not know about the store or gRPC: the reader yields concepts with `collection` empty,
//! timestamps 0 and revision 0, and the caller fills them in.
//!
//! The reader holds one entry (`conceptEntry` / `termEntry`) in memory at a time. Data
//! categories are recognized by name whatever their form: `<descrip type="definition">` (DCA),
//! `<basic:definition>` (DCT) and `<definition>` (TBX-Min 2013) are the same thing.
//!
//! Where things are: `read` walks the file and the structure around and inside the entries;
//! `builder` gathers one entry's data categories into a concept; `dialect` holds the rules
//! of the TBX v3 dialects a file may declare (TBX-Basic, TBX-Min, TBX-Core), which files that
//! declare none (TBX 2008, vendor shapes) escape; `status` maps administrative status, term
//! types and the notes that stand in for values TBX-Basic lacks, both ways; `id` makes concept
//! ids XML names and back; `write` writes the two output styles.

mod builder;
mod dialect;
mod id;
mod read;
mod status;
mod write;

#[cfg(test)]
mod tests;

pub use self::read::TbxReader;
pub(super) use self::status::{parse_term_type, term_type_value};
pub use self::write::{write_tbx, TbxStyle};
