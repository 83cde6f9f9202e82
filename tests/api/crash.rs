//! Imports against a real `tolmach serve` process killed with SIGKILL: an import cut off by
//! the crash leaves nothing behind after a restart, and an acknowledged one is all there.

use std::path::Path;

use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_event::Event, import_header::Target,
    import_request::Message, memory_client::MemoryClient, AddUnitsRequest, FileFormat,
    ImportHeader, ImportRequest, SearchRequest,
};

use crate::exchange::import;

#[path = "../../benches/common/child.rs"]
#[allow(dead_code)] // shared with the benches, which use the rest
pub(crate) mod child;

/// The server process: shared with the crash loop benchmark.
use child::ChildServer as Server;
use child::{memory_units, numbered_tmx};

impl Server {
    /// The Chinese the memory gives for unit `n` of [`numbered_tmx`], by searching its
    /// English.
    async fn translation_of(&self, n: usize) -> String {
        let matches = MemoryClient::new(self.channel.clone())
            .search(SearchRequest {
                text: format!("Document number {n}"),
                source_lang: "en".into(),
                target_lang: "zh".into(),
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner()
            .matches;
        matches
            .into_iter()
            .next()
            .map_or_else(String::new, |m| m.target)
    }
}

/// Spool files the server keeps in its data directory for imports not yet finished.
fn spool_files(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("imports")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".spool"))
            .count()
    })
}

/// The header of every import here: a TMX into memory `crash`.
fn crash_header() -> ImportHeader {
    ImportHeader {
        format: FileFormat::Tmx as i32,
        target: Some(Target::Memory("crash".into())),
        ..Default::default()
    }
}

fn header() -> ImportRequest {
    ImportRequest {
        message: Some(Message::Header(crash_header())),
    }
}

fn chunk(bytes: &[u8]) -> ImportRequest {
    ImportRequest {
        message: Some(Message::Chunk(bytes.to_vec())),
    }
}

// The child process is driven from blocking calls: the test needs threads of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_import_keeps_nothing_of_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let file = numbered_tmx(30_000);
    let (sender, receiver) = tokio::sync::mpsc::channel(1024);
    sender.send(header()).await.unwrap();
    // Most of the file, but not its end: the server reads and stages, and cannot commit.
    for piece in file[..file.len() * 9 / 10].chunks(16 * 1024) {
        sender.send(chunk(piece)).await.unwrap();
    }
    let mut events = ExchangeClient::new(server.channel.clone())
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .expect("import starts")
        .into_inner();
    loop {
        let event = events.message().await.expect("events").expect("more");
        if let Some(Event::Progress(p)) = event.event {
            if p.accepted >= 20_000 {
                break;
            }
        }
    }
    server.kill();
    drop(sender);
    assert_eq!(
        spool_files(dir.path()),
        1,
        "the import was cut off while spooling"
    );
    let server = Server::start(dir.path()).await;
    assert_eq!(
        memory_units(&server.channel, "crash").await,
        0,
        "nothing of the import"
    );
    assert_eq!(
        spool_files(dir.path()),
        0,
        "its spooled entries are gone too"
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_import_survives_a_kill() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    // Enough units that the import builds their index part on several threads.
    let file = numbered_tmx(25_000);
    let outcome = import(server.channel.clone(), crash_header(), &file, 64 * 1024).await;
    assert_eq!(outcome.report().added, 25_000, "{:?}", outcome.status);
    assert_eq!(
        server.translation_of(24_999).await,
        "第24999号文件",
        "searchable once acknowledged"
    );
    server.kill();
    let server = Server::start(dir.path()).await;
    assert_eq!(memory_units(&server.channel, "crash").await, 25_000);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_after_the_saved_memory_index_survive_a_kill() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path()).await;
    let file = numbered_tmx(2_000);
    let outcome = import(server.channel.clone(), crash_header(), &file, 64 * 1024).await;
    assert_eq!(outcome.report().added, 2_000, "{:?}", outcome.status);
    // The index is saved in the background once the import has committed.
    let saved = dir.path().join(tolmach::app::memory_checkpoint::FILE_NAME);
    for _ in 0..1_000 {
        if saved.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(saved.exists(), "the index is saved after an import");
    let replacement =
        crate::memory::unit("t7", &[("zh", "第7号新文件"), ("en", "Document number 7")]);
    let added = crate::memory::unit(
        "t2000",
        &[("zh", "第2000号文件"), ("en", "Document number 2000")],
    );
    MemoryClient::new(server.channel.clone())
        .add_units(AddUnitsRequest {
            memory: "crash".into(),
            units: vec![replacement, added],
        })
        .await
        .expect("acknowledged");
    server.kill();
    let mut server = Server::start(dir.path()).await;
    server.logged("memory index read from its checkpoint").await;
    assert_eq!(server.translation_of(7).await, "第7号新文件");
    assert_eq!(server.translation_of(2000).await, "第2000号文件");
    assert_eq!(memory_units(&server.channel, "crash").await, 2_001);
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_while_applying_a_committed_import_finishes_it_at_restart() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut server = Server::start(dir.path()).await;
    // Many apply batches, so that the kill lands while they are written.
    let units = 60_000;
    let file = numbered_tmx(units);
    let mut requests = vec![header()];
    requests.extend(file.chunks(64 * 1024).map(chunk));
    let call = tokio::spawn({
        let channel = server.channel.clone();
        async move {
            let mut events = ExchangeClient::new(channel)
                .import(tokio_stream::iter(requests))
                .await?
                .into_inner();
            while events.message().await?.is_some() {}
            Ok::<_, tonic::Status>(())
        }
    });
    // Logged once the commit marker is on disk, before the first staged batch is applied.
    server.logged("import marked committed").await;
    server.kill();
    // Whether the call was answered does not matter: the marker was on disk.
    let _ = call.await;
    let server = Server::start(dir.path()).await;
    // Where the kill came before the last batch, the restart says it finished the import.
    for line in server.early.iter().filter(|l| l.contains("finished")) {
        eprintln!("restart: {line}");
    }
    assert_eq!(
        memory_units(&server.channel, "crash").await,
        units as u64,
        "all of the import"
    );
    assert_eq!(
        server.translation_of(units - 1).await,
        format!("第{}号文件", units - 1)
    );
    assert_eq!(
        spool_files(dir.path()),
        0,
        "the finished import's spool is gone"
    );
    server.kill();
}
