//! The text pipeline behind Recognize and Lookup over arbitrary text, against a small
//! termbase of Chinese, Russian and English terms (with deprecated and superseded ones): no
//! panic; normalization is the same with and without its offset map and maps every range
//! back onto character boundaries of the original; every occurrence lies on character
//! boundaries of the text, its character and UTF-16 spans count the same stretch, and the
//! occurrences come in text order without overlapping; every lookup hit scores in 0..=1.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tolmach::index::{LookupQuery, TermSearch};
use tolmach::model::{Concept, Lang, LangSection, Term, TermStatus};
use tolmach::text;

/// Most bytes of text tried: Lookup takes 1 KiB, Recognize 1 MiB; longer inputs find no new
/// paths, only slower runs.
const MAX_TEXT: usize = 4096;

fn termbase() -> &'static TermSearch {
    static TERMBASE: OnceLock<TermSearch> = OnceLock::new();
    TERMBASE.get_or_init(|| {
        let lang = |tag: &str| Lang::parse(tag).expect("a valid tag");
        let concept = |id: &str, sections: &[(&str, &[(&str, TermStatus)])]| {
            let langs = sections
                .iter()
                .map(|(tag, terms)| {
                    let terms = terms
                        .iter()
                        .map(|(text, status)| Term::with_status(*text, *status))
                        .collect();
                    LangSection::new(lang(tag), terms)
                })
                .collect();
            Concept::new(id, "fuzz", langs)
        };
        use TermStatus::{Admitted, Deprecated, Preferred, Superseded};
        let concepts = vec![
            concept(
                "sco",
                &[
                    ("zh", &[("上海合作组织", Preferred), ("上合组织", Admitted)]),
                    (
                        "ru",
                        &[
                            ("Шанхайская организация сотрудничества", Preferred),
                            ("ШОС", Admitted),
                        ],
                    ),
                    (
                        "en",
                        &[
                            ("Shanghai Cooperation Organisation", Preferred),
                            ("SCO", Admitted),
                        ],
                    ),
                ],
            ),
            concept(
                "bri",
                &[
                    ("zh", &[("一带一路", Preferred)]),
                    ("ru", &[("Пояс и путь", Preferred)]),
                    (
                        "en",
                        &[
                            ("Belt and Road", Preferred),
                            ("One Belt One Road", Deprecated),
                        ],
                    ),
                ],
            ),
            concept(
                "astana",
                &[
                    ("ru", &[("Астана", Preferred), ("Нур-Султан", Superseded)]),
                    ("en", &[("Astana", Preferred), ("Nur-Sultan", Superseded)]),
                    ("zh-Hant", &[("阿斯塔納", Admitted)]),
                ],
            ),
            concept(
                "summit",
                &[
                    ("ru", &[("саммит", Preferred)]),
                    ("en", &[("summit", Preferred), ("R&D", Admitted)]),
                    ("zh", &[("峰会", Preferred), ("和平", Admitted)]),
                ],
            ),
        ];
        TermSearch::new(concepts, HashMap::new())
    })
}

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_TEXT)];
    let input = String::from_utf8_lossy(data);
    let input: &str = &input;

    let normalized = text::normalize(input);
    assert_eq!(normalized.original(), input);
    assert_eq!(normalized.as_str(), text::normalize_key(input));
    let whole = normalized.original_range(0..normalized.as_str().len());
    assert!(whole.start <= whole.end && whole.end <= input.len());
    assert!(input.is_char_boundary(whole.start) && input.is_char_boundary(whole.end));

    let snapshot = termbase().snapshot();
    let mut previous_end = 0;
    for occurrence in snapshot.recognize(input, None, &[]) {
        let bytes = occurrence.spans.bytes.clone();
        assert!(
            bytes.start < bytes.end && bytes.end <= input.len(),
            "{bytes:?}"
        );
        assert!(input.is_char_boundary(bytes.start) && input.is_char_boundary(bytes.end));
        assert!(bytes.start >= previous_end, "overlapping or out of order");
        previous_end = bytes.end;
        let before = &input[..bytes.start];
        let surface = &input[bytes.clone()];
        let chars = before.chars().count()..before.chars().count() + surface.chars().count();
        assert_eq!(occurrence.spans.chars, chars);
        let utf16_start = before.encode_utf16().count();
        let utf16 = utf16_start..utf16_start + surface.encode_utf16().count();
        assert_eq!(occurrence.spans.utf16, utf16);
        let _ = occurrence.matched_term();
    }

    if input.len() <= 1024 {
        let query = LookupQuery {
            text: input.to_owned(),
            source_lang: None,
            limit: 10,
            min_score: 0.0,
            collections: Vec::new(),
            pinyin: true,
        };
        for hit in snapshot.lookup(&query) {
            assert!((0.0..=1.0).contains(&hit.score), "score {}", hit.score);
            let _ = hit.matched_term();
        }
    }
});
