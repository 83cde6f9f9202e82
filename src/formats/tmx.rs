//! TMX: a streaming reader for TMX 1.4b and 1.1, and a writer for TMX 1.4b.
//!
//! Owns the mapping between `<tu>` elements and [`TranslationUnit`]. It must not know about the
//! store or gRPC: units come back with `origin` empty (the caller sets it), and with an empty
//! `id` when the file gave no `tuid` (the store assigns one).
//!
//! Inline markup (`bpt`, `ept`, `ph`, `it`, `ut`, `hi`, and `sub` inside them) is kept out of
//! [`Segment::text`], so that it never counts as a difference in fuzzy matching, and is recorded
//! as [`InlineTag`]s holding the markup as written, at the byte offset where it stood. The
//! writer puts it back there, so a read → write → read round trip is lossless.

use std::borrow::Borrow;
use std::io::{BufRead, Write};

use crate::model::{InlineTag, Lang, Segment, TagKind, TranslationUnit};

use super::error::FormatError;
use super::xml::{check_writable, escape_attr, escape_text, Tag, XmlEvent, XmlPull};

/// One translation unit read from a TMX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmxEntry {
    /// The unit, with `origin` empty.
    pub unit: TranslationUnit,
    /// Line of the `<tu>` start tag (1-based).
    pub line: u64,
    /// Column of the `<tu>` start tag (1-based).
    pub column: u64,
    /// What the reader dropped or could not map, each naming its line.
    pub warnings: Vec<String>,
}

/// Reads the translation units of a TMX file one `<tu>` at a time.
///
/// Yields `Ok` for each usable unit; [`FormatError::Rejected`] for a unit with an invalid or
/// missing language or fewer than two usable segments, after which it continues; and at most
/// one fatal error, after which it ends.
///
/// The segment in the source language (`srclang` of the `<tu>`, else of the header) comes
/// first; the others keep their order. Each `<prop type="…">` becomes a metadata pair, a
/// `<note>` the pair `("note", …)`; those of a `<tuv>` get the language as prefix
/// (`"ru:x-status"`).
///
/// ```
/// use tolmach::formats::TmxReader;
/// use tolmach::model::TagKind;
///
/// let tmx = r#"<tmx version="1.4"><header srclang="en" datatype="html" segtype="sentence"
///   o-tmf="x" adminlang="en" creationtool="x" creationtoolversion="1"/><body>
///   <tu tuid="7" creationdate="20240131T120000Z">
///     <tuv xml:lang="en"><seg>Press <bpt i="1">&lt;b&gt;</bpt>OK<ept i="1">&lt;/b&gt;</ept></seg></tuv>
///     <tuv xml:lang="zh-CN"><seg>按<bpt i="1">&lt;b&gt;</bpt>确定<ept i="1">&lt;/b&gt;</ept></seg></tuv>
///   </tu></body></tmx>"#;
/// let unit = TmxReader::new(tmx.as_bytes()).next().unwrap().unwrap().unit;
/// assert_eq!(unit.id, "7");
/// assert_eq!(unit.segments[0].text, "Press OK");
/// assert_eq!(unit.segments[0].tags[0].offset, 6);
/// assert_eq!(unit.segments[0].tags[0].kind, TagKind::Begin);
/// assert_eq!(unit.segments[0].tags[0].xml, r#"<bpt i="1">&lt;b&gt;</bpt>"#);
/// assert_eq!(unit.segments[1].lang.as_str(), "zh");
/// assert_eq!(unit.created_ms, 1_706_702_400_000);
/// ```
pub struct TmxReader<R: BufRead> {
    state: State<R>,
    /// The header's `srclang`, unless it is `*all*`.
    srclang: Option<Lang>,
    /// The attribute this document names `<tuv>` languages with (`xml:lang` in TMX 1.4,
    /// `lang` before), set by its first `<tuv>`.
    lang_attr: Option<&'static str>,
}

enum State<R: BufRead> {
    Unopened(R),
    /// Boxed, so that the reader stays small to move: the parser state is large.
    Open(Box<XmlPull<R>>),
    Done,
}

impl<R: BufRead> TmxReader<R> {
    /// A reader over `input`. Nothing is read until the first call to `next`; an unsupported
    /// encoding is reported there.
    pub fn new(input: R) -> TmxReader<R> {
        TmxReader {
            state: State::Unopened(input),
            srclang: None,
            lang_attr: None,
        }
    }

    /// The header's source language, once the header has been read (`None` for `*all*`).
    pub fn srclang(&self) -> Option<&Lang> {
        self.srclang.as_ref()
    }

    fn read_next(&mut self) -> Result<Option<TmxEntry>, FormatError> {
        let xml = match std::mem::replace(&mut self.state, State::Done) {
            State::Unopened(input) => {
                let mut xml = XmlPull::open(input, true)?;
                check_root(&mut xml)?;
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
            match xml.next()? {
                XmlEvent::Start(tag) | XmlEvent::Empty(tag) if tag.local() == "header" => {
                    self.srclang = tag
                        .attr("srclang")
                        .filter(|s| !s.eq_ignore_ascii_case("*all*"))
                        .and_then(|s| Lang::parse(s).ok());
                }
                XmlEvent::Start(tag) if tag.local() == "tu" => {
                    return read_tu(xml, &tag, self.srclang.as_ref(), &mut self.lang_attr)
                        .map(Some);
                }
                XmlEvent::Empty(tag) if tag.local() == "tu" => {
                    return Err(FormatError::rejected(
                        tag.line,
                        tag.column,
                        "<tu> has no <tuv>",
                    ));
                }
                XmlEvent::Eof => {
                    self.state = State::Done;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

impl<R: BufRead> Iterator for TmxReader<R> {
    type Item = Result<TmxEntry, FormatError>;

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

fn check_root<R: BufRead>(xml: &mut XmlPull<R>) -> Result<(), FormatError> {
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) | XmlEvent::Empty(tag) => {
                if tag.local() == "tmx" {
                    return Ok(());
                }
                return Err(FormatError::malformed(
                    tag.line,
                    tag.column,
                    format!(
                        "not a TMX file: the root element is <{}>, expected <tmx>",
                        tag.name
                    ),
                ));
            }
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
    }
}

/// Reads one `<tu>` whose start tag was just returned, through its end tag.
fn read_tu<R: BufRead>(
    xml: &mut XmlPull<R>,
    start: &Tag,
    header_srclang: Option<&Lang>,
    lang_attr: &mut Option<&'static str>,
) -> Result<TmxEntry, FormatError> {
    let mut warnings = Vec::new();
    let mut rejection: Option<FormatError> = None;
    let mut metadata = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    let created_ms = match start.attr("creationdate") {
        None => 0,
        Some(date) => parse_tmx_date(date).unwrap_or_else(|| {
            warnings.push(format!(
                "line {}: creationdate {date:?} is not YYYYMMDDThhmmssZ; ignored",
                start.line
            ));
            0
        }),
    };
    let srclang = match start.attr("srclang") {
        Some(s) if !s.eq_ignore_ascii_case("*all*") => Lang::parse(s).ok(),
        _ => header_srclang.cloned(),
    };
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) => match tag.local() {
                "prop" => {
                    let kind = tag.attr("type").unwrap_or("prop").to_owned();
                    metadata.push((kind, xml.element_text()?));
                }
                "note" => metadata.push(("note".to_owned(), xml.element_text()?)),
                "tuv" => {
                    let lang = match tuv_lang(&tag, lang_attr) {
                        Ok(lang) => lang,
                        Err(err) => {
                            rejection.get_or_insert(err);
                            xml.skip_element()?;
                            continue;
                        }
                    };
                    let segment = read_tuv(
                        xml,
                        &tag,
                        lang,
                        &mut metadata,
                        &mut warnings,
                        &mut rejection,
                    )?;
                    let Some(segment) = segment else { continue };
                    if segments.iter().any(|s| s.lang == segment.lang) {
                        warnings.push(format!(
                            "line {}: second <tuv> in {} dropped",
                            tag.line, segment.lang
                        ));
                    } else {
                        segments.push(segment);
                    }
                }
                other => {
                    warnings.push(format!("line {}: <{other}> in <tu> ignored", tag.line));
                    xml.skip_element()?;
                }
            },
            XmlEvent::Empty(tag) => {
                if tag.local() == "tuv" {
                    if let Err(err) = tuv_lang(&tag, lang_attr) {
                        rejection.get_or_insert(err);
                    } else {
                        warnings.push(format!("line {}: <tuv> without <seg> dropped", tag.line));
                    }
                }
            }
            XmlEvent::End(_) | XmlEvent::Eof => break,
            XmlEvent::Text(_) => {}
        }
    }
    if let Some(err) = rejection {
        return Err(err);
    }
    if segments.len() < 2 {
        return Err(FormatError::rejected(
            start.line,
            start.column,
            format!(
                "<tu> has {} usable <tuv>; a translation unit needs at least two languages",
                segments.len()
            ),
        ));
    }
    if let Some(src) = srclang {
        if let Some(i) = segments.iter().position(|s| s.lang == src) {
            let source = segments.remove(i);
            segments.insert(0, source);
        }
    }
    Ok(TmxEntry {
        unit: TranslationUnit {
            id: start.attr("tuid").unwrap_or("").to_owned(),
            segments,
            origin: String::new(),
            created_ms,
            metadata,
        },
        line: start.line,
        column: start.column,
        warnings,
    })
}

/// The language of a `<tuv>`: `xml:lang` (TMX 1.4) or `lang` (TMX 1.1 to 1.3). Either is
/// accepted whatever the declared version (tools write both), but one document uses one: a
/// `<tuv>` naming its language with the other attribute than the document's first `<tuv>`,
/// or with both attributes disagreeing, is a broken file (OmegaT's invalid test file mixes
/// them), and its unit is rejected rather than guessed at.
fn tuv_lang(tag: &Tag, lang_attr: &mut Option<&'static str>) -> Result<Lang, FormatError> {
    let reject = |reason: String| FormatError::rejected(tag.line, tag.column, reason);
    let (attr, value) = match (tag.attr("xml:lang"), tag.attr("lang")) {
        (Some(xml), Some(old)) if !xml.eq_ignore_ascii_case(old) => {
            return Err(reject(format!(
                "<tuv> has xml:lang {xml:?} and lang {old:?}; it can have one language"
            )));
        }
        // Both, agreeing: right under either convention.
        (Some(xml), Some(_)) => (None, xml),
        (Some(xml), None) => (Some("xml:lang"), xml),
        (None, Some(old)) => (Some("lang"), old),
        (None, None) => return Err(reject("<tuv> has no xml:lang".to_owned())),
    };
    match (*lang_attr, attr) {
        (None, _) => *lang_attr = attr,
        (Some(used), Some(attr)) if used != attr => {
            return Err(reject(format!(
                "<tuv> names its language with {attr}, but this document's <tuv> use {used} \
                 (xml:lang is TMX 1.4, lang TMX 1.1 to 1.3)"
            )));
        }
        _ => {}
    }
    Lang::parse(value)
        .map_err(|err| FormatError::rejected(tag.line, tag.column, format!("<tuv>: {err}")))
}

/// Reads a `<tuv>` whose start tag was just returned. `None` when it has no usable segment.
fn read_tuv<R: BufRead>(
    xml: &mut XmlPull<R>,
    start: &Tag,
    lang: Lang,
    metadata: &mut Vec<(String, String)>,
    warnings: &mut Vec<String>,
    rejection: &mut Option<FormatError>,
) -> Result<Option<Segment>, FormatError> {
    let mut segment = None;
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) => match tag.local() {
                "seg" if segment.is_none() => {
                    segment = Some(read_seg(xml, &tag, &lang, warnings, rejection)?)
                }
                "prop" => {
                    let kind = tag.attr("type").unwrap_or("prop");
                    let key = format!("{lang}:{kind}");
                    metadata.push((key, xml.element_text()?));
                }
                "note" => metadata.push((format!("{lang}:note"), xml.element_text()?)),
                other => {
                    warnings.push(format!("line {}: <{other}> in <tuv> ignored", tag.line));
                    xml.skip_element()?;
                }
            },
            XmlEvent::Empty(tag) if tag.local() == "seg" && segment.is_none() => {
                segment = Some(Segment {
                    lang: lang.clone(),
                    text: String::new(),
                    tags: Vec::new(),
                })
            }
            XmlEvent::End(_) | XmlEvent::Eof => break,
            XmlEvent::Empty(_) | XmlEvent::Text(_) => {}
        }
    }
    match segment {
        None => {
            warnings.push(format!("line {}: <tuv> without <seg> dropped", start.line));
            Ok(None)
        }
        Some(s) if s.text.trim().is_empty() && s.tags.is_empty() => {
            warnings.push(format!(
                "line {}: empty <seg> in {lang} dropped",
                start.line
            ));
            Ok(None)
        }
        Some(s) => Ok(Some(s)),
    }
}

/// Reads a `<seg>` whose start tag was just returned: text as is, inline markup as tags.
///
/// Paired codes must pair up: an `<ept>` closes an open `<bpt>` with the same `i`, and every
/// `<bpt>` is closed in the segment (TMX 1.4b, section 3.7.1). A segment that breaks this
/// records a rejection of its unit, naming the offending element; reading goes on.
fn read_seg<R: BufRead>(
    xml: &mut XmlPull<R>,
    seg: &Tag,
    lang: &Lang,
    warnings: &mut Vec<String>,
    rejection: &mut Option<FormatError>,
) -> Result<Segment, FormatError> {
    let mut text = String::new();
    let mut tags = Vec::new();
    // `i` of every `<bpt>` not yet closed by its `<ept>`.
    let mut open_pairs: Vec<String> = Vec::new();
    // Open `<hi>` elements (their end becomes a tag of its own), by depth.
    let mut open_hi = 0usize;
    loop {
        match xml.next()? {
            XmlEvent::Text(piece) => text.push_str(piece.text()),
            XmlEvent::Start(tag) if tag.local() == "hi" => {
                tags.push(InlineTag {
                    offset: text.len(),
                    kind: TagKind::HighlightStart,
                    xml: start_tag_xml(&tag, false),
                });
                open_hi += 1;
            }
            XmlEvent::Start(tag) => {
                let kind = inline_kind(&tag, warnings);
                if let Err(problem) = pair_up(&tag, kind, &mut open_pairs) {
                    rejection.get_or_insert(problem);
                }
                let mut markup = start_tag_xml(&tag, false);
                copy_element(xml, &mut markup)?;
                tags.push(InlineTag {
                    offset: text.len(),
                    kind,
                    xml: markup,
                });
            }
            XmlEvent::Empty(tag) => {
                let kind = if tag.local() == "hi" {
                    TagKind::HighlightStart
                } else {
                    inline_kind(&tag, warnings)
                };
                if let Err(problem) = pair_up(&tag, kind, &mut open_pairs) {
                    rejection.get_or_insert(problem);
                }
                tags.push(InlineTag {
                    offset: text.len(),
                    kind,
                    xml: start_tag_xml(&tag, true),
                });
            }
            XmlEvent::End(name) => {
                if open_hi == 0 {
                    break;
                }
                open_hi -= 1;
                tags.push(InlineTag {
                    offset: text.len(),
                    kind: TagKind::HighlightEnd,
                    xml: format!("</{name}>"),
                });
            }
            XmlEvent::Eof => break,
        }
    }
    if let Some(i) = open_pairs.first() {
        rejection.get_or_insert(FormatError::rejected(
            seg.line,
            seg.column,
            format!("<bpt i=\"{i}\"> in this <seg> has no matching <ept>"),
        ));
    }
    Ok(Segment {
        lang: lang.clone(),
        text,
        tags,
    })
}

/// Tracks `<bpt>`/`<ept>` pairing by their `i` attribute.
fn pair_up(tag: &Tag, kind: TagKind, open_pairs: &mut Vec<String>) -> Result<(), FormatError> {
    let i = tag.attr("i").unwrap_or("").to_owned();
    match kind {
        TagKind::Begin if open_pairs.contains(&i) => Err(FormatError::rejected(
            tag.line,
            tag.column,
            format!("<bpt i=\"{i}\"> opens a pair that is already open"),
        )),
        TagKind::Begin => {
            open_pairs.push(i);
            Ok(())
        }
        TagKind::End => match open_pairs.iter().position(|open| *open == i) {
            Some(at) => {
                open_pairs.remove(at);
                Ok(())
            }
            None => Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<ept i=\"{i}\"> closes no open <bpt i=\"{i}\">"),
            )),
        },
        _ => Ok(()),
    }
}

fn inline_kind(tag: &Tag, warnings: &mut Vec<String>) -> TagKind {
    match tag.local() {
        "bpt" => TagKind::Begin,
        "ept" => TagKind::End,
        "it" => TagKind::Isolated,
        "ph" | "ut" => TagKind::Placeholder,
        other => {
            warnings.push(format!(
                "line {}: <{other}> is not TMX inline markup; kept as a placeholder",
                tag.line
            ));
            TagKind::Placeholder
        }
    }
}

/// The start tag as written (attribute quoting and escapes kept).
fn start_tag_xml(tag: &Tag, empty: bool) -> String {
    let raw = tag.raw.as_deref().unwrap_or(&tag.name);
    if empty {
        format!("<{raw}/>")
    } else {
        format!("<{raw}>")
    }
}

/// Appends the content and end tag of the element whose start was just returned, as written.
fn copy_element<R: BufRead>(xml: &mut XmlPull<R>, out: &mut String) -> Result<(), FormatError> {
    let mut depth = 1usize;
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) => {
                depth += 1;
                out.push_str(&start_tag_xml(&tag, false));
            }
            XmlEvent::Empty(tag) => out.push_str(&start_tag_xml(&tag, true)),
            XmlEvent::Text(piece) => piece.write_raw(out),
            XmlEvent::End(name) => {
                out.push_str("</");
                out.push_str(&name);
                out.push('>');
                depth -= 1;
                if depth == 0 {
                    return Ok(());
                }
            }
            XmlEvent::Eof => return Ok(()),
        }
    }
}

/// Parses TMX's `YYYYMMDDThhmmssZ` into milliseconds since the Unix epoch.
fn parse_tmx_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = &b[range];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// Formats milliseconds since the Unix epoch as TMX's `YYYYMMDDThhmmssZ` (whole seconds).
fn format_tmx_date(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Something in a unit that [`write_tmx`] could not write, or that would not read back as
/// written; found by [`check_tmx_unit`] and [`check_tmx_markup`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmxProblem {
    /// The field at fault, as a path inside the unit: `segments[1].tags[2].xml`.
    pub field: String,
    /// Why, as a sentence fragment: `is not on a character boundary of the text`.
    pub reason: String,
}

/// Checks that [`write_tmx`] can write `unit`: the id, metadata and segment texts hold only
/// characters XML 1.0 can carry, and inline tag offsets are byte offsets of their text, on
/// character boundaries, in text order (each at or after the one before). Cheap: no tag is
/// parsed. Every problem is reported; an empty list means the unit can be written.
pub fn check_tmx_unit(unit: &TranslationUnit) -> Vec<TmxProblem> {
    let mut problems = Vec::new();
    let mut characters = |field: String, value: &str| {
        if let Some(reason) = unwritable(value) {
            problems.push(TmxProblem { field, reason });
        }
    };
    characters("id".to_owned(), &unit.id);
    for (k, (name, value)) in unit.metadata.iter().enumerate() {
        characters(format!("metadata[{k}].name"), name);
        characters(format!("metadata[{k}].value"), value);
    }
    for (i, segment) in unit.segments.iter().enumerate() {
        characters(format!("segments[{i}].text"), &segment.text);
    }
    for (i, segment) in unit.segments.iter().enumerate() {
        let text = &segment.text;
        let mut previous = 0;
        for (j, tag) in segment.tags.iter().enumerate() {
            let reason = if tag.offset > text.len() {
                format!(
                    "is {}, past the end of the text ({} bytes)",
                    tag.offset,
                    text.len()
                )
            } else if !text.is_char_boundary(tag.offset) {
                format!("{} is not on a character boundary of the text", tag.offset)
            } else if tag.offset < previous {
                format!(
                    "is {}, before the previous tag's {previous}: tags go in text order",
                    tag.offset
                )
            } else {
                previous = tag.offset;
                continue;
            };
            let field = format!("segments[{i}].tags[{j}].offset");
            problems.push(TmxProblem { field, reason });
        }
    }
    problems
}

/// Checks that each inline tag's `xml` is what [`TmxReader`] makes of TMX inline markup of its
/// kind, so that [`write_tmx`] writes well-formed XML that reads back as the same tag. The
/// markup must be written as the reader writes it (start tags as in the file but without
/// space before `>` or `/>`, end tags `</name>`, no comments), and have the one shape the
/// reader gives its kind:
///
/// * `Begin`, `End`, `Isolated`, `Placeholder`: one complete element, `<bpt …>…</bpt>` or
///   `<bpt …/>`, named `bpt`, `ept`, `it`, or for a placeholder `ph`, `ut` or any other name
///   (the reader keeps unknown markup as a placeholder), with nothing before or after it;
///   `<bpt>` and `<ept>` pair up by their `i` attribute within the segment;
/// * `HighlightStart`: the start tag `<hi …>` alone, closed by a later `HighlightEnd`, or the
///   empty element `<hi …/>`;
/// * `HighlightEnd`: `</hi>`, closing the latest open `<hi>`.
///
/// Parses every tag, so it costs about what reading the markup from a file costs; units the
/// reader made pass by construction and need not be checked again. Every problem is reported.
pub fn check_tmx_markup(unit: &TranslationUnit) -> Vec<TmxProblem> {
    let mut problems = Vec::new();
    for (i, segment) in unit.segments.iter().enumerate() {
        problems.extend(
            markup_problems(&segment.tags)
                .into_iter()
                .map(|(j, reason)| TmxProblem {
                    field: format!("segments[{i}].tags[{j}].xml"),
                    reason,
                }),
        );
    }
    problems
}

/// Why XML 1.0 cannot carry `value`, if it cannot.
fn unwritable(value: &str) -> Option<String> {
    value
        .chars()
        .find(|c| !super::xml::is_xml_char(*c))
        .map(|c| format!("U+{:04X} cannot appear in XML 1.0", u32::from(c)))
}

/// The markup problems of one segment's tags (see [`check_tmx_markup`]) as tag index and
/// reason, in tag order.
fn markup_problems(tags: &[InlineTag]) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    // `i` and tag index of every `<bpt>` not yet closed; names and indexes of open `<hi>`s.
    let mut open_pairs: Vec<(String, usize)> = Vec::new();
    let mut open_hi: Vec<(String, usize)> = Vec::new();
    for (index, tag) in tags.iter().enumerate() {
        let shape = match tag.kind {
            TagKind::HighlightEnd => highlight_end(&tag.xml).and_then(|name| match open_hi.pop() {
                Some((open, _)) if open == name => Ok(()),
                Some((open, _)) => Err(format!("{} does not close the open <{open}>", tag.xml)),
                None => Err(format!("{} closes no open <hi>", tag.xml)),
            }),
            TagKind::HighlightStart => highlight_start(&tag.xml).map(|open| {
                if let Some(name) = open {
                    open_hi.push((name, index));
                }
            }),
            kind => inline_element(&tag.xml).and_then(|root| {
                let name = root.local();
                let fits = match kind {
                    TagKind::Begin => name == "bpt",
                    TagKind::End => name == "ept",
                    TagKind::Isolated => name == "it",
                    _ => !matches!(name, "bpt" | "ept" | "it" | "hi"),
                };
                if !fits {
                    return Err(format!(
                        "<{}> is not the element of a {kind:?} tag",
                        root.name
                    ));
                }
                let i = root.attr("i").unwrap_or("").to_owned();
                match kind {
                    TagKind::Begin if open_pairs.iter().any(|(open, _)| *open == i) => {
                        Err(format!("<bpt i=\"{i}\"> opens a pair that is already open"))
                    }
                    TagKind::Begin => {
                        open_pairs.push((i, index));
                        Ok(())
                    }
                    TagKind::End => match open_pairs.iter().position(|(open, _)| *open == i) {
                        Some(at) => {
                            open_pairs.remove(at);
                            Ok(())
                        }
                        None => Err(format!("<ept i=\"{i}\"> closes no open <bpt i=\"{i}\">")),
                    },
                    _ => Ok(()),
                }
            }),
        };
        if let Err(reason) = shape {
            problems.push((index, reason));
        }
    }
    for (i, index) in open_pairs {
        let reason = format!("<bpt i=\"{i}\"> has no matching <ept> in the segment");
        problems.push((index, reason));
    }
    for (name, index) in open_hi {
        problems.push((index, format!("<{name}> is not closed in the segment")));
    }
    problems.sort_by_key(|p| p.0);
    problems
}

/// The root of `xml` when it is one complete element exactly as the reader writes inline
/// markup (start tags as written up to trailing space, content copied, `</name>`), and nothing
/// else: what reads back as the same tag.
fn inline_element(xml: &str) -> Result<Tag, String> {
    let mut pull = open_fragment(xml)?;
    let broken = |e| not_well_formed(xml, e);
    let (root, rebuilt) = match pull.next().map_err(broken)? {
        XmlEvent::Start(tag) => {
            let mut out = start_tag_xml(&tag, false);
            copy_element(&mut pull, &mut out).map_err(broken)?;
            (tag, out)
        }
        XmlEvent::Empty(tag) => {
            let out = start_tag_xml(&tag, true);
            (tag, out)
        }
        _ => return Err(format!("{xml:?} is not an XML element")),
    };
    if !matches!(pull.next().map_err(broken)?, XmlEvent::Eof) {
        return Err(format!("{xml:?} has more than one element"));
    }
    if rebuilt != xml {
        return Err(format!(
            "{xml:?} is not one element as TMX inline markup is written ({rebuilt:?})"
        ));
    }
    Ok(root)
}

/// For `<hi …>`, the element name, to be closed by a later `</hi>`; for `<hi …/>`, `None`.
fn highlight_start(xml: &str) -> Result<Option<String>, String> {
    let not_hi = |root: &Tag| format!("<{}> is not a <hi> start tag", root.name);
    if xml.ends_with("/>") {
        let root = inline_element(xml)?;
        return if root.local() == "hi" {
            Ok(None)
        } else {
            Err(not_hi(&root))
        };
    }
    // The start tag alone: closed right after it, it must be an element with no content.
    let name: String = xml
        .strip_prefix('<')
        .unwrap_or_default()
        .chars()
        .take_while(|c| !super::xml::is_xml_space(*c) && !matches!(c, '>' | '/'))
        .collect();
    let closed = format!("{xml}</{name}>");
    let mut pull = open_fragment(&closed)?;
    let mut events = Vec::new();
    loop {
        match pull.next() {
            Ok(XmlEvent::Eof) => break,
            Ok(event) => events.push(event),
            Err(_) => return Err(format!("{xml:?} is not a start tag")),
        }
    }
    let root = match events.as_slice() {
        [XmlEvent::Start(root), XmlEvent::End(_)] if start_tag_xml(root, false) == xml => root,
        _ => return Err(format!("{xml:?} is not a start tag alone")),
    };
    if root.local() == "hi" {
        Ok(Some(root.name.clone()))
    } else {
        Err(not_hi(root))
    }
}

/// For `</hi>`, the element name it closes.
fn highlight_end(xml: &str) -> Result<String, String> {
    let name = xml
        .strip_prefix("</")
        .and_then(|rest| rest.strip_suffix('>'))
        .ok_or_else(|| format!("{xml:?} is not an end tag"))?;
    let named = open_fragment(&format!("<{name}/>")).is_ok_and(|mut pull| {
        matches!(pull.next(), Ok(XmlEvent::Empty(tag)) if tag.name == name && tag.attrs.is_empty())
    });
    if named && super::xml::local_name(name) == "hi" {
        Ok(name.to_owned())
    } else {
        Err(format!("{xml:?} is not the end tag </hi>"))
    }
}

/// Why a fragment is not well-formed, without the file position a reader error carries.
fn not_well_formed(xml: &str, error: FormatError) -> String {
    match error {
        FormatError::Malformed { column, reason, .. } => {
            format!("{xml:?} is not well-formed XML at character {column}: {reason}")
        }
        other => format!("{xml:?} is not well-formed XML: {other}"),
    }
}

/// A pull reader over an inline markup fragment, which must hold only XML 1.0 characters.
fn open_fragment(xml: &str) -> Result<XmlPull<&[u8]>, String> {
    if let Some(reason) = unwritable(xml) {
        return Err(reason);
    }
    XmlPull::open(xml.as_bytes(), true).map_err(|e| not_well_formed(xml, e))
}

/// Writes translation units as a TMX 1.4b document.
///
/// Each segment's inline tags are put back at their offsets, in order; a `("note", …)`
/// metadata pair becomes a `<note>`, every other pair a `<prop>`. `created_ms` other than 0 is
/// written as `creationdate` (whole seconds). `srclang` goes into the header as given (a BCP
/// 47 tag or `*all*`).
///
/// Fails with [`FormatError::Unwritable`] when a tag's offset is outside its text or not on a
/// character boundary, or when text contains a character XML 1.0 cannot carry.
pub fn write_tmx<W: Write>(
    out: W,
    units: impl IntoIterator<Item = impl Borrow<TranslationUnit>>,
    srclang: &str,
) -> Result<(), FormatError> {
    let mut out = std::io::BufWriter::new(out);
    let mut buf = String::with_capacity(4096);
    buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n");
    buf.push_str("  <header creationtool=\"tolmach\" creationtoolversion=\"");
    buf.push_str(env!("CARGO_PKG_VERSION"));
    buf.push_str("\" segtype=\"sentence\" o-tmf=\"tolmach\" adminlang=\"en\" srclang=\"");
    escape_attr(srclang, &mut buf);
    buf.push_str("\" datatype=\"plaintext\"/>\n  <body>\n");
    out.write_all(buf.as_bytes())?;
    for unit in units {
        let unit = unit.borrow();
        buf.clear();
        write_unit(unit, &mut buf)?;
        out.write_all(buf.as_bytes())?;
    }
    out.write_all(b"  </body>\n</tmx>\n")?;
    out.flush()?;
    Ok(())
}

fn write_unit(unit: &TranslationUnit, buf: &mut String) -> Result<(), FormatError> {
    let what = || format!("translation unit {:?}", unit.id);
    buf.push_str("    <tu");
    if !unit.id.is_empty() {
        check_writable(&unit.id, what)?;
        buf.push_str(" tuid=\"");
        escape_attr(&unit.id, buf);
        buf.push('"');
    }
    if unit.created_ms != 0 {
        buf.push_str(" creationdate=\"");
        buf.push_str(&format_tmx_date(unit.created_ms));
        buf.push('"');
    }
    buf.push_str(">\n");
    for (key, value) in &unit.metadata {
        check_writable(key, what)?;
        check_writable(value, what)?;
        if key == "note" {
            buf.push_str("      <note>");
        } else {
            buf.push_str("      <prop type=\"");
            escape_attr(key, buf);
            buf.push_str("\">");
        }
        escape_text(value, buf);
        buf.push_str(if key == "note" {
            "</note>\n"
        } else {
            "</prop>\n"
        });
    }
    for segment in &unit.segments {
        buf.push_str("      <tuv xml:lang=\"");
        buf.push_str(segment.lang.as_str());
        buf.push_str("\"><seg>");
        write_segment(segment, buf).map_err(|reason| FormatError::Unwritable {
            what: format!("segment {} of unit {:?}", segment.lang, unit.id),
            reason,
        })?;
        buf.push_str("</seg></tuv>\n");
    }
    buf.push_str("    </tu>\n");
    Ok(())
}

fn write_segment(segment: &Segment, buf: &mut String) -> Result<(), String> {
    let text = &segment.text;
    if let Some(c) = text.chars().find(|c| !super::xml::is_xml_char(*c)) {
        return Err(format!("U+{:04X} cannot appear in XML 1.0", u32::from(c)));
    }
    let mut pos = 0;
    for tag in &segment.tags {
        if tag.offset < pos || tag.offset > text.len() || !text.is_char_boundary(tag.offset) {
            return Err(format!(
                "tag offset {} is not a character boundary of the text after the previous tag",
                tag.offset
            ));
        }
        if !tag.xml.starts_with('<') || !tag.xml.ends_with('>') {
            return Err(format!("tag markup {:?} is not an XML element", tag.xml));
        }
        escape_text(&text[pos..tag.offset], buf);
        buf.push_str(&tag.xml);
        pos = tag.offset;
    }
    escape_text(&text[pos..], buf);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(tmx: &str) -> Vec<Result<TmxEntry, FormatError>> {
        TmxReader::new(tmx.as_bytes()).collect()
    }

    fn read_ok(tmx: &str) -> Vec<TranslationUnit> {
        read(tmx)
            .into_iter()
            .map(|r| r.expect("entry should be read").unit)
            .collect()
    }

    const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
<header creationtool="t" creationtoolversion="1" segtype="sentence" o-tmf="t" adminlang="en" srclang="en" datatype="plaintext"/>
<body>
"#;

    fn doc(body: &str) -> String {
        format!("{HEADER}{body}\n</body>\n</tmx>\n")
    }

    #[test]
    fn reads_tuid_props_notes_and_creationdate() {
        let units = read_ok(&doc(
            r#"<tu tuid="42" creationdate="20200229T235959Z"><prop type="x-domain">health</prop><note>checked</note>
<tuv xml:lang="en"><prop type="x-q">good</prop><seg>fever</seg></tuv>
<tuv xml:lang="ru"><seg>лихорадка</seg></tuv></tu>"#,
        ));
        let u = &units[0];
        assert_eq!(u.id, "42");
        assert_eq!(u.created_ms, 1_583_020_799_000);
        assert_eq!(
            u.metadata,
            vec![
                ("x-domain".to_owned(), "health".to_owned()),
                ("note".to_owned(), "checked".to_owned()),
                ("en:x-q".to_owned(), "good".to_owned()),
            ]
        );
        assert_eq!(u.segments[1].text, "лихорадка");
    }

    #[test]
    fn missing_tuid_and_date_give_empty_id_and_zero_time() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="en"><seg>a</seg></tuv><tuv xml:lang="zh"><seg>甲</seg></tuv></tu>"#,
        ));
        assert_eq!((units[0].id.as_str(), units[0].created_ms), ("", 0));
    }

    #[test]
    fn tmx_1_1_lang_attribute_is_accepted() {
        let units = read_ok(
            r#"<tmx version="1.1"><header srclang="EN-US"/><body><tu>
<tuv lang="EN-US"><seg>Hello</seg></tuv><tuv lang="ZH-TW"><seg>你好</seg></tuv></tu></body></tmx>"#,
        );
        assert_eq!(units[0].segments[0].lang.as_str(), "en-US");
        assert_eq!(units[0].segments[1].lang.as_str(), "zh-Hant");
    }

    #[test]
    fn a_tuv_switching_language_attribute_or_with_two_languages_is_rejected() {
        let tmx = concat!(
            "<tmx version=\"1.1\"><header srclang=\"en\"/><body>\n",
            "<tu><tuv lang=\"en\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"en\"><seg>a</seg></tuv>  <tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"en\" xml:lang=\"de\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"EN\" xml:lang=\"en\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "</body></tmx>"
        );
        let got: Vec<Result<usize, (u64, u64)>> = read(tmx)
            .into_iter()
            .map(|r| match r {
                Ok(entry) => Ok(entry.unit.segments.len()),
                Err(FormatError::Rejected { line, column, .. }) => Err((line, column)),
                Err(other) => panic!("{other}"),
            })
            .collect();
        assert_eq!(got, [Ok(2), Err((3, 40)), Err((4, 5)), Ok(2)]);
    }

    #[test]
    fn source_language_segment_comes_first() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="ru"><seg>да</seg></tuv><tuv xml:lang="en"><seg>yes</seg></tuv></tu>"#,
        ));
        assert_eq!(units[0].segments[0].lang.as_str(), "en");
    }

    #[test]
    fn whitespace_inside_seg_is_preserved() {
        let units = read_ok(&doc(
            "<tu><tuv xml:lang=\"en\"><seg>  two  spaces\n\tand tab </seg></tuv><tuv xml:lang=\"ru\"><seg> x </seg></tuv></tu>",
        ));
        assert_eq!(units[0].segments[0].text, "  two  spaces\n\tand tab ");
        assert_eq!(units[0].segments[1].text, " x ");
    }

    #[test]
    fn references_are_joined_into_the_text() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="en"><seg>R&amp;D &#x4E2D;&lt;</seg></tuv><tuv xml:lang="ru"><seg>НИОКР</seg></tuv></tu>"#,
        ));
        assert_eq!(units[0].segments[0].text, "R&D 中<");
    }

    #[test]
    fn inline_markup_is_kept_out_of_the_text_with_offsets() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="en"><seg>A<bpt i="1" x="1">&lt;a href="<sub>link</sub>"&gt;</bpt>b<ept i="1">&lt;/a&gt;</ept><ph x="2"/>c<it pos="begin">&lt;i&gt;</it>d<ut>{x}</ut></seg></tuv>
<tuv xml:lang="zh"><seg>乙</seg></tuv></tu>"#,
        ));
        let seg = &units[0].segments[0];
        assert_eq!(seg.text, "Abcd");
        let got: Vec<(usize, TagKind, &str)> = seg
            .tags
            .iter()
            .map(|t| (t.offset, t.kind, t.xml.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    TagKind::Begin,
                    r#"<bpt i="1" x="1">&lt;a href="<sub>link</sub>"&gt;</bpt>"#
                ),
                (2, TagKind::End, r#"<ept i="1">&lt;/a&gt;</ept>"#),
                (2, TagKind::Placeholder, r#"<ph x="2"/>"#),
                (3, TagKind::Isolated, r#"<it pos="begin">&lt;i&gt;</it>"#),
                (4, TagKind::Placeholder, "<ut>{x}</ut>"),
            ]
        );
    }

    #[test]
    fn hi_text_stays_text_between_two_tags() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="en"><seg>a <hi type="bold">big</hi> dog</seg></tuv><tuv xml:lang="ru"><seg>пёс</seg></tuv></tu>"#,
        ));
        let seg = &units[0].segments[0];
        assert_eq!(seg.text, "a big dog");
        assert_eq!(
            seg.tags,
            vec![
                InlineTag {
                    offset: 2,
                    kind: TagKind::HighlightStart,
                    xml: r#"<hi type="bold">"#.to_owned()
                },
                InlineTag {
                    offset: 5,
                    kind: TagKind::HighlightEnd,
                    xml: "</hi>".to_owned()
                },
            ]
        );
    }

    #[test]
    fn unit_with_one_usable_tuv_is_rejected_and_reading_continues() {
        let results = read(&doc(
            "<tu>\n<tuv xml:lang=\"en\"><seg>alone</seg></tuv>\n<tuv xml:lang=\"ru\"><seg> </seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>",
        ));
        assert!(matches!(
            results[0],
            Err(FormatError::Rejected {
                line: 5,
                column: 1,
                ..
            })
        ));
        assert!(results[1].is_ok());
        assert_eq!(results.len(), 2);
    }

    #[test]
    fn unpaired_codes_reject_the_unit_naming_the_element_and_reading_continues() {
        let results = read(&doc(concat!(
            "<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv>\n",
            "<tuv xml:lang=\"ru\"><seg><ept i=\"1\">&lt;/b&gt;</ept>б</seg></tuv></tu>\n",
            "<tu><tuv xml:lang=\"en\"><seg>a<bpt i=\"2\">&lt;b&gt;</bpt></seg></tuv>",
            "<tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv xml:lang=\"en\"><seg>ok</seg></tuv><tuv xml:lang=\"ru\"><seg>да</seg></tuv></tu>",
        )));
        let rejected: Vec<(u64, String)> = results
            .iter()
            .filter_map(|r| match r {
                Err(FormatError::Rejected { line, reason, .. }) => Some((*line, reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(rejected.len(), 2, "{results:?}");
        assert_eq!(rejected[0].0, 6);
        assert!(
            rejected[0].1.contains("<ept i=\"1\"> closes no open"),
            "{}",
            rejected[0].1
        );
        assert_eq!(rejected[1].0, 7);
        assert!(
            rejected[1].1.contains("no matching <ept>"),
            "{}",
            rejected[1].1
        );
        assert!(results[2].is_ok());
    }

    #[test]
    fn bad_language_rejects_the_unit_at_the_tuv() {
        let results = read(&doc(
            "<tu>\n  <tuv xml:lang=\"english\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>",
        ));
        match &results[0] {
            Err(FormatError::Rejected {
                line,
                column,
                reason,
            }) => {
                assert_eq!((*line, *column), (6, 3));
                assert!(reason.contains("english"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_xml_is_malformed_and_ends_the_reader() {
        let results = read(&doc(
            "<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>a</tuv></tu>",
        ));
        assert!(results[0].is_ok());
        assert!(matches!(
            results[1],
            Err(FormatError::Malformed { line: 6, .. })
        ));
        assert_eq!(results.len(), 2);
    }

    #[test]
    fn non_tmx_root_is_malformed() {
        let results = read("<martif/>");
        assert!(matches!(
            results[0],
            Err(FormatError::Malformed {
                line: 1,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn utf16_tmx_with_bom_is_read() {
        let text = doc(
            r#"<tu><tuv xml:lang="en"><seg>tea</seg></tuv><tuv xml:lang="zh"><seg>茶</seg></tuv></tu>"#,
        )
        .replace("UTF-8", "UTF-16");
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let units: Vec<_> = TmxReader::new(&bytes[..])
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(units[0].unit.segments[1].text, "茶");
    }

    #[test]
    fn dates_round_trip_through_the_tmx_format() {
        for ms in [0, 951_782_400_000, 1_583_020_799_000, 4_102_444_800_000] {
            assert_eq!(parse_tmx_date(&format_tmx_date(ms)), Some(ms));
        }
        assert_eq!(parse_tmx_date("20230229T000000Z"), None);
        assert_eq!(parse_tmx_date("2023-01-01"), None);
    }

    #[test]
    fn writer_puts_tags_back_at_their_offsets() {
        let unit = TranslationUnit {
            id: "u1".to_owned(),
            segments: vec![
                Segment {
                    lang: Lang::en(),
                    text: "Save & exit".to_owned(),
                    tags: vec![InlineTag {
                        offset: 4,
                        kind: TagKind::Placeholder,
                        xml: r#"<ph x="1"/>"#.to_owned(),
                    }],
                },
                Segment {
                    lang: Lang::ru(),
                    text: "Сохранить".to_owned(),
                    tags: Vec::new(),
                },
            ],
            origin: String::new(),
            created_ms: 0,
            metadata: vec![("note".to_owned(), "a<b".to_owned())],
        };
        let mut out = Vec::new();
        write_tmx(&mut out, [&unit], "en").unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains(r#"<seg>Save<ph x="1"/> &amp; exit</seg>"#),
            "{text}"
        );
        assert!(text.contains("<note>a&lt;b</note>"), "{text}");
        let back = TmxReader::new(&out[..]).next().unwrap().unwrap().unit;
        assert_eq!(back, unit);
    }

    #[test]
    fn writer_refuses_tag_offsets_inside_a_character() {
        let unit = TranslationUnit {
            id: String::new(),
            segments: vec![Segment {
                lang: Lang::zh(),
                text: "中文".to_owned(),
                tags: vec![InlineTag {
                    offset: 1,
                    kind: TagKind::Placeholder,
                    xml: "<ph/>".to_owned(),
                }],
            }],
            origin: String::new(),
            created_ms: 0,
            metadata: Vec::new(),
        };
        let err = write_tmx(Vec::new(), [&unit], "zh").unwrap_err();
        assert!(matches!(err, FormatError::Unwritable { .. }));
    }

    fn tagged(text: &str, tags: &[(usize, TagKind, &str)]) -> TranslationUnit {
        TranslationUnit {
            id: "t".to_owned(),
            segments: vec![
                Segment {
                    lang: Lang::en(),
                    text: text.to_owned(),
                    tags: tags
                        .iter()
                        .map(|&(offset, kind, xml)| InlineTag {
                            offset,
                            kind,
                            xml: xml.to_owned(),
                        })
                        .collect(),
                },
                Segment {
                    lang: Lang::ru(),
                    text: "б".to_owned(),
                    tags: vec![],
                },
            ],
            origin: String::new(),
            created_ms: 0,
            metadata: vec![],
        }
    }

    #[test]
    fn every_tag_the_reader_makes_passes_the_check() {
        let units = read_ok(&doc(
            r#"<tu><tuv xml:lang="en"><seg>A<bpt i="1" x='1'>&lt;a href="<sub>link</sub>"&gt;</bpt>b<ept i="1">&lt;/a&gt;</ept><ph x="2"/>c<it pos="begin">&lt;i&gt;</it>d<ut>{x}</ut><x:hi type="b">e<hi/>f</x:hi><bpt i="2"/><ept i="2"/><g id="3">g</g><![CDATA[h]]><ph>&#x4E2D;<![CDATA[<b>]]></ph></seg></tuv>
<tuv xml:lang="zh"><seg>乙</seg></tuv></tu>"#,
        ));
        assert_eq!(units[0].segments[0].tags.len(), 12);
        assert_eq!(check_tmx_unit(&units[0]), []);
        assert_eq!(check_tmx_markup(&units[0]), []);
    }

    #[test]
    fn tags_that_would_not_write_back_are_named_with_the_reason() {
        use TagKind::*;
        /// Text, tags, the field at fault and a word of the reason.
        type Case<'a> = (&'a str, &'a [(usize, TagKind, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                "ab",
                &[(3, Placeholder, "<ph/>")],
                "tags[0].offset",
                "past the end",
            ),
            (
                "中",
                &[(1, Placeholder, "<ph/>")],
                "tags[0].offset",
                "character boundary",
            ),
            (
                "abc",
                &[(2, Placeholder, "<ph/>"), (1, Placeholder, "<ph/>")],
                "tags[1].offset",
                "text order",
            ),
            (
                "a",
                &[(0, Placeholder, "<ph>")],
                "tags[0].xml",
                "not closed",
            ),
            (
                "a",
                &[(0, Placeholder, "b</x>")],
                "tags[0].xml",
                "text before the root",
            ),
            (
                "a",
                &[(0, Placeholder, "<ph/><ph/>")],
                "tags[0].xml",
                "root element",
            ),
            (
                "a",
                &[(0, Placeholder, "<ph/> ")],
                "tags[0].xml",
                "as TMX inline markup",
            ),
            (
                "a",
                &[(0, Placeholder, "<!--c--><ph/>")],
                "tags[0].xml",
                "as TMX",
            ),
            (
                "a",
                &[(0, Placeholder, "<ph />")],
                "tags[0].xml",
                r#"("<ph/>")"#,
            ),
            (
                "a",
                &[(0, Placeholder, "<ph>&nbsp;</ph>")],
                "tags[0].xml",
                "nbsp",
            ),
            (
                "a",
                &[(0, Placeholder, "<ph>\u{1}</ph>")],
                "tags[0].xml",
                "U+0001",
            ),
            (
                "a",
                &[(0, Placeholder, "<bpt i=\"1\"/>")],
                "tags[0].xml",
                "Placeholder",
            ),
            ("a", &[(0, Begin, "<ph/>")], "tags[0].xml", "Begin"),
            (
                "a",
                &[(0, Begin, "<bpt i=\"1\"/>")],
                "tags[0].xml",
                "no matching <ept>",
            ),
            (
                "a",
                &[(0, End, "<ept i=\"1\"/>")],
                "tags[0].xml",
                "closes no open",
            ),
            (
                "a",
                &[(0, Begin, "<bpt i=\"1\"/>"), (0, Begin, "<bpt i=\"1\"/>")],
                "tags[1].xml",
                "already open",
            ),
            ("a", &[(0, Isolated, "<ph/>")], "tags[0].xml", "Isolated"),
            (
                "a",
                &[(0, HighlightStart, "<hi>")],
                "tags[0].xml",
                "not closed",
            ),
            (
                "a",
                &[(0, HighlightStart, "<b>")],
                "tags[0].xml",
                "not a <hi>",
            ),
            (
                "a",
                &[(0, HighlightStart, "<hi>x")],
                "tags[0].xml",
                "start tag",
            ),
            (
                "a",
                &[(0, HighlightStart, "<hi><b>")],
                "tags[0].xml",
                "start tag",
            ),
            (
                "a",
                &[(0, HighlightEnd, "</hi>")],
                "tags[0].xml",
                "closes no open",
            ),
            ("a", &[(0, HighlightEnd, "</b>")], "tags[0].xml", "</hi>"),
            (
                "a",
                &[(0, HighlightEnd, "<hi/>")],
                "tags[0].xml",
                "not an end tag",
            ),
            (
                "a",
                &[(0, HighlightStart, "<x:hi>"), (1, HighlightEnd, "</hi>")],
                "tags[1].xml",
                "does not close",
            ),
        ];
        for &(text, tags, field, reason) in cases {
            let unit = tagged(text, tags);
            let mut problems = check_tmx_unit(&unit);
            problems.extend(check_tmx_markup(&unit));
            assert!(
                problems
                    .iter()
                    .any(|p| p.field == format!("segments[0].{field}") && p.reason.contains(reason)),
                "{tags:?}: {problems:?}"
            );
        }
        let mut unit = tagged("a\u{FFFE}", &[]);
        unit.metadata.push(("x".to_owned(), "\u{1}".to_owned()));
        let fields: Vec<String> = check_tmx_unit(&unit).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["metadata[0].value", "segments[0].text"]);
    }

    mod round_trip {
        use super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            "[a-zA-Z0-9 &<>\"'\t\n\r上海合作组织ШОСёй]{0,16}"
        }

        fn tag_markup() -> impl Strategy<Value = (TagKind, String)> {
            prop_oneof![
                (0u8..9).prop_map(|i| (TagKind::Placeholder, format!(r#"<ph x="{i}"/>"#))),
                Just((
                    TagKind::Placeholder,
                    "<ph type=\"lb\">&lt;br/&gt;</ph>".to_owned()
                )),
                Just((
                    TagKind::Isolated,
                    r#"<it pos="end">&lt;/i&gt;</it>"#.to_owned()
                )),
                Just((TagKind::Placeholder, "<ut>{1}</ut>".to_owned())),
            ]
        }

        /// A segment with tags at random character boundaries, sorted by offset, plus
        /// optionally one highlight pair and one `<bpt>`/`<ept>` pair (paired codes must
        /// pair up, or the reader rejects the unit).
        fn segment(lang: Lang) -> impl Strategy<Value = Segment> {
            (
                text(),
                proptest::collection::vec((any::<proptest::sample::Index>(), tag_markup()), 0..4),
                proptest::option::of((
                    any::<proptest::sample::Index>(),
                    any::<proptest::sample::Index>(),
                )),
                proptest::option::of((
                    any::<proptest::sample::Index>(),
                    any::<proptest::sample::Index>(),
                    any::<bool>(),
                )),
            )
                .prop_map(move |(text, raw_tags, hi, pair)| {
                    let bounds: Vec<usize> = text
                        .char_indices()
                        .map(|(i, _)| i)
                        .chain(std::iter::once(text.len()))
                        .collect();
                    let mut tags: Vec<InlineTag> = raw_tags
                        .into_iter()
                        .map(|(at, (kind, xml))| InlineTag {
                            offset: *at.get(&bounds),
                            kind,
                            xml,
                        })
                        .collect();
                    if let Some((a, b)) = hi {
                        let (a, b) = (*a.get(&bounds), *b.get(&bounds));
                        let (start, end) = (a.min(b), a.max(b));
                        tags.push(InlineTag {
                            offset: start,
                            kind: TagKind::HighlightStart,
                            xml: r#"<hi type="b">"#.to_owned(),
                        });
                        tags.push(InlineTag {
                            offset: end,
                            kind: TagKind::HighlightEnd,
                            xml: "</hi>".to_owned(),
                        });
                    }
                    if let Some((a, b, with_sub)) = pair {
                        let (a, b) = (*a.get(&bounds), *b.get(&bounds));
                        let begin = if with_sub {
                            r#"<bpt i="3">&lt;a href="<sub>x</sub>"&gt;</bpt>"#
                        } else {
                            r#"<bpt i="3">&lt;b&gt;</bpt>"#
                        };
                        tags.push(InlineTag {
                            offset: a.min(b),
                            kind: TagKind::Begin,
                            xml: begin.to_owned(),
                        });
                        tags.push(InlineTag {
                            offset: a.max(b),
                            kind: TagKind::End,
                            xml: r#"<ept i="3">&lt;/b&gt;</ept>"#.to_owned(),
                        });
                    }
                    // Stable: a pair's end stays after its start at equal offsets.
                    tags.sort_by_key(|t| t.offset);
                    Segment {
                        lang: lang.clone(),
                        text,
                        tags,
                    }
                })
                // A segment with only white space and no tags is dropped by the reader.
                .prop_filter("segment must be usable", |s| {
                    !(s.text.trim().is_empty() && s.tags.is_empty())
                })
        }

        fn unit() -> impl Strategy<Value = TranslationUnit> {
            (
                "[a-z0-9-]{0,8}",
                0i64..4_102_444_800,
                proptest::collection::vec(("[a-z][a-z-]{0,6}", text()), 0..3),
                segment(Lang::en()),
                segment(Lang::zh()),
                proptest::option::of(segment(Lang::ru())),
            )
                .prop_map(|(id, seconds, metadata, en, zh, ru)| TranslationUnit {
                    id,
                    segments: std::iter::once(en)
                        .chain(std::iter::once(zh))
                        .chain(ru)
                        .collect(),
                    origin: String::new(),
                    created_ms: seconds * 1000,
                    metadata,
                })
        }

        /// Tags a client might send, sound and broken, for the check's property test.
        const MARKUP: &[&str] = &[
            "<ph/>",
            r#"<ph x="1">&lt;br/&gt;</ph>"#,
            r#"<bpt i="1">&lt;b&gt;</bpt>"#,
            r#"<ept i="1">&lt;/b&gt;</ept>"#,
            r#"<bpt i="2"/>"#,
            r#"<ept i="2"/>"#,
            r#"<it pos="begin">x</it>"#,
            "<hi>",
            r#"<hi type="b">"#,
            "</hi>",
            "<hi/>",
            "<ut>{1}</ut>",
            "<b>",
            "</b>",
            "<ph>",
            "<ph/><ph/>",
            "<ph />",
            " <ph/>",
            "<!--c--><ph/>",
            "<ph><!--c--></ph>",
            "<ph>&nbsp;</ph>",
            "<ph>a]]>b</ph>",
            "<hi>x",
            "text",
            "",
            "<",
        ];

        /// Mostly tags in text order with the markup of their kind (so that many units pass
        /// the check), sometimes any markup, kind or offset.
        fn client_unit() -> impl Strategy<Value = TranslationUnit> {
            let kinds = [
                TagKind::Begin,
                TagKind::End,
                TagKind::Placeholder,
                TagKind::Isolated,
                TagKind::HighlightStart,
                TagKind::HighlightEnd,
            ];
            let kind_of = |xml: &str| match xml.get(..3) {
                Some("<bp") => TagKind::Begin,
                Some("<ep") => TagKind::End,
                Some("<it") => TagKind::Isolated,
                Some("</h") => TagKind::HighlightEnd,
                Some("<hi") => TagKind::HighlightStart,
                _ => TagKind::Placeholder,
            };
            let tag = (
                any::<proptest::sample::Index>(),
                prop::sample::select(MARKUP),
                proptest::option::weighted(0.1, prop::sample::select(kinds.to_vec())),
            );
            (
                "[ab中 ]{0,5}",
                proptest::collection::vec(tag, 0..5),
                any::<bool>(),
                0usize..8,
            )
                .prop_map(move |(text, raw, sorted, stray)| {
                    let text = format!("{text}x");
                    let bounds: Vec<usize> = text
                        .char_indices()
                        .map(|(i, _)| i)
                        .chain([text.len()])
                        .collect();
                    let mut tags: Vec<(usize, TagKind, &str)> = raw
                        .into_iter()
                        .map(|(at, xml, kind)| {
                            (*at.get(&bounds), kind.unwrap_or_else(|| kind_of(xml)), xml)
                        })
                        .collect();
                    if sorted {
                        tags.sort_by_key(|t| t.0);
                    } else if let Some(first) = tags.first_mut() {
                        first.0 = stray;
                    }
                    tagged(&text, &tags)
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 3000,
                max_global_rejects: 100_000,
                ..ProptestConfig::default()
            })]

            /// Whatever a client sends, a unit that passes the check is written as
            /// well-formed TMX and read back unchanged.
            #[test]
            fn checked_units_write_and_read_back_unchanged(unit in client_unit()) {
                prop_assume!(check_tmx_unit(&unit).is_empty() && check_tmx_markup(&unit).is_empty());
                let mut out = Vec::new();
                write_tmx(&mut out, [&unit], "en").unwrap();
                let back: Vec<TranslationUnit> = TmxReader::new(&out[..])
                    .map(|r| r.map(|e| e.unit))
                    .collect::<Result<_, _>>()
                    .unwrap();
                prop_assert_eq!(back, vec![unit]);
            }
        }

        proptest! {
            #[test]
            fn written_units_read_back_unchanged(units in proptest::collection::vec(unit(), 1..4)) {
                for unit in &units {
                    prop_assert_eq!(check_tmx_unit(unit), []);
                    prop_assert_eq!(check_tmx_markup(unit), []);
                }
                let mut out = Vec::new();
                write_tmx(&mut out, units.iter(), "en").unwrap();
                let back: Vec<TranslationUnit> = TmxReader::new(&out[..])
                    .map(|r| r.map(|e| e.unit))
                    .collect::<Result<_, _>>()
                    .unwrap();
                prop_assert_eq!(back, units);
            }
        }
    }
}
