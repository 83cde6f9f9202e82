//! The memory index saved beside the database: a restart reads it and re-reads only the units
//! written since, and every file that cannot be trusted (damaged, cut short, another store's,
//! ahead of the store, older than the log) is rebuilt from the store with the same answers.

use std::path::Path;

use tolmach::app::memory_checkpoint::{MemorySource, FILE_NAME};
use tolmach::server::RunningServer;
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::{DeleteMemoryRequest, DeleteUnitsRequest, SearchResponse};
use tonic::transport::Channel;

use crate::memory::{add, search, summit, unit};
use crate::util::start_in;

/// Queries in every language, whose answers a restart must not change.
const QUERIES: [(&str, &str, &str); 4] = [
    ("上海合作组织峰会在阿斯塔纳举行", "zh", "en"),
    ("Report number 17 on the harvest", "en", "ru"),
    ("Доклад номер 5 об урожае", "ru", "zh"),
    ("第12号关于收成的报告", "zh", "ru"),
];

fn report(n: usize) -> tolmach::service::proto::TranslationUnit {
    unit(
        &format!("report-{n}"),
        &[
            (
                "en",
                &format!("Report number {n} on the harvest of the year"),
            ),
            ("ru", &format!("Доклад номер {n} об урожае этого года")),
            ("zh", &format!("第{n}号关于今年收成的报告")),
        ],
    )
}

async fn client(server: &RunningServer) -> MemoryClient<Channel> {
    server.memory_ready().await.expect("memory loads");
    let channel = Channel::from_shared(format!("http://{}", server.addr))
        .expect("valid uri")
        .connect()
        .await
        .expect("server reachable");
    MemoryClient::new(channel)
}

async fn answers(server: &RunningServer) -> Vec<SearchResponse> {
    let mut client = client(server).await;
    let mut all = Vec::new();
    for (text, from, to) in QUERIES {
        all.push(search(&mut client, text, from, to).await);
    }
    all
}

/// A server over `dir` holding the summit and forty reports in two memories.
async fn filled(dir: &Path) -> RunningServer {
    let server = start_in(dir).await;
    let mut client = client(&server).await;
    add(&mut client, "news", vec![summit()]).await;
    add(&mut client, "reports", (0..40).map(report).collect()).await;
    server
}

fn source(server: &RunningServer) -> MemorySource {
    server.memory_source().expect("the memory is ready")
}

#[tokio::test]
async fn a_restart_reads_the_saved_index_and_then_the_writes_made_after_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = filled(dir.path()).await;
    let before = answers(&server).await;
    server.shutdown().await.expect("clean shutdown");

    let server = start_in(dir.path()).await;
    assert_eq!(answers(&server).await, before);
    let MemorySource::Checkpoint {
        saved, replayed, ..
    } = source(&server)
    else {
        panic!("rebuilt: {:?}", source(&server));
    };
    assert_eq!(replayed, 0, "saved at shutdown, nothing to re-read");

    // Writes after the checkpoint, then a stop without one: the next start re-reads them.
    let mut client = client(&server).await;
    add(&mut client, "reports", (40..45).map(report).collect()).await;
    client
        .delete_units(DeleteUnitsRequest {
            memory: "reports".into(),
            ids: vec!["report-3".into(), "report-17".into()],
        })
        .await
        .expect("deleted");
    client
        .delete_memory(DeleteMemoryRequest {
            memory: "news".into(),
        })
        .await
        .expect("deleted");
    let after = answers(&server).await;
    assert_ne!(after, before);
    drop(server);

    let server = start_in(dir.path()).await;
    assert_eq!(answers(&server).await, after);
    let MemorySource::Checkpoint {
        saved: again,
        revision,
        replayed,
    } = source(&server)
    else {
        panic!("rebuilt: {:?}", source(&server));
    };
    assert_eq!(
        (again, revision),
        (saved, saved + 3),
        "three writes re-read"
    );
    assert_eq!(replayed, 5 + 2 + 1);
    server.shutdown().await.expect("clean shutdown");
}

/// Starts over a directory whose file `damage` spoiled after a clean shutdown, and checks
/// that the index was rebuilt, for a reason containing `why`, with the answers of before.
async fn rebuilt_after(damage: impl FnOnce(&Path), why: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = filled(dir.path()).await;
    let before = answers(&server).await;
    server.shutdown().await.expect("clean shutdown");
    damage(&dir.path().join(FILE_NAME));
    let server = start_in(dir.path()).await;
    assert_eq!(answers(&server).await, before, "{why}");
    match source(&server) {
        MemorySource::Rebuilt { reason } => assert!(reason.contains(why), "{reason}"),
        other => panic!("{why}: the damaged file was used: {other:?}"),
    }
    server.shutdown().await.expect("clean shutdown");
}

fn edit(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).expect("the index was saved");
    change(&mut bytes);
    std::fs::write(path, bytes).expect("file written");
}

#[tokio::test]
async fn a_damaged_file_is_rebuilt_from_the_store() {
    rebuilt_after(
        |path| {
            edit(path, |bytes| {
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x40;
            })
        },
        "",
    )
    .await;
    rebuilt_after(
        |path| edit(path, |bytes| bytes.truncate(bytes.len() - 9)),
        "",
    )
    .await;
    rebuilt_after(
        |path| std::fs::remove_file(path).expect("removed"),
        "No such file",
    )
    .await;
    // The revision in the header, past anything the store wrote.
    rebuilt_after(
        |path| {
            edit(path, |bytes| {
                bytes[28..36].copy_from_slice(&1_000u64.to_le_bytes())
            })
        },
        "ahead of the store",
    )
    .await;
}

#[tokio::test]
async fn another_stores_file_is_refused() {
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    filled(elsewhere.path())
        .await
        .shutdown()
        .await
        .expect("clean shutdown");
    let foreign = elsewhere.path().join(FILE_NAME);
    rebuilt_after(
        |path| {
            std::fs::copy(&foreign, path).expect("copied");
        },
        "another store",
    )
    .await;
}

#[tokio::test]
async fn a_file_older_than_the_log_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = filled(dir.path()).await;
    server.shutdown().await.expect("clean shutdown");
    let path = dir.path().join(FILE_NAME);
    let old = std::fs::read(&path).expect("saved");
    let server = start_in(dir.path()).await;
    let mut client = client(&server).await;
    for n in 50..53 {
        add(&mut client, "reports", vec![report(n)]).await;
    }
    let before = answers(&server).await;
    // Saved again at shutdown, and the log trimmed up to it.
    server.shutdown().await.expect("clean shutdown");
    std::fs::write(&path, old).expect("the old file back");
    let server = start_in(dir.path()).await;
    assert_eq!(answers(&server).await, before);
    match source(&server) {
        MemorySource::Rebuilt { reason } => {
            assert!(reason.contains("older than the memory log"), "{reason}")
        }
        other => panic!("a stale file was used: {other:?}"),
    }
    server.shutdown().await.expect("clean shutdown");
}
