//! Tests of the TBX reader and writer, through their public API and on in-memory files.

use crate::formats::{ConceptEntry, FormatError};
use crate::model::{Concept, Lang, LangSection, Term, TermStatus, TermType};

use super::id::{decode_id, encode_id};
use super::*;

fn read(tbx: &str) -> Vec<Result<ConceptEntry, FormatError>> {
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
    let entries: Vec<ConceptEntry> = read(&doc).into_iter().map(Result::unwrap).collect();
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
    let warning = &entry.warnings[0];
    assert_eq!((warning.line, warning.column), (5, 1));
    assert!(warning.message.contains("synonym"), "{warning}");
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
    let positions: Vec<(u64, u64)> = entry.warnings.iter().map(|w| (w.line, w.column)).collect();
    assert_eq!(positions, [(4, 22), (5, 1)], "{:?}", entry.warnings);
    assert!(
        entry.warnings[1].message.contains("grammaticalNumber"),
        "{}",
        entry.warnings[1]
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
    let mut bytes = v2("<termEntry id=\"x\"><langSet xml:lang=\"en\"><tig><term>ab").into_bytes();
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
    let doc = v3(
        "<conceptEntry id=\"c\"><langSec xml:lang=\"en\"><termSec><note>n</note>\n<term>t</term>\
                      </termSec></langSec></conceptEntry>",
    );
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

fn read_bytes(bytes: &[u8]) -> Vec<Result<ConceptEntry, FormatError>> {
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
