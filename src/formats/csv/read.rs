//! The glossary reader: decodes the file, reads the header and streams the rows, joining the
//! consecutive rows of one concept.

use std::io::BufRead;

use std::collections::HashSet;

use crate::formats::decode::{self, Sniff, TextSource};
use crate::formats::limits::{self, MAX_COLUMNS, MAX_ENTRY_BYTES, MAX_RUN_BYTES};
use crate::formats::{ConceptEntry, FormatError, ReadWarning};

use super::columns::{classify, Column};
use super::row::row_to_concept;
use super::CsvOptions;

/// Reads a glossary CSV or TSV file one row (concept) at a time.
///
/// Yields `Ok` per usable row; [`FormatError::Rejected`] for a row without any term or with an
/// invalid language in a pair row, after which it continues; and at most one fatal error
/// (a header without language columns, invalid UTF-8, an unsupported encoding, I/O, a limit
/// passed: a row longer than [`MAX_RUN_BYTES`], a header of more than [`MAX_COLUMNS`], the
/// rows of one concept longer than [`MAX_ENTRY_BYTES`]), after which it ends. An empty file
/// yields nothing.
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
    header_warnings: Vec<ReadWarning>,
    record: csv::StringRecord,
    /// The concept being read: the rows that follow with the same id add to it.
    current: Option<ConceptEntry>,
    /// Where `current`'s first row starts in the text, and where the row last read starts.
    current_start: u64,
    row_start: u64,
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
            current_start: 0,
            row_start: 0,
            queued: None,
        }
    }

    /// Opens the input and reads the header. `Ok(false)` for an empty file.
    fn open(&mut self, input: R) -> Result<bool, FormatError> {
        let mut source = TextSource::open(input, Sniff::Text)?;
        // The csv crate buffers a whole row: each row (marked as it is read) is bounded as it
        // arrives. The crate reads a few KiB ahead, which the mark cannot see; the limit is
        // that much less exact.
        source.limit_runs(MAX_RUN_BYTES);
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
        if names.len() > MAX_COLUMNS {
            return Err(FormatError::malformed(
                1,
                1,
                format!(
                    "the header has {} columns, more than the limit of {MAX_COLUMNS}",
                    names.len()
                ),
            ));
        }
        reader.get_mut().mark_run();
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
                self.header_warnings.push(ReadWarning::new(
                    1,
                    1,
                    format!(
                        "column {name:?} is neither a language tag nor a known field; kept as \
                         notes"
                    ),
                ));
            }
        }
        self.state = State::Open(Box::new(reader));
        Ok(true)
    }

    /// The next row as an entry of its own.
    fn read_row(&mut self) -> Result<Option<ConceptEntry>, FormatError> {
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
            reader.get_mut().mark_run();
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
        self.row_start = self.record.position().map_or(0, csv::Position::byte);
        let mut warnings = std::mem::take(&mut self.header_warnings);
        let concept = row_to_concept(&self.columns, &self.record, self.rows, line, &mut warnings)?;
        let generated_id = !self
            .columns
            .iter()
            .zip(self.record.iter())
            .any(|(column, value)| *column == Column::Id && !value.trim().is_empty());
        Ok(Some(ConceptEntry {
            concept,
            line,
            column: 1,
            warnings,
            generated_id,
        }))
    }
}

impl<R: BufRead> Iterator for CsvReader<R> {
    type Item = Result<ConceptEntry, FormatError>;

    /// Reads rows until one starts another concept (or an error or the end comes), so that a
    /// concept written over several rows is handed out whole, with its first row's line.
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.queued.take() {
            return Some(Err(error));
        }
        loop {
            match self.read_row() {
                Ok(Some(row)) => match &mut self.current {
                    Some(current) if continues(current, &row) => {
                        if self.row_start - self.current_start > MAX_ENTRY_BYTES {
                            self.state = State::Done;
                            return Some(Err(concept_too_long(current)));
                        }
                        merge_rows(current, row);
                    }
                    _ => {
                        self.current_start = self.row_start;
                        if let Some(done) = self.current.replace(row) {
                            return Some(Ok(finish(done)));
                        }
                    }
                },
                Ok(None) => return self.current.take().map(|done| Ok(finish(done))),
                Err(e) => {
                    if e.is_fatal() {
                        self.state = State::Done;
                    }
                    return match self.current.take() {
                        Some(done) => {
                            self.queued = Some(e);
                            Some(Ok(finish(done)))
                        }
                        None => Some(Err(e)),
                    };
                }
            }
        }
    }
}

/// Whether `row` continues the concept `current`: both name the same id.
fn continues(current: &ConceptEntry, row: &ConceptEntry) -> bool {
    !current.generated_id && !row.generated_id && current.concept.id == row.concept.id
}

/// Adds a further row of a concept to it: its terms (and sections) after those read, and
/// whatever concept-level data the first row left empty.
fn merge_rows(current: &mut ConceptEntry, row: ConceptEntry) {
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
    concept.cross_refs.extend(more.cross_refs);
    current.warnings.extend(row.warnings);
}

/// A concept whose rows are all read: each cross reference once, in the order first given
/// (the rows are joined first and made unique here, in one pass over them all).
fn finish(mut entry: ConceptEntry) -> ConceptEntry {
    let mut seen = HashSet::new();
    entry
        .concept
        .cross_refs
        .retain(|id| seen.insert(id.clone()));
    entry
}

/// The fatal error for a concept whose rows passed [`MAX_ENTRY_BYTES`].
fn concept_too_long(current: &ConceptEntry) -> FormatError {
    FormatError::malformed(
        current.line,
        1,
        format!(
            "the rows of concept {:?} are longer than the limit of {} for one entry",
            current.concept.id,
            limits::size(MAX_ENTRY_BYTES)
        ),
    )
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
