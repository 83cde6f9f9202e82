//! Writes that change more than one record: concept ids that stay in their collection, twin
//! terms warned about, whole collections and memories deleted (and still gone after a
//! restart), and heavy calls refused with a retry hint when their limit is reached.

use tolmach::app::Limits;
use tolmach::server::GLOSSARY_COLLECTION;
use tolmach::service::proto::exchange_client::ExchangeClient;
use tolmach::service::proto::import_header::Target;
use tolmach::service::proto::import_request::Message;
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    Concept, DeleteCollectionRequest, DeleteMemoryRequest, FileFormat, GetConceptRequest,
    ImportRequest, ListCollectionsRequest, ListConceptsRequest, SearchRequest, StatsRequest,
    UpsertConceptRequest,
};
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

use crate::exchange::header;
use crate::memory::{add, memory, summit, unit};
use crate::util::{concept, lookup_text, store, TestServer};

fn upsert(concept: Concept, move_from_other_collection: bool) -> UpsertConceptRequest {
    UpsertConceptRequest {
        concept: Some(concept),
        expected_revision: 0,
        move_from_other_collection,
    }
}

fn langs(concept: &Concept) -> Vec<String> {
    concept.langs.iter().map(|s| s.lang.clone()).collect()
}

#[tokio::test]
async fn an_id_of_another_collection_is_refused_naming_it_unless_the_move_is_asked_for() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let intruder = concept("shanghai-spirit", &[("en", "Shanghai Spirit")]);
    let refused = client
        .upsert_concept(upsert(intruder.clone(), false))
        .await
        .expect_err("the id belongs to the glossary");
    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert!(
        refused.message().contains(GLOSSARY_COLLECTION)
            && refused.message().contains("move_from_other_collection"),
        "{}",
        refused.message()
    );
    let kept = client
        .get_concept(GetConceptRequest {
            id: "shanghai-spirit".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.collection, GLOSSARY_COLLECTION);
    assert_eq!(langs(&kept), ["zh", "ru", "en"], "no section dropped");

    let moved = client
        .upsert_concept(upsert(intruder, true))
        .await
        .expect("the move is asked for")
        .into_inner();
    assert_eq!((moved.collection.as_str(), moved.revision), ("test", 2));
    assert_eq!(langs(&moved), ["en"]);
}

#[tokio::test]
async fn a_new_term_identical_to_a_term_of_another_concept_of_the_collection_is_warned_about() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(&mut client, concept("road-1", &[("en", "Silk Road Fund")])).await;
    let mut elsewhere = concept("road-2", &[("en", "silk road fund")]);
    elsewhere.collection = "other".into();
    let quiet = client
        .upsert_concept(upsert(elsewhere, false))
        .await
        .unwrap()
        .into_inner();
    assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);

    // The same term, typed in full width and another case: identical after normalization.
    let twin = concept(
        "road-3",
        &[("en", "ＳＩＬＫ road fund"), ("ru", "Фонд Шёлкового пути")],
    );
    let warned = client
        .upsert_concept(upsert(twin.clone(), false))
        .await
        .expect("a twin is stored, with a warning")
        .into_inner();
    assert_eq!(warned.warnings.len(), 1, "{:?}", warned.warnings);
    assert!(
        warned.warnings[0].contains("road-1"),
        "{}",
        warned.warnings[0]
    );
    let again = client
        .upsert_concept(upsert(twin, false))
        .await
        .unwrap()
        .into_inner();
    assert!(again.warnings.is_empty(), "the term is not new any more");
}

/// Whether looking up the deleted collection's term still finds its concept (other concepts,
/// such as the glossary's Qingdao, may answer it).
async fn finds_house_concept(client: &mut TermbaseClient<Channel>) -> bool {
    lookup_text(client, "Qingdao Media Lab")
        .await
        .hits
        .iter()
        .any(|hit| hit.concept.as_ref().is_some_and(|c| c.id == "house-1"))
}

#[tokio::test]
async fn a_deleted_collection_is_gone_with_its_concepts_and_stays_gone_after_a_restart() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(
        &mut client,
        concept("house-1", &[("en", "Qingdao Media Lab")]),
    )
    .await;
    store(&mut client, concept("house-2", &[("en", "newsroom desk")])).await;
    let unknown = client
        .delete_collection(DeleteCollectionRequest {
            name: "nowhere".into(),
            force: false,
        })
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    let deleted = client
        .delete_collection(DeleteCollectionRequest {
            name: "test".into(),
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_concepts, 2);
    assert!(!finds_house_concept(&mut client).await);

    let server = server.restart().await;
    let mut client = server.client().await;
    let listed = client
        .list_concepts(ListConceptsRequest {
            collection: "test".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.concepts.is_empty());
    let collections = client
        .list_collections(ListCollectionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .collections;
    assert!(collections.iter().all(|c| c.name != "test"));
    assert!(!finds_house_concept(&mut client).await);
}

#[tokio::test]
async fn the_shipped_glossary_is_deleted_only_by_force_and_does_not_come_back() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let request = |force| DeleteCollectionRequest {
        name: GLOSSARY_COLLECTION.into(),
        force,
    };
    let refused = client
        .delete_collection(request(false))
        .await
        .expect_err("protected");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("force"), "{}", refused.message());
    assert!(!lookup_text(&mut client, "Shanghai Spirit")
        .await
        .hits
        .is_empty());
    let deleted = client
        .delete_collection(request(true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        deleted.deleted_concepts as usize,
        server.server.concept_count
    );
    let server = server.restart().await;
    assert_eq!(server.server.loaded_from_glossary, 0);
    assert_eq!(server.server.concept_count, 0);
    let mut client = server.client().await;
    assert!(lookup_text(&mut client, "Shanghai Spirit")
        .await
        .hits
        .is_empty());
}

#[tokio::test]
async fn a_deleted_memory_is_gone_from_search_and_stats_and_stays_gone_after_a_restart() {
    let server = TestServer::start().await;
    server.server.memory_ready().await.unwrap();
    let mut client = memory(&server).await;
    add(&mut client, "old", vec![summit()]).await;
    let kept = unit(
        "kept-1",
        &[
            ("en", "The summit was held in Astana."),
            ("ru", "Саммит прошёл в Астане."),
        ],
    );
    add(&mut client, "kept", vec![kept]).await;
    let unknown = client
        .delete_memory(DeleteMemoryRequest {
            memory: "nowhere".into(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(unknown.code(), Code::NotFound);
    let deleted = client
        .delete_memory(DeleteMemoryRequest {
            memory: "old".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_units, 1);

    async fn memories_searched(
        client: &mut MemoryClient<tonic::transport::Channel>,
    ) -> Vec<String> {
        let found = client
            .search(SearchRequest {
                text:
                    "In July 2024, the Shanghai Cooperation Organisation summit was held in Astana."
                        .into(),
                source_lang: "en".into(),
                target_lang: "ru".into(),
                min_score: 0.3,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        found.matches.into_iter().map(|m| m.memory).collect()
    }
    async fn memories_counted(client: &mut MemoryClient<tonic::transport::Channel>) -> Vec<String> {
        let stats = client.stats(StatsRequest {}).await.unwrap().into_inner();
        stats.memories.into_iter().map(|m| m.memory).collect()
    }
    assert_eq!(memories_searched(&mut client).await, ["kept"]);
    assert_eq!(memories_counted(&mut client).await, ["kept"]);

    let server = server.restart().await;
    server.server.memory_ready().await.unwrap();
    let mut client = memory(&server).await;
    assert_eq!(memories_searched(&mut client).await, ["kept"]);
    assert_eq!(memories_counted(&mut client).await, ["kept"]);
}

#[tokio::test]
async fn an_import_beyond_the_limit_is_refused_with_a_retry_delay() {
    let server = TestServer::start_with(Limits {
        import: 1,
        ..Limits::default()
    })
    .await;
    let mut h = header(Target::Memory("news".into()));
    h.format = FileFormat::Tmx as i32;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(ImportRequest {
            message: Some(Message::Header(h.clone())),
        })
        .await
        .unwrap();
    // The first import has its permit once it answers; its upload never ends while `sender`
    // lives, so it holds the permit for the rest of the test.
    let _first = ExchangeClient::new(server.channel().await)
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .expect("the first import starts");
    let second = ExchangeClient::new(server.channel().await)
        .import(tokio_stream::iter([ImportRequest {
            message: Some(Message::Header(h)),
        }]))
        .await
        .expect_err("the limit is 1");
    assert_eq!(second.code(), Code::ResourceExhausted, "{second:?}");
    let retry = second.get_details_retry_info().expect("a RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(Limits::default().retry_after));
    drop(sender);
}

#[tokio::test]
async fn invalid_arguments_carry_a_bad_request_with_each_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut bad = concept("bad id", &[("en", " ")]);
    bad.collection = "no spaces".into();
    let refused = client
        .upsert_concept(upsert(bad, false))
        .await
        .expect_err("invalid");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let fields: Vec<String> = refused
        .get_details_bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "concept.id",
            "concept.collection",
            "concept.langs[0].terms[0].text"
        ]
    );
}
