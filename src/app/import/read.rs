//! Reading an uploaded file: the format (named or detected), then its entries one by one,
//! whatever the format, each with where it starts and the reader's warnings about it.

use std::io::{BufRead, BufReader, Cursor, Read};

use crate::formats::{
    ConceptEntry, CsvOptions, CsvReader, Format, FormatError, ReadWarning, TbxReader, TmxReader,
};
use crate::model::{Concept, TranslationUnit};

/// Bytes looked at to detect the format.
pub(super) const PEEK_BYTES: usize = 4096;
/// Read buffer of the format readers.
const READ_BUFFER: usize = 64 * 1024;

/// One entry of any format, with where it starts.
pub(super) struct ReadEntry {
    pub(super) entry: Entry,
    pub(super) line: u64,
    pub(super) column: u64,
    pub(super) warnings: Vec<ReadWarning>,
    pub(super) generated_id: bool,
}

impl From<ConceptEntry> for ReadEntry {
    fn from(e: ConceptEntry) -> ReadEntry {
        ReadEntry {
            entry: Entry::Concept(e.concept),
            line: e.line,
            column: e.column,
            warnings: e.warnings,
            generated_id: e.generated_id,
        }
    }
}

/// What an entry holds: a concept (TBX, CSV, TSV) or a translation unit (TMX).
pub(super) enum Entry {
    Concept(Concept),
    Unit(TranslationUnit),
}

impl Entry {
    /// The entry's id as the file gave it (empty when it gave none).
    pub(super) fn id(&self) -> String {
        match self {
            Entry::Concept(c) => c.id.clone(),
            Entry::Unit(u) => u.id.clone(),
        }
    }
}

/// The entries of a file, in file order.
pub(super) type Entries = Box<dyn Iterator<Item = Result<ReadEntry, FormatError>>>;

/// Reads up to `want` bytes of `input` (fewer only at the end of the file), for format
/// detection.
pub(super) fn peek(input: &mut impl Read, want: usize) -> std::io::Result<Vec<u8>> {
    let mut first = Vec::with_capacity(want);
    input.take(want as u64).read_to_end(&mut first)?;
    Ok(first)
}

/// The entries of a file in `format`: its first bytes `first` (already peeked), then `rest`.
pub(super) fn entries(
    format: Format,
    first: Vec<u8>,
    rest: impl Read + 'static,
    skip_empty: bool,
) -> Entries {
    let input = BufReader::with_capacity(READ_BUFFER, Cursor::new(first).chain(rest));
    read(format, input, skip_empty)
}

fn read(format: Format, input: impl BufRead + 'static, skip_empty: bool) -> Entries {
    let csv = |delimiter: u8| CsvOptions {
        delimiter: Some(delimiter),
        ..CsvOptions::default()
    };
    match format {
        Format::Tbx => Box::new(
            TbxReader::new(input)
                .skip_empty_terms(skip_empty)
                .map(|r| r.map(ReadEntry::from)),
        ),
        Format::Tmx => Box::new(TmxReader::new(input).map(|r| {
            r.map(|e| ReadEntry {
                generated_id: e.unit.id.is_empty(),
                entry: Entry::Unit(e.unit),
                line: e.line,
                column: e.column,
                warnings: e.warnings,
            })
        })),
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            Box::new(CsvReader::with_options(input, csv(delimiter)).map(|r| r.map(ReadEntry::from)))
        }
    }
}
