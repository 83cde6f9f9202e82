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
use tolmach::formats::{write_tmx, TmxReader};
use tolmach::server::{self, ServerConfig};
use tolmach::service::proto::{self, memory_client::MemoryClient, termbase_client::TermbaseClient};
use tolmach::service::units;

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
        /// The term as typed: any script, any case, with typos or inflection.
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
    /// Import a TMX file into a translation memory. The whole file is checked first: one bad
    /// unit and nothing is sent.
    Import {
        /// The TMX file (1.4b or 1.1; UTF-8 or UTF-16).
        file: PathBuf,
        /// The memory to import into.
        #[arg(long)]
        memory: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Export a translation memory as TMX 1.4b.
    Export {
        /// The memory to export.
        #[arg(long)]
        memory: String,
        /// The file to write.
        #[arg(short, long)]
        output: PathBuf,
        /// The TMX header's source language.
        #[arg(long, default_value = "en")]
        srclang: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Find every known term in a text (a file, or standard input with `-` or no file).
    Recognize {
        /// The text file; `-` or absent reads standard input.
        file: Option<PathBuf>,
        /// Language of the text; default: detected from the script.
        #[arg(long)]
        lang: Option<String>,
        /// Target languages, comma-separated; default: all.
        #[arg(long, value_delimiter = ',')]
        to: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
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
            client,
        } => {
            let request = proto::LookupRequest {
                text,
                source_lang: from.unwrap_or_default(),
                target_langs: to,
                limit,
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
            memory,
            client,
        } => import_tmx(&file, &memory, &client).await,
        Command::Export {
            memory,
            output,
            srclang,
            client,
        } => export_tmx(&memory, &output, &srclang, &client).await,
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
    }
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
        units = running.unit_count,
        "serving tolmach.v1 on {}", running.addr
    );
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

/// Units per AddUnits call: large enough to amortize the flush, small enough for one message.
const IMPORT_BATCH: usize = 1000;

/// Reads the TMX file once to check every unit, then again to send them in batches, so that
/// a bad unit stops the import before anything is written.
async fn import_tmx(file: &Path, memory: &str, client: &ClientArgs) -> Result<()> {
    let open = || -> Result<TmxReader<std::io::BufReader<std::fs::File>>> {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        Ok(TmxReader::new(std::io::BufReader::new(f)))
    };
    let mut problems = Vec::new();
    let mut count = 0usize;
    for entry in open()? {
        match entry {
            Ok(_) => count += 1,
            Err(e) if e.is_fatal() => anyhow::bail!("{}: {e}", file.display()),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{}: {problem}", file.display());
        }
        anyhow::bail!(
            "{} of {} units are unusable; nothing was imported",
            problems.len(),
            count + problems.len()
        );
    }
    let mut rpc = memory_client(client).await?;
    let origin = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (mut added, mut replaced) = (0u32, 0u32);
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut entries = open()?;
    loop {
        let next = entries.next().transpose()?;
        let done = next.is_none();
        if let Some(entry) = next {
            let mut unit = entry.unit;
            if unit.origin.is_empty() {
                unit.origin = origin.clone();
            }
            batch.push(units::to_proto(&unit));
        }
        if batch.len() == IMPORT_BATCH || (done && !batch.is_empty()) {
            let request = proto::AddUnitsRequest {
                memory: memory.to_owned(),
                units: std::mem::take(&mut batch),
            };
            let response = rpc.add_units(request).await?.into_inner();
            added += response.added;
            replaced += response.replaced;
        }
        if done {
            break;
        }
    }
    let summary =
        format!("imported {count} units into {memory}: {added} new, {replaced} replaced\n");
    print(&summary)
}

async fn export_tmx(memory: &str, output: &Path, srclang: &str, client: &ClientArgs) -> Result<()> {
    let mut rpc = memory_client(client).await?;
    let mut stored = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = proto::ListUnitsRequest {
            memory: memory.to_owned(),
            page_size: 1000,
            page_token,
        };
        let page = rpc.list_units(request).await?.into_inner();
        for unit in page.units {
            stored.push(units::from_proto(unit)?);
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let out = std::fs::File::create(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    write_tmx(std::io::BufWriter::new(out), stored.iter(), srclang)?;
    print(&format!(
        "exported {} units of {memory} to {}\n",
        stored.len(),
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
        if m.numbers_only {
            let _ = writeln!(out, "       numbers differ; adapted: {}", m.adapted_target);
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
        write_renderings(&mut out, &hit.renderings, "      ");
    }
    out
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
        let rendering = o
            .renderings
            .iter()
            .filter(|r| r.status == proto::TermStatus::Preferred as i32)
            .map(|r| format!("{}: {}", r.lang, r.text))
            .collect::<Vec<_>>()
            .join("; ");
        let note = if o.suggestion.is_empty() {
            String::new()
        } else {
            format!("{} — use «{}»", status_name(o.matched_status), o.suggestion)
        };
        let _ = writeln!(out, "{chars:<12} {:<30} {rendering:<30} {note}", o.surface);
    }
    out
}
