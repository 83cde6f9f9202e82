//! The glossary writer: one column per language plus its `<language>:<field>` columns, so
//! that [`CsvReader`](super::CsvReader) reads every field back.

use std::borrow::Borrow;
use std::io::Write;

use crate::formats::tbx::term_type_value;
use crate::formats::FormatError;
use crate::model::{Concept, Lang, LangSection, Term, TermStatus};

use super::columns::{LangField, LANG_FIELDS};

/// Writes concepts as a glossary that [`CsvReader`](super::CsvReader) reads back as they were,
/// separated by `delimiter` (`b','` or `b'\t'`).
///
/// Columns: `id`, `subject`, `source`, `note` (the concept's notes, one per line) and `xref`
/// (cross references, one per line); then for each language of `langs` the term (`en`) and
/// its fields (`en:status`, `en:type`, `en:pos`, `en:note`, `en:source`, `en:context`), and
/// the section's `en:definition` and `en:lang-note`. A concept takes as many rows as its
/// largest section has terms: row *k* holds the *k*-th term of each language, every row
/// repeats the id, and the concept and section fields are in the first row only. Sections in
/// languages outside `langs` are not written.
///
/// ```
/// use tolmach::formats::{write_csv, CsvReader};
/// use tolmach::model::{Lang, Term, TermStatus};
///
/// let tsv = "id\ten\ten:status\nsco\tShanghai Cooperation Organisation\tpreferred\n\
///            sco\tSCO\tadmitted\n";
/// let concept = CsvReader::new(tsv.as_bytes()).next().unwrap().unwrap().concept;
/// assert_eq!(
///     concept.langs[0].terms,
///     [
///         Term::preferred("Shanghai Cooperation Organisation"),
///         Term::with_status("SCO", TermStatus::Admitted),
///     ]
/// );
/// let mut out = Vec::new();
/// write_csv(&mut out, [&concept], &[Lang::en()], b',').unwrap();
/// let text = String::from_utf8(out.clone()).unwrap();
/// assert!(text.contains("\nsco,,,,,SCO,admitted,"), "{text}");
/// let back = CsvReader::new(out.as_slice()).next().unwrap().unwrap().concept;
/// assert_eq!(back.langs, concept.langs);
/// ```
pub fn write_csv<W: Write>(
    out: W,
    concepts: impl IntoIterator<Item = impl Borrow<Concept>>,
    langs: &[Lang],
    delimiter: u8,
) -> Result<(), FormatError> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out);
    let map = |err: csv::Error| match err.into_kind() {
        csv::ErrorKind::Io(io) => FormatError::Io(io),
        kind => FormatError::Unwritable {
            what: "glossary row".to_owned(),
            reason: format!("{kind:?}"),
        },
    };
    let mut header: Vec<String> = ["id", "subject", "source", "note", "xref"]
        .map(str::to_owned)
        .to_vec();
    for lang in langs {
        header.push(lang.as_str().to_owned());
        header.extend(LANG_FIELDS.iter().map(|(_, name)| format!("{lang}:{name}")));
    }
    writer.write_record(&header).map_err(map)?;
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for concept in concepts {
        let concept = concept.borrow();
        let sections: Vec<Option<&LangSection>> =
            langs.iter().map(|lang| concept.section(lang)).collect();
        let rows = sections
            .iter()
            .flatten()
            .map(|s| s.terms.len())
            .max()
            .unwrap_or(0)
            .max(1);
        for k in 0..rows {
            let first = k == 0;
            let only_first = |text: String| if first { text } else { String::new() };
            row.clear();
            row.push(concept.id.clone());
            row.push(only_first(concept.subject_field.clone()));
            row.push(only_first(concept.source.clone()));
            row.push(only_first(concept.notes.join("\n")));
            row.push(only_first(concept.cross_refs.join("\n")));
            for section in &sections {
                let term = section.and_then(|s| s.terms.get(k));
                row.push(term.map_or_else(String::new, |t| t.text.clone()));
                for (field, _) in LANG_FIELDS {
                    row.push(match (field, term, section) {
                        (LangField::Definition, _, Some(s)) => only_first(s.definition.clone()),
                        (LangField::LangNote, _, Some(s)) => only_first(s.notes.join("\n")),
                        (_, Some(t), _) => term_field(t, field).to_owned(),
                        _ => String::new(),
                    });
                }
            }
            writer.write_record(&row).map_err(map)?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// A term's field as [`write_csv`] writes it.
fn term_field(term: &Term, field: LangField) -> &str {
    match field {
        LangField::Status => TermStatus::name(term.status),
        LangField::Type => term_type_value(term.term_type).unwrap_or(""),
        LangField::PartOfSpeech => &term.part_of_speech,
        LangField::Note => &term.note,
        LangField::Source => &term.source,
        LangField::Context => &term.context,
        LangField::Definition | LangField::LangNote => "",
    }
}
