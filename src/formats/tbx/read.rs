//! The TBX reader: walks the file, checks the structure around the entries and hands each
//! entry's elements to its [`EntryBuilder`] (through the declared dialect's checks, if any).
//!
//! Must not map data categories itself: that is the builder's job.

use std::io::BufRead;

use crate::formats::xml::{is_xml_space, LazyXml, Piece, Tag, XmlEvent, XmlPull};
use crate::formats::{ConceptEntry, FormatError};
use crate::model::Lang;

use super::builder::{EntryBuilder, Frame, Group};
use super::dialect::Dialect;

/// Reads the concepts of a TBX file one entry at a time.
///
/// Yields `Ok` for each usable entry, [`FormatError::Rejected`] for an entry that cannot be
/// used (invalid language tag, no terms, empty `<term>`) and for content outside any entry,
/// after which it continues, and at most one fatal error ([`FormatError::Malformed`],
/// [`FormatError::Encoding`], [`FormatError::Io`]), after which it ends.
///
/// A TBX v3 file that declares TBX-Basic, TBX-Min or TBX-Core is held to that dialect's rules
/// (the official schematrons' data categories, levels and picklists): an entry with a value
/// outside a picklist, a data category the dialect lacks or places elsewhere, or an element
/// TBX does not have is rejected, and a file whose structure around the entries is not TBX
/// v3's is malformed. Other files are read leniently.
///
/// ```
/// use tolmach::formats::TbxReader;
/// use tolmach::model::TermStatus;
///
/// let tbx = r#"<tbx type="TBX-Basic" style="dca" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2">
///   <tbxHeader><fileDesc><sourceDesc><p>example</p></sourceDesc></fileDesc></tbxHeader>
///   <text><body>
///     <conceptEntry id="sco">
///       <langSec xml:lang="zh-CN"><termSec><term>上海合作组织</term></termSec></langSec>
///       <langSec xml:lang="en"><termSec><term>Shanghai Cooperation Organisation</term>
///         <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec>
///         <termSec><term>SCO</term><termNote type="termType">acronym</termNote>
///         <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></termSec>
///       </langSec>
///     </conceptEntry>
///   </body></text>
/// </tbx>"#;
/// let entries: Vec<_> = TbxReader::new(tbx.as_bytes()).collect::<Result<_, _>>().unwrap();
/// let concept = &entries[0].concept;
/// assert_eq!(concept.id, "sco");
/// assert_eq!(concept.langs[0].lang.as_str(), "zh"); // zh-CN is canonicalized
/// assert_eq!(concept.langs[1].terms[1].status, TermStatus::Admitted);
/// ```
pub struct TbxReader<R: BufRead> {
    state: LazyXml<R>,
    /// The `xml:lang` of the root element: the language of concept-level text.
    root_lang: Option<Lang>,
    /// Entries started so far, for generated ids.
    entries: u64,
    /// Drop empty `<term/>` placeholders instead of rejecting their entry.
    skip_empty_terms: bool,
    /// The dialect the file declares, whose rules are then enforced; `None` reads leniently.
    dialect: Option<Dialect>,
    /// Local names of the elements open outside any entry, root first: where an entry or
    /// stray content sits in the file.
    outside: Vec<String>,
    /// An event read ahead while skipping content outside any entry, handled next.
    pending: Option<XmlEvent>,
}

impl<R: BufRead> TbxReader<R> {
    /// A reader over `input`. Nothing is read until the first call to `next`; an unsupported
    /// encoding is reported there.
    pub fn new(input: R) -> TbxReader<R> {
        TbxReader {
            state: LazyXml::Unopened(input),
            root_lang: None,
            entries: 0,
            skip_empty_terms: false,
            dialect: None,
            outside: Vec::new(),
            pending: None,
        }
    }

    /// Whether an empty `<term/>` drops only that term (with a warning) instead of rejecting
    /// the whole entry. Off by default. SDL MultiTerm exports write `<term/>` placeholders for
    /// languages that have no term yet, so an import of such a file may want this on.
    pub fn skip_empty_terms(mut self, skip: bool) -> TbxReader<R> {
        self.skip_empty_terms = skip;
        self
    }

    fn pull(&mut self) -> Result<Option<Tag>, FormatError> {
        let Some((xml, root)) = self.state.parser(false, check_root)? else {
            return Ok(None);
        };
        if let Some((root, dialect)) = root {
            self.root_lang = root.attr_local("lang").and_then(|l| Lang::parse(l).ok());
            self.dialect = dialect;
            self.outside.push(root.local().to_owned());
        }
        loop {
            let event = match self.pending.take() {
                Some(event) => event,
                None => xml.next()?,
            };
            match event {
                XmlEvent::Start(tag) if is_entry(tag.local()) => return Ok(Some(tag)),
                XmlEvent::Empty(tag) if is_entry(tag.local()) => {
                    self.entries += 1;
                    return Err(FormatError::rejected(
                        tag.line,
                        tag.column,
                        format!("<{}> has no terms", tag.name),
                    ));
                }
                XmlEvent::Start(tag) => {
                    let parent = self.outside.last().map_or("", String::as_str);
                    if parent == "body" {
                        return Err(orphaned(xml, XmlEvent::Start(tag), &mut self.pending)?);
                    }
                    if let Some(dialect) = self.dialect {
                        dialect.check_outside(parent, &tag)?;
                        if parent == "text" && !matches!(tag.local(), "body" | "back") {
                            xml.skip_element()?;
                            return Err(FormatError::rejected(
                                tag.line,
                                tag.column,
                                format!(
                                    "<{}> directly in <text>: only <body> and <back> belong \
                                     there",
                                    tag.name
                                ),
                            ));
                        }
                    }
                    self.outside.push(tag.local().to_owned());
                }
                XmlEvent::Empty(tag) if self.outside.last().is_some_and(|p| p == "body") => {
                    return Err(orphaned(xml, XmlEvent::Empty(tag), &mut self.pending)?);
                }
                XmlEvent::End(_) => {
                    self.outside.pop();
                }
                XmlEvent::Eof => {
                    self.state = LazyXml::Done;
                    return Ok(None);
                }
                XmlEvent::Text(piece) => {
                    let parent = self.outside.last().map_or("", String::as_str);
                    if self.dialect.is_some() && HEADER_ELEMENTS.contains(&parent) {
                        if let Some((line, column)) = first_text_position(xml.position(), &piece) {
                            let parent = parent.to_owned();
                            xml.skip_element()?;
                            self.outside.pop();
                            return Err(FormatError::rejected(
                                line,
                                column,
                                format!(
                                    "text directly in <{parent}>: the header's text belongs in \
                                     <p> (or <title>, <note>) elements"
                                ),
                            ));
                        }
                    }
                }
                XmlEvent::Empty(_) => {}
            }
        }
    }

    fn read_entry(&mut self, start: Tag) -> Result<ConceptEntry, FormatError> {
        self.entries += 1;
        let LazyXml::Open(xml) = &mut self.state else {
            return Err(FormatError::malformed(
                start.line,
                start.column,
                "reader is closed",
            ));
        };
        xml.begin_entry(&start);
        let mut entry = EntryBuilder::new(&start, self.entries);
        entry.skip_empty_terms = self.skip_empty_terms;
        let dialect = self.dialect;
        // Structural elements open inside the entry; the entry itself is not on the stack.
        let mut stack: Vec<Frame> = Vec::new();
        let outcome: Result<(), FormatError> = loop {
            match xml.next()? {
                XmlEvent::Start(tag) => {
                    // On a rejection the element just opened is still open: it goes on the
                    // stack so that exactly the rest of the entry is skipped.
                    let checked = check_lang_attr(&tag).or_else(|| {
                        dialect.and_then(|d| d.check_open(&tag, &mut entry, stack.last_mut()))
                    });
                    if let Some(err) = checked {
                        stack.push(Frame::Group(Group::new(&tag)));
                        break Err(err);
                    }
                    match classify(&tag, dialect.is_some()) {
                        Kind::Section => {
                            stack.push(Frame::Section);
                            if let Err(e) = entry.open_section(&tag) {
                                break Err(e);
                            }
                        }
                        Kind::TermSec => {
                            stack.push(Frame::TermSec);
                            if let Err(e) = entry.open_term(&tag) {
                                break Err(e);
                            }
                        }
                        Kind::Group => stack.push(Frame::Group(Group::new(&tag))),
                        Kind::Skip => xml.skip_element()?,
                        Kind::Data => {
                            let text = xml.element_text()?;
                            if let Err(e) = read_data(dialect, &stack, &mut entry, &tag, &text) {
                                break Err(e);
                            }
                        }
                    }
                }
                XmlEvent::Empty(tag) => {
                    let checked = check_lang_attr(&tag).or_else(|| {
                        dialect.and_then(|d| d.check_open(&tag, &mut entry, stack.last_mut()))
                    });
                    if let Some(err) = checked {
                        break Err(err);
                    }
                    match classify(&tag, dialect.is_some()) {
                        Kind::Section => {
                            if let Err(e) = entry.open_section(&tag) {
                                break Err(e);
                            }
                            entry.close_section();
                        }
                        Kind::TermSec => {
                            if let Err(e) = entry.open_term(&tag).and_then(|_| entry.close_term()) {
                                break Err(e);
                            }
                        }
                        Kind::Data => {
                            if let Err(e) = read_data(dialect, &stack, &mut entry, &tag, "") {
                                break Err(e);
                            }
                        }
                        Kind::Group | Kind::Skip => {}
                    }
                }
                XmlEvent::End(_) => match stack.pop() {
                    None => break Ok(()),
                    Some(Frame::Section) => entry.close_section(),
                    Some(Frame::TermSec) => {
                        if let Err(e) = entry.close_term() {
                            break Err(e);
                        }
                    }
                    Some(Frame::Group(_)) => {}
                },
                XmlEvent::Text(_) => {}
                XmlEvent::Eof => {
                    let (line, column) = xml.position();
                    return Err(FormatError::malformed(
                        line,
                        column,
                        "unexpected end of file",
                    ));
                }
            }
        };
        match outcome {
            Ok(()) => entry.finish(self.root_lang.as_ref()),
            Err(rejection) => {
                // Skip what is left of the rejected entry: every open element, then the entry.
                for _ in 0..=stack.len() {
                    xml.skip_element()?;
                }
                Err(rejection)
            }
        }
    }
}

impl<R: BufRead> Iterator for TbxReader<R> {
    type Item = Result<ConceptEntry, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = match self.pull() {
            Ok(Some(start)) => {
                let entry = self.read_entry(start);
                if let LazyXml::Open(xml) = &mut self.state {
                    xml.end_entry();
                }
                entry
            }
            Ok(None) => return None,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            if e.is_fatal() {
                self.state = LazyXml::Done;
            }
        }
        Some(result)
    }
}

/// Header elements of the TBX v3 core structure that hold only elements: their text is in
/// `<p>`, `<title>` or `<note>`.
const HEADER_ELEMENTS: &[&str] = &[
    "tbxHeader",
    "fileDesc",
    "titleStmt",
    "publicationStmt",
    "sourceDesc",
    "encodingDesc",
    "revisionDesc",
    "change",
];

/// Where the first character of `piece` that is not white space is, given where the piece
/// starts; `None` when it is all white space.
fn first_text_position((line, column): (u64, u64), piece: &Piece) -> Option<(u64, u64)> {
    let text = piece.text();
    let at = text.find(|c: char| !is_xml_space(c))?;
    let before = &text[..at];
    Some(match before.rfind('\n') {
        Some(newline) => (
            line + before.matches('\n').count() as u64,
            before[newline + 1..].chars().count() as u64 + 1,
        ),
        None => (line, column + before.chars().count() as u64),
    })
}

fn is_entry(local: &str) -> bool {
    matches!(local, "conceptEntry" | "termEntry")
}

/// What an element inside an entry is, structurally.
enum Kind {
    /// `langSec` / `langSet`.
    Section,
    /// `termSec` / `tig` / `ntig`.
    TermSec,
    /// A transparent wrapper (`descripGrp`, `termGrp`, …): its children belong to the level
    /// it sits in.
    Group,
    /// Content the model has no place for and that is not worth a warning (transaction
    /// history: the store keeps its own).
    Skip,
    /// A data category (or `<term>`): its text is read whole.
    Data,
}

/// Reads the text of a data category: checks its value against the dialect's picklist, and
/// records it unless it is transaction data, which the store does not keep.
fn read_data(
    dialect: Option<Dialect>,
    stack: &[Frame],
    entry: &mut EntryBuilder,
    tag: &Tag,
    text: &str,
) -> Result<(), FormatError> {
    let Some(dialect) = dialect else {
        return entry.data(tag, text);
    };
    dialect.check_value(tag, text)?;
    let in_transac = stack
        .iter()
        .any(|f| matches!(f, Frame::Group(g) if g.name == "transacGrp"));
    if in_transac {
        Ok(())
    } else {
        entry.data(tag, text)
    }
}

/// `checked`: the file declares a dialect, whose transaction groups are read to check them
/// (and then dropped) instead of being skipped unread.
fn classify(tag: &Tag, checked: bool) -> Kind {
    match tag.local() {
        "langSec" | "langSet" => Kind::Section,
        "termSec" | "tig" | "ntig" => Kind::TermSec,
        "transacGrp" if !checked => Kind::Skip,
        "noteGrp" => Kind::Group,
        local if local.ends_with("Grp") => Kind::Group,
        _ => Kind::Data,
    }
}

/// An `xml:lang` anywhere inside an entry must be a valid tag.
fn check_lang_attr(tag: &Tag) -> Option<FormatError> {
    let value = tag.attr("xml:lang")?;
    match Lang::parse(value) {
        Ok(_) => None,
        Err(err) => Some(FormatError::rejected(
            tag.line,
            tag.column,
            format!("<{}>: {err}", tag.name),
        )),
    }
}

/// Content found directly in `<body>` outside any entry: an entry whose start (and end) tag
/// is missing, so its terms have no concept to belong to. Rejects it, naming the lines and
/// the terms lost, after skipping it and whatever follows it up to the next entry or the end
/// of the body; the event that ended the skip is left in `pending`.
fn orphaned<R: BufRead>(
    xml: &mut XmlPull<R>,
    first: XmlEvent,
    pending: &mut Option<XmlEvent>,
) -> Result<FormatError, FormatError> {
    let (XmlEvent::Start(tag) | XmlEvent::Empty(tag)) = &first else {
        let (line, column) = xml.position();
        return Ok(FormatError::rejected(
            line,
            column,
            "content outside any entry",
        ));
    };
    let first_tag = tag.clone();
    let mut terms = 0u64;
    let mut depth = 0usize;
    let mut last_line = first_tag.line;
    let mut event = first;
    loop {
        match event {
            XmlEvent::Start(ref tag) | XmlEvent::Empty(ref tag)
                if depth == 0 && is_entry(tag.local()) =>
            {
                *pending = Some(event);
                break;
            }
            XmlEvent::Start(tag) => {
                terms += u64::from(tag.local() == "term");
                depth += 1;
            }
            XmlEvent::Empty(tag) => terms += u64::from(tag.local() == "term"),
            XmlEvent::End(name) => {
                if depth == 0 {
                    // The end of `<body>` itself.
                    *pending = Some(XmlEvent::End(name));
                    break;
                }
                depth -= 1;
            }
            XmlEvent::Text(_) => {}
            XmlEvent::Eof => {
                *pending = Some(XmlEvent::Eof);
                break;
            }
        }
        last_line = xml.position().0;
        event = xml.next()?;
    }
    let first = first_tag;
    Ok(FormatError::rejected(
        first.line,
        first.column,
        format!(
            "<{}> directly in <body>: content outside any entry (lines {}-{last_line}, {terms} \
             term(s)), perhaps an entry whose start tag is missing, is not read",
            first.name, first.line
        ),
    ))
}

/// The root element, if it is one of TBX's (`<tbx>` of v3, `<martif>` of 2008, `<TBX>` of
/// TBX-Min), with the dialect it declares; a file of another kind is refused.
fn check_root(root: Tag) -> Result<(Tag, Option<Dialect>), FormatError> {
    if matches!(root.local(), "tbx" | "martif" | "TBX") {
        let dialect = Dialect::declared(&root)?;
        return Ok((root, dialect));
    }
    Err(FormatError::malformed(
        root.line,
        root.column,
        format!(
            "not a TBX file: the root element is <{}>, expected <tbx> (TBX v3) or \
             <martif> (TBX 2008)",
            root.name
        ),
    ))
}
