//! Exchange file formats: streaming readers and writers for TBX, TMX and CSV/TSV, and a
//! reader of XLIFF 1.2 and 2.x for checking translations.
//!
//! Owns the translation between files and the domain model ([`crate::model`]). It must not
//! know about gRPC or the store: readers yield model values with positions and warnings, and
//! the caller decides what to commit.
//!
//! | format | reader | writer |
//! |---|---|---|
//! | TBX v3 (DCA, DCT), TBX 2008 (`martif`), TBX-Min 2013 | [`TbxReader`] | [`write_tbx`] (v3 TBX-Basic, 2008) |
//! | TMX 1.4b, 1.1 | [`TmxReader`] | [`write_tmx`] (1.4b) |
//! | glossary CSV / TSV | [`CsvReader`] | [`write_csv`] |
//! | XLIFF 1.2, 2.x (segment pairs) | [`XliffReader`] | — |
//!
//! Every reader is an [`Iterator`] over one entry at a time, so memory stays bounded by the
//! largest entry, not the file: a [`ConceptEntry`] from TBX and glossaries, a [`TmxEntry`] from
//! TMX, each with where it starts and a [`ReadWarning`] at its own line and column for whatever
//! was kept in a lossy way. An entry that cannot be used comes back as
//! [`FormatError::Rejected`] with its line and column and the reader goes on; a fatal error
//! ([`FormatError::Malformed`], [`FormatError::Encoding`], [`FormatError::Io`]) comes back once
//! and the reader ends.
//!
//! Every reader holds its file to the [`limits`] as the bytes arrive (a run of text or markup,
//! an entry, nesting, attributes, glossary columns), so that memory stays bounded by those
//! limits whatever the file holds; passing one is a [`FormatError::Malformed`] at the line and
//! column where the construct began.
//!
//! Encodings: UTF-8 with or without a byte-order mark and UTF-16 with one, for every format;
//! for XML also UTF-16 without a byte-order mark and any encoding of the WHATWG Encoding
//! Standard its declaration names (e.g. `GB18030`, `GBK`, `GB2312`, `Big5`, `Shift_JIS`,
//! `EUC-JP`, `EUC-KR`, `windows-1251`, `KOI8-R`, `ISO-8859-5`), decoded as the file streams
//! by `encoding_rs`. Anything else is a [`FormatError::Encoding`]. Invalid bytes are never
//! replaced: they are a [`FormatError::Malformed`] at their line and column.

mod csv;
mod decode;
mod entry;
mod error;
pub mod limits;
mod tbx;
mod tmx;
mod xliff;
mod xml;

#[cfg(test)]
mod conformance;

pub use self::csv::{write_csv, CsvOptions, CsvReader};
pub use self::entry::{ConceptEntry, ReadWarning};
pub use self::error::FormatError;
pub use self::tbx::{write_tbx, TbxReader, TbxStyle};
pub use self::tmx::{check_tmx_markup, check_tmx_unit, write_tmx, TmxEntry, TmxProblem, TmxReader};
pub use self::xliff::{XliffReader, XliffSegment};

/// An exchange file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// TBX, any version ([`TbxReader`]).
    Tbx,
    /// TMX ([`TmxReader`]).
    Tmx,
    /// Comma-separated glossary ([`CsvReader`]).
    Csv,
    /// Tab-separated glossary ([`CsvReader`]).
    Tsv,
}

/// Guesses the format of a file from its first bytes (a few hundred are enough; up to a few
/// KiB help when a long comment or DOCTYPE comes first) and, as a fallback, its name.
///
/// XML is recognized by its root element after any byte-order mark, XML declaration,
/// comments and DOCTYPE: `<tbx>`, `<martif>` or `<TBX>` is TBX, `<tmx>` is TMX, whatever
/// the file is called. Other text is CSV or TSV by extension (`.csv`, `.tsv`, `.tab`), else by
/// whether its first line holds tabs or commas. `None` when nothing fits.
///
/// ```
/// use tolmach::formats::{detect_format, Format};
///
/// let tmx = b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- export -->\n<tmx version=\"1.4\">";
/// assert_eq!(detect_format(tmx, Some("memory.xml")), Some(Format::Tmx));
/// assert_eq!(detect_format(b"en\tru\nyes\t\xD0\xB4\xD0\xB0\n", None), Some(Format::Tsv));
/// assert_eq!(detect_format(b"", Some("glossary.CSV")), Some(Format::Csv));
/// ```
pub fn detect_format(first_bytes: &[u8], file_name: Option<&str>) -> Option<Format> {
    let text = sniff_text(first_bytes);
    let by_name = file_name.and_then(format_from_name);
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        return match root_element(trimmed) {
            Some(root) => match xml::local_name(&root) {
                "tbx" | "martif" | "TBX" => Some(Format::Tbx),
                "tmx" => Some(Format::Tmx),
                _ => by_name.filter(|f| matches!(f, Format::Tbx | Format::Tmx)),
            },
            // The root is beyond the bytes given: trust the name.
            None => by_name,
        };
    }
    if let Some(format) = by_name {
        return Some(format);
    }
    if text.contains('\0') || text.is_empty() {
        return None;
    }
    let first_line = text.lines().next().unwrap_or("");
    let tabs = first_line.matches('\t').count();
    let commas = first_line.matches(',').count();
    if tabs > 0 && tabs >= commas {
        Some(Format::Tsv)
    } else if commas > 0 {
        Some(Format::Csv)
    } else {
        None
    }
}

fn format_from_name(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "tbx" => Some(Format::Tbx),
        "tmx" => Some(Format::Tmx),
        "csv" => Some(Format::Csv),
        "tsv" | "tab" => Some(Format::Tsv),
        _ => None,
    }
}

/// The first bytes as text: a byte-order mark decides UTF-8 or UTF-16; otherwise UTF-16
/// without a mark is recognized by its zero bytes around `<`, and anything else is read as
/// UTF-8 (markup is ASCII in every encoding an XML declaration may name).
fn sniff_text(bytes: &[u8]) -> String {
    let utf16 = |bytes: &[u8], big_endian: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| {
                if big_endian {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    u16::from_le_bytes([p[0], p[1]])
                }
            })
            .collect();
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        utf16(rest, false)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        utf16(rest, true)
    } else if bytes.starts_with(&[b'<', 0]) {
        utf16(bytes, false)
    } else if bytes.starts_with(&[0, b'<']) {
        utf16(bytes, true)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The name of the first element, skipping the prolog; `None` if it is not in `text`.
fn root_element(mut text: &str) -> Option<String> {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("<?") {
            text = &rest[rest.find("?>")? + 2..];
        } else if let Some(rest) = text.strip_prefix("<!--") {
            text = &rest[rest.find("-->")? + 3..];
        } else if let Some(rest) = text.strip_prefix("<!") {
            // DOCTYPE, possibly with an internal subset in brackets.
            let mut depth = 0usize;
            let end = rest.char_indices().find(|&(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    '>' if depth == 0 => return true,
                    _ => {}
                }
                false
            })?;
            text = &rest[end.0 + 1..];
        } else if let Some(rest) = text.strip_prefix('<') {
            let name: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/'))
                .collect();
            let complete = rest.len() > name.len();
            return (complete && !name.is_empty()).then_some(name);
        } else {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<FormatError>();
        check::<Format>();
        check::<ConceptEntry>();
        check::<ReadWarning>();
        check::<TbxStyle>();
        check::<TbxReader<&[u8]>>();
        check::<TmxEntry>();
        check::<TmxReader<&[u8]>>();
        check::<CsvOptions>();
        check::<CsvReader<&[u8]>>();
    }

    #[test]
    fn detects_formats_by_root_element_then_name_then_content() {
        let utf16_tmx: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?><tmx version=\"1.4\">"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let cases: &[(&[u8], Option<&str>, Option<Format>)] = &[
            (b"<?xml version='1.0'?>\n<!DOCTYPE martif SYSTEM \"TBXcoreStructV02.dtd\">\n<martif type=\"TBX\">", None, Some(Format::Tbx)),
            (b"<tbx type=\"TBX-Basic\" style=\"dca\">", Some("x.xml"), Some(Format::Tbx)),
            (b"<TBX dialect=\"TBX-Min\">", None, Some(Format::Tbx)),
            (b"<?xml version=\"1.0\"?><!-- a > b --><tmx version=\"1.4\">", Some("memory.txt"), Some(Format::Tmx)),
            (&utf16_tmx, None, Some(Format::Tmx)),
            (b"<!DOCTYPE x [ <!ENTITY a \"<b>\"> ]><tmx>", None, Some(Format::Tmx)),
            (b"<html><body>", Some("page.tbx"), Some(Format::Tbx)),
            (b"<html><body>", None, None),
            (b"<?xml version=\"1.0\"?>\n<!-- long comment cut", Some("a.tmx"), Some(Format::Tmx)),
            (b"id,en,ru\n1,a,b", None, Some(Format::Csv)),
            (b"id\ten\tru\n", None, Some(Format::Tsv)),
            (b"id,en,ru\n", Some("g.tsv"), Some(Format::Tsv)),
            (b"kde\tkoo moo\n", Some("test.tab"), Some(Format::Tsv)),
            (b"just words\n", None, None),
            (b"", None, None),
        ];
        for (bytes, name, want) in cases {
            assert_eq!(
                detect_format(bytes, *name),
                *want,
                "{:?} {name:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
