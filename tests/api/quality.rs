//! Lookup and Recognize quality over hand-built evaluation sets in `tests/data/`, against the
//! shipped glossary: the figures a translator feels.

use tolmach::service::proto::{LookupRequest, RecognizeRequest};

use crate::util::{annotated, data, occurrences, Expected, TestServer};

/// Rows of a tab-separated file, skipping the header and `#` comments.
fn rows(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect()
}

/// The preferred zh term of a hit's concept: how the evaluation set names concepts.
fn zh_preferred(hit: &tolmach::service::proto::LookupHit) -> String {
    let concept = hit.concept.as_ref().expect("concept");
    concept
        .langs
        .iter()
        .find(|s| s.lang == "zh")
        .and_then(|s| s.terms.iter().find(|t| t.status == 1))
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn lookup_evaluation_set_recall_at_1_is_at_least_095_and_negatives_find_nothing() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let set = data("lookup_eval.tsv");
    let (mut positives, mut correct, mut misses, mut false_positives) =
        (0, 0, Vec::new(), Vec::new());
    let rows = rows(&set);
    let negatives = rows.iter().filter(|row| row[1] == "negative").count();
    assert!(
        rows.len() >= 150 && negatives >= 20,
        "the set must stay large: {} queries, {negatives} negatives",
        rows.len()
    );
    for row in rows {
        let (query, category, expected) = (row[0], row[1], row.get(2).copied().unwrap_or(""));
        let response = client
            .lookup(LookupRequest {
                text: query.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .into_inner();
        if category == "negative" {
            if let Some(hit) = response.hits.first() {
                false_positives.push(format!("{query} → {} ({:.2})", hit.matched_term, hit.score));
            }
            continue;
        }
        positives += 1;
        match response.hits.first() {
            Some(hit) if zh_preferred(hit) == expected => correct += 1,
            other => misses.push(format!(
                "[{category}] {query}: want {expected}, got {:?}",
                other.map(|h| (zh_preferred(h), h.matched_term.clone(), h.score))
            )),
        }
    }
    let recall = correct as f64 / positives as f64;
    eprintln!("lookup recall@1 = {correct}/{positives} = {recall:.3}; misses: {misses:#?}");
    assert!(recall >= 0.95, "recall@1 {recall:.3}; misses: {misses:#?}");
    assert!(
        false_positives.is_empty(),
        "negatives with hits: {false_positives:#?}"
    );
}

/// Precision and recall of Recognize (all languages, all collections) over an annotated set:
/// an occurrence counts when its span, and its concept where the set names one, are right.
/// Prints the figures and every miss and unexpected occurrence.
async fn recognize_quality(set: &str) -> (f64, f64, usize) {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let (mut expected_total, mut found_total, mut matched) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    for paragraph in data(set)
        .split("\n\n")
        .filter(|p| !p.trim().is_empty() && !p.starts_with('#'))
    {
        let (text, expected) = annotated(paragraph.trim());
        let request = RecognizeRequest {
            text: text.clone(),
            ..Default::default()
        };
        let found: Vec<(usize, usize, String)> = occurrences(&mut client, request)
            .await
            .iter()
            .filter_map(|o| {
                let span = o.chars.as_ref()?;
                let concept = o.concept.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                Some((span.start as usize, span.end as usize, concept))
            })
            .collect();
        let right = |f: &(usize, usize, String), e: &Expected| {
            (f.0, f.1) == (e.0, e.1) && e.2.as_ref().is_none_or(|id| *id == f.2)
        };
        let chars: Vec<char> = text.chars().collect();
        let show = |start: usize, end: usize| chars[start..end].iter().collect::<String>();
        for f in found
            .iter()
            .filter(|f| !expected.iter().any(|e| right(f, e)))
        {
            report.push(format!("unexpected: {} ({})", show(f.0, f.1), f.2));
        }
        for e in expected
            .iter()
            .filter(|e| !found.iter().any(|f| right(f, e)))
        {
            let concept = e.2.as_deref().unwrap_or("");
            report.push(format!("missed: {} ({concept})", show(e.0, e.1)));
        }
        expected_total += expected.len();
        found_total += found.len();
        matched += found
            .iter()
            .filter(|f| expected.iter().any(|e| right(f, e)))
            .count();
    }
    let precision = matched as f64 / found_total.max(1) as f64;
    let recall = matched as f64 / expected_total.max(1) as f64;
    eprintln!(
        "{set}: recognize precision {precision:.3} recall {recall:.3} \
         ({matched} right of {expected_total} expected, {found_total} found); {report:#?}"
    );
    (precision, recall, expected_total)
}

#[tokio::test]
async fn recognize_on_annotated_seed_paragraphs_has_precision_and_recall_of_at_least_098() {
    let (precision, recall, expected) = recognize_quality("recognize_eval.txt").await;
    assert!(expected >= 60, "the annotated set must stay large");
    assert!(
        precision >= 0.98 && recall >= 0.98,
        "precision {precision:.3} recall {recall:.3}"
    );
}

/// Independent newsroom paragraphs in three languages with the traps editors met (names in
/// lower case, lone common words, lookalike letters, Chinese broken across lines, nested
/// quotes), annotated with spans and concept ids before the system was run on them.
#[tokio::test]
async fn recognize_on_annotated_newsroom_paragraphs_has_precision_and_recall_of_at_least_098() {
    let (precision, recall, expected) = recognize_quality("recognize_newsroom_eval.txt").await;
    assert!(expected >= 150, "the annotated set must stay large");
    assert!(
        precision >= 0.98 && recall >= 0.98,
        "precision {precision:.3} recall {recall:.3}"
    );
}

#[tokio::test]
async fn terms_from_the_seed_articles_are_found_with_their_standard_renderings() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let list = data("article_terms.tsv");
    let rows = rows(&list);
    assert!(
        rows.len() >= 80,
        "the list must cover at least 80 article terms"
    );
    let mut wrong = Vec::new();
    for row in rows {
        let (zh, ru, en) = (row[0], row[1], row[2]);
        let response = client
            .lookup(LookupRequest {
                text: zh.into(),
                source_lang: "zh".into(),
                target_langs: vec!["ru".into(), "en".into()],
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{zh}: {e}"))
            .into_inner();
        let Some(hit) = response.hits.first() else {
            wrong.push(format!("{zh}: not found"));
            continue;
        };
        let first = |lang: &str| {
            hit.renderings
                .iter()
                .find(|r| r.lang == lang)
                .map(|r| r.text.as_str())
        };
        if hit.score < 0.95 || first("ru") != Some(ru) || first("en") != Some(en) {
            wrong.push(format!(
                "{zh}: got {:?} {:?} {:?} at {:.2}",
                hit.matched_term,
                first("ru"),
                first("en"),
                hit.score
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
