//! Translation-memory units: the same sentence in several languages, aligned.

use serde::{Deserialize, Serialize};

use super::Lang;

/// What kind of inline markup a tag stands for, after TMX's inline elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TagKind {
    /// `<bpt>`: opening half of a paired native code.
    Begin,
    /// `<ept>`: closing half of a paired native code.
    End,
    /// `<ph>`: a standalone native code.
    Placeholder,
    /// `<it>`: an isolated code whose partner is outside the segment.
    Isolated,
    /// `<hi>` opening: highlighted text follows.
    HighlightStart,
    /// `</hi>`: end of highlighted text.
    HighlightEnd,
}

/// Inline markup kept out of the text so that it never counts as a difference, but written
/// back exactly where it stood.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineTag {
    /// Byte offset in the segment's text where the tag stands.
    pub offset: usize,
    /// What the tag is.
    pub kind: TagKind,
    /// The tag as serialized XML, native code included, for writing it back unchanged.
    pub xml: String,
}

/// A segment: the unit's text in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The language of the text.
    pub lang: Lang,
    /// Plain text with inline markup removed.
    pub text: String,
    /// Inline markup, in text order.
    pub tags: Vec<InlineTag>,
}

/// One translation unit: aligned segments in two or more languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationUnit {
    /// Identifier given by the origin (TMX `tuid`) or assigned by the server.
    pub id: String,
    /// The segments, one per language.
    pub segments: Vec<Segment>,
    /// Where the unit came from (file name, import id).
    pub origin: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// Free metadata (`<prop type=…>` in TMX).
    pub metadata: Vec<(String, String)>,
}

impl TranslationUnit {
    /// The segment in `lang`, if the unit has one.
    pub fn segment(&self, lang: &Lang) -> Option<&Segment> {
        self.segments.iter().find(|s| s.lang.accepts(lang))
    }
}

/// The string at the start of postcard-encoded bytes (a varint length, then UTF-8), and the
/// bytes after it. Postcard encodes every stored record, a struct as its fields in order: this
/// reads a unit's id (its first field) or a spooled entry's memory without decoding the rest.
pub fn encoded_str(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let mut length = 0usize;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        length |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let rest = bytes.get(i + 1..)?;
            let text = rest.get(..length)?;
            return Some((std::str::from_utf8(text).ok()?, &rest[length..]));
        }
    }
    None
}
