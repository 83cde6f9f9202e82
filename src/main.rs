//! The `tolmach` command: `serve` runs the server; every other command is a gRPC client of a
//! running server. This file parses arguments (with the settings file of `serve --config`,
//! `cmd/config.rs`), hands each command to its module under `cmd/`, and picks the exit code;
//! nothing else.

mod cmd;

use clap::{Parser, Subcommand};

use cmd::config::{self, Refused};
use cmd::{collections, delete, export, import, key, memory, review, serve, termbase, watch};

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
    Serve(serve::ServeArgs),
    /// Look up a term and print its standard renderings.
    Lookup(termbase::LookupArgs),
    /// Find earlier translations of a sentence in the translation memories.
    Search(memory::SearchArgs),
    /// Import a TBX, TMX, CSV or TSV file: concepts into a collection, units into a memory.
    /// Strict by default: one bad entry and nothing is written.
    Import(import::ImportArgs),
    /// How an import job ended (the job id `import` printed): running, committed with its
    /// report, or failed and why.
    #[command(alias = "import-status")]
    Job(import::JobArgs),
    /// Export collections (TBX, TBX 2008, CSV, TSV) or a memory (TMX) to a file.
    Export(export::ExportArgs),
    /// Find every known term in a text (a file, or standard input with `-` or no file).
    Recognize(termbase::RecognizeArgs),
    /// Check a translation against the termbase: SOURCE and TARGET text files, or one TMX
    /// or XLIFF file. Exit status 1 when a finding of severity error exists.
    Check(review::CheckArgs),
    /// The glossary of one text: its terms with their renderings, as DeepL glossary entries
    /// (TSV, CSV) or a block for an LLM prompt.
    GlossaryFor(review::GlossaryForArgs),
    /// List the termbase collections, highest priority first: name, priority, concepts,
    /// description.
    Collections(collections::CollectionsArgs),
    /// Change a termbase collection.
    Collection {
        #[command(subcommand)]
        action: collections::CollectionCommand,
    },
    /// Delete a whole collection (`--collection`) or memory (`--memory`), all or nothing.
    Delete(delete::DeleteArgs),
    /// Create, list or revoke API keys, on a running server with an admin key or on a
    /// stopped server's data directory (`--data-dir`, for the first key).
    Key {
        #[command(subcommand)]
        action: key::KeyCommand,
    },
    /// Print the termbase's changes as they are written, one line each: revision, kind,
    /// what changed (`--snapshot` starts with every concept; `--after N` resumes).
    Watch(watch::WatchArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match config::parse::<Cli>(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(Refused::CommandLine(error)) => error.exit(),
        Err(Refused::Settings(error)) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The findings are printed; the status says there were errors among them.
        Err(error) if error.is::<review::ErrorFindings>() => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {}", cmd::render::error_message(&error));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Lookup(args) => termbase::lookup(args).await,
        Command::Search(args) => memory::search(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Job(args) => import::job(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Recognize(args) => termbase::recognize(args).await,
        Command::Check(args) => review::check(args).await,
        Command::GlossaryFor(args) => review::glossary_for(args).await,
        Command::Collections(args) => collections::list(args).await,
        Command::Collection { action } => collections::change(action).await,
        Command::Delete(args) => delete::run(args).await,
        Command::Key { action } => key::run(action).await,
        Command::Watch(args) => watch::run(args).await,
    }
}
