//! One glossary row's cells mapped onto a [`Concept`]: terms, statuses, term types and the
//! per-language fields, with a warning for each value that has no place.

use std::collections::HashMap;

use crate::model::{Concept, Lang, LangSection, Term, TermStatus};

use crate::formats::tbx::parse_term_type;
use crate::formats::{FormatError, ReadWarning};

use super::columns::{Column, LangField};

/// Maps a status cell; `None` for an empty cell.
fn parse_status(value: &str) -> Result<Option<TermStatus>, ()> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let base = value.strip_suffix("-admn-sts").unwrap_or(value);
    match base.to_lowercase().as_str() {
        "preferred" | "preferredterm" | "p" => Ok(Some(TermStatus::Preferred)),
        "admitted" | "admittedterm" | "permitted" | "a" => Ok(Some(TermStatus::Admitted)),
        "superseded" | "supersededterm" | "s" => Ok(Some(TermStatus::Superseded)),
        "deprecated" | "deprecatedterm" | "obsolete" | "d" => Ok(Some(TermStatus::Deprecated)),
        "forbidden" | "forbiddenterm" | "f" => Ok(Some(TermStatus::Forbidden)),
        _ => Err(()),
    }
}

fn add_term(langs: &mut Vec<LangSection>, lang: Lang, term: Term) {
    match langs.iter_mut().find(|s| s.lang == lang) {
        Some(section) => section.terms.push(term),
        None => langs.push(LangSection::new(lang, vec![term])),
    }
}

/// The non-empty lines of a cell, trimmed: notes and cross references, one per line.
fn lines(cell: &str) -> Vec<String> {
    cell.split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn row_to_concept(
    columns: &[Column],
    record: &csv::StringRecord,
    ordinal: u64,
    line: u64,
    warnings: &mut Vec<ReadWarning>,
) -> Result<Concept, FormatError> {
    let cell = |want: &Column| -> &str {
        columns
            .iter()
            .position(|c| c == want)
            .and_then(|i| record.get(i))
            .map_or("", str::trim)
    };
    if record.len() > columns.len()
        && record
            .iter()
            .skip(columns.len())
            .any(|f| !f.trim().is_empty())
    {
        warnings.push(ReadWarning::new(
            line,
            1,
            format!(
                "{} fields but {} columns; the extra fields are ignored",
                record.len(),
                columns.len()
            ),
        ));
    }
    // A term without a status is admitted, as in TBX files and the API: a dictionary with no
    // status column must not outrank a glossary whose terminologist marked the preferred
    // terms.
    let status = match parse_status(cell(&Column::Status)) {
        Ok(status) => status.unwrap_or(TermStatus::Admitted),
        Err(()) => {
            warnings.push(ReadWarning::new(
                line,
                1,
                format!(
                    "unknown status {:?}; terms are admitted",
                    cell(&Column::Status)
                ),
            ));
            TermStatus::Admitted
        }
    };
    let part_of_speech = cell(&Column::PartOfSpeech);
    let term = |text: &str| {
        let mut t = Term::with_status(text, status);
        t.part_of_speech = part_of_speech.to_owned();
        t
    };
    // Each language's fields are looked up once per term: by a map, not a scan of the header.
    // Built backwards, so that the first of two columns with one name wins.
    let lang_fields: HashMap<(&Lang, LangField), usize> = columns
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, c)| match c {
            Column::LangField(lang, field) => Some(((lang, *field), i)),
            _ => None,
        })
        .collect();
    let lang_field = |lang: &Lang, field: LangField| -> &str {
        lang_fields
            .get(&(lang, field))
            .and_then(|&i| record.get(i))
            .map_or("", str::trim)
    };
    let mut langs: Vec<LangSection> = Vec::new();
    for (column, value) in columns.iter().zip(record.iter()) {
        if let Column::Lang(lang) = column {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let mut term = term(value);
            let field = |f: LangField| lang_field(lang, f);
            match parse_status(field(LangField::Status)) {
                Ok(Some(status)) => term.status = status,
                Ok(None) => {}
                Err(()) => warnings.push(ReadWarning::new(
                    line,
                    1,
                    format!(
                        "unknown {lang} status {:?}; the row's status is kept",
                        field(LangField::Status)
                    ),
                )),
            }
            match field(LangField::Type) {
                "" => {}
                given => match parse_term_type(given) {
                    Some(term_type) => term.term_type = term_type,
                    None => warnings.push(ReadWarning::new(
                        line,
                        1,
                        format!("unknown {lang} term type {given:?}; not kept"),
                    )),
                },
            }
            if !field(LangField::PartOfSpeech).is_empty() {
                term.part_of_speech = field(LangField::PartOfSpeech).to_owned();
            }
            term.note = field(LangField::Note).to_owned();
            term.source = field(LangField::Source).to_owned();
            term.context = field(LangField::Context).to_owned();
            add_term(&mut langs, lang.clone(), term);
        }
    }
    // Pair rows name their languages in cells.
    for (lang_column, text_column, side) in [
        (Column::SourceLang, Column::SourceText, "source"),
        (Column::TargetLang, Column::TargetText, "target"),
    ] {
        let text = cell(&text_column);
        if text.is_empty() {
            continue;
        }
        let lang = Lang::parse(cell(&lang_column)).map_err(|err| {
            FormatError::rejected(line, 1, format!("{side} language of the row: {err}"))
        })?;
        add_term(&mut langs, lang, term(text));
    }
    if langs.is_empty() {
        return Err(FormatError::rejected(line, 1, "the row has no terms"));
    }
    let definition = cell(&Column::Definition);
    if !definition.is_empty() {
        // The definition describes the first (source) language's term.
        langs[0].definition = definition.to_owned();
    }
    for section in &mut langs {
        let definition = lang_field(&section.lang, LangField::Definition);
        if !definition.is_empty() {
            section.definition = definition.to_owned();
        }
        section.notes = lines(lang_field(&section.lang, LangField::LangNote));
    }
    let mut notes = lines(cell(&Column::Note));
    for (column, value) in columns.iter().zip(record.iter()) {
        if let Column::Other(name) = column {
            let value = value.trim();
            if !value.is_empty() {
                notes.push(format!("{name}: {value}"));
            }
        }
    }
    let id = match cell(&Column::Id) {
        "" => format!("row-{ordinal}"),
        id => id.to_owned(),
    };
    Ok(Concept {
        id,
        collection: String::new(),
        subject_field: cell(&Column::Subject).to_owned(),
        source: cell(&Column::Source).to_owned(),
        notes,
        cross_refs: lines(cell(&Column::CrossRefs)),
        langs,
        created_ms: 0,
        updated_ms: 0,
        revision: 0,
    })
}
