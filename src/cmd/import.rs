//! `tolmach import`: streams a TBX, TMX, CSV or TSV file to the server with a progress bar and
//! prints what the import did and every problem it found.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tolmach::service::proto::{self, exchange_client::ExchangeClient};

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
        client,
    } = args;
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
    let mut events = ExchangeClient::new(connection(client).await?)
        .import(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await?
        .into_inner();
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
    if client.json {
        if let Some(report) = &report {
            print_json("tolmach.v1.ImportReport", report)?;
        }
    } else {
        print(&problems_and_summary(&name, &problems, report.as_ref()))?;
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

/// Whether a problem is an entry rejected for an empty `<term>`, which `--skip-empty-terms`
/// would have let through.
fn is_empty_term(problem: &proto::EntryProblem) -> bool {
    problem.severity == proto::entry_problem::Severity::Rejected as i32
        && problem.reason.contains("empty")
        && problem.reason.contains("<term")
}
