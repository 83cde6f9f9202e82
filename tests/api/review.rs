//! Review: CheckTranslation and GlossaryFor against the real server and the shipped
//! glossary, the evaluation set of `tests/data/check_translation_eval.tsv`, and the
//! `check` and `glossary-for` commands.

use tolmach::service::proto::review_client::ReviewClient;
use tolmach::service::proto::{
    CheckTranslationRequest, CheckTranslationResponse, Finding, FindingKind, SegmentPair,
};
use tonic::transport::Channel;

use crate::util::TestServer;

async fn review_client(server: &TestServer) -> ReviewClient<Channel> {
    ReviewClient::new(server.channel().await)
}

fn pair(id: &str, source: (&str, &str), target: (&str, &str)) -> SegmentPair {
    SegmentPair {
        id: id.into(),
        source_lang: source.0.into(),
        source_text: source.1.into(),
        target_lang: target.0.into(),
        target_text: target.1.into(),
    }
}

async fn check(
    client: &mut ReviewClient<Channel>,
    pairs: Vec<SegmentPair>,
) -> CheckTranslationResponse {
    client
        .check_translation(CheckTranslationRequest {
            pairs,
            collections: Vec::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("check: {e}"))
        .into_inner()
}

/// A finding as the evaluation set writes it: `missing_term:sco`, `number_mismatch`.
fn label(finding: &Finding) -> String {
    let kind = match finding.kind() {
        FindingKind::MissingTerm => "missing_term",
        FindingKind::DeprecatedTermUsed => "deprecated_used",
        FindingKind::ForbiddenTermUsed => "forbidden_used",
        FindingKind::NumberMismatch => return "number_mismatch".into(),
        FindingKind::Unspecified => "unspecified",
    };
    format!("{kind}:{}", finding.concept_id)
}

/// One pair of the evaluation set with the findings annotated for it.
struct EvalPair {
    pair: SegmentPair,
    expected: Vec<String>,
}

fn eval_set() -> Vec<EvalPair> {
    let text = include_str!("../data/check_translation_eval.tsv");
    let mut rows = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty());
    assert_eq!(
        rows.next(),
        Some("id\tsource_lang\ttarget_lang\tsource\ttarget\texpected")
    );
    rows.map(|row| {
        let fields: Vec<&str> = row.split('\t').collect();
        assert_eq!(fields.len(), 6, "{row}");
        let expected = match fields[5] {
            "-" => Vec::new(),
            list => list.split(';').map(str::to_owned).collect(),
        };
        EvalPair {
            pair: pair(fields[0], (fields[1], fields[3]), (fields[2], fields[4])),
            expected,
        }
    })
    .collect()
}

/// Precision and recall of the check on the evaluation set, written before the check was
/// first run on it. A finding is right when its kind and concept (for numbers, its kind)
/// match an annotated one, each annotation matched once. Every miss and every false alarm is
/// printed with its pair.
#[tokio::test]
async fn check_translation_meets_precision_and_recall_on_the_evaluation_set() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let set = eval_set();
    assert!(set.len() >= 60, "{} pairs", set.len());
    let reply = check(&mut client, set.iter().map(|e| e.pair.clone()).collect()).await;
    assert_eq!(reply.pairs.len(), set.len());
    let (mut right, mut found, mut expected) = (0usize, 0usize, 0usize);
    let mut report = String::new();
    for (eval, answer) in set.iter().zip(&reply.pairs) {
        assert_eq!(answer.id, eval.pair.id);
        let mut wanted = eval.expected.clone();
        expected += wanted.len();
        for finding in &answer.findings {
            found += 1;
            let label = label(finding);
            match wanted.iter().position(|w| *w == label) {
                Some(i) => {
                    wanted.remove(i);
                    right += 1;
                }
                None => report.push_str(&format!(
                    "false alarm {}: {label}: {}\n",
                    eval.pair.id, finding.message
                )),
            }
        }
        for miss in wanted {
            report.push_str(&format!(
                "missed {}: {miss} ({:?} → {:?})\n",
                eval.pair.id, eval.pair.source_text, eval.pair.target_text
            ));
        }
    }
    let precision = right as f64 / found.max(1) as f64;
    let recall = right as f64 / expected.max(1) as f64;
    println!(
        "check_translation_eval: {} pairs, {expected} expected findings, {found} found, {right} right: precision {precision:.3}, recall {recall:.3}\n{report}",
        set.len()
    );
    assert!(precision >= PRECISION && recall >= RECALL, "{report}");
}

/// At least nine findings in ten must be right: more false alarms and editors stop reading
/// the report (measured: 0.970, 32 of 33, the one false alarm a defensible flag of
/// «в рамках ШОС» rendered "within the SCO" instead of the glossary's "within the SCO
/// framework").
const PRECISION: f64 = 0.9;
/// At most one planted error in twenty may slip through, one of the 32 annotated here
/// (measured: 1.000).
const RECALL: f64 = 0.95;
