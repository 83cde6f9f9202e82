//! Checks of a unit that did not come from the reader (the API's): whether
//! [`write_tmx`](super::write_tmx) can write it, and whether its inline markup would read back as
//! the same tags.

use std::collections::HashMap;

use crate::formats::xml::{is_xml_char, is_xml_space, local_name, Tag, XmlEvent, XmlPull};
use crate::formats::FormatError;
use crate::model::{InlineTag, TagKind, TranslationUnit};

use super::inline::{copy_element, start_tag_xml};

/// Something in a unit that [`write_tmx`](super::write_tmx) could not write, or that would not read
/// back as written; found by [`check_tmx_unit`] and [`check_tmx_markup`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmxProblem {
    /// The field at fault, as a path inside the unit: `segments[1].tags[2].xml`.
    pub field: String,
    /// Why, as a sentence fragment: `is not on a character boundary of the text`.
    pub reason: String,
}

/// Checks that [`write_tmx`](super::write_tmx) can write `unit`: the id, metadata and segment texts
/// hold only characters XML 1.0 can carry, and inline tag offsets are byte offsets of their text,
/// on character boundaries, in text order (each at or after the one before). Cheap: no tag is
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

/// Checks that each inline tag's `xml` is what [`TmxReader`](super::TmxReader) makes of TMX inline
/// markup of its kind, so that [`write_tmx`](super::write_tmx) writes well-formed XML that reads
/// back as the same tag. The markup must be written as the reader writes it (start tags as in the
/// file but without space before `>` or `/>`, end tags `</name>`, no comments), and have the one
/// shape the reader gives its kind:
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
        .find(|c| !is_xml_char(*c))
        .map(|c| format!("U+{:04X} cannot appear in XML 1.0", u32::from(c)))
}

/// The markup problems of one segment's tags (see [`check_tmx_markup`]) as tag index and
/// reason, in tag order.
fn markup_problems(tags: &[InlineTag]) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    // Tag index of every `<bpt>` not yet closed, by `i` (a map: linear in the tags); names
    // and indexes of open `<hi>`s.
    let mut open_pairs: HashMap<String, usize> = HashMap::new();
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
                    TagKind::Begin if open_pairs.contains_key(&i) => {
                        Err(format!("<bpt i=\"{i}\"> opens a pair that is already open"))
                    }
                    TagKind::Begin => {
                        open_pairs.insert(i, index);
                        Ok(())
                    }
                    TagKind::End => match open_pairs.remove(&i) {
                        Some(_) => Ok(()),
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
        .take_while(|c| !is_xml_space(*c) && !matches!(c, '>' | '/'))
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
    if named && local_name(name) == "hi" {
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
