//! `tolmach export`: streams collections or a memory from the server into a file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tolmach::service::proto::{self, exchange_client::ExchangeClient};

use super::render::{print, print_json_value};
use super::{connection, ClientArgs, FileFormatArg};

/// What `tolmach export` takes.
#[derive(Args)]
pub struct ExportArgs {
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
    #[arg(long, alias = "srclang", default_value = "")]
    from: String,
    #[command(flatten)]
    client: ClientArgs,
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

/// Exports what the arguments name into the output file.
pub async fn run(args: ExportArgs) -> Result<()> {
    let ExportArgs {
        source,
        format,
        output,
        lang,
        subject,
        from,
        client,
    } = args;
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
        srclang: from,
    };
    export_file(request, &output, &client).await
}

/// Streams an export into `output`, written to a temporary name first so that a failed
/// export never leaves a truncated file under the real name, then says how many entries it
/// holds (with `--json`: an object with `output`, `format` and `entries`).
async fn export_file(
    request: proto::ExportRequest,
    output: &Path,
    client: &ClientArgs,
) -> Result<()> {
    use tokio::io::AsyncWriteExt;

    let format = proto::FileFormat::try_from(request.format)
        .unwrap_or_default()
        .as_str_name();
    let mut chunks = ExchangeClient::new(connection(client).await?)
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
    if client.json {
        print_json_value(&serde_json::json!({
            "output": output.display().to_string(),
            "format": format,
            "entries": entries,
        }))
    } else {
        print(&format!(
            "exported {entries} entries to {}\n",
            output.display()
        ))
    }
}
