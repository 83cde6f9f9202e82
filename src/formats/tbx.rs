//! TBX: a streaming reader for TBX v3 (DCA and DCT styles), TBX 2008 / v2 (`martif`) and the
//! 2013 TBX-Min dialect, and a writer for TBX v3 TBX-Basic and TBX 2008.
//!
//! Owns the mapping between TBX data categories and [`Concept`]. It must not know about the
//! store or gRPC: the reader yields concepts with `collection` empty, timestamps 0 and revision
//! 0, and the caller fills them in.
//!
//! The reader holds one entry (`conceptEntry` / `termEntry`) in memory at a time. Data
//! categories are recognized by name whatever their form: `<descrip type="definition">` (DCA),
//! `<basic:definition>` (DCT) and `<definition>` (TBX-Min 2013) are the same thing.

use std::borrow::Borrow;
use std::io::{BufRead, Write};

use crate::model::{Concept, Lang, LangSection, Term, TermStatus, TermType};

use super::error::FormatError;
use super::xml::{collapse_space, is_xml_space, Piece, Tag, XmlEvent, XmlPull};

/// One entry read from a TBX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TbxEntry {
    /// The concept, with `collection` empty, timestamps 0 and revision 0.
    pub concept: Concept,
    /// Line of the entry's start tag (1-based).
    pub line: u64,
    /// Column of the entry's start tag (1-based).
    pub column: u64,
    /// Things the reader kept in a lossy way or could not map, e.g. an unknown data category
    /// kept as a note; each names the line it comes from.
    pub warnings: Vec<String>,
    /// The entry had no `id`: `concept.id` was made from its position (`entry-7`), so it does
    /// not identify the concept across files.
    pub generated_id: bool,
}

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
    state: State<R>,
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

enum State<R: BufRead> {
    Unopened(R),
    /// Boxed, so that the reader stays small to move: the parser state is large.
    Open(Box<XmlPull<R>>),
    Done,
}

impl<R: BufRead> TbxReader<R> {
    /// A reader over `input`. Nothing is read until the first call to `next`; an unsupported
    /// encoding is reported there.
    pub fn new(input: R) -> TbxReader<R> {
        TbxReader {
            state: State::Unopened(input),
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
        let xml = match std::mem::replace(&mut self.state, State::Done) {
            State::Unopened(input) => {
                let mut xml = XmlPull::open(input, false)?;
                self.check_root(&mut xml)?;
                Box::new(xml)
            }
            State::Open(xml) => xml,
            State::Done => return Ok(None),
        };
        self.state = State::Open(xml);
        let State::Open(xml) = &mut self.state else {
            return Ok(None);
        };
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
                    self.state = State::Done;
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

    fn check_root(&mut self, xml: &mut XmlPull<R>) -> Result<(), FormatError> {
        let root = loop {
            match xml.next()? {
                XmlEvent::Start(tag) | XmlEvent::Empty(tag) => break tag,
                XmlEvent::Eof => {
                    let (line, column) = xml.position();
                    return Err(FormatError::malformed(
                        line,
                        column,
                        "the file has no root element",
                    ));
                }
                _ => {}
            }
        };
        if !matches!(root.local(), "tbx" | "martif" | "TBX") {
            return Err(FormatError::malformed(
                root.line,
                root.column,
                format!(
                    "not a TBX file: the root element is <{}>, expected <tbx> (TBX v3) or \
                     <martif> (TBX 2008)",
                    root.name
                ),
            ));
        }
        self.root_lang = root.attr_local("lang").and_then(|l| Lang::parse(l).ok());
        self.dialect = Dialect::declared(&root)?;
        self.outside.push(root.local().to_owned());
        Ok(())
    }

    fn read_entry(&mut self, start: Tag) -> Result<TbxEntry, FormatError> {
        self.entries += 1;
        let State::Open(xml) = &mut self.state else {
            return Err(FormatError::malformed(
                start.line,
                start.column,
                "reader is closed",
            ));
        };
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
    type Item = Result<TbxEntry, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let result = match self.pull() {
            Ok(Some(start)) => self.read_entry(start),
            Ok(None) => return None,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            if e.is_fatal() {
                self.state = State::Done;
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

enum Frame {
    Section,
    TermSec,
    Group(Group),
}

/// An open group (`descripGrp`, `transacGrp`, …) inside an entry.
struct Group {
    /// Its local name.
    name: String,
    /// How many of its head elements (`descrip` in a `descripGrp`, …) it has held so far.
    heads: u32,
}

impl Group {
    fn new(tag: &Tag) -> Group {
        Group {
            name: tag.local().to_owned(),
            heads: 0,
        }
    }
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

/// The namespace of TBX v3 (ISO 30042:2019).
const TBX_NAMESPACE: &str = "urn:iso:std:iso:30042:ed-2";

/// A TBX v3 dialect a file declares (`<tbx type="…">` in [`TBX_NAMESPACE`]).
///
/// A file that names a dialect promises its rules, and a file that breaks them was written by
/// a tool that got something wrong: it is refused (an entry [`FormatError::Rejected`], or the
/// file [`FormatError::Malformed`]) rather than read as if it were valid. Files that name no
/// dialect, and vendor shapes (MultiTerm, IATE, Microsoft, TBX 2008), are read leniently,
/// keeping what they have with warnings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// The core structure only: it defines no data categories, so their types are not checked.
    Core,
    Basic,
    Min,
}

/// The levels of an entry, as bits, for where a data category may appear.
const CONCEPT: u8 = 1;
const LANGUAGE: u8 = 2;
const TERM: u8 = 4;

/// A data category of a dialect.
struct DataCategory {
    /// Its name: the `type` of a DCA element, the local name of a DCT element.
    name: &'static str,
    /// The DCA element that carries it.
    element: &'static str,
    /// Where it may appear ([`CONCEPT`], [`LANGUAGE`], [`TERM`]): directly at the level or
    /// in a group there.
    levels: u8,
    /// The values it may take; empty for free text.
    picklist: &'static [&'static str],
}

const STATUS_VALUES: &[&str] = &[
    "admittedTerm-admn-sts",
    "deprecatedTerm-admn-sts",
    "supersededTerm-admn-sts",
    "preferredTerm-admn-sts",
];
const PART_OF_SPEECH_VALUES: &[&str] = &["adjective", "noun", "other", "verb", "adverb"];
/// `usageStatus` is not in the official schematrons, but the LTAC dialect samples (valid
/// TBX-Basic and TBX-Min files) use it in place of `administrativeStatus`.
const USAGE_STATUS_VALUES: &[&str] = &[
    "preferred",
    "admitted",
    "deprecated",
    "notRecommended",
    "obsolete",
];

/// The categories of TBX-Min (the official TBX-Min schematron), plus `usageStatus`.
const MIN_CATEGORIES: &[DataCategory] = &[
    DataCategory {
        name: "subjectField",
        element: "descrip",
        levels: CONCEPT,
        picklist: &[],
    },
    DataCategory {
        name: "customerSubset",
        element: "admin",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "administrativeStatus",
        element: "termNote",
        levels: TERM,
        picklist: STATUS_VALUES,
    },
    DataCategory {
        name: "partOfSpeech",
        element: "termNote",
        levels: TERM,
        picklist: PART_OF_SPEECH_VALUES,
    },
    DataCategory {
        name: "usageStatus",
        element: "termNote",
        levels: TERM,
        picklist: USAGE_STATUS_VALUES,
    },
    DataCategory {
        name: "externalCrossReference",
        element: "xref",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
];

/// The categories TBX-Basic adds to TBX-Min (the official TBX-Basic schematron). Its
/// `transactionType` also takes `creation`, which the LTAC TBX-Basic sample uses.
const BASIC_CATEGORIES: &[DataCategory] = &[
    DataCategory {
        name: "projectSubset",
        element: "admin",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "source",
        element: "admin",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "context",
        element: "descrip",
        levels: TERM,
        picklist: &[],
    },
    DataCategory {
        name: "definition",
        element: "descrip",
        levels: CONCEPT | LANGUAGE,
        picklist: &[],
    },
    DataCategory {
        name: "crossReference",
        element: "ref",
        levels: CONCEPT | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "geographicalUsage",
        element: "termNote",
        levels: TERM,
        picklist: &[],
    },
    DataCategory {
        name: "grammaticalGender",
        element: "termNote",
        levels: TERM,
        picklist: &["masculine", "feminine", "neuter", "other"],
    },
    DataCategory {
        name: "termLocation",
        element: "termNote",
        levels: TERM,
        picklist: &[
            "checkBox",
            "comboBox",
            "comboBoxElement",
            "dialogBox",
            "groupBox",
            "informativeMessage",
            "interactiveMessage",
            "menuItem",
            "progressBar",
            "pushButton",
            "radioButton",
            "slider",
            "spinBox",
            "tab",
            "tableText",
            "textBox",
            "toolTip",
            "user-definedType",
        ],
    },
    DataCategory {
        name: "termType",
        element: "termNote",
        levels: TERM,
        picklist: &[
            "fullForm",
            "acronym",
            "abbreviation",
            "shortForm",
            "variant",
            "phrase",
        ],
    },
    DataCategory {
        name: "transactionType",
        element: "transac",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &["origination", "modification", "creation"],
    },
    DataCategory {
        name: "responsibility",
        element: "transacNote",
        levels: CONCEPT | LANGUAGE | TERM,
        picklist: &[],
    },
    DataCategory {
        name: "xGraphic",
        element: "xref",
        levels: CONCEPT | LANGUAGE,
        picklist: &[],
    },
];

/// Elements of the TBX core structure that carry a data category in their `type`.
const DCA_ELEMENTS: &[&str] = &[
    "admin",
    "adminNote",
    "descrip",
    "descripNote",
    "ref",
    "termNote",
    "transac",
    "transacNote",
    "xref",
];

/// The groups of the core structure, each with the element it is built around.
const GROUPS: &[(&str, &str)] = &[
    ("adminGrp", "admin"),
    ("descripGrp", "descrip"),
    ("termNoteGrp", "termNote"),
    ("transacGrp", "transac"),
];

fn level_names(levels: u8) -> String {
    [(CONCEPT, "concept"), (LANGUAGE, "language"), (TERM, "term")]
        .iter()
        .filter(|(bit, _)| levels & bit != 0)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Dialect {
    /// The dialect the root element declares. A `<tbx>` root in another namespace than TBX
    /// v3's is not TBX v3 at all, whatever it declares: the file is refused.
    fn declared(root: &Tag) -> Result<Option<Dialect>, FormatError> {
        if root.local() != "tbx" {
            return Ok(None);
        }
        let namespace = root.attr("xmlns");
        if let Some(ns) = namespace.filter(|ns| *ns != TBX_NAMESPACE) {
            return Err(FormatError::malformed(
                root.line,
                root.column,
                format!(
                    "<{}> is in the namespace {ns:?}; TBX v3 is in {TBX_NAMESPACE:?}",
                    root.name
                ),
            ));
        }
        if namespace.is_none() {
            return Ok(None);
        }
        Ok(match root.attr("type") {
            Some("TBX-Basic") => Some(Dialect::Basic),
            Some("TBX-Min") => Some(Dialect::Min),
            Some("TBX-Core") => Some(Dialect::Core),
            _ => None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Dialect::Core => "TBX-Core",
            Dialect::Basic => "TBX-Basic",
            Dialect::Min => "TBX-Min",
        }
    }

    /// The data category `name` of the dialect; `None` when the dialect does not have it.
    fn category(self, name: &str) -> Option<&'static DataCategory> {
        let basic: &[DataCategory] = match self {
            Dialect::Core => return None,
            Dialect::Min => &[],
            Dialect::Basic => BASIC_CATEGORIES,
        };
        MIN_CATEGORIES.iter().chain(basic).find(|c| c.name == name)
    }

    /// Checks an element outside any entry, in an element whose local name is `parent`:
    /// `<tbx>` holds `<tbxHeader>` and `<text>`. Anything else there (such as `<body>` and
    /// `<text>` swapped) leaves every entry out of place, so the file is refused.
    fn check_outside(self, parent: &str, tag: &Tag) -> Result<(), FormatError> {
        if parent == "tbx" && !matches!(tag.local(), "tbxHeader" | "text") {
            return Err(FormatError::malformed(
                tag.line,
                tag.column,
                format!(
                    "<{}> directly in <tbx>: {} puts <tbxHeader> and then <text> there, and \
                     <body> inside <text>",
                    tag.name,
                    self.name()
                ),
            ));
        }
        Ok(())
    }

    /// Checks an element opening inside an entry, directly in `parent` (`None`: directly in
    /// the entry): that it is an element of the core structure, in a place the structure
    /// allows, and, for a data category, that the dialect has it at this level.
    fn check_open(
        self,
        tag: &Tag,
        entry: &mut EntryBuilder,
        parent: Option<&mut Frame>,
    ) -> Option<FormatError> {
        let reason = self.open_reason(tag, entry, parent)?;
        Some(FormatError::rejected(tag.line, tag.column, reason))
    }

    fn open_reason(
        self,
        tag: &Tag,
        entry: &mut EntryBuilder,
        parent: Option<&mut Frame>,
    ) -> Option<String> {
        let name = &tag.name;
        let local = tag.local();
        let level = match (&entry.current_term, entry.current_section) {
            (Some(_), _) => TERM,
            (None, Some(_)) => LANGUAGE,
            (None, None) => CONCEPT,
        };
        let group = match parent {
            Some(Frame::TermSec) => {
                if let Some(t) = entry.current_term.as_mut() {
                    t.children += 1;
                    if local == "term" && t.text.is_some() {
                        return Some(format!("second <{name}> in one term section"));
                    }
                    if local == "term" && t.children > 1 {
                        return Some(format!("<{name}> must come first in its term section"));
                    }
                    // The core structure orders a term section: the term, its term notes,
                    // then descriptions, admin data, notes and references.
                    let term_note = matches!(local, "termNote" | "termNoteGrp")
                        || (name.contains(':')
                            && self
                                .category(local)
                                .is_some_and(|c| c.element == "termNote"));
                    if local != "term" {
                        match (&t.aux, term_note) {
                            (Some((before, line)), true) => {
                                return Some(format!(
                                    "<{name}> after <{before}> (line {line}): term notes come \
                                     right after the <term>, before descriptions, admin data \
                                     and notes"
                                ));
                            }
                            (None, false) => t.aux = Some((name.clone(), tag.line)),
                            _ => {}
                        }
                    }
                }
                None
            }
            Some(Frame::Group(g)) => Some(g),
            Some(Frame::Section) | None => None,
        };
        let dct = name.contains(':');
        if !dct {
            match local {
                "langSec" | "termSec" | "term" => return None,
                "note" => return None,
                "date" => {
                    return match group {
                        Some(g) if g.name == "transacGrp" => None,
                        _ => Some(format!("<{name}> outside a <transacGrp>")),
                    }
                }
                _ => {}
            }
            if let Some((group_name, _)) = GROUPS.iter().find(|(g, _)| *g == local) {
                return match group {
                    Some(outer) if *group_name != "transacGrp" => {
                        Some(format!("<{name}> inside <{}>", outer.name))
                    }
                    _ => None,
                };
            }
            if !DCA_ELEMENTS.contains(&local) {
                return Some(format!("<{name}> is not an element of TBX"));
            }
            if let Some(g) = group {
                let head = GROUPS.iter().find(|(n, _)| *n == g.name).map(|(_, h)| *h);
                if head == Some(local) {
                    g.heads += 1;
                    if g.heads > 1 {
                        return Some(format!("second <{name}> in one <{}>", g.name));
                    }
                }
            }
        }
        let element = if dct {
            self.category(local).map_or(local, |c| c.element)
        } else {
            local
        };
        if element == "termNote" && level != TERM {
            return Some(format!(
                "<{name}> in a {} section: a termNote belongs in a term section",
                if level == LANGUAGE {
                    "language"
                } else {
                    "concept"
                }
            ));
        }
        let category = if dct {
            local
        } else {
            match tag.attr("type").map(str::trim) {
                Some(t) if !t.is_empty() => t,
                _ if matches!(local, "adminNote" | "descripNote") => return None,
                _ => return Some(format!("<{name}> without a type")),
            }
        };
        if self == Dialect::Core {
            return None;
        }
        let Some(found) = self.category(category) else {
            return Some(format!(
                "<{name}>: data category {category:?} is not part of {}",
                self.name()
            ));
        };
        if !dct && found.element != local {
            return Some(format!(
                "<{name}>: data category {category:?} is a <{}>",
                found.element
            ));
        }
        if found.levels & level == 0 {
            return Some(format!(
                "<{name}>: data category {category:?} is not allowed at {} level, only at {}",
                level_names(level),
                level_names(found.levels)
            ));
        }
        None
    }

    /// Checks the value of a picklist data category.
    fn check_value(self, tag: &Tag, text: &str) -> Result<(), FormatError> {
        let name = if tag.name.contains(':') {
            tag.local()
        } else {
            tag.attr("type").map_or("", str::trim)
        };
        let Some(found) = self.category(name) else {
            return Ok(());
        };
        let value = collapse_space(text);
        if found.picklist.is_empty() || found.picklist.contains(&value.as_str()) {
            return Ok(());
        }
        Err(FormatError::rejected(
            tag.line,
            tag.column,
            format!(
                "<{}>: {value:?} is not a value of {name} in {}; allowed: {}",
                tag.name,
                self.name(),
                found.picklist.join(", ")
            ),
        ))
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

/// The data category an element stands for: the `type` of a DCA element, the element's own
/// local name for DCT and TBX-Min elements.
fn category(tag: &Tag) -> &str {
    match tag.local() {
        "descrip" | "termNote" | "admin" | "ref" | "xref" | "transac" | "transacNote" => {
            tag.attr("type").unwrap_or_else(|| tag.local())
        }
        local => local,
    }
}

/// Maps an `administrativeStatus`, `normativeAuthorization` or TBX-Min `termStatus` value.
fn parse_status(value: &str) -> Option<TermStatus> {
    let value = value.trim();
    let base = value.strip_suffix("-admn-sts").unwrap_or(value);
    match base.to_ascii_lowercase().as_str() {
        "preferredterm" | "preferred" | "legalterm" | "regulatedterm" | "standardizedterm" => {
            Some(TermStatus::Preferred)
        }
        "admittedterm" | "admitted" | "permitted" => Some(TermStatus::Admitted),
        "supersededterm" | "superseded" => Some(TermStatus::Superseded),
        // Weblate's and TBX-Min's `obsolete` is a term not to use any more, not a former name
        // of something renamed: deprecated.
        "deprecatedterm" | "deprecated" | "obsolete" | "obsoleteterm" | "outdated"
        | "notrecommended" => Some(TermStatus::Deprecated),
        "forbiddenterm" | "forbidden" => Some(TermStatus::Forbidden),
        _ => None,
    }
}

/// Maps a `termType` value.
pub(super) fn parse_term_type(value: &str) -> Option<TermType> {
    match value.trim() {
        "fullForm" => Some(TermType::FullForm),
        "acronym" | "initialism" => Some(TermType::Acronym),
        "abbreviation" | "abbreviatedForm" => Some(TermType::Abbreviation),
        "shortForm" | "clippedTerm" => Some(TermType::ShortForm),
        "variant" => Some(TermType::Variant),
        "phrase" | "setPhrase" => Some(TermType::Phrase),
        _ => None,
    }
}

/// The start of the note that carries a part of speech outside TBX-Basic's picklist (a
/// glossary's "proper noun"), written beside `partOfSpeech` `other` so that the file stays
/// valid TBX-Basic and the value still reads back as it was.
const POS_NOTE_PREFIX: &str = "partOfSpeech: ";

/// The note TBX-Basic files carry next to `deprecatedTerm-admn-sts` to mark a forbidden term:
/// TBX-Basic has no status value for it.
const FORBIDDEN_NOTE: &str = "forbidden";

struct TermBuilder {
    text: Option<String>,
    /// An empty `<term/>` was seen (and tolerated).
    placeholder: bool,
    status: Option<TermStatus>,
    /// Where in `notes` the first `<note>forbidden</note>` is. Only that one is the marker of
    /// a forbidden term, and only next to a deprecated status: any other note saying
    /// "forbidden" is the terminologist's own and stays where it was.
    forbidden_note: Option<usize>,
    term_type: TermType,
    part_of_speech: String,
    notes: Vec<String>,
    sources: Vec<String>,
    contexts: Vec<String>,
    line: u64,
    column: u64,
    /// Elements read directly in the term section so far, for the rule that `<term>` comes
    /// first.
    children: u32,
    /// The first element directly in the term section that is neither the term nor a term
    /// note (name, line), for the rule that term notes come right after the term.
    aux: Option<(String, u64)>,
}

struct SectionBuilder {
    lang: Lang,
    definition: Vec<String>,
    notes: Vec<String>,
    terms: Vec<Term>,
}

struct EntryBuilder {
    id: String,
    generated_id: bool,
    line: u64,
    column: u64,
    subject_field: Vec<String>,
    sources: Vec<String>,
    notes: Vec<String>,
    cross_refs: Vec<String>,
    /// Concept-level definitions: they belong to the file's main language.
    definitions: Vec<String>,
    sections: Vec<SectionBuilder>,
    current_section: Option<usize>,
    current_term: Option<TermBuilder>,
    warnings: Vec<String>,
    skip_empty_terms: bool,
}

fn push_joined(target: &mut String, sep: &str, text: &str) {
    if !target.is_empty() {
        target.push_str(sep);
    }
    target.push_str(text);
}

impl EntryBuilder {
    fn new(start: &Tag, ordinal: u64) -> EntryBuilder {
        let given = start
            .attr("id")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(decode_id);
        EntryBuilder {
            generated_id: given.is_none(),
            id: given.unwrap_or_else(|| format!("entry-{ordinal}")),
            line: start.line,
            column: start.column,
            subject_field: Vec::new(),
            sources: Vec::new(),
            notes: Vec::new(),
            cross_refs: Vec::new(),
            definitions: Vec::new(),
            sections: Vec::new(),
            current_section: None,
            current_term: None,
            warnings: Vec::new(),
            skip_empty_terms: false,
        }
    }

    fn open_section(&mut self, tag: &Tag) -> Result<(), FormatError> {
        if self.current_section.is_some() || self.current_term.is_some() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> inside another language section", tag.name),
            ));
        }
        let Some(value) = tag.attr_local("lang") else {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> has no xml:lang", tag.name),
            ));
        };
        let lang = Lang::parse(value).map_err(|err| {
            FormatError::rejected(tag.line, tag.column, format!("<{}>: {err}", tag.name))
        })?;
        let index = match self.sections.iter().position(|s| s.lang == lang) {
            Some(i) => i,
            None => {
                self.sections.push(SectionBuilder {
                    lang,
                    definition: Vec::new(),
                    notes: Vec::new(),
                    terms: Vec::new(),
                });
                self.sections.len() - 1
            }
        };
        self.current_section = Some(index);
        Ok(())
    }

    fn close_section(&mut self) {
        self.current_section = None;
    }

    fn open_term(&mut self, tag: &Tag) -> Result<(), FormatError> {
        if self.current_section.is_none() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> outside a language section", tag.name),
            ));
        }
        if self.current_term.is_some() {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<{}> inside another term section", tag.name),
            ));
        }
        self.current_term = Some(TermBuilder {
            text: None,
            placeholder: false,
            status: None,
            forbidden_note: None,
            term_type: TermType::Unspecified,
            part_of_speech: String::new(),
            notes: Vec::new(),
            sources: Vec::new(),
            contexts: Vec::new(),
            line: tag.line,
            column: tag.column,
            children: 0,
            aux: None,
        });
        Ok(())
    }

    fn close_term(&mut self) -> Result<(), FormatError> {
        let Some(t) = self.current_term.take() else {
            return Ok(());
        };
        let Some(section) = self.current_section.and_then(|i| self.sections.get_mut(i)) else {
            return Ok(());
        };
        let Some(text) = t.text else {
            if t.placeholder {
                self.warnings
                    .push(format!("line {}: empty <term> dropped", t.line));
                return Ok(());
            }
            return Err(FormatError::rejected(
                t.line,
                t.column,
                "term section without a <term>",
            ));
        };
        let mut notes = t.notes;
        let status = match (t.status, t.forbidden_note) {
            (Some(TermStatus::Deprecated), Some(marker)) => {
                notes.remove(marker);
                Some(TermStatus::Forbidden)
            }
            (status, _) => status,
        };
        let mut part_of_speech = t.part_of_speech;
        if part_of_speech == "other" {
            if let Some(i) = notes.iter().position(|n| n.starts_with(POS_NOTE_PREFIX)) {
                part_of_speech = notes.remove(i)[POS_NOTE_PREFIX.len()..].to_owned();
            }
        }
        // A term whose status nobody stated is admitted, as in CSV files and the API: only a
        // terminologist makes a term preferred (and a dictionary that states no status must
        // not outrank a glossary that does). The first term still comes first among equals.
        let mut term = Term::with_status(text, status.unwrap_or(TermStatus::Admitted));
        term.term_type = t.term_type;
        term.part_of_speech = part_of_speech;
        term.note = notes.join("\n");
        term.source = t.sources.join("; ");
        term.context = t.contexts.join("\n");
        section.terms.push(term);
        Ok(())
    }

    fn warn(&mut self, tag: &Tag, message: impl std::fmt::Display) {
        self.warnings.push(format!("line {}: {message}", tag.line));
    }

    /// Records a data category (or the `<term>` itself) read at the current level.
    fn data(&mut self, tag: &Tag, raw_text: &str) -> Result<(), FormatError> {
        let text = collapse_space(raw_text);
        let cat = category(tag).to_owned();
        if cat == "term" {
            return self.term_text(tag, text);
        }
        let target = tag.attr("target").map(str::to_owned);
        if text.is_empty() && target.is_none() {
            return Ok(());
        }
        let in_term = self.current_term.is_some();
        let section = self.current_section;
        match cat.as_str() {
            "subjectField" => self.subject_field.push(text),
            "definition" => match (in_term, section) {
                (true, Some(i)) if self.sections[i].definition.is_empty() => {
                    self.sections[i].definition.push(text)
                }
                (true, _) => self.term_note(format!("Definition: {text}")),
                (false, Some(i)) => self.sections[i].definition.push(text),
                (false, None) => self.definitions.push(text),
            },
            "context" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        t.contexts.push(text);
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(format!("Context: {text}")),
                (false, None) => self.notes.push(format!("Context: {text}")),
            },
            "note" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        if t.forbidden_note.is_none() && text.eq_ignore_ascii_case(FORBIDDEN_NOTE) {
                            t.forbidden_note = Some(t.notes.len());
                        }
                        t.notes.push(text);
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(text),
                (false, None) => self.notes.push(text),
            },
            "source" | "sourceIdentifier" => match (in_term, section) {
                (true, _) => {
                    if let Some(t) = self.current_term.as_mut() {
                        if !t.sources.contains(&text) {
                            t.sources.push(text);
                        }
                    }
                }
                (false, Some(i)) => self.sections[i].notes.push(format!("Source: {text}")),
                (false, None) => {
                    if !self.sources.contains(&text) {
                        self.sources.push(text)
                    }
                }
            },
            "administrativeStatus" | "normativeAuthorization" | "termStatus" => {
                match (parse_status(&text), self.current_term.as_mut()) {
                    (Some(status), Some(t)) => match t.status {
                        None => t.status = Some(status),
                        Some(previous) if previous != status => self.warn(
                            tag,
                            format!("second status {text:?} ignored; the term keeps {previous:?}"),
                        ),
                        Some(_) => {}
                    },
                    (None, Some(_)) => {
                        self.warn(tag, format!("unknown {cat} value {text:?} kept as a note"));
                        self.term_note(format!("{cat}: {text}"));
                    }
                    (_, None) => self.unmapped(tag, &cat, text),
                }
            }
            "termType" => {
                match (parse_term_type(&text), self.current_term.as_mut()) {
                    (Some(term_type), Some(t)) => t.term_type = term_type,
                    (None, Some(_)) => {
                        self.warn(
                        tag,
                        format!("termType {text:?} has no equivalent; kept as a note, type unspecified"),
                    );
                        self.term_note(format!("termType: {text}"));
                    }
                    (_, None) => self.unmapped(tag, &cat, text),
                }
            }
            "partOfSpeech" => match self.current_term.as_mut() {
                Some(t) if t.part_of_speech.is_empty() => t.part_of_speech = text,
                _ => self.unmapped(tag, &cat, text),
            },
            "crossReference" => {
                let reference = target.unwrap_or(text);
                if !reference.is_empty() && !self.cross_refs.contains(&reference) {
                    self.cross_refs.push(reference);
                }
            }
            // Transaction data outside a transacGrp: the store keeps its own history.
            "transactionType" | "responsibility" | "date" => {}
            _ => {
                let text = match target {
                    Some(target) if text.is_empty() => target,
                    Some(target) if target != text => format!("{text} <{target}>"),
                    _ => text,
                };
                self.unmapped(tag, &cat, text)
            }
        }
        Ok(())
    }

    fn term_text(&mut self, tag: &Tag, text: String) -> Result<(), FormatError> {
        let Some(t) = self.current_term.as_mut() else {
            return Err(FormatError::rejected(
                tag.line,
                tag.column,
                "<term> outside a term section",
            ));
        };
        if text.is_empty() {
            if self.skip_empty_terms {
                t.placeholder = true;
                return Ok(());
            }
            return Err(FormatError::rejected(tag.line, tag.column, "empty <term>"));
        }
        if t.text.is_some() {
            self.warn(
                tag,
                format!("second <term> {text:?} in one term section ignored"),
            );
            return Ok(());
        }
        t.text = Some(text);
        Ok(())
    }

    fn term_note(&mut self, note: String) {
        if let Some(t) = self.current_term.as_mut() {
            t.notes.push(note);
        }
    }

    /// Keeps a data category the model has no field for as a note at its level.
    fn unmapped(&mut self, tag: &Tag, cat: &str, text: String) {
        let note = format!("{cat}: {text}");
        self.warn(
            tag,
            format!("data category {cat:?} has no field; kept as a note"),
        );
        match (self.current_term.as_mut(), self.current_section) {
            (Some(t), _) => t.notes.push(note),
            (None, Some(i)) => self.sections[i].notes.push(note),
            (None, None) => self.notes.push(note),
        }
    }

    fn finish(mut self, root_lang: Option<&Lang>) -> Result<TbxEntry, FormatError> {
        let mut langs = Vec::with_capacity(self.sections.len());
        for section in std::mem::take(&mut self.sections) {
            if section.terms.is_empty() {
                self.warnings.push(format!(
                    "line {}: language section {} has no terms and was dropped",
                    self.line, section.lang
                ));
                continue;
            }
            langs.push(LangSection {
                lang: section.lang,
                definition: section.definition.join("\n"),
                notes: section.notes,
                terms: section.terms,
            });
        }
        if langs.is_empty() {
            return Err(FormatError::rejected(
                self.line,
                self.column,
                "the entry has no terms",
            ));
        }
        let mut notes = self.notes;
        for definition in self.definitions {
            // A concept-level definition is in the file's language when it states one.
            let home = root_lang
                .and_then(|root| langs.iter().position(|s| &s.lang == root))
                .or_else(|| (langs.len() == 1).then_some(0));
            match home {
                Some(i) if langs[i].definition.is_empty() => langs[i].definition = definition,
                _ => notes.push(format!("Definition: {definition}")),
            }
        }
        let mut subject_field = String::new();
        for s in &self.subject_field {
            push_joined(&mut subject_field, "; ", s);
        }
        Ok(TbxEntry {
            concept: Concept {
                id: self.id,
                collection: String::new(),
                subject_field,
                source: self.sources.join("; "),
                notes,
                cross_refs: self.cross_refs,
                langs,
                created_ms: 0,
                updated_ms: 0,
                revision: 0,
            },
            line: self.line,
            column: self.column,
            warnings: self.warnings,
            generated_id: self.generated_id,
        })
    }
}

/// Which flavour of TBX [`write_tbx`] produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TbxStyle {
    /// TBX v3 (ISO 30042:2019), dialect TBX-Basic, DCA style (`<tbx>`, `conceptEntry`).
    V3Basic,
    /// TBX 2008 / v2 (`<martif>`, `termEntry` / `langSet` / `tig`).
    V2Martif,
}

/// Writes concepts as a TBX document.
///
/// [`TbxStyle::V3Basic`] output validates against the TBX-Basic RELAX NG schema. What goes
/// where: subject field, source, notes and cross references at concept level; definition and
/// notes in the language section; part of speech, status, term type, context, source and note
/// in the term section. Cross references are written as the content of
/// `<ref type="crossReference">`, not as a `target`: TBX types `target` as an IDREF, which must
/// name an entry of the same file, and an export need not contain the referenced concept.
///
/// A part of speech outside TBX-Basic's picklist is written as `other` plus
/// `<note>partOfSpeech: …</note>`, which the reader turns back into the value.
///
/// A forbidden term is written as `deprecatedTerm-admn-sts` plus `<note>forbidden</note>`
/// (TBX-Basic has no value for it), which [`TbxReader`] reads back as
/// [`TermStatus::Forbidden`]. A term's own note saying "forbidden" is kept, except on a
/// deprecated term: there it is that marker, and the term reads back as forbidden.
///
/// Concept ids must be XML names in TBX. An id that is not (e.g. IATE's numeric ids) is
/// written with each other character escaped as `_xHHHH_` (the convention of .NET's
/// `XmlConvert.EncodeLocalName`), and the reader decodes it, so ids survive a round trip.
///
/// Fails with [`FormatError::Unwritable`] for a concept without any term (TBX requires one)
/// or text XML 1.0 cannot carry; the output is then incomplete.
pub fn write_tbx<W: Write>(
    out: W,
    concepts: impl IntoIterator<Item = impl Borrow<Concept>>,
    style: TbxStyle,
) -> Result<(), FormatError> {
    let mut out = std::io::BufWriter::new(out);
    let mut concepts = concepts.into_iter().peekable();
    let file_lang = concepts
        .peek()
        .and_then(|c| c.borrow().langs.first())
        .map_or("en", |s| s.lang.as_str())
        .to_owned();
    let mut buf = String::with_capacity(4096);
    write_tbx_header(&mut buf, style, &file_lang);
    out.write_all(buf.as_bytes())?;
    for concept in concepts {
        let concept = concept.borrow();
        buf.clear();
        write_concept(&mut buf, concept, style)?;
        out.write_all(buf.as_bytes())?;
    }
    match style {
        TbxStyle::V3Basic => out.write_all(b"    </body>\n  </text>\n</tbx>\n")?,
        TbxStyle::V2Martif => out.write_all(b"    </body>\n  </text>\n</martif>\n")?,
    }
    out.flush()?;
    Ok(())
}

fn write_tbx_header(buf: &mut String, style: TbxStyle, file_lang: &str) {
    buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match style {
        TbxStyle::V3Basic => {
            buf.push_str(
                "<tbx type=\"TBX-Basic\" style=\"dca\" xmlns=\"urn:iso:std:iso:30042:ed-2\" xml:lang=\"",
            );
            buf.push_str(file_lang);
            buf.push_str(
                "\">\n  <tbxHeader>\n    <fileDesc>\n      <sourceDesc>\n        \
                 <p>Exported from a Tolmach termbase.</p>\n      </sourceDesc>\n    </fileDesc>\n  \
                 </tbxHeader>\n  <text>\n    <body>\n",
            );
        }
        TbxStyle::V2Martif => {
            buf.push_str("<!DOCTYPE martif SYSTEM \"TBXcoreStructV02.dtd\">\n<martif type=\"TBX\" xml:lang=\"");
            buf.push_str(file_lang);
            buf.push_str(
                "\">\n  <martifHeader>\n    <fileDesc>\n      <sourceDesc>\n        \
                 <p>Exported from a Tolmach termbase.</p>\n      </sourceDesc>\n    </fileDesc>\n    \
                 <encodingDesc>\n      <p type=\"XCSURI\">TBXXCSV02.xcs</p>\n    </encodingDesc>\n  \
                 </martifHeader>\n  <text>\n    <body>\n",
            );
        }
    }
}

/// Appends `<name attrs>text</name>` on its own line, escaped.
fn element(buf: &mut String, indent: usize, name: &str, type_attr: Option<&str>, text: &str) {
    for _ in 0..indent {
        buf.push_str("  ");
    }
    buf.push('<');
    buf.push_str(name);
    if let Some(t) = type_attr {
        buf.push_str(" type=\"");
        buf.push_str(t);
        buf.push('"');
    }
    buf.push('>');
    super::xml::escape_text(text, buf);
    buf.push_str("</");
    buf.push_str(name);
    buf.push_str(">\n");
}

/// The lines of a multi-line field, each written as its own element.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty())
}

fn status_value(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferredTerm-admn-sts",
        TermStatus::Admitted => "admittedTerm-admn-sts",
        TermStatus::Superseded => "supersededTerm-admn-sts",
        TermStatus::Deprecated | TermStatus::Forbidden => "deprecatedTerm-admn-sts",
    }
}

pub(super) fn term_type_value(term_type: TermType) -> Option<&'static str> {
    match term_type {
        TermType::Unspecified => None,
        TermType::FullForm => Some("fullForm"),
        TermType::Acronym => Some("acronym"),
        TermType::Abbreviation => Some("abbreviation"),
        TermType::ShortForm => Some("shortForm"),
        TermType::Variant => Some("variant"),
        TermType::Phrase => Some("phrase"),
    }
}

fn check_concept(concept: &Concept) -> Result<(), FormatError> {
    let what = || format!("concept {:?}", concept.id);
    let mut fields: Vec<&str> = vec![&concept.id, &concept.subject_field, &concept.source];
    fields.extend(concept.notes.iter().map(String::as_str));
    fields.extend(concept.cross_refs.iter().map(String::as_str));
    for section in &concept.langs {
        fields.push(&section.definition);
        fields.extend(section.notes.iter().map(String::as_str));
        for t in &section.terms {
            fields.extend([
                t.text.as_str(),
                &t.part_of_speech,
                &t.note,
                &t.source,
                &t.context,
            ]);
        }
    }
    for field in fields {
        super::xml::check_writable(field, what)?;
    }
    if concept.langs.iter().all(|s| s.terms.is_empty()) {
        return Err(FormatError::Unwritable {
            what: what(),
            reason: "a TBX entry needs at least one term".to_owned(),
        });
    }
    Ok(())
}

fn write_concept(buf: &mut String, concept: &Concept, style: TbxStyle) -> Result<(), FormatError> {
    check_concept(concept)?;
    let (entry, section_name, term_name) = match style {
        TbxStyle::V3Basic => ("conceptEntry", "langSec", "termSec"),
        TbxStyle::V2Martif => ("termEntry", "langSet", "tig"),
    };
    buf.push_str("      <");
    buf.push_str(entry);
    buf.push_str(" id=\"");
    super::xml::escape_attr(&encode_id(&concept.id), buf);
    buf.push_str("\">\n");
    if !concept.subject_field.is_empty() {
        element(
            buf,
            4,
            "descrip",
            Some("subjectField"),
            &concept.subject_field,
        );
    }
    if !concept.source.is_empty() {
        element(buf, 4, "admin", Some("source"), &concept.source);
    }
    for note in &concept.notes {
        element(buf, 4, "note", None, note);
    }
    for reference in &concept.cross_refs {
        element(buf, 4, "ref", Some("crossReference"), reference);
    }
    for section in concept.langs.iter().filter(|s| !s.terms.is_empty()) {
        buf.push_str("        <");
        buf.push_str(section_name);
        buf.push_str(" xml:lang=\"");
        buf.push_str(section.lang.as_str());
        buf.push_str("\">\n");
        if !section.definition.is_empty() {
            element(buf, 5, "descrip", Some("definition"), &section.definition);
        }
        for note in &section.notes {
            element(buf, 5, "note", None, note);
        }
        for term in &section.terms {
            buf.push_str("          <");
            buf.push_str(term_name);
            buf.push_str(">\n");
            element(buf, 6, "term", None, &term.text);
            let pos = term.part_of_speech.as_str();
            let pos_outside_picklist = !pos.is_empty() && !PART_OF_SPEECH_VALUES.contains(&pos);
            if !pos.is_empty() {
                let value = if pos_outside_picklist { "other" } else { pos };
                element(buf, 6, "termNote", Some("partOfSpeech"), value);
            }
            element(
                buf,
                6,
                "termNote",
                Some("administrativeStatus"),
                status_value(term.status),
            );
            if let Some(term_type) = term_type_value(term.term_type) {
                element(buf, 6, "termNote", Some("termType"), term_type);
            }
            for context in lines(&term.context) {
                element(buf, 6, "descrip", Some("context"), context);
            }
            if !term.source.is_empty() {
                element(buf, 6, "admin", Some("source"), &term.source);
            }
            if term.status == TermStatus::Forbidden {
                element(buf, 6, "note", None, FORBIDDEN_NOTE);
            }
            if pos_outside_picklist {
                element(buf, 6, "note", None, &format!("{POS_NOTE_PREFIX}{pos}"));
            }
            for note in lines(&term.note) {
                element(buf, 6, "note", None, note);
            }
            buf.push_str("          </");
            buf.push_str(term_name);
            buf.push_str(">\n");
        }
        buf.push_str("        </");
        buf.push_str(section_name);
        buf.push_str(">\n");
    }
    buf.push_str("      </");
    buf.push_str(entry);
    buf.push_str(">\n");
    Ok(())
}

/// Makes an id a valid XML name (an `xs:ID`): characters other than ASCII letters, digits,
/// `-`, `.` and `_` (and a leading digit, `-` or `.`) become `_xHHHH_`; an `_` that would start
/// such a sequence is escaped too, so that [`decode_id`] restores the id exactly. The empty id
/// is written as a lone `_`, so the id `_` itself must be escaped to stay distinct from it.
fn encode_id(id: &str) -> String {
    match id {
        "" => return "_".to_owned(),
        "_" => return "_x005F_".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(id.len());
    let mut chars = id.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let plain = c.is_ascii_alphabetic()
            || (c == '_' && chars.peek() != Some(&'x'))
            || (!first && (c.is_ascii_digit() || c == '-' || c == '.'));
        if plain {
            out.push(c);
        } else if u32::from(c) <= 0xFFFF {
            out.push_str(&format!("_x{:04X}_", u32::from(c)));
        } else {
            out.push_str(&format!("_x{:08X}_", u32::from(c)));
        }
        first = false;
    }
    out
}

/// Undoes [`encode_id`]: `_xHHHH_` and `_xHHHHHHHH_` become the character they name.
fn decode_id(id: &str) -> String {
    if id == "_" {
        return String::new();
    }
    if !id.contains("_x") {
        return id.to_owned();
    }
    let mut out = String::with_capacity(id.len());
    let mut rest = id;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 2..];
        let decoded = [8usize, 4].iter().find_map(|&n| {
            let hex = tail.get(..n)?;
            if tail.as_bytes().get(n) != Some(&b'_') || !hex.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return None;
            }
            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            Some((c, n + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push_str("_x");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tbx: &str) -> Vec<Result<TbxEntry, FormatError>> {
        TbxReader::new(tbx.as_bytes()).collect()
    }

    fn concepts(tbx: &str) -> Vec<Concept> {
        read(tbx)
            .into_iter()
            .map(|r| r.expect("entry should be read").concept)
            .collect()
    }

    /// A TBX v3 DCA document around `body` (which starts on line 4).
    fn v3(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <tbx type=\"TBX-Basic\" style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\">\n\
             <tbxHeader><fileDesc><sourceDesc><p>test</p></sourceDesc></fileDesc></tbxHeader><text><body>\n\
             {body}\n</body></text></tbx>\n"
        )
    }

    /// A TBX v3 DCA document that declares no dialect, so is read leniently, around `body`
    /// (which starts on line 4).
    fn undeclared(body: &str) -> String {
        v3(body).replace(" type=\"TBX-Basic\"", "")
    }

    /// A TBX 2008 document around `body` (which starts on line 3).
    fn v2(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<martif type=\"TBX\" xml:lang=\"en\"><martifHeader><fileDesc><sourceDesc><p>t</p></sourceDesc></fileDesc></martifHeader><text><body>\n\
             {body}\n</body></text></martif>"
        )
    }

    /// A one-term English entry whose term section holds `term_sec_extra`.
    fn term_with(term_sec_extra: &str) -> Term {
        let doc = undeclared(&format!(
            "<conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><term>t</term>{term_sec_extra}</termSec>\
             <termSec><term>other</term><termNote type=\"administrativeStatus\">admittedTerm-admn-sts</termNote></termSec></langSec></conceptEntry>"
        ));
        concepts(&doc).remove(0).langs.remove(0).terms.remove(0)
    }

    #[test]
    fn dca_entry_maps_every_field() {
        let doc = v3(r#"<conceptEntry id="sco">
  <descrip type="subjectField">SCO institutions</descrip>
  <admin type="source">SCO Charter</admin>
  <note>Founded 2001.</note>
  <ref type="crossReference" target="sco-secretariat">SCO Secretariat</ref>
  <transacGrp><transac type="transactionType">origination</transac><date>2024-01-01</date></transacGrp>
  <langSec xml:lang="zh-CN">
    <descripGrp><descrip type="definition">上海合作组织是一个政府间国际组织。</descrip><admin type="source">宪章</admin></descripGrp>
    <termSec>
      <term>上海合作组织</term>
      <termNote type="partOfSpeech">noun</termNote>
      <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
      <termNote type="termType">fullForm</termNote>
      <descripGrp><descrip type="context">上海合作组织成员国元首理事会会议</descrip><admin type="source">新华社</admin></descripGrp>
    </termSec>
    <termSec>
      <term>上合组织</term>
      <termNote type="termType">abbreviation</termNote>
      <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote>
      <admin type="source">人民日报</admin>
      <note>常用简称</note>
    </termSec>
  </langSec>
  <langSec xml:lang="ru">
    <descrip type="definition">Международная организация.</descrip>
    <note>Русская запись.</note>
    <termSec><term>Шанхайская организация сотрудничества</term></termSec>
  </langSec>
</conceptEntry>"#);
        let entries: Vec<TbxEntry> = read(&doc).into_iter().map(Result::unwrap).collect();
        let entry = &entries[0];
        assert_eq!((entry.line, entry.column), (4, 1));
        let c = &entry.concept;
        assert_eq!(c.id, "sco");
        assert_eq!(c.collection, "");
        assert_eq!((c.created_ms, c.updated_ms, c.revision), (0, 0, 0));
        assert_eq!(c.subject_field, "SCO institutions");
        assert_eq!(c.source, "SCO Charter");
        assert_eq!(c.notes, vec!["Founded 2001."]);
        assert_eq!(c.cross_refs, vec!["sco-secretariat"]);
        let zh = &c.langs[0];
        assert_eq!(zh.lang, Lang::zh());
        assert_eq!(zh.definition, "上海合作组织是一个政府间国际组织。");
        assert_eq!(zh.notes, vec!["Source: 宪章"]);
        let full = &zh.terms[0];
        assert_eq!(full.text, "上海合作组织");
        assert_eq!(full.status, TermStatus::Preferred);
        assert_eq!(full.term_type, TermType::FullForm);
        assert_eq!(full.part_of_speech, "noun");
        assert_eq!(full.context, "上海合作组织成员国元首理事会会议");
        assert_eq!(full.source, "新华社");
        let short = &zh.terms[1];
        assert_eq!(
            (
                short.status,
                short.term_type,
                short.source.as_str(),
                short.note.as_str()
            ),
            (
                TermStatus::Admitted,
                TermType::Abbreviation,
                "人民日报",
                "常用简称"
            )
        );
        let ru = &c.langs[1];
        assert_eq!(ru.definition, "Международная организация.");
        assert_eq!(ru.notes, vec!["Русская запись."]);
        assert_eq!(
            ru.terms[0].status,
            TermStatus::Admitted,
            "only term, no status stated"
        );
        assert!(entry.warnings.is_empty(), "{:?}", entry.warnings);
    }

    #[test]
    fn dct_style_elements_map_like_dca() {
        let doc = r#"<tbx type="TBX-Basic" style="dct" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"
  xmlns:min="http://www.tbxinfo.net/ns/min" xmlns:basic="http://www.tbxinfo.net/ns/basic">
<tbxHeader><fileDesc><sourceDesc><p>t</p></sourceDesc></fileDesc></tbxHeader><text><body>
<conceptEntry id="c1">
  <min:subjectField>Astronomy</min:subjectField>
  <basic:crossReference target="c2">black hole</basic:crossReference>
  <langSec xml:lang="en">
    <descripGrp><basic:definition>A group of stars.</basic:definition><basic:source>Oxford2007</basic:source></descripGrp>
    <termSec>
      <term>open cluster</term>
      <min:partOfSpeech>noun</min:partOfSpeech>
      <min:administrativeStatus>deprecatedTerm-admn-sts</min:administrativeStatus>
      <basic:termType>variant</basic:termType>
      <descripGrp><basic:context>Over 1100 open clusters.</basic:context><basic:source>seds.org</basic:source></descripGrp>
    </termSec>
  </langSec>
</conceptEntry></body></text></tbx>"#;
        let c = concepts(doc).remove(0);
        assert_eq!(c.subject_field, "Astronomy");
        assert_eq!(c.cross_refs, vec!["c2"]);
        let en = &c.langs[0];
        assert_eq!(en.definition, "A group of stars.");
        let t = &en.terms[0];
        assert_eq!(
            (t.status, t.term_type, t.part_of_speech.as_str()),
            (TermStatus::Deprecated, TermType::Variant, "noun")
        );
        assert_eq!(
            (t.context.as_str(), t.source.as_str()),
            ("Over 1100 open clusters.", "seds.org")
        );
    }

    #[test]
    fn status_values_map_to_term_status() {
        let table = [
            (
                "administrativeStatus",
                "preferredTerm-admn-sts",
                TermStatus::Preferred,
            ),
            (
                "administrativeStatus",
                "admittedTerm-admn-sts",
                TermStatus::Admitted,
            ),
            (
                "administrativeStatus",
                "deprecatedTerm-admn-sts",
                TermStatus::Deprecated,
            ),
            (
                "administrativeStatus",
                "supersededTerm-admn-sts",
                TermStatus::Superseded,
            ),
            ("administrativeStatus", "obsolete", TermStatus::Deprecated),
            (
                "normativeAuthorization",
                "preferredTerm",
                TermStatus::Preferred,
            ),
            (
                "normativeAuthorization",
                "admittedTerm",
                TermStatus::Admitted,
            ),
            (
                "normativeAuthorization",
                "deprecatedTerm",
                TermStatus::Deprecated,
            ),
            (
                "normativeAuthorization",
                "supersededTerm",
                TermStatus::Superseded,
            ),
            ("normativeAuthorization", "legalTerm", TermStatus::Preferred),
            (
                "normativeAuthorization",
                "regulatedTerm",
                TermStatus::Preferred,
            ),
            (
                "normativeAuthorization",
                "standardizedTerm",
                TermStatus::Preferred,
            ),
        ];
        for (kind, value, want) in table {
            let term = term_with(&format!("<termNote type=\"{kind}\">{value}</termNote>"));
            assert_eq!(term.status, want, "{kind} = {value}");
        }
    }

    #[test]
    fn term_types_map_and_unknown_ones_warn() {
        let table = [
            ("fullForm", TermType::FullForm),
            ("acronym", TermType::Acronym),
            ("abbreviation", TermType::Abbreviation),
            ("shortForm", TermType::ShortForm),
            ("variant", TermType::Variant),
            ("phrase", TermType::Phrase),
        ];
        for (value, want) in table {
            let term = term_with(&format!("<termNote type=\"termType\">{value}</termNote>"));
            assert_eq!(term.term_type, want, "{value}");
        }
        let doc = undeclared(
            r#"<conceptEntry id="c"><langSec xml:lang="en"><termSec><term>t</term>
<termNote type="termType">synonym</termNote></termSec></langSec></conceptEntry>"#,
        );
        let entry = read(&doc).remove(0).unwrap();
        assert_eq!(
            entry.concept.langs[0].terms[0].term_type,
            TermType::Unspecified
        );
        assert!(
            entry.warnings[0].contains("synonym"),
            "{:?}",
            entry.warnings
        );
    }

    #[test]
    fn unstated_status_is_admitted() {
        let doc = v3(r#"<conceptEntry id="a"><langSec xml:lang="en">
<termSec><term>first</term></termSec><termSec><term>second</term></termSec></langSec>
<langSec xml:lang="ru"><termSec><term>один</term></termSec>
<termSec><term>два</term><termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termSec></langSec></conceptEntry>"#);
        let c = concepts(&doc).remove(0);
        let statuses = |i: usize| {
            c.langs[i]
                .terms
                .iter()
                .map(|t| t.status)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            statuses(0),
            vec![TermStatus::Admitted, TermStatus::Admitted]
        );
        assert_eq!(
            statuses(1),
            vec![TermStatus::Admitted, TermStatus::Preferred]
        );
    }

    #[test]
    fn deprecated_plus_forbidden_note_reads_as_forbidden() {
        let term = term_with(
            "<termNote type=\"administrativeStatus\">deprecatedTerm-admn-sts</termNote><note>forbidden</note><note>political</note>",
        );
        assert_eq!(term.status, TermStatus::Forbidden);
        assert_eq!(term.note, "political");
        let not_deprecated = term_with(
            "<termNote type=\"administrativeStatus\">admittedTerm-admn-sts</termNote><note>forbidden</note>",
        );
        assert_eq!(not_deprecated.status, TermStatus::Admitted);
        assert_eq!(not_deprecated.note, "forbidden");
    }

    #[test]
    fn a_note_saying_forbidden_is_kept_beside_the_marker() {
        // Only the first such note next to a deprecated status is the marker; the others are
        // notes like any other, kept with their spelling and in their place.
        let mut concept = sample_concept();
        let terms = &mut concept.langs[0].terms;
        terms[1].note = "Forbidden\nin press releases".to_owned();
        terms[2].note = "official list\nforbidden".to_owned();
        for style in [TbxStyle::V3Basic, TbxStyle::V2Martif] {
            let mut out = Vec::new();
            write_tbx(&mut out, [&concept], style).unwrap();
            let entry = TbxReader::new(&out[..]).next().unwrap().unwrap();
            assert_eq!(entry.concept, concept, "{style:?}");
        }
        let twice = term_with(
            "<termNote type=\"administrativeStatus\">deprecatedTerm-admn-sts</termNote><note>political</note><note>forbidden</note><note>Forbidden</note>",
        );
        assert_eq!(twice.status, TermStatus::Forbidden);
        assert_eq!(twice.note, "political\nForbidden");
    }

    #[test]
    fn missing_id_gets_a_position_based_id() {
        let doc = v2("<termEntry><langSet xml:lang=\"en\"><tig><term>a</term></tig></langSet></termEntry>\n\
                      <termEntry><langSet xml:lang=\"en\"><tig><term>b</term></tig></langSet></termEntry>");
        let ids: Vec<String> = concepts(&doc).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, vec!["entry-1", "entry-2"]);
    }

    #[test]
    fn tbx2008_tig_ntig_and_lang_attribute() {
        let doc = v2(r#"<termEntry id="e1">
<descrip type="definition">An interpreter.</descrip>
<langSet lang="ru"><ntig><termGrp><term>толмач</term><termNote type="partOfSpeech">noun</termNote>
<termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></termGrp>
<descrip type="context">Толмач переводил.</descrip></ntig></langSet>
<langSet xml:lang="en"><tig><term>
     interpreter
   </term></tig></langSet></termEntry>"#);
        let c = concepts(&doc).remove(0);
        assert_eq!(c.langs[0].lang, Lang::ru());
        let t = &c.langs[0].terms[0];
        assert_eq!(
            (
                t.text.as_str(),
                t.part_of_speech.as_str(),
                t.status,
                t.context.as_str()
            ),
            ("толмач", "noun", TermStatus::Admitted, "Толмач переводил.")
        );
        assert_eq!(
            c.langs[1].terms[0].text, "interpreter",
            "whitespace trimmed"
        );
        assert_eq!(
            c.langs[1].definition, "An interpreter.",
            "concept-level definition in the file's language"
        );
    }

    #[test]
    fn term_whitespace_is_trimmed_and_collapsed() {
        let doc = v2("<termEntry id=\"x\"><langSet xml:lang=\"zh-TW\"><tig><term>\n   上海   合作\n\t組織 </term></tig></langSet></termEntry>");
        let c = concepts(&doc).remove(0);
        assert_eq!(c.langs[0].lang.as_str(), "zh-Hant");
        assert_eq!(c.langs[0].terms[0].text, "上海 合作 組織");
    }

    #[test]
    fn references_in_text_are_joined() {
        let doc = v2("<termEntry id=\"x\"><langSet xml:lang=\"en\"><tig><term>R&amp;D &#x4E2D;&lt;x&gt;</term></tig></langSet></termEntry>");
        assert_eq!(concepts(&doc)[0].langs[0].terms[0].text, "R&D 中<x>");
    }

    #[test]
    fn invalid_language_rejects_the_entry_at_its_line_and_reading_continues() {
        let doc = v3("<conceptEntry id=\"bad\">\n\
                      <langSec xml:lang=\"en\">\n\
                      <termSec>\n\
                      <term xml:lang=\"english\">x</term>\n\
                      </termSec></langSec></conceptEntry>\n\
                      <conceptEntry id=\"good\"><langSec xml:lang=\"en\"><termSec><term>y</term></termSec></langSec></conceptEntry>");
        let results = read(&doc);
        assert_eq!(results.len(), 2);
        match &results[0] {
            Err(FormatError::Rejected {
                line,
                column,
                reason,
            }) => {
                assert_eq!((*line, *column), (7, 1));
                assert!(reason.contains("english"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(results[1].as_ref().unwrap().concept.id, "good");
    }

    #[test]
    fn rejection_skips_exactly_the_rejected_entry() {
        // Rejections raised at a start tag, inside text, and at an end tag, each followed
        // directly by a good entry on the same line.
        let good = |id: &str| {
            format!("<termEntry id=\"{id}\"><langSet xml:lang=\"en\"><tig><term>{id}</term></tig></langSet></termEntry>")
        };
        let doc = v2(&format!(
            "<termEntry id=\"a\"><langSet xml:lang=\"x1\"><tig><term>t</term></tig></langSet></termEntry>{}\n\
             <termEntry id=\"b\"><langSet xml:lang=\"en\"><tig><term> </term></tig></langSet></termEntry>{}\n\
             <termEntry id=\"c\"><langSet xml:lang=\"en\"><tig><note>n</note></tig></langSet></termEntry>{}",
            good("g1"),
            good("g2"),
            good("g3")
        ));
        let outcome: Vec<String> = read(&doc)
            .into_iter()
            .map(|r| match r {
                Ok(e) => e.concept.id,
                Err(FormatError::Rejected { line, .. }) => format!("rejected@{line}"),
                Err(e) => panic!("{e}"),
            })
            .collect();
        assert_eq!(
            outcome,
            vec!["rejected@3", "g1", "rejected@4", "g2", "rejected@5", "g3"]
        );
    }

    #[test]
    fn invalid_section_language_is_rejected_at_the_section() {
        let doc = v3("<conceptEntry id=\"c\">\n  <langSec xml:lang=\"e\"><termSec><term>x</term></termSec></langSec></conceptEntry>");
        assert!(matches!(
            read(&doc)[0],
            Err(FormatError::Rejected {
                line: 5,
                column: 3,
                ..
            })
        ));
    }

    #[test]
    fn entry_without_terms_is_rejected_at_its_start_tag() {
        let doc = v3("<conceptEntry id=\"c\">\n<descrip type=\"subjectField\">x</descrip></conceptEntry>\n<conceptEntry id=\"d\"/>");
        let results = read(&doc);
        assert!(matches!(
            results[0],
            Err(FormatError::Rejected {
                line: 4,
                column: 1,
                ..
            })
        ));
        assert!(matches!(
            results[1],
            Err(FormatError::Rejected {
                line: 6,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn empty_term_rejects_the_entry_unless_told_to_skip_it() {
        let doc = v3("<conceptEntry id=\"c\"><langSec xml:lang=\"de\"><termSec>\n<term/></termSec></langSec>\
                      <langSec xml:lang=\"en\"><termSec><term>fold</term></termSec></langSec></conceptEntry>");
        assert!(matches!(
            read(&doc)[0],
            Err(FormatError::Rejected {
                line: 5,
                column: 1,
                ..
            })
        ));
        let lenient: Vec<_> = TbxReader::new(doc.as_bytes())
            .skip_empty_terms(true)
            .collect();
        let entry = lenient[0].as_ref().unwrap();
        assert_eq!(entry.concept.langs.len(), 1);
        assert_eq!(entry.concept.langs[0].lang, Lang::en());
        assert_eq!(entry.warnings.len(), 2, "{:?}", entry.warnings);
    }

    #[test]
    fn unknown_data_category_is_kept_as_a_note_with_a_warning() {
        let doc = undeclared("<conceptEntry id=\"c\"><admin type=\"customerSubset\">SCO</admin><langSec xml:lang=\"en\"><termSec><term>x</term>\n\
                      <termNote type=\"grammaticalNumber\">singular</termNote></termSec></langSec></conceptEntry>");
        let entry = read(&doc).remove(0).unwrap();
        assert_eq!(entry.concept.notes, vec!["customerSubset: SCO"]);
        assert_eq!(
            entry.concept.langs[0].terms[0].note,
            "grammaticalNumber: singular"
        );
        assert_eq!(entry.warnings.len(), 2);
        assert!(
            entry.warnings[1].starts_with("line 5:"),
            "{:?}",
            entry.warnings
        );
    }

    #[test]
    fn same_language_sections_are_merged() {
        let doc = v2(
            "<termEntry id=\"c\"><langSet xml:lang=\"en\"><tig><term>a</term></tig></langSet>\
                      <langSet xml:lang=\"en\"><tig><term>b</term></tig></langSet></termEntry>",
        );
        let c = concepts(&doc).remove(0);
        assert_eq!(c.langs.len(), 1);
        assert_eq!(c.langs[0].terms.len(), 2);
    }

    #[test]
    fn tbx_min_2013_dialect_is_read() {
        let doc = r#"<TBX dialect="TBX-Min"><header><id>x</id></header><body>
<termEntry id="C002"><subjectField>biology</subjectField><langSet xml:lang="en">
<tig><term>dog</term><partOfSpeech>noun</partOfSpeech><termStatus>preferred</termStatus></tig>
<tig><term>hound</term><termStatus>obsolete</termStatus></tig></langSet></termEntry></body></TBX>"#;
        let c = concepts(doc).remove(0);
        assert_eq!(c.subject_field, "biology");
        let statuses: Vec<_> = c.langs[0].terms.iter().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            vec![TermStatus::Preferred, TermStatus::Deprecated]
        );
    }

    #[test]
    fn broken_xml_is_malformed_with_its_line_and_ends_the_reader() {
        let doc = v3("<conceptEntry id=\"a\"><langSec xml:lang=\"en\"><termSec><term>ok</term></termSec></langSec></conceptEntry>\n\
                      <conceptEntry id=\"b\"><langSec xml:lang=\"en\"><termSec><term>broken\n</termSec></langSec></conceptEntry>\n\
                      <conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><term>never</term></termSec></langSec></conceptEntry>");
        let results = read(&doc);
        assert_eq!(results.len(), 2);
        assert!(results[0].is_ok());
        assert!(
            matches!(results[1], Err(FormatError::Malformed { line: 5, .. })),
            "the <term> left open, not the end tag after it: {:?}",
            results[1]
        );
    }

    #[test]
    fn non_tbx_root_is_malformed() {
        assert!(matches!(
            read("<tmx version=\"1.4\"/>")[0],
            Err(FormatError::Malformed {
                line: 1,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn declared_windows_1254_is_decoded() {
        let mut bytes =
            b"<?xml version='1.0' encoding=\"windows-1254\" ?>\n<martif type=\"TBX\"><text><body>\
<termEntry id=\"id1\"><langSet xml:lang=\"tr\"><tig><term>"
                .to_vec();
        bytes.extend_from_slice(&[0xE9, 0xE1, b' ', 0xDD, 0xFD]);
        bytes.extend_from_slice(b"</term></tig></langSet></termEntry></body></text></martif>");
        let c = TbxReader::new(&bytes[..]).next().unwrap().unwrap().concept;
        assert_eq!(c.langs[0].terms[0].text, "éá İı");
    }

    #[test]
    fn utf16_with_bom_and_utf8_bom_are_read() {
        let doc = v2("<termEntry id=\"x\"><langSet xml:lang=\"ru\"><tig><term>ёж</term></tig></langSet></termEntry>");
        let mut be = vec![0xFE, 0xFF];
        for u in doc
            .replace(
                "<?xml version=\"1.0\"?>",
                "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
            )
            .encode_utf16()
        {
            be.extend_from_slice(&u.to_be_bytes());
        }
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(doc.as_bytes());
        for bytes in [be, bom] {
            let c = TbxReader::new(&bytes[..]).next().unwrap().unwrap().concept;
            assert_eq!(c.langs[0].terms[0].text, "ёж");
        }
    }

    #[test]
    fn unsupported_declared_encoding_is_an_encoding_error() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-32\"?><martif/>";
        let results = read(doc);
        assert!(matches!(results[0], Err(FormatError::Encoding { .. })));
        assert_eq!(results.len(), 1);
    }

    #[test]
    fn invalid_utf8_is_malformed_at_the_byte() {
        let mut bytes =
            v2("<termEntry id=\"x\"><langSet xml:lang=\"en\"><tig><term>ab").into_bytes();
        let cut = bytes.len() - "\n</body></text></martif>".len();
        let tail = bytes.split_off(cut);
        bytes.extend_from_slice(b"\xFF</term></tig></langSet></termEntry>");
        bytes.extend_from_slice(&tail);
        match read_bytes(&bytes).remove(0) {
            Err(FormatError::Malformed {
                line,
                column,
                reason,
            }) => {
                assert_eq!(line, 3);
                assert_eq!(
                    column,
                    "<termEntry id=\"x\"><langSet xml:lang=\"en\"><tig><term>ab".len() as u64 + 1
                );
                assert!(reason.contains("UTF-8"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// The first rejection reading `doc`, as (line, column, reason).
    fn first_rejection(doc: &str) -> (u64, u64, String) {
        read(doc)
            .into_iter()
            .find_map(|r| match r {
                Err(FormatError::Rejected {
                    line,
                    column,
                    reason,
                }) => Some((line, column, reason)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("nothing rejected in {doc}"))
    }

    /// A one-term English entry on line 4 whose term section holds `extra` on line 5.
    fn entry_with_term_sec(extra: &str) -> String {
        format!(
            "<conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><term>t</term>\n{extra}\
             </termSec></langSec></conceptEntry>"
        )
    }

    #[test]
    fn picklist_values_of_a_declared_dialect_are_enforced() {
        let doc = v3(&entry_with_term_sec(
            "<termNote type=\"partOfSpeech\">preposition</termNote>",
        ));
        let (line, column, reason) = first_rejection(&doc);
        assert_eq!((line, column), (5, 1));
        assert!(reason.contains("\"preposition\""), "{reason}");
        assert!(
            reason.contains("adjective, noun, other, verb, adverb"),
            "{reason}"
        );
        for (category, value) in [
            ("administrativeStatus", "preferred"),
            ("termType", "synonym"),
            ("grammaticalGender", "common"),
        ] {
            let doc = v3(&entry_with_term_sec(&format!(
                "<termNote type=\"{category}\">{value}</termNote>"
            )));
            let (_, _, reason) = first_rejection(&doc);
            assert!(
                reason.contains(&format!("{value:?} is not a value of {category}")),
                "{reason}"
            );
        }
        // In a transaction group, which is checked but not kept.
        let doc = v3("<conceptEntry id=\"c\">\n  <transacGrp><transac type=\"transactionType\">deletion</transac></transacGrp>\
                      <langSec xml:lang=\"en\"><termSec><term>t</term></termSec></langSec></conceptEntry>");
        let (line, column, reason) = first_rejection(&doc);
        assert_eq!((line, column), (5, 15));
        assert!(reason.contains("\"deletion\""), "{reason}");
        // DCT style: the same category, named by the element.
        let doc = v3(&entry_with_term_sec(
            "<min:partOfSpeech>preposition</min:partOfSpeech>",
        ));
        assert!(first_rejection(&doc).2.contains("\"preposition\""));
        // Allowed values read as before, without a warning.
        let doc = v3(&entry_with_term_sec(
            "<termNote type=\"partOfSpeech\">noun</termNote><termNote type=\"termType\">acronym</termNote>\
             <transacGrp><transac type=\"transactionType\">origination</transac><date>2020-01-01</date>\
             <transacNote type=\"responsibility\" target=\"u1\">Jane</transacNote></transacGrp>",
        ));
        let entry = read(&doc).remove(0).unwrap();
        assert_eq!(entry.concept.langs[0].terms[0].part_of_speech, "noun");
        assert!(entry.warnings.is_empty(), "{:?}", entry.warnings);
    }

    #[test]
    fn data_categories_outside_the_dialect_or_its_levels_reject_the_entry() {
        let cases = [
            // Not in TBX-Basic at all.
            (
                "TBX-Basic",
                "<termNote type=\"pos\">noun</termNote>",
                "\"pos\" is not part of TBX-Basic",
            ),
            // In TBX-Basic but not in TBX-Min.
            (
                "TBX-Min",
                "<admin type=\"source\">a book</admin>",
                "\"source\" is not part of TBX-Min",
            ),
            // A definition belongs to the concept or a language, not a term.
            (
                "TBX-Basic",
                "<descrip type=\"definition\">d</descrip>",
                "not allowed at term level, only at concept, language",
            ),
            // The category on the wrong element.
            (
                "TBX-Basic",
                "<admin type=\"context\">c</admin>",
                "\"context\" is a <descrip>",
            ),
            (
                "TBX-Basic",
                "<descrip>untyped</descrip>",
                "<descrip> without a type",
            ),
        ];
        for (dialect, extra, needle) in cases {
            let doc = v3(&entry_with_term_sec(extra)).replace("TBX-Basic", dialect);
            let (line, column, reason) = first_rejection(&doc);
            assert_eq!((line, column), (5, 1), "{extra}");
            assert!(reason.contains(needle), "{extra}: {reason}");
        }
        // A termNote directly in a language section.
        let doc = v3("<conceptEntry id=\"c\"><langSec xml:lang=\"en\">\n  <termNote type=\"partOfSpeech\">noun</termNote>\
                      <termSec><term>t</term></termSec></langSec></conceptEntry>");
        let (line, column, reason) = first_rejection(&doc);
        assert_eq!((line, column), (5, 3));
        assert!(
            reason.contains("<termNote> in a language section"),
            "{reason}"
        );
    }

    #[test]
    fn core_structure_is_enforced_in_a_declared_dialect() {
        let cases = [
            (
                "<term>second</term>",
                "TBX-Basic",
                "second <term> in one term section",
            ),
            ("<comment>c</comment>", "TBX-Basic", "<comment> is not an element of TBX"),
            (
                "<transacGrp><transaction type=\"transactionType\">origination</transaction></transacGrp>",
                "TBX-Basic",
                "<transaction> is not an element of TBX",
            ),
            (
                "<descripGrp><descrip type=\"x\">a</descrip><descrip type=\"x\">b</descrip></descripGrp>",
                "TBX-Core",
                "second <descrip> in one <descripGrp>",
            ),
            ("<date>2020-01-01</date>", "TBX-Min", "<date> outside a <transacGrp>"),
            (
                "<note>n</note><termNote type=\"partOfSpeech\">noun</termNote>",
                "TBX-Basic",
                "<termNote> after <note> (line 5): term notes come right after the <term>",
            ),
            (
                "<descripGrp><descrip type=\"context\">c</descrip></descripGrp>\
                 <termNoteGrp><termNote type=\"termType\">acronym</termNote></termNoteGrp>",
                "TBX-Basic",
                "<termNoteGrp> after <descripGrp>",
            ),
        ];
        for (extra, dialect, needle) in cases {
            let doc = v3(&entry_with_term_sec(extra)).replace("TBX-Basic", dialect);
            let (line, _, reason) = first_rejection(&doc);
            assert_eq!(line, 5, "{extra}");
            assert!(reason.contains(needle), "{extra}: {reason}");
        }
        // `<term>` comes first in its term section.
        let doc = v3("<conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><note>n</note>\n<term>t</term>\
                      </termSec></langSec></conceptEntry>");
        let (line, column, reason) = first_rejection(&doc);
        assert_eq!((line, column), (5, 1));
        assert!(reason.contains("must come first"), "{reason}");
        // The header keeps its text in `<p>`: text directly in `<sourceDesc>` is rejected
        // where it starts, and the entries are read.
        let doc = v3(&entry_with_term_sec("")).replace(
            "<sourceDesc><p>test</p></sourceDesc>",
            "<sourceDesc>\n    bare text</sourceDesc>",
        );
        let results = read(&doc);
        match &results[0] {
            Err(FormatError::Rejected {
                line: 4,
                column: 5,
                reason,
            }) => assert!(reason.contains("text directly in <sourceDesc>"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(results[1].is_ok(), "{results:?}");
        // TBX-Core defines no data categories: any type is its own.
        let doc = v3(&entry_with_term_sec(
            "<descripGrp><descrip type=\"whatever\">a</descrip></descripGrp>",
        ))
        .replace("TBX-Basic", "TBX-Core");
        assert!(read(&doc)[0].is_ok());
    }

    #[test]
    fn files_without_a_declared_dialect_stay_lenient() {
        let extra = "<termNote type=\"partOfSpeech\">preposition</termNote><term>second</term>\
                     <comment>c</comment><descrip type=\"definition\">d</descrip>";
        let lenient = [
            undeclared(&entry_with_term_sec(extra)),
            v3(&entry_with_term_sec(extra)).replace("TBX-Basic", "TBX-IATE"),
            v2(&entry_with_term_sec(extra)
                .replace("conceptEntry", "termEntry")
                .replace("langSec", "langSet")
                .replace("termSec", "tig")),
        ];
        for doc in lenient {
            let entry = read(&doc).remove(0).expect("read leniently");
            assert_eq!(
                entry.concept.langs[0].terms[0].part_of_speech,
                "preposition"
            );
            assert!(!entry.warnings.is_empty());
        }
    }

    #[test]
    fn broken_structure_around_the_entries_is_refused_in_a_declared_dialect() {
        let entry = |id: &str| {
            format!("<conceptEntry id=\"{id}\"><langSec xml:lang=\"en\"><termSec><term>{id}</term></termSec></langSec></conceptEntry>")
        };
        // `<body>` and `<text>` swapped: no entry is in place.
        let swapped = v3(&entry("a"))
            .replace("<text><body>", "<body><text>")
            .replace("</body></text>", "</text></body>");
        let results = read(&swapped);
        assert_eq!(results.len(), 1);
        assert!(
            matches!(&results[0], Err(FormatError::Malformed { line: 3, reason, .. }) if reason.contains("<body> directly in <tbx>")),
            "{results:?}"
        );
        // Another namespace than TBX v3's.
        let foreign = v3(&entry("a")).replace("ed-2", "ed-36");
        assert!(matches!(
            &read(&foreign)[0],
            Err(FormatError::Malformed { line: 2, column: 1, reason }) if reason.contains("ed-36")
        ));
        // Stray content in `<text>` is rejected; the entries still read.
        let stray = v3(&entry("a")).replace(
            "<text><body>",
            "<text><admin type=\"source\">x</admin><body>",
        );
        let results = read(&stray);
        assert!(
            matches!(&results[0], Err(FormatError::Rejected { line: 3, reason, .. }) if reason.contains("directly in <text>"))
        );
        assert_eq!(results[1].as_ref().unwrap().concept.id, "a");
    }

    #[test]
    fn content_outside_any_entry_is_rejected_not_dropped() {
        // An entry whose start and end tags are missing, between two good ones: its terms are
        // named in one rejection, and reading goes on with the next entry. This holds without
        // a declared dialect too: silently losing terms is never right.
        let body = "<conceptEntry id=\"a\"><langSec xml:lang=\"en\"><termSec><term>a</term></termSec></langSec></conceptEntry>\n\
                    <descrip type=\"subjectField\">lost</descrip>\n\
                    <langSec xml:lang=\"en\"><termSec><term>lost</term></termSec></langSec>\n\
                    <conceptEntry id=\"b\"><langSec xml:lang=\"en\"><termSec><term>b</term></termSec></langSec></conceptEntry>";
        for doc in [v3(body), undeclared(body)] {
            let results = read(&doc);
            assert_eq!(results.len(), 3, "{results:?}");
            assert_eq!(results[0].as_ref().unwrap().concept.id, "a");
            assert!(results[1].is_err());
            let (line, column, reason) = first_rejection(&doc);
            assert_eq!((line, column), (5, 1));
            assert!(reason.contains("lines 5-6, 1 term(s)"), "{reason}");
            assert_eq!(results[2].as_ref().unwrap().concept.id, "b");
        }
    }

    fn read_bytes(bytes: &[u8]) -> Vec<Result<TbxEntry, FormatError>> {
        TbxReader::new(bytes).collect()
    }

    fn sample_concept() -> Concept {
        let mut full = Term::preferred("Shanghai Cooperation Organisation");
        full.term_type = TermType::FullForm;
        full.part_of_speech = "noun".to_owned();
        full.context = "The SCO summit opened.\nA second example.".to_owned();
        full.source = "SCO Charter".to_owned();
        let mut acronym = Term::with_status("SCO", TermStatus::Admitted);
        acronym.term_type = TermType::Acronym;
        let mut wrong = Term::with_status("Shanghai Pact", TermStatus::Forbidden);
        wrong.note = "misleading".to_owned();
        Concept {
            id: "254003".to_owned(),
            collection: String::new(),
            subject_field: "international organisations".to_owned(),
            source: "sco.int".to_owned(),
            notes: vec!["Founded in 2001 & based in Beijing.".to_owned()],
            cross_refs: vec!["sco-secretariat".to_owned()],
            langs: vec![
                LangSection {
                    lang: Lang::en(),
                    definition: "An intergovernmental organisation.".to_owned(),
                    notes: vec!["English usage.".to_owned()],
                    terms: vec![full, acronym, wrong],
                },
                LangSection {
                    lang: Lang::zh(),
                    definition: String::new(),
                    notes: Vec::new(),
                    terms: vec![
                        Term::preferred("上海合作组织"),
                        Term::with_status("上合组织", TermStatus::Deprecated),
                    ],
                },
            ],
            created_ms: 0,
            updated_ms: 0,
            revision: 0,
        }
    }

    #[test]
    fn written_tbx_reads_back_unchanged_in_both_styles() {
        let concept = sample_concept();
        for style in [TbxStyle::V3Basic, TbxStyle::V2Martif] {
            let mut out = Vec::new();
            write_tbx(&mut out, [&concept], style).unwrap();
            let entry = TbxReader::new(&out[..]).next().unwrap().unwrap();
            assert_eq!(entry.concept, concept, "{style:?}");
            assert!(entry.warnings.is_empty(), "{:?}", entry.warnings);
        }
    }

    #[test]
    fn forbidden_is_written_as_deprecated_plus_note() {
        let mut out = Vec::new();
        write_tbx(&mut out, [&sample_concept()], TbxStyle::V3Basic).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(
            "<term>Shanghai Pact</term>\n            <termNote type=\"administrativeStatus\">deprecatedTerm-admn-sts</termNote>\n            <note>forbidden</note>"
        ), "{text}");
        assert!(!text.contains("forbiddenTerm"));
    }

    #[test]
    fn a_part_of_speech_outside_the_picklist_stays_valid_and_reads_back() {
        let mut concept = sample_concept();
        concept.langs[0].terms[0].part_of_speech = "proper noun".to_owned();
        let mut out = Vec::new();
        write_tbx(&mut out, [&concept], TbxStyle::V3Basic).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains("<termNote type=\"partOfSpeech\">other</termNote>")
                && text.contains("<note>partOfSpeech: proper noun</note>"),
            "{text}"
        );
        let read = TbxReader::new(out.as_slice()).next().unwrap().unwrap();
        assert_eq!(read.concept.langs[0].terms[0].part_of_speech, "proper noun");
        assert_eq!(
            read.concept.langs[0].terms[0].note,
            concept.langs[0].terms[0].note
        );
    }

    #[test]
    fn writer_refuses_a_concept_without_terms() {
        let mut concept = sample_concept();
        concept.langs.clear();
        let err = write_tbx(Vec::new(), [&concept], TbxStyle::V3Basic).unwrap_err();
        assert!(matches!(err, FormatError::Unwritable { .. }));
    }

    #[test]
    fn ids_that_are_not_xml_names_survive_a_round_trip() {
        for id in [
            "254003", "c 1", "a_xb", "_x0041_", "上合", "-x", "", "_", "__", "ok-id.1",
        ] {
            let encoded = encode_id(id);
            assert!(
                encoded.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'),
                "{encoded}"
            );
            assert!(
                encoded
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)),
                "{encoded}"
            );
            assert_eq!(decode_id(&encoded), id, "{id} → {encoded}");
        }
        assert_eq!(encode_id("ok-id.1"), "ok-id.1");
    }
}
