//! Translation-memory search at scale: a synthetic memory of 10⁶ units, each with zh, ru and en
//! segments, searched in-process, and the real server started over the same units in sled.
//!
//! Run with `cargo bench --bench memory` (set `TOLMACH_BENCH_UNITS` for another size, and
//! `TOLMACH_BENCH_STARTUP=0` to skip the server step). Prints index build time and the
//! process's resident memory (the units are streamed into the index, so it holds only what
//! the server would hold), Search p50/p95/p99 for zh→ru and ru→en queries (stored segments with
//! a few edits, so matches exist), where the slowest 5 % of them spent their time (filtering,
//! verifying, building the matches; lists and candidates read), what the candidate filter did (distances computed per
//! search, share of length-admissible entries pruned), the exhaustive scan's p50/p95 on a
//! subset of the same queries, the speed-up, and recall against the exhaustive results (must
//! be 1.0). The searches read the units they answer with from a sled store of the same
//! units, as the server's do; the store is filled after the index is built, so the memory
//! printed is the index's. Then it times `server::start` over that sled directory in a
//! fresh process, from nothing to serving and on to the memory index being ready (built in the
//! background after serving began), with that process's peak memory; then once more in another
//! process, which reads the index the first saved at its shutdown (the restart figure), and
//! prints that file's size per unit. Figures, not assertions: targets are in DESIGN.md.
mod common;

use common::{ms, percentile, print_index_size, rss_mib, settled_rss_mib, XorShift};

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tolmach::app::memory_checkpoint::MemorySource;
use tolmach::index::memory::{MemoryIndex, MemoryMatch, MemoryQuery, SearchStats};
use tolmach::model::{Lang, Segment, TranslationUnit};
use tolmach::server;
use tolmach::store::Store;

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

/// Unit `i` of the synthetic memory; call in order with the same generator for the same units.
fn synthetic(i: usize, vocabulary: &Vocabulary, rng: &mut XorShift) -> TranslationUnit {
    let segment = |lang: Lang, text: String| Segment {
        lang,
        text,
        tags: vec![],
    };
    TranslationUnit {
        id: format!("tu-{i:08}"),
        segments: vec![
            segment(Lang::zh(), vocabulary.zh(rng)),
            segment(Lang::ru(), vocabulary.words(rng, &vocabulary.ru)),
            segment(Lang::en(), vocabulary.words(rng, &vocabulary.en)),
        ],
        origin: "bench".into(),
        created_ms: 0,
        metadata: vec![],
    }
}

/// The seed of the unit generator, shared by the in-process build and the stored copy.
const UNITS_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

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

fn run(
    index: &MemoryIndex,
    store: &Store,
    name: &str,
    queries: &[MemoryQuery],
    exhaustive_every: usize,
) {
    let mut indexed_times = Vec::new();
    let mut exhaustive_times = Vec::new();
    let mut subset_indexed_times = Vec::new();
    let (mut expected, mut found, mut identical, mut compared) = (0usize, 0usize, 0usize, 0usize);
    let mut matched = 0usize;
    let mut filter = SearchStats::default();
    let mut each = Vec::with_capacity(queries.len());
    for (i, query) in queries.iter().enumerate() {
        let start = Instant::now();
        let (hits, stats) = index.search_with_stats(query, store);
        let elapsed = start.elapsed();
        filter += stats;
        each.push((elapsed, stats));
        indexed_times.push(elapsed);
        matched += usize::from(!hits.is_empty());
        if i % exhaustive_every == 0 {
            subset_indexed_times.push(elapsed);
            let start = Instant::now();
            let reference = index.search_exhaustive(query, store);
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
    let p95 = percentile(&indexed_times, 0.95);
    println!(
        "{name}: search      p50 {:>8.3} ms  p95 {:>8.3} ms  p99 {:>8.3} ms  (n={}, {} with a match)",
        ms(percentile(&indexed_times, 0.5)),
        ms(p95),
        ms(percentile(&indexed_times, 0.99)),
        indexed_times.len(),
        matched
    );
    print_slowest(name, &each, p95);
    println!(
        "{name}: exhaustive  p50 {:>8.3} ms  p95 {:>8.3} ms  (n={})",
        ms(percentile(&exhaustive_times, 0.5)),
        ms(percentile(&exhaustive_times, 0.95)),
        exhaustive_times.len()
    );
    println!(
        "{name}: filter      {:.1} distances per search; pruned {:.1} % of the entries of \
         admissible length in {} of {} part scans",
        filter.verified as f64 / queries.len().max(1) as f64,
        100.0 * filter.pruned as f64 / filter.admissible.max(1) as f64,
        filter.filtered_scans,
        filter.filtered_scans + filter.length_only_scans
    );
    let p50 = ms(percentile(&subset_indexed_times, 0.5)).max(1e-6);
    println!(
        "{name}: speed-up (p50, same queries) {:.0}×; recall {recall:.4}; identical {identical}/{compared}",
        ms(percentile(&exhaustive_times, 0.5)) / p50
    );
}

/// Where the searches at or above the p95 time spent it, on average: the phases of
/// [`SearchStats`] and how much of the index they read.
fn print_slowest(name: &str, each: &[(Duration, SearchStats)], p95: Duration) {
    let mut slowest = SearchStats::default();
    let mut count = 0;
    for (_, stats) in each.iter().filter(|(elapsed, _)| *elapsed >= p95) {
        slowest += *stats;
        count += 1;
    }
    let per = |total: usize| total as f64 / f64::from(count.max(1));
    let per_ms = |total: Duration| ms(total) / f64::from(count.max(1));
    println!(
        "{name}: slowest 5 % filter {:.3} ms, verify {:.3} ms, build {:.3} ms; per search {:.0} \
         postings read, {:.1} long lists unread, {:.0} candidates, {:.0} distances",
        per_ms(slowest.filtering),
        per_ms(slowest.verifying),
        per_ms(slowest.building),
        per(slowest.postings),
        per(slowest.unread_lists),
        per(slowest.candidates),
        per(slowest.verified)
    );
}

fn main() {
    if let Ok(dir) = std::env::var(STARTUP_DIR) {
        serve_once(&dir);
        return;
    }
    let count: usize = std::env::var("TOLMACH_BENCH_UNITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    // Generating the units is part of the timed build below (they are streamed into the
    // index); time it alone first, to tell the two apart.
    let start = Instant::now();
    let mut rng = XorShift(UNITS_SEED);
    let vocabulary = Vocabulary::new(&mut rng);
    let segments: usize = (0..count)
        .map(|i| synthetic(i, &vocabulary, &mut rng).segments.len())
        .sum();
    let generating = start.elapsed();
    std::hint::black_box(segments);
    let mut rng = XorShift(UNITS_SEED);
    let vocabulary = Vocabulary::new(&mut rng);
    // Units the queries are made from, picked before generating so that only they are kept.
    let mut picker = XorShift(42);
    let picks: Vec<usize> = (0..1000).map(|_| picker.below(count)).collect();
    let picked: std::collections::HashSet<usize> = picks.iter().copied().collect();
    let mut kept: HashMap<usize, TranslationUnit> = HashMap::new();

    let start = Instant::now();
    let units = (0..count).map(|i| {
        let unit = synthetic(i, &vocabulary, &mut rng);
        if picked.contains(&i) {
            kept.insert(i, unit.clone());
        }
        Ok::<_, std::convert::Infallible>(("bench".to_owned(), unit))
    });
    let Ok(index) = MemoryIndex::from_units(units);
    let build = start.elapsed();
    let (rss, hwm) = rss_mib();
    let settled = settled_rss_mib();
    println!(
        "memory: {count} units × 3 languages; build {:.2} s with generating, which alone takes {:.2} s",
        build.as_secs_f64(),
        generating.as_secs_f64()
    );
    println!(
        "memory: RSS {settled:.0} MiB once the allocator has returned the build's freed memory \
         ({rss:.0} MiB at once), peak {hwm:.0} MiB (the index, nothing else kept)"
    );

    let make = |rng: &mut XorShift, pick: usize, source: Lang, target: Lang, at: usize| {
        let unit = &kept[&picks[pick]];
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
        .map(|i| make(&mut picker, i, Lang::zh(), Lang::ru(), 0))
        .collect();
    let ru_en: Vec<MemoryQuery> = (500..1000)
        .map(|i| make(&mut picker, i, Lang::ru(), Lang::en(), 1))
        .collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = store_units(dir.path(), count);
    run(&index, &store, "zh→ru", &zh_ru, 25);
    run(&index, &store, "ru→en", &ru_en, 25);
    drop(index);
    drop(store);

    if std::env::var("TOLMACH_BENCH_STARTUP").as_deref() != Ok("0") {
        startup(dir.path(), count);
    }
}

/// Tells a child process to start the server over this data directory and report.
const STARTUP_DIR: &str = "TOLMACH_BENCH_STARTUP_DIR";

/// Stores the synthetic units in a sled store in `dir`, the store a server started there
/// would open.
fn store_units(dir: &std::path::Path, count: usize) -> Store {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let store = runtime.block_on(async {
        let store = Store::open(dir).expect("store");
        store.mark_seeded().expect("seeded");
        let mut rng = XorShift(UNITS_SEED);
        let vocabulary = Vocabulary::new(&mut rng);
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..count {
            batch.push(synthetic(i, &vocabulary, &mut rng));
            if batch.len() == 10_000 || i + 1 == count {
                store.put_units("bench", &batch).expect("stored");
                batch.clear();
            }
        }
        store.flush().await.expect("flushed");
        store
    });
    println!(
        "stored {count} units in sled in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store
}

/// Starts the server over the units stored in `dir` in a fresh process, twice.
fn startup(dir: &std::path::Path, count: usize) {
    // The first start builds the index from sled and saves it at shutdown; the second reads
    // what the first saved.
    for _start in 0..2 {
        let exe = std::env::current_exe().expect("bench executable");
        let output = std::process::Command::new(exe)
            .env(STARTUP_DIR, dir)
            .output()
            .expect("start-up process");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
    }
    print_index_size("startup", dir, count);
}

/// In the child: start the server, report the time to serving and to the memory index being
/// ready, and the memory used, then stop.
fn serve_once(dir: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let started = Instant::now();
        let running = server::start(common::server_config(std::path::Path::new(dir)))
        .await
        .expect("server starts");
        let serving = started.elapsed();
        let (rss, _) = rss_mib();
        println!(
            "startup: serving after {:.2} s; RSS {rss:.0} MiB",
            serving.as_secs_f64()
        );
        let units = running.memory_ready().await.expect("memory index built");
        let ready = started.elapsed();
        let (rss, hwm) = rss_mib();
        println!(
            "startup: memory ready after {:.2} s with {units} units; RSS {rss:.0} MiB, peak {hwm:.0} MiB; {}",
            ready.as_secs_f64(),
            match running.memory_source() {
                Some(MemorySource::Checkpoint { .. }) => "read from its file".to_owned(),
                Some(MemorySource::Rebuilt { reason }) => format!("built from sled ({reason})"),
                None => "not ready".to_owned(),
            }
        );
        running.shutdown().await.expect("shutdown");
    });
}
