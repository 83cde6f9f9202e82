//! The XLIFF reader, for checking translations: the source and target text of each
//! translation unit of XLIFF 1.2 (`<file><body><trans-unit><source>/<target>`) and of each
//! segment of XLIFF 2.x (`<file><unit><segment><source>/<target>`), with the languages the
//! document names (`source-language`/`target-language` on `<file>` in 1.2,
//! `srcLang`/`trgLang` on `<xliff>` in 2.x).
//!
//! Inline markup is reduced to the text it carries: the content of `<g>`, `<mrk>`, `<pc>` is
//! text; `<ph>`, `<bpt>`, `<ept>`, `<it>` hold native codes of the original format and are
//! dropped, as are the empty codes (`<x/>`, `<bx/>`, `<ex/>`, `<sc/>`, `<ec/>`); `<cp
//! hex="…"/>` stands for its character. Alternative translations (`<alt-trans>`), notes and
//! 2.x `<ignorable>` parts are not segments. Reading goes through the shared XML layer, so
//! every file is held to the same safety rules and limits as TBX and TMX
//! ([`limits`](super::limits)): a malformed or hostile file is an error at its line and column.

use std::io::BufRead;

use crate::formats::xml::{local_name, LazyXml, Tag, XmlEvent, XmlPull};
use crate::formats::FormatError;
use crate::model::Lang;

#[cfg(test)]
mod tests;

/// One segment read from an XLIFF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XliffSegment {
    /// The unit's id (1.2 `trans-unit@id`, 2.x `unit@id`), with the segment's id or position
    /// after a `/` for a 2.x unit of several segments.
    pub id: String,
    /// The source text, inline codes removed.
    pub source: String,
    /// The target text; empty when the unit has no target yet.
    pub target: String,
    /// The source language the document names, if it names a valid one.
    pub source_lang: Option<Lang>,
    /// The target language the document names, if it names a valid one.
    pub target_lang: Option<Lang>,
    /// Line of the unit's (1.2) or segment's (2.x) start tag (1-based).
    pub line: u64,
    /// Column of that start tag (1-based).
    pub column: u64,
}

/// Which XLIFF the root element declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    /// 1.x: `<trans-unit>`, languages on `<file>`.
    One,
    /// 2.x: `<unit><segment>`, languages on `<xliff>`.
    Two,
}

/// Reads the segments of an XLIFF 1.2 or 2.x file one at a time.
///
/// Yields `Ok` for each segment with a source; [`FormatError::Rejected`] for one without,
/// after which it continues; and at most one fatal error, after which it ends: a file that is
/// not well-formed, not XLIFF, or past a limit.
///
/// ```
/// use tolmach::formats::XliffReader;
///
/// let xliff = r#"<xliff version="1.2"><file source-language="zh" target-language="ru"
///   datatype="plaintext" original="a.txt"><body>
///   <trans-unit id="1"><source>上海精神<x id="1"/></source>
///   <target>Шанхайский <g id="2">дух</g></target></trans-unit></body></file></xliff>"#;
/// let segment = XliffReader::new(xliff.as_bytes()).next().unwrap().unwrap();
/// assert_eq!(segment.id, "1");
/// assert_eq!(segment.source, "上海精神");
/// assert_eq!(segment.target, "Шанхайский дух");
/// assert_eq!(segment.target_lang.unwrap().as_str(), "ru");
/// ```
pub struct XliffReader<R: BufRead> {
    state: LazyXml<R>,
    version: Version,
    source_lang: Option<Lang>,
    target_lang: Option<Lang>,
    /// The 2.x unit being read: its id and how many segments it has given.
    unit: Option<(String, usize)>,
}

impl<R: BufRead> XliffReader<R> {
    /// A reader over `input`. Nothing is read until the first call to `next`.
    pub fn new(input: R) -> XliffReader<R> {
        XliffReader {
            state: LazyXml::Unopened(input),
            version: Version::One,
            source_lang: None,
            target_lang: None,
            unit: None,
        }
    }

    fn read_next(&mut self) -> Result<Option<XliffSegment>, FormatError> {
        let Some((xml, root)) = self.state.parser(false, check_root)? else {
            return Ok(None);
        };
        if let Some(root) = root {
            self.version = version_of(&root);
            if self.version == Version::Two {
                self.source_lang = lang_attr(&root, "srcLang");
                self.target_lang = lang_attr(&root, "trgLang");
            }
        }
        loop {
            match xml.next()? {
                XmlEvent::Start(tag) | XmlEvent::Empty(tag)
                    if tag.local() == "file" && self.version == Version::One =>
                {
                    self.source_lang = lang_attr(&tag, "source-language");
                    self.target_lang = lang_attr(&tag, "target-language");
                }
                XmlEvent::Start(tag) if tag.local() == "unit" && self.version == Version::Two => {
                    self.unit = Some((tag.attr("id").unwrap_or_default().to_owned(), 0));
                }
                XmlEvent::End(name)
                    if local_name(&name) == "unit" && self.version == Version::Two =>
                {
                    self.unit = None;
                }
                XmlEvent::Start(tag) if is_segment(&tag, self.version) => {
                    let id = match (&mut self.unit, self.version) {
                        (Some((unit, count)), Version::Two) => {
                            *count += 1;
                            match tag.attr("id") {
                                Some(segment) => format!("{unit}/{segment}"),
                                None if *count == 1 => unit.clone(),
                                None => format!("{unit}/{count}"),
                            }
                        }
                        _ => tag.attr("id").unwrap_or_default().to_owned(),
                    };
                    xml.begin_entry(&tag);
                    let texts = read_segment(xml);
                    xml.end_entry();
                    let (source, target) = texts?;
                    let source = source.ok_or_else(|| {
                        FormatError::rejected(tag.line, tag.column, "a segment without <source>")
                    })?;
                    return Ok(Some(XliffSegment {
                        id,
                        source,
                        target: target.unwrap_or_default(),
                        source_lang: self.source_lang.clone(),
                        target_lang: self.target_lang.clone(),
                        line: tag.line,
                        column: tag.column,
                    }));
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

impl<R: BufRead> Iterator for XliffReader<R> {
    type Item = Result<XliffSegment, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.read_next() {
            Ok(Some(segment)) => Some(Ok(segment)),
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

fn check_root(root: Tag) -> Result<Tag, FormatError> {
    if root.local() == "xliff" {
        return Ok(root);
    }
    Err(FormatError::malformed(
        root.line,
        root.column,
        format!(
            "not an XLIFF file: the root element is <{}>, expected <xliff>",
            root.name
        ),
    ))
}

/// 2.x when the root's `version` starts with 2 or its namespace is the 2.0 one; else 1.x.
fn version_of(root: &Tag) -> Version {
    let two = root.attr("version").is_some_and(|v| v.starts_with('2'))
        || root
            .attr("xmlns")
            .is_some_and(|ns| ns.contains("xliff:document:2"));
    if two {
        Version::Two
    } else {
        Version::One
    }
}

fn lang_attr(tag: &Tag, name: &str) -> Option<Lang> {
    tag.attr(name).and_then(|tag| Lang::parse(tag.trim()).ok())
}

fn is_segment(tag: &Tag, version: Version) -> bool {
    match version {
        Version::One => tag.local() == "trans-unit",
        Version::Two => tag.local() == "segment",
    }
}

/// Reads a segment (1.2 `<trans-unit>`, 2.x `<segment>`) whose start was just returned,
/// through its end: its `<source>` and `<target>` text, if it has them.
fn read_segment<R: BufRead>(
    xml: &mut XmlPull<R>,
) -> Result<(Option<String>, Option<String>), FormatError> {
    let (mut source, mut target) = (None, None);
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) => match tag.local() {
                "source" if source.is_none() => source = Some(inline_text(xml)?),
                "target" if target.is_none() => target = Some(inline_text(xml)?),
                // Alternative translations, notes, segmented copies, anything else.
                _ => xml.skip_element()?,
            },
            XmlEvent::Empty(tag) => match tag.local() {
                "source" if source.is_none() => source = Some(String::new()),
                "target" if target.is_none() => target = Some(String::new()),
                _ => {}
            },
            XmlEvent::End(_) | XmlEvent::Eof => return Ok((source, target)),
            XmlEvent::Text(_) => {}
        }
    }
}

/// The text of the element whose start was just returned, through its end: text and the
/// content of text-carrying inline elements, native codes dropped, `<cp/>` decoded.
fn inline_text<R: BufRead>(xml: &mut XmlPull<R>) -> Result<String, FormatError> {
    let mut text = String::new();
    let mut depth = 1usize;
    loop {
        match xml.next()? {
            XmlEvent::Start(tag) if is_native_code(&tag) => xml.skip_element()?,
            XmlEvent::Start(_) => depth += 1,
            XmlEvent::Empty(tag) if tag.local() == "cp" => {
                let code = tag
                    .attr("hex")
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                if let Some(c) = code {
                    text.push(c);
                }
            }
            XmlEvent::Empty(_) => {}
            XmlEvent::Text(piece) => text.push_str(piece.text()),
            XmlEvent::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return Ok(text);
                }
            }
            XmlEvent::Eof => return Ok(text),
        }
    }
}

/// Inline elements whose content is code of the original format, not text.
fn is_native_code(tag: &Tag) -> bool {
    matches!(tag.local(), "ph" | "bpt" | "ept" | "it")
}
