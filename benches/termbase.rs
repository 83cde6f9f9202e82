//! Term lookup and recognition at scale: a synthetic termbase of 10⁶ terms across zh, ru and
//! en (333 334 concepts × 3 languages), measured in-process and over loopback gRPC.
//!
//! Run with `cargo bench --bench termbase` (set `TOLMACH_BENCH_TERMS` for another size).
//! Prints index build time, resident memory, Lookup p50/p95 (exact, fuzzy and pinyin) and
//! Recognize latency on a 10 KB article, with the speed of its text pipeline, its tokenizer
//! and the raw automaton scan under it on the same text; then the term index file: its size,
//! and a server restart that reads it beside a cold one that builds from the store with the
//! file removed. Before the server, 4 096 single upserts are published one after the other
//! into the in-process index, past the 2 048 changes that call for a new base: the time each
//! publication took (what a write waits for before it is answered), its p50, p99 and
//! slowest. Figures, not assertions: targets are in DESIGN.md.

mod common;

use common::{ms, percentile, rss_mib, settled_rss_mib, XorShift};

use std::sync::Arc;
use std::time::{Duration, Instant};

use tolmach::index::{LookupQuery, TermChange, TermSearch};
use tolmach::model::{Concept, Lang, LangSection, Term};
use tolmach::server;
use tolmach::service::proto::{termbase_client::TermbaseClient, LookupRequest, RecognizeRequest};
use tolmach::store::Store;

/// Syllables of the generated words: 64 per script, so that the 10⁶ terms draw on a
/// vocabulary of about 10⁵ distinct words, as a real termbase of that size does.
const LATIN: &[&str] = &[
    "ka", "ro", "mi", "ten", "sor", "lu", "vex", "dan", "pri", "gol", "ber", "an", "tis", "mon",
    "ul", "zer", "ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qui",
    "ra", "se", "ti", "vo", "wa", "xe", "yo", "zu", "bra", "cli", "dro", "fle", "gri", "pla",
    "sta", "tre", "bel", "cor", "dis", "fer", "gan", "hol", "lin", "mar", "nor", "pol", "rus",
    "sel", "tor", "val", "wen", "zan", "ment", "tion", "ing",
];
/// Russian syllables, in the Russian alphabet only (а–я and ё): Russian text is written in it,
/// and the one-pass text pipeline leaves a text holding any rarer Cyrillic letter to the
/// step-by-step one, so letters from the rest of the Cyrillic block would measure a path
/// Russian articles do not take.
const CYRILLIC: &[&str] = &[
    "ка", "ро", "ми", "тен", "сор", "лу", "вех", "дан", "при", "гол", "бер", "ан", "тис", "мон",
    "ул", "зер", "ба", "це", "ди", "фо", "гу", "ха", "же", "ки", "ло", "му", "на", "пе", "щу",
    "ра", "се", "ти", "во", "ва", "хе", "ё", "зу", "бра", "кли", "дро", "фле", "гри", "пла", "ста",
    "тре", "бел", "кор", "дис", "фер", "ган", "хол", "лин", "мар", "нор", "пол", "рус", "сел",
    "тор", "вал", "вен", "зан", "мент", "ция", "ость",
];

fn word(rng: &mut XorShift, syllables: &[&str]) -> String {
    (0..2 + rng.below(3))
        .map(|_| syllables[rng.below(syllables.len())])
        .collect()
}

fn phrase(rng: &mut XorShift, syllables: &[&str]) -> String {
    (0..1 + rng.below(3))
        .map(|_| word(rng, syllables))
        .collect::<Vec<_>>()
        .join(" ")
}

fn han(rng: &mut XorShift) -> String {
    (0..2 + rng.below(5))
        .map(|_| char::from_u32(0x4E00 + rng.below(3500) as u32).unwrap_or('中'))
        .collect()
}

fn section(lang: Lang, text: String) -> LangSection {
    LangSection::new(lang, vec![Term::preferred(text)])
}

fn synthetic(terms: usize) -> Vec<Concept> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    (0..terms.div_ceil(3))
        .map(|i| {
            let langs = vec![
                section(Lang::zh(), han(&mut rng)),
                section(Lang::ru(), phrase(&mut rng, CYRILLIC)),
                section(Lang::en(), phrase(&mut rng, LATIN)),
            ];
            Concept::new(format!("syn-{i:07}"), "bench", langs)
        })
        .collect()
}

fn percentiles(samples: Vec<Duration>) -> String {
    format!(
        "p50 {:>8.3} ms  p95 {:>8.3} ms  (n={})",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        samples.len()
    )
}

/// Publishes 4 096 single upserts (an edited term each) one after the other and prints how
/// long each publication took: past 2 048 changes since the base, a new one is due.
fn publications(search: &Arc<TermSearch>, concepts: &[Concept]) {
    let mut took = Vec::new();
    let started = Instant::now();
    for (n, concept) in concepts.iter().take(4096).enumerate() {
        let mut edited = concept.clone();
        if let Some(term) = edited.langs.last_mut().and_then(|l| l.terms.first_mut()) {
            term.text = format!("{} edition {n}", term.text);
        }
        let publication = Instant::now();
        search.stage([TermChange::Upserted(edited)]);
        search.publish_staged();
        took.push(publication.elapsed());
    }
    let rate = took.len() as f64 / started.elapsed().as_secs_f64();
    let slowest = took.iter().max().copied().unwrap_or_default();
    println!(
        "publication of one upsert, {} in a row: {}, p99 {:.3} ms, slowest {:.1} ms; {rate:.0}/s",
        took.len(),
        percentiles(took.clone()),
        ms(percentile(&took, 0.99)),
        ms(slowest)
    );
}

/// 200 timings of `work`, whose result is kept from the optimizer.
fn repeated(work: impl Fn() -> usize) -> Vec<Duration> {
    (0..200)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .collect()
}

/// The speed at which `samples` (their median) went through `text`, in MB/s.
fn mb_per_s(text: &str, samples: &[Duration]) -> f64 {
    text.len() as f64 / percentile(samples, 0.5).as_secs_f64() / 1e6
}

/// Queries with one typo: a substituted character in the middle of a stored term.
fn typo(text: &str, rng: &mut XorShift) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = chars.len() / 2;
    chars[at] = if chars[at].is_ascii() {
        'q'
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&chars[at]) {
        char::from_u32(0x4E00 + rng.below(3500) as u32).unwrap_or('国')
    } else {
        'ю'
    };
    chars.into_iter().collect()
}

/// A 10 KB news article in `lang` (zh, ru or en) that names a stored term in every sentence,
/// among ordinary words: the Chinese one exercises the Han automaton and the word-boundary
/// check, the Russian and English ones the stem matches.
fn article(concepts: &[Concept], lang: usize, rng: &mut XorShift) -> String {
    let (before, after) = [
        ("在合作框架下，双方讨论了", "等问题。"),
        (
            "В рамках сотрудничества стороны обсудили ",
            " и другие вопросы. ",
        ),
        (
            "Within the framework of cooperation the parties discussed ",
            " and other issues. ",
        ),
    ][lang];
    let mut text = String::new();
    while text.len() < 10 * 1024 {
        let concept = &concepts[rng.below(concepts.len())];
        text.push_str(before);
        text.push_str(&concept.langs[lang].terms[0].text);
        text.push_str(after);
    }
    text
}

fn main() {
    let terms: usize = std::env::var("TOLMACH_BENCH_TERMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let concepts = synthetic(terms);
    let mut rng = XorShift(42);
    let queries: Vec<String> = (0..2000)
        .map(|_| {
            let c = &concepts[rng.below(concepts.len())];
            c.langs[rng.below(3)].terms[0].text.clone()
        })
        .collect();
    let typos: Vec<String> = queries.iter().map(|q| typo(q, &mut rng)).collect();
    let articles: Vec<(&str, String)> = ["zh", "ru", "en"]
        .into_iter()
        .enumerate()
        .map(|(lang, name)| (name, article(&concepts, lang, &mut rng)))
        .collect();

    let rss_before = settled_rss_mib();
    let started = Instant::now();
    let search = Arc::new(TermSearch::new(concepts.clone(), Default::default()));
    let build = started.elapsed();
    let (rss_at_once, peak) = rss_mib();
    let rss_after = settled_rss_mib();
    println!(
        "termbase: {} concepts, {} terms",
        concepts.len(),
        concepts.len() * 3
    );
    println!(
        "index build: {:.2} s; resident memory of the index ≈ {:.0} MiB once the allocator \
              has returned the build's freed memory ({:.0} MiB at once; process RSS {:.0} MiB, \
              peak {:.0} MiB)",
        build.as_secs_f64(),
        rss_after - rss_before,
        rss_at_once - rss_before,
        rss_after,
        peak
    );

    let snapshot = search.snapshot();
    // As the server does for a request without a language: the script's.
    let query = |text: &str| LookupQuery {
        text: text.to_owned(),
        source_lang: tolmach::text::detect_lang(text).and_then(|tag| Lang::parse(tag).ok()),
        limit: 10,
        min_score: 0.55,
        collections: vec![],
        pinyin: true,
    };
    let timed = |list: &[String]| {
        list.iter()
            .map(|q| {
                let started = Instant::now();
                std::hint::black_box(snapshot.lookup(&query(q)));
                started.elapsed()
            })
            .collect::<Vec<_>>()
    };
    println!("in-process Lookup exact : {}", percentiles(timed(&queries)));
    let fuzzy = timed(&typos);
    println!("in-process Lookup fuzzy : {}", percentiles(fuzzy.clone()));
    for (lang, script) in [
        ("zh", '\u{4E00}'..='\u{9FFF}'),
        ("ru", '\u{0400}'..='\u{04FF}'),
        ("en", 'a'..='z'),
    ] {
        let of_lang: Vec<Duration> = typos
            .iter()
            .zip(&fuzzy)
            .filter(|(q, _)| q.chars().next().is_some_and(|c| script.contains(&c)))
            .map(|(_, d)| *d)
            .collect();
        println!("  fuzzy, {lang} queries   : {}", percentiles(of_lang));
    }
    // The toneless pinyin of the Chinese queries, as a translator types it.
    let pinyin: Vec<String> = queries
        .iter()
        .filter_map(|q| tolmach::text::pinyin::reading_keys(q).into_iter().next())
        .collect();
    println!("in-process Lookup pinyin: {}", percentiles(timed(&pinyin)));
    for (lang, text) in &articles {
        let recognize = repeated(|| snapshot.recognize(text, None, &[]).len());
        let recognize_speed = mb_per_s(text, &recognize);
        println!(
            "in-process Recognize {} KB {lang} article: {}; {recognize_speed:.1} MB/s, {} terms found",
            text.len() / 1024,
            percentiles(recognize),
            snapshot.recognize(text, None, &[]).len()
        );
        // Recognize's first steps measured on their own: the text pipeline, the tokens with
        // their stems, and the automaton's overlapping scan with nothing checked, its floor.
        let normalize = repeated(|| tolmach::text::normalize(text).as_str().len());
        let normalized = tolmach::text::normalize(text);
        let tokenize = repeated(|| tolmach::text::tokenize_borrowed(normalized.as_str()).len());
        let scan = repeated(|| snapshot.automaton_matches(normalized.as_str()));
        let scan_speed = mb_per_s(text, &scan);
        println!(
            "  normalization {:.1} MB/s, tokens {:.1} MB/s, automaton scan {scan_speed:.1} MB/s \
             ({} matches); Recognize / scan = {:.2}",
            mb_per_s(text, &normalize),
            mb_per_s(text, &tokenize),
            snapshot.automaton_matches(normalized.as_str()),
            recognize_speed / scan_speed
        );
    }

    publications(&search, &concepts);

    // The in-process index is not the server's: free it before the server builds its own.
    drop(snapshot);
    drop(search);
    // The server on a runtime of its own and the client on another, as a CAT tool in another
    // process would be: the client's tasks do not queue behind the server's on its workers.
    let server_runtime = tokio::runtime::Runtime::new().expect("server runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let running = server_runtime.block_on(async {
        {
            let store = Store::open(dir.path()).expect("store");
            let started = Instant::now();
            store.insert_concepts(concepts, 0).expect("stored");
            store.mark_seeded().expect("seeded");
            store.flush().await.expect("flushed");
            println!("store load: {:.2} s", started.elapsed().as_secs_f64());
        }
        let started = Instant::now();
        let running = server::start(common::server_config(dir.path()))
            .await
            .expect("server");
        println!(
            "server start-up with {} concepts: {:.2} s",
            running.concept_count,
            started.elapsed().as_secs_f64()
        );
        running
    });
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    client_runtime.block_on(async {
        let mut client = TermbaseClient::connect(format!("http://{}", running.addr))
            .await
            .expect("client");
        for (name, list) in [("exact", &queries), ("fuzzy", &typos)] {
            let mut samples = Vec::new();
            for q in list.iter() {
                let started = Instant::now();
                let request = LookupRequest {
                    text: q.clone(),
                    limit: 10,
                    ..Default::default()
                };
                std::hint::black_box(client.lookup(request).await.expect("lookup"));
                samples.push(started.elapsed());
            }
            println!("gRPC loopback Lookup {name:<5}: {}", percentiles(samples));
        }
        for (lang, text) in &articles {
            let mut samples = Vec::new();
            // 300 calls: with 100, the p95 was the fifth slowest call and moved by a
            // millisecond from run to run.
            for _ in 0..300 {
                let started = Instant::now();
                let request = RecognizeRequest {
                    text: text.clone(),
                    ..Default::default()
                };
                std::hint::black_box(client.recognize(request).await.expect("recognize"));
                samples.push(started.elapsed());
            }
            println!(
                "gRPC loopback Recognize {lang} article: {}",
                percentiles(samples)
            );
        }
    });
    // The client's connection lives on its runtime: gone with it, so shutdown need not wait.
    drop(client_runtime);
    server_runtime.block_on(async {
        let started = Instant::now();
        running.shutdown().await.expect("shutdown");
        println!(
            "server shutdown with the last checkpoint: {:.2} s",
            started.elapsed().as_secs_f64()
        );
        let file = dir.path().join(tolmach::index::TERM_INDEX_FILE);
        let size = std::fs::metadata(&file).map_or(0, |m| m.len());
        println!(
            "term index file: {:.0} MiB",
            size as f64 / (1024.0 * 1024.0)
        );
        restart(dir.path(), "from the term index file").await;
        std::fs::remove_file(&file).expect("file removed");
        restart(dir.path(), "from the store (file removed)").await;
    });
}

/// Starts the server again on `dir`, prints how long it took before serving, and stops it.
async fn restart(dir: &std::path::Path, how: &str) {
    let started = Instant::now();
    let running = server::start(common::server_config(dir))
        .await
        .expect("server");
    println!(
        "server restart {how}: {:.2} s ({:?})",
        started.elapsed().as_secs_f64(),
        running.term_index
    );
    running.shutdown().await.expect("shutdown");
}
