//! A small pull layer over quick-xml shared by the TBX and TMX readers.
//!
//! Owns what both readers need and quick-xml leaves to its users: the start position (line,
//! column) of every event, the well-formedness checks quick-xml does not make (one root
//! element, nothing after it, no element left open at the end of the file, the XML declaration
//! only at the start), attribute decoding, and text delivered as pieces: quick-xml ≥ 0.38
//! hands `&amp;` and character references over as separate events, so callers join the pieces
//! themselves. It knows nothing of TBX or TMX vocabulary.
//!
//! It also holds every file to the [limits](super::limits) as the bytes arrive: each event
//! (a text run, a tag, a comment, CDATA) is at most [`MAX_RUN_BYTES`], elements nest at most
//! [`MAX_DEPTH`] deep and carry at most [`MAX_ATTRIBUTES`], and an entry a reader marks
//! ([`XmlPull::begin_entry`]) is at most [`MAX_ENTRY_BYTES`]. Passing one is fatal, at the
//! line and column where the construct began.

use std::io::{BufRead, Read};

use quick_xml::errors::IllFormedError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::decode::{self, Sniff, TextSource};
use super::error::FormatError;
use super::limits::{self, MAX_ATTRIBUTES, MAX_DEPTH, MAX_ENTRY_BYTES, MAX_RUN_BYTES};

/// A start tag (or an empty-element tag) with its position.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    /// Qualified name as written, e.g. `basic:definition`.
    pub name: String,
    /// Attributes in document order, qualified names as written, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// The tag as written between `<` and `>` (without a trailing `/`), when the reader was
    /// asked to keep it.
    pub raw: Option<String>,
    /// Line of the `<` (1-based).
    pub line: u64,
    /// Column of the `<` (1-based).
    pub column: u64,
}

impl Tag {
    /// The local part of the name: `definition` for `basic:definition`.
    pub fn local(&self) -> &str {
        local_name(&self.name)
    }

    /// The value of the attribute with this qualified name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first attribute whose local name is `local` (any prefix).
    pub fn attr_local(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| local_name(k) == local)
            .map(|(_, v)| v.as_str())
    }
}

/// The local part of a qualified name.
pub(crate) fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// A piece of character data.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// Literal text; it contains no markup and no references.
    Text(String),
    /// An entity or character reference, with the name as written (`amp`, `#x4E2D`) and the
    /// text it stands for.
    Ref { name: String, text: String },
    /// The content of a CDATA section.
    CData(String),
}

impl Piece {
    /// The characters this piece stands for.
    pub fn text(&self) -> &str {
        match self {
            Piece::Text(t) | Piece::CData(t) => t,
            Piece::Ref { text, .. } => text,
        }
    }

    /// Appends the piece as XML, escaped the way it was written.
    pub fn write_raw(&self, out: &mut String) {
        match self {
            Piece::Text(t) => out.push_str(t),
            Piece::Ref { name, .. } => {
                out.push('&');
                out.push_str(name);
                out.push(';');
            }
            Piece::CData(t) => {
                out.push_str("<![CDATA[");
                out.push_str(t);
                out.push_str("]]>");
            }
        }
    }
}

/// One event of the document.
#[derive(Debug, Clone)]
pub(crate) enum XmlEvent {
    /// `<name …>`.
    Start(Tag),
    /// `<name …/>`: a start immediately followed by its end.
    Empty(Tag),
    /// `</name>`, with the qualified name.
    End(String),
    /// Character data inside the root element.
    Text(Piece),
    /// End of the document, after the root element closed.
    Eof,
}

/// Pulls [`XmlEvent`]s from a file, checking what quick-xml does not.
pub(crate) struct XmlPull<R: Read> {
    reader: Reader<TextSource<R>>,
    buf: Vec<u8>,
    /// Each open element: where it starts (line, column) and its name, root first.
    open: Vec<(u64, u64, String)>,
    /// The entry a reader is reading ([`XmlPull::begin_entry`]): where it starts in the text
    /// (offset, line, column) and its element's name.
    entry: Option<(u64, u64, u64, String)>,
    /// Whether the root element has been seen (and with `depth == 0`, closed).
    root_seen: bool,
    /// Whether any event has been read (the XML declaration must come first).
    started: bool,
    keep_raw: bool,
    /// Set after an error or the end: every later call returns `Eof`.
    finished: bool,
    /// Position of the event last returned.
    line: u64,
    column: u64,
}

/// What [`LazyXml::parser`] gives while the stream is open: the parser, and on the first call
/// what was made of the root element.
pub(crate) type Opened<'a, R, T> = (&'a mut XmlPull<R>, Option<T>);

/// The XML stream of a reader that opens its input on the first call: the input until then,
/// the parser while entries are read, nothing once the file has ended or failed (an error
/// ends it for good).
pub(crate) enum LazyXml<R: Read> {
    /// Not read yet.
    Unopened(R),
    /// Boxed, so that the reader stays small to move: the parser state is large.
    Open(Box<XmlPull<R>>),
    /// Ended.
    Done,
}

impl<R: Read> LazyXml<R> {
    /// The open parser, and on the first call what `on_root` made of the root element:
    /// opens the input, reads up to the root and hands it to `on_root`, whose error (a file
    /// of another kind) ends the stream like any other. `None` once the stream has ended.
    pub(crate) fn parser<T>(
        &mut self,
        keep_raw: bool,
        on_root: impl FnOnce(Tag) -> Result<T, FormatError>,
    ) -> Result<Option<Opened<'_, R, T>>, FormatError> {
        let (xml, root) = match std::mem::replace(self, LazyXml::Done) {
            LazyXml::Unopened(input) => {
                let mut xml = XmlPull::open(input, keep_raw)?;
                let root = on_root(xml.root()?)?;
                (Box::new(xml), Some(root))
            }
            LazyXml::Open(xml) => (xml, None),
            LazyXml::Done => return Ok(None),
        };
        *self = LazyXml::Open(xml);
        match self {
            LazyXml::Open(xml) => Ok(Some((xml, root))),
            _ => Ok(None),
        }
    }
}

impl<R: Read> XmlPull<R> {
    /// Opens `input`, finding its encoding from a byte-order mark or the XML declaration.
    pub fn open(input: R, keep_raw: bool) -> Result<XmlPull<R>, FormatError> {
        let mut source = TextSource::open(input, Sniff::Xml)?;
        source.limit_runs(MAX_RUN_BYTES);
        let mut reader = Reader::from_reader(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.trim_text(false);
        config.expand_empty_elements = false;
        Ok(XmlPull {
            reader,
            buf: Vec::with_capacity(4096),
            open: Vec::new(),
            entry: None,
            root_seen: false,
            started: false,
            keep_raw,
            finished: false,
            line: 1,
            column: 1,
        })
    }

    /// The root element: the first start tag after the prolog; an error when the file has
    /// none.
    pub fn root(&mut self) -> Result<Tag, FormatError> {
        loop {
            match self.next()? {
                XmlEvent::Start(tag) | XmlEvent::Empty(tag) => return Ok(tag),
                XmlEvent::Eof => {
                    return Err(FormatError::malformed(
                        self.line,
                        self.column,
                        "the file has no root element",
                    ))
                }
                _ => {}
            }
        }
    }

    /// Line and column where the event last returned started.
    pub fn position(&self) -> (u64, u64) {
        (self.line, self.column)
    }

    /// Marks the element whose start tag was just returned as an entry: from here on, the
    /// document is refused once the entry has taken more than [`MAX_ENTRY_BYTES`], until
    /// [`XmlPull::end_entry`].
    pub fn begin_entry(&mut self, tag: &Tag) {
        let offset = self.reader.get_ref().offset();
        self.entry = Some((offset, tag.line, tag.column, tag.name.clone()));
    }

    /// The entry marked by [`XmlPull::begin_entry`] has been read (or skipped).
    pub fn end_entry(&mut self) {
        self.entry = None;
    }

    /// The fatal error for an entry past [`MAX_ENTRY_BYTES`], if the one being read is.
    fn entry_too_long(&mut self) -> Option<FormatError> {
        let (start, line, column, name) = self.entry.as_ref()?;
        if self.reader.get_ref().offset() - start <= MAX_ENTRY_BYTES {
            return None;
        }
        let error = FormatError::malformed(
            *line,
            *column,
            format!(
                "<{name}> is longer than the limit of {} for one entry",
                limits::size(MAX_ENTRY_BYTES)
            ),
        );
        self.finished = true;
        Some(error)
    }

    fn malformed_here(&mut self, reason: impl std::fmt::Display) -> FormatError {
        self.finished = true;
        FormatError::malformed(self.line, self.column, reason)
    }

    /// The next event. After an error, or after [`XmlEvent::Eof`], returns `Eof` forever.
    pub fn next(&mut self) -> Result<XmlEvent, FormatError> {
        loop {
            if self.finished {
                return Ok(XmlEvent::Eof);
            }
            if let Some(error) = self.entry_too_long() {
                return Err(error);
            }
            let source = self.reader.get_mut();
            let (line, column) = source.location();
            self.line = line;
            self.column = column;
            source.mark_run();
            // Whether the run is markup or text, for the message if it is too long; an error
            // here comes again from the read below.
            let markup = matches!(source.fill_buf(), Ok([b'<', ..]));
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(err) => return Err(self.convert_error(err, markup)),
            };
            let first = !self.started;
            self.started = true;
            let outside_root = self.open.is_empty();
            match event {
                Event::Decl(_) => {
                    if !first {
                        return Err(self.malformed_here(
                            "XML declaration is allowed only at the very start of the file",
                        ));
                    }
                }
                Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
                Event::Start(start) | Event::Empty(start) if outside_root && self.root_seen => {
                    let name = start.name().as_ref().to_owned();
                    return Err(self.malformed_here(format!(
                        "content after the root element: <{name}> (only one root element is allowed)"
                    )));
                }
                Event::Start(start) => {
                    let tag = make_tag(&start, line, column, self.keep_raw);
                    let tag = tag.map_err(|reason| self.malformed_here(reason))?;
                    if self.open.len() == MAX_DEPTH {
                        return Err(self.malformed_here(format!(
                            "<{}> is nested more than {MAX_DEPTH} elements deep, the limit",
                            tag.name
                        )));
                    }
                    self.open.push((line, column, tag.name.clone()));
                    self.root_seen = true;
                    return Ok(XmlEvent::Start(tag));
                }
                Event::Empty(start) => {
                    let tag = make_tag(&start, line, column, self.keep_raw);
                    let tag = tag.map_err(|reason| self.malformed_here(reason))?;
                    self.root_seen = true;
                    return Ok(XmlEvent::Empty(tag));
                }
                Event::End(end) => {
                    // quick-xml has checked that it matches the open element.
                    self.open.pop();
                    return Ok(XmlEvent::End(end.name().as_ref().to_owned()));
                }
                Event::Text(text) => {
                    let content = text.xml10_content();
                    if outside_root {
                        if !content.chars().all(is_xml_space) {
                            return Err(self.malformed_here(if self.root_seen {
                                "text after the root element"
                            } else {
                                "text before the root element"
                            }));
                        }
                        continue;
                    }
                    if let Some(error) = forbidden_char(&content, line, column) {
                        self.finished = true;
                        return Err(error);
                    }
                    return Ok(XmlEvent::Text(Piece::Text(content.into_owned())));
                }
                Event::CData(data) => {
                    if outside_root {
                        return Err(self.malformed_here("CDATA section outside the root element"));
                    }
                    let content = data.xml10_content();
                    // The content starts after `<![CDATA[`.
                    if let Some(error) = forbidden_char(&content, line, column + 9) {
                        self.finished = true;
                        return Err(error);
                    }
                    return Ok(XmlEvent::Text(Piece::CData(content.into_owned())));
                }
                Event::GeneralRef(reference) => {
                    if outside_root {
                        return Err(self.malformed_here("reference outside the root element"));
                    }
                    let name: &str = &reference;
                    let text = match reference.resolve_char_ref() {
                        // XML 1.0's Legal Character constraint holds for references too.
                        Ok(Some(c)) if !is_xml_char(c) => {
                            let reason = format!(
                                "the character reference &{name}; names U+{:04X}, which cannot \
                                 appear in XML 1.0",
                                u32::from(c)
                            );
                            return Err(self.malformed_here(reason));
                        }
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match name {
                            "amp" => "&".to_owned(),
                            "lt" => "<".to_owned(),
                            "gt" => ">".to_owned(),
                            "quot" => "\"".to_owned(),
                            "apos" => "'".to_owned(),
                            other => {
                                let other = other.to_owned();
                                return Err(self.malformed_here(format!(
                                    "undeclared entity &{other}; (only the five predefined \
                                     entities and character references are supported)"
                                )));
                            }
                        },
                        Err(err) => return Err(self.malformed_here(err)),
                    };
                    return Ok(XmlEvent::Text(Piece::Ref {
                        name: name.to_owned(),
                        text,
                    }));
                }
                Event::Eof => {
                    if !self.open.is_empty() {
                        let n = self.open.len();
                        return Err(self.malformed_here(format!(
                            "unexpected end of file: {n} element(s) not closed"
                        )));
                    }
                    if !self.root_seen {
                        return Err(self.malformed_here("the file contains no XML element"));
                    }
                    self.finished = true;
                    return Ok(XmlEvent::Eof);
                }
            }
        }
    }

    /// The error for what quick-xml (or the text below it) refused; `markup` says whether the
    /// event being read began with `<`.
    fn convert_error(&mut self, err: quick_xml::Error, markup: bool) -> FormatError {
        self.finished = true;
        if let quick_xml::Error::Io(io) = &err {
            if let Some(input) = decode::input_error(io) {
                return FormatError::malformed(input.line, input.column, &input.reason);
            }
            if let Some(too_long) = decode::run_too_long(io) {
                let limit = limits::size(too_long.limit);
                let what = match self.open.last() {
                    _ if markup => "markup (a tag, comment, CDATA section or DOCTYPE)".to_owned(),
                    Some((_, _, name)) => format!("the text in <{name}>"),
                    None => "the text".to_owned(),
                };
                return FormatError::malformed(
                    self.line,
                    self.column,
                    format!("{what} is longer than the limit of {limit}"),
                );
            }
        }
        // An end tag that does not match: the element it should have closed is the one
        // missing its end tag, so that is where the error is; the end tag is named too.
        if let quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) =
            &err
        {
            if let Some(&(line, column, _)) = self.open.last() {
                return FormatError::malformed(
                    line,
                    column,
                    format!(
                        "<{expected}> is not closed: `</{expected}>` is missing before \
                         `</{found}>` at line {}, column {}",
                        self.line, self.column
                    ),
                );
            }
        }
        FormatError::malformed(self.line, self.column, err)
    }

    /// Reads to the end of the element whose start was just returned, returning its text
    /// content (all descendants' text, joined).
    pub fn element_text(&mut self) -> Result<String, FormatError> {
        let mut depth = 1usize;
        let mut text = String::new();
        loop {
            match self.next()? {
                XmlEvent::Start(_) => depth += 1,
                XmlEvent::Empty(_) => {}
                XmlEvent::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(text);
                    }
                }
                XmlEvent::Text(piece) => text.push_str(piece.text()),
                XmlEvent::Eof => return Ok(text),
            }
        }
    }

    /// Skips to the end of the element whose start was just returned.
    pub fn skip_element(&mut self) -> Result<(), FormatError> {
        let mut depth = 1usize;
        loop {
            match self.next()? {
                XmlEvent::Start(_) => depth += 1,
                XmlEvent::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                XmlEvent::Eof => return Ok(()),
                XmlEvent::Empty(_) | XmlEvent::Text(_) => {}
            }
        }
    }
}

/// Builds a [`Tag`] from quick-xml's start event; the error is the reason it is malformed.
fn make_tag(start: &BytesStart<'_>, line: u64, column: u64, keep_raw: bool) -> Result<Tag, String> {
    let name = start.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        if attrs.len() == MAX_ATTRIBUTES {
            return Err(format!(
                "<{name}> has more than {MAX_ATTRIBUTES} attributes, the limit"
            ));
        }
        let attr = attr.map_err(|err| format!("bad attribute in <{name}>: {err}"))?;
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("bad attribute value in <{name}>: {err}"))?
            .into_owned();
        if let Some(c) = value.chars().find(|c| !is_xml_char(*c)) {
            let key: &str = attr.key.as_ref();
            return Err(format!(
                "the value of {key} in <{name}> holds U+{:04X}, which XML 1.0 does not allow",
                u32::from(c)
            ));
        }
        attrs.push((attr.key.as_ref().to_owned(), value));
    }
    let raw = if keep_raw {
        let content: &str = start;
        Some(content.trim_end().to_owned())
    } else {
        None
    };
    Ok(Tag {
        name,
        attrs,
        raw,
        line,
        column,
    })
}

/// The error for the first character of `text` that XML 1.0 does not allow (a NUL, most
/// control characters, U+FFFE), at its own line and column; `text` starts at `line`,
/// `column`. quick-xml passes such characters through; a file holding one is not XML.
fn forbidden_char(text: &str, line: u64, column: u64) -> Option<FormatError> {
    let at = text.find(|c| !is_xml_char(c))?;
    let bad = text[at..].chars().next()?;
    let before = &text[..at];
    let (line, column) = match before.rfind('\n') {
        Some(newline) => (
            line + before.matches('\n').count() as u64,
            before[newline + 1..].chars().count() as u64 + 1,
        ),
        None => (line, column + before.chars().count() as u64),
    };
    let reason = format!("U+{:04X} is not allowed in XML 1.0", u32::from(bad));
    Some(FormatError::malformed(line, column, reason))
}

/// XML's white space: space, tab, line feed, carriage return.
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Trims and collapses runs of XML white space to one space, as TBX text is pretty-printed.
pub(crate) fn collapse_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(is_xml_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether a character may appear in an XML 1.0 document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `s` escaped for element content. `\r` is written as a reference so that it
/// survives the line-end normalization of the next reader.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Appends `s` escaped for a double-quoted attribute value. Tabs and line ends are written
/// as references because attribute-value normalization would turn them into spaces.
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Checks that `s` can be written to XML 1.0.
pub(crate) fn check_writable(s: &str, what: impl FnOnce() -> String) -> Result<(), FormatError> {
    match s.chars().find(|c| !is_xml_char(*c)) {
        None => Ok(()),
        Some(c) => Err(FormatError::Unwritable {
            what: what(),
            reason: format!("U+{:04X} cannot appear in XML 1.0", u32::from(c)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(xml: &str) -> Result<Vec<XmlEvent>, FormatError> {
        let mut pull = XmlPull::open(xml.as_bytes(), true)?;
        let mut out = Vec::new();
        loop {
            let ev = pull.next()?;
            if matches!(ev, XmlEvent::Eof) {
                return Ok(out);
            }
            out.push(ev);
        }
    }

    #[test]
    fn start_tags_carry_their_line_and_column() {
        let evs = events("<?xml version='1.0'?>\n<a>\n  <b x='1'/></a>").unwrap();
        let XmlEvent::Empty(b) = &evs[2] else {
            panic!("{evs:?}")
        };
        assert_eq!((b.line, b.column, b.attr("x")), (3, 3, Some("1")));
    }

    #[test]
    fn a_reference_to_a_character_xml_disallows_is_malformed() {
        let (line, column, reason) = refusal("<a>\nx &#x4; y</a>");
        assert_eq!((line, column), (2, 3), "{reason}");
        assert!(
            reason.contains("&#x4;") && reason.contains("U+0004"),
            "{reason}"
        );
    }

    #[test]
    fn references_arrive_as_separate_pieces() {
        let evs = events("<a>x &amp; &#x4E2D;</a>").unwrap();
        let text: String = evs
            .iter()
            .filter_map(|e| match e {
                XmlEvent::Text(p) => Some(p.text().to_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "x & 中");
    }

    #[test]
    fn unclosed_element_at_end_of_file_is_malformed() {
        assert!(matches!(
            events("<a><b></b>"),
            Err(FormatError::Malformed { .. })
        ));
    }

    #[test]
    fn second_root_element_is_malformed() {
        assert!(matches!(
            events("<a/>\n<b/>"),
            Err(FormatError::Malformed {
                line: 2,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn late_xml_declaration_is_malformed() {
        assert!(matches!(
            events("<a>\n<?xml version='1.0'?></a>"),
            Err(FormatError::Malformed { line: 2, .. })
        ));
    }

    #[test]
    fn mismatched_end_tag_reports_the_element_left_open() {
        match events("<a>\n  <b>\n</c></a>") {
            Err(FormatError::Malformed {
                line,
                column,
                reason,
            }) => {
                assert_eq!((line, column), (2, 3));
                assert!(reason.contains("`</c>` at line 3, column 1"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The fatal error of a document, with its position and reason.
    fn refusal(xml: &str) -> (u64, u64, String) {
        match events(xml) {
            Err(FormatError::Malformed {
                line,
                column,
                reason,
            }) => (line, column, reason),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_at_the_element_that_passes_it() {
        let depth = 100_000;
        let xml = format!("<r>\n{}{}</r>", "<a>".repeat(depth), "</a>".repeat(depth));
        let (line, column, reason) = refusal(&xml);
        // The root is open: the 64th <a> is the 65th level.
        assert_eq!((line, column), (2, 63 * 3 + 1));
        assert!(reason.contains("more than 64 elements deep"), "{reason}");
    }

    #[test]
    fn a_text_run_past_the_limit_is_refused_where_it_starts() {
        let long = "a".repeat(MAX_RUN_BYTES as usize + 1);
        let (line, column, reason) = refusal(&format!("<r>\n  <seg>{long}</seg></r>"));
        assert_eq!((line, column), (2, 8));
        assert!(reason.contains("the text in <seg>"), "{reason}");
        assert!(reason.contains("limit of 1 MiB"), "{reason}");
        let at_limit = "a".repeat(MAX_RUN_BYTES as usize);
        assert!(events(&format!("<r>{at_limit}</r>")).is_ok());
    }

    #[test]
    fn markup_past_the_limit_is_refused_as_markup() {
        let comment = format!("<r><!--{}--></r>", "-x".repeat(MAX_RUN_BYTES as usize));
        let (line, column, reason) = refusal(&comment);
        assert_eq!((line, column), (1, 4));
        assert!(reason.starts_with("markup"), "{reason}");
        let attribute = format!("<r><a x=\"{}\"/></r>", "v".repeat(MAX_RUN_BYTES as usize));
        assert!(refusal(&attribute).2.starts_with("markup"));
    }

    #[test]
    fn too_many_attributes_are_refused_before_their_names_are_compared() {
        let attrs: String = (0..=MAX_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"\""))
            .collect();
        let (line, column, reason) = refusal(&format!("<r>\n<e{attrs}/></r>"));
        assert_eq!((line, column), (2, 1));
        assert!(reason.contains("more than 256 attributes"), "{reason}");
    }

    #[test]
    fn an_entry_past_the_limit_is_refused_at_its_start_tag() {
        // Many small runs, none near its own limit: only the entry's size is too much.
        let pieces = "<p>x</p>".repeat(MAX_ENTRY_BYTES as usize / 8 + 1);
        let xml = format!("<r>\n <entry>{pieces}</entry></r>");
        let mut pull = XmlPull::open(xml.as_bytes(), false).unwrap();
        let _root = pull.root().unwrap();
        let entry = loop {
            if let XmlEvent::Start(tag) = pull.next().unwrap() {
                break tag;
            }
        };
        pull.begin_entry(&entry);
        let error = loop {
            match pull.next() {
                Ok(XmlEvent::Eof) => panic!("read to the end"),
                Ok(_) => {}
                Err(error) => break error,
            }
        };
        assert_eq!(error.position(), Some((2, 2)));
        assert!(error
            .to_string()
            .contains("<entry> is longer than the limit of 8 MiB"));
        assert!(
            matches!(pull.next(), Ok(XmlEvent::Eof)),
            "fatal: nothing after it"
        );
    }

    /// Found by fuzzing the TMX reader: a NUL in a `<seg>` came through as text.
    #[test]
    fn characters_xml_does_not_allow_are_malformed_at_their_position() {
        let (line, column, reason) = refusal("<r>\n<seg>SCO s\u{0}ummit</seg></r>");
        assert_eq!(
            (line, column, reason.as_str()),
            (2, 11, "U+0000 is not allowed in XML 1.0")
        );
        let (line, column, _) = refusal("<r>a\nbc<![CDATA[x\ny\u{1}]]></r>");
        assert_eq!((line, column), (3, 2));
        let (line, column, reason) = refusal("<r>\n <a x=\"\u{FFFE}\"/></r>");
        assert_eq!((line, column), (2, 2));
        assert!(reason.contains("U+FFFE"), "{reason}");
    }

    #[test]
    fn collapse_space_trims_and_joins() {
        assert_eq!(collapse_space("\n   lat-Latn\n  "), "lat-Latn");
        assert_eq!(collapse_space("a \t\n b"), "a b");
    }
}
