//! The TMX reader: the document around the units, each `<tu>`, its `<tuv>`s and their
//! properties and notes. The markup inside a `<seg>` is `inline`'s.

use std::io::BufRead;

use crate::formats::xml::{LazyXml, Tag, XmlEvent, XmlPull};
use crate::formats::{FormatError, ReadWarning};
use crate::model::violation::MAX_SEGMENTS;
use crate::model::{Lang, Segment, TranslationUnit};

use super::date::parse_tmx_date;
use super::inline::read_seg;
use super::TmxEntry;

/// Reads the translation units of a TMX file one `<tu>` at a time.
///
/// Yields `Ok` for each usable unit; [`FormatError::Rejected`] for a unit with an invalid or
/// missing language or fewer than two usable segments, after which it continues; and at most
/// one fatal error, after which it ends: a malformed file, or one past a limit, such as a
/// unit of more `<tuv>` than [`MAX_SEGMENTS`] (refused at the first one past it).
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
    state: LazyXml<R>,
    /// The header's `srclang`, unless it is `*all*`.
    srclang: Option<Lang>,
    /// The attribute this document names `<tuv>` languages with (`xml:lang` in TMX 1.4,
    /// `lang` before), set by its first `<tuv>`.
    lang_attr: Option<&'static str>,
}

impl<R: BufRead> TmxReader<R> {
    /// A reader over `input`. Nothing is read until the first call to `next`; an unsupported
    /// encoding is reported there.
    pub fn new(input: R) -> TmxReader<R> {
        TmxReader {
            state: LazyXml::Unopened(input),
            srclang: None,
            lang_attr: None,
        }
    }

    /// The header's source language, once the header has been read (`None` for `*all*`).
    pub fn srclang(&self) -> Option<&Lang> {
        self.srclang.as_ref()
    }

    fn read_next(&mut self) -> Result<Option<TmxEntry>, FormatError> {
        let Some((xml, _)) = self.state.parser(true, check_root)? else {
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
                    xml.begin_entry(&tag);
                    let entry = read_tu(xml, &tag, self.srclang.as_ref(), &mut self.lang_attr);
                    xml.end_entry();
                    return entry.map(Some);
                }
                XmlEvent::Empty(tag) if tag.local() == "tu" => {
                    return Err(FormatError::rejected(
                        tag.line,
                        tag.column,
                        "<tu> has no <tuv>",
                    ));
                }
                XmlEvent::Eof => {
                    self.state = LazyXml::Done;
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
                    self.state = LazyXml::Done;
                }
                Some(Err(e))
            }
        }
    }
}

/// Refuses a file whose root element is not `<tmx>`.
fn check_root(root: Tag) -> Result<(), FormatError> {
    if root.local() == "tmx" {
        return Ok(());
    }
    Err(FormatError::malformed(
        root.line,
        root.column,
        format!(
            "not a TMX file: the root element is <{}>, expected <tmx>",
            root.name
        ),
    ))
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
    let mut tuvs = 0usize;
    let created_ms = match start.attr("creationdate") {
        None => 0,
        Some(date) => parse_tmx_date(date).unwrap_or_else(|| {
            warnings.push(ReadWarning::new(
                start.line,
                start.column,
                format!("creationdate {date:?} is not YYYYMMDDThhmmssZ; ignored"),
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
                    tuvs += 1;
                    if tuvs > MAX_SEGMENTS {
                        return Err(too_many_tuvs(&tag));
                    }
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
                        warnings.push(ReadWarning::new(
                            tag.line,
                            tag.column,
                            format!("second <tuv> in {} dropped", segment.lang),
                        ));
                    } else {
                        segments.push(segment);
                    }
                }
                other => {
                    warnings.push(ReadWarning::new(
                        tag.line,
                        tag.column,
                        format!("<{other}> in <tu> ignored"),
                    ));
                    xml.skip_element()?;
                }
            },
            XmlEvent::Empty(tag) => {
                if tag.local() == "tuv" {
                    tuvs += 1;
                    if tuvs > MAX_SEGMENTS {
                        return Err(too_many_tuvs(&tag));
                    }
                    if let Err(err) = tuv_lang(&tag, lang_attr) {
                        rejection.get_or_insert(err);
                    } else {
                        warnings.push(ReadWarning::new(
                            tag.line,
                            tag.column,
                            "<tuv> without <seg> dropped",
                        ));
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

/// The fatal error for a `<tu>` at its first `<tuv>` past [`MAX_SEGMENTS`]: refused there,
/// as it passes the limit, rather than after skipping what may be millions more.
fn too_many_tuvs(tag: &Tag) -> FormatError {
    FormatError::malformed(
        tag.line,
        tag.column,
        format!("<tu> has more than {MAX_SEGMENTS} <tuv>, the limit for one unit"),
    )
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
    warnings: &mut Vec<ReadWarning>,
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
                    warnings.push(ReadWarning::new(
                        tag.line,
                        tag.column,
                        format!("<{other}> in <tuv> ignored"),
                    ));
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
            warnings.push(ReadWarning::new(
                start.line,
                start.column,
                "<tuv> without <seg> dropped",
            ));
            Ok(None)
        }
        Some(s) if s.text.trim().is_empty() && s.tags.is_empty() => {
            warnings.push(ReadWarning::new(
                start.line,
                start.column,
                format!("empty <seg> in {lang} dropped"),
            ));
            Ok(None)
        }
        Some(s) => Ok(Some(s)),
    }
}
