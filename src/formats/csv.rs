//! Glossary CSV and TSV: a streaming reader and a writer.
//!
//! Owns the mapping between glossary rows and [`Concept`]s. It must not know about the store or
//! gRPC: concepts come back with `collection` empty, timestamps 0 and revision 0.
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

use std::borrow::Borrow;
use std::io::{BufRead, Write};

use crate::model::{Concept, Lang, LangSection, Term, TermStatus};

use super::decode::{self, Sniff, TextSource};
use super::error::FormatError;
use super::tbx::{parse_term_type, term_type_value};

/// One row read from a glossary file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvEntry {
    /// The concept, with `collection` empty, timestamps 0 and revision 0.
    pub concept: Concept,
    /// Line where the row starts (1-based).
    pub line: u64,
    /// Always 1: a row is reported as a whole.
    pub column: u64,
    /// What the reader could not map, e.g. an unknown status value.
    pub warnings: Vec<String>,
    /// The row had no `id` cell: `concept.id` was made from its position (`row-7`), so it does
    /// not identify the concept across files.
    pub generated_id: bool,
}

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

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Column {
    Lang(Lang),
    Id,
    Status,
    Note,
    Subject,
    PartOfSpeech,
    Definition,
    /// Where the concept comes from.
    Source,
    SourceLang,
    TargetLang,
    SourceText,
    TargetText,
    /// Ids of related concepts, one per line.
    CrossRefs,
    /// A field of the term (or section) of one language: `en:status`.
    LangField(Lang, LangField),
    /// Any other named column, kept as a note.
    Other(String),
    /// A column without a name.
    Ignored,
}

/// A field of one language's term or section, in a `<language>:<field>` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LangField {
    Status,
    Type,
    PartOfSpeech,
    Note,
    Source,
    Context,
    /// The section's definition.
    Definition,
    /// The section's notes, one per line.
    LangNote,
}

/// The fields [`write_csv`] writes after each language column, with their names.
const LANG_FIELDS: [(LangField, &str); 8] = [
    (LangField::Status, "status"),
    (LangField::Type, "type"),
    (LangField::PartOfSpeech, "pos"),
    (LangField::Note, "note"),
    (LangField::Source, "source"),
    (LangField::Context, "context"),
    (LangField::Definition, "definition"),
    (LangField::LangNote, "lang-note"),
];

/// A `<language>:<field>` column name.
fn classify_lang_field(name: &str) -> Option<Column> {
    let (lang, field) = name.split_once(':')?;
    let lang = Lang::parse(lang.trim()).ok()?;
    let key: String = field
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    let field = match key.as_str() {
        "status" | "termstatus" => LangField::Status,
        "type" | "termtype" => LangField::Type,
        "pos" | "partofspeech" => LangField::PartOfSpeech,
        "note" | "termnote" => LangField::Note,
        "source" | "termsource" => LangField::Source,
        "context" | "example" => LangField::Context,
        "definition" => LangField::Definition,
        "langnote" | "languagenote" | "sectionnote" => LangField::LangNote,
        _ => return None,
    };
    Some(Column::LangField(lang, field))
}

fn classify(name: &str) -> Column {
    let name = name.trim();
    if let Some(column) = classify_lang_field(name) {
        return column;
    }
    let key: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "" => Column::Ignored,
        "id" | "stringid" | "conceptid" | "entryid" => Column::Id,
        "status" | "termstatus" | "administrativestatus" => Column::Status,
        "note" | "notes" | "comment" | "comments" => Column::Note,
        "subject" | "subjectfield" | "domain" => Column::Subject,
        "pos" | "partofspeech" => Column::PartOfSpeech,
        "definition" | "description" => Column::Definition,
        "sourcelang" | "sourcelanguage" | "srclang" => Column::SourceLang,
        "targetlang" | "targetlanguage" | "tgtlang" | "trglang" => Column::TargetLang,
        "sourcestring" | "sourceterm" | "sourcetext" => Column::SourceText,
        "targetstring" | "targetterm" | "targettext" => Column::TargetText,
        "source" | "reference" => Column::Source,
        "xref" | "crossref" | "crossreference" | "crossrefs" | "related" => Column::CrossRefs,
        // Short words that parse as language tags but are usual column names.
        "key" | "ref" | "url" | "tag" | "src" | "tgt" | "no" | "num" | "nr" | "idx" | "row" => {
            Column::Other(name.to_owned())
        }
        _ => match Lang::parse(name) {
            Ok(lang) => Column::Lang(lang),
            Err(_) => Column::Other(name.to_owned()),
        },
    }
}

/// Reads a glossary CSV or TSV file one row (concept) at a time.
///
/// Yields `Ok` per usable row; [`FormatError::Rejected`] for a row without any term or with an
/// invalid language in a pair row, after which it continues; and at most one fatal error
/// (a header without language columns, invalid UTF-8, an unsupported encoding, I/O), after
/// which it ends. An empty file yields nothing.
///
/// ```
/// use tolmach::formats::CsvReader;
///
/// let tsv = "id\tzh-CN\tru\ten\tpos\nsco\t上海合作组织\tШОС\tSCO\tnoun\n";
/// let entry = CsvReader::new(tsv.as_bytes()).next().unwrap().unwrap();
/// assert_eq!(entry.line, 2);
/// assert_eq!(entry.concept.id, "sco");
/// assert_eq!(entry.concept.langs[0].lang.as_str(), "zh");
/// assert_eq!(entry.concept.langs[1].terms[0].text, "ШОС");
/// assert_eq!(entry.concept.langs[2].terms[0].part_of_speech, "noun");
/// ```
pub struct CsvReader<R: BufRead> {
    state: State<R>,
    options: CsvOptions,
    columns: Vec<Column>,
    /// Data rows read so far, for generated ids.
    rows: u64,
    /// Warnings about the header, given with the first row.
    header_warnings: Vec<String>,
    record: csv::StringRecord,
    /// The concept being read: the rows that follow with the same id add to it.
    current: Option<CsvEntry>,
    /// What to hand out after `current`: the error that ended it.
    queued: Option<FormatError>,
}

enum State<R: BufRead> {
    Unopened(R),
    /// Boxed, so that the reader stays small to move: the parser state is large.
    Open(Box<csv::Reader<TextSource<R>>>),
    Done,
}

impl<R: BufRead> CsvReader<R> {
    /// A reader with a header row and a detected delimiter.
    pub fn new(input: R) -> CsvReader<R> {
        CsvReader::with_options(input, CsvOptions::default())
    }

    /// A reader with explicit options.
    pub fn with_options(input: R, options: CsvOptions) -> CsvReader<R> {
        CsvReader {
            state: State::Unopened(input),
            options,
            columns: Vec::new(),
            rows: 0,
            header_warnings: Vec::new(),
            record: csv::StringRecord::new(),
            current: None,
            queued: None,
        }
    }

    /// Opens the input and reads the header. `Ok(false)` for an empty file.
    fn open(&mut self, input: R) -> Result<bool, FormatError> {
        let mut source = TextSource::open(input, Sniff::Text)?;
        let delimiter = match self.options.delimiter {
            Some(d) => d,
            None => detect_delimiter(
                source.fill_buf().map_err(decode::from_io)?,
                self.options.comment,
            ),
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(source);
        let names: Vec<String> = match &self.options.columns {
            Some(names) => names.clone(),
            None => {
                let mut header = csv::StringRecord::new();
                loop {
                    if !reader.read_record(&mut header).map_err(from_csv)? {
                        self.state = State::Done;
                        return Ok(false);
                    }
                    let comment = self.options.comment.is_some_and(|c| {
                        header
                            .get(0)
                            .is_some_and(|f| f.as_bytes().first() == Some(&c))
                    });
                    if !comment {
                        break;
                    }
                }
                header.iter().map(str::to_owned).collect()
            }
        };
        self.columns = names.iter().map(|n| classify(n)).collect();
        let has = |want: &Column| self.columns.iter().any(|c| c == want);
        let pairs = has(&Column::SourceLang) && has(&Column::SourceText);
        let langs = self.columns.iter().any(|c| matches!(c, Column::Lang(_)));
        if !pairs && !langs {
            return Err(FormatError::malformed(
                1,
                1,
                format!(
                    "the header {names:?} names no language column (e.g. \"zh\", \"ru\", \"en-US\") \
                     and no sourceLang/sourceString pair"
                ),
            ));
        }
        for (name, column) in names.iter().zip(&self.columns) {
            if let Column::Other(_) = column {
                self.header_warnings.push(format!(
                    "line 1: column {name:?} is neither a language tag nor a known field; kept as notes"
                ));
            }
        }
        self.state = State::Open(Box::new(reader));
        Ok(true)
    }

    /// The next row as an entry of its own.
    fn read_row(&mut self) -> Result<Option<CsvEntry>, FormatError> {
        if let State::Unopened(_) = self.state {
            let State::Unopened(input) = std::mem::replace(&mut self.state, State::Done) else {
                return Ok(None);
            };
            if !self.open(input)? {
                return Ok(None);
            }
        }
        let State::Open(reader) = &mut self.state else {
            return Ok(None);
        };
        // Comment lines are skipped here rather than by the csv crate, whose line numbers
        // do not count them.
        loop {
            if !reader.read_record(&mut self.record).map_err(from_csv)? {
                self.state = State::Done;
                return Ok(None);
            }
            let comment = self.options.comment.is_some_and(|c| {
                self.record
                    .get(0)
                    .is_some_and(|first| first.as_bytes().first() == Some(&c))
            });
            if !comment {
                break;
            }
        }
        self.rows += 1;
        let line = self.record.position().map_or(0, csv::Position::line);
        let mut warnings = std::mem::take(&mut self.header_warnings);
        let concept = row_to_concept(&self.columns, &self.record, self.rows, line, &mut warnings)?;
        let generated_id = !self
            .columns
            .iter()
            .zip(self.record.iter())
            .any(|(column, value)| *column == Column::Id && !value.trim().is_empty());
        Ok(Some(CsvEntry {
            concept,
            line,
            column: 1,
            warnings,
            generated_id,
        }))
    }
}

impl<R: BufRead> Iterator for CsvReader<R> {
    type Item = Result<CsvEntry, FormatError>;

    /// Reads rows until one starts another concept (or an error or the end comes), so that a
    /// concept written over several rows is handed out whole, with its first row's line.
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.queued.take() {
            return Some(Err(error));
        }
        loop {
            match self.read_row() {
                Ok(Some(row)) => match &mut self.current {
                    Some(current) if continues(current, &row) => merge_rows(current, row),
                    _ => {
                        if let Some(done) = self.current.replace(row) {
                            return Some(Ok(done));
                        }
                    }
                },
                Ok(None) => return self.current.take().map(Ok),
                Err(e) => {
                    if e.is_fatal() {
                        self.state = State::Done;
                    }
                    return match self.current.take() {
                        Some(done) => {
                            self.queued = Some(e);
                            Some(Ok(done))
                        }
                        None => Some(Err(e)),
                    };
                }
            }
        }
    }
}

/// Whether `row` continues the concept `current`: both name the same id.
fn continues(current: &CsvEntry, row: &CsvEntry) -> bool {
    !current.generated_id && !row.generated_id && current.concept.id == row.concept.id
}

/// Adds a further row of a concept to it: its terms (and sections) after those read, and
/// whatever concept-level data the first row left empty.
fn merge_rows(current: &mut CsvEntry, row: CsvEntry) {
    let concept = &mut current.concept;
    let more = row.concept;
    for section in more.langs {
        match concept.langs.iter_mut().find(|s| s.lang == section.lang) {
            Some(known) => {
                known.terms.extend(section.terms);
                if known.definition.is_empty() {
                    known.definition = section.definition;
                }
                known.notes.extend(section.notes);
            }
            None => concept.langs.push(section),
        }
    }
    if concept.subject_field.is_empty() {
        concept.subject_field = more.subject_field;
    }
    if concept.source.is_empty() {
        concept.source = more.source;
    }
    concept.notes.extend(more.notes);
    for id in more.cross_refs {
        if !concept.cross_refs.contains(&id) {
            concept.cross_refs.push(id);
        }
    }
    current.warnings.extend(row.warnings);
}

/// Tab or comma, from the first line that is not a comment.
fn detect_delimiter(head: &[u8], comment: Option<u8>) -> u8 {
    let line = head
        .split(|&b| b == b'\n')
        .find(|line| comment.is_none() || line.first() != comment.as_ref())
        .unwrap_or(head);
    let tabs = line.iter().filter(|&&b| b == b'\t').count();
    let commas = line.iter().filter(|&&b| b == b',').count();
    if tabs > 0 && tabs >= commas {
        b'\t'
    } else {
        b','
    }
}

fn from_csv(err: csv::Error) -> FormatError {
    let line = err.position().map_or(1, csv::Position::line);
    match err.into_kind() {
        csv::ErrorKind::Io(io) => decode::from_io(io),
        kind => FormatError::malformed(line, 1, format!("{kind:?}")),
    }
}

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

fn row_to_concept(
    columns: &[Column],
    record: &csv::StringRecord,
    ordinal: u64,
    line: u64,
    warnings: &mut Vec<String>,
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
        warnings.push(format!(
            "line {line}: {} fields but {} columns; the extra fields are ignored",
            record.len(),
            columns.len()
        ));
    }
    // A term without a status is admitted, as in TBX files and the API: a dictionary with no
    // status column must not outrank a glossary whose terminologist marked the preferred
    // terms.
    let status = match parse_status(cell(&Column::Status)) {
        Ok(status) => status.unwrap_or(TermStatus::Admitted),
        Err(()) => {
            warnings.push(format!(
                "line {line}: unknown status {:?}; terms are admitted",
                cell(&Column::Status)
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
    let lang_field = |lang: &Lang, field: LangField| -> &str {
        columns
            .iter()
            .position(|c| matches!(c, Column::LangField(l, f) if l == lang && *f == field))
            .and_then(|i| record.get(i))
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
                Err(()) => warnings.push(format!(
                    "line {line}: unknown {lang} status {:?}; the row's status is kept",
                    field(LangField::Status)
                )),
            }
            match field(LangField::Type) {
                "" => {}
                given => match parse_term_type(given) {
                    Some(term_type) => term.term_type = term_type,
                    None => warnings.push(format!(
                        "line {line}: unknown {lang} term type {given:?}; not kept"
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

/// Writes concepts as a glossary that [`CsvReader`] reads back as they were, separated by
/// `delimiter` (`b','` or `b'\t'`).
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
        LangField::Status => status_name(term.status),
        LangField::Type => term_type_value(term.term_type).unwrap_or(""),
        LangField::PartOfSpeech => &term.part_of_speech,
        LangField::Note => &term.note,
        LangField::Source => &term.source,
        LangField::Context => &term.context,
        LangField::Definition | LangField::LangNote => "",
    }
}

fn status_name(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferred",
        TermStatus::Admitted => "admitted",
        TermStatus::Deprecated => "deprecated",
        TermStatus::Forbidden => "forbidden",
        TermStatus::Superseded => "superseded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TermType;

    fn read(text: &str) -> Vec<Result<CsvEntry, FormatError>> {
        CsvReader::new(text.as_bytes()).collect()
    }

    fn concepts(text: &str) -> Vec<Concept> {
        read(text)
            .into_iter()
            .map(|r| r.expect("row should be read").concept)
            .collect()
    }

    #[test]
    fn language_columns_and_optional_fields() {
        let csv = "id,zh-CN,ru,en-US,status,note,subject_field,part_of_speech,definition\n\
                   sco,上海合作组织,Шанхайская организация сотрудничества,Shanghai Cooperation Organisation,preferred,\"since 2001, Beijing\",SCO,noun,An organisation.\n";
        let c = concepts(csv).remove(0);
        assert_eq!(c.id, "sco");
        assert_eq!(c.subject_field, "SCO");
        assert_eq!(c.notes, vec!["since 2001, Beijing"]);
        let langs: Vec<&str> = c.langs.iter().map(|s| s.lang.as_str()).collect();
        assert_eq!(langs, vec!["zh", "ru", "en-US"]);
        assert_eq!(c.langs[0].definition, "An organisation.");
        for section in &c.langs {
            assert_eq!(section.terms.len(), 1);
            assert_eq!(section.terms[0].status, TermStatus::Preferred);
            assert_eq!(section.terms[0].part_of_speech, "noun");
        }
    }

    #[test]
    fn tab_delimiter_is_detected_and_empty_cells_are_no_terms() {
        let c = concepts("zh\tru\ten\n\tдух\tspirit\n").remove(0);
        assert_eq!(c.id, "row-1");
        assert_eq!(c.langs.len(), 2);
        assert_eq!(c.langs[0].lang, Lang::ru());
    }

    #[test]
    fn explicit_delimiter_wins_over_detection() {
        let options = CsvOptions {
            delimiter: Some(b';'),
            ..CsvOptions::default()
        };
        let entries: Vec<_> = CsvReader::with_options("en;ru\na,b;б\n".as_bytes(), options)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(entries[0].concept.langs[0].terms[0].text, "a,b");
    }

    #[test]
    fn alternative_column_names() {
        let c =
            concepts("ID,en,ru,Status,Subject,POS,Notes\nx,a,б,deprecated,s,verb,n\n").remove(0);
        assert_eq!((c.id.as_str(), c.subject_field.as_str()), ("x", "s"));
        assert_eq!(c.langs[0].terms[0].status, TermStatus::Deprecated);
        assert_eq!(c.langs[0].terms[0].part_of_speech, "verb");
        assert_eq!(c.notes, vec!["n"]);
    }

    #[test]
    fn status_values() {
        for (value, want) in [
            ("preferred", TermStatus::Preferred),
            ("admitted", TermStatus::Admitted),
            ("deprecated", TermStatus::Deprecated),
            ("forbidden", TermStatus::Forbidden),
            ("deprecatedTerm-admn-sts", TermStatus::Deprecated),
            ("superseded", TermStatus::Superseded),
            ("supersededTerm-admn-sts", TermStatus::Superseded),
            ("", TermStatus::Admitted),
        ] {
            let c = concepts(&format!("en,status\nx,{value}\n")).remove(0);
            assert_eq!(c.langs[0].terms[0].status, want, "{value:?}");
        }
        let entry = read("en,status\nx,maybe\n").remove(0).unwrap();
        assert_eq!(entry.concept.langs[0].terms[0].status, TermStatus::Admitted);
        assert!(entry.warnings[0].contains("maybe"));
        let no_column = concepts("zh,en\n上海合作组织,Shanghai Cooperation Organization\n");
        let statuses: Vec<TermStatus> = no_column[0].terms().map(|(_, t)| t.status).collect();
        assert_eq!(statuses, [TermStatus::Admitted, TermStatus::Admitted]);
    }

    #[test]
    fn pair_rows_name_their_languages() {
        let csv = "stringID,sourceLang,targetLang,pos,description,sourceString,targetString\n\
                   1,en,zh-CN,noun,Cases confirmed by testing.,confirmed cases,确诊病例\n\
                   2,en,ru_RU,,,1918 flu,грипп 1918 года\n\
                   3,english,ru,,,x,y\n";
        let results = read(csv);
        let first = &results[0].as_ref().unwrap().concept;
        assert_eq!(first.id, "1");
        assert_eq!(first.langs[0].lang, Lang::en());
        assert_eq!(first.langs[0].definition, "Cases confirmed by testing.");
        assert_eq!(first.langs[1].lang, Lang::zh());
        assert_eq!(first.langs[1].terms[0].text, "确诊病例");
        assert_eq!(first.langs[1].terms[0].part_of_speech, "noun");
        assert_eq!(
            results[1].as_ref().unwrap().concept.langs[1].lang.as_str(),
            "ru-RU"
        );
        assert!(matches!(
            results[2],
            Err(FormatError::Rejected {
                line: 4,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn row_without_terms_is_rejected_with_its_line_and_reading_continues() {
        let results = read("id,en,ru\na,x,\nb,,\nc,,y\n");
        assert!(results[0].is_ok());
        assert!(matches!(
            results[1],
            Err(FormatError::Rejected {
                line: 3,
                column: 1,
                ..
            })
        ));
        assert_eq!(results[2].as_ref().unwrap().concept.id, "c");
    }

    #[test]
    fn quoted_fields_may_span_lines_and_report_their_first_line() {
        let results = read("en,note\n\"multi\nline\",n\nnext,\n");
        assert_eq!(
            results[0].as_ref().unwrap().concept.langs[0].terms[0].text,
            "multi\nline"
        );
        assert_eq!(results[1].as_ref().unwrap().line, 4);
    }

    #[test]
    fn unknown_columns_become_notes_with_one_warning() {
        let results =
            read("alpha_2,name_kind,en,ru\nAW,name,Aruba,Аруба\nAF,name,Afghanistan,Афганистан\n");
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.concept.notes, vec!["alpha_2: AW", "name_kind: name"]);
        assert_eq!(first.warnings.len(), 2);
        assert!(results[1].as_ref().unwrap().warnings.is_empty());
    }

    #[test]
    fn header_without_languages_is_fatal() {
        let results = read("term,translation\nquestion,csv q\n");
        assert_eq!(results.len(), 1);
        assert!(matches!(
            results[0],
            Err(FormatError::Malformed { line: 1, .. })
        ));
    }

    #[test]
    fn headerless_files_take_columns_and_comments_from_options() {
        let options = CsvOptions {
            delimiter: None,
            columns: Some(vec!["ja".into(), "fr".into(), "note".into()]),
            comment: Some(b'#'),
        };
        let text = "# coding: utf-8\n地球システム\tSystem Terre\thttps://fr.wikipedia.org\n";
        let entries: Vec<_> = CsvReader::with_options(text.as_bytes(), options)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].line, 2);
        assert_eq!(entries[0].concept.notes, vec!["https://fr.wikipedia.org"]);
    }

    #[test]
    fn empty_file_has_no_rows() {
        assert!(read("").is_empty());
    }

    #[test]
    fn encodings_bom_and_utf16() {
        let text = "en\tru\nhedgehog\tёж\n";
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        for bytes in [utf8_bom, le, be] {
            let entry = CsvReader::new(&bytes[..]).next().unwrap().unwrap();
            assert_eq!(entry.concept.langs[1].terms[0].text, "ёж");
            assert_eq!(
                entry.concept.langs[0].lang,
                Lang::en(),
                "BOM must not stick to the header"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_malformed_with_line_and_column() {
        let results: Vec<_> = CsvReader::new(&b"en,ru\nok,\xD0\xB4\nbad,\xD0x\n"[..]).collect();
        assert!(results[0].is_ok());
        match &results[1] {
            Err(FormatError::Malformed { line, column, .. }) => {
                assert_eq!((*line, *column), (3, 5))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(results.len(), 2);
    }

    #[test]
    fn written_glossary_reads_back_with_every_term_and_field() {
        let mut short = Term::with_status("上合", TermStatus::Admitted);
        short.term_type = TermType::Abbreviation;
        short.note = "colloquial,\n\"short\"".to_owned();
        let mut full = Term::preferred("上海合作组织");
        full.part_of_speech = "noun".to_owned();
        full.source = "宪章".to_owned();
        full.context = "上海合作组织成立于2001年。".to_owned();
        let sco = Concept {
            id: "sco".to_owned(),
            collection: String::new(),
            subject_field: "SCO, institutions".to_owned(),
            source: "sco.int".to_owned(),
            notes: vec!["first \"note\"".to_owned(), "second".to_owned()],
            cross_refs: vec!["sco-charter".to_owned(), "rats".to_owned()],
            langs: vec![
                LangSection {
                    lang: Lang::zh(),
                    definition: "定义".to_owned(),
                    notes: vec!["用法".to_owned()],
                    terms: vec![short, full],
                },
                LangSection {
                    lang: Lang::ru(),
                    definition: String::new(),
                    notes: Vec::new(),
                    terms: vec![
                        Term::preferred("ШОС"),
                        Term::with_status("Шанхайский пакт", TermStatus::Forbidden),
                        Term::with_status("ШОС-6", TermStatus::Deprecated),
                    ],
                },
            ],
            created_ms: 0,
            updated_ms: 0,
            revision: 0,
        };
        let next = Concept {
            id: "next".to_owned(),
            langs: vec![LangSection {
                lang: Lang::en(),
                definition: String::new(),
                notes: Vec::new(),
                terms: vec![Term::preferred("next")],
            }],
            cross_refs: Vec::new(),
            notes: Vec::new(),
            ..sco.clone()
        };
        for delimiter in [b',', b'\t'] {
            let mut out = Vec::new();
            write_csv(
                &mut out,
                [&sco, &next],
                &[Lang::zh(), Lang::ru(), Lang::en()],
                delimiter,
            )
            .unwrap();
            let text = String::from_utf8(out.clone()).unwrap();
            assert_eq!(
                text.lines().filter(|l| l.starts_with("sco")).count(),
                3,
                "one row per term of the largest section: {text}"
            );
            let back: Vec<CsvEntry> = CsvReader::new(&out[..]).map(|e| e.unwrap()).collect();
            assert_eq!(back.len(), 2, "{text}");
            assert_eq!(back[0].concept, sco);
            assert_eq!(back[0].line, 2, "a concept is reported at its first row");
            assert!(back[0].warnings.is_empty(), "{:?}", back[0].warnings);
            assert_eq!(back[1].concept, next);
        }
    }

    #[test]
    fn rows_with_the_same_id_make_one_concept_and_errors_keep_their_order() {
        let results = read(
            "id,en,en:status,ru\n\
             a,one,preferred,один\n\
             a,uno,deprecated,\n\
             b,,,\n\
             c,three,,\n",
        );
        let a = &results[0].as_ref().unwrap().concept;
        assert_eq!(a.langs[0].terms.len(), 2);
        assert_eq!(a.langs[0].terms[1].status, TermStatus::Deprecated);
        assert_eq!(a.langs[1].terms.len(), 1);
        assert!(matches!(
            results[1],
            Err(FormatError::Rejected { line: 4, .. })
        ));
        assert_eq!(results[2].as_ref().unwrap().concept.id, "c");
        assert_eq!(results.len(), 3);
        // Rows without an id are never joined.
        assert_eq!(read("en\nx\nx\n").len(), 2);
    }
}
