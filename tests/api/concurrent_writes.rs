//! Many writers at once, through the real server: every acknowledged upsert and unit is there
//! after a restart, the change feed numbers the upserts without a gap, in the order it
//! published them, each once, and every concept's history is whole; each writer's Lookup
//! right after an acknowledged upsert finds it, whatever the others write meanwhile. (That an
//! acknowledged write survives a SIGKILL is the crash tests' and `benches/crash_loop.rs`'s.)

use std::collections::BTreeMap;

use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::watch_event::Event;
use tolmach::service::proto::{AddUnitsRequest, GetConceptHistoryRequest, UpsertConceptRequest};
use tonic::transport::Channel;

use crate::crash::child::memory_units;
use crate::memory::unit;
use crate::util::{concept, lookup_text, store, TestServer};
use crate::watch::{from_now, Watcher};

/// Writers at once, and upserts each.
const WRITERS: usize = 64;
const UPSERTS: usize = 50;
/// The concepts they share, so that writers race to revise the same ones.
const CONCEPTS: usize = 16;
/// Units each writer adds, one per call.
const UNITS: usize = 5;

/// What the writers were told: per concept, each acknowledged revision and its term.
type Acknowledged = BTreeMap<String, BTreeMap<u64, String>>;

/// Writer `writer`'s upserts and single-unit AddUnits, on a `channel` of its own.
async fn write(channel: Channel, writer: usize) -> Acknowledged {
    let mut termbase = TermbaseClient::new(channel.clone());
    let mut memory = MemoryClient::new(channel);
    let mut acknowledged = Acknowledged::new();
    for n in 0..UPSERTS {
        let id = format!("shared-{}", (writer + n) % CONCEPTS);
        let term = format!("term {writer} {n}");
        let request = UpsertConceptRequest {
            concept: Some(concept(&id, &[("en", &term)])),
            ..Default::default()
        };
        let stored = termbase.upsert_concept(request).await.expect("upserted");
        let revision = stored.into_inner().revision;
        acknowledged.entry(id).or_default().insert(revision, term);
    }
    for n in 0..UNITS {
        let request = AddUnitsRequest {
            memory: "concurrent".into(),
            units: vec![unit(
                &format!("u{writer}-{n}"),
                &[("zh", "合作"), ("en", "cooperation")],
            )],
        };
        memory.add_units(request).await.expect("units added");
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_kept_numbered_in_order_and_in_every_history() {
    let server = TestServer::start().await;
    // The memory index loads after start-up; units are added once it has.
    memory_units(&server.channel().await, "concurrent").await;
    // The feed is read while the writers write, on a connection of its own.
    let feed = server.channel().await;
    let mut feed = Watcher::open(&mut TermbaseClient::new(feed), from_now()).await;
    let reader = tokio::spawn(async move {
        let mut upserts = Vec::with_capacity(WRITERS * UPSERTS);
        // Bookmarks may come between the upserts: at most one per event.
        for _ in 0..WRITERS * UPSERTS * 2 {
            if upserts.len() == WRITERS * UPSERTS {
                break;
            }
            let event = feed.next().await;
            if let Some(Event::ConceptUpserted(upserted)) = event.event {
                upserts.push((event.revision, upserted.concept.expect("the concept")));
            }
        }
        upserts
    });
    let mut writers = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        writers.push(tokio::spawn(write(server.channel().await, writer)));
    }
    let mut acknowledged = Acknowledged::new();
    for writer in writers {
        let revisions = writer.await.expect("the writer ran to its end");
        for (id, terms) in revisions {
            let mine = acknowledged.entry(id).or_default();
            let before = mine.len();
            mine.extend(terms.clone());
            assert_eq!(mine.len(), before + terms.len(), "no revision given twice");
        }
    }

    // The feed: every upsert once, store revisions one after another, each concept's
    // revisions in order.
    let mut last_store_revision = None;
    let mut seen = Acknowledged::new();
    for (store_revision, concept) in reader.await.expect("the feed was read") {
        if let Some(last) = last_store_revision {
            assert_eq!(store_revision, last + 1, "no gap in the store revisions");
        }
        last_store_revision = Some(store_revision);
        let term = concept.langs[0].terms[0].text.clone();
        let revisions = seen.entry(concept.id.clone()).or_default();
        let previous = revisions.keys().next_back().copied().unwrap_or(0);
        assert_eq!(
            concept.revision,
            previous + 1,
            "{} in revision order",
            concept.id
        );
        revisions.insert(concept.revision, term);
    }
    assert_eq!(
        seen, acknowledged,
        "the feed shows what the writers were told"
    );
    for (id, revisions) in &acknowledged {
        let numbers = revisions.keys().copied();
        assert!(
            numbers.eq(1..=revisions.len() as u64),
            "{id}: revisions 1 to n"
        );
    }

    let server = server.restart().await;
    let mut termbase = server.client().await;
    for (id, revisions) in &acknowledged {
        let request = GetConceptHistoryRequest { id: id.clone() };
        let history = termbase
            .get_concept_history(request)
            .await
            .expect("a history")
            .into_inner();
        let kept: BTreeMap<u64, String> = history
            .revisions
            .into_iter()
            .filter_map(|revision| revision.concept)
            .map(|c| (c.revision, c.langs[0].terms[0].text.clone()))
            .collect();
        assert_eq!(
            &kept, revisions,
            "every acknowledged revision of {id}, no gap"
        );
    }
    assert_eq!(
        memory_units(&server.channel().await, "concurrent").await,
        (WRITERS * UNITS) as u64,
        "every acknowledged unit"
    );
}

/// Upserts of new concepts each writer makes, each followed by a Lookup of its term.
const OWN_UPSERTS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_acknowledged_upsert_is_found_by_the_lookup_that_follows_it() {
    let server = TestServer::start().await;
    let mut writers = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let mut termbase = TermbaseClient::new(server.channel().await);
        writers.push(tokio::spawn(async move {
            for n in 0..OWN_UPSERTS {
                let id = format!("own-{writer}-{n}");
                let term = format!("own term {writer} {n}");
                store(&mut termbase, concept(&id, &[("en", &term)])).await;
                let found = lookup_text(&mut termbase, &term).await.hits;
                assert!(
                    found
                        .iter()
                        .any(|hit| hit.concept.as_ref().is_some_and(|c| c.id == id)),
                    "{id} acknowledged but not found by {term:?}"
                );
            }
        }));
    }
    for writer in writers {
        writer.await.expect("the writer ran to its end");
    }
}
