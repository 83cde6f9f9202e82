use std::ops::Range;
use std::sync::Arc;

use proptest::prelude::*;

use super::candidates::{max_distance, plain_score};
use super::*;
use crate::model::{InlineTag, Lang, Segment, TagKind, TranslationUnit};

fn segment(lang: &str, text: &str) -> Segment {
    Segment {
        lang: Lang::parse(lang).unwrap_or_else(|_| Lang::en()),
        text: text.to_owned(),
        tags: vec![],
    }
}

fn unit(id: &str, segments: &[(&str, &str)]) -> Arc<TranslationUnit> {
    Arc::new(TranslationUnit {
        id: id.to_owned(),
        segments: segments.iter().map(|(l, t)| segment(l, t)).collect(),
        origin: String::new(),
        created_ms: 0,
        metadata: vec![],
    })
}

fn query(text: &str, source: &str, target: &str) -> MemoryQuery {
    MemoryQuery {
        text: text.to_owned(),
        source: Lang::parse(source).unwrap_or_else(|_| Lang::en()),
        target: Lang::parse(target).unwrap_or_else(|_| Lang::en()),
        limit: 5,
        min_score: 0.7,
        memories: vec![],
    }
}

fn summit() -> Arc<TranslationUnit> {
    unit(
        "summit",
        &[
            ("zh", "2024年7月在阿斯塔纳举行峰会"),
            ("ru", "Саммит прошёл в Астане в июле 2024 года"),
            ("en", "The summit was held in Astana in July 2024"),
        ],
    )
}

/// An index with the units it was given held beside it, as the server's store holds them.
#[derive(Default)]
struct Indexed {
    index: MemoryIndex,
    units: HeldUnits,
}

impl std::ops::Deref for Indexed {
    type Target = MemoryIndex;

    fn deref(&self) -> &MemoryIndex {
        &self.index
    }
}

impl Indexed {
    fn insert(&mut self, memory: &str, unit: Arc<TranslationUnit>) {
        self.insert_many(memory, [unit]);
    }

    fn insert_many(&mut self, memory: &str, units: impl IntoIterator<Item = Arc<TranslationUnit>>) {
        let units: Vec<_> = units.into_iter().collect();
        for unit in &units {
            self.units.insert(memory, Arc::clone(unit));
        }
        self.index.insert_many(memory, units);
    }

    fn remove(&mut self, memory: &str, id: &str) -> bool {
        self.units.remove(memory, id);
        self.index.remove(memory, id)
    }

    fn search(&self, q: &MemoryQuery) -> Vec<MemoryMatch> {
        self.index.search(q, &self.units)
    }

    fn search_exhaustive(&self, q: &MemoryQuery) -> Vec<MemoryMatch> {
        self.index.search_exhaustive(q, &self.units)
    }

    fn search_with_stats(&self, q: &MemoryQuery) -> (Vec<MemoryMatch>, SearchStats) {
        self.index.search_with_stats(q, &self.units)
    }

    fn concordance(
        &self,
        phrase: &str,
        lang: &Lang,
        memories: &[String],
        limit: usize,
    ) -> Vec<ConcordanceHit> {
        self.index
            .concordance(phrase, lang, memories, limit, &self.units)
    }
}

fn search_both(index: &Indexed, q: &MemoryQuery) -> Vec<MemoryMatch> {
    let indexed = index.search(q);
    let exhaustive = index.search_exhaustive(q);
    let key = |m: &MemoryMatch| (m.unit.id.clone(), m.memory.clone(), m.score);
    assert_eq!(
        indexed.iter().map(key).collect::<Vec<_>>(),
        exhaustive.iter().map(key).collect::<Vec<_>>()
    );
    indexed
}

#[test]
fn chinese_numbers_only_match_adapts_the_target() {
    let mut index = Indexed::default();
    index.insert("main", summit());
    let hits = search_both(&index, &query("2025年7月在阿斯塔纳举行峰会", "zh", "ru"));
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert!(hit.numbers_only);
    assert_eq!(hit.score, 0.99);
    assert_eq!(
        hit.adapted_target.as_deref(),
        Some("Саммит прошёл в Астане в июле 2025 года")
    );
    assert_eq!(
        hit.diffs,
        [DiffSpan {
            kind: DiffKind::Replaced,
            query: 0..4,
            stored: 0..4
        }]
    );
    let english = search_both(&index, &query("2025年7月在阿斯塔纳举行峰会", "zh", "en"));
    assert_eq!(
        english[0].adapted_target.as_deref(),
        Some("The summit was held in Astana in July 2025")
    );
}

#[test]
fn exact_match_scores_one_and_chinese_numerals_equal_digits() {
    let mut index = Indexed::default();
    index.insert("main", summit());
    let hits = search_both(
        &index,
        &query("二〇二四年七月在阿斯塔纳举行峰会", "zh", "en"),
    );
    assert_eq!(hits[0].score, 1.0);
    assert!(!hits[0].numbers_only);
    let hits = search_both(
        &index,
        &query("２０２４年７月在阿斯塔纳举行峰会", "zh", "en"),
    );
    assert_eq!(hits[0].score, 1.0);
}

#[test]
fn chinese_scores_by_characters() {
    let mut index = Indexed::default();
    index.insert("main", summit());
    // One character of 13 units (2024 年 7 月 + 9 characters) replaced.
    let hits = search_both(&index, &query("2024年7月在阿斯塔纳召行峰会", "zh", "en"));
    assert_eq!(hits[0].score, 1.0 - 1.0 / 13.0);
    let at = "2024年7月在阿斯塔纳".len();
    assert_eq!(
        hits[0].diffs,
        [DiffSpan {
            kind: DiffKind::Replaced,
            query: at..at + 3,
            stored: at..at + 3
        }]
    );
}

#[test]
fn russian_and_english_score_by_words() {
    let mut index = Indexed::default();
    index.insert("main", summit());
    // 9 words in the English segment; one replaced.
    let hits = search_both(
        &index,
        &query("The summit was held in Almaty in July 2024", "en", "ru"),
    );
    assert_eq!(hits[0].score, 1.0 - 1.0 / 9.0);
    // Case, ё and spacing are normalized away.
    let hits = search_both(
        &index,
        &query("САММИТ прошел  в Астане в июле 2024 года", "ru", "zh"),
    );
    assert_eq!(hits[0].score, 1.0);
    assert_eq!(hits[0].target, "2024年7月在阿斯塔纳举行峰会");
}

#[test]
fn one_unit_answers_every_direction() {
    let mut index = Indexed::default();
    index.insert("main", summit());
    let texts = [
        ("zh", "2024年7月在阿斯塔纳举行峰会"),
        ("ru", "Саммит прошёл в Астане в июле 2024 года"),
        ("en", "The summit was held in Astana in July 2024"),
    ];
    for (source, text) in texts {
        for (target, want) in texts {
            if source == target {
                continue;
            }
            let hits = search_both(&index, &query(text, source, target));
            assert_eq!(hits.len(), 1, "{source}→{target}");
            assert_eq!(hits[0].target, want);
            assert_eq!(hits[0].source, text);
        }
    }
    // Traditional Chinese queries meet the simplified segment, and zh-Hant segments answer zh.
    let hits = search_both(&index, &query("2024年7月在阿斯塔納舉行峰會", "zh-TW", "en"));
    assert_eq!(hits[0].score, 1.0);
    index.insert(
        "main",
        unit("hant", &[("zh-Hant", "舉行峰會"), ("en", "hold a summit")]),
    );
    let hits = search_both(&index, &query("举行峰会", "zh", "en"));
    assert_eq!(hits[0].unit.id, "hant");
    // A unit without the target language does not answer.
    assert!(search_both(&index, &query("举行峰会", "zh", "ru")).is_empty());
}

#[test]
fn diff_spans_for_insertions_deletions_and_replacements() {
    let mut index = Indexed::default();
    index.insert(
        "m",
        unit("u", &[("en", "we hold the big summit today"), ("ru", "x")]),
    );
    let mut q = query("we hold the big summit here today", "en", "ru");
    q.min_score = 0.0;
    let hits = search_both(&index, &q);
    let at = "we hold the big summit ".len();
    assert_eq!(
        hits[0].diffs,
        [DiffSpan {
            kind: DiffKind::Inserted,
            query: at..at + 4,
            stored: at - 1..at - 1
        }]
    );
    q.text = "we hold the summit today".into();
    let hits = search_both(&index, &q);
    let at = "we hold the ".len();
    assert_eq!(
        hits[0].diffs,
        [DiffSpan {
            kind: DiffKind::Deleted,
            query: at - 1..at - 1,
            stored: at..at + 3
        }]
    );
    q.text = "We hold the small summit today".into();
    let hits = search_both(&index, &q);
    assert_eq!(
        hits[0].diffs,
        [DiffSpan {
            kind: DiffKind::Replaced,
            query: at..at + 5,
            stored: at..at + 3
        }]
    );
}

/// Pseudo-random lower-case letters: a long segment without repeats that would make every
/// alignment ambiguous.
fn letters(len: usize, seed: u64) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from(b'a' + ((state >> 33) % 26) as u8)
        })
        .collect()
}

/// Regression: a 64 KiB segment of single-byte characters tagged `zh` against a near copy
/// made the alignment table (n + 1)(m + 1) cells, gigabytes, and aborted the process.
#[test]
fn long_near_copies_are_scored_exactly_and_aligned_in_bounded_memory() {
    let len = 20_000;
    let stored = letters(len, 7);
    let mut index = Indexed::default();
    index.insert("m", unit("long", &[("zh", &stored), ("en", "long")]));
    let swap = |text: &str, at: usize| {
        let mut chars: Vec<char> = text.chars().collect();
        chars[at] = if chars[at] == 'z' { 'y' } else { 'z' };
        chars.into_iter().collect::<String>()
    };
    // The same bytes replaced in both texts.
    let replaced = |bytes: Range<usize>| {
        vec![DiffSpan {
            kind: DiffKind::Replaced,
            query: bytes.clone(),
            stored: bytes,
        }]
    };

    // One change in the middle: the common ends are trimmed and the diff is exact.
    let middle = swap(&stored, len / 2);
    let hits = index.search(&query(&middle, "zh", "en"));
    assert_eq!(hits[0].score, 1.0 - 1.0 / len as f32);
    assert_eq!(hits[0].diffs, replaced(len / 2..len / 2 + 1));

    // Changes near both ends leave a middle too large to align unit by unit: the score is
    // still exact, the diff one replaced span from the first change to the last.
    let ends = swap(&swap(&stored, 10), len - 10);
    let hits = index.search(&query(&ends, "zh", "en"));
    assert_eq!(hits[0].score, 1.0 - 2.0 / len as f32);
    assert_eq!(hits[0].diffs, replaced(10..len - 9));
}

#[test]
fn inline_tags_are_not_differences() {
    let mut index = Indexed::default();
    let mut tagged = (*summit()).clone();
    tagged.segments[2].tags.push(InlineTag {
        offset: 4,
        kind: TagKind::Placeholder,
        xml: "<ph x=\"1\"/>".into(),
    });
    index.insert("m", Arc::new(tagged));
    let hits = search_both(
        &index,
        &query("The summit was held in Astana in July 2024", "en", "zh"),
    );
    assert_eq!(hits[0].score, 1.0);
    assert!(hits[0].diffs.is_empty());
}

#[test]
fn limit_and_min_score_are_respected() {
    let mut index = Indexed::default();
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    for k in 0..8 {
        // Unit k differs from the query in k of 8 words.
        let text: Vec<&str> = words
            .iter()
            .enumerate()
            .map(|(i, w)| if i < k { "other" } else { w })
            .collect();
        index.insert(
            "m",
            unit(&format!("u{k}"), &[("en", &text.join(" ")), ("ru", "р")]),
        );
    }
    let mut q = query(&words.join(" "), "en", "ru");
    q.min_score = 0.7;
    q.limit = 10;
    let ids: Vec<String> = search_both(&index, &q)
        .iter()
        .map(|m| m.unit.id.clone())
        .collect();
    assert_eq!(ids, ["u0", "u1", "u2"]);
    q.limit = 2;
    assert_eq!(search_both(&index, &q).len(), 2);
    q.min_score = 1.5;
    assert!(search_both(&index, &q).is_empty());
    q.min_score = f32::NAN;
    assert!(search_both(&index, &q).is_empty());
}

#[test]
fn ties_follow_memory_priority_then_unit_id() {
    let mut index = Indexed::default();
    for memory in ["b", "a", "c"] {
        index.insert(
            memory,
            unit("same", &[("en", "belt and road"), ("ru", "пояс и путь")]),
        );
    }
    index.insert(
        "a",
        unit("other", &[("en", "belt and road"), ("ru", "пояс и путь")]),
    );
    let mut q = query("belt and road", "en", "ru");
    let got = |index: &Indexed, q: &MemoryQuery| {
        search_both(index, q)
            .into_iter()
            .map(|m| format!("{}/{}", m.memory, m.unit.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(got(&index, &q), ["a/other", "a/same", "b/same", "c/same"]);
    q.memories = vec!["c".into(), "a".into()];
    assert_eq!(got(&index, &q), ["c/same", "a/other", "a/same"]);
    // Priority never lifts a lower score: a fuzzy match in the first memory comes after an
    // exact one in the last.
    index.insert(
        "c",
        unit(
            "same",
            &[("en", "belt and the road"), ("ru", "пояс и путь")],
        ),
    );
    q.min_score = 0.5;
    q.memories = vec!["c".into(), "b".into(), "a".into()];
    assert_eq!(got(&index, &q), ["b/same", "a/other", "a/same", "c/same"]);
}

#[test]
fn replace_and_remove_by_id() {
    let mut index = Indexed::default();
    index.insert("m", summit());
    index.insert(
        "m",
        unit("summit", &[("en", "a new text"), ("ru", "новый текст")]),
    );
    assert_eq!(index.len(), 1);
    assert!(search_both(
        &index,
        &query("The summit was held in Astana in July 2024", "en", "ru")
    )
    .is_empty());
    assert_eq!(
        search_both(&index, &query("a new text", "en", "ru")).len(),
        1
    );
    assert!(!index.remove("other", "summit"));
    assert!(index.remove("m", "summit"));
    assert!(!index.remove("m", "summit"));
    assert!(index.is_empty());
    assert!(search_both(&index, &query("a new text", "en", "ru")).is_empty());
}

#[test]
fn concordance_reports_spans_in_the_text_as_written() {
    let mut index = Indexed::default();
    index.insert("m", summit());
    index.insert(
        "m",
        unit(
            "belt",
            &[
                ("en", "The Belt and Road, the belt and road."),
                ("zh", "一带一路"),
            ],
        ),
    );
    let hits = index.concordance("belt AND road", &Lang::en(), &[], 10);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].spans, [4..17, 23..36]);
    assert_eq!(hits[0].translations, [(Lang::zh(), "一带一路".to_owned())]);
    // Token boundaries: `elt` is not a word of the text.
    assert!(index.concordance("elt", &Lang::en(), &[], 10).is_empty());
    let hits = index.concordance("阿斯塔納", &Lang::zh(), &[], 10);
    assert_eq!(hits.len(), 1);
    let at = "2024年7月在".len();
    assert_eq!(hits[0].spans, vec![at..at + 12]);
    // Chinese matches substrings, numbers included.
    let hits = index.concordance("24年7", &Lang::zh(), &[], 10);
    assert_eq!(hits[0].spans, vec![2..8]);
    assert!(index
        .concordance("峰会", &Lang::zh(), &["other".into()], 10)
        .is_empty());
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MemoryIndex>();
    assert_send_sync::<MemoryMatch>();
    assert_send_sync::<ConcordanceHit>();
}

#[test]
fn distance_bound_agrees_with_the_score() {
    for longest in 0..60 {
        for threshold in [0.0f32, 0.3, 0.5, 0.7, 0.75, 0.8, 0.9, 0.95, 1.0] {
            let bound = max_distance(longest, threshold);
            for d in 0..=longest {
                let passes = plain_score(d, longest) >= threshold;
                assert_eq!(
                    passes,
                    bound.is_some_and(|b| d <= b),
                    "{longest} {threshold} {d}"
                );
            }
        }
    }
}

// Random corpora with many near-duplicates: a small alphabet and vocabulary.
const HAN: &[char] = &[
    '中', '国', '合', '作', '峰', '会', '年', '月', '一', '二', '的', '在',
];
const WORDS: &[&str] = &[
    "the", "belt", "road", "summit", "held", "in", "astana", "and", "of",
];
const RU: &[&str] = &["и", "саммит", "в", "пояс", "путь", "астане", "прошёл"];

fn zh_text() -> impl Strategy<Value = String> {
    chinese(HAN, 0..14)
}

fn words_text(vocabulary: &'static [&'static str]) -> impl Strategy<Value = String> {
    words(vocabulary.to_vec(), 0..10)
}

/// Chinese text of `lengths` parts from `alphabet`, with some numbers and spaces.
fn chinese(
    alphabet: &'static [char],
    lengths: std::ops::Range<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(alphabet).prop_map(String::from),
            1 => (0u32..30).prop_map(|n| n.to_string()),
            1 => Just(" ".to_owned()),
        ],
        lengths,
    )
    .prop_map(|parts| parts.concat())
}

/// `lengths` words from `vocabulary`, with some numbers.
fn words(
    vocabulary: Vec<&'static str>,
    lengths: std::ops::Range<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(vocabulary).prop_map(String::from),
            1 => (0u32..30).prop_map(|n| n.to_string()),
        ],
        lengths,
    )
    .prop_map(|words| words.join(" "))
}

fn mutate(text: &str, edits: &[(usize, usize, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for &(kind, at, c) in edits {
        if chars.is_empty() {
            chars.push(c);
            continue;
        }
        let at = at % chars.len();
        match kind % 3 {
            0 => chars[at] = c,
            1 => {
                chars.remove(at);
            }
            _ => chars.insert(at, c),
        }
    }
    chars.into_iter().collect()
}

/// The memories a case's units are stored in.
const CASE_MEMORIES: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
struct Case {
    units: Vec<(usize, String, String, String)>,
    removed: Vec<usize>,
    queries: Vec<(usize, String)>,
    min_score: f32,
    limit: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let stored = (0usize..3, zh_text(), words_text(WORDS), words_text(RU));
    (
        prop::collection::vec(stored, 1..40),
        prop::collection::vec(0usize..40, 0..4),
        prop::collection::vec(
            (
                0usize..3,
                0usize..40,
                prop::collection::vec((0usize..3, 0usize..20, prop::sample::select(HAN)), 0..4),
                prop::collection::vec(
                    (
                        0usize..3,
                        0usize..40,
                        prop::sample::select(&['x', ' ', '7'][..]),
                    ),
                    0..3,
                ),
                any::<bool>(),
                zh_text(),
            ),
            1..6,
        ),
        0.3f32..1.0,
        1usize..10,
    )
        .prop_map(|(units, removed, raw_queries, min_score, limit)| {
            let queries = raw_queries
                .into_iter()
                .map(|(lang, pick, han, words, fresh, fresh_zh)| {
                    let fresh = (lang == 0 && fresh).then_some(fresh_zh);
                    (lang, pick, han, words, fresh)
                })
                .collect();
            Case::new(units, removed, queries, min_score, limit)
        })
}

/// What a case draws for a query: language (0 zh, 1 en, 2 ru), which unit's segment to edit,
/// edits for Chinese and for words, or a text of its own instead.
type RawQuery = (usize, usize, Edits, Edits, Option<String>);

impl Case {
    /// The index of the case's units in the shards `partition` holds: half built at once,
    /// the rest added in small batches (several parts to search), then the removals. Unit ids
    /// repeat, so later units replace earlier ones.
    fn index(&self, partition: Partition) -> Indexed {
        let ids = self.units.len().div_ceil(4) * 3;
        let mut units = HeldUnits::default();
        let (first, rest) = self.units.split_at(self.units.len() / 2);
        let built = MemoryIndex::from_units_of(
            partition,
            first.iter().enumerate().map(|(i, (m, zh, en, ru))| {
                let unit = unit(
                    &format!("u{}", i % ids),
                    &[("zh", zh), ("en", en), ("ru", ru)],
                );
                units.insert(CASE_MEMORIES[*m], Arc::clone(&unit));
                Ok::<_, std::convert::Infallible>((
                    CASE_MEMORIES[*m].to_owned(),
                    TranslationUnit::clone(&unit),
                ))
            }),
        );
        let Ok(index) = built;
        let mut index = Indexed { index, units };
        for (k, batch) in rest.chunks(7).enumerate() {
            let start = first.len() + k * 7;
            for (j, (m, zh, en, ru)) in batch.iter().enumerate() {
                let id = format!("u{}", (start + j) % ids);
                index.insert(
                    CASE_MEMORIES[*m],
                    unit(&id, &[("zh", zh), ("en", en), ("ru", ru)]),
                );
            }
        }
        for r in &self.removed {
            index.remove(CASE_MEMORIES[r % 3], &format!("u{}", r % ids.max(1)));
        }
        index
    }

    /// The case's queries as searches, half of them naming memories in priority order.
    fn memory_queries(&self) -> Vec<MemoryQuery> {
        let langs = ["zh", "en", "ru"];
        self.queries
            .iter()
            .map(|(lang, text)| {
                let mut q = query(text, langs[*lang], langs[(lang + 1) % 3]);
                q.min_score = self.min_score;
                q.limit = self.limit;
                if lang % 2 == 1 {
                    q.memories = vec!["b".into(), "a".into()];
                }
                q
            })
            .collect()
    }

    /// A case whose queries are edited copies of its units' segments (or texts of their own).
    fn new(
        units: Vec<(usize, String, String, String)>,
        removed: Vec<usize>,
        raw_queries: Vec<RawQuery>,
        min_score: f32,
        limit: usize,
    ) -> Case {
        let queries = raw_queries
            .into_iter()
            .map(|(lang, pick, han, words, fresh)| {
                let (_, zh, en, ru) = &units[pick % units.len()];
                let text = match (lang, fresh) {
                    (_, Some(text)) => text,
                    (0, None) => mutate(zh, &han),
                    (1, None) => mutate(en, &words),
                    _ => mutate(ru, &words),
                };
                (lang, text)
            })
            .collect();
        Case {
            units,
            removed,
            queries,
            min_score,
            limit,
        }
    }
}

// Longer segments from a wider alphabet, many near copies of a few sentences and some
// unrelated ones: what it takes for the count filter to have a bound (T > 0) and for the
// prefix and count filters to keep entries of an admissible length from the distance.
const HAN_WIDE: &[char] = &[
    '中', '国', '合', '作', '峰', '会', '年', '月', '一', '二', '的', '在', '上', '海', '组', '织',
    '成', '员', '媒', '体', '论', '坛', '青', '岛', '举', '行', '安', '全', '经', '济',
];
const WORDS_WIDE: &str = "the belt road summit held in astana and of media forum member states \
    security economy cooperation was qingdao shanghai spirit trade energy people friendship year \
    council heads leaders";
const RU_WIDE: &str = "и саммит в пояс путь астане прошёл форум шос государств членов \
    безопасность экономика сотрудничество циндао шанхайский дух торговля энергетика народов \
    дружба год совет глав";

fn long_zh() -> impl Strategy<Value = String> {
    chinese(HAN_WIDE, 8..36)
}

fn long_words(vocabulary: &'static str) -> impl Strategy<Value = String> {
    words(vocabulary.split_whitespace().collect(), 5..22)
}

type Edits = Vec<(usize, usize, char)>;

fn edits(alphabet: &'static [char], most: usize) -> impl Strategy<Value = Edits> {
    prop::collection::vec(
        (0usize..3, 0usize..40, prop::sample::select(alphabet)),
        0..most,
    )
}

fn sentence() -> impl Strategy<Value = (String, String, String)> {
    (long_zh(), long_words(WORDS_WIDE), long_words(RU_WIDE))
}

/// Long near copies queried in the languages `langs` (0 zh, 1 en, 2 ru).
fn large_case(langs: Range<usize>) -> impl Strategy<Value = Case> {
    let derived = (
        0usize..3,
        0usize..8,
        edits(HAN_WIDE, 6),
        edits(&['x', ' ', '7'], 4),
        prop::option::weighted(0.2, sentence()),
    );
    (
        prop::collection::vec(sentence(), 1..8),
        prop::collection::vec(derived, 20..120),
        prop::collection::vec(0usize..120, 0..6),
        prop::collection::vec(
            (
                langs,
                0usize..120,
                edits(HAN_WIDE, 5),
                edits(&['x', ' ', '7'], 3),
            ),
            1..6,
        ),
        0.5f32..0.95,
        1usize..10,
    )
        .prop_map(|(bases, derived, removed, raw_queries, min_score, limit)| {
            let units: Vec<(usize, String, String, String)> = derived
                .into_iter()
                .map(|(memory, pick, han, words, fresh)| {
                    let (zh, en, ru) = fresh.unwrap_or_else(|| bases[pick % bases.len()].clone());
                    (
                        memory,
                        mutate(&zh, &han),
                        mutate(&en, &words),
                        mutate(&ru, &words),
                    )
                })
                .collect();
            let queries = raw_queries
                .into_iter()
                .map(|(lang, pick, han, words)| (lang, pick, han, words, None))
                .collect();
            Case::new(units, removed, queries, min_score, limit)
        })
}

// Two frequent characters, whose pairs most segments hold (long posting lists), among
// hundreds of rare ones (short lists): the shape of real Chinese text, where the filter reads
// the rare lists and leaves the frequent ones unread.
const HAN_FREQUENT: &[char] = &['的', '国'];

/// Chinese text that is three fifths frequent characters and two fifths rare ones.
fn skewed_zh() -> impl Strategy<Value = String> {
    // Han characters from U+4E64 on, a range the two frequent ones are not in.
    let rare = (0u32..400).prop_map(|k| char::from_u32(0x4E64 + k).unwrap_or('中'));
    prop::collection::vec(
        prop_oneof![3 => prop::sample::select(HAN_FREQUENT), 2 => rare],
        10..36,
    )
    .prop_map(String::from_iter)
}

/// Many unrelated Chinese segments and a few near copies of some, queried in Chinese.
fn skewed_case() -> impl Strategy<Value = Case> {
    let derived = (
        0usize..3,
        0usize..8,
        edits(HAN_WIDE, 6),
        prop::option::weighted(0.8, skewed_zh()),
    );
    (
        prop::collection::vec(skewed_zh(), 2..8),
        prop::collection::vec(derived, 200..400),
        prop::collection::vec(0usize..400, 0..6),
        prop::collection::vec((0usize..400, edits(HAN_WIDE, 5)), 1..6),
        0.5f32..0.95,
        1usize..10,
    )
        .prop_map(|(bases, derived, removed, raw_queries, min_score, limit)| {
            let units = derived
                .into_iter()
                .map(|(memory, pick, han, fresh)| {
                    let zh = fresh.unwrap_or_else(|| bases[pick % bases.len()].clone());
                    (memory, mutate(&zh, &han), "x".to_owned(), "х".to_owned())
                })
                .collect();
            let queries = raw_queries
                .into_iter()
                .map(|(pick, han)| (0, pick, han, Vec::new(), None))
                .collect();
            Case::new(units, removed, queries, min_score, limit)
        })
}

/// Runs `cases` cases of `strategy` through `check`, failing the test with the smallest
/// failing case found.
fn run_cases<S: Strategy>(
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let config = ProptestConfig {
        cases,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(failure) = runner.run(&strategy, check) {
        panic!("{failure}");
    }
}

/// The index answers every query exactly as the exhaustive scan does, over small corpora (many
/// short segments, where the filter mostly has no bound and scans by length), large ones
/// (long near copies, where it prunes) and Chinese ones with long and short posting lists;
/// over the whole run both paths must have been taken, long lists left unread, and the filter
/// must have kept entries from the distance, or the property proves nothing about it.
#[test]
fn indexed_search_equals_exhaustive_search() {
    let total = std::cell::Cell::new(SearchStats::default());
    let check = |case: Case| -> Result<(), TestCaseError> {
        let index = case.index(Partition::whole());
        for q in case.memory_queries() {
            let key = |m: &MemoryMatch| (m.unit.id.clone(), m.memory.clone(), m.score);
            let (indexed, stats) = index.search_with_stats(&q);
            let mut sum = total.get();
            sum += stats;
            total.set(sum);
            let indexed: Vec<_> = indexed.iter().map(key).collect();
            let exhaustive: Vec<_> = index.search_exhaustive(&q).iter().map(key).collect();
            prop_assert_eq!(indexed, exhaustive, "query {:?}", q);
        }
        Ok(())
    };
    run_cases(600, case(), check);
    run_cases(150, large_case(0..3), check);
    run_cases(200, large_case(0..1), check);
    run_cases(100, skewed_case(), check);
    let total = total.get();
    assert!(
        total.filtered_scans > 0 && total.length_only_scans > 0,
        "both paths taken: {total:?}"
    );
    assert!(
        total.unread_lists > 0,
        "long lists were left unread: {total:?}"
    );
    assert!(
        total.pruned * 4 > total.admissible,
        "the filter pruned a quarter of the admissible entries or more: {total:?}"
    );
}

#[test]
fn unit_with_two_answering_segments_counts_once() {
    let mut index = Indexed::default();
    index.insert(
        "m",
        unit(
            "regional",
            &[
                ("en-GB", "the colour of the flag"),
                ("en-US", "the color of the flag"),
                ("ru", "цвет флага"),
            ],
        ),
    );
    index.insert(
        "m",
        unit(
            "between",
            &[("en", "the colour of a flag"), ("ru", "цвет флага")],
        ),
    );
    let hits = search_both(&index, &query("the colour of the flag", "en", "ru"));
    let ids: Vec<&str> = hits.iter().map(|m| m.unit.id.as_str()).collect();
    assert_eq!(ids, ["regional", "between"]);
    assert_eq!(hits[0].source, "the colour of the flag");
}

/// A Chinese query that repeats one gram hundreds of times: the gram's count saturates
/// instead of wrapping, and the near copy is found with its exact score.
#[test]
fn a_query_repeating_one_gram_is_found() {
    let stored = "中国".repeat(300);
    let mut index = Indexed::default();
    index.insert("m", unit("long", &[("zh", &stored), ("ru", "Китай")]));
    index.insert("m", unit("short", &[("zh", "中国中国"), ("ru", "Китай")]));
    let hits = search_both(&index, &query(&format!("{stored}合"), "zh", "ru"));
    let ids: Vec<&str> = hits.iter().map(|m| m.unit.id.as_str()).collect();
    assert_eq!(ids, ["long"]);
    assert_eq!(hits[0].score, plain_score(1, 601));
}

/// A gram that every stored segment holds is not read once the rarer grams have found the
/// candidates: its list counts as shared by each of them, and the answer stays exact.
#[test]
fn a_gram_every_segment_holds_is_not_read() {
    // Han characters past the numerals 一 to 九, so that none reads as a number.
    let han = |i: u32| char::from_u32(0x4E64 + i).unwrap_or('中');
    let text = |i: u32, last: char| -> String {
        "年月"
            .chars()
            .chain((0..7).map(|k| han(i * 8 + k)))
            .chain([last])
            .collect()
    };
    let mut index = Indexed::default();
    for i in 0..400 {
        index.insert(
            "m",
            unit(
                &format!("u{i}"),
                &[("zh", &text(i, han(i * 8 + 7))), ("ru", "дата")],
            ),
        );
    }
    let q = query(&text(5, '合'), "zh", "ru");
    let ids: Vec<String> = search_both(&index, &q)
        .iter()
        .map(|m| m.unit.id.clone())
        .collect();
    assert_eq!(ids, ["u5"]);
    let (_, stats) = index.search_with_stats(&q);
    assert!(stats.filtered_scans > 0, "{stats:?}");
    assert!(stats.postings < 400, "the list of 年月 was read: {stats:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Inserting one by one (many merges), in batches, in imports, replacing and removing must
    /// leave an index that answers exactly as one built at once from the units that remain.
    #[test]
    fn incremental_index_answers_as_one_built_at_once(case in case(), batch in 1usize..9) {
        let memories = ["a", "b", "c"];
        let mut incremental = MemoryIndex::new();
        let mut remaining = std::collections::BTreeMap::new();
        let units: Vec<_> = case
            .units
            .iter()
            .enumerate()
            .map(|(i, (memory, zh, en, ru))| {
                // Neighbours share an id, so that batches and imports repeat ids within them.
                let id = format!("u{}", (i / 2) % 20);
                (memories[*memory], unit(&id, &[("zh", zh), ("en", en), ("ru", ru)]))
            })
            .collect();
        for (number, group) in units.chunks(batch).enumerate() {
            // Consecutive units of one memory go in as one batch or one import, ids repeated
            // within it.
            for run in group.chunk_by(|a, b| a.0 == b.0) {
                let memory = run[0].0;
                if number % 2 == 0 {
                    for (_, unit) in run {
                        remaining.insert((memory, unit.id.clone()), unit.clone());
                    }
                    incremental.insert_many(memory, run.iter().map(|(_, u)| u.clone()));
                    continue;
                }
                // As an import commits: a unit whose id is stored already (or came earlier in
                // the import) is not stored as read. In replace mode it is stored all the same
                // and published apart; in skip mode (every third import) the stored one stays.
                // Every other import's commit fails before its last unit.
                let committed = if number % 4 == 1 { run.len() } else { run.len() - 1 };
                let skip = number % 3 == 0;
                let mut outcome = ImportOutcome { committed, ..ImportOutcome::default() };
                let mut rewritten = Vec::new();
                for (at, (_, unit)) in run.iter().enumerate().take(committed) {
                    match remaining.entry((memory, unit.id.clone())) {
                        std::collections::btree_map::Entry::Vacant(new) => {
                            new.insert(unit.clone());
                        }
                        std::collections::btree_map::Entry::Occupied(mut stored) => {
                            outcome.not_stored_as_read.push(at as u32);
                            if !skip {
                                stored.insert(unit.clone());
                                rewritten.push(TranslationUnit::clone(unit));
                            }
                        }
                    }
                }
                let part = ImportPart::analyze(run.iter().map(|(_, u)| TranslationUnit::clone(u)));
                incremental.insert_import(memory, part, &outcome);
                let all = ImportOutcome { committed: rewritten.len(), ..ImportOutcome::default() };
                incremental.insert_import(memory, ImportPart::analyze(rewritten), &all);
            }
        }
        for r in &case.removed {
            let (memory, id) = (memories[r % 3], format!("u{r}"));
            let was = remaining.remove(&(memory, id.clone())).is_some();
            prop_assert_eq!(incremental.remove(memory, &id), was);
        }
        let at_once = MemoryIndex::from_units(remaining.iter().map(|((memory, _), unit)| {
            Ok::<_, std::convert::Infallible>((memory.to_string(), TranslationUnit::clone(unit)))
        }));
        let Ok(at_once) = at_once;
        let mut stored = HeldUnits::default();
        for ((memory, _), unit) in &remaining {
            stored.insert(memory, Arc::clone(unit));
        }
        prop_assert_eq!(incremental.len(), remaining.len());
        prop_assert_eq!(at_once.len(), remaining.len());
        for (lang, text) in &case.queries {
            let langs = ["zh", "en", "ru"];
            let mut q = query(text, langs[*lang], langs[(lang + 1) % 3]);
            q.min_score = case.min_score;
            q.limit = case.limit;
            let key = |m: &MemoryMatch| {
                (m.unit.id.clone(), m.memory.clone(), m.score, m.target.clone(), m.diffs.clone())
            };
            let got: Vec<_> = incremental.search(&q, &stored).iter().map(key).collect();
            let want: Vec<_> = at_once.search(&q, &stored).iter().map(key).collect();
            prop_assert_eq!(got, want, "query {:?}", q);
            let phrase: String = text.chars().take(3).collect();
            let lang = Lang::parse(langs[*lang]).unwrap_or_else(|_| Lang::en());
            let hit = |h: &ConcordanceHit| (h.unit.id.clone(), h.memory.clone(), h.spans.clone());
            let got: Vec<_> =
                incremental.concordance(&phrase, &lang, &[], 50, &stored).iter().map(hit).collect();
            let want: Vec<_> =
                at_once.concordance(&phrase, &lang, &[], 50, &stored).iter().map(hit).collect();
            prop_assert_eq!(got, want, "phrase {:?}", phrase);
        }
    }
}

#[test]
fn readers_keep_their_snapshot_while_writers_publish() {
    let live = LiveMemoryIndex::new(MemoryIndex::new());
    // Every unit ever written: what the index itself answers is under test here.
    let mut stored = HeldUnits::default();
    stored.insert("main", summit());
    live.insert("main", vec![summit()], 1);
    let before = live.snapshot();
    let q = query("2024年7月在阿斯塔纳举行峰会", "zh", "ru");
    assert_eq!(before.search(&q, &stored).len(), 1);
    assert_eq!(live.remove("main", &["summit".to_owned()], 2), 1);
    live.insert(
        "main",
        vec![unit("other", &[("zh", "上海合作组织"), ("ru", "ШОС")])],
        3,
    );
    // The old snapshot still answers as it did; the new one sees the writes.
    assert_eq!(before.search(&q, &stored).len(), 1);
    assert_eq!(before.len(), 1);
    let after = live.snapshot();
    assert!(after.search(&q, &stored).is_empty());
    assert_eq!(after.len(), 1);
    // Each snapshot carries the revision of the last write it holds.
    assert_eq!((before.revision(), after.revision()), (1, 3));
}

#[test]
fn a_later_unit_with_the_same_id_wins_within_a_batch() {
    let mut index = Indexed::default();
    index.insert_many(
        "m",
        [
            unit("x", &[("en", "the first text"), ("ru", "первый")]),
            unit("x", &[("en", "the second text"), ("ru", "второй")]),
        ],
    );
    assert_eq!(index.len(), 1);
    let hits = search_both(&index, &query("the second text", "en", "ru"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].target, "второй");
    assert!(search_both(&index, &query("the first text", "en", "ru"))
        .iter()
        .all(|m| m.target != "первый"));
}

/// A memory split into shards held by different indexes answers, once their answers are
/// merged, exactly what one index holding every unit answers: the same units, scores and
/// order, ties included, for searches and concordances, whatever the indexes' layout.
#[test]
fn shards_merged_answer_as_one_index() {
    let layouts: [&[&str]; 3] = [&["0", "1-2", "3"], &["0-1", "2-3"], &["0,2", "1,3", "3"]];
    let check = |case: Case| -> Result<(), TestCaseError> {
        let whole = case.index(Partition::whole());
        for layout in layouts {
            let shards: Vec<Indexed> = layout
                .iter()
                .map(|held| case.index(Partition::parse(4, held).unwrap_or_default()))
                .collect();
            let held: usize = shards.iter().map(|index| index.len()).sum();
            prop_assert!(held >= whole.len(), "every unit is in a shard");
            for q in case.memory_queries() {
                let key = |m: &MemoryMatch| (m.unit.id.clone(), m.memory.clone(), m.score);
                let merged = merge_matches(&q, shards.iter().map(|index| index.search(&q)));
                let expected: Vec<_> = whole.search(&q).iter().map(key).collect();
                prop_assert_eq!(merged.iter().map(key).collect::<Vec<_>>(), expected);
                // A phrase of the query's first two units, for concordance.
                let phrase: String = match q.source.primary() {
                    "zh" => q.text.chars().take(2).collect(),
                    _ => q.text.split(' ').take(2).collect::<Vec<_>>().join(" "),
                };
                let hit_key = |h: &ConcordanceHit| (h.unit.id.clone(), h.memory.clone());
                let merged = merge_concordance(
                    &q.memories,
                    q.limit,
                    shards
                        .iter()
                        .map(|index| index.concordance(&phrase, &q.source, &q.memories, q.limit)),
                );
                let expected: Vec<_> = whole
                    .concordance(&phrase, &q.source, &q.memories, q.limit)
                    .iter()
                    .map(hit_key)
                    .collect();
                prop_assert_eq!(merged.iter().map(hit_key).collect::<Vec<_>>(), expected);
            }
        }
        Ok(())
    };
    run_cases(300, case(), check);
    run_cases(60, large_case(0..3), check);
}

/// An index holding some shards keeps out the units of the others, whichever way they come:
/// built at start, inserted, imported, or refreshed from the store.
#[test]
fn a_partitioned_index_holds_only_its_shards() {
    let partition = Partition::parse(4, "1,3").unwrap_or_default();
    let units: Vec<Arc<TranslationUnit>> = (0..200)
        .map(|i| {
            unit(
                &format!("u{i}"),
                &[("en", &format!("report number {i} of the year"))],
            )
        })
        .collect();
    let held: Vec<&Arc<TranslationUnit>> = units
        .iter()
        .filter(|u| partition.holds(partition.shard_of("news", &u.id)))
        .collect();
    assert!(held.len() > 60 && held.len() < 140, "{} held", held.len());
    let built = MemoryIndex::from_units_of(
        partition.clone(),
        units[..100].iter().map(|u| {
            Ok::<_, std::convert::Infallible>(("news".to_owned(), TranslationUnit::clone(u)))
        }),
    );
    let Ok(mut index) = built;
    let mut stored = HeldUnits::default();
    units
        .iter()
        .for_each(|u| stored.insert("news", Arc::clone(u)));
    index.insert_many("news", units[100..150].iter().cloned());
    let mut import = ImportPart::analyze(units[150..].iter().map(|u| TranslationUnit::clone(u)));
    import.build();
    let committed = import.len();
    index.insert_import(
        "news",
        import,
        &ImportOutcome {
            committed,
            not_stored_as_read: vec![],
        },
    );
    assert_eq!(index.len(), held.len());
    assert_eq!(index.partition(), &partition);
    let mut q = query("report number 7 of the year", "en", "en");
    q.limit = 100;
    q.min_score = 0.5;
    for hit in index.search(&q, &stored) {
        assert!(
            partition.keeps("news", &hit.unit.id),
            "{} is held",
            hit.unit.id
        );
    }
}

/// The index ranks units by sequences it keeps and reads the units it answers with from the
/// store: a unit gone from the store, or stored since with a source text the snapshot has not
/// indexed yet, is left out and the next match takes its place; a unit whose translation alone
/// changed answers with the new one.
#[test]
fn matches_are_read_as_stored_and_only_as_scored() {
    let mut index = Indexed::default();
    for (id, city) in [
        ("a", "astana"),
        ("b", "qingdao"),
        ("c", "tianjin"),
        ("d", "bishkek"),
    ] {
        let text = format!("the summit was held in {city}");
        index.insert(
            "m",
            unit(id, &[("en", &text), ("ru", &format!("перевод {id}"))]),
        );
    }
    let mut q = query("the summit was held in astana", "en", "ru");
    q.limit = 2;
    let ids = |index: &Indexed| -> Vec<String> {
        search_both(index, &q)
            .iter()
            .map(|m| m.unit.id.clone())
            .collect()
    };
    let phrase = |index: &Indexed| -> Vec<String> {
        index
            .concordance("summit was held", &Lang::en(), &[], 2)
            .iter()
            .map(|h| h.unit.id.clone())
            .collect()
    };
    assert_eq!(ids(&index), ["a", "b"]);
    assert_eq!(phrase(&index), ["a", "b"]);
    index.units.remove("m", "a");
    assert_eq!(ids(&index), ["b", "c"]);
    assert_eq!(phrase(&index), ["b", "c"]);
    let rewritten = unit(
        "b",
        &[("en", "another text altogether"), ("ru", "перевод b")],
    );
    index.units.insert("m", rewritten);
    assert_eq!(ids(&index), ["c", "d"]);
    assert_eq!(phrase(&index), ["c", "d"]);
    let retranslated = unit(
        "c",
        &[
            ("en", "the summit was held in tianjin"),
            ("ru", "новый перевод"),
        ],
    );
    index.units.insert("m", retranslated);
    assert_eq!(search_both(&index, &q)[0].target, "новый перевод");
}
