//! The TMX writer: TMX 1.4b, inline tags put back at their offsets.

use std::borrow::Borrow;
use std::io::Write;

use crate::formats::xml::{check_writable, escape_attr, escape_text, is_xml_char};
use crate::formats::FormatError;
use crate::model::{Segment, TranslationUnit};

use super::date::format_tmx_date;

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
    if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
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
