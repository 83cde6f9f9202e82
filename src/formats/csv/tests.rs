//! Tests of the glossary reader and writer, on in-memory files.

use crate::formats::{ConceptEntry, FormatError};
use crate::model::{Concept, Lang, LangSection, Term, TermStatus, TermType};

use super::*;

fn read(text: &str) -> Vec<Result<ConceptEntry, FormatError>> {
    CsvReader::new(text.as_bytes()).collect()
}

fn concepts(text: &str) -> Vec<Concept> {
    read(text)
        .into_iter()
        .map(|r| r.expect("row should be read").concept)
        .collect()
}

#[test]
fn language_columns_and_optional_fields() {
    let csv = "id,zh-CN,ru,en-US,status,note,subject_field,part_of_speech,definition\n\
                   sco,上海合作组织,Шанхайская организация сотрудничества,Shanghai Cooperation Organisation,preferred,\"since 2001, Beijing\",SCO,noun,An organisation.\n";
    let c = concepts(csv).remove(0);
    assert_eq!(c.id, "sco");
    assert_eq!(c.subject_field, "SCO");
    assert_eq!(c.notes, vec!["since 2001, Beijing"]);
    let langs: Vec<&str> = c.langs.iter().map(|s| s.lang.as_str()).collect();
    assert_eq!(langs, vec!["zh", "ru", "en-US"]);
    assert_eq!(c.langs[0].definition, "An organisation.");
    for section in &c.langs {
        assert_eq!(section.terms.len(), 1);
        assert_eq!(section.terms[0].status, TermStatus::Preferred);
        assert_eq!(section.terms[0].part_of_speech, "noun");
    }
}

#[test]
fn tab_delimiter_is_detected_and_empty_cells_are_no_terms() {
    let c = concepts("zh\tru\ten\n\tдух\tspirit\n").remove(0);
    assert_eq!(c.id, "row-1");
    assert_eq!(c.langs.len(), 2);
    assert_eq!(c.langs[0].lang, Lang::ru());
}

#[test]
fn explicit_delimiter_wins_over_detection() {
    let options = CsvOptions {
        delimiter: Some(b';'),
        ..CsvOptions::default()
    };
    let entries: Vec<_> = CsvReader::with_options("en;ru\na,b;б\n".as_bytes(), options)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries[0].concept.langs[0].terms[0].text, "a,b");
}

#[test]
fn alternative_column_names() {
    let c = concepts("ID,en,ru,Status,Subject,POS,Notes\nx,a,б,deprecated,s,verb,n\n").remove(0);
    assert_eq!((c.id.as_str(), c.subject_field.as_str()), ("x", "s"));
    assert_eq!(c.langs[0].terms[0].status, TermStatus::Deprecated);
    assert_eq!(c.langs[0].terms[0].part_of_speech, "verb");
    assert_eq!(c.notes, vec!["n"]);
}

#[test]
fn status_values() {
    for (value, want) in [
        ("preferred", TermStatus::Preferred),
        ("admitted", TermStatus::Admitted),
        ("deprecated", TermStatus::Deprecated),
        ("forbidden", TermStatus::Forbidden),
        ("deprecatedTerm-admn-sts", TermStatus::Deprecated),
        ("superseded", TermStatus::Superseded),
        ("supersededTerm-admn-sts", TermStatus::Superseded),
        ("", TermStatus::Admitted),
    ] {
        let c = concepts(&format!("en,status\nx,{value}\n")).remove(0);
        assert_eq!(c.langs[0].terms[0].status, want, "{value:?}");
    }
    let entry = read("en,status\nx,maybe\n").remove(0).unwrap();
    assert_eq!(entry.concept.langs[0].terms[0].status, TermStatus::Admitted);
    let warning = &entry.warnings[0];
    assert_eq!((warning.line, warning.column), (2, 1));
    assert!(warning.message.contains("maybe"), "{warning}");
    let no_column = concepts("zh,en\n上海合作组织,Shanghai Cooperation Organization\n");
    let statuses: Vec<TermStatus> = no_column[0].terms().map(|(_, t)| t.status).collect();
    assert_eq!(statuses, [TermStatus::Admitted, TermStatus::Admitted]);
}

#[test]
fn pair_rows_name_their_languages() {
    let csv = "stringID,sourceLang,targetLang,pos,description,sourceString,targetString\n\
                   1,en,zh-CN,noun,Cases confirmed by testing.,confirmed cases,确诊病例\n\
                   2,en,ru_RU,,,1918 flu,грипп 1918 года\n\
                   3,english,ru,,,x,y\n";
    let results = read(csv);
    let first = &results[0].as_ref().unwrap().concept;
    assert_eq!(first.id, "1");
    assert_eq!(first.langs[0].lang, Lang::en());
    assert_eq!(first.langs[0].definition, "Cases confirmed by testing.");
    assert_eq!(first.langs[1].lang, Lang::zh());
    assert_eq!(first.langs[1].terms[0].text, "确诊病例");
    assert_eq!(first.langs[1].terms[0].part_of_speech, "noun");
    assert_eq!(
        results[1].as_ref().unwrap().concept.langs[1].lang.as_str(),
        "ru-RU"
    );
    assert!(matches!(
        results[2],
        Err(FormatError::Rejected {
            line: 4,
            column: 1,
            ..
        })
    ));
}

#[test]
fn row_without_terms_is_rejected_with_its_line_and_reading_continues() {
    let results = read("id,en,ru\na,x,\nb,,\nc,,y\n");
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(FormatError::Rejected {
            line: 3,
            column: 1,
            ..
        })
    ));
    assert_eq!(results[2].as_ref().unwrap().concept.id, "c");
}

#[test]
fn quoted_fields_may_span_lines_and_report_their_first_line() {
    let results = read("en,note\n\"multi\nline\",n\nnext,\n");
    assert_eq!(
        results[0].as_ref().unwrap().concept.langs[0].terms[0].text,
        "multi\nline"
    );
    assert_eq!(results[1].as_ref().unwrap().line, 4);
}

#[test]
fn unknown_columns_become_notes_with_one_warning() {
    let results =
        read("alpha_2,name_kind,en,ru\nAW,name,Aruba,Аруба\nAF,name,Afghanistan,Афганистан\n");
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.concept.notes, vec!["alpha_2: AW", "name_kind: name"]);
    assert_eq!(first.warnings.len(), 2);
    assert!(
        first.warnings.iter().all(|w| (w.line, w.column) == (1, 1)),
        "{:?}",
        first.warnings
    );
    assert!(results[1].as_ref().unwrap().warnings.is_empty());
}

#[test]
fn header_without_languages_is_fatal() {
    let results = read("term,translation\nquestion,csv q\n");
    assert_eq!(results.len(), 1);
    assert!(matches!(
        results[0],
        Err(FormatError::Malformed { line: 1, .. })
    ));
}

#[test]
fn headerless_files_take_columns_and_comments_from_options() {
    let options = CsvOptions {
        delimiter: None,
        columns: Some(vec!["ja".into(), "fr".into(), "note".into()]),
        comment: Some(b'#'),
    };
    let text = "# coding: utf-8\n地球システム\tSystem Terre\thttps://fr.wikipedia.org\n";
    let entries: Vec<_> = CsvReader::with_options(text.as_bytes(), options)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].line, 2);
    assert_eq!(entries[0].concept.notes, vec!["https://fr.wikipedia.org"]);
}

#[test]
fn empty_file_has_no_rows() {
    assert!(read("").is_empty());
}

#[test]
fn encodings_bom_and_utf16() {
    let text = "en\tru\nhedgehog\tёж\n";
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend_from_slice(text.as_bytes());
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    for bytes in [utf8_bom, le, be] {
        let entry = CsvReader::new(&bytes[..]).next().unwrap().unwrap();
        assert_eq!(entry.concept.langs[1].terms[0].text, "ёж");
        assert_eq!(
            entry.concept.langs[0].lang,
            Lang::en(),
            "BOM must not stick to the header"
        );
    }
}

#[test]
fn invalid_utf8_is_malformed_with_line_and_column() {
    let results: Vec<_> = CsvReader::new(&b"en,ru\nok,\xD0\xB4\nbad,\xD0x\n"[..]).collect();
    assert!(results[0].is_ok());
    match &results[1] {
        Err(FormatError::Malformed { line, column, .. }) => {
            assert_eq!((*line, *column), (3, 5))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(results.len(), 2);
}

#[test]
fn written_glossary_reads_back_with_every_term_and_field() {
    let mut short = Term::with_status("上合", TermStatus::Admitted);
    short.term_type = TermType::Abbreviation;
    short.note = "colloquial,\n\"short\"".to_owned();
    let mut full = Term::preferred("上海合作组织");
    full.part_of_speech = "noun".to_owned();
    full.source = "宪章".to_owned();
    full.context = "上海合作组织成立于2001年。".to_owned();
    let sco = Concept {
        id: "sco".to_owned(),
        collection: String::new(),
        subject_field: "SCO, institutions".to_owned(),
        source: "sco.int".to_owned(),
        notes: vec!["first \"note\"".to_owned(), "second".to_owned()],
        cross_refs: vec!["sco-charter".to_owned(), "rats".to_owned()],
        langs: vec![
            LangSection {
                lang: Lang::zh(),
                definition: "定义".to_owned(),
                notes: vec!["用法".to_owned()],
                terms: vec![short, full],
            },
            LangSection {
                lang: Lang::ru(),
                definition: String::new(),
                notes: Vec::new(),
                terms: vec![
                    Term::preferred("ШОС"),
                    Term::with_status("Шанхайский пакт", TermStatus::Forbidden),
                    Term::with_status("ШОС-6", TermStatus::Deprecated),
                ],
            },
        ],
        created_ms: 0,
        updated_ms: 0,
        revision: 0,
    };
    let next = Concept {
        id: "next".to_owned(),
        langs: vec![LangSection {
            lang: Lang::en(),
            definition: String::new(),
            notes: Vec::new(),
            terms: vec![Term::preferred("next")],
        }],
        cross_refs: Vec::new(),
        notes: Vec::new(),
        ..sco.clone()
    };
    for delimiter in [b',', b'\t'] {
        let mut out = Vec::new();
        write_csv(
            &mut out,
            [&sco, &next],
            &[Lang::zh(), Lang::ru(), Lang::en()],
            delimiter,
        )
        .unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text.lines().filter(|l| l.starts_with("sco")).count(),
            3,
            "one row per term of the largest section: {text}"
        );
        let back: Vec<ConceptEntry> = CsvReader::new(&out[..]).map(|e| e.unwrap()).collect();
        assert_eq!(back.len(), 2, "{text}");
        assert_eq!(back[0].concept, sco);
        assert_eq!(back[0].line, 2, "a concept is reported at its first row");
        assert!(back[0].warnings.is_empty(), "{:?}", back[0].warnings);
        assert_eq!(back[1].concept, next);
    }
}

#[test]
fn rows_with_the_same_id_make_one_concept_and_errors_keep_their_order() {
    let results = read(
        "id,en,en:status,ru\n\
             a,one,preferred,один\n\
             a,uno,deprecated,\n\
             b,,,\n\
             c,three,,\n",
    );
    let a = &results[0].as_ref().unwrap().concept;
    assert_eq!(a.langs[0].terms.len(), 2);
    assert_eq!(a.langs[0].terms[1].status, TermStatus::Deprecated);
    assert_eq!(a.langs[1].terms.len(), 1);
    assert!(matches!(
        results[1],
        Err(FormatError::Rejected { line: 4, .. })
    ));
    assert_eq!(results[2].as_ref().unwrap().concept.id, "c");
    assert_eq!(results.len(), 3);
    // Rows without an id are never joined.
    assert_eq!(read("en\nx\nx\n").len(), 2);
}

/// The one fatal error of a file, with its position and reason.
fn refusal(text: &str) -> (u64, u64, String) {
    let errors: Vec<FormatError> = read(text).into_iter().filter_map(Result::err).collect();
    match errors.as_slice() {
        [FormatError::Malformed {
            line,
            column,
            reason,
        }] => (*line, *column, reason.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_row_past_the_limit_is_refused_as_it_arrives() {
    use crate::formats::limits::MAX_RUN_BYTES;
    let field = "слово ".repeat(MAX_RUN_BYTES as usize / 11 * 2);
    let csv = format!("id,en,ru\nsco,SCO,\"{field}\"\nbri,BRI,Пояс\n");
    let (line, _, reason) = refusal(&csv);
    assert_eq!(line, 2);
    assert!(
        reason.contains("row longer than the limit of 1 MiB"),
        "{reason}"
    );
    // A row just under the limit is read.
    let field = "a".repeat(MAX_RUN_BYTES as usize - 64 * 1024);
    let rows = read(&format!("en,ru\nSCO,{field}\n"));
    assert!(matches!(rows.as_slice(), [Ok(_)]), "{}", rows.len());
}

#[test]
fn a_header_of_too_many_columns_is_refused() {
    use crate::formats::limits::MAX_COLUMNS;
    let header: Vec<String> = (0..=MAX_COLUMNS).map(|i| format!("en-x{i:07}")).collect();
    let (line, column, reason) = refusal(&format!("{}\n", header.join(",")));
    assert_eq!((line, column), (1, 1));
    assert!(reason.contains("more than the limit of 512"), "{reason}");
}

#[test]
fn the_rows_of_one_concept_are_bounded_together() {
    use crate::formats::limits::MAX_ENTRY_BYTES;
    let row = format!("sco,{}\n", "a".repeat(1000));
    let rows = row.repeat(MAX_ENTRY_BYTES as usize / row.len() + 2);
    let (line, _, reason) = refusal(&format!("id,en\n{rows}"));
    assert_eq!(line, 2, "the concept's first row");
    assert!(reason.contains("rows of concept \"sco\""), "{reason}");
}

#[test]
fn cross_references_repeated_over_rows_are_kept_once_in_order() {
    let csv = "id,en,cross_refs\nc,a,\"x\ny\"\nc,b,\"y\nz\nx\"\n";
    assert_eq!(concepts(csv)[0].cross_refs, vec!["x", "y", "z"]);
}
