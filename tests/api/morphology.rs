//! Inflection through the real server and the shipped glossary: every case and number form of
//! every Russian term, as the OpenCorpora dictionary makes them (`tests/data/ru_term_forms.tsv`,
//! written by `tests/morphology/generate_ru_forms.py`), is recognized in running text and
//! looked up as its concept; derived words of another meaning are not; English plurals,
//! possessives and British spellings meet the stored term.

use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, MatchKind, Occurrence, RecognizeRequest};
use tonic::transport::Channel;

use crate::util::TestServer;

/// Smallest share of the generated forms each of Recognize and Lookup must find.
const MIN_RECALL: f64 = 0.99;

/// Forms per Recognize call: one text of sentences, each holding one form.
const FORMS_PER_TEXT: usize = 40;

/// One generated form: the concept it names and how it is written.
struct Form {
    concept: String,
    term: String,
    form: String,
    grammemes: String,
}

fn generated_forms() -> Vec<Form> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ru_term_forms.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert!(fields.len() >= 4, "malformed row: {line}");
            Form {
                concept: fields[0].into(),
                term: fields[1].into(),
                form: fields[2].into(),
                grammemes: fields[3].into(),
            }
        })
        .collect()
}

async fn recognize(
    client: &mut TermbaseClient<Channel>,
    text: &str,
    lang: &str,
) -> Vec<Occurrence> {
    client
        .recognize(RecognizeRequest {
            text: text.into(),
            lang: lang.into(),
            target_langs: vec!["en".into()],
            collections: Vec::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .into_inner()
        .occurrences
}

fn concept_id(occurrence: &Occurrence) -> &str {
    occurrence.concept.as_ref().map_or("", |c| c.id.as_str())
}

/// The share found, printed with the misses.
fn report(what: &str, total: usize, misses: &[String]) -> f64 {
    let recall = 1.0 - misses.len() as f64 / total as f64;
    eprintln!(
        "{what}: {} of {total} forms ({:.2} %)",
        total - misses.len(),
        100.0 * recall
    );
    for miss in misses {
        eprintln!("  miss: {miss}");
    }
    recall
}

#[tokio::test]
async fn every_case_and_number_of_every_russian_term_is_recognized_and_looked_up() {
    let forms = generated_forms();
    assert!(
        forms.len() > 3000,
        "the generated set must cover the glossary"
    );
    let server = TestServer::start().await;
    let mut client = server.client().await;

    let mut recognize_misses = Vec::new();
    for batch in forms.chunks(FORMS_PER_TEXT) {
        // Each form in a sentence of its own, with words before and after it.
        let mut text = String::new();
        let mut spans = Vec::new();
        for form in batch {
            text.push_str("Редакция пишет, что ");
            let start = text.chars().count() as u32;
            text.push_str(&form.form);
            spans.push(start..text.chars().count() as u32);
            text.push_str(" обсуждали вчера.\n");
        }
        let found = recognize(&mut client, &text, "ru").await;
        for (form, span) in batch.iter().zip(spans) {
            let hit = found.iter().any(|o| {
                o.chars
                    .is_some_and(|c| c.start == span.start && c.end == span.end)
                    && concept_id(o) == form.concept
            });
            if !hit {
                let seen: Vec<String> = found
                    .iter()
                    .filter(|o| {
                        o.chars
                            .is_some_and(|c| c.start < span.end && span.start < c.end)
                    })
                    .map(|o| format!("{} [{}]", o.surface, concept_id(o)))
                    .collect();
                recognize_misses.push(format!(
                    "{} ({}, {}) of {}: found {seen:?}",
                    form.form, form.grammemes, form.concept, form.term
                ));
            }
        }
    }

    let mut lookup_misses = Vec::new();
    for form in &forms {
        let hits = client
            .lookup(LookupRequest {
                text: form.form.clone(),
                source_lang: "ru".into(),
                limit: 3,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", form.form))
            .into_inner()
            .hits;
        let first = hits.first();
        let stemmed_or_better = first.is_some_and(|hit| {
            hit.kind == MatchKind::Exact as i32
                || hit.kind == MatchKind::Normalized as i32
                || hit.kind == MatchKind::Stemmed as i32
        });
        let right =
            first.is_some_and(|hit| hit.concept.as_ref().is_some_and(|c| c.id == form.concept));
        if !(right && stemmed_or_better) {
            let got = first.map(|hit| {
                let id = hit.concept.as_ref().map_or("", |c| c.id.as_str());
                format!("{id} {:?} {:.2}", MatchKind::try_from(hit.kind), hit.score)
            });
            lookup_misses.push(format!(
                "{} ({}, {}) of {}: first {got:?}",
                form.form, form.grammemes, form.concept, form.term
            ));
        }
    }

    let recognize_recall = report("Recognize", forms.len(), &recognize_misses);
    let lookup_recall = report(
        "Lookup (STEMMED or stronger, first)",
        forms.len(),
        &lookup_misses,
    );
    assert!(
        recognize_recall >= MIN_RECALL,
        "Recognize recall {recognize_recall:.4}"
    );
    assert!(
        lookup_recall >= MIN_RECALL,
        "Lookup recall {lookup_recall:.4}"
    );
}
