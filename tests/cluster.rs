//! Cluster mode against real processes: three `nats-server` (one JetStream cluster, the log
//! kept on all three) and three `tolmach serve --cluster` nodes, all on 127.0.0.1. A bounded
//! mixed load goes through all three nodes: upserts, 40 000 units in AddUnits calls,
//! searches, and a Watch client on one node. Mid-load the stream's leader and one tolmach
//! node are killed with SIGKILL, then restarted. Afterwards every acknowledged write is on
//! every node, the nodes agree on revision and content within 30 s, the Watch client missed
//! nothing and saw nothing twice, and a Watch resumed on another node continues it exactly.
//!
//! Needs `nats-server` (Debian: `apt-get install nats-server`). Without it the test says it
//! skipped, unless `TOLMACH_REQUIRE_NATS=1` (CI), which makes its absence a failure.

// Shared with the benches (a server child process, the NATS cluster, an import's client).
#[path = "../benches/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::child::{numbered_tmx, ChildServer};
use common::import_report;
use common::nats::{nats_cluster, node_args, revision_of, stream_state, NatsServer, NATS_SERVER};
use tokio::sync::{oneshot, RwLock};
use tolmach::index::memory::Partition;
use tolmach::service::proto::access_client::AccessClient;
use tolmach::service::proto::{
    self, import_header, import_request, memory_client::MemoryClient,
    termbase_client::TermbaseClient, watch_event::Event, AddUnitsRequest, ConcordanceRequest,
    CreateKeyRequest, ImportHeader, ImportRequest, ListCollectionsRequest, ListConceptsRequest,
    ListUnitsRequest, RevokeKeyRequest, SearchRequest, UpsertConceptRequest, WatchRequest,
};
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::{health_check_response::ServingStatus, health_client::HealthClient};

const COLLECTION: &str = "cluster";
const MEMORY: &str = "wire";
/// The memory the import goes to, and its size.
const IMPORTED: &str = "imported";
const IMPORTED_UNITS: usize = 40_000;
const JOB: &str = "cluster-import-1";
const UPSERTS_PER_NODE: usize = 40;
const UNIT_BATCHES: usize = 40;
const UNITS_PER_BATCH: usize = 1000;
/// How long the nodes get to agree after the restarts.
const CONVERGENCE: Duration = Duration::from_secs(30);

/// The three nodes' connections; a restarted node's replaces its old one.
type Nodes = Arc<RwLock<Vec<Channel>>>;

async fn node(nodes: &Nodes, n: usize) -> Channel {
    nodes.read().await[n].clone()
}

/// A failure a client may see while a node or the log's leader is down: the write was not
/// acknowledged. Anything else is a defect.
fn tolerated(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::DeadlineExceeded
    )
}

fn concept(node: usize, i: usize) -> proto::Concept {
    let section = |lang: &str, text: String| proto::LangSection {
        lang: lang.into(),
        terms: vec![proto::Term {
            text,
            ..Default::default()
        }],
        ..Default::default()
    };
    proto::Concept {
        id: format!("n{node}-{i}"),
        collection: COLLECTION.into(),
        langs: vec![
            section("en", format!("cluster term {node} {i}")),
            section("ru", format!("термин кластера {node} {i}")),
        ],
        ..Default::default()
    }
}

fn unit(batch: usize, j: usize) -> proto::TranslationUnit {
    let segment = |lang: &str, text: String| proto::Segment {
        lang: lang.into(),
        text,
        ..Default::default()
    };
    proto::TranslationUnit {
        id: format!("u{batch}-{j}"),
        segments: vec![
            segment(
                "en",
                format!("Wire report {batch} sentence {j} from the summit"),
            ),
            segment("zh", format!("峰会第{batch}号电讯第{j}句")),
        ],
        ..Default::default()
    }
}

/// A unit as the nodes must agree on it: its id and texts.
fn texts(unit: proto::TranslationUnit) -> (String, Vec<String>) {
    (unit.id, unit.segments.into_iter().map(|s| s.text).collect())
}

/// Upserts `UPSERTS_PER_NODE` concepts through node `n`; answers the acknowledged ones with
/// the revision each was stored at.
async fn upserts(nodes: Nodes, n: usize) -> Vec<(String, u64)> {
    let mut acknowledged = Vec::new();
    for i in 0..UPSERTS_PER_NODE {
        let mut client = TermbaseClient::new(node(&nodes, n).await);
        let request = UpsertConceptRequest {
            concept: Some(concept(n, i)),
            ..Default::default()
        };
        match client.upsert_concept(request).await {
            Ok(stored) => {
                let stored = stored.into_inner();
                acknowledged.push((stored.id, stored.revision));
            }
            Err(status) if tolerated(&status) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("upsert through node {n}: {status:?}"),
        }
    }
    acknowledged
}

/// Adds `UNIT_BATCHES` batches through the nodes in turn, each retried on the next node
/// (units have ids: a repeated batch leaves the same content); answers the acknowledged
/// batches.
async fn unit_batches(nodes: Nodes) -> Vec<usize> {
    let mut acknowledged = Vec::new();
    for batch in 0..UNIT_BATCHES {
        for attempt in 0..3 {
            let mut client = MemoryClient::new(node(&nodes, (batch + attempt) % 3).await);
            let request = AddUnitsRequest {
                memory: MEMORY.into(),
                units: (0..UNITS_PER_BATCH).map(|j| unit(batch, j)).collect(),
            };
            match client.add_units(request).await {
                Ok(_) => {
                    acknowledged.push(batch);
                    break;
                }
                Err(status) if tolerated(&status) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => panic!("AddUnits batch {batch}: {status:?}"),
            }
        }
    }
    acknowledged
}

/// Imports [`IMPORTED_UNITS`] numbered units as job [`JOB`] through node 0, trying again
/// with the same job id when the import fails while the log's leader is away; answers the
/// report of the try that committed (or replayed the commit).
async fn import_job(nodes: Nodes) -> proto::ImportReport {
    let file = numbered_tmx(IMPORTED_UNITS);
    for attempt in 0..5 {
        let (sender, upload) = tokio::sync::mpsc::channel(4);
        let header = ImportHeader {
            format: proto::FileFormat::Tmx as i32,
            file_name: "wire.tmx".into(),
            target: Some(import_header::Target::Memory(IMPORTED.into())),
            job_id: JOB.into(),
            ..Default::default()
        };
        let chunks: Vec<ImportRequest> = std::iter::once(import_request::Message::Header(header))
            .chain(
                file.chunks(1 << 20)
                    .map(|chunk| import_request::Message::Chunk(chunk.to_vec())),
            )
            .map(|message| ImportRequest {
                message: Some(message),
            })
            .collect();
        tokio::spawn(async move {
            for chunk in chunks {
                if sender.send(chunk).await.is_err() {
                    break;
                }
            }
        });
        match import_report(node(&nodes, 0).await, upload).await {
            Ok(Some(report)) if report.committed => return report,
            Ok(report) => panic!("the import did not commit: {report:?}"),
            Err(status) if tolerated(&status) || status.code() == Code::AlreadyExists => {
                eprintln!("import attempt {attempt}: {status:?}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(status) => panic!("import: {status:?}"),
        }
    }
    panic!("the import never committed");
}

/// Searches through node 0 until `stop`; answers how many searches were answered.
async fn searches(nodes: Nodes, mut stop: oneshot::Receiver<()>) -> usize {
    let mut answered = 0;
    for _ in 0..10_000 {
        if stop.try_recv().is_ok() {
            break;
        }
        let mut client = MemoryClient::new(node(&nodes, 0).await);
        let request = SearchRequest {
            text: "Wire report 1 sentence 5 from the summit".into(),
            source_lang: "en".into(),
            target_lang: "zh".into(),
            ..Default::default()
        };
        match client.search(request).await {
            Ok(_) => answered += 1,
            Err(status) if tolerated(&status) => {}
            Err(status) => panic!("search: {status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    answered
}

/// One Watch event as the nodes must agree on it: revision, kind, concept id and revision.
type Seen = (u64, &'static str, String, u64);

fn seen(event: proto::WatchEvent) -> Option<Seen> {
    let revision = event.revision;
    match event.event? {
        Event::ConceptUpserted(upserted) => {
            let concept = upserted.concept?;
            Some((revision, "upserted", concept.id, concept.revision))
        }
        Event::ConceptDeleted(deleted) => Some((revision, "deleted", deleted.id, 0)),
        Event::CollectionUpserted(collection) => Some((revision, "collection", collection.name, 0)),
        Event::CollectionDeleted(deleted) => {
            Some((revision, "collection deleted", deleted.name, 0))
        }
        Event::SnapshotConcept(_) | Event::SnapshotEnd(_) | Event::Bookmark(_) => None,
    }
}

/// Opens a Watch on `channel` after `after`, then keeps what it sees in `events` in a task
/// of its own until the stream ends: the stream is open when this returns.
async fn watch(
    channel: Channel,
    after: u64,
    events: Arc<Mutex<Vec<Seen>>>,
) -> tokio::task::JoinHandle<()> {
    let mut stream = TermbaseClient::new(channel)
        .watch(WatchRequest {
            after_revision: after,
            ..Default::default()
        })
        .await
        .expect("watch opens")
        .into_inner();
    tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(event)) => {
                    if let Some(seen) = seen(event) {
                        events.lock().expect("events").push(seen);
                    }
                }
                Ok(None) => break,
                Err(status) => {
                    eprintln!("watch ended: {status:?}");
                    break;
                }
            }
        }
    })
}

/// The revision a write through a cluster node answered with.
fn acknowledged_at(metadata: &tonic::metadata::MetadataMap) -> u64 {
    revision_of(metadata).expect("a cluster node's answer carries its revision")
}

/// The node's revision: the `tolmach-revision` header of a read.
async fn revision(channel: Channel) -> Option<u64> {
    let answer = TermbaseClient::new(channel)
        .list_collections(ListCollectionsRequest {})
        .await
        .ok()?;
    revision_of(answer.metadata())
}

async fn serving(channel: Channel) -> bool {
    let answer = HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await;
    answer.is_ok_and(|a| a.into_inner().status == ServingStatus::Serving as i32)
}

/// What a node holds of the test's collection and memory.
#[derive(Debug, PartialEq)]
struct Content {
    concepts: BTreeMap<String, proto::Concept>,
    units: BTreeSet<(String, Vec<String>)>,
    imported: BTreeSet<(String, Vec<String>)>,
}

async fn content(channel: Channel) -> Content {
    let mut concepts = BTreeMap::new();
    let mut termbase = TermbaseClient::new(channel.clone());
    let mut token = String::new();
    for _ in 0..100 {
        let page = termbase
            .list_concepts(ListConceptsRequest {
                page_size: 500,
                page_token: token.clone(),
                collection: COLLECTION.into(),
                ..Default::default()
            })
            .await
            .expect("list concepts")
            .into_inner();
        concepts.extend(page.concepts.into_iter().map(|c| (c.id.clone(), c)));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut memory = MemoryClient::new(channel);
    let units = units_of(&mut memory, MEMORY).await;
    let imported = units_of(&mut memory, IMPORTED).await;
    Content {
        concepts,
        units,
        imported,
    }
}

/// Every unit of `memory`: its id and texts.
async fn units_of(
    client: &mut MemoryClient<Channel>,
    memory: &str,
) -> BTreeSet<(String, Vec<String>)> {
    let mut units = BTreeSet::new();
    let mut token = String::new();
    for _ in 0..1000 {
        let page = client
            .list_units(ListUnitsRequest {
                memory: memory.into(),
                page_size: 1000,
                page_token: token.clone(),
            })
            .await
            .expect("list units")
            .into_inner();
        units.extend(page.units.into_iter().map(texts));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    units
}

/// Whether the test can run here; panics when CI requires it and it cannot.
fn nats_installed() -> bool {
    if Path::new(NATS_SERVER).exists() {
        return true;
    }
    let reason =
        format!("the cluster test needs {NATS_SERVER} (Debian: apt-get install nats-server)");
    assert!(
        std::env::var("TOLMACH_REQUIRE_NATS").as_deref() != Ok("1"),
        "{reason}, and TOLMACH_REQUIRE_NATS=1 requires it"
    );
    eprintln!("skipped: {reason}");
    false
}

/// A temporary directory holding three started nats-servers, and the arguments of a node of
/// their cluster (with an empty glossary directory, for a short start).
fn cluster_of_three() -> (tempfile::TempDir, Vec<NatsServer>, Vec<String>) {
    let root = tempfile::tempdir().expect("temp dir");
    let glossary = root.path().join("glossary");
    std::fs::create_dir_all(&glossary).expect("glossary dir");
    let servers = nats_cluster(root.path());
    let args = node_args(&servers, &glossary);
    (root, servers, args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_loses_no_acknowledged_write_when_the_log_leader_and_a_node_are_killed() {
    if !nats_installed() {
        return;
    }
    let (root, mut servers, args) = cluster_of_three();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = |n: usize| root.path().join(format!("node-{n}"));
    let mut processes = Vec::new();
    for n in 0..3 {
        processes.push(ChildServer::start_with(&data(n), &args).await);
    }
    let nodes: Nodes = Arc::new(RwLock::new(
        processes.iter().map(|p| p.channel.clone()).collect(),
    ));

    let events = Arc::new(Mutex::new(Vec::new()));
    let watcher = watch(node(&nodes, 1).await, 0, Arc::clone(&events)).await;
    let (stop_searching, searching) = oneshot::channel();
    let searcher = tokio::spawn(searches(Arc::clone(&nodes), searching));
    let writers: Vec<_> = (0..3)
        .map(|n| tokio::spawn(upserts(Arc::clone(&nodes), n)))
        .collect();
    let units = tokio::spawn(unit_batches(Arc::clone(&nodes)));
    let import = tokio::spawn(import_job(Arc::clone(&nodes)));

    // Mid-load: the log's leader and node 2 die without warning, and come back.
    let started = Instant::now();
    while events.lock().expect("events").len() < 20 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "{} events after {:?}",
        events.lock().expect("events").len(),
        started.elapsed()
    );
    let (leader, _) = stream_state(&servers).await;
    let killed = servers
        .iter()
        .position(|s| s.name == leader)
        .expect("the leader is one of ours");
    servers[killed].kill();
    processes.pop().expect("node 2").kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let peers: Vec<u16> = servers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != killed)
        .map(|(_, s)| s.route_port)
        .collect();
    servers[killed].start(&peers);
    let restarted = ChildServer::start_with(&data(2), &args).await;
    nodes.write().await[2] = restarted.channel.clone();
    processes.push(restarted);

    eprintln!("killed and restarted after {:?}", started.elapsed());
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("writer"));
    }
    let batches = units.await.expect("unit writer");
    let imported = import.await.expect("importer");
    let _ = stop_searching.send(());
    assert!(
        searcher.await.expect("searcher") > 0,
        "searches were answered"
    );
    assert!(
        acknowledged.len() >= UPSERTS_PER_NODE,
        "most upserts were acknowledged: {}",
        acknowledged.len()
    );
    assert!(
        batches.len() >= UNIT_BATCHES / 2,
        "unit batches acknowledged: {batches:?}"
    );

    // Every node reaches the log's end and holds the same content.
    let started = Instant::now();
    let (_, last) = stream_state(&servers).await;
    let mut agreed = None;
    while started.elapsed() < CONVERGENCE {
        let mut revisions = Vec::new();
        let mut ready = true;
        for n in 0..3 {
            let channel = node(&nodes, n).await;
            ready &= serving(channel.clone()).await;
            revisions.push(revision(channel).await);
        }
        if ready && revisions.iter().all(|r| *r == Some(last)) {
            agreed = Some(revisions);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("nodes agreed after {:?}", started.elapsed());
    assert!(
        agreed.is_some(),
        "the nodes did not all reach revision {last} and SERVING within {CONVERGENCE:?}"
    );
    let first = content(node(&nodes, 0).await).await;
    for n in 1..3 {
        assert!(
            content(node(&nodes, n).await).await == first,
            "node {n} holds other content than node 0"
        );
    }
    for (id, revision) in &acknowledged {
        let stored = first
            .concepts
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged {id} lost"));
        assert!(
            stored.revision >= *revision,
            "{id} went back to an older revision"
        );
    }
    for batch in &batches {
        for j in [0, UNITS_PER_BATCH - 1] {
            let unit = texts(unit(*batch, j));
            assert!(
                first.units.contains(&unit),
                "acknowledged unit {} lost",
                unit.0
            );
        }
    }

    // The import is whole on every node, once; a retry with its job id replays its report.
    assert_eq!(first.imported.len(), IMPORTED_UNITS, "the import is whole");
    let replayed = import_job(Arc::clone(&nodes)).await;
    assert!(
        replayed.replayed,
        "a retry of a committed job is not imported again"
    );
    assert_eq!(replayed.added, imported.added);

    // The Watch client on a node that stayed up saw every acknowledged upsert, once, in order.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen: Vec<Seen> = events.lock().expect("events").clone();
    watcher.abort();
    assert!(
        seen.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "watch revisions strictly rise: no duplicate, no reordering"
    );
    let upserted: BTreeSet<(String, u64)> = seen
        .iter()
        .filter(|s| s.1 == "upserted")
        .map(|s| (s.2.clone(), s.3))
        .collect();
    for write in &acknowledged {
        assert!(upserted.contains(write), "the watch missed {write:?}");
    }

    // Resumed on the node that was killed, the watch goes on exactly where it was.
    let middle = seen[seen.len() / 2].0;
    let resumed = Arc::new(Mutex::new(Vec::new()));
    let resumer = watch(node(&nodes, 2).await, middle, Arc::clone(&resumed)).await;
    let expected: Vec<Seen> = seen.iter().filter(|s| s.0 > middle).cloned().collect();
    let started = Instant::now();
    while resumed.lock().expect("resumed").len() < expected.len()
        && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    resumer.abort();
    assert_eq!(*resumed.lock().expect("resumed"), expected);

    // Read-your-writes across nodes: a write's revision, asked of another node.
    let written = TermbaseClient::new(node(&nodes, 0).await)
        .upsert_concept(UpsertConceptRequest {
            concept: Some(concept(9, 0)),
            ..Default::default()
        })
        .await
        .expect("a write after the restarts");
    let at = acknowledged_at(written.metadata());
    let mut read = tonic::Request::new(proto::GetConceptRequest { id: "n9-0".into() });
    read.metadata_mut().insert(
        "tolmach-min-revision",
        at.to_string().parse().expect("header"),
    );
    let read = TermbaseClient::new(node(&nodes, 1).await)
        .get_concept(read)
        .await
        .expect("another node serves a read at the write's revision");
    assert_eq!(read.into_inner().id, "n9-0");

    // A revision no node has reached: UNAVAILABLE after a bounded wait, not stale data.
    let mut ahead = tonic::Request::new(ListCollectionsRequest {});
    ahead.metadata_mut().insert(
        "tolmach-min-revision",
        (at + 1000).to_string().parse().expect("header"),
    );
    let waited = Instant::now();
    let refused = TermbaseClient::new(node(&nodes, 2).await)
        .list_collections(ahead)
        .await
        .expect_err("not yet at that revision");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains(&(at + 1000).to_string()),
        "{refused:?}"
    );
    assert!(waited.elapsed() < Duration::from_secs(30));
    let mut garbled = tonic::Request::new(ListCollectionsRequest {});
    garbled
        .metadata_mut()
        .insert("tolmach-min-revision", "soon".parse().expect("header"));
    let refused = TermbaseClient::new(node(&nodes, 2).await)
        .list_collections(garbled)
        .await
        .expect_err("not a revision");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");

    // A new node joins from the log's start: NOT_SERVING while it replays, and SERVING only
    // once it has applied everything the log held when it joined.
    let (_, last) = stream_state(&servers).await;
    let joined = ChildServer::start_with(&data(3), &args).await;
    let started = Instant::now();
    let mut replaying = 0;
    loop {
        let serving = serving(joined.channel.clone()).await;
        let at = revision(joined.channel.clone()).await;
        if serving {
            assert!(at >= Some(last), "SERVING at revision {at:?} of {last}");
            break;
        }
        replaying += 1;
        assert!(
            started.elapsed() < CONVERGENCE,
            "the new node never caught up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        replaying > 0,
        "the new node said SERVING before it replayed the log"
    );
    let now = content(node(&nodes, 0).await).await;
    assert!(
        content(joined.channel.clone()).await == now,
        "the new node holds other content"
    );

    // A key made through one node works on every node, and its revocation through another
    // reaches them all (last: from the first key on, every call needs one). Each check
    // reads at the revision the key write answered with: reads are local.
    let created = AccessClient::new(node(&nodes, 0).await)
        .create_key(CreateKeyRequest {
            name: "desk".into(),
            role: proto::Role::Admin as i32,
            ..Default::default()
        })
        .await
        .expect("a key is created");
    let at = acknowledged_at(created.metadata());
    let created = created.into_inner();
    let list = |n: usize, at: u64, secret: Option<String>| {
        let mut request = tonic::Request::new(ListCollectionsRequest {});
        let metadata = request.metadata_mut();
        metadata.insert(
            "tolmach-min-revision",
            at.to_string().parse().expect("header"),
        );
        if let Some(secret) = secret {
            let bearer = format!("Bearer {secret}").parse().expect("header");
            metadata.insert("authorization", bearer);
        }
        let nodes = Arc::clone(&nodes);
        async move {
            TermbaseClient::new(node(&nodes, n).await)
                .list_collections(request)
                .await
                .map(drop)
        }
    };
    for n in 0..3 {
        let without = list(n, at, None)
            .await
            .expect_err("a key exists on every node now");
        assert_eq!(
            without.code(),
            Code::Unauthenticated,
            "node {n}: {without:?}"
        );
        list(n, at, Some(created.secret.clone()))
            .await
            .unwrap_or_else(|status| panic!("node {n} refused the key: {status:?}"));
    }
    let mut revoke = tonic::Request::new(RevokeKeyRequest {
        name: "desk".into(),
    });
    revoke.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", created.secret)
            .parse()
            .expect("header"),
    );
    let revoked = AccessClient::new(node(&nodes, 1).await)
        .revoke_key(revoke)
        .await
        .expect("revoked through another node");
    let at = acknowledged_at(revoked.metadata());
    for n in 0..3 {
        let refused = list(n, at, Some(created.secret.clone()))
            .await
            .expect_err("a revoked key is refused everywhere");
        assert_eq!(
            refused.code(),
            Code::Unauthenticated,
            "node {n}: {refused:?}"
        );
    }
}

/// The shard count of the memory in the sharding test, and the nodes' holdings: node 0 and
/// node 1 hold half each, node 2 all.
const SHARDS: u32 = 4;
const HOLDINGS: [Option<&str>; 3] = [Some("0-1"), Some("2-3"), None];
const SHARDED: &str = "sharded";

/// A search of the sharded memory, read at `revision` or later.
fn sharded_search(
    text: &str,
    source: &str,
    limit: u32,
    revision: u64,
) -> tonic::Request<SearchRequest> {
    let target = if source == "en" { "zh" } else { "en" };
    let mut request = tonic::Request::new(SearchRequest {
        text: text.into(),
        source_lang: source.into(),
        target_lang: target.into(),
        limit,
        min_score: 0.5,
        memories: vec![SHARDED.into()],
    });
    request.metadata_mut().insert(
        "tolmach-min-revision",
        revision.to_string().parse().expect("header"),
    );
    request
}

/// A search's matches as the nodes must agree on them, and the shards it says are missing.
async fn search_on(
    channel: Channel,
    request: tonic::Request<SearchRequest>,
) -> (Vec<(String, u32)>, Vec<u32>) {
    let answer = MemoryClient::new(channel)
        .search(request)
        .await
        .expect("search answered")
        .into_inner();
    let matches = answer
        .matches
        .into_iter()
        .map(|m| (m.unit_id, (m.score * 1000.0).round() as u32))
        .collect();
    (matches, answer.missing_shards)
}

/// A concordance of the sharded memory's hits, and the shards it says are missing.
async fn concordance_on(channel: Channel, text: &str, revision: u64) -> (Vec<String>, Vec<u32>) {
    let mut request = tonic::Request::new(ConcordanceRequest {
        text: text.into(),
        lang: "en".into(),
        memories: vec![SHARDED.into()],
        limit: 50,
    });
    request.metadata_mut().insert(
        "tolmach-min-revision",
        revision.to_string().parse().expect("header"),
    );
    let answer = MemoryClient::new(channel)
        .concordance(request)
        .await
        .expect("concordance answered")
        .into_inner();
    (
        answer.hits.into_iter().map(|h| h.unit_id).collect(),
        answer.missing_shards,
    )
}

/// Queries whose answers mix shards, with ties (many units one edit away) and exact matches.
const SHARD_QUERIES: [(&str, &str); 4] = [
    ("Wire report 3 sentence 17 from the summit", "en"),
    ("Wire report 1 sentence 250 at the summit", "en"),
    ("峰会第2号电讯第33句", "zh"),
    ("Wire report 0 sentence from the summit today", "en"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_memory_split_into_shards_answers_as_one_and_names_the_shards_no_node_holds() {
    if !nats_installed() {
        return;
    }
    let (root, servers, mut args) = cluster_of_three();
    args.extend(["--memory-shards".to_owned(), SHARDS.to_string()]);
    let mut nodes = Vec::new();
    for (n, held) in HOLDINGS.iter().enumerate() {
        let mut args = args.clone();
        if let Some(held) = held {
            args.extend(["--hold-shards".to_owned(), (*held).to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let dir = root.path().join(format!("node-{n}"));
        let mut node = ChildServer::start_with(&dir, &args).await;
        tokio::time::timeout(
            Duration::from_secs(30),
            node.logged("serving memory shards"),
        )
        .await
        .expect("the node serves its shards");
        nodes.push(node);
    }

    // 4 000 units written through the node holding half of them.
    let mut revision = 0;
    for batch in 0..4 {
        let answer = MemoryClient::new(nodes[0].channel.clone())
            .add_units(AddUnitsRequest {
                memory: SHARDED.into(),
                units: (0..1000).map(|j| unit(batch, j)).collect(),
            })
            .await
            .expect("units added");
        revision = acknowledged_at(answer.metadata());
    }

    // Every node answers every query alike, whichever shards it holds.
    let mut expected = Vec::new();
    for (text, lang) in SHARD_QUERIES {
        let whole = search_on(
            nodes[2].channel.clone(),
            sharded_search(text, lang, 10, revision),
        )
        .await;
        assert!(whole.1.is_empty(), "node 2 holds every shard");
        assert!(whole.0.len() >= 5, "{text:?} finds matches: {whole:?}");
        for node in &nodes[..2] {
            let answer = search_on(
                node.channel.clone(),
                sharded_search(text, lang, 10, revision),
            )
            .await;
            assert_eq!(answer, whole, "{text:?}");
        }
        expected.push(whole.0);
    }
    let phrase = "sentence 17 from";
    let whole = concordance_on(nodes[2].channel.clone(), phrase, revision).await;
    assert!(whole.1.is_empty() && whole.0.len() == 4, "{whole:?}");
    assert_eq!(
        concordance_on(nodes[0].channel.clone(), phrase, revision).await,
        whole
    );

    // Node 1 dies: node 2 still holds its shards, and answers for them.
    nodes.remove(1).kill();
    for ((text, lang), expected) in SHARD_QUERIES.iter().zip(&expected) {
        let answer = search_on(
            nodes[0].channel.clone(),
            sharded_search(text, lang, 10, revision),
        )
        .await;
        assert_eq!(&answer, &(expected.clone(), vec![]), "{text:?}");
    }

    // Node 2 dies too: shards 2 and 3 have no live member. The answer says so, at once, and
    // is exactly the best of shards 0 and 1.
    let wider: Vec<_> = {
        let (text, lang) = SHARD_QUERIES[0];
        let all = search_on(
            nodes[1].channel.clone(),
            sharded_search(text, lang, 100, revision),
        )
        .await;
        all.0
    };
    nodes.remove(1).kill();
    let partition = Partition::parse(SHARDS, "0-1").expect("partition");
    let (text, lang) = SHARD_QUERIES[0];
    let started = Instant::now();
    let (matches, missing) = search_on(
        nodes[0].channel.clone(),
        sharded_search(text, lang, 10, revision),
    )
    .await;
    eprintln!("answered without shards 2-3 in {:?}", started.elapsed());
    assert_eq!(missing, vec![2, 3]);
    let held: Vec<_> = wider
        .into_iter()
        .filter(|(id, _)| partition.keeps(SHARDED, id))
        .take(10)
        .collect();
    assert_eq!(matches, held);
    let (hits, missing) = concordance_on(nodes[0].channel.clone(), phrase, revision).await;
    assert_eq!(missing, vec![2, 3]);
    let held_hits: Vec<String> = whole
        .0
        .into_iter()
        .filter(|id| partition.keeps(SHARDED, id))
        .collect();
    assert_eq!(hits, held_hits);

    // A node started on a copy of a stopped node's data directory resumes from what that
    // node had applied (no replay from the log's start) and serves shards 2-3 again.
    let copy = root.path().join("node-2-copy");
    copy_dir(&root.path().join("node-2"), &copy);
    let answer = MemoryClient::new(nodes[0].channel.clone())
        .add_units(AddUnitsRequest {
            memory: SHARDED.into(),
            units: (0..1000).map(|j| unit(4, j)).collect(),
        })
        .await
        .expect("units added");
    let later = acknowledged_at(answer.metadata());
    let full: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut returned = ChildServer::start_with(&copy, &full).await;
    let resumed_from: u64 = returned
        .early
        .iter()
        .find(|line| line.contains("joined the cluster"))
        .and_then(|line| line.split("applied=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the node logs where it resumed");
    assert!(
        resumed_from >= revision,
        "resumed from {resumed_from}, not from the copy's {revision}"
    );
    tokio::time::timeout(
        Duration::from_secs(30),
        returned.logged("serving memory shards"),
    )
    .await
    .expect("the node serves its shards");
    let (text, lang) = SHARD_QUERIES[0];
    // Its subscriptions reach the other NATS servers of the cluster a moment after it has
    // made them, and its first answers may come after a busy machine's shard deadline: the
    // shards must answer again soon, not at the first question.
    let mut here = (Vec::new(), vec![]);
    for _ in 0..60 {
        here = search_on(
            nodes[0].channel.clone(),
            sharded_search(text, lang, 10, later),
        )
        .await;
        if here.1.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let there = search_on(
        returned.channel.clone(),
        sharded_search(text, lang, 10, later),
    )
    .await;
    assert!(here.1.is_empty(), "every shard answered again: {here:?}");
    assert_eq!(here, there);

    // A node started with another shard count is refused before it serves.
    let mut other_count = args.clone();
    other_count.pop();
    other_count.push("8".into());
    let refused = refused_start(&root.path().join("node-other-count"), &other_count).await;
    assert!(
        refused.contains("memory has 4 shards") && refused.contains("started with 8"),
        "{refused}"
    );

    // Once the stream has lost entries (its limits, a purge), a node that has not applied
    // them is refused rather than left to differ from the others.
    let (_, last) = stream_state(&servers).await;
    let client = async_nats::connect(format!("nats://127.0.0.1:{}", servers[0].port))
        .await
        .expect("nats reachable");
    async_nats::jetstream::new(client)
        .get_stream(common::nats::STREAM)
        .await
        .expect("the stream exists")
        .purge()
        .sequence(last)
        .await
        .expect("purged");
    let refused = refused_start(&root.path().join("node-after-purge"), &args).await;
    assert!(
        refused.contains(&format!("no longer holds entries 1 to {}", last - 1)),
        "{refused}"
    );
}

/// Copies directory `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory created");
    for entry in std::fs::read_dir(from).expect("directory read") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("file copied");
        }
    }
}

/// Starts `tolmach serve` over `dir` with `args`, which must make it exit with an error
/// within a minute; answers what it wrote to stderr.
async fn refused_start(dir: &Path, args: &[String]) -> String {
    let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_tolmach"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tolmach starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = process.try_wait().expect("status") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = process.kill();
            panic!("tolmach serve {args:?} kept running");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut process.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr");
    assert!(!status.success(), "tolmach serve {args:?} succeeded");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_a_new_cluster_together_load_its_glossary_once() {
    if !nats_installed() {
        return;
    }
    let (root, servers, args) = cluster_of_three();
    // One file of the shipped glossary (all six take minutes to apply in a debug build, one
    // entry at a time): the nodes' glossary directory is `root/glossary`.
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/glossary/security.tbx");
    std::fs::copy(shipped, root.path().join("glossary/security.tbx")).expect("glossary copied");
    let expected = std::fs::read_to_string(shipped)
        .expect("glossary read")
        .matches("<conceptEntry")
        .count();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dirs = [root.path().join("node-0"), root.path().join("node-1")];
    let (first, second) = tokio::join!(
        ChildServer::start_with(&dirs[0], &args),
        ChildServer::start_with(&dirs[1], &args),
    );
    let glossary = |channel: Channel| async move {
        let mut concepts = BTreeMap::new();
        let mut page_token = String::new();
        for _ in 0..100 {
            let page = TermbaseClient::new(channel.clone())
                .list_concepts(ListConceptsRequest {
                    collection: tolmach::server::GLOSSARY_COLLECTION.into(),
                    page_size: 500,
                    page_token: page_token.clone(),
                    ..Default::default()
                })
                .await
                .expect("concepts listed")
                .into_inner();
            for concept in page.concepts {
                concepts.insert(concept.id.clone(), format!("{concept:?}"));
            }
            page_token = page.next_page_token;
            if page_token.is_empty() {
                break;
            }
        }
        concepts
    };
    // Both nodes started once the log held the glossary; they apply it, then hold it alike:
    // ids, revisions, times and all.
    let (_, last) = stream_state(&servers).await;
    for node in [&first, &second] {
        let mut caught_up = false;
        for _ in 0..1800 {
            if revision(node.channel.clone()).await >= Some(last) {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(caught_up, "a node reached revision {last}");
    }
    let on_first = glossary(first.channel.clone()).await;
    assert_eq!(on_first.len(), expected, "every glossary concept");
    assert!(glossary(second.channel.clone()).await == on_first);
    // Once: one entry for the collection and one per concept, whoever published first.
    assert_eq!(
        last,
        on_first.len() as u64 + 1,
        "the glossary was stored once"
    );
}
