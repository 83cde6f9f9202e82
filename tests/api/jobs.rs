//! Import jobs: a retry with the same job id never imports twice, a job's outcome can be
//! asked for, a running job refuses a second import, an idle upload is ended, and a report
//! stays within a client's message limit however many problems the file has.

use std::time::Duration;

use tolmach::app::Limits;
use tolmach::service::proto::{
    exchange_client::ExchangeClient, import_header::Target, import_job::State,
    import_request::Message, FileFormat, GetImportJobRequest, ImportHeader, ImportJob,
    ImportRequest,
};
use tonic::transport::Channel;
use tonic::Code;

use crate::crash::child::{memory_units, numbered_tmx};
use crate::exchange::import;
use crate::util::{cli_output, TestServer};

/// A TMX import into memory `jobs` under `job_id`.
fn job_header(job_id: &str) -> ImportHeader {
    ImportHeader {
        format: FileFormat::Tmx as i32,
        target: Some(Target::Memory("jobs".into())),
        job_id: job_id.into(),
        ..Default::default()
    }
}

fn header_message(header: ImportHeader) -> ImportRequest {
    ImportRequest {
        message: Some(Message::Header(header)),
    }
}

fn chunk(bytes: &[u8]) -> ImportRequest {
    ImportRequest {
        message: Some(Message::Chunk(bytes.to_vec())),
    }
}

async fn get_job(channel: Channel, job_id: &str) -> Result<ImportJob, tonic::Status> {
    ExchangeClient::new(channel)
        .get_import_job(GetImportJobRequest {
            job_id: job_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Starts an import whose upload stays open (a header, then `sent`, then nothing until the
/// returned sender is dropped), and answers its event stream's first answer.
async fn open_import(
    channel: Channel,
    header: ImportHeader,
    sent: &[u8],
) -> (
    tokio::sync::mpsc::Sender<ImportRequest>,
    Result<tonic::Streaming<tolmach::service::proto::ImportEvent>, tonic::Status>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    sender.send(header_message(header)).await.unwrap();
    if !sent.is_empty() {
        sender.send(chunk(sent)).await.unwrap();
    }
    let events = ExchangeClient::new(channel)
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .map(tonic::Response::into_inner);
    (sender, events)
}

/// Reads events until the stream ends; answers its status.
async fn ending(
    mut events: tonic::Streaming<tolmach::service::proto::ImportEvent>,
) -> tonic::Status {
    loop {
        match events.message().await {
            Ok(Some(_)) => {}
            Ok(None) => return tonic::Status::ok(""),
            Err(status) => return status,
        }
    }
}

#[tokio::test]
async fn a_retry_with_the_same_job_id_imports_once_and_answers_the_stored_report() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let first = import(
        channel.clone(),
        job_header("nightly-2026-12-04"),
        &numbered_tmx(50),
        4096,
    )
    .await;
    assert!(first.status.is_ok(), "{:?}", first.status);
    let report = first.report().clone();
    assert_eq!((report.added, report.replayed), (50, false));
    assert_eq!(report.job_id, "nightly-2026-12-04");

    let job = get_job(channel.clone(), "nightly-2026-12-04")
        .await
        .unwrap();
    assert_eq!(job.state, State::Committed as i32);
    assert_eq!(
        job.target,
        Some(tolmach::service::proto::import_job::Target::Memory(
            "jobs".into()
        ))
    );
    let kept = job.report.expect("a committed job keeps its report");
    assert_eq!((kept.added, kept.committed), (50, true));
    assert_eq!(kept.import_id, report.import_id);
    assert!(job.start_time.is_some() && job.end_time.is_some());

    // The client never saw the report and sends the file again, this time a longer one.
    let retry = import(
        channel.clone(),
        job_header("nightly-2026-12-04"),
        &numbered_tmx(80),
        4096,
    )
    .await;
    assert!(retry.status.is_ok(), "{:?}", retry.status);
    let replayed = retry.report();
    assert!(replayed.replayed);
    assert!(replayed.committed);
    assert_eq!(replayed.added, 50, "the first import's answer");
    assert_eq!(replayed.import_id, report.import_id);
    assert_eq!(
        memory_units(&channel, "jobs").await,
        50,
        "nothing imported twice"
    );

    // The same job id into another memory is a mistake, not a replay.
    let mut elsewhere = job_header("nightly-2026-12-04");
    elsewhere.target = Some(Target::Memory("other".into()));
    let refused = import(channel.clone(), elsewhere, &numbered_tmx(5), 4096).await;
    let status = refused.status.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("header.job_id"), "{status:?}");

    let unknown = get_job(channel.clone(), "never-started").await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = get_job(channel, "a b").await.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert!(malformed.message().contains("job_id"), "{malformed:?}");
}

#[tokio::test]
async fn a_job_id_is_checked_and_not_allowed_on_a_dry_run() {
    let server = TestServer::start().await;
    for (job_id, dry_run, expected) in [
        ("x".repeat(129), false, "longer than 128"),
        ("with space".into(), false, "may contain only"),
        ("dry".into(), true, "dry run"),
    ] {
        let mut header = job_header(&job_id);
        header.dry_run = dry_run;
        let outcome = import(server.channel().await, header, &numbered_tmx(2), 4096).await;
        let status = outcome.status.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{job_id}");
        assert!(
            status.message().contains("header.job_id") && status.message().contains(expected),
            "{status:?}"
        );
    }
}

#[tokio::test]
async fn a_running_job_refuses_a_second_import_and_a_failed_one_runs_again() {
    let server = TestServer::start().await;
    let channel = server.channel().await;
    let file = numbered_tmx(200);
    let (sender, events) = open_import(
        channel.clone(),
        job_header("sync:glossary"),
        &file[..file.len() / 2],
    )
    .await;
    let events = events.expect("the first import starts");

    let second = import(channel.clone(), job_header("sync:glossary"), &file, 4096).await;
    let status = second.status.expect_err("refused while the first runs");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("sync:glossary"), "{status:?}");
    let running = get_job(channel.clone(), "sync:glossary").await.unwrap();
    assert_eq!(running.state, State::Running as i32);
    assert!(running.end_time.is_none());

    // The client half-closes with half the file sent: the strict import is refused.
    drop(sender);
    assert_eq!(ending(events).await.code(), Code::InvalidArgument);
    let failed = get_job(channel.clone(), "sync:glossary").await.unwrap();
    assert_eq!(failed.state, State::Failed as i32);
    assert!(!failed.error.is_empty());
    assert!(!failed.report.expect("the refusal's report").committed);
    assert_eq!(memory_units(&channel, "jobs").await, 0);

    let again = import(channel.clone(), job_header("sync:glossary"), &file, 4096).await;
    assert!(again.status.is_ok(), "{:?}", again.status);
    assert_eq!(again.report().added, 200);
    assert!(!again.report().replayed);
    let committed = get_job(channel, "sync:glossary").await.unwrap();
    assert_eq!(committed.state, State::Committed as i32);
    assert!(committed.error.is_empty());
}

#[tokio::test]
async fn an_idle_upload_is_ended_and_gives_back_its_permit() {
    let server = TestServer::start_with(Limits {
        import: 1,
        upload_idle: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let channel = server.channel().await;
    let file = numbered_tmx(20);

    // A first chunk, then nothing; then a header, then nothing.
    for (job_id, sent) in [("idle-chunk", &file[..100]), ("idle-header", &[][..])] {
        let (sender, events) = open_import(channel.clone(), job_header(job_id), sent).await;
        let status = match events {
            Ok(events) => {
                if !sent.is_empty() {
                    // Answered once its first bytes came: it holds the only import permit
                    // while it waits for more.
                    let busy = import(channel.clone(), job_header("busy"), &file, 4096).await;
                    let busy = busy.status.expect_err("no permit left");
                    assert_eq!(busy.code(), Code::ResourceExhausted, "{busy:?}");
                }
                ending(events).await
            }
            Err(status) => status,
        };
        assert_eq!(
            status.code(),
            Code::DeadlineExceeded,
            "{job_id}: {status:?}"
        );
        assert!(status.message().contains("sent nothing"), "{status:?}");
        drop(sender);
        let job = get_job(channel.clone(), job_id).await.unwrap();
        assert_eq!(job.state, State::Failed as i32, "{job_id}");
    }

    // The only import permit is free again.
    let outcome = import(channel, job_header("after-idle"), &file, 4096).await;
    assert!(outcome.status.is_ok(), "{:?}", outcome.status);
    assert_eq!(outcome.report().added, 20);
}

#[test]
fn the_cli_names_its_job_asks_for_it_and_replays_a_retry() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let url = format!("http://{}", server.server.addr);
    let file = server.dir.path().join("units.tmx");
    std::fs::write(&file, numbered_tmx(10)).unwrap();
    let file = file.to_string_lossy().into_owned();
    let import_args = [
        "import", &file, "--memory", "jobs", "--job-id", "cli-1", "--server", &url,
    ];

    let first = cli_output(&import_args, "");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("job id: cli-1"), "{stderr}");

    let retry = cli_output(&import_args, "");
    let stdout = String::from_utf8_lossy(&retry.stdout);
    assert!(retry.status.success());
    assert!(
        stdout.contains("job cli-1 had committed already"),
        "{stdout}"
    );

    let job = cli_output(&["job", "cli-1", "--server", &url], "");
    let stdout = String::from_utf8_lossy(&job.stdout);
    assert!(job.status.success());
    assert!(stdout.contains("job cli-1: committed"), "{stdout}");
    assert!(stdout.contains("memory jobs"), "{stdout}");

    let unknown = cli_output(&["import-status", "cli-2", "--server", &url], "");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("NOT_FOUND"),
        "{:?}",
        unknown
    );
}

#[test]
fn a_hundred_thousand_bad_entries_list_the_first_thousand_and_the_cli_shows_the_refusal() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    let url = format!("http://{}", server.server.addr);
    // Each unit has one language only, and an id longer than a problem lists.
    let mut tmx = String::from(
        "<?xml version=\"1.0\"?><tmx version=\"1.4\"><header srclang=\"zh\" \
         datatype=\"plaintext\" segtype=\"sentence\" o-tmf=\"x\" adminlang=\"en\" \
         creationtool=\"t\" creationtoolversion=\"1\"/><body>\n",
    );
    let long = "长".repeat(100);
    for n in 0..100_000 {
        tmx.push_str(&format!(
            "<tu tuid=\"{long}{n}\"><tuv xml:lang=\"zh\"><seg>第{n}号</seg></tuv></tu>\n"
        ));
    }
    tmx.push_str("</body></tmx>\n");
    let file = server.dir.path().join("bad.tmx");
    std::fs::write(&file, tmx).unwrap();
    let file = file.to_string_lossy().into_owned();

    let output = cli_output(&["import", &file, "--memory", "bad", "--server", &url], "");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("INVALID_ARGUMENT") && stderr.contains("100000 of 100000"),
        "{stderr}"
    );
    assert!(!stderr.contains("too large"), "{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.contains("rejected:")).count(),
        1000
    );
    assert!(
        stdout.contains("(99000 more problems found, not listed)"),
        "{}",
        &stdout[stdout.len().saturating_sub(2000)..]
    );
}
