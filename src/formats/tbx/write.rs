//! The TBX writer: TBX v3 TBX-Basic (DCA style) and TBX 2008 (`martif`).

use std::borrow::Borrow;
use std::io::Write;

use crate::formats::xml::{check_writable, escape_attr, escape_text};
use crate::formats::FormatError;
use crate::model::{Concept, TermStatus};

use super::dialect::PART_OF_SPEECH_VALUES;
use super::id::encode_id;
use super::status::{status_value, term_type_value, FORBIDDEN_NOTE, POS_NOTE_PREFIX};

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
/// (TBX-Basic has no value for it), which [`TbxReader`](super::TbxReader) reads back as
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
    escape_text(text, buf);
    buf.push_str("</");
    buf.push_str(name);
    buf.push_str(">\n");
}

/// The lines of a multi-line field, each written as its own element.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(str::trim).filter(|l| !l.is_empty())
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
        check_writable(field, what)?;
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
    escape_attr(&encode_id(&concept.id), buf);
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
