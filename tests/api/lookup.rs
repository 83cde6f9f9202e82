//! Lookup against the shipped glossary: every direction, preferred rendering first, and the
//! normalizations a translator's typing needs.

use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{LookupRequest, LookupResponse, MatchKind, TermStatus};
use tonic::transport::Channel;

use crate::util::TestServer;

async fn lookup(
    client: &mut TermbaseClient<Channel>,
    text: &str,
    from: &str,
    to: &[&str],
) -> LookupResponse {
    client
        .lookup(LookupRequest {
            text: text.into(),
            source_lang: from.into(),
            target_langs: to.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("lookup {text:?}: {e}"))
        .into_inner()
}

/// The first (preferred) rendering in `lang` of the best hit.
fn first_rendering<'a>(response: &'a LookupResponse, lang: &str) -> &'a str {
    let hit = response.hits.first().expect("at least one hit");
    let rendering = hit
        .renderings
        .iter()
        .find(|r| r.lang == lang)
        .expect("a rendering in the language");
    assert_eq!(
        rendering.status,
        TermStatus::Preferred as i32,
        "preferred comes first: {rendering:?}"
    );
    &rendering.text
}

#[tokio::test]
async fn looks_up_in_every_direction_with_the_preferred_rendering_first() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // (query, source, [(target, expected preferred rendering)])
    let cases: &[(&str, &str, &[(&str, &str)])] = &[
        (
            "上海精神",
            "zh",
            &[("ru", "Шанхайский дух"), ("en", "Shanghai Spirit")],
        ),
        (
            "上海合作组织",
            "zh",
            &[
                ("ru", "Шанхайская организация сотрудничества"),
                ("en", "Shanghai Cooperation Organisation"),
            ],
        ),
        (
            "Шанхайский дух",
            "ru",
            &[("zh", "上海精神"), ("en", "Shanghai Spirit")],
        ),
        (
            "ШОС",
            "ru",
            &[
                ("zh", "上海合作组织"),
                ("en", "Shanghai Cooperation Organisation"),
            ],
        ),
        (
            "Shanghai Spirit",
            "en",
            &[("zh", "上海精神"), ("ru", "Шанхайский дух")],
        ),
        (
            "SCO",
            "en",
            &[
                ("zh", "上海合作组织"),
                ("ru", "Шанхайская организация сотрудничества"),
            ],
        ),
    ];
    for (query, from, expected) in cases {
        let targets: Vec<&str> = expected.iter().map(|(lang, _)| *lang).collect();
        let response = lookup(&mut client, query, from, &targets).await;
        let best = &response.hits[0];
        assert_eq!(best.score, 1.0, "{query}");
        assert_eq!(best.kind, MatchKind::Exact as i32, "{query}");
        for (lang, want) in *expected {
            assert_eq!(first_rendering(&response, lang), *want, "{query} → {lang}");
        }
        let langs: Vec<&str> = best.renderings.iter().map(|r| r.lang.as_str()).collect();
        assert!(
            langs.iter().all(|l| targets.contains(l)),
            "only target languages: {langs:?}"
        );
    }
}

#[tokio::test]
async fn normalized_queries_find_the_standard_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for (query, concept_term, lang, want) in [
        ("ＳＣＯ", "SCO", "zh", "上海合作组织"),
        ("SHANGHAI SPIRIT", "Shanghai Spirit", "ru", "Шанхайский дух"),
        (
            "ＳＨＡＮＧＨＡＩ spirit",
            "Shanghai Spirit",
            "zh",
            "上海精神",
        ),
        ("Шелковый путь", "Шёлковый путь", "zh", "丝绸之路"),
        ("一帶一路", "一带一路", "zh", "一带一路"),
    ] {
        let response = lookup(&mut client, query, "", &[lang]).await;
        let best = response
            .hits
            .first()
            .unwrap_or_else(|| panic!("{query}: no hit"));
        assert_eq!(best.matched_term, concept_term, "{query}");
        assert_eq!(best.kind, MatchKind::Normalized as i32, "{query}");
        assert_eq!(first_rendering(&response, lang), want, "{query}");
    }
}
