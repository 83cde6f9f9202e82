//! Inflection through the real server and the shipped glossary: every case and number form of
//! every Russian term, as the OpenCorpora dictionary makes them (`tests/data/ru_term_forms.tsv`,
//! written by `tests/morphology/generate_ru_forms.py`), is recognized in running text and
//! looked up as its concept; derived words of another meaning are not; English plurals,
//! possessives and British spellings meet the stored term.

use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, MatchKind, Occurrence, RecognizeRequest};
use tonic::transport::Channel;

use crate::util::{occurrences, TestServer};

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
    let request = RecognizeRequest {
        text: text.into(),
        lang: lang.into(),
        target_langs: vec!["en".into()],
        ..Default::default()
    };
    occurrences(client, request).await
}

/// Whether a stored term is one word in lower case, which Recognize reports only inside an
/// enumeration of terms (see `index::running_text`).
fn is_single_common_word(term: &str) -> bool {
    term.chars().all(|c| c.is_alphabetic() && !c.is_uppercase())
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
            if is_single_common_word(&form.term) {
                // Recognize reports such a word only in an enumeration with another term.
                text.push_str("ШОС, ");
            }
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

/// Lookup of `query`: the first hit's concept id and match kind, if any.
async fn first_hit(
    client: &mut TermbaseClient<Channel>,
    query: &str,
    lang: &str,
) -> Option<(String, i32)> {
    client
        .lookup(LookupRequest {
            text: query.into(),
            source_lang: lang.into(),
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .into_inner()
        .hits
        .into_iter()
        .next()
        .map(|hit| (hit.concept.map(|c| c.id).unwrap_or_default(), hit.kind))
}

/// Whether a kind is as strong as a stem match or stronger.
fn stemmed_or_better(kind: i32) -> bool {
    [MatchKind::Exact, MatchKind::Normalized, MatchKind::Stemmed]
        .iter()
        .any(|k| *k as i32 == kind)
}

/// Words derived from a term's word, of another meaning, with the concept they must not
/// find: the adjective is not the abstract noun, the agent not the activity.
const DERIVED_NEAR_MISSES: &[(&str, &str)] = &[
    (
        "Многосторонние переговоры прошли в Пекине.",
        "multilateralism",
    ),
    ("Суд вынес справедливый приговор.", "fairness-justice"),
    ("Стороны получили равные доли.", "shanghai-spirit-equality"),
    ("Задержаны члены террористической группы.", "terrorism"),
    ("Запрещены экстремистские материалы.", "extremism"),
    ("Завод модернизированный и новый.", "modernization-drive"),
    (
        "Инфраструктурные проекты обсуждали отдельно.",
        "infrastructure",
    ),
    ("Факультет журналистики открыл набор.", "journalist"),
    ("Редакция газеты ответила читателям.", "editor"),
    ("Это взаимосвязанные задачи.", "connectivity"),
    ("Гармоничный союз сложился давно.", "he-he-harmony"),
    ("Китайские студенты приехали в Бишкек.", "china"),
    ("Российские компании подписали контракт.", "russia"),
    ("Multilateral talks resumed.", "multilateralism"),
];

#[tokio::test]
async fn derived_words_of_another_meaning_find_neither_in_text_nor_by_lookup() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for (sentence, concept) in DERIVED_NEAR_MISSES {
        let (lang, other_term) = if sentence.is_ascii() {
            ("en", "SCO")
        } else {
            ("ru", "ШОС")
        };
        // After another term and a comma, so that a one-word term would be reported too.
        let text = format!("{other_term}, {sentence}");
        let found = recognize(&mut client, &text, lang).await;
        assert!(
            found.iter().all(|o| concept_id(o) != *concept),
            "{sentence} must not name {concept}"
        );
        // The derived word alone: at most a typo-like match, never a stemmed one.
        let word = sentence.split(' ').next().unwrap_or_default();
        if let Some((id, kind)) = first_hit(&mut client, word, lang).await {
            assert!(
                id != *concept || !stemmed_or_better(kind),
                "Lookup of {word} finds {concept} as {kind}"
            );
        }
    }
    // The inflected forms of those terms are still found.
    let found = recognize(
        &mut client,
        "Они говорили о ШОС, многосторонности и терроризме.",
        "ru",
    )
    .await;
    let ids: Vec<&str> = found.iter().map(concept_id).collect();
    assert_eq!(ids, ["sco", "multilateralism", "terrorism"]);
}

/// English: plural, possessive and British spelling of terms stored in American spelling
/// (and the reverse), with the concept each names.
const ENGLISH_VARIANTS: &[(&str, &str)] = &[
    (
        "mutual learning among civilisations",
        "mutual-learning-among-civilizations",
    ),
    (
        "Global Civilisation Initiative",
        "global-civilization-initiative",
    ),
    ("Chinese modernisation", "chinese-modernization"),
    (
        "transnational organised crime",
        "transnational-organized-crime",
    ),
    (
        "multilingual information centres",
        "multilingual-information-centre",
    ),
    ("international organisations", "international-organization"),
    (
        "regional cooperation organisation's",
        "regional-cooperation-organization",
    ),
    (
        "good neighbours, good friends and good partners",
        "good-neighbours-friends-partners",
    ),
    ("SCO Anti-Drug Centers", "sco-anti-drug-centre"),
];

#[tokio::test]
async fn english_plurals_possessives_and_british_spellings_meet_the_stored_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for (variant, concept) in ENGLISH_VARIANTS {
        let text = format!("The report mentions {variant} twice.");
        let found = recognize(&mut client, &text, "en").await;
        let start = text.find(variant).expect("variant in text");
        assert!(
            found.iter().any(|o| concept_id(o) == *concept
                && o.bytes.is_some_and(
                    |b| b.start as usize == start && b.end as usize == start + variant.len()
                )),
            "{variant}: {:?}",
            found
                .iter()
                .map(|o| (&o.surface, concept_id(o)))
                .collect::<Vec<_>>()
        );
        let (id, kind) = first_hit(&mut client, variant, "en")
            .await
            .unwrap_or_default();
        assert!(
            id == *concept && stemmed_or_better(kind),
            "Lookup of {variant}: {id} {kind}"
        );
    }
}
