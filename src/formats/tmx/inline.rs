//! TMX inline codes (`bpt`, `ept`, `it`, `ph`, `ut`, `hi`) read out of a `<seg>`: kept out of
//! the text as [`InlineTag`]s holding the markup as written, at the byte offset where it stood.

use std::collections::HashMap;
use std::io::BufRead;

use crate::formats::xml::{Tag, XmlEvent, XmlPull};
use crate::formats::{FormatError, ReadWarning};
use crate::model::{InlineTag, Lang, Segment, TagKind};

/// Reads a `<seg>` whose start tag was just returned: text as is, inline markup as tags.
///
/// Paired codes must pair up: an `<ept>` closes an open `<bpt>` with the same `i`, and every
/// `<bpt>` is closed in the segment (TMX 1.4b, section 3.7.1). A segment that breaks this
/// records a rejection of its unit, naming the offending element; reading goes on.
pub(super) fn read_seg<R: BufRead>(
    xml: &mut XmlPull<R>,
    seg: &Tag,
    lang: &Lang,
    warnings: &mut Vec<ReadWarning>,
    rejection: &mut Option<FormatError>,
) -> Result<Segment, FormatError> {
    let mut text = String::new();
    let mut tags = Vec::new();
    let mut open_pairs = OpenPairs::default();
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
    if let Some(i) = open_pairs.first_open() {
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

/// The `<bpt>`s of a segment not yet closed by their `<ept>`: each `i` with the position of
/// its `<bpt>` among the segment's tags. A map, so that a segment of many codes pairs up in
/// linear time.
#[derive(Default)]
struct OpenPairs {
    open: HashMap<String, usize>,
    /// `<bpt>`s seen so far.
    opened: usize,
}

impl OpenPairs {
    /// The `i` of the earliest `<bpt>` still open.
    fn first_open(&self) -> Option<&str> {
        let (i, _) = self.open.iter().min_by_key(|(_, &at)| at)?;
        Some(i)
    }
}

/// Tracks `<bpt>`/`<ept>` pairing by their `i` attribute.
fn pair_up(tag: &Tag, kind: TagKind, open_pairs: &mut OpenPairs) -> Result<(), FormatError> {
    let i = tag.attr("i").unwrap_or("").to_owned();
    let open = &mut open_pairs.open;
    match kind {
        TagKind::Begin if open.contains_key(&i) => Err(FormatError::rejected(
            tag.line,
            tag.column,
            format!("<bpt i=\"{i}\"> opens a pair that is already open"),
        )),
        TagKind::Begin => {
            open.insert(i, open_pairs.opened);
            open_pairs.opened += 1;
            Ok(())
        }
        TagKind::End => match open.remove(&i) {
            Some(_) => Ok(()),
            None => Err(FormatError::rejected(
                tag.line,
                tag.column,
                format!("<ept i=\"{i}\"> closes no open <bpt i=\"{i}\">"),
            )),
        },
        _ => Ok(()),
    }
}

fn inline_kind(tag: &Tag, warnings: &mut Vec<ReadWarning>) -> TagKind {
    match tag.local() {
        "bpt" => TagKind::Begin,
        "ept" => TagKind::End,
        "it" => TagKind::Isolated,
        "ph" | "ut" => TagKind::Placeholder,
        other => {
            warnings.push(ReadWarning::new(
                tag.line,
                tag.column,
                format!("<{other}> is not TMX inline markup; kept as a placeholder"),
            ));
            TagKind::Placeholder
        }
    }
}

/// The start tag as written (attribute quoting and escapes kept).
pub(super) fn start_tag_xml(tag: &Tag, empty: bool) -> String {
    let raw = tag.raw.as_deref().unwrap_or(&tag.name);
    if empty {
        format!("<{raw}/>")
    } else {
        format!("<{raw}>")
    }
}

/// Appends the content and end tag of the element whose start was just returned, as written.
pub(super) fn copy_element<R: BufRead>(
    xml: &mut XmlPull<R>,
    out: &mut String,
) -> Result<(), FormatError> {
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
