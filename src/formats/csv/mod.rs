//! Glossary CSV and TSV: a streaming reader and a writer.
//!
//! Owns the mapping between glossary rows and [`Concept`](crate::model::Concept)s. It must not
//! know about the store or gRPC: concepts come back with `collection` empty, timestamps 0 and
//! revision 0.
//!
//! Two row shapes are read:
//!
//! * **Language columns.** The header names one column per language with a BCP 47 tag (`zh`,
//!   `ru`, `en`, `zh-CN`, `en-US`, …) and optionally `id`, `status`, `note`, `subject` (or
//!   `subject_field`), `pos` (or `part_of_speech`), `definition` and `source`. Each row is one
//!   concept with one term per non-empty language cell.
//! * **Language pairs**, as in TICO-19 glossaries: `sourceLang`, `targetLang`, `sourceString`,
//!   `targetString` (plus `stringID`/`id`, `pos`, `description`). Each row is one concept
//!   with a term in each of the two languages the row names.
//!
//! A term's status is `preferred`, `admitted`, `superseded`, `deprecated` or `forbidden` (TBX
//! names such as `supersededTerm-admn-sts` are read too); a term without one is admitted,
//! as in TBX files and the API, so that only a terminologist's word makes a term preferred.
//!
//! Reserved names take precedence over language tags (`id` is the identifier, not Indonesian;
//! `pos` is the part of speech). Any other column is kept as a concept note `"name: value"`.
//!
//! A column named `<language>:<field>` (`en:status`, `zh-CN:pos`) holds that field for the
//! term of that language in the same row, overriding the row-wide column: `status`, `type`
//! (TBX term types such as `fullForm`), `pos`, `note`, `source`, `context`, and for the
//! language section `definition` and `lang-note`. Consecutive rows with the same `id` are one
//! concept: the further rows add terms. This is the layout [`write_csv`] writes, so that a
//! glossary export loses nothing a concept holds.
//!
//! Where things are: `columns` names what each header column holds; `read` streams the rows
//! and joins those of one concept; `row` maps one row's cells onto a concept; `write`
//! writes the layout the reader reads back.

mod columns;
mod read;
mod row;
mod write;

#[cfg(test)]
mod tests;

pub use self::read::CsvReader;
pub use self::write::write_csv;

/// How to read a glossary file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The field delimiter; `None` detects it from the first line that is not a comment: tab
    /// when it has at least as many tabs as commas (and at least one), else comma.
    pub delimiter: Option<u8>,
    /// Column names for a file without a header row (such as OmegaT glossaries: source,
    /// target, comment); `None` reads them from the first row.
    pub columns: Option<Vec<String>>,
    /// Lines starting with this byte are skipped (e.g. `Some(b'#')` for OmegaT's comments).
    pub comment: Option<u8>,
}
