//! The term index persisted to its file: a restart reads it back and applies the writes made
//! after it, answering Lookup and Recognize as before; a file that cannot be trusted is
//! rebuilt from the store with the same answers; a server killed with SIGKILL loses nothing.

use std::collections::HashMap;
use std::path::Path;

use tolmach::app::term_checkpoint::TermIndexSource;
use tolmach::index::{Stamp, TermSearch, TERM_INDEX_FILE};
use tolmach::server::{self, RunningServer};
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    Concept, DeleteCollectionRequest, DeleteConceptRequest, LookupResponse, Occurrence,
    RecognizeRequest,
};
use tolmach::store::Store;
use tonic::transport::Channel;

use crate::crash::child::ChildServer;
use crate::util::{concept, config_in, lookup_text, occurrences, start_in, store, TestServer};

/// Queries reaching the glossary and the concepts stored here, exactly and with a typo.
const QUERIES: &[&str] = &[
    "Belt and Road",
    "一带一路",
    "ракетный двигатель",
    "rocket engine",
    "rocket engin",
    "orbital station",
    "轨道站",
    "шанхайская организация сотрудничества",
];

/// A text naming stored terms in three languages.
const TEXT: &str = "在一带一路框架下建设轨道站。Ракетные двигатели и орбитальная станция. \
                    The rocket engine of the orbital station.";

fn concept_in(collection: &str, id: &str, terms: &[(&str, &str)]) -> Concept {
    Concept {
        collection: collection.into(),
        ..concept(id, terms)
    }
}

/// Stores the concepts every test starts with: two in `space`, one in `test`.
async fn seed(client: &mut TermbaseClient<Channel>) {
    store(
        client,
        concept_in(
            "space",
            "engine",
            &[
                ("en", "rocket engine"),
                ("ru", "ракетный двигатель"),
                ("zh", "火箭发动机"),
            ],
        ),
    )
    .await;
    store(
        client,
        concept_in(
            "space",
            "station",
            &[
                ("en", "orbital station"),
                ("ru", "орбитальная станция"),
                ("zh", "轨道站"),
            ],
        ),
    )
    .await;
    store(
        client,
        concept("road", &[("en", "Belt and Road"), ("zh", "一带一路")]),
    )
    .await;
}

/// Every answer the tests compare: the Lookups of [`QUERIES`] and the Recognize of [`TEXT`].
#[derive(Debug, PartialEq)]
struct Answers {
    lookups: Vec<LookupResponse>,
    recognized: Vec<Occurrence>,
}

async fn answers(server: &RunningServer) -> Answers {
    let mut client = TermbaseClient::connect(format!("http://{}", server.addr))
        .await
        .expect("server reachable");
    let mut lookups = Vec::new();
    for query in QUERIES {
        lookups.push(lookup_text(&mut client, query).await);
    }
    let recognized = occurrences(
        &mut client,
        RecognizeRequest {
            text: TEXT.into(),
            ..Default::default()
        },
    )
    .await;
    Answers {
        lookups,
        recognized,
    }
}

fn ids(answers: &Answers) -> Vec<String> {
    let mut ids: Vec<String> = answers
        .recognized
        .iter()
        .filter_map(|o| o.concept.as_ref().map(|c| c.id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn index_file(dir: &Path) -> std::path::PathBuf {
    dir.join(TERM_INDEX_FILE)
}

/// A server with the seed concepts, restarted once so that its file holds them.
async fn checkpointed() -> TestServer {
    let server = TestServer::start().await;
    seed(&mut server.client().await).await;
    let server = server.restart().await;
    assert!(
        index_file(server.dir.path()).exists(),
        "shutdown wrote the file"
    );
    server
}

#[tokio::test]
async fn a_restart_reads_the_index_back_with_the_same_answers() {
    let server = TestServer::start().await;
    assert!(
        matches!(server.server.term_index, TermIndexSource::Store { .. }),
        "a new store has no file"
    );
    seed(&mut server.client().await).await;
    let before = answers(&server.server).await;
    assert!(ids(&before).contains(&"engine".to_owned()), "{before:?}");
    let server = server.restart().await;
    assert!(
        matches!(
            server.server.term_index,
            TermIndexSource::File { applied: 0, .. }
        ),
        "{:?}",
        server.server.term_index
    );
    assert_eq!(answers(&server.server).await, before);
}

#[tokio::test]
async fn writes_after_the_checkpoint_are_applied_at_restart() {
    let server = checkpointed().await;
    let old_file = std::fs::read(index_file(server.dir.path())).expect("file");
    let mut client = server.client().await;
    // An upsert of a new concept and of a stored one, a delete, a collection deleted.
    store(
        &mut client,
        concept(
            "satellite",
            &[("en", "orbital station module"), ("zh", "轨道站舱")],
        ),
    )
    .await;
    let road = concept(
        "road",
        &[("en", "Belt and Road Initiative"), ("zh", "一带一路")],
    );
    client
        .upsert_concept(tolmach::service::proto::UpsertConceptRequest {
            concept: Some(road),
            expected_revision: 1,
            move_from_other_collection: false,
        })
        .await
        .expect("updated");
    client
        .delete_concept(DeleteConceptRequest {
            id: "satellite".into(),
        })
        .await
        .expect("deleted");
    client
        .delete_collection(DeleteCollectionRequest {
            name: "space".into(),
            force: false,
        })
        .await
        .expect("collection deleted");
    store(&mut client, concept("probe", &[("en", "rocket engine")])).await;
    let live = answers(&server.server).await;
    let found = ids(&live);
    assert!(found.contains(&"probe".to_owned()), "{found:?}");
    for gone in ["engine", "station", "satellite"] {
        assert!(!found.contains(&gone.to_owned()), "{found:?}");
    }

    // The file as it was before those writes, so that the restart must apply them.
    let TestServer { server, dir } = server;
    server.shutdown().await.expect("clean shutdown");
    std::fs::write(index_file(dir.path()), &old_file).expect("old file back");
    let server = start_in(dir.path()).await;
    match &server.term_index {
        // satellite, road, engine and station (with their collection), probe.
        TermIndexSource::File { applied, .. } => assert_eq!(*applied, 5),
        other => panic!("{other:?}"),
    }
    assert_eq!(answers(&server).await, live);
    server.shutdown().await.expect("clean shutdown");
}

/// What a test does to a server's file while it is stopped.
type Damage = Box<dyn FnOnce(&Path)>;

/// Restarts `server` with its file replaced by what `damage` makes of it; answers the new
/// server, which must have rebuilt its index from the store for a reason containing `why`.
async fn rebuilt(
    server: TestServer,
    damage: Damage,
    why: &str,
) -> (RunningServer, tempfile::TempDir) {
    let TestServer { server, dir } = server;
    server.shutdown().await.expect("clean shutdown");
    damage(&index_file(dir.path()));
    let server = start_in(dir.path()).await;
    match &server.term_index {
        TermIndexSource::Store { reason } => assert!(reason.contains(why), "{reason}"),
        other => panic!("{why}: {other:?}"),
    }
    (server, dir)
}

#[tokio::test]
async fn an_untrustworthy_file_is_rebuilt_with_the_same_answers() {
    let reference = checkpointed().await;
    let expected = answers(&reference.server).await;
    let other = TestServer::start().await.restart().await;
    let foreign = std::fs::read(index_file(other.dir.path())).expect("file");
    other.server.shutdown().await.expect("clean shutdown");
    let cases: Vec<(&str, Damage)> = vec![
        (
            "no term index file",
            Box::new(|p| std::fs::remove_file(p).expect("removed")),
        ),
        (
            "truncated",
            Box::new(|p| {
                let bytes = std::fs::read(p).expect("file");
                std::fs::write(p, &bytes[..bytes.len() / 2]).expect("written");
            }),
        ),
        (
            "checksum",
            Box::new(|p| {
                let mut bytes = std::fs::read(p).expect("file");
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x55;
                std::fs::write(p, &bytes).expect("written");
            }),
        ),
        (
            "automaton",
            Box::new(|p| {
                // The base index's automaton, the body's first array, left with no states,
                // under checksums made again (the header's last eight bytes): only reading
                // the automaton can tell.
                let mut bytes = std::fs::read(p).expect("file");
                bytes[72..76].fill(0);
                let body = crc32fast::hash(&bytes[64..]);
                bytes[56..60].copy_from_slice(&body.to_le_bytes());
                let header = crc32fast::hash(&bytes[..60]);
                bytes[60..64].copy_from_slice(&header.to_le_bytes());
                std::fs::write(p, &bytes).expect("written");
            }),
        ),
        (
            "not a term index",
            Box::new(|p| std::fs::write(p, b"not an index at all").expect("written")),
        ),
        (
            "another store",
            Box::new(move |p| std::fs::write(p, &foreign).expect("written")),
        ),
        (
            "past the store's",
            Box::new(|p| {
                // A file of this store from the future: one revision ahead of it.
                let store = Store::open(p.parent().expect("data directory")).expect("store");
                let stamp = Stamp {
                    store_id: store.id(),
                    revision: store.revision() + 1,
                };
                TermSearch::new(Vec::new(), HashMap::new())
                    .checkpoint(p, stamp)
                    .expect("written");
            }),
        ),
    ];
    let mut server = reference;
    for (why, damage) in cases {
        let (restarted, dir) = rebuilt(server, damage, why).await;
        assert_eq!(answers(&restarted).await, expected, "{why}");
        server = TestServer {
            server: restarted,
            dir,
        };
    }
    server.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_file_older_than_the_change_log_is_rebuilt() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let start = || async {
        let mut config = config_in(dir.path());
        config.watch_retention = 1;
        server::start(config).await.expect("server starts")
    };
    let server = start().await;
    server.shutdown().await.expect("clean shutdown");
    let old_file = std::fs::read(index_file(dir.path())).expect("file");
    let server = start().await;
    let mut client = TermbaseClient::connect(format!("http://{}", server.addr))
        .await
        .expect("server reachable");
    seed(&mut client).await;
    let expected = answers(&server).await;
    server.shutdown().await.expect("clean shutdown");
    std::fs::write(index_file(dir.path()), old_file).expect("old file back");
    let server = start().await;
    match &server.term_index {
        TermIndexSource::Store { reason } => {
            assert!(reason.contains("change log starts"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(answers(&server).await, expected);
    server.shutdown().await.expect("clean shutdown");
}

// The child process is driven from blocking calls: the test needs threads of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_after_a_checkpoint_loses_no_write() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut child = ChildServer::start(dir.path()).await;
    let mut client = TermbaseClient::new(child.channel.clone());
    store(&mut client, concept("first", &[("en", "rocket engine")])).await;
    // A new store has no file: the background task writes one at its first look.
    child.logged("term index checkpoint written").await;
    store(&mut client, concept("second", &[("en", "orbital station")])).await;
    client
        .delete_concept(DeleteConceptRequest { id: "first".into() })
        .await
        .expect("deleted");
    child.kill();
    let child = ChildServer::start(dir.path()).await;
    assert!(
        child
            .early
            .iter()
            .any(|l| l.contains("term index read from its file")),
        "{:?}",
        child.early
    );
    let mut client = TermbaseClient::new(child.channel.clone());
    let found = |reply: LookupResponse| -> Vec<String> {
        reply
            .hits
            .into_iter()
            .filter_map(|h| h.concept.map(|c| c.id))
            .collect()
    };
    assert!(found(lookup_text(&mut client, "orbital station").await).contains(&"second".into()));
    assert!(!found(lookup_text(&mut client, "rocket engine").await).contains(&"first".into()));
    child.kill();
}
