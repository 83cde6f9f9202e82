//! The XLIFF reader on small documents of both versions, and on broken and hostile ones.

use super::*;

fn read_all(xliff: &str) -> Vec<Result<XliffSegment, FormatError>> {
    XliffReader::new(xliff.as_bytes()).collect()
}

fn segments(xliff: &str) -> Vec<XliffSegment> {
    read_all(xliff)
        .into_iter()
        .map(|s| s.expect("a segment"))
        .collect()
}

#[test]
fn xliff_1_2_units_give_source_target_and_file_languages() {
    let xliff = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
 <file source-language="zh-CN" target-language="ru" datatype="plaintext" original="a">
  <body>
   <group id="g">
    <trans-unit id="u1">
     <source>习近平<ph id="1">&lt;br/&gt;</ph>主席</source>
     <seg-source><mrk mtype="seg" mid="1">习近平主席</mrk></seg-source>
     <target>Председатель <g id="2">КНР</g> Си Цзиньпин</target>
     <alt-trans><source>x</source><target>не это</target></alt-trans>
     <note>примечание</note>
    </trans-unit>
   </group>
   <trans-unit id="u2"><source>上海精神</source></trans-unit>
  </body>
 </file>
</xliff>"#;
    let found = segments(xliff);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].id, "u1");
    assert_eq!(found[0].source, "习近平主席");
    assert_eq!(found[0].target, "Председатель КНР Си Цзиньпин");
    assert_eq!(found[0].source_lang.as_ref().map(Lang::as_str), Some("zh"));
    assert_eq!(found[0].target_lang.as_ref().map(Lang::as_str), Some("ru"));
    assert_eq!((found[0].line, found[0].column), (6, 5));
    assert_eq!(found[1].target, "", "a unit without a target yet");
}

#[test]
fn xliff_2_segments_take_languages_from_the_root_and_ids_from_their_unit() {
    let xliff = r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0"
  srcLang="en" trgLang="ru">
 <file id="f1">
  <unit id="1">
   <segment><source>The <pc id="1">SCO</pc> summit<ph id="2"/></source>
    <target>Саммит <pc id="1">ШОС</pc></target></segment>
   <ignorable><source> </source></ignorable>
   <segment id="s2"><source>A<cp hex="00A0"/>B</source><target>А Б</target></segment>
  </unit>
  <unit id="2"><segment><source>x</source><target>y</target></segment>
   <segment><source>z</source></segment></unit>
 </file>
</xliff>"#;
    let found = segments(xliff);
    let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1", "1/s2", "2", "2/2"]);
    assert_eq!(found[0].source, "The SCO summit");
    assert_eq!(found[0].target, "Саммит ШОС");
    assert_eq!(found[1].source, "A\u{a0}B");
    assert_eq!(found[0].source_lang.as_ref().map(Lang::as_str), Some("en"));
    assert_eq!(found[3].target_lang.as_ref().map(Lang::as_str), Some("ru"));
}

#[test]
fn a_segment_without_source_is_rejected_and_reading_goes_on() {
    let xliff = r#"<xliff version="1.2"><file source-language="en" target-language="ru"><body>
<trans-unit id="a"><target>только перевод</target></trans-unit>
<trans-unit id="b"><source>SCO</source><target>ШОС</target></trans-unit>
</body></file></xliff>"#;
    let found = read_all(xliff);
    assert_eq!(found.len(), 2);
    match &found[0] {
        Err(FormatError::Rejected { line, column, .. }) => assert_eq!((*line, *column), (2, 1)),
        other => panic!("{other:?}"),
    }
    assert_eq!(found[1].as_ref().map(|s| s.id.as_str()).ok(), Some("b"));
}

#[test]
fn broken_and_hostile_files_are_errors_at_their_line_and_column() {
    let cases = [
        ("<tmx version=\"1.4\"><body/></tmx>", (1, 1), "not an XLIFF file"),
        (
            "<xliff version=\"1.2\">\n<file><body>\n<trans-unit id=\"1\"><source>a</target>",
            (3, 20),
            "<source> is not closed",
        ),
        (
            "<?xml version=\"1.0\"?>\n<!DOCTYPE xliff [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n<xliff version=\"1.2\"><file><body><trans-unit id=\"1\"><source>&b;</source></trans-unit></body></file></xliff>",
            (0, 0),
            "",
        ),
    ];
    for (xliff, position, reason) in cases {
        let found = read_all(xliff);
        let error = found
            .iter()
            .find_map(|r| r.as_ref().err())
            .unwrap_or_else(|| panic!("{xliff}: no error in {found:?}"));
        assert!(error.is_fatal(), "{error}");
        let (line, column) = error.position().expect("a position");
        assert!(line >= 1 && column >= 1, "{error}");
        if position != (0, 0) {
            assert_eq!((line, column), position, "{error}");
        }
        assert!(error.to_string().contains(reason), "{error}");
        assert!(
            found.last().is_some_and(Result::is_err),
            "nothing after a fatal error"
        );
    }
}
