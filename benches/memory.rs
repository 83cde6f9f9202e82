//! Translation-memory search at scale: a synthetic memory of 10⁶ units, each with zh, ru and en
//! segments, searched in-process.
//!
//! Run with `cargo bench --bench memory` (set `TOLMACH_BENCH_UNITS` for another size). Prints
//! index build time, resident memory, Search p50/p95 for zh→ru and ru→en queries (stored
//! segments with a few edits, so matches exist), the exhaustive scan's p50/p95 on a subset of
//! the same queries, the speed-up, and recall against the exhaustive results (must be 1.0).
//! Figures, not assertions: targets are in DESIGN.md.
mod common;

use common::{ms, percentile, rss_mib, XorShift};

use std::sync::Arc;
use std::time::Instant;

use tolmach::index::memory::{MemoryIndex, MemoryMatch, MemoryQuery};
use tolmach::model::{Lang, Segment, TranslationUnit};

const HAN_CHARS: usize = 3000;
const VOCABULARY: usize = 20_000;

fn han_char(rng: &mut XorShift) -> char {
    char::from_u32(0x4E00 + rng.zipf(HAN_CHARS) as u32).unwrap_or('中')
}

struct Vocabulary {
    zh_phrases: Vec<String>,
    ru: Vec<String>,
    en: Vec<String>,
}

impl Vocabulary {
    fn new(rng: &mut XorShift) -> Vocabulary {
        const LATIN: &[&str] = &[
            "ka", "ro", "mi", "ten", "sor", "lu", "vex", "dan", "pri", "gol", "ber", "an", "tis",
            "mon", "ul", "zer", "ha", "pe", "sti", "cor",
        ];
        const CYRILLIC: &[&str] = &[
            "ка", "ро", "ми", "тен", "сор", "лу", "вех", "дан", "при", "гол", "бер", "ан", "тис",
            "мон", "ул", "зер", "ха", "пе", "сти", "кор",
        ];
        let words = |rng: &mut XorShift, syllables: &[&str]| -> Vec<String> {
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(VOCABULARY);
            while out.len() < VOCABULARY {
                let n = 1 + rng.below(4);
                let w: String = (0..n)
                    .map(|_| syllables[rng.below(syllables.len())])
                    .collect();
                if seen.insert(w.clone()) {
                    out.push(w);
                }
            }
            out
        };
        let zh_phrases = (0..2000)
            .map(|_| (0..2 + rng.below(5)).map(|_| han_char(rng)).collect())
            .collect();
        Vocabulary {
            zh_phrases,
            ru: words(rng, CYRILLIC),
            en: words(rng, LATIN),
        }
    }

    fn zh(&self, rng: &mut XorShift) -> String {
        let length = 15 + rng.below(26);
        let mut text = String::new();
        if rng.below(5) == 0 {
            text.push_str(&format!(
                "{}年{}月",
                2000 + rng.below(30),
                1 + rng.below(12)
            ));
        }
        while text.chars().count() < length {
            if rng.below(2) == 0 {
                text.push_str(&self.zh_phrases[rng.zipf(self.zh_phrases.len())]);
            } else {
                text.push(han_char(rng));
            }
        }
        text.push('。');
        text
    }

    fn words(&self, rng: &mut XorShift, words: &[String]) -> String {
        let length = 8 + rng.below(18);
        let mut out: Vec<String> = (0..length)
            .map(|_| words[rng.zipf(words.len())].clone())
            .collect();
        if rng.below(5) == 0 {
            let at = rng.below(out.len());
            out[at] = (1 + rng.below(3000)).to_string();
        }
        let mut text = out.join(" ");
        text.push('.');
        text
    }
}

fn synthetic(count: usize, vocabulary: &Vocabulary, rng: &mut XorShift) -> Vec<TranslationUnit> {
    let segment = |lang: Lang, text: String| Segment {
        lang,
        text,
        tags: vec![],
    };
    (0..count)
        .map(|i| TranslationUnit {
            id: format!("tu-{i:08}"),
            segments: vec![
                segment(Lang::zh(), vocabulary.zh(rng)),
                segment(Lang::ru(), vocabulary.words(rng, &vocabulary.ru)),
                segment(Lang::en(), vocabulary.words(rng, &vocabulary.en)),
            ],
            origin: "bench".into(),
            created_ms: 0,
            metadata: vec![],
        })
        .collect()
}

/// A stored segment with one to three edits: characters for Chinese, words otherwise.
fn mutated(text: &str, chinese: bool, vocabulary: &Vocabulary, rng: &mut XorShift) -> String {
    let edits = 1 + rng.below(3);
    if chinese {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..edits {
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => chars[at] = han_char(rng),
                1 => {
                    chars.remove(at);
                }
                _ => chars.insert(at, han_char(rng)),
            }
        }
        chars.into_iter().collect()
    } else {
        let mut words: Vec<String> = text.split(' ').map(str::to_owned).collect();
        for _ in 0..edits {
            let at = rng.below(words.len());
            match rng.below(3) {
                0 => words[at] = vocabulary.ru[rng.below(VOCABULARY)].clone(),
                1 if words.len() > 1 => {
                    words.remove(at);
                }
                _ => words.insert(at, vocabulary.ru[rng.below(VOCABULARY)].clone()),
            }
        }
        words.join(" ")
    }
}

fn key(m: &MemoryMatch) -> (String, u32) {
    (m.unit.id.clone(), m.score.to_bits())
}

fn run(index: &MemoryIndex, name: &str, queries: &[MemoryQuery], exhaustive_every: usize) {
    let mut indexed_times = Vec::new();
    let mut exhaustive_times = Vec::new();
    let mut subset_indexed_times = Vec::new();
    let (mut expected, mut found, mut identical, mut compared) = (0usize, 0usize, 0usize, 0usize);
    let mut matched = 0usize;
    for (i, query) in queries.iter().enumerate() {
        let start = Instant::now();
        let hits = index.search(query);
        let elapsed = start.elapsed();
        indexed_times.push(elapsed);
        matched += usize::from(!hits.is_empty());
        if i % exhaustive_every == 0 {
            subset_indexed_times.push(elapsed);
            let start = Instant::now();
            let reference = index.search_exhaustive(query);
            exhaustive_times.push(start.elapsed());
            let got: Vec<_> = hits.iter().map(key).collect();
            let want: Vec<_> = reference.iter().map(key).collect();
            expected += want.len();
            found += want.iter().filter(|k| got.contains(k)).count();
            identical += usize::from(got == want);
            compared += 1;
        }
    }
    let recall = if expected == 0 {
        1.0
    } else {
        found as f64 / expected as f64
    };
    println!(
        "{name}: search      p50 {:>8.3} ms  p95 {:>8.3} ms  (n={}, {} with a match)",
        ms(percentile(&indexed_times, 0.5)),
        ms(percentile(&indexed_times, 0.95)),
        indexed_times.len(),
        matched
    );
    println!(
        "{name}: exhaustive  p50 {:>8.3} ms  p95 {:>8.3} ms  (n={})",
        ms(percentile(&exhaustive_times, 0.5)),
        ms(percentile(&exhaustive_times, 0.95)),
        exhaustive_times.len()
    );
    let p50 = ms(percentile(&subset_indexed_times, 0.5)).max(1e-6);
    println!(
        "{name}: speed-up (p50, same queries) {:.0}×; recall {recall:.4}; identical {identical}/{compared}",
        ms(percentile(&exhaustive_times, 0.5)) / p50
    );
}

fn main() {
    let count: usize = std::env::var("TOLMACH_BENCH_UNITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let vocabulary = Vocabulary::new(&mut rng);
    let units: Vec<Arc<TranslationUnit>> = synthetic(count, &vocabulary, &mut rng)
        .into_iter()
        .map(Arc::new)
        .collect();
    let (rss_data, _) = rss_mib();

    let start = Instant::now();
    let mut index = MemoryIndex::new();
    for unit in &units {
        index.insert("bench", unit.clone());
    }
    let build = start.elapsed();
    let (rss, hwm) = rss_mib();
    println!(
        "memory: {count} units × 3 languages; build {:.2} s ({:.0} units/s)",
        build.as_secs_f64(),
        count as f64 / build.as_secs_f64()
    );
    println!(
        "memory: RSS {rss:.0} MiB (data alone {rss_data:.0} MiB, index ≈ {:.0} MiB), peak {hwm:.0} MiB",
        rss - rss_data
    );

    let mut rng = XorShift(42);
    let make = |rng: &mut XorShift, source: Lang, target: Lang, at: usize| {
        let unit = &units[rng.below(units.len())];
        let text = &unit.segments[at].text;
        MemoryQuery {
            text: mutated(text, at == 0, &vocabulary, rng),
            source,
            target,
            limit: 5,
            min_score: 0.7,
            memories: vec![],
        }
    };
    let zh_ru: Vec<MemoryQuery> = (0..500)
        .map(|_| make(&mut rng, Lang::zh(), Lang::ru(), 0))
        .collect();
    let ru_en: Vec<MemoryQuery> = (0..500)
        .map(|_| make(&mut rng, Lang::ru(), Lang::en(), 1))
        .collect();
    run(&index, "zh→ru", &zh_ru, 25);
    run(&index, "ru→en", &ru_en, 25);
}
