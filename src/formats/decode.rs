//! Turns the raw bytes of an exchange file into checked UTF-8 and keeps track of line and
//! column while the parsers consume it.
//!
//! Owns encoding detection (byte-order marks, the XML declaration) and transcoding, which
//! `encoding_rs` does incrementally, one buffer at a time, so a file is never held whole. The
//! parsers above it (quick-xml, csv) only ever see valid UTF-8. It knows nothing of TBX, TMX
//! or CSV structure.
//!
//! Invalid input is not replaced by U+FFFD: the valid text before it is handed out first, and
//! the next read fails with an [`InputError`] that carries the exact line and column, so the
//! import report can point at the byte.

use std::fmt;
use std::io::{self, BufRead, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, GBK, REPLACEMENT, UTF_8};
use encoding_rs::{UTF_16BE, UTF_16LE};

use super::error::FormatError;
use super::limits;

/// Size of the raw and the decoded buffer.
const BUF_SIZE: usize = 64 * 1024;
/// How much of the file is examined for a byte-order mark and an XML declaration.
const SNIFF_SIZE: usize = 1024;
/// What the error messages say is supported.
const SUPPORTED: &str = "supported: UTF-8, UTF-16 with a byte-order mark, and for XML also \
                         UTF-16 without one and any encoding of the WHATWG Encoding Standard its \
                         declaration names, e.g. GB18030, GBK, GB2312, Big5, Shift_JIS, EUC-JP, \
                         EUC-KR, windows-1250 to windows-1258, KOI8-R, KOI8-U, ISO-8859-x";

/// What the sniffer may look at to find the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// XML: byte-order mark, then the `encoding` of the XML declaration.
    Xml,
    /// Plain text (CSV, TSV): byte-order mark, else UTF-8.
    Text,
}

/// The error a read fails with when the input is not valid in its encoding. It travels inside
/// an [`io::Error`] of kind `InvalidData` through quick-xml and csv, and is turned back into a
/// [`FormatError::Malformed`] by [`input_error`].
#[derive(Debug, Clone)]
pub(crate) struct InputError {
    pub line: u64,
    pub column: u64,
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for InputError {}

/// The error a read fails with when a run (see [`TextSource::limit_runs`]) grows past its
/// limit: where the limit was passed. Travels inside an [`io::Error`] of kind `InvalidData`
/// like [`InputError`]; the XML layer rewords it to name the construct and where it started.
#[derive(Debug, Clone)]
pub(crate) struct RunTooLong {
    pub line: u64,
    pub column: u64,
    pub limit: u64,
}

impl fmt::Display for RunTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: longer than the limit of {}",
            self.line,
            self.column,
            limits::size(self.limit)
        )
    }
}

impl std::error::Error for RunTooLong {}

/// The [`RunTooLong`] inside an I/O error, if that is what it is.
pub(crate) fn run_too_long(err: &io::Error) -> Option<&RunTooLong> {
    err.get_ref().and_then(|e| e.downcast_ref::<RunTooLong>())
}

/// The [`InputError`] inside an I/O error, if that is what it is.
pub(crate) fn input_error(err: &io::Error) -> Option<&InputError> {
    err.get_ref().and_then(|e| e.downcast_ref::<InputError>())
}

/// Converts an I/O error from below the parser into a [`FormatError`]: invalid input becomes
/// `Malformed` with its position, anything else stays `Io`.
pub(crate) fn from_io(err: io::Error) -> FormatError {
    if let Some(e) = input_error(&err) {
        return FormatError::malformed(e.line, e.column, &e.reason);
    }
    if let Some(e) = run_too_long(&err) {
        return FormatError::malformed(
            e.line,
            e.column,
            format!(
                "a row longer than the limit of {} (passed here)",
                limits::size(e.limit)
            ),
        );
    }
    FormatError::Io(err)
}

/// A [`BufRead`] of valid UTF-8 over a file in any supported encoding, which knows the line and
/// column of the next byte it will hand out.
pub(crate) struct TextSource<R> {
    inner: R,
    /// Keeps a sequence split across two raw buffers until its last byte arrives.
    decoder: Decoder,
    /// Raw bytes read from `inner`, not yet decoded: `raw[raw_pos..raw_end]`.
    raw: Vec<u8>,
    raw_pos: usize,
    raw_end: usize,
    /// `inner` has reported the end of input.
    input_done: bool,
    /// The decoder has been told the input ended and had nothing left over; it must not be
    /// called again.
    decoder_done: bool,
    /// Decoded UTF-8 ready to hand out: `out[out_pos..out_end]`.
    out: Vec<u8>,
    out_pos: usize,
    out_end: usize,
    /// Reason of an invalid sequence found right after the decoded text.
    pending_error: Option<String>,
    /// The error already reported; repeated on every later read.
    failed: Option<InputError>,
    /// 1-based line of the next byte handed out.
    line: u64,
    /// Unicode scalars already handed out on the current line.
    chars_in_line: u64,
    /// Name of the encoding, for messages.
    encoding_name: &'static str,
    /// Bytes handed out so far.
    consumed: u64,
    /// `consumed` when the current run began ([`TextSource::mark_run`]).
    run_start: u64,
    /// Most bytes a run may take ([`TextSource::limit_runs`]); unlimited by default.
    run_limit: u64,
}

impl<R: Read> TextSource<R> {
    /// Examines the start of `inner` and opens it in the encoding found there.
    pub(crate) fn open(mut inner: R, sniff: Sniff) -> Result<TextSource<R>, FormatError> {
        let mut raw = vec![0u8; SNIFF_SIZE];
        let mut filled = 0;
        let mut input_done = false;
        while filled < SNIFF_SIZE {
            match inner.read(&mut raw[filled..SNIFF_SIZE]) {
                Ok(0) => {
                    input_done = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FormatError::Io(e)),
            }
        }
        let found = detect(&raw[..filled], sniff)?;
        // An input that ended within the sniffed bytes (an inline tag a client sent) needs
        // no full-size buffers: its text, up to three bytes of UTF-8 for each byte read, fits
        // in one small one. Checking 10⁵ such fragments must not clear 10⁵ × 128 KiB.
        let out_size = if input_done {
            3 * filled + 16
        } else {
            raw.resize(BUF_SIZE, 0);
            BUF_SIZE
        };
        Ok(TextSource {
            inner,
            // The byte-order mark, if any, is skipped below; a second one is text.
            decoder: found.encoding.new_decoder_without_bom_handling(),
            raw,
            raw_pos: found.bom_len,
            raw_end: filled,
            input_done,
            decoder_done: false,
            out: vec![0u8; out_size],
            out_pos: 0,
            out_end: 0,
            pending_error: None,
            failed: None,
            line: 1,
            chars_in_line: 0,
            encoding_name: found.name,
            consumed: 0,
            run_start: 0,
            run_limit: u64::MAX,
        })
    }
}

impl<R> TextSource<R> {
    /// Line and column (both 1-based) of the next byte to be handed out.
    pub(crate) fn location(&self) -> (u64, u64) {
        (self.line, self.chars_in_line + 1)
    }

    /// Bytes of decoded text handed out so far: where the next byte is, as an offset.
    pub(crate) fn offset(&self) -> u64 {
        self.consumed
    }

    /// Makes every read fail with [`RunTooLong`] once more than `limit` bytes have been
    /// handed out since the last [`TextSource::mark_run`]: the parser above marks where each
    /// of its constructs begins, and this bounds what it can buffer for one, as it arrives.
    pub(crate) fn limit_runs(&mut self, limit: u64) {
        self.run_limit = limit;
    }

    /// A new run begins at the next byte handed out.
    pub(crate) fn mark_run(&mut self) {
        self.run_start = self.consumed;
    }

    fn fail(&mut self, reason: String) -> io::Error {
        let (line, column) = self.location();
        let err = InputError {
            line,
            column,
            reason,
        };
        self.failed = Some(err.clone());
        io::Error::new(io::ErrorKind::InvalidData, err)
    }
}

impl<R: Read> TextSource<R> {
    /// Reads more raw bytes into the (fully decoded) raw buffer; the decoder keeps any
    /// sequence left incomplete at the end of the previous buffer.
    fn refill_raw(&mut self) -> io::Result<()> {
        self.raw_pos = 0;
        self.raw_end = 0;
        loop {
            match self.inner.read(&mut self.raw) {
                Ok(0) => {
                    self.input_done = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.raw_end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Decodes as much raw input as fits into the (empty) output buffer. Once all input is
    /// read, the decoder is told so, and a sequence it still holds is reported as cut off.
    fn decode_some(&mut self) {
        let src = &self.raw[self.raw_pos..self.raw_end];
        let flush = self.input_done && src.is_empty();
        let (result, read, written) =
            self.decoder
                .decode_to_utf8_without_replacement(src, &mut self.out, flush);
        self.out_pos = 0;
        self.out_end = written;
        match result {
            DecoderResult::InputEmpty => self.decoder_done = flush,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(bad, after) => {
                let name = self.encoding_name;
                self.pending_error = Some(if flush {
                    format!("the file ends inside a {name} byte sequence")
                } else {
                    // The sequence may have begun in the previous buffer; show what is here.
                    let end = read.saturating_sub(usize::from(after));
                    let start = end.saturating_sub(usize::from(bad));
                    format!("invalid {name} byte sequence {}", hex(&src[start..end]))
                });
            }
        }
        self.raw_pos += read;
    }
}

impl<R: Read> Read for TextSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for TextSource<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // A run may take `run_limit` bytes and the parser may look at one more (the `<` that
        // ends a text): never is more handed out, so nothing past that can be consumed.
        let allowed = self
            .run_limit
            .saturating_add(1)
            .saturating_sub(self.consumed - self.run_start);
        if allowed == 0 {
            let (line, column) = self.location();
            let limit = self.run_limit;
            let err = RunTooLong {
                line,
                column,
                limit,
            };
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
        loop {
            if self.out_pos < self.out_end {
                let end = self
                    .out_end
                    .min(self.out_pos.saturating_add(allowed as usize));
                return Ok(&self.out[self.out_pos..end]);
            }
            if let Some(failed) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, failed.clone()));
            }
            if let Some(reason) = self.pending_error.take() {
                return Err(self.fail(reason));
            }
            if self.decoder_done {
                return Ok(&[]);
            }
            if self.raw_pos == self.raw_end && !self.input_done {
                self.refill_raw()?;
                continue;
            }
            self.decode_some();
        }
    }

    fn consume(&mut self, amt: usize) {
        let end = (self.out_pos + amt).min(self.out_end);
        for &b in &self.out[self.out_pos..end] {
            if b == b'\n' {
                self.line += 1;
                self.chars_in_line = 0;
            } else if b & 0xC0 != 0x80 {
                self.chars_in_line += 1;
            }
        }
        self.consumed += (end - self.out_pos) as u64;
        self.out_pos = end;
    }
}

fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(" ")
}

/// The encoding a file was found to be in.
struct Found {
    encoding: &'static Encoding,
    /// Length of the byte-order mark to skip.
    bom_len: usize,
    /// Name for messages (`US-ASCII` is decoded as UTF-8 but named as declared).
    name: &'static str,
}

impl Found {
    fn new(encoding: &'static Encoding, bom_len: usize) -> Found {
        Found {
            encoding,
            bom_len,
            name: encoding.name(),
        }
    }
}

/// Finds the encoding from the first bytes.
fn detect(head: &[u8], sniff: Sniff) -> Result<Found, FormatError> {
    if head.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) || head.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Err(FormatError::Encoding {
            reason: format!("the file is UTF-32 (byte-order mark); {SUPPORTED}"),
        });
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Found::new(UTF_8, 3));
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Ok(Found::new(UTF_16LE, 2));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Ok(Found::new(UTF_16BE, 2));
    }
    if sniff == Sniff::Xml {
        // XML 1.0 appendix F: UTF-16 without a byte-order mark still starts with `<?`.
        if head.starts_with(&[0x3C, 0x00, 0x3F, 0x00]) {
            return Ok(Found::new(UTF_16LE, 0));
        }
        if head.starts_with(&[0x00, 0x3C, 0x00, 0x3F]) {
            return Ok(Found::new(UTF_16BE, 0));
        }
        if let Some(label) = declared_encoding(head) {
            return by_label(&label);
        }
    }
    Ok(Found::new(UTF_8, 0))
}

/// The `encoding` pseudo-attribute of an XML declaration at the very start of `head`.
fn declared_encoding(head: &[u8]) -> Option<String> {
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[5..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].trim().to_owned())
}

/// The encoding an XML declaration names, by the labels of the WHATWG Encoding Standard.
fn by_label(label: &str) -> Result<Found, FormatError> {
    let key: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    // The Encoding Standard reads `US-ASCII` as windows-1252; here it stays strict, checked as
    // UTF-8, so a non-ASCII byte fails with its position unless the file is really UTF-8.
    if matches!(
        key.as_str(),
        "usascii" | "ascii" | "ansix341968" | "iso646us"
    ) {
        return Ok(Found {
            name: "US-ASCII",
            ..Found::new(UTF_8, 0)
        });
    }
    match Encoding::for_label(label.as_bytes()) {
        Some(e) if e == UTF_16LE || e == UTF_16BE => Err(FormatError::Encoding {
            reason: format!(
                "the XML declaration says {label:?}, but the file has no UTF-16 byte-order mark \
                 and its declaration is written in single bytes"
            ),
        }),
        // ISO-2022-KR, HZ-GB-2312 and the like: the standard refuses to decode them.
        Some(e) if e == REPLACEMENT => Err(FormatError::Encoding {
            reason: format!(
                "the XML declaration names the encoding {label:?}, which cannot be decoded \
                 safely ({SUPPORTED})"
            ),
        }),
        // The standard maps `GB2312` and `GBK` to GBK, whose decoder accepts the same bytes as
        // GB18030's, a superset of both; decoding all three as GB18030 is the safest for
        // Chinese, and the messages then name what is really checked. (It likewise maps
        // `ISO-8859-1` and `latin1` to windows-1252, whose 0x80..=0x9F are typographic
        // characters where ISO-8859-1 has C1 controls no glossary means.)
        Some(e) if e == GBK => Ok(Found::new(GB18030, 0)),
        Some(e) => Ok(Found::new(e, 0)),
        None => Err(FormatError::Encoding {
            reason: format!(
                "the XML declaration names the encoding {label:?}, which is not supported \
                 ({SUPPORTED})"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], sniff: Sniff) -> Result<String, FormatError> {
        let mut src = TextSource::open(bytes, sniff)?;
        let mut s = String::new();
        src.read_to_string(&mut s).map_err(from_io)?;
        Ok(s)
    }

    #[test]
    fn utf8_with_and_without_bom_pass_through() {
        assert_eq!(
            decode_all("\u{FEFF}上合".as_bytes(), Sniff::Text).unwrap(),
            "上合"
        );
        assert_eq!(decode_all("ШОС".as_bytes(), Sniff::Text).unwrap(), "ШОС");
    }

    #[test]
    fn utf16_with_bom_in_both_byte_orders() {
        let text = "a\n上𝄞";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode_all(&le, Sniff::Text).unwrap(), text);
        assert_eq!(decode_all(&be, Sniff::Text).unwrap(), text);
    }

    #[test]
    fn invalid_utf8_reports_line_and_column_of_the_bad_byte() {
        let mut bytes = b"ab\ncd\xE4\xB8".to_vec();
        bytes.extend_from_slice(b"x\n");
        match decode_all(&bytes, Sniff::Text) {
            Err(FormatError::Malformed { line, column, .. }) => assert_eq!((line, column), (2, 3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_utf8_at_end_of_file_is_malformed() {
        assert!(matches!(
            decode_all(b"ok\xE4", Sniff::Text),
            Err(FormatError::Malformed {
                line: 1,
                column: 3,
                ..
            })
        ));
    }

    #[test]
    fn xml_declaration_selects_a_legacy_encoding() {
        let bytes = b"<?xml version='1.0' encoding=\"windows-1254\"?><a>\xDD\xFD</a>";
        assert_eq!(
            decode_all(bytes, Sniff::Xml).unwrap(),
            "<?xml version='1.0' encoding=\"windows-1254\"?><a>İı</a>"
        );
    }

    /// Line, column and reason of the error decoding the XML `bytes` must fail with.
    fn malformed(bytes: &[u8]) -> (u64, u64, String) {
        match decode_all(bytes, Sniff::Xml) {
            Err(FormatError::Malformed {
                line,
                column,
                reason,
            }) => (line, column, reason),
            other => panic!("{other:?}"),
        }
    }

    /// A reader that hands out one byte per call, so every multi-byte sequence is split.
    struct ByteByByte<'a>(&'a [u8]);

    impl Read for ByteByByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// `text` in `encoding`, which must be able to represent all of it.
    fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
        let (bytes, used, unmappable) = encoding.encode(text);
        assert!(
            !unmappable,
            "{text:?} is not representable in {}",
            used.name()
        );
        assert_eq!(used, encoding);
        bytes.into_owned()
    }

    /// A TMX file declared as `label` with one unit zh/ru/en, encoded in `encoding`.
    fn tmx_in(label: &str, encoding: &'static Encoding, zh: &str, ru: &str) -> Vec<u8> {
        let doc = format!(
            "<?xml version=\"1.0\" encoding=\"{label}\"?>\n<tmx version=\"1.4\">\
             <header srclang=\"zh\" datatype=\"plaintext\" segtype=\"sentence\" o-tmf=\"x\" \
             adminlang=\"en\" creationtool=\"x\" creationtoolversion=\"1\"/><body>\n\
             <tu tuid=\"1\"><tuv xml:lang=\"zh\"><seg>{zh}</seg></tuv>\n\
             <tuv xml:lang=\"ru\"><seg>{ru}</seg></tuv>\n\
             <tuv xml:lang=\"en\"><seg>SCO</seg></tuv></tu>\n</body></tmx>\n"
        );
        encode(&doc, encoding)
    }

    fn tmx_texts(bytes: &[u8]) -> Vec<String> {
        let mut reader = crate::formats::TmxReader::new(bytes);
        let unit = match reader.next() {
            Some(Ok(entry)) => entry.unit,
            other => panic!("{other:?}"),
        };
        assert!(reader.next().is_none());
        unit.segments.into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn tmx_in_gb18030_and_big5_reads_chinese() {
        let zh = "上海合作组织成员国元首理事会";
        let gb = tmx_in("GB18030", GB18030, zh, "");
        assert_eq!(tmx_texts(&gb), [zh, "SCO"]);
        let big5 = tmx_in("Big5", encoding_rs::BIG5, "上海合作組織", "");
        assert_eq!(tmx_texts(&big5), ["上海合作組織", "SCO"]);
    }

    #[test]
    fn gb2312_and_gbk_labels_decode_as_gb18030() {
        // 𠀀 and € are outside GB2312 but in GB18030 (four bytes and one byte, 0x80).
        let text = "中文 𠀀 €";
        for label in ["GB2312", "gbk", "x-gbk", "GB18030"] {
            let doc = format!("<?xml version='1.0' encoding='{label}'?><a>{text}</a>");
            let bytes = encode(&doc, GB18030);
            assert_eq!(decode_all(&bytes, Sniff::Xml).unwrap(), doc, "{label}");
        }
    }

    #[test]
    fn tmx_in_koi8_r_and_windows_1251_reads_russian() {
        let ru = "Шанхайская организация сотрудничества, ЁЖ ёж";
        for (label, encoding) in [
            ("KOI8-R", encoding_rs::KOI8_R),
            ("windows-1251", encoding_rs::WINDOWS_1251),
            ("cp1251", encoding_rs::WINDOWS_1251),
        ] {
            // Chinese has no bytes in these encodings, so it is written as references.
            let bytes = tmx_in(label, encoding, "&#x4E0A;&#x5408;", ru);
            assert_eq!(tmx_texts(&bytes), ["上合", ru, "SCO"], "{label}");
        }
    }

    #[test]
    fn multi_byte_encodings_survive_sequences_split_across_reads() {
        let cases: [(&str, &'static Encoding, &str); 6] = [
            ("GB18030", GB18030, "上海 𠀀 合作\n组织"),
            ("Big5", encoding_rs::BIG5, "上海合作組織\n成員國"),
            ("Shift_JIS", encoding_rs::SHIFT_JIS, "上海協力機構\nです"),
            ("EUC-JP", encoding_rs::EUC_JP, "上海協力機構\nです"),
            ("EUC-KR", encoding_rs::EUC_KR, "상하이 협력 기구\n회원국"),
            ("ISO-8859-5", encoding_rs::ISO_8859_5, "Шанхай\nёж"),
        ];
        for (label, encoding, text) in cases {
            let doc = format!("<?xml version='1.0' encoding='{label}'?>\n<a>{text}</a>");
            let bytes = encode(&doc, encoding);
            let mut src = TextSource::open(ByteByByte(&bytes), Sniff::Xml).unwrap();
            let mut out = String::new();
            src.read_to_string(&mut out).unwrap();
            assert_eq!(out, doc, "{label}");
        }
    }

    #[test]
    fn invalid_gb18030_is_malformed_at_its_line_and_column() {
        let mut bytes = tmx_in("GB18030", GB18030, "上海@", "");
        // 0x81 0x20: a lead byte followed by a byte that cannot be a trail byte.
        let at = bytes.iter().position(|&b| b == b'@').unwrap();
        bytes.splice(at..=at, [0x81, 0x20]);
        // Line 3 is `<tu tuid="1"><tuv xml:lang="zh"><seg>上海`: 39 characters.
        let (line, column, reason) = malformed(&bytes);
        assert_eq!((line, column), (3, 40));
        assert!(reason.contains("gb18030 byte sequence 81"), "{reason}");
        let mut reader = crate::formats::TmxReader::new(&bytes[..]);
        match reader.next() {
            Some(Err(FormatError::Malformed { line, column, .. })) => {
                assert_eq!((line, column), (3, 40));
            }
            other => panic!("{other:?}"),
        }
        assert!(reader.next().is_none());
    }

    #[test]
    fn file_ending_inside_a_gb18030_sequence_is_malformed() {
        let mut bytes = encode("<?xml version='1.0' encoding='gb18030'?><a>上", GB18030);
        // The first two bytes of a four-byte sequence.
        bytes.extend_from_slice(&[0x81, 0x30]);
        assert!(matches!(
            decode_all(&bytes, Sniff::Xml),
            Err(FormatError::Malformed {
                line: 1,
                column: 45,
                ..
            })
        ));
    }

    #[test]
    fn byte_undefined_in_a_single_byte_encoding_is_malformed() {
        // 0xAA has no character in windows-1253.
        let bytes = b"<?xml version='1.0' encoding='windows-1253'?>\n<a>\xC1\xAA</a>";
        let (line, column, reason) = malformed(bytes);
        assert_eq!((line, column), (2, 5));
        assert!(reason.contains("windows-1253 byte sequence AA"), "{reason}");
    }

    #[test]
    fn encodings_the_standard_will_not_decode_are_encoding_errors() {
        for label in ["ISO-2022-KR", "HZ-GB-2312", "UTF-32", "EBCDIC-US"] {
            let doc = format!("<?xml version='1.0' encoding='{label}'?><a/>");
            match decode_all(doc.as_bytes(), Sniff::Xml) {
                Err(FormatError::Encoding { reason }) => {
                    assert!(reason.contains(label), "{reason}");
                    assert!(reason.contains("GB18030"), "{reason}");
                }
                other => panic!("{label}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_declared_encoding_is_an_encoding_error() {
        let bytes = b"<?xml version='1.0' encoding='x-klingon'?><a/>";
        assert!(matches!(
            decode_all(bytes, Sniff::Xml),
            Err(FormatError::Encoding { .. })
        ));
    }

    #[test]
    fn utf32_is_refused() {
        assert!(matches!(
            decode_all(&[0xFF, 0xFE, 0, 0, b'a', 0, 0, 0], Sniff::Text),
            Err(FormatError::Encoding { .. })
        ));
    }

    #[test]
    fn location_counts_characters_not_bytes() {
        let mut src = TextSource::open("上海\nab".as_bytes(), Sniff::Text).unwrap();
        let n = src.fill_buf().unwrap().len();
        assert_eq!(n, "上海\nab".len());
        src.consume("上海".len());
        assert_eq!(src.location(), (1, 3));
        src.consume(2);
        assert_eq!(src.location(), (2, 2));
    }
}
