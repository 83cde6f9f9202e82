//! Concept CRUD, paging, history of revisions and durability across restarts.

use tolmach::service::proto::{
    DeleteConceptRequest, GetConceptRequest, ListConceptsRequest, TermStatus, UpsertConceptRequest,
};
use tonic::Code;

use crate::util::{concept, term, TestServer};

#[tokio::test]
async fn concept_round_trip_create_read_update_delete() {
    let server = TestServer::start().await;
    let mut client = server.client().await;

    let mut draft = concept("", &[("zh", "数字丝绸之路"), ("en", "Digital Silk Road")]);
    draft.subject_field = "economy and connectivity".into();
    let created = client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(draft),
            expected_revision: 0,
            move_from_other_collection: false,
        })
        .await
        .expect("created")
        .into_inner();
    assert!(!created.id.is_empty(), "the server assigns an id");
    assert_eq!(created.revision, 1);
    assert_eq!(created.collection, "test");

    let read = client
        .get_concept(GetConceptRequest {
            id: created.id.clone(),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read, created);

    let mut changed = read.clone();
    changed.langs.push(tolmach::service::proto::LangSection {
        lang: "ru".into(),
        terms: vec![term("Цифровой шёлковый путь", TermStatus::Preferred)],
        ..Default::default()
    });
    let updated = client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(changed),
            expected_revision: 1,
            move_from_other_collection: false,
        })
        .await
        .expect("updated")
        .into_inner();
    assert_eq!(updated.revision, 2);
    assert_eq!(updated.create_time, created.create_time);
    assert_eq!(updated.langs.len(), 3);

    let stale = client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(read),
            expected_revision: 1,
            move_from_other_collection: false,
        })
        .await
        .expect_err("a stale revision is refused");
    assert_eq!(stale.code(), Code::FailedPrecondition);

    let deleted = client
        .delete_concept(DeleteConceptRequest {
            id: created.id.clone(),
        })
        .await
        .expect("deleted")
        .into_inner();
    assert_eq!(deleted.deleted.map(|c| c.revision), Some(2));
    let gone = client
        .get_concept(GetConceptRequest {
            id: created.id.clone(),
        })
        .await
        .expect_err("deleted concept is gone");
    assert_eq!(gone.code(), Code::NotFound);
}

#[tokio::test]
async fn list_concepts_pages_through_a_filtered_collection() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for i in 0..5 {
        let c = concept(&format!("page-{i}"), &[("en", &format!("paged term {i}"))]);
        client
            .upsert_concept(UpsertConceptRequest {
                concept: Some(c),
                expected_revision: 0,
                move_from_other_collection: false,
            })
            .await
            .expect("stored");
    }
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_concepts(ListConceptsRequest {
                page_size: 2,
                page_token: token,
                collection: "test".into(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.concepts.len() <= 2);
        ids.extend(page.concepts.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(ids, ["page-0", "page-1", "page-2", "page-3", "page-4"]);

    let russian = client
        .list_concepts(ListConceptsRequest {
            lang: "ru".into(),
            collection: "test".into(),
            ..Default::default()
        })
        .await
        .expect("filtered")
        .into_inner();
    assert!(russian.concepts.is_empty(), "no test concept has Russian");
}

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let stored = client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(concept(
                "restart-proof",
                &[("en", "Ak-Beshim"), ("ru", "Ак-Бешим")],
            )),
            expected_revision: 0,
            move_from_other_collection: false,
        })
        .await
        .expect("stored")
        .into_inner();
    let glossary_size = server.server.concept_count;

    let server = server.restart().await;
    assert_eq!(
        server.server.loaded_from_glossary, 0,
        "the glossary loads only on first start"
    );
    assert_eq!(server.server.concept_count, glossary_size + 1);
    let mut client = server.client().await;
    let read = client
        .get_concept(GetConceptRequest {
            id: "restart-proof".into(),
        })
        .await
        .expect("still there")
        .into_inner();
    assert_eq!(read, stored);
}
