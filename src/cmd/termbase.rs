//! `tolmach lookup` and `tolmach recognize`: a term's standard renderings, and every known
//! term in a text.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use tolmach::service::proto;

use super::render::{lookup_table, print, print_json, recognized_table};
use super::{connect, ClientArgs};

/// What `tolmach lookup` takes.
#[derive(Args)]
pub struct LookupArgs {
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
}

/// What `tolmach recognize` takes.
#[derive(Args)]
pub struct RecognizeArgs {
    /// The text file; `-` or absent reads standard input.
    file: Option<PathBuf>,
    /// Language of the text; default: terms of every language are found.
    #[arg(long, alias = "lang")]
    from: Option<String>,
    /// Target languages, comma-separated; default: all.
    #[arg(long, value_delimiter = ',')]
    to: Vec<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// Looks a term up and prints its hits.
pub async fn lookup(args: LookupArgs) -> Result<()> {
    let LookupArgs {
        text,
        from,
        to,
        limit,
        pinyin,
        client,
    } = args;
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

/// Finds the terms of a text and prints the text marked and a table of them.
pub async fn recognize(args: RecognizeArgs) -> Result<()> {
    let RecognizeArgs {
        file,
        from,
        to,
        client,
    } = args;
    let text = read_input(file.as_deref())?;
    let request = proto::RecognizeRequest {
        text: text.clone(),
        lang: from.unwrap_or_default(),
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

pub(super) fn read_input(file: Option<&std::path::Path>) -> Result<String> {
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
