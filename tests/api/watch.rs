//! `Termbase.Watch`, the live change feed, as a caching client meets it: live events with
//! their revisions and authors, resuming after a token, imports, compaction, scoped keys,
//! bookmarks, `ListConcepts.updated_after`, the `tolmach watch` command, and a property test
//! that a client built from a snapshot, events and resumes ends equal to the server.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tolmach::auth::Role;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::watch_event::Event;
use tolmach::service::proto::{
    Concept, DeleteCollectionRequest, DeleteConceptRequest, ListConceptsRequest,
    UpsertConceptRequest, WatchEvent, WatchRequest,
};
use tonic::codegen::{Body, Bytes, StdError};
use tonic::{Code, Streaming};

use crate::auth::{key, termbase};
use crate::exchange::{collection, header, import};
use crate::util::{concept, set_priority, start_with_keys, store, TestServer};

/// How long a test waits for an event before it calls the server stuck: a guard against a
/// hang, not a measurement.
const STUCK: Duration = Duration::from_secs(60);

/// An open Watch stream.
pub(crate) struct Watcher(Streaming<WatchEvent>);

impl Watcher {
    /// Opens a stream with `request` on `client`; the call must be accepted.
    pub(crate) async fn open<T>(client: &mut TermbaseClient<T>, request: WatchRequest) -> Watcher
    where
        T: tonic::client::GrpcService<tonic::body::Body>,
        T::Error: Into<StdError>,
        T::ResponseBody: Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as Body>::Error: Into<StdError> + Send,
    {
        let stream = client.watch(request).await.expect("watch accepted");
        Watcher(stream.into_inner())
    }

    /// The next event; the stream must go on.
    pub(crate) async fn next(&mut self) -> WatchEvent {
        tokio::time::timeout(STUCK, self.0.message())
            .await
            .expect("an event within a minute")
            .expect("the stream goes on")
            .expect("the stream is not over")
    }

    /// The next `n` events.
    async fn take(&mut self, n: usize) -> Vec<WatchEvent> {
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(self.next().await);
        }
        events
    }
}

/// From now on, every collection.
pub(crate) fn from_now() -> WatchRequest {
    WatchRequest::default()
}

/// After revision `after`.
fn after(after: u64) -> WatchRequest {
    WatchRequest {
        after_revision: after,
        ..Default::default()
    }
}

/// What an event says, in short: kind and name, for comparing streams.
fn summary(event: &WatchEvent) -> String {
    match &event.event {
        Some(Event::ConceptUpserted(u)) => {
            let c = u.concept.as_ref().expect("a concept");
            format!("upserted {} r{} in {}", c.id, c.revision, c.collection)
        }
        Some(Event::ConceptDeleted(d)) => format!("deleted {} from {}", d.id, d.collection),
        Some(Event::CollectionUpserted(c)) => format!("collection {}", c.name),
        Some(Event::CollectionDeleted(d)) => {
            format!("collection {} deleted with {}", d.name, d.deleted_concepts)
        }
        Some(Event::SnapshotConcept(c)) => format!("snapshot {}", c.id),
        Some(Event::SnapshotEnd(_)) => "snapshot end".into(),
        Some(Event::Bookmark(_)) => "bookmark".into(),
        None => "nothing".into(),
    }
}

fn summaries(events: &[WatchEvent]) -> Vec<String> {
    events.iter().map(summary).collect()
}

fn revisions(events: &[WatchEvent]) -> Vec<u64> {
    events.iter().map(|e| e.revision).collect()
}

/// A `tolmach serve` process (not only a server in the test's own process) keeps its
/// streams open until it shuts down.
#[tokio::test]
async fn a_served_process_streams_its_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = crate::crash::child::ChildServer::start(dir.path()).await;
    let mut client = TermbaseClient::new(server.channel.clone());
    let mut watcher = Watcher::open(&mut client, from_now()).await;
    store(&mut client, concept("live-1", &[("en", "Shanghai Spirit")])).await;
    let events = summaries(&watcher.take(2).await);
    assert_eq!(events, ["collection test", "upserted live-1 r1 in test"]);
}

#[tokio::test]
async fn writes_arrive_live_in_order_with_their_revisions_and_authors() {
    let (server, secrets) = start_with_keys(vec![key("desk-admin", Role::Admin, &[], &[])]).await;
    let mut client = termbase(&server, &secrets[0]).await;
    let mut watcher = Watcher::open(&mut client, from_now()).await;

    let mut first = concept("w-1", &[("en", "Shanghai Spirit")]);
    first.collection = "wire".into();
    client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(first.clone()),
            ..Default::default()
        })
        .await
        .expect("stored");
    first
        .langs
        .push(concept("", &[("ru", "шанхайский дух")]).langs.remove(0));
    client
        .upsert_concept(UpsertConceptRequest {
            concept: Some(first),
            expected_revision: 1,
            ..Default::default()
        })
        .await
        .expect("updated");
    client
        .delete_concept(DeleteConceptRequest { id: "w-1".into() })
        .await
        .expect("deleted");
    client
        .delete_collection(DeleteCollectionRequest {
            name: "wire".into(),
            force: false,
        })
        .await
        .expect("collection deleted");

    let events = watcher.take(5).await;
    assert_eq!(
        summaries(&events),
        [
            "collection wire",
            "upserted w-1 r1 in wire",
            "upserted w-1 r2 in wire",
            "deleted w-1 from wire",
            "collection wire deleted with 0",
        ]
    );
    let first = revisions(&events)[0];
    assert_eq!(
        revisions(&events),
        (first..first + 5).collect::<Vec<_>>(),
        "one revision per write, without gaps"
    );
    assert!(events.iter().all(|e| e.author == "desk-admin"));
    assert!(events.iter().all(|e| e.time.is_some()));
    let Some(Event::ConceptUpserted(update)) = &events[2].event else {
        panic!("an upsert");
    };
    assert_eq!(update.changed_fields, ["terms.ru"]);
    let stored = update.concept.as_ref().expect("the whole concept");
    assert_eq!(
        (stored.langs.len(), stored.updated_by.as_str()),
        (2, "desk-admin")
    );
}

#[tokio::test]
async fn a_resumed_stream_gets_exactly_the_events_it_missed() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut watcher = Watcher::open(&mut client, from_now()).await;
    store(&mut client, concept("r-1", &[("en", "one")])).await;
    let seen = watcher.take(2).await; // the collection `test`, then r-1
    drop(watcher);
    let token = seen[1].revision;

    for id in ["r-2", "r-3"] {
        store(&mut client, concept(id, &[("en", id)])).await;
    }
    client
        .delete_concept(DeleteConceptRequest { id: "r-1".into() })
        .await
        .expect("deleted");
    let mut resumed = Watcher::open(&mut client, after(token)).await;
    let missed = resumed.take(3).await;
    assert_eq!(
        summaries(&missed),
        [
            "upserted r-2 r1 in test",
            "upserted r-3 r1 in test",
            "deleted r-1 from test"
        ]
    );
    assert_eq!(revisions(&missed), [token + 1, token + 2, token + 3]);

    // Live events follow the missed ones, none twice.
    store(&mut client, concept("r-4", &[("en", "four")])).await;
    let live = resumed.next().await;
    assert_eq!(
        (summary(&live), live.revision),
        ("upserted r-4 r1 in test".into(), token + 4)
    );
}

#[tokio::test]
async fn an_imports_concepts_arrive_as_events_of_their_own() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut watcher = Watcher::open(&mut client, from_now()).await;
    let csv =
        "id,en,ru\nimp-1,summit,саммит\nimp-2,charter,хартия\nimp-3,secretariat,секретариат\n";
    let outcome = import(
        server.channel().await,
        header(collection("imported")),
        csv.as_bytes(),
        1024,
    )
    .await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    let events = watcher.take(4).await;
    assert_eq!(
        summaries(&events),
        [
            "collection imported",
            "upserted imp-1 r1 in imported",
            "upserted imp-2 r1 in imported",
            "upserted imp-3 r1 in imported",
        ]
    );
    let first = events[0].revision;
    assert_eq!(revisions(&events), (first..first + 4).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_token_older_than_the_changes_kept_is_out_of_range_and_one_ahead_is_invalid() {
    let server = TestServer::start_configured(|config| config.watch_retention = 3).await;
    let mut client = server.client().await;
    let mut watcher = Watcher::open(&mut client, from_now()).await;
    store(&mut client, concept("o-1", &[("en", "one")])).await;
    let token = watcher.take(2).await[1].revision;
    drop(watcher);
    for id in ["o-2", "o-3", "o-4", "o-5"] {
        store(&mut client, concept(id, &[("en", id)])).await;
    }
    let refused = client.watch(after(token)).await.expect_err("compacted");
    assert_eq!(refused.code(), Code::OutOfRange);
    let oldest = token + 2;
    assert!(
        refused.message().contains(&format!("revision {oldest}"))
            && refused.message().contains("snapshot"),
        "{}",
        refused.message()
    );
    // The oldest kept record's predecessor is still a valid token.
    let mut kept = Watcher::open(&mut client, after(oldest - 1)).await;
    assert_eq!(
        revisions(&kept.take(3).await),
        [oldest, oldest + 1, oldest + 2]
    );

    let ahead = client
        .watch(after(oldest + 3))
        .await
        .expect_err("beyond the current revision");
    assert_eq!(ahead.code(), Code::InvalidArgument);
    assert!(
        ahead.message().contains("after_revision"),
        "{}",
        ahead.message()
    );
    let interval = client
        .watch(WatchRequest {
            bookmark_interval_seconds: 3601,
            ..Default::default()
        })
        .await
        .expect_err("too long an interval");
    assert_eq!(interval.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_scoped_reader_sees_only_its_collections() {
    let (server, secrets) = start_with_keys(vec![
        key("admin", Role::Admin, &[], &[]),
        key("news-reader", Role::Reader, &["news"], &[]),
    ])
    .await;
    let mut admin = termbase(&server, &secrets[0]).await;
    let mut reader = termbase(&server, &secrets[1]).await;
    let refused = reader
        .watch(WatchRequest {
            collections: vec!["sport".into()],
            ..Default::default()
        })
        .await
        .expect_err("outside the scope");
    assert_eq!(refused.code(), Code::PermissionDenied);

    let mut watcher = Watcher::open(&mut reader, from_now()).await;
    // n-1 leaves news for sport last: gone, as far as the reader can tell.
    for (id, collection) in [
        ("n-1", "news"),
        ("s-1", "sport"),
        ("n-2", "news"),
        ("n-1", "sport"),
    ] {
        admin
            .upsert_concept(UpsertConceptRequest {
                concept: Some(Concept {
                    collection: collection.into(),
                    ..concept(id, &[("en", id)])
                }),
                move_from_other_collection: true,
                ..Default::default()
            })
            .await
            .expect("stored");
    }
    admin
        .delete_collection(DeleteCollectionRequest {
            name: "sport".into(),
            force: false,
        })
        .await
        .expect("deleted");
    admin
        .upsert_concept(UpsertConceptRequest {
            concept: Some(Concept {
                collection: "news".into(),
                ..concept("n-3", &[("en", "n-3")])
            }),
            ..Default::default()
        })
        .await
        .expect("stored");
    let events = watcher.take(5).await;
    assert_eq!(
        summaries(&events),
        [
            "collection news",
            "upserted n-1 r1 in news",
            "upserted n-2 r1 in news",
            "deleted n-1 from news",
            "upserted n-3 r1 in news",
        ]
    );

    let mut snapshot = Watcher::open(
        &mut reader,
        WatchRequest {
            snapshot: true,
            ..Default::default()
        },
    )
    .await;
    let listed = snapshot.take(3).await;
    assert_eq!(
        summaries(&listed),
        ["snapshot n-2", "snapshot n-3", "snapshot end"]
    );
    assert_eq!(listed[2].revision, events[4].revision);
}

#[tokio::test]
async fn an_idle_stream_gets_bookmarks_that_advance_its_token() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut watcher = Watcher::open(
        &mut client,
        WatchRequest {
            collections: vec!["quiet".into()],
            bookmark_interval_seconds: 1,
            ..Default::default()
        },
    )
    .await;
    let start = watcher.next().await;
    assert_eq!(summary(&start), "bookmark");
    store(&mut client, concept("b-1", &[("en", "elsewhere")])).await;
    // The write is in a collection the stream does not show: a later bookmark says so.
    let mut later = watcher.next().await;
    for _ in 0..5 {
        if later.revision > start.revision {
            break;
        }
        later = watcher.next().await;
    }
    assert_eq!(summary(&later), "bookmark");
    assert_eq!(
        later.revision,
        start.revision + 2,
        "collection `test`, then b-1"
    );
}

#[tokio::test]
async fn list_concepts_answers_only_concepts_changed_after_a_time_or_a_revision() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut watcher = Watcher::open(&mut client, from_now()).await;
    store(&mut client, concept("u-1", &[("en", "before")])).await;
    let token = watcher.take(2).await[1].revision;
    let stored = client
        .get_concept(tolmach::service::proto::GetConceptRequest { id: "u-1".into() })
        .await
        .expect("stored")
        .into_inner();
    let since = stored.update_time.expect("an update time");
    // Stored until its update time is a later millisecond than u-1's: each write is flushed
    // to disk, so a few suffice.
    let millis = |t: &prost_types::Timestamp| (t.seconds, t.nanos / 1_000_000);
    let later = concept("u-2", &[("en", "after")]);
    let mut stored_later = false;
    for _ in 0..1000 {
        let stored = client
            .upsert_concept(UpsertConceptRequest {
                concept: Some(later.clone()),
                ..Default::default()
            })
            .await
            .expect("stored")
            .into_inner();
        if millis(stored.update_time.as_ref().expect("a time")) > millis(&since) {
            stored_later = true;
            break;
        }
    }
    assert!(stored_later, "a thousand writes within one millisecond");
    let listed = client
        .list_concepts(ListConceptsRequest {
            updated_after: Some(since),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner();
    let ids: Vec<&str> = listed.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["u-2"]);

    for (after, expected) in [(token - 1, vec!["u-1", "u-2"]), (token, vec!["u-2"])] {
        let listed = client
            .list_concepts(ListConceptsRequest {
                after_revision: after,
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        let ids: Vec<&str> = listed.concepts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, expected, "after revision {after}");
    }
}

#[tokio::test]
async fn the_watch_command_prints_one_line_per_event() {
    use std::io::BufRead;
    let server = TestServer::start().await;
    let mut client = server.client().await;
    store(&mut client, concept("cli-1", &[("en", "first")])).await;
    let url = format!("http://{}", server.server.addr);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tolmach"))
        .args([
            "watch",
            "--snapshot",
            "--collection",
            "test",
            "--server",
            &url,
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, mut printed) = tokio::sync::mpsc::unbounded_channel();
    tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines().take(3) {
            let _ = lines.send(line.expect("a line"));
        }
    });
    let mut next_line = async || {
        tokio::time::timeout(STUCK, printed.recv())
            .await
            .expect("a line within a minute")
            .expect("the command prints it")
    };
    // The snapshot first, then the live change.
    let mut lines = vec![next_line().await, next_line().await];
    store(&mut client, concept("cli-2", &[("en", "second")])).await;
    lines.push(next_line().await);
    child.kill().expect("the watch command stops");
    child.wait().expect("reaped");
    let words: Vec<Vec<&str>> = lines.iter().map(|l| l.split(' ').collect()).collect();
    assert_eq!(words[0][1..4], ["snapshot_concept", "cli-1", "(test)"]);
    assert_eq!(words[1][1], "snapshot_end");
    assert_eq!(words[2][1..4], ["concept_upserted", "cli-2", "(test)"]);
    let revision = |n: usize| words[n][0].parse::<u64>().expect("a revision first");
    assert_eq!(revision(2), revision(1) + 1);
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Step {
    /// Upsert concept `id` into collection `collection` with term variant `variant`.
    Upsert { id: u8, collection: u8, variant: u8 },
    /// Delete concept `id`.
    Delete { id: u8 },
    /// Create or update collection `collection`.
    UpsertCollection { collection: u8, priority: i32 },
    /// Delete collection `collection` with its concepts.
    DeleteCollection { collection: u8 },
    /// Drop the stream and open another: after the last revision applied, or with a fresh
    /// snapshot.
    Reconnect { snapshot: bool },
    /// Write a marker and read the stream until it arrives.
    Sync,
}

/// Two watched collections, and one the stream does not see.
const COLLECTIONS: [&str; 3] = ["p0", "p1", "hidden"];
const WATCHED: [&str; 2] = ["p0", "p1"];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..6, 0u8..3, 0u8..3)
            .prop_map(|(id, collection, variant)| Step::Upsert { id, collection, variant }),
        2 => (0u8..6).prop_map(|id| Step::Delete { id }),
        1 => (0u8..3, -2i32..3)
            .prop_map(|(collection, priority)| Step::UpsertCollection { collection, priority }),
        1 => (0u8..3).prop_map(|collection| Step::DeleteCollection { collection }),
        2 => any::<bool>().prop_map(|snapshot| Step::Reconnect { snapshot }),
        2 => Just(Step::Sync),
    ]
}

/// A caching client: its copy of the watched concepts and the revision it applied last.
struct Cache {
    concepts: BTreeMap<String, Concept>,
    token: u64,
}

impl Cache {
    /// Applies one event, as a client would.
    fn apply(&mut self, event: WatchEvent) {
        match event.event.expect("an event") {
            Event::ConceptUpserted(upserted) => {
                let concept = upserted.concept.expect("a concept");
                self.concepts.insert(concept.id.clone(), concept);
            }
            Event::SnapshotConcept(concept) => {
                self.concepts.insert(concept.id.clone(), concept);
            }
            Event::ConceptDeleted(deleted) => {
                self.concepts.remove(&deleted.id);
            }
            Event::CollectionDeleted(deleted) => {
                self.concepts.retain(|_, c| c.collection != deleted.name);
            }
            Event::CollectionUpserted(_) | Event::SnapshotEnd(_) | Event::Bookmark(_) => {}
        }
        self.token = event.revision;
    }

    /// Opens a stream with a snapshot and reads the snapshot into an empty cache.
    async fn snapshot(
        &mut self,
        client: &mut TermbaseClient<tonic::transport::Channel>,
    ) -> Watcher {
        let mut watcher = Watcher::open(
            client,
            WatchRequest {
                snapshot: true,
                collections: WATCHED.map(String::from).to_vec(),
                ..Default::default()
            },
        )
        .await;
        self.concepts.clear();
        // Bounded by the concepts a case can write (6 ids and the markers of 40 steps).
        for _ in 0..100 {
            let event = watcher.next().await;
            let end = matches!(event.event, Some(Event::SnapshotEnd(_)));
            self.apply(event);
            if end {
                return watcher;
            }
        }
        panic!("the snapshot did not end");
    }

    /// Reads the stream until marker `id` arrives.
    async fn sync(&mut self, watcher: &mut Watcher, id: &str) {
        // Bounded by what 40 steps write.
        for _ in 0..1000 {
            let event = watcher.next().await;
            let arrived = matches!(&event.event, Some(Event::ConceptUpserted(u))
                if u.concept.as_ref().is_some_and(|c| c.id == id));
            self.apply(event);
            if arrived {
                return;
            }
        }
        panic!("marker {id} never arrived");
    }
}

/// The watched concepts as ListConcepts answers them.
async fn listed(client: &mut TermbaseClient<tonic::transport::Channel>) -> Vec<Concept> {
    let mut concepts = Vec::new();
    for collection in WATCHED {
        let page = client
            .list_concepts(ListConceptsRequest {
                collection: collection.into(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        concepts.extend(page.concepts);
    }
    concepts.sort_by(|a, b| a.id.cmp(&b.id));
    concepts
}

async fn run_case(steps: Vec<Step>) {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut cache = Cache {
        concepts: BTreeMap::new(),
        token: 0,
    };
    let mut watcher = cache.snapshot(&mut client).await;
    let mut markers = 0;
    for step in steps.into_iter().chain([Step::Sync]) {
        match step {
            Step::Upsert {
                id,
                collection,
                variant,
            } => {
                let concept = Concept {
                    collection: COLLECTIONS[usize::from(collection)].into(),
                    ..concept(
                        &format!("k{id}"),
                        &[("en", &format!("term {id} v{variant}"))],
                    )
                };
                client
                    .upsert_concept(UpsertConceptRequest {
                        concept: Some(concept),
                        move_from_other_collection: true,
                        ..Default::default()
                    })
                    .await
                    .expect("upserted");
            }
            Step::Delete { id } => {
                let deleted = client
                    .delete_concept(DeleteConceptRequest {
                        id: format!("k{id}"),
                    })
                    .await;
                deleted_or_not_found(deleted);
            }
            Step::UpsertCollection {
                collection,
                priority,
            } => set_priority(&mut client, COLLECTIONS[usize::from(collection)], priority).await,
            Step::DeleteCollection { collection } => {
                let deleted = client
                    .delete_collection(DeleteCollectionRequest {
                        name: COLLECTIONS[usize::from(collection)].into(),
                        force: false,
                    })
                    .await;
                deleted_or_not_found(deleted);
            }
            Step::Reconnect { snapshot } => {
                drop(watcher);
                watcher = if snapshot {
                    cache.snapshot(&mut client).await
                } else {
                    Watcher::open(
                        &mut client,
                        WatchRequest {
                            after_revision: cache.token,
                            collections: WATCHED.map(String::from).to_vec(),
                            ..Default::default()
                        },
                    )
                    .await
                };
            }
            Step::Sync => {
                markers += 1;
                let id = format!("marker-{markers}");
                let marker = Concept {
                    collection: "p0".into(),
                    ..concept(&id, &[("en", &id)])
                };
                store(&mut client, marker).await;
                cache.sync(&mut watcher, &id).await;
            }
        }
    }
    let server_side: Vec<Concept> = listed(&mut client).await;
    let cached: Vec<Concept> = cache
        .concepts
        .into_values()
        .map(|c| Concept {
            updated_by: String::new(),
            ..c
        })
        .collect();
    assert_eq!(cached, server_side);
}

/// Checks that a delete succeeded or found nothing to delete.
fn deleted_or_not_found<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    if let Err(status) = &result {
        assert_eq!(status.code(), Code::NotFound, "{result:?}");
    }
}

/// Random writes interleaved with dropped and resumed streams (some with a fresh snapshot):
/// the client's copy, built from snapshots, events and resumes only, ends equal to what
/// ListConcepts answers, ids, revisions and content.
#[test]
fn a_cache_of_snapshots_events_and_resumes_ends_equal_to_the_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut runner = TestRunner::new(Config {
        cases: 12,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(step(), 1..=40), |steps| {
            runtime.block_on(run_case(steps));
            Ok(())
        })
        .expect("every case ends equal");
}
