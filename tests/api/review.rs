//! Review: CheckTranslation and GlossaryFor against the real server and the shipped
//! glossary, the evaluation set of `tests/data/check_translation_eval.tsv`, and the
//! `check` and `glossary-for` commands.

use tolmach::app::Limits;
use tolmach::auth::Role;
use tolmach::service::proto::review_client::ReviewClient;
use tolmach::service::proto::{
    CheckTranslationRequest, CheckTranslationResponse, Concept, Finding, FindingKind,
    FindingSeverity, GlossaryForRequest, GlossaryForResponse, LangSection, SegmentPair, Span,
    TermStatus, TextPlace, UpsertConceptRequest,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::auth::{keyed, termbase};
use crate::util::{cli_output, run_cli, start_with_keys, store, term, TestServer};

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

/// The findings of one pair checked against every collection.
async fn findings(
    client: &mut ReviewClient<Channel>,
    source: (&str, &str),
    target: (&str, &str),
) -> Vec<Finding> {
    let mut reply = check(client, vec![pair("p", source, target)]).await;
    reply.pairs.remove(0).findings
}

fn labels(found: &[Finding]) -> Vec<String> {
    found.iter().map(label).collect()
}

/// The byte, char and UTF-16 spans of `place`.
fn spans(place: &Option<TextPlace>) -> [(u32, u32); 3] {
    let place = place.as_ref().expect("a place");
    let pair = |s: &Option<Span>| s.as_ref().map(|s| (s.start, s.end)).expect("a span");
    [pair(&place.bytes), pair(&place.chars), pair(&place.utf16)]
}

/// Byte, char and UTF-16 span of `part` in `text` (its first occurrence).
fn expected_spans(text: &str, part: &str) -> [(u32, u32); 3] {
    let start = text.find(part).expect("part of the text");
    let end = start + part.len();
    let count = |s: &str| (s.chars().count() as u32, s.encode_utf16().count() as u32);
    let (c0, u0) = count(&text[..start]);
    let (c1, u1) = count(&text[..end]);
    [(start as u32, end as u32), (c0, c1), (u0, u1)]
}

#[tokio::test]
async fn a_deprecated_rendering_is_reported_with_both_spans_the_used_term_and_the_approved_ones() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let source = "2001年，上海合作组织成立。";
    let target = "В 2001 году была основана Шанхайская организация по сотрудничеству.";
    let found = findings(&mut client, ("zh", source), ("ru", target)).await;
    assert_eq!(labels(&found), ["deprecated_used:sco"], "{found:?}");
    let finding = &found[0];
    assert_eq!(finding.severity(), FindingSeverity::Warning);
    assert_eq!(
        spans(&finding.source),
        expected_spans(source, "上海合作组织")
    );
    assert_eq!(
        spans(&finding.target),
        expected_spans(target, "Шанхайская организация по сотрудничеству")
    );
    assert_eq!(
        finding.used_term,
        "Шанхайская организация по сотрудничеству"
    );
    assert!(
        finding.used_term_note.contains("without по"),
        "{}",
        finding.used_term_note
    );
    assert_eq!(
        finding.expected,
        ["Шанхайская организация сотрудничества", "ШОС"],
        "preferred first"
    );
    assert!(
        finding.message.contains("deprecated"),
        "{}",
        finding.message
    );
}

#[tokio::test]
async fn a_missing_term_has_a_source_span_and_no_target() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let source = "Стороны подтвердили приверженность Шанхайскому духу.";
    let found = findings(
        &mut client,
        ("ru", source),
        (
            "en",
            "The parties reaffirmed their commitment to the spirit of the city.",
        ),
    )
    .await;
    assert_eq!(labels(&found), ["missing_term:shanghai-spirit"]);
    assert_eq!(
        spans(&found[0].source),
        expected_spans(source, "Шанхайскому духу")
    );
    assert!(found[0].target.is_none());
    assert_eq!(found[0].expected, ["Shanghai Spirit"]);
}

/// A concept of collection `test` whose Russian side has a forbidden variant.
fn concept_with_forbidden_variant() -> Concept {
    Concept {
        id: "press-pool".into(),
        collection: "test".into(),
        langs: vec![
            LangSection {
                lang: "en".into(),
                terms: vec![term("press pool", TermStatus::Preferred)],
                ..Default::default()
            },
            LangSection {
                lang: "ru".into(),
                terms: vec![
                    term("пресс-пул", TermStatus::Preferred),
                    tolmach::service::proto::Term {
                        note: "house style: never".into(),
                        ..term("журналистская стая", TermStatus::Forbidden)
                    },
                ],
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

#[tokio::test]
async fn forbidden_renderings_are_errors_with_or_without_a_source_term() {
    let server = TestServer::start().await;
    store(&mut server.client().await, concept_with_forbidden_variant()).await;
    let mut client = review_client(&server).await;
    let found = findings(
        &mut client,
        ("en", "The press pool waited."),
        ("ru", "Журналистская стая ждала."),
    )
    .await;
    assert_eq!(labels(&found), ["forbidden_used:press-pool"]);
    assert_eq!(found[0].severity(), FindingSeverity::Error);
    assert_eq!(found[0].used_term_note, "house style: never");
    assert_eq!(found[0].expected, ["пресс-пул"]);
    assert!(found[0].source.is_some());

    // The same variant with nothing in the source that asks for it, and a deprecated one.
    let found = findings(
        &mut client,
        ("en", "Everyone waited."),
        (
            "ru",
            "Журналистская стая ждала, как и весь исламский терроризм.",
        ),
    )
    .await;
    assert_eq!(
        labels(&found),
        ["forbidden_used:press-pool", "deprecated_used:terrorism"]
    );
    assert!(found
        .iter()
        .all(|f| f.source.is_none() && f.target.is_some()));
}

#[tokio::test]
async fn inflected_russian_renderings_are_not_flagged() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let cases = [
        (
            "与会各方强调上海精神的重要性。",
            "Участники подчеркнули важность Шанхайского духа.",
        ),
        (
            "专家讨论了共建“一带一路”倡议的成果。",
            "Эксперты обсудили итоги инициативы «Один пояс, один путь».",
        ),
        (
            "各国在上海合作组织框架内深化合作。",
            "Страны углубляют сотрудничество в рамках ШОС.",
        ),
        (
            "各方共同打击三股势力。",
            "Стороны совместно борются с тремя силами зла.",
        ),
        ("会议在比什凯克举行。", "Встреча прошла в Бишкеке."),
    ];
    for (source, target) in cases {
        let found = findings(&mut client, ("zh", source), ("ru", target)).await;
        assert!(found.is_empty(), "{target}: {:?}", labels(&found));
    }
}

#[tokio::test]
async fn a_chinese_term_inside_a_longer_different_term_does_not_count() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    // 上海 (the city) is written only inside 上海精神 (the Shanghai Spirit).
    let found = findings(
        &mut client,
        ("en", "Delegates arrived in Shanghai."),
        ("zh", "代表们讨论了上海精神。"),
    )
    .await;
    assert_eq!(labels(&found), ["missing_term:shanghai"]);
    // Written on its own, it does.
    let found = findings(
        &mut client,
        ("en", "Delegates arrived in Shanghai."),
        ("zh", "代表们抵达上海。"),
    )
    .await;
    assert!(found.is_empty(), "{:?}", labels(&found));
}

#[tokio::test]
async fn numbers_are_compared_by_value_and_a_changed_one_has_both_spans() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let equal = [
        (
            ("en", "The expo attracted 1,000 companies."),
            ("ru", "Выставка привлекла 1 000 компаний."),
        ),
        (
            ("en", "Trade grew by 1.5% to 350 million dollars."),
            ("ru", "Торговля выросла на 1,5% до 350 млн долларов."),
        ),
        (
            ("zh", "双边贸易额达到3.5亿美元。"),
            ("en", "Bilateral trade reached 350 million US dollars."),
        ),
        (
            ("zh", "中欧班列开行10万列。"),
            ("ru", "Поезда Китай — Европа совершили 100 тыс. рейсов."),
        ),
    ];
    for (source, target) in equal {
        let found = findings(&mut client, source, target).await;
        let numbers: Vec<_> = found
            .iter()
            .filter(|f| f.kind() == FindingKind::NumberMismatch)
            .collect();
        assert!(numbers.is_empty(), "{}: {numbers:?}", target.1);
    }
    let source = "双边贸易额同比增长15%。";
    let target = "Объем торговли вырос на 25% в годовом исчислении.";
    let found = findings(&mut client, ("zh", source), ("ru", target)).await;
    assert_eq!(labels(&found), ["number_mismatch"]);
    assert_eq!(found[0].severity(), FindingSeverity::Error);
    assert_eq!(spans(&found[0].source), expected_spans(source, "15"));
    assert_eq!(spans(&found[0].target), expected_spans(target, "25"));
    // A number dropped has only its source span.
    let found = findings(
        &mut client,
        ("en", "The SCO summit drew 12 leaders."),
        ("ru", "Саммит ШОС собрал лидеров."),
    )
    .await;
    assert_eq!(labels(&found), ["number_mismatch"]);
    assert!(found[0].source.is_some() && found[0].target.is_none());
}

async fn glossary_for(
    client: &mut ReviewClient<Channel>,
    text: &str,
    from: &str,
    to: &str,
) -> GlossaryForResponse {
    client
        .glossary_for(GlossaryForRequest {
            text: text.into(),
            source_lang: from.into(),
            target_lang: to.into(),
            collections: Vec::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("glossary for {text:?}: {e}"))
        .into_inner()
}

#[tokio::test]
async fn glossary_for_holds_only_the_terms_present_as_deepl_entries_and_a_prompt_block() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let text = "上海精神是上海合作\n组织的基石，上海精神\t指引共商共建共享。";
    let glossary = glossary_for(&mut client, text, "zh", "ru").await;
    let ids: Vec<&str> = glossary
        .entries
        .iter()
        .map(|e| e.concept_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "shanghai-spirit",
            "sco",
            "consultation-contribution-shared-benefits"
        ]
    );
    let spirit = &glossary.entries[0];
    assert_eq!(
        spirit.source_forms,
        ["上海精神"],
        "one form, however often it occurs"
    );
    assert_eq!(spirit.target, "Шанхайский дух");
    let sco = &glossary.entries[1];
    assert_eq!(sco.source_forms, ["上海合作\n组织"]);
    assert_eq!(sco.avoid, ["Шанхайская организация по сотрудничеству"]);
    assert!(!sco.note.is_empty(), "a sense note from the definition");

    // DeepL: one line per distinct source, one tab each, nothing to trim, no line break
    // inside an entry; a CSV field with a comma quoted.
    let lines: Vec<&str> = glossary.deepl_tsv.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 2, "{line:?}");
        assert!(
            fields.iter().all(|f| !f.is_empty() && f.trim() == *f),
            "{line:?}"
        );
    }
    assert!(lines.contains(&"上海合作 组织\tШанхайская организация сотрудничества"));
    assert!(glossary
        .deepl_csv
        .contains("共商共建共享,\"совместные консультации, совместное строительство и совместное использование\""));
    assert!(glossary.omitted.is_empty(), "{:?}", glossary.omitted);

    assert!(
        glossary.prompt.contains("上海精神 → Шанхайский дух"),
        "{}",
        glossary.prompt
    );
    assert!(
        glossary
            .prompt
            .contains("Do not use: Шанхайская организация по сотрудничеству"),
        "{}",
        glossary.prompt
    );
    assert!(!glossary.prompt.contains("Пояс"), "only terms of the text");
}

#[tokio::test]
async fn acronyms_are_marked_case_sensitive_in_the_glossary() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let glossary = glossary_for(
        &mut client,
        "The SCO upholds the Shanghai Spirit.",
        "en",
        "ru",
    )
    .await;
    let flags: Vec<(&str, bool)> = glossary
        .entries
        .iter()
        .map(|e| (e.concept_id.as_str(), e.case_sensitive))
        .collect();
    assert_eq!(flags, [("sco", true), ("shanghai-spirit", false)]);
    assert!(
        glossary
            .prompt
            .contains("SCO → Шанхайская организация сотрудничества ("),
        "{}",
        glossary.prompt
    );
    assert!(glossary.prompt.contains("keep case"), "{}", glossary.prompt);
}

fn assert_invalid<T>(result: Result<T, Status>, field: &str) {
    let Err(status) = result else {
        panic!("{field}: must be refused")
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().contains(field),
        "{field}: {}",
        status.message()
    );
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = review_client(&server).await;
    let request = |pairs: Vec<SegmentPair>| CheckTranslationRequest {
        pairs,
        collections: Vec::new(),
    };
    let good = || pair("1", ("en", "SCO"), ("ru", "ШОС"));
    assert_invalid(client.check_translation(request(vec![])).await, "pairs");
    let bad_lang = SegmentPair {
        source_lang: "english!".into(),
        ..good()
    };
    assert_invalid(
        client
            .check_translation(request(vec![good(), bad_lang]))
            .await,
        "pairs[1].source_lang",
    );
    let no_source = SegmentPair {
        source_text: " ".into(),
        ..good()
    };
    assert_invalid(
        client.check_translation(request(vec![no_source])).await,
        "pairs[0].source_text",
    );
    assert_invalid(
        client.check_translation(request(vec![good(); 1001])).await,
        "more than 1000 pairs",
    );
    // Over 1 MiB of text, within the transport's bound for the message.
    let long = pair("1", ("en", &"SCO ".repeat(280_000)), ("ru", ""));
    assert_invalid(
        client.check_translation(request(vec![long])).await,
        "at most 1048576",
    );
    let mut bad_collection = request(vec![good()]);
    bad_collection.collections = vec!["no spaces allowed".into()];
    assert_invalid(
        client.check_translation(bad_collection).await,
        "collections",
    );

    let glossary = |text: &str, to: &str| GlossaryForRequest {
        text: text.into(),
        source_lang: "en".into(),
        target_lang: to.into(),
        collections: Vec::new(),
    };
    assert_invalid(client.glossary_for(glossary("", "ru")).await, "text");
    assert_invalid(
        client.glossary_for(glossary("SCO", "")).await,
        "target_lang",
    );
}

#[tokio::test]
async fn a_scoped_key_checks_against_its_collections_only() {
    let (server, secrets) = start_with_keys(vec![
        crate::auth::key("chief", Role::Admin, &[], &[]),
        crate::auth::key("desk-7", Role::Reader, &["test"], &[]),
    ])
    .await;
    termbase(&server, &secrets[0])
        .await
        .upsert_concept(UpsertConceptRequest {
            concept: Some(concept_with_forbidden_variant()),
            ..Default::default()
        })
        .await
        .expect("stored");
    let pairs = || {
        vec![pair(
            "1",
            ("en", "The SCO press pool waited."),
            ("ru", "Журналистская стая ждала."),
        )]
    };
    let mut chief = ReviewClient::new(keyed(&server, Some(&secrets[0])).await);
    let mut desk = ReviewClient::new(keyed(&server, Some(&secrets[1])).await);
    let request = |collections: Vec<String>| CheckTranslationRequest {
        pairs: pairs(),
        collections,
    };
    let everything = chief
        .check_translation(request(vec![]))
        .await
        .expect("checked");
    assert_eq!(
        labels(&everything.into_inner().pairs[0].findings),
        ["missing_term:sco", "forbidden_used:press-pool"]
    );
    let scoped = desk
        .check_translation(request(vec![]))
        .await
        .expect("checked");
    assert_eq!(
        labels(&scoped.into_inner().pairs[0].findings),
        ["forbidden_used:press-pool"],
        "the glossary's SCO is outside the key's scope"
    );
    let refused = desk
        .check_translation(request(vec!["sco-glossary".into()]))
        .await
        .expect_err("outside the scope");
    assert_eq!(refused.code(), Code::PermissionDenied);
    let glossary = desk
        .glossary_for(GlossaryForRequest {
            text: "The SCO press pool waited.".into(),
            source_lang: "en".into(),
            target_lang: "ru".into(),
            collections: Vec::new(),
        })
        .await
        .expect("made")
        .into_inner();
    let ids: Vec<&str> = glossary
        .entries
        .iter()
        .map(|e| e.concept_id.as_str())
        .collect();
    assert_eq!(ids, ["press-pool"]);
}

/// Writes `files` (name, content) into a fresh directory and answers it.
fn files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).expect("written");
    }
    dir
}

/// Runs `tolmach check` against `server`; answers its exit code and standard output.
fn check_cli(server: &TestServer, args: &[&str]) -> (Option<i32>, String) {
    let url = format!("http://{}", server.server.addr);
    let output = cli_output(&[&["check"], args, &["--server", &url]].concat(), "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("error:"), "{args:?}: {stderr}");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_command_reads_two_texts_line_by_line_and_exits_1_on_errors() {
    let server = TestServer::start().await;
    let dir = files(&[
        ("zh.txt", "上海精神是上海合作组织的基石。\n\n双边贸易额同比增长15%。\n"),
        ("ru.txt", "Шанхайский дух — основа Шанхайской организации сотрудничества.\n\nОбъем торговли вырос на 25%.\n"),
        ("ok.txt", "Шанхайский дух — основа ШОС.\n\nОбъем торговли вырос на 15%.\n"),
    ]);
    let path = |name: &str| dir.path().join(name).display().to_string();
    let langs = ["--source-lang", "zh", "--target-lang", "ru"];
    let (code, out) = check_cli(
        &server,
        &[&[path("zh.txt").as_str(), &path("ru.txt")][..], &langs].concat(),
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("line 3\n"), "{out}");
    assert!(out.contains("source: 双边贸易额同比增长[15]%。"), "{out}");
    assert!(
        out.contains("target: Объем торговли вырос на [25]%."),
        "{out}"
    );
    assert!(
        out.contains("2 pair(s) checked, 1 with findings: 1 error(s), 0 warning(s)"),
        "{out}"
    );

    let (code, out) = check_cli(
        &server,
        &[&[path("zh.txt").as_str(), &path("ok.txt")][..], &langs].concat(),
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, json) = check_cli(
        &server,
        &[
            &[path("zh.txt").as_str(), &path("ru.txt"), "--json"][..],
            &langs,
        ]
        .concat(),
    );
    assert_eq!(code, Some(1));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["errors"], 1, "{json}");
    assert_eq!(
        json["pairs"][1]["findings"][0]["kind"],
        "FINDING_KIND_NUMBER_MISMATCH"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_command_reads_the_units_of_tmx_and_xliff_files() {
    let server = TestServer::start().await;
    let dir = files(&[
        (
            "memory.tmx",
            r#"<tmx version="1.4"><header srclang="zh" datatype="plaintext" segtype="sentence" o-tmf="x" adminlang="en" creationtool="x" creationtoolversion="1"/><body>
<tu tuid="t1"><tuv xml:lang="zh"><seg>中国支持共建“一带一路”倡议。</seg></tuv><tuv xml:lang="en"><seg>China supports the Belt and Road strategy.</seg></tuv></tu>
<tu tuid="t2"><tuv xml:lang="zh"><seg>上海精神</seg></tuv><tuv xml:lang="en"><seg>the Shanghai Spirit</seg></tuv></tu>
</body></tmx>"#,
        ),
        (
            "v12.xlf",
            r#"<xliff version="1.2"><file source-language="zh" target-language="ru" datatype="plaintext" original="a"><body>
<trans-unit id="u1"><source>上海合作组织成立于<ph id="1">&lt;b&gt;</ph>2001年。</source><target>Шанхайская организация по сотрудничеству основана в <g id="2">2001</g> году.</target></trans-unit>
</body></file></xliff>"#,
        ),
        (
            "v20.xlf",
            r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="ru"><file id="f"><unit id="n1"><segment><source>The SCO summit drew <pc id="1">12</pc> leaders.</source><target>Саммит ШОС собрал 21 лидера.</target></segment></unit></file></xliff>"#,
        ),
    ]);
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (code, out) = check_cli(&server, &[path("memory.tmx").as_str()]);
    assert_eq!(code, Some(1), "a forbidden term is an error: {out}");
    assert!(out.contains("t1\n") && !out.contains("t2\n"), "{out}");
    assert!(
        out.contains("target: China supports the [Belt and Road strategy]."),
        "{out}"
    );

    let (code, out) = check_cli(&server, &[path("v12.xlf").as_str()]);
    assert_eq!(code, Some(0), "a deprecated term is a warning: {out}");
    assert!(out.contains("u1\n"), "{out}");
    assert!(
        out.contains("[Шанхайская организация по сотрудничеству]"),
        "{out}"
    );
    assert!(out.contains("0 error(s), 1 warning(s)"), "{out}");

    let (code, out) = check_cli(&server, &[path("v20.xlf").as_str()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("n1\n") && out.contains("source: The SCO summit drew [12] leaders."),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn glossary_for_command_prints_deepl_entries_and_the_prompt() {
    let server = TestServer::start().await;
    let dir = files(&[("zh.txt", "上海精神和上海合作组织")]);
    let file = dir.path().join("zh.txt").display().to_string();
    let args = |format: &str| {
        [
            "glossary-for",
            file.as_str(),
            "--from",
            "zh",
            "--to",
            "ru",
            "--format",
            format,
        ]
        .map(str::to_owned)
    };
    let tsv = run_cli(
        &server,
        &args("deepl-tsv").each_ref().map(String::as_str),
        "",
    );
    assert_eq!(
        tsv,
        "上海精神\tШанхайский дух\n上海合作组织\tШанхайская организация сотрудничества\n"
    );
    let csv = run_cli(
        &server,
        &args("deepl-csv").each_ref().map(String::as_str),
        "",
    );
    assert!(csv.starts_with("上海精神,Шанхайский дух\n"), "{csv}");
    let prompt = run_cli(&server, &args("prompt").each_ref().map(String::as_str), "");
    assert!(prompt.contains("Use these renderings:"), "{prompt}");
}

#[tokio::test]
async fn checks_and_glossaries_are_refused_at_once_when_no_recognition_permit_is_free() {
    let server = TestServer::start_with(Limits {
        recognize: 0,
        ..Limits::default()
    })
    .await;
    let mut client = review_client(&server).await;
    let refused = client
        .check_translation(CheckTranslationRequest {
            pairs: vec![pair("1", ("en", "SCO"), ("ru", "ШОС"))],
            collections: Vec::new(),
        })
        .await
        .expect_err("no permit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let refused = client
        .glossary_for(GlossaryForRequest {
            text: "SCO".into(),
            source_lang: "en".into(),
            target_lang: "ru".into(),
            collections: Vec::new(),
        })
        .await
        .expect_err("no permit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
}
