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
//! Reserved names take precedence over language tags (`id` is the identifier, not Indonesian;
//! `pos` is the part of speech). Any other column is kept as a concept note `"name: value"`.

use std::borrow::Borrow;
use std::io::{BufRead, Write};

use crate::model::{Concept, Lang, LangSection, Term, TermStatus};

use super::decode::{self, Sniff, TextSource};
use super::error::FormatError;

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
    /// Any other named column, kept as a note.
    Other(String),
    /// A column without a name.
    Ignored,
}

fn classify(name: &str) -> Column {
    let name = name.trim();
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

    fn read_next(&mut self) -> Result<Option<CsvEntry>, FormatError> {
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

    fn next(&mut self) -> Option<Self::Item> {
        match self.read_next() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => None,
            Err(e) => {
                if e.is_fatal() {
                    self.state = State::Done;
                }
                Some(Err(e))
            }
        }
    }
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
        "deprecated" | "deprecatedterm" | "supersededterm" | "obsolete" | "d" => {
            Ok(Some(TermStatus::Deprecated))
        }
        "forbidden" | "forbiddenterm" | "f" => Ok(Some(TermStatus::Forbidden)),
        _ => Err(()),
    }
}

fn add_term(langs: &mut Vec<LangSection>, lang: Lang, term: Term) {
    match langs.iter_mut().find(|s| s.lang == lang) {
        Some(section) => section.terms.push(term),
        None => langs.push(LangSection {
            lang,
            definition: String::new(),
            notes: Vec::new(),
            terms: vec![term],
        }),
    }
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
    let status = match parse_status(cell(&Column::Status)) {
        Ok(status) => status.unwrap_or(TermStatus::Preferred),
        Err(()) => {
            warnings.push(format!(
                "line {line}: unknown status {:?}; terms are preferred",
                cell(&Column::Status)
            ));
            TermStatus::Preferred
        }
    };
    let part_of_speech = cell(&Column::PartOfSpeech);
    let term = |text: &str| {
        let mut t = Term::with_status(text, status);
        t.part_of_speech = part_of_speech.to_owned();
        t
    };
    let mut langs: Vec<LangSection> = Vec::new();
    for (column, value) in columns.iter().zip(record.iter()) {
        if let Column::Lang(lang) = column {
            let value = value.trim();
            if !value.is_empty() {
                add_term(&mut langs, lang.clone(), term(value));
            }
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
    let mut notes: Vec<String> = cell(&Column::Note)
        .split('\n')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
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
        cross_refs: Vec::new(),
        langs,
        created_ms: 0,
        updated_ms: 0,
        revision: 0,
    })
}

/// Writes concepts as a glossary with the columns `id`, one per language in `langs`,
/// `subject`, `definition` and `note`, separated by `delimiter` (`b','` or `b'\t'`).
///
/// Each language cell holds the section's best term (preferred first, see
/// [`LangSection::preferred_term`]); other terms, statuses and term-level fields are not
/// written: a glossary row has room for one rendering per language. `definition` is that of
/// the first language in `langs`, `note` the concept's notes one per line, as
/// [`CsvReader`] reads them back.
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
    let mut header: Vec<&str> = vec!["id"];
    header.extend(langs.iter().map(Lang::as_str));
    header.extend(["subject", "definition", "note"]);
    writer.write_record(&header).map_err(map)?;
    for concept in concepts {
        let concept = concept.borrow();
        let mut row: Vec<&str> = vec![&concept.id];
        for lang in langs {
            let best = concept
                .section(lang)
                .and_then(LangSection::preferred_term)
                .map_or("", |t| t.text.as_str());
            row.push(best);
        }
        let definition = langs
            .first()
            .and_then(|l| concept.section(l))
            .map_or("", |s| s.definition.as_str());
        let notes = concept.notes.join("\n");
        row.extend([concept.subject_field.as_str(), definition, &notes]);
        writer.write_record(&row).map_err(map)?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ("", TermStatus::Preferred),
        ] {
            let c = concepts(&format!("en,status\nx,{value}\n")).remove(0);
            assert_eq!(c.langs[0].terms[0].status, want, "{value:?}");
        }
        let entry = read("en,status\nx,maybe\n").remove(0).unwrap();
        assert_eq!(
            entry.concept.langs[0].terms[0].status,
            TermStatus::Preferred
        );
        assert!(entry.warnings[0].contains("maybe"));
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
    fn written_glossary_reads_back() {
        let mut sco = Concept {
            id: "sco".to_owned(),
            collection: String::new(),
            subject_field: "SCO, institutions".to_owned(),
            source: String::new(),
            notes: vec!["first \"note\"".to_owned(), "second".to_owned()],
            cross_refs: Vec::new(),
            langs: vec![
                LangSection {
                    lang: Lang::zh(),
                    definition: "定义".to_owned(),
                    notes: Vec::new(),
                    terms: vec![
                        Term::with_status("上合", TermStatus::Admitted),
                        Term::preferred("上海合作组织"),
                    ],
                },
                LangSection {
                    lang: Lang::ru(),
                    definition: String::new(),
                    notes: Vec::new(),
                    terms: vec![Term::preferred("ШОС")],
                },
            ],
            created_ms: 0,
            updated_ms: 0,
            revision: 0,
        };
        for delimiter in [b',', b'\t'] {
            let mut out = Vec::new();
            write_csv(
                &mut out,
                [&sco],
                &[Lang::zh(), Lang::ru(), Lang::en()],
                delimiter,
            )
            .unwrap();
            let back = CsvReader::new(&out[..]).next().unwrap().unwrap().concept;
            assert_eq!(back.langs[0].terms, vec![Term::preferred("上海合作组织")]);
            assert_eq!(back.langs[0].definition, "定义");
            assert_eq!(back.langs[1].terms, vec![Term::preferred("ШОС")]);
            assert_eq!(back.langs.len(), 2);
            assert_eq!(
                (back.id.as_str(), back.subject_field.as_str()),
                ("sco", "SCO, institutions")
            );
            assert_eq!(back.notes, sco.notes);
        }
        sco.notes.clear();
    }
}
