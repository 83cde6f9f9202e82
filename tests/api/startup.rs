//! Start-up: the server answers before its translation-memory index is built. Memory calls
//! made meanwhile wait and answer as they would later, writes made meanwhile are indexed once,
//! health says when the memory is ready, a shutdown during the build neither hangs nor loses
//! units, and a memory that cannot be read fails memory calls but not the termbase. The
//! `tolmach serve` binary starts from a settings file (`--config`), and refuses a bad one
//! naming the file and the line.

use tolmach::app::memory::MemoryUnavailable;
use tolmach::server::{ServerError, GLOSSARY_COLLECTION};
use tolmach::service::proto::import_header::Target;
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::termbase_client::TermbaseClient;
use tolmach::service::proto::{
    AddUnitsRequest, ConcordanceRequest, DeleteUnitsRequest, ListCollectionsRequest, LookupRequest,
    MemoryMatch, SearchRequest, StatsRequest,
};
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::crash::child::{numbered_tmx, ChildServer};
use crate::exchange::{header, import};
use crate::memory::{add, memory, search, summit, unit};
use crate::util::{cli_output, start_in, TestServer};

/// Units of memory `docs`: enough that indexing them is real work, few enough for a test.
const STORED: usize = 5000;

/// A server, restarted and not yet waited for, over `STORED` numbered zh–en units in memory
/// `docs` and the summit unit in memory `news`.
async fn restarted_with_stored_units() -> TestServer {
    let server = TestServer::start().await;
    let outcome = import(
        server.channel().await,
        header(Target::Memory("docs".into())),
        &numbered_tmx(STORED),
        64 * 1024,
    )
    .await;
    outcome.status.expect("the memory imports");
    add(&mut memory(&server).await, "news", vec![summit()]).await;
    server.restart().await
}

/// Units per memory, as Stats counts them in the store.
async fn stored_counts(server: &TestServer) -> Vec<(String, u64)> {
    memory(server)
        .await
        .stats(StatsRequest {})
        .await
        .expect("stats")
        .into_inner()
        .memories
        .into_iter()
        .map(|m| (m.memory, m.units))
        .collect()
}

/// The en→zh matches of `text` in `memory` alone.
async fn search_in(
    client: &mut MemoryClient<Channel>,
    memory: &str,
    text: &str,
) -> Vec<MemoryMatch> {
    client
        .search(SearchRequest {
            text: text.into(),
            source_lang: "en".into(),
            target_lang: "zh".into(),
            memories: vec![memory.into()],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("search {text:?} in {memory}: {e}"))
        .into_inner()
        .matches
}

#[tokio::test]
async fn searches_right_after_start_wait_for_the_stored_units() {
    let server = restarted_with_stored_units().await;
    let (mut by_number, mut by_summit, mut concordance) = (
        memory(&server).await,
        memory(&server).await,
        memory(&server).await,
    );
    let (numbered, summit_ru, hits) = tokio::join!(
        search(&mut by_number, "Document number 4321", "en", "zh"),
        search(
            &mut by_summit,
            "In July 2024, the Shanghai Cooperation Organisation summit was held in Astana.",
            "en",
            "ru",
        ),
        concordance.concordance(ConcordanceRequest {
            text: "Астане".into(),
            lang: "ru".into(),
            ..Default::default()
        }),
    );
    let best = numbered.matches.first().expect("the numbered unit");
    assert_eq!((best.score, best.target.as_str()), (1.0, "第4321号文件"));
    assert_eq!(
        summit_ru.matches.first().map(|m| m.target.as_str()),
        Some("В июле 2024 года в Астане прошел саммит Шанхайской организации сотрудничества.")
    );
    let hits = hits.expect("concordance").into_inner().hits;
    assert_eq!(
        hits.iter().map(|h| h.unit_id.as_str()).collect::<Vec<_>>(),
        ["summit-2024"]
    );
}

#[tokio::test]
async fn writes_right_after_start_are_indexed_exactly_once() {
    let server = restarted_with_stored_units().await;
    let (mut adder, mut deleter) = (memory(&server).await, memory(&server).await);
    let later = numbered_tmx(10);
    let (added, deleted, imported) = tokio::join!(
        adder.add_units(AddUnitsRequest {
            memory: "docs".into(),
            units: vec![unit(
                "extra",
                &[("en", "A brand new entry"), ("zh", "全新条目")]
            )],
        }),
        deleter.delete_units(DeleteUnitsRequest {
            memory: "docs".into(),
            ids: vec!["t1".into()],
        }),
        import(
            server.channel().await,
            header(Target::Memory("later".into())),
            &later,
            1024,
        ),
    );
    assert_eq!(added.expect("added").into_inner().added, 1);
    assert_eq!(deleted.expect("deleted").into_inner().deleted, 1);
    imported.status.as_ref().expect("the import commits");
    assert_eq!(imported.report().added, 10);

    let mut client = memory(&server).await;
    let extra = search(&mut client, "A brand new entry", "en", "zh").await;
    assert_eq!(
        extra.matches.first().map(|m| m.target.as_str()),
        Some("全新条目")
    );
    let gone = search_in(&mut client, "docs", "Document number 1").await;
    assert!(gone.iter().all(|m| m.unit_id != "t1"), "{gone:?}");
    let later = search_in(&mut client, "later", "Document number 7").await;
    assert_eq!(later.first().map(|m| m.target.as_str()), Some("第7号文件"));
    let counts = stored_counts(&server).await;
    assert_eq!(
        counts,
        [
            ("docs".to_owned(), STORED as u64),
            ("later".to_owned(), 10),
            ("news".to_owned(), 1)
        ]
    );
    let indexed = server.server.memory_ready().await.expect("memory ready");
    assert_eq!(indexed as u64, counts.iter().map(|(_, n)| n).sum::<u64>());
}

/// The next status a health watch sends.
async fn next_status(statuses: &mut tonic::Streaming<HealthCheckResponse>) -> i32 {
    statuses
        .message()
        .await
        .expect("health keeps watching")
        .expect("a status")
        .status
}

#[tokio::test]
async fn health_reports_the_memory_serving_once_its_index_is_built() {
    let server = restarted_with_stored_units().await;
    let mut health = HealthClient::new(server.channel().await);
    let mut statuses = health
        .watch(HealthCheckRequest {
            service: "tolmach.v1.Memory".into(),
        })
        .await
        .expect("health watch")
        .into_inner();
    // The status changes once: NOT_SERVING while the index is built, then SERVING.
    let first = next_status(&mut statuses).await;
    let last = if first == ServingStatus::NotServing as i32 {
        next_status(&mut statuses).await
    } else {
        first
    };
    assert_eq!(
        (
            first == ServingStatus::NotServing as i32 || first == last,
            last
        ),
        (true, ServingStatus::Serving as i32),
        "first {first}, last {last}"
    );
    assert_eq!(
        server.server.memory_ready().await.expect("memory ready"),
        STORED + 1
    );
}

#[tokio::test]
async fn shutting_down_while_the_memory_loads_neither_hangs_nor_loses_units() {
    let server = restarted_with_stored_units().await;
    // This restart shuts the server down while it is most likely still indexing.
    let server = server.restart().await;
    assert_eq!(
        server.server.memory_ready().await.expect("memory ready"),
        STORED + 1
    );
    let mut client = memory(&server).await;
    let found = search(&mut client, "Document number 4999", "en", "zh").await;
    assert_eq!(
        found.matches.first().map(|m| m.target.as_str()),
        Some("第4999号文件")
    );
}

#[tokio::test]
async fn an_unreadable_memory_fails_memory_calls_but_not_the_termbase() {
    let dir = tempfile::tempdir().expect("temporary directory");
    {
        let db = sled::open(dir.path()).expect("sled opens");
        db.open_tree("units")
            .expect("units tree")
            .insert(b"news\0broken", &[0xff, 0xff, 0xff][..])
            .expect("written");
        db.flush().expect("flushed");
    }
    let server = TestServer {
        server: start_in(dir.path()).await,
        dir,
    };
    let failure = server.server.memory_ready().await;
    assert!(
        matches!(
            failure,
            Err(ServerError::Memory(MemoryUnavailable::Store(_)))
        ),
        "{failure:?}"
    );

    let mut client = memory(&server).await;
    let refused = client
        .search(SearchRequest {
            text: "Peace".into(),
            source_lang: "en".into(),
            target_lang: "ru".into(),
            ..Default::default()
        })
        .await
        .expect_err("no memory to search");
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    assert!(
        refused.message().contains("could not be loaded"),
        "{refused:?}"
    );
    let refused = client
        .add_units(AddUnitsRequest {
            memory: "news".into(),
            units: vec![unit("peace", &[("en", "Peace"), ("ru", "Мир")])],
        })
        .await
        .expect_err("no memory to write to");
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");

    let hits = server
        .client()
        .await
        .lookup(LookupRequest {
            text: "上海合作组织".into(),
            source_lang: "zh".into(),
            ..Default::default()
        })
        .await
        .expect("the termbase answers")
        .into_inner()
        .hits;
    assert!(!hits.is_empty());
    let status = HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: "tolmach.v1.Memory".into(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::NotServing as i32);
    server.server.shutdown().await.expect("clean shutdown");
}

/// Writes `content` as `tolmach.toml` in `dir` and answers its path.
fn settings_file(dir: &std::path::Path, content: &str) -> std::path::PathBuf {
    let file = dir.join("tolmach.toml");
    std::fs::write(&file, content).expect("settings written");
    file
}

#[tokio::test]
async fn serve_takes_its_settings_from_a_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // `data_dir` in the snake_case spelling, relative to the file's directory.
    let file = settings_file(
        dir.path(),
        "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nwatch-retention = 500\n",
    );
    let server = ChildServer::serve(["--config".as_ref(), file.as_os_str()]).await;
    let collections = TermbaseClient::new(server.channel.clone())
        .list_collections(ListCollectionsRequest {})
        .await
        .expect("the server answers")
        .into_inner()
        .collections;
    assert!(collections.iter().any(|c| c.name == GLOSSARY_COLLECTION));
    let data = dir.path().join("data");
    let stored = std::fs::read_dir(&data).map(|entries| entries.count());
    assert!(
        stored.is_ok_and(|n| n > 0),
        "nothing stored in {}",
        data.display()
    );
}

#[test]
fn serve_refuses_a_bad_settings_file_naming_it_and_the_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = settings_file(
        dir.path(),
        "listen = \"127.0.0.1:0\"\nmax-connections = \"many\"\n",
    );
    let output = cli_output(&["serve", "--config", &file.to_string_lossy()], "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let place = format!(
        "{}:2:19: `max-connections`: invalid value 'many'",
        file.display()
    );
    assert!(stderr.contains(&place), "{stderr}");
}
