//! Tests of the TMX reader, writer and checks, on in-memory files.

use crate::formats::FormatError;
use crate::model::{InlineTag, Lang, Segment, TagKind, TranslationUnit};

use super::date::{format_tmx_date, parse_tmx_date};
use super::*;

fn read(tmx: &str) -> Vec<Result<TmxEntry, FormatError>> {
    TmxReader::new(tmx.as_bytes()).collect()
}

fn read_ok(tmx: &str) -> Vec<TranslationUnit> {
    read(tmx)
        .into_iter()
        .map(|r| r.expect("entry should be read").unit)
        .collect()
}

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
<header creationtool="t" creationtoolversion="1" segtype="sentence" o-tmf="t" adminlang="en" srclang="en" datatype="plaintext"/>
<body>
"#;

fn doc(body: &str) -> String {
    format!("{HEADER}{body}\n</body>\n</tmx>\n")
}

#[test]
fn reads_tuid_props_notes_and_creationdate() {
    let units = read_ok(&doc(
        r#"<tu tuid="42" creationdate="20200229T235959Z"><prop type="x-domain">health</prop><note>checked</note>
<tuv xml:lang="en"><prop type="x-q">good</prop><seg>fever</seg></tuv>
<tuv xml:lang="ru"><seg>лихорадка</seg></tuv></tu>"#,
    ));
    let u = &units[0];
    assert_eq!(u.id, "42");
    assert_eq!(u.created_ms, 1_583_020_799_000);
    assert_eq!(
        u.metadata,
        vec![
            ("x-domain".to_owned(), "health".to_owned()),
            ("note".to_owned(), "checked".to_owned()),
            ("en:x-q".to_owned(), "good".to_owned()),
        ]
    );
    assert_eq!(u.segments[1].text, "лихорадка");
}

#[test]
fn missing_tuid_and_date_give_empty_id_and_zero_time() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="en"><seg>a</seg></tuv><tuv xml:lang="zh"><seg>甲</seg></tuv></tu>"#,
    ));
    assert_eq!((units[0].id.as_str(), units[0].created_ms), ("", 0));
}

#[test]
fn tmx_1_1_lang_attribute_is_accepted() {
    let units = read_ok(
        r#"<tmx version="1.1"><header srclang="EN-US"/><body><tu>
<tuv lang="EN-US"><seg>Hello</seg></tuv><tuv lang="ZH-TW"><seg>你好</seg></tuv></tu></body></tmx>"#,
    );
    assert_eq!(units[0].segments[0].lang.as_str(), "en-US");
    assert_eq!(units[0].segments[1].lang.as_str(), "zh-Hant");
}

#[test]
fn a_tuv_switching_language_attribute_or_with_two_languages_is_rejected() {
    let tmx = concat!(
            "<tmx version=\"1.1\"><header srclang=\"en\"/><body>\n",
            "<tu><tuv lang=\"en\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"en\"><seg>a</seg></tuv>  <tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"en\" xml:lang=\"de\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "<tu><tuv lang=\"EN\" xml:lang=\"en\"><seg>a</seg></tuv><tuv lang=\"ru\"><seg>б</seg></tuv></tu>\n",
            "</body></tmx>"
        );
    let got: Vec<Result<usize, (u64, u64)>> = read(tmx)
        .into_iter()
        .map(|r| match r {
            Ok(entry) => Ok(entry.unit.segments.len()),
            Err(FormatError::Rejected { line, column, .. }) => Err((line, column)),
            Err(other) => panic!("{other}"),
        })
        .collect();
    assert_eq!(got, [Ok(2), Err((3, 40)), Err((4, 5)), Ok(2)]);
}

#[test]
fn source_language_segment_comes_first() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="ru"><seg>да</seg></tuv><tuv xml:lang="en"><seg>yes</seg></tuv></tu>"#,
    ));
    assert_eq!(units[0].segments[0].lang.as_str(), "en");
}

#[test]
fn whitespace_inside_seg_is_preserved() {
    let units = read_ok(&doc(
            "<tu><tuv xml:lang=\"en\"><seg>  two  spaces\n\tand tab </seg></tuv><tuv xml:lang=\"ru\"><seg> x </seg></tuv></tu>",
        ));
    assert_eq!(units[0].segments[0].text, "  two  spaces\n\tand tab ");
    assert_eq!(units[0].segments[1].text, " x ");
}

#[test]
fn references_are_joined_into_the_text() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="en"><seg>R&amp;D &#x4E2D;&lt;</seg></tuv><tuv xml:lang="ru"><seg>НИОКР</seg></tuv></tu>"#,
    ));
    assert_eq!(units[0].segments[0].text, "R&D 中<");
}

#[test]
fn inline_markup_is_kept_out_of_the_text_with_offsets() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="en"><seg>A<bpt i="1" x="1">&lt;a href="<sub>link</sub>"&gt;</bpt>b<ept i="1">&lt;/a&gt;</ept><ph x="2"/>c<it pos="begin">&lt;i&gt;</it>d<ut>{x}</ut></seg></tuv>
<tuv xml:lang="zh"><seg>乙</seg></tuv></tu>"#,
    ));
    let seg = &units[0].segments[0];
    assert_eq!(seg.text, "Abcd");
    let got: Vec<(usize, TagKind, &str)> = seg
        .tags
        .iter()
        .map(|t| (t.offset, t.kind, t.xml.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                TagKind::Begin,
                r#"<bpt i="1" x="1">&lt;a href="<sub>link</sub>"&gt;</bpt>"#
            ),
            (2, TagKind::End, r#"<ept i="1">&lt;/a&gt;</ept>"#),
            (2, TagKind::Placeholder, r#"<ph x="2"/>"#),
            (3, TagKind::Isolated, r#"<it pos="begin">&lt;i&gt;</it>"#),
            (4, TagKind::Placeholder, "<ut>{x}</ut>"),
        ]
    );
}

#[test]
fn hi_text_stays_text_between_two_tags() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="en"><seg>a <hi type="bold">big</hi> dog</seg></tuv><tuv xml:lang="ru"><seg>пёс</seg></tuv></tu>"#,
    ));
    let seg = &units[0].segments[0];
    assert_eq!(seg.text, "a big dog");
    assert_eq!(
        seg.tags,
        vec![
            InlineTag {
                offset: 2,
                kind: TagKind::HighlightStart,
                xml: r#"<hi type="bold">"#.to_owned()
            },
            InlineTag {
                offset: 5,
                kind: TagKind::HighlightEnd,
                xml: "</hi>".to_owned()
            },
        ]
    );
}

#[test]
fn unit_with_one_usable_tuv_is_rejected_and_reading_continues() {
    let results = read(&doc(
            "<tu>\n<tuv xml:lang=\"en\"><seg>alone</seg></tuv>\n<tuv xml:lang=\"ru\"><seg> </seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>",
        ));
    assert!(matches!(
        results[0],
        Err(FormatError::Rejected {
            line: 5,
            column: 1,
            ..
        })
    ));
    assert!(results[1].is_ok());
    assert_eq!(results.len(), 2);
}

#[test]
fn warnings_name_the_element_they_concern_at_its_line_and_column() {
    let results = read(&doc(concat!(
        "<tu creationdate=\"yesterday\">\n",
        "  <tuv xml:lang=\"en\"><seg>Press <x/>OK</seg></tuv>\n",
        "  <tuv xml:lang=\"ru\"><seg>Нажмите OK</seg><foo>x</foo></tuv>\n",
        "  <tuv xml:lang=\"ru\"><seg>второй</seg></tuv>\n",
        "</tu>",
    )));
    let entry = results[0].as_ref().expect("the unit is read");
    let found: Vec<(u64, u64, &str)> = entry
        .warnings
        .iter()
        .map(|w| (w.line, w.column, w.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                1,
                "creationdate \"yesterday\" is not YYYYMMDDThhmmssZ; ignored"
            ),
            (6, 33, "<x> is not TMX inline markup; kept as a placeholder"),
            (7, 43, "<foo> in <tuv> ignored"),
            (8, 3, "second <tuv> in ru dropped"),
        ]
    );
}

#[test]
fn unpaired_codes_reject_the_unit_naming_the_element_and_reading_continues() {
    let results = read(&doc(concat!(
        "<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv>\n",
        "<tuv xml:lang=\"ru\"><seg><ept i=\"1\">&lt;/b&gt;</ept>б</seg></tuv></tu>\n",
        "<tu><tuv xml:lang=\"en\"><seg>a<bpt i=\"2\">&lt;b&gt;</bpt></seg></tuv>",
        "<tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n",
        "<tu><tuv xml:lang=\"en\"><seg>ok</seg></tuv><tuv xml:lang=\"ru\"><seg>да</seg></tuv></tu>",
    )));
    let rejected: Vec<(u64, String)> = results
        .iter()
        .filter_map(|r| match r {
            Err(FormatError::Rejected { line, reason, .. }) => Some((*line, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(rejected.len(), 2, "{results:?}");
    assert_eq!(rejected[0].0, 6);
    assert!(
        rejected[0].1.contains("<ept i=\"1\"> closes no open"),
        "{}",
        rejected[0].1
    );
    assert_eq!(rejected[1].0, 7);
    assert!(
        rejected[1].1.contains("no matching <ept>"),
        "{}",
        rejected[1].1
    );
    assert!(results[2].is_ok());
}

#[test]
fn bad_language_rejects_the_unit_at_the_tuv() {
    let results = read(&doc(
            "<tu>\n  <tuv xml:lang=\"english\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>",
        ));
    match &results[0] {
        Err(FormatError::Rejected {
            line,
            column,
            reason,
        }) => {
            assert_eq!((*line, *column), (6, 3));
            assert!(reason.contains("english"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_xml_is_malformed_and_ends_the_reader() {
    let results = read(&doc(
            "<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv><tuv xml:lang=\"ru\"><seg>б</seg></tuv></tu>\n<tu><tuv xml:lang=\"en\"><seg>a</tuv></tu>",
        ));
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(FormatError::Malformed { line: 6, .. })
    ));
    assert_eq!(results.len(), 2);
}

#[test]
fn non_tmx_root_is_malformed() {
    let results = read("<martif/>");
    assert!(matches!(
        results[0],
        Err(FormatError::Malformed {
            line: 1,
            column: 1,
            ..
        })
    ));
}

#[test]
fn utf16_tmx_with_bom_is_read() {
    let text = doc(
        r#"<tu><tuv xml:lang="en"><seg>tea</seg></tuv><tuv xml:lang="zh"><seg>茶</seg></tuv></tu>"#,
    )
    .replace("UTF-8", "UTF-16");
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let units: Vec<_> = TmxReader::new(&bytes[..])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(units[0].unit.segments[1].text, "茶");
}

#[test]
fn dates_round_trip_through_the_tmx_format() {
    for ms in [0, 951_782_400_000, 1_583_020_799_000, 4_102_444_800_000] {
        assert_eq!(parse_tmx_date(&format_tmx_date(ms)), Some(ms));
    }
    assert_eq!(parse_tmx_date("20230229T000000Z"), None);
    assert_eq!(parse_tmx_date("2023-01-01"), None);
}

#[test]
fn writer_puts_tags_back_at_their_offsets() {
    let unit = TranslationUnit {
        id: "u1".to_owned(),
        segments: vec![
            Segment {
                lang: Lang::en(),
                text: "Save & exit".to_owned(),
                tags: vec![InlineTag {
                    offset: 4,
                    kind: TagKind::Placeholder,
                    xml: r#"<ph x="1"/>"#.to_owned(),
                }],
            },
            Segment {
                lang: Lang::ru(),
                text: "Сохранить".to_owned(),
                tags: Vec::new(),
            },
        ],
        origin: String::new(),
        created_ms: 0,
        metadata: vec![("note".to_owned(), "a<b".to_owned())],
    };
    let mut out = Vec::new();
    write_tmx(&mut out, [&unit], "en").unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains(r#"<seg>Save<ph x="1"/> &amp; exit</seg>"#),
        "{text}"
    );
    assert!(text.contains("<note>a&lt;b</note>"), "{text}");
    let back = TmxReader::new(&out[..]).next().unwrap().unwrap().unit;
    assert_eq!(back, unit);
}

#[test]
fn writer_refuses_tag_offsets_inside_a_character() {
    let unit = TranslationUnit {
        id: String::new(),
        segments: vec![Segment {
            lang: Lang::zh(),
            text: "中文".to_owned(),
            tags: vec![InlineTag {
                offset: 1,
                kind: TagKind::Placeholder,
                xml: "<ph/>".to_owned(),
            }],
        }],
        origin: String::new(),
        created_ms: 0,
        metadata: Vec::new(),
    };
    let err = write_tmx(Vec::new(), [&unit], "zh").unwrap_err();
    assert!(matches!(err, FormatError::Unwritable { .. }));
}

fn tagged(text: &str, tags: &[(usize, TagKind, &str)]) -> TranslationUnit {
    TranslationUnit {
        id: "t".to_owned(),
        segments: vec![
            Segment {
                lang: Lang::en(),
                text: text.to_owned(),
                tags: tags
                    .iter()
                    .map(|&(offset, kind, xml)| InlineTag {
                        offset,
                        kind,
                        xml: xml.to_owned(),
                    })
                    .collect(),
            },
            Segment {
                lang: Lang::ru(),
                text: "б".to_owned(),
                tags: vec![],
            },
        ],
        origin: String::new(),
        created_ms: 0,
        metadata: vec![],
    }
}

#[test]
fn every_tag_the_reader_makes_passes_the_check() {
    let units = read_ok(&doc(
        r#"<tu><tuv xml:lang="en"><seg>A<bpt i="1" x='1'>&lt;a href="<sub>link</sub>"&gt;</bpt>b<ept i="1">&lt;/a&gt;</ept><ph x="2"/>c<it pos="begin">&lt;i&gt;</it>d<ut>{x}</ut><x:hi type="b">e<hi/>f</x:hi><bpt i="2"/><ept i="2"/><g id="3">g</g><![CDATA[h]]><ph>&#x4E2D;<![CDATA[<b>]]></ph></seg></tuv>
<tuv xml:lang="zh"><seg>乙</seg></tuv></tu>"#,
    ));
    assert_eq!(units[0].segments[0].tags.len(), 12);
    assert_eq!(check_tmx_unit(&units[0]), []);
    assert_eq!(check_tmx_markup(&units[0]), []);
}

#[test]
fn tags_that_would_not_write_back_are_named_with_the_reason() {
    use TagKind::*;
    /// Text, tags, the field at fault and a word of the reason.
    type Case<'a> = (&'a str, &'a [(usize, TagKind, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            "ab",
            &[(3, Placeholder, "<ph/>")],
            "tags[0].offset",
            "past the end",
        ),
        (
            "中",
            &[(1, Placeholder, "<ph/>")],
            "tags[0].offset",
            "character boundary",
        ),
        (
            "abc",
            &[(2, Placeholder, "<ph/>"), (1, Placeholder, "<ph/>")],
            "tags[1].offset",
            "text order",
        ),
        (
            "a",
            &[(0, Placeholder, "<ph>")],
            "tags[0].xml",
            "not closed",
        ),
        (
            "a",
            &[(0, Placeholder, "b</x>")],
            "tags[0].xml",
            "text before the root",
        ),
        (
            "a",
            &[(0, Placeholder, "<ph/><ph/>")],
            "tags[0].xml",
            "root element",
        ),
        (
            "a",
            &[(0, Placeholder, "<ph/> ")],
            "tags[0].xml",
            "as TMX inline markup",
        ),
        (
            "a",
            &[(0, Placeholder, "<!--c--><ph/>")],
            "tags[0].xml",
            "as TMX",
        ),
        (
            "a",
            &[(0, Placeholder, "<ph />")],
            "tags[0].xml",
            r#"("<ph/>")"#,
        ),
        (
            "a",
            &[(0, Placeholder, "<ph>&nbsp;</ph>")],
            "tags[0].xml",
            "nbsp",
        ),
        (
            "a",
            &[(0, Placeholder, "<ph>\u{1}</ph>")],
            "tags[0].xml",
            "U+0001",
        ),
        (
            "a",
            &[(0, Placeholder, "<bpt i=\"1\"/>")],
            "tags[0].xml",
            "Placeholder",
        ),
        ("a", &[(0, Begin, "<ph/>")], "tags[0].xml", "Begin"),
        (
            "a",
            &[(0, Begin, "<bpt i=\"1\"/>")],
            "tags[0].xml",
            "no matching <ept>",
        ),
        (
            "a",
            &[(0, End, "<ept i=\"1\"/>")],
            "tags[0].xml",
            "closes no open",
        ),
        (
            "a",
            &[(0, Begin, "<bpt i=\"1\"/>"), (0, Begin, "<bpt i=\"1\"/>")],
            "tags[1].xml",
            "already open",
        ),
        ("a", &[(0, Isolated, "<ph/>")], "tags[0].xml", "Isolated"),
        (
            "a",
            &[(0, HighlightStart, "<hi>")],
            "tags[0].xml",
            "not closed",
        ),
        (
            "a",
            &[(0, HighlightStart, "<b>")],
            "tags[0].xml",
            "not a <hi>",
        ),
        (
            "a",
            &[(0, HighlightStart, "<hi>x")],
            "tags[0].xml",
            "start tag",
        ),
        (
            "a",
            &[(0, HighlightStart, "<hi><b>")],
            "tags[0].xml",
            "start tag",
        ),
        (
            "a",
            &[(0, HighlightEnd, "</hi>")],
            "tags[0].xml",
            "closes no open",
        ),
        ("a", &[(0, HighlightEnd, "</b>")], "tags[0].xml", "</hi>"),
        (
            "a",
            &[(0, HighlightEnd, "<hi/>")],
            "tags[0].xml",
            "not an end tag",
        ),
        (
            "a",
            &[(0, HighlightStart, "<x:hi>"), (1, HighlightEnd, "</hi>")],
            "tags[1].xml",
            "does not close",
        ),
    ];
    for &(text, tags, field, reason) in cases {
        let unit = tagged(text, tags);
        let mut problems = check_tmx_unit(&unit);
        problems.extend(check_tmx_markup(&unit));
        assert!(
            problems
                .iter()
                .any(|p| p.field == format!("segments[0].{field}") && p.reason.contains(reason)),
            "{tags:?}: {problems:?}"
        );
    }
    let mut unit = tagged("a\u{FFFE}", &[]);
    unit.metadata.push(("x".to_owned(), "\u{1}".to_owned()));
    let fields: Vec<String> = check_tmx_unit(&unit).into_iter().map(|p| p.field).collect();
    assert_eq!(fields, ["metadata[0].value", "segments[0].text"]);
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 &<>\"'\t\n\r上海合作组织ШОСёй]{0,16}"
    }

    fn tag_markup() -> impl Strategy<Value = (TagKind, String)> {
        prop_oneof![
            (0u8..9).prop_map(|i| (TagKind::Placeholder, format!(r#"<ph x="{i}"/>"#))),
            Just((
                TagKind::Placeholder,
                "<ph type=\"lb\">&lt;br/&gt;</ph>".to_owned()
            )),
            Just((
                TagKind::Isolated,
                r#"<it pos="end">&lt;/i&gt;</it>"#.to_owned()
            )),
            Just((TagKind::Placeholder, "<ut>{1}</ut>".to_owned())),
        ]
    }

    /// A segment with tags at random character boundaries, sorted by offset, plus
    /// optionally one highlight pair and one `<bpt>`/`<ept>` pair (paired codes must
    /// pair up, or the reader rejects the unit).
    fn segment(lang: Lang) -> impl Strategy<Value = Segment> {
        (
            text(),
            proptest::collection::vec((any::<proptest::sample::Index>(), tag_markup()), 0..4),
            proptest::option::of((
                any::<proptest::sample::Index>(),
                any::<proptest::sample::Index>(),
            )),
            proptest::option::of((
                any::<proptest::sample::Index>(),
                any::<proptest::sample::Index>(),
                any::<bool>(),
            )),
        )
            .prop_map(move |(text, raw_tags, hi, pair)| {
                let bounds: Vec<usize> = text
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain(std::iter::once(text.len()))
                    .collect();
                let mut tags: Vec<InlineTag> = raw_tags
                    .into_iter()
                    .map(|(at, (kind, xml))| InlineTag {
                        offset: *at.get(&bounds),
                        kind,
                        xml,
                    })
                    .collect();
                if let Some((a, b)) = hi {
                    let (a, b) = (*a.get(&bounds), *b.get(&bounds));
                    let (start, end) = (a.min(b), a.max(b));
                    tags.push(InlineTag {
                        offset: start,
                        kind: TagKind::HighlightStart,
                        xml: r#"<hi type="b">"#.to_owned(),
                    });
                    tags.push(InlineTag {
                        offset: end,
                        kind: TagKind::HighlightEnd,
                        xml: "</hi>".to_owned(),
                    });
                }
                if let Some((a, b, with_sub)) = pair {
                    let (a, b) = (*a.get(&bounds), *b.get(&bounds));
                    let begin = if with_sub {
                        r#"<bpt i="3">&lt;a href="<sub>x</sub>"&gt;</bpt>"#
                    } else {
                        r#"<bpt i="3">&lt;b&gt;</bpt>"#
                    };
                    tags.push(InlineTag {
                        offset: a.min(b),
                        kind: TagKind::Begin,
                        xml: begin.to_owned(),
                    });
                    tags.push(InlineTag {
                        offset: a.max(b),
                        kind: TagKind::End,
                        xml: r#"<ept i="3">&lt;/b&gt;</ept>"#.to_owned(),
                    });
                }
                // Stable: a pair's end stays after its start at equal offsets.
                tags.sort_by_key(|t| t.offset);
                Segment {
                    lang: lang.clone(),
                    text,
                    tags,
                }
            })
            // A segment with only white space and no tags is dropped by the reader.
            .prop_filter("segment must be usable", |s| {
                !(s.text.trim().is_empty() && s.tags.is_empty())
            })
    }

    fn unit() -> impl Strategy<Value = TranslationUnit> {
        (
            "[a-z0-9-]{0,8}",
            0i64..4_102_444_800,
            proptest::collection::vec(("[a-z][a-z-]{0,6}", text()), 0..3),
            segment(Lang::en()),
            segment(Lang::zh()),
            proptest::option::of(segment(Lang::ru())),
        )
            .prop_map(|(id, seconds, metadata, en, zh, ru)| TranslationUnit {
                id,
                segments: std::iter::once(en)
                    .chain(std::iter::once(zh))
                    .chain(ru)
                    .collect(),
                origin: String::new(),
                created_ms: seconds * 1000,
                metadata,
            })
    }

    /// Tags a client might send, sound and broken, for the check's property test.
    const MARKUP: &[&str] = &[
        "<ph/>",
        r#"<ph x="1">&lt;br/&gt;</ph>"#,
        r#"<bpt i="1">&lt;b&gt;</bpt>"#,
        r#"<ept i="1">&lt;/b&gt;</ept>"#,
        r#"<bpt i="2"/>"#,
        r#"<ept i="2"/>"#,
        r#"<it pos="begin">x</it>"#,
        "<hi>",
        r#"<hi type="b">"#,
        "</hi>",
        "<hi/>",
        "<ut>{1}</ut>",
        "<b>",
        "</b>",
        "<ph>",
        "<ph/><ph/>",
        "<ph />",
        " <ph/>",
        "<!--c--><ph/>",
        "<ph><!--c--></ph>",
        "<ph>&nbsp;</ph>",
        "<ph>a]]>b</ph>",
        "<hi>x",
        "text",
        "",
        "<",
    ];

    /// Mostly tags in text order with the markup of their kind (so that many units pass
    /// the check), sometimes any markup, kind or offset.
    fn client_unit() -> impl Strategy<Value = TranslationUnit> {
        let kinds = [
            TagKind::Begin,
            TagKind::End,
            TagKind::Placeholder,
            TagKind::Isolated,
            TagKind::HighlightStart,
            TagKind::HighlightEnd,
        ];
        let kind_of = |xml: &str| match xml.get(..3) {
            Some("<bp") => TagKind::Begin,
            Some("<ep") => TagKind::End,
            Some("<it") => TagKind::Isolated,
            Some("</h") => TagKind::HighlightEnd,
            Some("<hi") => TagKind::HighlightStart,
            _ => TagKind::Placeholder,
        };
        let tag = (
            any::<proptest::sample::Index>(),
            prop::sample::select(MARKUP),
            proptest::option::weighted(0.1, prop::sample::select(kinds.to_vec())),
        );
        (
            "[ab中 ]{0,5}",
            proptest::collection::vec(tag, 0..5),
            any::<bool>(),
            0usize..8,
        )
            .prop_map(move |(text, raw, sorted, stray)| {
                let text = format!("{text}x");
                let bounds: Vec<usize> = text
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([text.len()])
                    .collect();
                let mut tags: Vec<(usize, TagKind, &str)> = raw
                    .into_iter()
                    .map(|(at, xml, kind)| {
                        (*at.get(&bounds), kind.unwrap_or_else(|| kind_of(xml)), xml)
                    })
                    .collect();
                if sorted {
                    tags.sort_by_key(|t| t.0);
                } else if let Some(first) = tags.first_mut() {
                    first.0 = stray;
                }
                tagged(&text, &tags)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 3000,
            max_global_rejects: 100_000,
            ..ProptestConfig::default()
        })]

        /// Whatever a client sends, a unit that passes the check is written as
        /// well-formed TMX and read back unchanged.
        #[test]
        fn checked_units_write_and_read_back_unchanged(unit in client_unit()) {
            prop_assume!(check_tmx_unit(&unit).is_empty() && check_tmx_markup(&unit).is_empty());
            let mut out = Vec::new();
            write_tmx(&mut out, [&unit], "en").unwrap();
            let back: Vec<TranslationUnit> = TmxReader::new(&out[..])
                .map(|r| r.map(|e| e.unit))
                .collect::<Result<_, _>>()
                .unwrap();
            prop_assert_eq!(back, vec![unit]);
        }
    }

    proptest! {
        #[test]
        fn written_units_read_back_unchanged(units in proptest::collection::vec(unit(), 1..4)) {
            for unit in &units {
                prop_assert_eq!(check_tmx_unit(unit), []);
                prop_assert_eq!(check_tmx_markup(unit), []);
            }
            let mut out = Vec::new();
            write_tmx(&mut out, units.iter(), "en").unwrap();
            let back: Vec<TranslationUnit> = TmxReader::new(&out[..])
                .map(|r| r.map(|e| e.unit))
                .collect::<Result<_, _>>()
                .unwrap();
            prop_assert_eq!(back, units);
        }
    }
}
