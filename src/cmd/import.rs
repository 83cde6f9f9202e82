//! `tolmach import`: streams a TBX, TMX, CSV or TSV file to the server with a progress bar and
//! prints what the import did and every problem it found; `tolmach job`: how an import job
//! ended.
//!
//! Every import but a dry run carries a job id (given, or made up here and printed). When the
//! connection breaks before the report, the import asks the server for the job's outcome,
//! reconnecting a few times, and reports that rather than a failure: the import may well have
//! committed. Running it again with the same `--job-id` never imports twice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use tolmach::service::proto::{self, exchange_client::ExchangeClient, import_job::State};

use super::render::{print, print_json, problems_and_summary};
use super::{connection, ClientArgs, FileFormatArg};

/// What `tolmach import` takes.
#[derive(Args)]
pub struct ImportArgs {
    /// The file; its format is detected from its content and name unless given.
    file: PathBuf,
    #[command(flatten)]
    target: ImportTarget,
    /// The file's format, when detection is not wanted.
    #[arg(long, value_enum)]
    format: Option<FileFormatArg>,
    /// Check the file and report what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the sound entries and report the rest, instead of all or nothing.
    #[arg(long)]
    best_effort: bool,
    /// What to do with entries whose id is already stored.
    #[arg(long, value_enum, default_value_t = OnConflictArg::Merge)]
    on_conflict: OnConflictArg,
    /// TBX: drop empty `<term/>` placeholders (as MultiTerm writes them) with a warning.
    #[arg(long)]
    skip_empty_terms: bool,
    /// A name for this import (up to 128 of `A-Z a-z 0-9 . _ : -`), to ask about it with
    /// `tolmach job` and to retry it without importing twice; one is made up when not given.
    #[arg(long)]
    job_id: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// What `tolmach job` takes.
#[derive(Args)]
pub struct JobArgs {
    /// The job id an import printed (or was given with `--job-id`).
    job_id: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Where an import goes.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct ImportTarget {
    /// The termbase collection to import concepts into (created on first use).
    #[arg(long)]
    collection: Option<String>,
    /// The translation memory to import units into.
    #[arg(long)]
    memory: Option<String>,
}

/// What an import does with an entry whose id is already stored.
#[derive(Clone, Copy, clap::ValueEnum)]
enum OnConflictArg {
    /// Add what the stored entry lacks; keep what it has.
    Merge,
    /// The imported entry replaces the stored one.
    Replace,
    /// Keep the stored entry.
    Skip,
}

/// Imports the file as the arguments say.
pub async fn run(args: ImportArgs) -> Result<()> {
    let ImportArgs {
        file,
        target,
        format,
        dry_run,
        best_effort,
        on_conflict,
        skip_empty_terms,
        job_id,
        client,
    } = args;
    // A dry run writes nothing, so it has no outcome to ask for later.
    let job_id = if dry_run {
        String::new()
    } else {
        job_id.unwrap_or_else(new_job_id)
    };
    if !job_id.is_empty() {
        eprintln!("job id: {job_id}");
    }
    let header = proto::ImportHeader {
        format: format.map_or(proto::FileFormat::Unspecified, Into::into) as i32,
        file_name: file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        target: Some(match (target.collection, target.memory) {
            (Some(collection), _) => proto::import_header::Target::Collection(collection),
            (None, memory) => proto::import_header::Target::Memory(memory.unwrap_or_default()),
        }),
        mode: if best_effort {
            proto::ImportMode::BestEffort
        } else {
            proto::ImportMode::Strict
        } as i32,
        on_conflict: match on_conflict {
            OnConflictArg::Merge => proto::OnConflict::Merge,
            OnConflictArg::Replace => proto::OnConflict::Replace,
            OnConflictArg::Skip => proto::OnConflict::Skip,
        } as i32,
        dry_run,
        skip_empty_terms,
        expected_bytes: 0,
        job_id,
    };
    import_file(&file, header, &client).await
}

/// Bytes per chunk of an upload.
const UPLOAD_CHUNK: usize = 1024 * 1024;

/// Streams `file` to the server with a progress bar, then prints the report and every
/// problem (with `--json`: the report, which holds the first 1000 problems); fails when the
/// server refused the import.
async fn import_file(
    file: &Path,
    mut header: proto::ImportHeader,
    client: &ClientArgs,
) -> Result<()> {
    use tokio::io::AsyncReadExt;

    let mut input = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().await?.len();
    header.expected_bytes = size;
    let may_skip_empty_terms =
        header.mode == proto::ImportMode::Strict as i32 && !header.skip_empty_terms;
    let header_job_id = header.job_id.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(proto::ImportRequest {
            message: Some(proto::import_request::Message::Header(header)),
        })
        .await?;
    let name = file.display().to_string();
    let reading = tokio::spawn(async move {
        loop {
            let mut chunk = vec![0u8; UPLOAD_CHUNK];
            let n = input.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            chunk.truncate(n);
            let message = proto::ImportRequest {
                message: Some(proto::import_request::Message::Chunk(chunk)),
            };
            if sender.send(message).await.is_err() {
                return Ok(());
            }
        }
    });
    let bar = indicatif::ProgressBar::new(size).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )?
        .progress_chars("=> "),
    );
    // Once the whole file is sent, a large import still has seconds of work to do (the rest
    // of the reading, then the commit): the spinner keeps turning meanwhile.
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let job_id = header_job_id.clone();
    let call = ExchangeClient::new(connection(client).await?)
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await;
    let mut events = match call {
        Ok(events) => events.into_inner(),
        Err(status) if !job_id.is_empty() && connection_lost(&status) => {
            bar.finish_and_clear();
            return outcome_after_loss(&name, &job_id, &[], client, status).await;
        }
        Err(status) => return Err(status.into()),
    };
    let mut problems = Vec::new();
    let mut report = None;
    let ended = loop {
        match events.message().await {
            Ok(Some(event)) => match event.event {
                Some(proto::import_event::Event::Progress(p)) => {
                    bar.set_position(p.bytes_read);
                    let sent = if p.bytes_read >= size {
                        "; all sent, the server is finishing"
                    } else {
                        ""
                    };
                    bar.set_message(format!(
                        "{} accepted, {} rejected{sent}",
                        p.accepted, p.rejected
                    ));
                    problems.extend(p.problems);
                }
                Some(proto::import_event::Event::Report(r)) => report = Some(r),
                None => {}
            },
            Ok(None) => break Ok(()),
            Err(status) => break Err(status),
        }
    };
    bar.finish_and_clear();
    reading
        .await?
        .with_context(|| format!("cannot read {name}"))?;
    if report.is_none() && !job_id.is_empty() {
        let lost = match &ended {
            Ok(()) => Some(tonic::Status::unavailable(
                "the answer ended before the report",
            )),
            Err(status) if connection_lost(status) => Some(status.clone()),
            Err(_) => None,
        };
        if let Some(status) = lost {
            return outcome_after_loss(&name, &job_id, &problems, client, status).await;
        }
    }
    match &report {
        Some(report) => print_report(&name, &problems, report, client.json)?,
        None if !client.json => print(&problems_and_summary(&name, &problems, None))?,
        None => {}
    }
    if may_skip_empty_terms && problems.iter().any(is_empty_term) {
        eprintln!(
            "hint: entries were rejected for empty <term/> placeholders (as SDL MultiTerm \
             writes them): --skip-empty-terms drops those terms with a warning instead"
        );
    }
    ended?;
    Ok(())
}

/// Prints the problems and the report (with `--json`, the report).
fn print_report(
    name: &str,
    problems: &[proto::EntryProblem],
    report: &proto::ImportReport,
    json: bool,
) -> Result<()> {
    if json {
        return print_json("tolmach.v1.ImportReport", report);
    }
    let mut out = problems_and_summary(name, problems, Some(report));
    if report.problems_unlisted > 0 {
        out.push_str(&format!(
            "  ({} more problems found, not listed)\n",
            report.problems_unlisted
        ));
    }
    if report.replayed {
        out.push_str(&format!(
            "  (job {} had committed already: nothing imported again)\n",
            report.job_id
        ));
    }
    print(&out)
}

/// A job id for an import not given one: unique enough among one server's imports
/// (the time in nanoseconds and the process id).
fn new_job_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{nanos:x}-{:x}", std::process::id())
}

/// Whether a call's status says the connection broke (the server went away, or the network),
/// rather than the server answering: then the import's outcome is not known.
fn connection_lost(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

/// Connection attempts when asking for a job's outcome, one a second.
const RECONNECT_TRIES: u32 = 10;
/// Times a job found running is asked again, one a second, before giving up.
const RUNNING_POLLS: u32 = 600;

/// After the connection broke during an import with job `job_id`: asks the server how the job
/// ended and prints that; fails unless it committed.
async fn outcome_after_loss(
    name: &str,
    job_id: &str,
    problems: &[proto::EntryProblem],
    client: &ClientArgs,
    lost: tonic::Status,
) -> Result<()> {
    eprintln!(
        "the connection broke before the report ({}); asking the server about job {job_id}",
        lost.message()
    );
    let job = match settled_job(job_id, client).await {
        Ok(job) => job,
        // A commit is recorded with the job, so a job the server does not know did not commit.
        Err(error)
            if error
                .downcast_ref::<tonic::Status>()
                .is_some_and(|status| status.code() == tonic::Code::NotFound) =>
        {
            bail!(
                "job {job_id} did not commit: the server stopped before it recorded the job; \
                 nothing was imported, run the import again"
            )
        }
        Err(error) => return Err(error),
    };
    match State::try_from(job.state) {
        Ok(State::Committed) => {
            let report = job.report.unwrap_or_default();
            print_report(name, problems, &report, client.json)
        }
        Ok(State::Running) => bail!(
            "job {job_id} is still running after {RUNNING_POLLS} s; ask again with `tolmach job \
             {job_id}`"
        ),
        _ => {
            if let Some(report) = &job.report {
                print_report(name, problems, report, client.json)?;
            }
            bail!("job {job_id} failed: {}", job.error)
        }
    }
}

/// The job, once it no longer runs (or after [`RUNNING_POLLS`]); reconnects up to
/// [`RECONNECT_TRIES`] times while the server cannot be reached.
async fn settled_job(job_id: &str, client: &ClientArgs) -> Result<proto::ImportJob> {
    let request = proto::GetImportJobRequest {
        job_id: job_id.to_owned(),
    };
    let mut unreachable = 0;
    let mut running = 0;
    loop {
        let answer = match connection(client).await {
            Ok(connection) => ExchangeClient::new(connection)
                .get_import_job(request.clone())
                .await
                .map(tonic::Response::into_inner)
                .map_err(anyhow::Error::from),
            Err(error) => Err(error),
        };
        match answer {
            Ok(job) if job.state == State::Running as i32 && running < RUNNING_POLLS => {
                running += 1;
            }
            Ok(job) => return Ok(job),
            Err(error) => {
                let reachable = error
                    .downcast_ref::<tonic::Status>()
                    .is_some_and(|status| !connection_lost(status));
                unreachable += 1;
                if reachable || unreachable >= RECONNECT_TRIES {
                    return Err(error.context(format!(
                        "the outcome of import job {job_id} is not known: ask later with \
                         `tolmach job {job_id}`"
                    )));
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Prints import job `job_id`: its state, target, times and report.
pub async fn job(args: JobArgs) -> Result<()> {
    let job = ExchangeClient::new(connection(&args.client).await?)
        .get_import_job(proto::GetImportJobRequest {
            job_id: args.job_id,
        })
        .await?
        .into_inner();
    if args.client.json {
        return print_json("tolmach.v1.ImportJob", &job);
    }
    let state = match State::try_from(job.state) {
        Ok(State::Running) => "running",
        Ok(State::Committed) => "committed",
        Ok(State::Failed) => "failed",
        _ => "unknown",
    };
    let target = match &job.target {
        Some(proto::import_job::Target::Collection(name)) => format!("collection {name}"),
        Some(proto::import_job::Target::Memory(name)) => format!("memory {name}"),
        None => String::new(),
    };
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref().map_or_else(|| "-".to_owned(), |t| t.to_string())
    };
    let mut out = format!(
        "job {}: {state}\n  target        {target}\n  started       {}\n  ended         {}\n",
        job.job_id,
        time(&job.start_time),
        time(&job.end_time)
    );
    if !job.error.is_empty() {
        out.push_str(&format!("  error         {}\n", job.error));
    }
    print(&out)?;
    if let Some(report) = &job.report {
        print_report(&job.job_id, &report.problems, report, false)?;
    }
    Ok(())
}

/// Whether a problem is an entry rejected for an empty `<term>`, which `--skip-empty-terms`
/// would have let through.
fn is_empty_term(problem: &proto::EntryProblem) -> bool {
    problem.severity == proto::entry_problem::Severity::Rejected as i32
        && problem.reason.contains("empty")
        && problem.reason.contains("<term")
}
