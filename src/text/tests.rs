//! Tests of the whole pipeline: what no single step can show.

use proptest::prelude::*;

use super::{normalize, normalize_key, reference_key, reference_normalize, NormalizedText};

#[test]
fn whole_pipeline_on_mixed_text() {
    let cases = [
        ("ＳＣＯ", "sco"),
        ("SHANGHAI SPIRIT", "shanghai spirit"),
        ("Шёлковый путь", "шелковый путь"),
        ("«Шанхайский дух»", "\"шанхайский дух\""),
        ("共建“一带一路”倡议", "共建\"一带一路\"倡议"),
        ("一帶一路", "一带一路"),
        ("Belt & Road", "belt and road"),
        ("Шан\u{200B}хай\u{AD}ский", "шанхайский"),
        ("Шанха\u{301}йский", "шанхайский"),
        ("  a \t\n b  ", "a b"),
        ("Россия — Китай", "россия - китай"),
        (
            "  «ШАНХА\u{301}ЙСКАЯ  ОРГАНИЗАЦИЯ»\u{3000}—\u{A0}上海合作組織（ＳＣＯ）",
            "\"шанхайская организация\" - 上海合作组织(sco)",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize_key(input), expected, "{input:?}");
        assert_eq!(normalize(input).as_str(), expected, "{input:?}");
    }
}

#[test]
fn removing_a_joiner_lets_nfkc_compose_the_mark() {
    // NFKC runs before the joiner is removed, so one round would leave `e` + U+0302 behind.
    assert_eq!(normalize_key("e\u{200D}\u{302}"), "ê");
    assert_eq!(normalize_key("и\u{301}\u{306}"), "й");
    let text = normalize("-и\u{301}\u{306}-");
    assert_eq!(text.as_str(), "-й-");
    assert_eq!(text.original_range(1..3), 1..7);
}

#[test]
fn normalized_text_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<NormalizedText>();
}

/// Characters the pipeline treats specially, and their neighbours, mixed much more densely
/// than arbitrary strings would: Cyrillic, simplified and traditional Han, full-width forms,
/// combining marks, zero-width characters, quotes, dashes, ampersands and spaces, plus Hangul
/// jamo and compatibility ideographs, which NFKC composes or replaces.
fn tricky_text() -> impl Strategy<Value = String> {
    let tricky_char = prop_oneof![
        proptest::char::range('a', 'z'),
        proptest::char::range('A', 'Z'),
        proptest::char::range('0', '9'),
        proptest::char::range('А', 'я'),
        proptest::sample::select(vec!['ё', 'Ё', 'й', 'Й', 'ѐ', 'ѝ', 'İ', 'ẞ', 'Σ']),
        proptest::char::range('\u{4E00}', '\u{9FFF}'),
        proptest::sample::select(vec![
            '帶', '組', '織', '會', '臺', '灣', '瞭', '藉', '後', '髮', '薴', '苧', '乾', '著',
            '々'
        ]),
        proptest::char::range('\u{FF01}', '\u{FF5E}'),
        proptest::char::range('\u{300}', '\u{36F}'),
        proptest::sample::select(vec![
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}'
        ]),
        proptest::sample::select(vec![
            '«', '»', '“', '”', '„', '‟', '「', '」', '『', '』', '＂', '‹', '›', '‘', '’', '‚',
            '‛', '"', '\''
        ]),
        proptest::sample::select(vec![
            '—', '–', '‐', '‑', '‒', '―', '−', '﹘', '﹣', '-', '&', '＆', '﹠'
        ]),
        proptest::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{A0}', '\u{3000}', '\u{2028}', '\u{85}'
        ]),
        proptest::char::range('\u{1100}', '\u{11FF}'),
        proptest::char::range('\u{AC00}', '\u{D7A3}'),
        proptest::char::range('\u{F900}', '\u{FAFF}'),
        proptest::char::range('\u{2F00}', '\u{2FD5}'),
        proptest::char::range('\u{2460}', '\u{24FF}'),
        proptest::char::range('\u{3300}', '\u{33FF}'),
    ];
    proptest::collection::vec(tricky_char, 0..48).prop_map(String::from_iter)
}

/// The offset map's contract, checked over every range between char boundaries of the
/// normalized text (quadratic, so only for short texts).
fn check_offsets(input: &str) -> Result<(), TestCaseError> {
    let text = normalize(input);
    prop_assert_eq!(text.original(), input);
    prop_assert_eq!(text.as_str(), normalize_key(input));
    let normalized = text.as_str();
    let boundaries: Vec<usize> = normalized
        .char_indices()
        .map(|(i, _)| i)
        .chain([normalized.len()])
        .collect();
    let sound = |r: &std::ops::Range<usize>| {
        r.start <= r.end
            && r.end <= input.len()
            && input.is_char_boundary(r.start)
            && input.is_char_boundary(r.end)
    };
    for (k, &i) in boundaries.iter().enumerate() {
        for &j in &boundaries[k..] {
            let r = text.original_range(i..j);
            prop_assert!(sound(&r), "{:?} -> {:?}", i..j, r);
            prop_assert_eq!(r.is_empty(), i == j, "{:?} -> {:?}", i..j, r);
        }
    }
    // Character by character, neither end ever goes back.
    let mut previous = 0..0;
    for pair in boundaries.windows(2) {
        let r = text.original_range(pair[0]..pair[1]);
        prop_assert!(
            r.start >= previous.start && r.end >= previous.end,
            "{:?} after {:?}",
            r,
            previous
        );
        // A longer range covers each of its characters.
        let whole = text.original_range(0..pair[1]);
        prop_assert!(whole.start <= r.start && whole.end >= r.end);
        previous = r;
    }
    // Each character maps to exactly the bytes the pipeline says it came from, however the
    // origins are kept, and a character starts a boundary exactly when it does not come from
    // the original character the one before it came from.
    let chars = super::run(input, false);
    prop_assert_eq!(chars.len(), boundaries.len() - 1);
    for (k, (pair, mapped)) in boundaries.windows(2).zip(&chars).enumerate() {
        prop_assert_eq!(
            text.original_range(pair[0]..pair[1]),
            mapped.start..mapped.end
        );
        if k > 0 {
            prop_assert_eq!(text.is_boundary(pair[0]), mapped.start >= chars[k - 1].end);
        }
    }
    Ok(())
}

/// Text the fast path mostly takes: letters of both cases in both alphabets, `ё`, Chinese
/// characters simplified and traditional, spaces of every kind between them, quotes, dashes,
/// `&` and full-width forms, with now and then a character it declines (a stress mark, a
/// zero-width space, a lookalike letter of another script).
fn running_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => proptest::sample::select(vec![
            "a", "Z", "q", "7", "я", "Ж", "ё", "Ё", "й", "中", "国", "组", "組", "織", "瞭", "解",
            "臺", "灣", "薴", "乾", "後", "。", "、", "《", "》", "，", "：", "!", ".", ",", "'", "-",
            "_", "\"",
        ]),
        4 => proptest::sample::select(vec![
            " ", "  ", "\t", "\n", "\r\n", "\u{A0}", "\u{3000}", "\u{2003}", "\u{85}", "\u{2028}",
        ]),
        2 => proptest::sample::select(vec![
            "«", "»", "“", "”", "‘", "’", "—", "–", "「", "」", "&", "＆", "Ａ", "ｂ", "１", "＂",
            "R&D", "Шанхайский", "Belt and Road", "上海合作组织", "…", "№",
        ]),
        1 => proptest::sample::select(vec![
            "\u{301}", "\u{308}", "\u{306}", "\u{200B}", "\u{AD}", "o", "с", "і", "㍻",
            "\u{F907}", "々", "İ",
        ]),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn running_text_normalizes_as_the_pipeline_does(input in running_text()) {
        prop_assert_eq!(normalize(&input), reference_normalize(&input));
        prop_assert_eq!(normalize_key(&input), reference_key(&input));
    }

    #[test]
    fn tricky_text_normalizes_as_the_pipeline_does(input in tricky_text()) {
        prop_assert_eq!(normalize(&input), reference_normalize(&input));
        prop_assert_eq!(normalize_key(&input), reference_key(&input));
    }

    #[test]
    fn arbitrary_text_normalizes_as_the_pipeline_does(input in any::<String>()) {
        prop_assert_eq!(normalize(&input), reference_normalize(&input));
        prop_assert_eq!(normalize_key(&input), reference_key(&input));
    }

    #[test]
    fn offsets_map_back_into_arbitrary_text(input in any::<String>()) {
        check_offsets(&input)?;
    }

    #[test]
    fn offsets_map_back_into_tricky_text(input in tricky_text()) {
        check_offsets(&input)?;
    }

    #[test]
    fn normalizing_arbitrary_text_twice_changes_nothing(input in any::<String>()) {
        let once = normalize_key(&input);
        prop_assert_eq!(normalize_key(&once), once);
    }

    #[test]
    fn normalizing_tricky_text_twice_changes_nothing(input in tricky_text()) {
        let once = normalize_key(&input);
        prop_assert_eq!(normalize_key(&once), once);
    }
}
