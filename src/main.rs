//! The `tolmach` command: `serve` runs the server; every other command is a gRPC client of a
//! running server. This file parses arguments, calls the library, prints, and picks the exit
//! code; nothing else.

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use prost::Message;
use tolmach::server::{self, ServerConfig};
use tolmach::service::proto::{
    self, exchange_client::ExchangeClient, memory_client::MemoryClient,
    termbase_client::TermbaseClient,
};

/// Tolmach: Chinese–Russian–English terminology and translation-memory server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50051")]
        listen: SocketAddr,
        /// Where the database lives; created when missing.
        #[arg(long, env = "TOLMACH_DATA_DIR", default_value_os_t = default_data_dir())]
        data_dir: PathBuf,
        /// Glossary directory of .tbx files loaded into an empty database (default: the
        /// glossary built into this binary).
        #[arg(long)]
        glossary: Option<PathBuf>,
    },
    /// Look up a term and print its standard renderings.
    Lookup {
        /// The term as typed: any script, any case, with typos or inflection, or the pinyin of
        /// a Chinese term (yidaiyilu, "yi dai yi lu", yi1dai4yi1lu4).
        text: String,
        /// Language of the query (zh, ru, en, …); default: detected from the script.
        #[arg(long)]
        from: Option<String>,
        /// Target languages, comma-separated; default: all.
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        /// Most hits.
        #[arg(long, default_value_t = 5)]
        limit: u32,
        /// Show the pinyin of Chinese renderings.
        #[arg(long)]
        pinyin: bool,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Find earlier translations of a sentence in the translation memories.
    Search {
        /// The source sentence.
        text: String,
        /// Language of the sentence.
        #[arg(long)]
        from: String,
        /// Language of the translations wanted.
        #[arg(long)]
        to: String,
        /// Most matches.
        #[arg(long, default_value_t = 5)]
        limit: u32,
        /// Memories to search, comma-separated, in priority order; default: all.
        #[arg(long, value_delimiter = ',')]
        memory: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Import a TBX, TMX, CSV or TSV file: concepts into a collection, units into a memory.
    /// Strict by default: one bad entry and nothing is written.
    Import {
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
    },
    /// Export collections (TBX, TBX 2008, CSV, TSV) or a memory (TMX) to a file.
    Export {
        #[command(flatten)]
        source: ExportSource,
        /// The format to write; default: from the output file's extension (.tmx, .tbx, .csv,
        /// .tsv), else TMX for a memory. Needed for TBX 2008.
        #[arg(long, value_enum)]
        format: Option<FileFormatArg>,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Only these languages, comma-separated (the columns of a CSV/TSV, in order).
        #[arg(long, value_delimiter = ',')]
        lang: Vec<String>,
        /// Only concepts of these subject fields, comma-separated.
        #[arg(long, value_delimiter = ',')]
        subject: Vec<String>,
        /// TMX: the header's source language (default `*all*`).
        #[arg(long, default_value = "")]
        srclang: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Find every known term in a text (a file, or standard input with `-` or no file).
    Recognize {
        /// The text file; `-` or absent reads standard input.
        file: Option<PathBuf>,
        /// Language of the text; default: terms of every language are found.
        #[arg(long)]
        lang: Option<String>,
        /// Target languages, comma-separated; default: all.
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List the termbase collections, highest priority first: name, priority, concepts,
    /// description.
    Collections {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Change a termbase collection.
    Collection {
        #[command(subcommand)]
        action: CollectionCommand,
    },
}

/// What `tolmach collection` does.
#[derive(Subcommand)]
enum CollectionCommand {
    /// Set a collection's priority or description (creating the collection if needed); what
    /// is not given stays as it was.
    Set {
        /// The collection.
        name: String,
        /// Higher ranks first where collections answer equally well; the shipped glossary has
        /// 5, a collection created by an import 0.
        #[arg(long, allow_negative_numbers = true)]
        priority: Option<i32>,
        /// What the collection is for.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
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

/// What an export writes.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct ExportSource {
    /// Collections to export, comma-separated (`all` for every collection).
    #[arg(long, value_delimiter = ',')]
    collection: Vec<String>,
    /// The memory to export.
    #[arg(long)]
    memory: Option<String>,
}

/// An exchange file format on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FileFormatArg {
    /// TBX v3 (TBX-Basic, DCA); on import, any TBX.
    Tbx,
    /// TBX 2008 (`martif`), for older tools.
    Tbx2008,
    /// TMX 1.4b.
    Tmx,
    /// Comma-separated glossary.
    Csv,
    /// Tab-separated glossary.
    Tsv,
}

impl From<FileFormatArg> for proto::FileFormat {
    fn from(format: FileFormatArg) -> proto::FileFormat {
        match format {
            FileFormatArg::Tbx => proto::FileFormat::Tbx,
            FileFormatArg::Tbx2008 => proto::FileFormat::Tbx2008,
            FileFormatArg::Tmx => proto::FileFormat::Tmx,
            FileFormatArg::Csv => proto::FileFormat::Csv,
            FileFormatArg::Tsv => proto::FileFormat::Tsv,
        }
    }
}

/// The format an export writes: `--format` when given, else the one the output file's
/// extension names, else TMX for a memory (the one format a memory exports). A collection
/// written to a file with another extension needs `--format`.
fn export_format(
    format: Option<FileFormatArg>,
    output: &Path,
    memory: bool,
) -> Result<FileFormatArg> {
    if let Some(format) = format {
        return Ok(format);
    }
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("tmx") => Ok(FileFormatArg::Tmx),
        Some("tbx") => Ok(FileFormatArg::Tbx),
        Some("csv") => Ok(FileFormatArg::Csv),
        Some("tsv") => Ok(FileFormatArg::Tsv),
        _ if memory => Ok(FileFormatArg::Tmx),
        _ => anyhow::bail!(
            "cannot tell the format from the name {}: give --format (tbx, tbx2008, csv or tsv)",
            output.display()
        ),
    }
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

/// Options shared by every client command.
#[derive(Args)]
struct ClientArgs {
    /// The server to ask.
    #[arg(long, env = "TOLMACH_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// Print the response as protobuf JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// `$XDG_DATA_HOME/tolmach`, else `~/.local/share/tolmach`, else `./tolmach-data`.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|base| base.join("tolmach"))
        .unwrap_or_else(|| PathBuf::from("tolmach-data"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tolmach: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            data_dir,
            glossary,
        } => serve(listen, data_dir, glossary).await,
        Command::Lookup {
            text,
            from,
            to,
            limit,
            pinyin,
            client,
        } => {
            let request = proto::LookupRequest {
                text,
                source_lang: from.unwrap_or_default(),
                target_langs: to,
                limit,
                with_pinyin: pinyin,
                ..Default::default()
            };
            let response = connect(&client).await?.lookup(request).await?.into_inner();
            if client.json {
                print_json("tolmach.v1.LookupResponse", &response)
            } else {
                print(&lookup_table(&response))
            }
        }
        Command::Search {
            text,
            from,
            to,
            limit,
            memory,
            client,
        } => {
            let request = proto::SearchRequest {
                text,
                source_lang: from,
                target_lang: to,
                limit,
                memories: memory,
                ..Default::default()
            };
            let response = memory_client(&client)
                .await?
                .search(request)
                .await?
                .into_inner();
            if client.json {
                print_json("tolmach.v1.SearchResponse", &response)
            } else {
                print(&search_table(&response))
            }
        }
        Command::Import {
            file,
            target,
            format,
            dry_run,
            best_effort,
            on_conflict,
            skip_empty_terms,
            client,
        } => {
            let header = proto::ImportHeader {
                format: format.map_or(proto::FileFormat::Unspecified, Into::into) as i32,
                file_name: file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                target: Some(match (target.collection, target.memory) {
                    (Some(collection), _) => proto::import_header::Target::Collection(collection),
                    (None, memory) => {
                        proto::import_header::Target::Memory(memory.unwrap_or_default())
                    }
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
        Command::Export {
            source,
            format,
            output,
            lang,
            subject,
            srclang,
            client,
        } => {
            let format = export_format(format, &output, source.memory.is_some())?;
            let collections = if source.collection == ["all"] {
                Vec::new()
            } else {
                source.collection
            };
            let request = proto::ExportRequest {
                format: proto::FileFormat::from(format) as i32,
                collections,
                memory: source.memory.unwrap_or_default(),
                langs: lang,
                subject_fields: subject,
                srclang,
            };
            export_file(request, &output, &client).await
        }
        Command::Recognize {
            file,
            lang,
            to,
            client,
        } => {
            let text = read_input(file.as_deref())?;
            let request = proto::RecognizeRequest {
                text: text.clone(),
                lang: lang.unwrap_or_default(),
                target_langs: to,
                ..Default::default()
            };
            let response = connect(&client)
                .await?
                .recognize(request)
                .await?
                .into_inner();
            if client.json {
                print_json("tolmach.v1.RecognizeResponse", &response)
            } else {
                print(&recognized_table(&text, &response))
            }
        }
        Command::Collections { client } => {
            let mut termbase = connect(&client).await?;
            let response = termbase
                .list_collections(proto::ListCollectionsRequest {})
                .await?
                .into_inner();
            if client.json {
                print_json("tolmach.v1.ListCollectionsResponse", &response)
            } else {
                let counts = concept_counts(&mut termbase).await?;
                print(&collections_table(&response.collections, &counts))
            }
        }
        Command::Collection {
            action:
                CollectionCommand::Set {
                    name,
                    priority,
                    description,
                    client,
                },
        } => {
            if priority.is_none() && description.is_none() {
                anyhow::bail!("nothing to change: give --priority or --description");
            }
            let mut termbase = connect(&client).await?;
            let stored = termbase
                .list_collections(proto::ListCollectionsRequest {})
                .await?
                .into_inner()
                .collections
                .into_iter()
                .find(|c| c.name == name);
            let mut collection = stored.unwrap_or(proto::Collection {
                name,
                ..Default::default()
            });
            if let Some(priority) = priority {
                collection.priority = priority;
            }
            if let Some(description) = description {
                collection.description = description;
            }
            let stored = termbase.upsert_collection(collection).await?.into_inner();
            if client.json {
                print_json("tolmach.v1.Collection", &stored)
            } else {
                print(&format!(
                    "{}: priority {}{}\n",
                    stored.name,
                    stored.priority,
                    if stored.description.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", stored.description)
                    }
                ))
            }
        }
    }
}

/// How many concepts each collection holds, counted over one pass of ListConcepts.
async fn concept_counts(
    termbase: &mut TermbaseClient<tonic::transport::Channel>,
) -> Result<std::collections::HashMap<String, usize>> {
    let mut counts = std::collections::HashMap::new();
    let mut page_token = String::new();
    loop {
        let page = termbase
            .list_concepts(proto::ListConceptsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        for concept in page.concepts {
            *counts.entry(concept.collection).or_insert(0) += 1;
        }
        if page.next_page_token.is_empty() {
            return Ok(counts);
        }
        page_token = page.next_page_token;
    }
}

fn collections_table(
    collections: &[proto::Collection],
    counts: &std::collections::HashMap<String, usize>,
) -> String {
    let mut out = format!(
        "{:<24} {:>8} {:>10}  description\n",
        "collection", "priority", "concepts"
    );
    for c in collections {
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>10}  {}",
            c.name,
            c.priority,
            counts.get(&c.name).copied().unwrap_or(0),
            c.description
        );
    }
    out
}

async fn serve(listen: SocketAddr, data_dir: PathBuf, glossary: Option<PathBuf>) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = ServerConfig {
        listen,
        data_dir: data_dir.clone(),
        glossary_dir: glossary,
    };
    let started = std::time::Instant::now();
    let running = server::start(config).await.with_context(|| {
        format!(
            "cannot start the server with data in {}",
            data_dir.display()
        )
    })?;
    if running.loaded_from_glossary > 0 {
        tracing::info!(
            concepts = running.loaded_from_glossary,
            "first start: loaded the shipped glossary"
        );
    }
    tracing::info!(
        addr = %running.addr,
        data_dir = %data_dir.display(),
        concepts = running.concept_count,
        seconds = started.elapsed().as_secs_f64(),
        "serving tolmach.v1 on {}", running.addr
    );
    // The memory index is still being built; the server logs its own failure, and a
    // shutdown first ends this wait with nothing to report.
    let memory_ready = running.memory_ready();
    tokio::spawn(async move {
        if let Ok(units) = memory_ready.await {
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(
                units,
                seconds,
                "translation memory ready: {units} units in {seconds:.1} s"
            );
        }
    });
    running.run_until(shutdown_signal()).await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// One connection to the server, for whichever service client a command needs.
async fn channel(args: &ClientArgs) -> Result<tonic::transport::Channel> {
    tonic::transport::Endpoint::from_shared(args.server.clone())
        .with_context(|| format!("{} is not a server URL", args.server))?
        .connect()
        .await
        .with_context(|| format!("cannot reach a tolmach server at {}", args.server))
}

async fn connect(args: &ClientArgs) -> Result<TermbaseClient<tonic::transport::Channel>> {
    Ok(TermbaseClient::new(channel(args).await?))
}

async fn memory_client(args: &ClientArgs) -> Result<MemoryClient<tonic::transport::Channel>> {
    Ok(MemoryClient::new(channel(args).await?))
}

/// Bytes per chunk of an upload.
const UPLOAD_CHUNK: usize = 1024 * 1024;

/// Streams `file` to the server with a progress bar, then prints the report and every
/// problem; fails when the server refused the import.
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
    let mut events = ExchangeClient::new(channel(client).await?)
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
    let mut out = String::new();
    for p in &problems {
        let _ = writeln!(
            out,
            "{name}:{}:{}: {} {}{}",
            p.line,
            p.column,
            severity_name(p.severity),
            if p.entry_id.is_empty() {
                String::new()
            } else {
                format!("[{}] ", p.entry_id)
            },
            p.reason
        );
    }
    if let Some(report) = &report {
        out.push_str(&import_summary(report));
    }
    print(&out)?;
    ended?;
    Ok(())
}

fn severity_name(severity: i32) -> &'static str {
    use proto::entry_problem::Severity;
    match Severity::try_from(severity) {
        Ok(Severity::Warning) => "warning:",
        Ok(Severity::Rejected) => "rejected:",
        Ok(Severity::Fatal) => "error:",
        _ => "",
    }
}

fn import_summary(report: &proto::ImportReport) -> String {
    let outcome = if report.dry_run {
        "dry run: nothing written"
    } else if report.committed {
        "committed"
    } else {
        "refused: nothing written"
    };
    let mut out = format!("\n{outcome}\n");
    for (label, value) in [
        ("entries read", report.entries_read),
        ("accepted", report.accepted),
        ("rejected", report.rejected),
        ("warnings", report.warnings),
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("skipped", report.skipped),
    ] {
        let _ = writeln!(out, "  {label:<14}{value:>10}");
    }
    out
}

/// Streams an export into `output`, written to a temporary name first so that a failed
/// export never leaves a truncated file under the real name.
async fn export_file(
    request: proto::ExportRequest,
    output: &Path,
    client: &ClientArgs,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;

    let mut chunks = ExchangeClient::new(channel(client).await?)
        .export(request)
        .await?
        .into_inner();
    let partial = output.with_extension("partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    let mut entries = 0;
    let written: Result<()> = async {
        while let Some(chunk) = chunks.message().await? {
            file.write_all(&chunk.data).await?;
            entries = chunk.entries;
            bar.set_message(format!("{entries} entries"));
            bar.tick();
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    if let Err(error) = written {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(error);
    }
    tokio::fs::rename(&partial, output)
        .await
        .with_context(|| format!("cannot write {}", output.display()))?;
    print(&format!(
        "exported {entries} entries to {}\n",
        output.display()
    ))
}

fn read_input(file: Option<&std::path::Path>) -> Result<String> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            Ok(text)
        }
    }
}

/// Prints a response as canonical proto3 JSON, using the descriptors built into the binary.
fn print_json(message_name: &str, message: &impl Message) -> Result<()> {
    let pool = prost_reflect::DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET)
        .context("the built-in descriptor set is unreadable")?;
    let descriptor = pool
        .get_message_by_name(message_name)
        .with_context(|| format!("{message_name} is not in the descriptor set"))?;
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())?;
    let mut json = serde_json::Serializer::pretty(Vec::new());
    dynamic.serialize_with_options(&mut json, &prost_reflect::SerializeOptions::new())?;
    let mut out = String::from_utf8(json.into_inner())?;
    out.push('\n');
    print(&out)
}

/// Writes command output; a reader that closed the pipe early (`| head`) is not an error.
fn print(out: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn search_table(response: &proto::SearchResponse) -> String {
    let mut out = String::new();
    if response.matches.is_empty() {
        out.push_str("no match\n");
    }
    for m in &response.matches {
        let _ = writeln!(
            out,
            "{:>4.0}%  {}  ({}/{})",
            m.score * 100.0,
            m.source,
            m.memory,
            m.unit_id
        );
        let _ = writeln!(out, "       {}", m.target);
        if m.numbers_only && m.adapted_target.is_empty() {
            out.push_str("       only numbers differ; adapt them by hand\n");
        } else if m.numbers_only {
            let _ = writeln!(
                out,
                "       only numbers differ; adapted: {}",
                m.adapted_target
            );
        }
    }
    out
}

fn status_name(status: i32) -> &'static str {
    match proto::TermStatus::try_from(status) {
        Ok(proto::TermStatus::Preferred) => "preferred",
        Ok(proto::TermStatus::Admitted) => "admitted",
        Ok(proto::TermStatus::Deprecated) => "DEPRECATED",
        Ok(proto::TermStatus::Forbidden) => "FORBIDDEN",
        Ok(proto::TermStatus::Superseded) => "superseded",
        _ => "",
    }
}

fn kind_name(kind: i32) -> &'static str {
    proto::MatchKind::try_from(kind).map_or("", |k| match k {
        proto::MatchKind::Exact => "exact",
        proto::MatchKind::Normalized => "normalized",
        proto::MatchKind::Stemmed => "stemmed",
        proto::MatchKind::Fuzzy => "fuzzy",
        proto::MatchKind::Partial => "partial",
        proto::MatchKind::Pinyin => "pinyin",
        proto::MatchKind::Unspecified => "",
    })
}

fn write_renderings(out: &mut String, renderings: &[proto::Rendering], indent: &str) {
    for r in renderings {
        let status = status_name(r.status);
        let mark = if r.status == proto::TermStatus::Preferred as i32 {
            "»"
        } else {
            " "
        };
        let _ = writeln!(out, "{indent}{mark} {:<8} {:<50} {status}", r.lang, r.text);
        if !r.pinyin.is_empty() {
            let _ = writeln!(out, "{indent}  {:<8} {}", "", r.pinyin);
        }
    }
}

fn lookup_table(response: &proto::LookupResponse) -> String {
    let mut out = String::new();
    if response.hits.is_empty() {
        out.push_str("no match\n");
    }
    for hit in &response.hits {
        let id = hit.concept.as_ref().map_or("", |c| c.id.as_str());
        let _ = writeln!(
            out,
            "{:.2}  {:<10}  {} [{}]  ({id})",
            hit.score,
            kind_name(hit.kind),
            hit.matched_term,
            hit.matched_lang
        );
        if hit.matched_status == proto::TermStatus::Superseded as i32 {
            let current = hit
                .concept
                .as_ref()
                .and_then(|c| current_term(c, &hit.matched_lang))
                .unwrap_or("?");
            let _ = writeln!(out, "      historical name (now: {current})");
        }
        write_renderings(&mut out, &hit.renderings, "      ");
    }
    out
}

/// The name in use today in `lang`: the concept's first preferred term there, else its first
/// admitted one.
fn current_term<'a>(concept: &'a proto::Concept, lang: &str) -> Option<&'a str> {
    let section = concept.langs.iter().find(|s| s.lang == lang)?;
    [proto::TermStatus::Preferred, proto::TermStatus::Admitted]
        .into_iter()
        .find_map(|status| section.terms.iter().find(|t| t.status == status as i32))
        .map(|t| t.text.as_str())
}

/// Whether a rendering is a name to write today (preferred or admitted).
fn is_current(rendering: &proto::Rendering) -> bool {
    rendering.status == proto::TermStatus::Preferred as i32
        || rendering.status == proto::TermStatus::Admitted as i32
}

fn recognized_table(text: &str, response: &proto::RecognizeResponse) -> String {
    let mut out = String::new();
    let mut marked = String::new();
    let mut at = 0usize;
    for o in &response.occurrences {
        let Some(span) = &o.bytes else { continue };
        let (start, end) = (span.start as usize, span.end as usize);
        if start < at
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        marked.push_str(&text[at..start]);
        marked.push('[');
        marked.push_str(&text[start..end]);
        marked.push(']');
        at = end;
    }
    marked.push_str(&text[at..]);
    let _ = writeln!(out, "{}\n", marked.trim_end());
    let _ = writeln!(
        out,
        "{:<12} {:<30} {:<30} note",
        "chars", "surface", "standard rendering"
    );
    for o in &response.occurrences {
        let chars = o
            .chars
            .as_ref()
            .map_or(String::new(), |s| format!("{}..{}", s.start, s.end));
        // Renderings come best first per language: the first current one of each language
        // is its standard rendering (preferred, or admitted where none is preferred).
        let mut standard: Vec<&proto::Rendering> = Vec::new();
        for r in o.renderings.iter().filter(|r| is_current(r)) {
            if standard.iter().all(|s| s.lang != r.lang) {
                standard.push(r);
            }
        }
        let rendering = standard
            .iter()
            .map(|r| format!("{}: {}", r.lang, r.text))
            .collect::<Vec<_>>()
            .join("; ");
        let note = if !o.current_term.is_empty() {
            format!("historical name (now: {})", o.current_term)
        } else if !o.suggestion.is_empty() {
            format!("{} — use «{}»", status_name(o.matched_status), o.suggestion)
        } else {
            String::new()
        };
        // A term broken across lines keeps the table on one line per occurrence.
        let surface = o.surface.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = writeln!(out, "{chars:<12} {surface:<30} {rendering:<30} {note}");
    }
    out
}
