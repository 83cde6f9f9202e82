//! Turns the raw bytes of an exchange file into checked UTF-8 and keeps track of line and
//! column while the parsers consume it.
//!
//! Owns encoding detection (byte-order marks, the XML declaration) and transcoding. The
//! parsers above it (quick-xml, csv) only ever see valid UTF-8. It knows nothing of TBX, TMX
//! or CSV structure.
//!
//! Invalid input is not replaced by U+FFFD: the valid text before it is handed out first, and
//! the next read fails with an [`InputError`] that carries the exact line and column, so the
//! import report can point at the byte.

use std::fmt;
use std::io::{self, BufRead, Read};

use super::error::FormatError;

/// Size of the raw and the decoded buffer.
const BUF_SIZE: usize = 64 * 1024;
/// How much of the file is examined for a byte-order mark and an XML declaration.
const SNIFF_SIZE: usize = 1024;

/// What the sniffer may look at to find the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// XML: byte-order mark, then the `encoding` of the XML declaration.
    Xml,
    /// Plain text (CSV, TSV): byte-order mark, else UTF-8.
    Text,
}

/// How the raw bytes become UTF-8.
enum Transcode {
    /// Already UTF-8: validate and pass through.
    Utf8,
    /// UTF-16 in the given byte order.
    Utf16 { big_endian: bool },
    /// A single-byte legacy encoding: 128 code points for the bytes 0x80..=0xFF.
    SingleByte { table: &'static [char; 128] },
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

/// The [`InputError`] inside an I/O error, if that is what it is.
pub(crate) fn input_error(err: &io::Error) -> Option<&InputError> {
    err.get_ref().and_then(|e| e.downcast_ref::<InputError>())
}

/// Converts an I/O error from below the parser into a [`FormatError`]: invalid input becomes
/// `Malformed` with its position, anything else stays `Io`.
pub(crate) fn from_io(err: io::Error) -> FormatError {
    match input_error(&err) {
        Some(e) => FormatError::malformed(e.line, e.column, &e.reason),
        None => FormatError::Io(err),
    }
}

/// A [`BufRead`] of valid UTF-8 over a file in any supported encoding, which knows the line and
/// column of the next byte it will hand out.
pub(crate) struct TextSource<R> {
    inner: R,
    transcode: Transcode,
    /// Raw bytes read from `inner`, not yet decoded: `raw[raw_pos..raw_end]`.
    raw: Vec<u8>,
    raw_pos: usize,
    raw_end: usize,
    input_done: bool,
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
}

impl<R: Read> TextSource<R> {
    /// Examines the start of `inner` and opens it in the encoding found there.
    pub(crate) fn open(mut inner: R, sniff: Sniff) -> Result<TextSource<R>, FormatError> {
        let mut raw = vec![0u8; BUF_SIZE];
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
        let head = &raw[..filled];
        let (transcode, skip, encoding_name) = detect(head, sniff)?;
        Ok(TextSource {
            inner,
            transcode,
            raw,
            raw_pos: skip,
            raw_end: filled,
            input_done,
            out: vec![0u8; BUF_SIZE],
            out_pos: 0,
            out_end: 0,
            pending_error: None,
            failed: None,
            line: 1,
            chars_in_line: 0,
            encoding_name,
        })
    }
}

impl<R> TextSource<R> {
    /// Line and column (both 1-based) of the next byte to be handed out.
    pub(crate) fn location(&self) -> (u64, u64) {
        (self.line, self.chars_in_line + 1)
    }

    /// The name of the encoding the file was found to be in.
    #[allow(dead_code)]
    pub(crate) fn encoding_name(&self) -> &'static str {
        self.encoding_name
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
    /// Reads more raw bytes, keeping the undecoded tail. Returns false at the end of input.
    fn refill_raw(&mut self) -> io::Result<bool> {
        if self.input_done {
            return Ok(false);
        }
        if self.raw_pos > 0 {
            self.raw.copy_within(self.raw_pos..self.raw_end, 0);
            self.raw_end -= self.raw_pos;
            self.raw_pos = 0;
        }
        loop {
            match self.inner.read(&mut self.raw[self.raw_end..]) {
                Ok(0) => {
                    self.input_done = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.raw_end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Decodes as much raw input as fits into the (empty) output buffer. Returns whether more
    /// raw input is needed before anything can be produced.
    fn decode_some(&mut self) -> bool {
        let src = &self.raw[self.raw_pos..self.raw_end];
        let dst = &mut self.out[..];
        let last = self.input_done;
        let (read, written, error) = match &self.transcode {
            Transcode::Utf8 => decode_utf8(src, dst, last),
            Transcode::Utf16 { big_endian } => decode_utf16(src, dst, last, *big_endian),
            Transcode::SingleByte { table } => decode_single_byte(src, dst, table),
        };
        self.raw_pos += read;
        self.out_pos = 0;
        self.out_end = written;
        if let Some(reason) = error {
            self.pending_error = Some(reason);
        }
        written == 0 && self.pending_error.is_none()
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
        loop {
            if self.out_pos < self.out_end {
                return Ok(&self.out[self.out_pos..self.out_end]);
            }
            if let Some(failed) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, failed.clone()));
            }
            if let Some(reason) = self.pending_error.take() {
                return Err(self.fail(reason));
            }
            if self.raw_pos == self.raw_end && !self.refill_raw()? {
                return Ok(&[]);
            }
            if self.decode_some() {
                // Only an incomplete sequence is left: more input is needed.
                if !self.refill_raw()? {
                    // `decode_some` with `last` set reports the truncated sequence.
                    self.decode_some();
                    if self.out_end == 0 && self.pending_error.is_none() {
                        return Ok(&[]);
                    }
                }
            }
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
        self.out_pos = end;
    }
}

/// Validates UTF-8 from `src` into `dst`. Returns (bytes read, bytes written, error).
fn decode_utf8(src: &[u8], dst: &mut [u8], last: bool) -> (usize, usize, Option<String>) {
    let chunk = &src[..src.len().min(dst.len())];
    match std::str::from_utf8(chunk) {
        Ok(_) => {
            dst[..chunk.len()].copy_from_slice(chunk);
            (chunk.len(), chunk.len(), None)
        }
        Err(e) => {
            let valid = e.valid_up_to();
            dst[..valid].copy_from_slice(&chunk[..valid]);
            let truncated_by_chunk = chunk.len() < src.len();
            let error = match e.error_len() {
                Some(len) => Some(format!(
                    "invalid UTF-8 byte sequence {}",
                    hex(&chunk[valid..valid + len])
                )),
                // An incomplete sequence at the end of what we have: wait for more input,
                // unless the file ends here.
                None if last && !truncated_by_chunk => Some(format!(
                    "file ends inside a UTF-8 sequence {}",
                    hex(&chunk[valid..])
                )),
                None => None,
            };
            (valid, valid, error)
        }
    }
}

/// Decodes UTF-16 from `src` into UTF-8 in `dst`.
fn decode_utf16(
    src: &[u8],
    dst: &mut [u8],
    last: bool,
    big_endian: bool,
) -> (usize, usize, Option<String>) {
    let unit = |i: usize| {
        let pair = [src[i], src[i + 1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    };
    let (mut read, mut written) = (0, 0);
    while written + 4 <= dst.len() {
        if read + 2 > src.len() {
            break;
        }
        let first = unit(read);
        let (c, len) = match first {
            0xD800..=0xDBFF => {
                if read + 4 > src.len() {
                    break;
                }
                let second = unit(read + 2);
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return (
                        read,
                        written,
                        Some(format!("unpaired UTF-16 surrogate {first:#06X}")),
                    );
                }
                let c =
                    0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
                (char::from_u32(c), 4)
            }
            0xDC00..=0xDFFF => {
                return (
                    read,
                    written,
                    Some(format!("unpaired UTF-16 surrogate {first:#06X}")),
                )
            }
            _ => (char::from_u32(u32::from(first)), 2),
        };
        let Some(c) = c else {
            return (
                read,
                written,
                Some(format!("invalid UTF-16 code unit {first:#06X}")),
            );
        };
        written += c.encode_utf8(&mut dst[written..]).len();
        read += len;
    }
    let rest = src.len() - read;
    if written == 0 && last && rest > 0 && rest < 4 {
        return (
            read,
            written,
            Some("file ends inside a UTF-16 code unit".to_owned()),
        );
    }
    (read, written, None)
}

/// Decodes a single-byte legacy encoding from `src` into UTF-8 in `dst`.
fn decode_single_byte(
    src: &[u8],
    dst: &mut [u8],
    table: &[char; 128],
) -> (usize, usize, Option<String>) {
    let (mut read, mut written) = (0, 0);
    while read < src.len() && written + 4 <= dst.len() {
        let b = src[read];
        let c = if b < 0x80 {
            char::from(b)
        } else {
            table[usize::from(b - 0x80)]
        };
        if c == '\u{FFFD}' {
            return (
                read,
                written,
                Some(format!("byte {b:#04X} is undefined in this encoding")),
            );
        }
        written += c.encode_utf8(&mut dst[written..]).len();
        read += 1;
    }
    (read, written, None)
}

fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(" ")
}

/// Finds the encoding from the first bytes. Returns the transcoder, the number of bytes of
/// byte-order mark to skip, and the encoding's name.
fn detect(head: &[u8], sniff: Sniff) -> Result<(Transcode, usize, &'static str), FormatError> {
    let utf16 = |big_endian: bool, skip: usize| {
        let name = if big_endian { "UTF-16BE" } else { "UTF-16LE" };
        Ok((Transcode::Utf16 { big_endian }, skip, name))
    };
    if head.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) || head.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Err(FormatError::Encoding {
            reason: "the file is UTF-32 (byte-order mark); supported: UTF-8, UTF-16 with a \
                     byte-order mark, and for XML the encoding its declaration names"
                .to_owned(),
        });
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((Transcode::Utf8, 3, "UTF-8"));
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return utf16(false, 2);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return utf16(true, 2);
    }
    if sniff == Sniff::Xml {
        // XML 1.0 appendix F: UTF-16 without a byte-order mark still starts with `<?`.
        if head.starts_with(&[0x3C, 0x00, 0x3F, 0x00]) {
            return utf16(false, 0);
        }
        if head.starts_with(&[0x00, 0x3C, 0x00, 0x3F]) {
            return utf16(true, 0);
        }
        if let Some(label) = declared_encoding(head) {
            return by_label(&label).map(|(t, name)| (t, 0, name));
        }
    }
    Ok((Transcode::Utf8, 0, "UTF-8"))
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

/// The transcoder for an encoding label from an XML declaration.
fn by_label(label: &str) -> Result<(Transcode, &'static str), FormatError> {
    let key: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "utf8" | "unicode11utf8" => Ok((Transcode::Utf8, "UTF-8")),
        // ASCII is a subset of UTF-8; a non-ASCII byte then fails validation with its position.
        "usascii" | "ascii" | "ansix341968" | "iso646us" => Ok((Transcode::Utf8, "US-ASCII")),
        "utf16" | "utf16le" | "utf16be" | "ucs2" => Err(FormatError::Encoding {
            reason: format!(
                "the XML declaration says {label:?}, but the file has no UTF-16 byte-order mark \
                 and its declaration is written in single bytes"
            ),
        }),
        _ => match super::legacy::table_for(&key) {
            Some((table, name)) => Ok((Transcode::SingleByte { table }, name)),
            None => Err(FormatError::Encoding {
                reason: format!(
                    "the XML declaration names the encoding {label:?}, which is not supported \
                     (supported: UTF-8, UTF-16 with a byte-order mark, {})",
                    super::legacy::SUPPORTED
                ),
            }),
        },
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
