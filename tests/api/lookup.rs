//! Lookup against the shipped glossary: every direction, preferred rendering first, and the
//! normalizations a translator's typing needs.

use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{Concept, LookupRequest, LookupResponse, MatchKind, TermStatus};
use tonic::transport::Channel;

use crate::util::{concept, set_priority, store, TestServer};

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
    // (query, source, [(target, expected preferred rendering)])
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
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
        ("Шёлковый путь", "Шелковый путь", "zh", "丝绸之路"),
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

#[tokio::test]
async fn inflections_typos_and_partials_are_found_with_their_kind() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // (query, expected matched term, expected kind)
    let cases: &[(&str, &str, MatchKind)] = &[
        ("Шанхайского духа", "Шанхайский дух", MatchKind::Stemmed),
        ("Shangai Spirit", "Shanghai Spirit", MatchKind::Fuzzy),
        ("Шанхайский дюх", "Шанхайский дух", MatchKind::Fuzzy),
        ("一代一路", "一带一路", MatchKind::Fuzzy),
        ("“一带一路”倡议的", "\"一带一路\"倡议", MatchKind::Partial),
    ];
    for (query, want, kind) in cases {
        let response = lookup(&mut client, query, "", &[]).await;
        let best = response
            .hits
            .first()
            .unwrap_or_else(|| panic!("{query}: no hit"));
        assert_eq!(
            (best.matched_term.as_str(), best.kind),
            (*want, *kind as i32),
            "{query}"
        );
        assert!(
            best.score < 1.0 && best.score >= 0.55,
            "{query}: score {}",
            best.score
        );
    }
}

#[tokio::test]
async fn limit_and_min_score_are_honoured_and_nonsense_finds_nothing() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let many = client
        .lookup(LookupRequest {
            text: "合作".into(),
            limit: 3,
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    assert_eq!(many.hits.len(), 3);
    assert!(
        many.hits.windows(2).all(|w| w[0].score >= w[1].score),
        "best first"
    );
    let strict = client
        .lookup(LookupRequest {
            text: "Shangai Spirit".into(),
            min_score: 0.95,
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    assert!(
        strict.hits.is_empty(),
        "a typo scores below 0.95: {:?}",
        strict.hits
    );
    for nonsense in ["qwzxv plorkt", "Бздыщ хрумпель", "猫狗鱼鸟", "zzzz"] {
        let response = lookup(&mut client, nonsense, "", &[]).await;
        assert!(
            response.hits.is_empty(),
            "{nonsense}: {:?}",
            response.hits.first().map(|h| &h.matched_term)
        );
    }
}

async fn store_in(client: &mut TermbaseClient<Channel>, collection: &str, mut concept: Concept) {
    concept.collection = collection.into();
    store(client, concept).await;
}

/// A newsroom's house style above the shared glossary: equal matches rank by collection
/// priority, and changing the priority changes the order at once.
#[tokio::test]
async fn equal_matches_rank_by_collection_priority() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let house = concept(
        "house-spirit",
        &[("en", "Shanghai Spirit"), ("ru", "дух Шанхая")],
    );
    store_in(&mut client, "house", house).await;
    set_priority(&mut client, "house", 10).await;
    let response = lookup(&mut client, "Shanghai Spirit", "en", &["ru"]).await;
    assert_eq!(response.hits[1].score, 1.0, "both match exactly");
    assert_eq!(first_rendering(&response, "ru"), "дух Шанхая");
    set_priority(&mut client, "house", -10).await;
    let response = lookup(&mut client, "Shanghai Spirit", "en", &["ru"]).await;
    assert_eq!(first_rendering(&response, "ru"), "Шанхайский дух");
}

/// A term that is filtered out (another collection, another language) must not count as
/// "the query is a known term" and so switch off the typo search the client wants.
#[tokio::test]
async fn a_term_outside_the_requested_collections_does_not_hide_typo_matches() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut misspelt = concept("house-misspelling", &[("en", "Shanghai Spirt")]);
    misspelt.langs[0].terms[0].status = TermStatus::Forbidden as i32;
    store_in(&mut client, "house", misspelt).await;
    let response = client
        .lookup(LookupRequest {
            text: "Shanghai Spirt".into(),
            collections: vec!["sco-glossary".into()],
            ..Default::default()
        })
        .await
        .expect("lookup")
        .into_inner();
    let best = response.hits.first().expect("the glossary's term");
    assert_eq!(best.matched_term, "Shanghai Spirit");
    assert_eq!(best.kind, MatchKind::Fuzzy as i32);
}

/// Renderings list every term of the target language, preferred first, with deprecated and
/// forbidden ones marked so that a CAT tool can show them struck through.
#[tokio::test]
async fn renderings_mark_deprecated_variants_after_the_preferred_term() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let response = lookup(&mut client, "一带一路", "zh", &["en"]).await;
    let renderings = &response.hits[0].renderings;
    assert_eq!(renderings[0].text, "Belt and Road");
    assert_eq!(renderings[0].status, TermStatus::Preferred as i32);
    let deprecated: Vec<&str> = renderings
        .iter()
        .filter(|r| r.status == TermStatus::Deprecated as i32)
        .map(|r| r.text.as_str())
        .collect();
    assert!(deprecated.contains(&"One Belt, One Road"), "{renderings:?}");
    let statuses: Vec<i32> = renderings.iter().map(|r| r.status).collect();
    assert!(statuses.windows(2).all(|w| w[0] <= w[1]), "{statuses:?}");
}
