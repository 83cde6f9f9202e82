//! `tolmach search`: earlier translations of a sentence in the translation memories.

use anyhow::Result;
use clap::Args;
use tolmach::service::proto;

use super::render::{print, print_json, search_table};
use super::{memory_client, ClientArgs};

/// What `tolmach search` takes.
#[derive(Args)]
pub struct SearchArgs {
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
}

/// Searches the memories and prints the matches.
pub async fn search(args: SearchArgs) -> Result<()> {
    let SearchArgs {
        text,
        from,
        to,
        limit,
        memory,
        client,
    } = args;
    let request = proto::SearchRequest {
        text: text.clone(),
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
    if !response.missing_shards.is_empty() {
        let shards: Vec<String> = response.missing_shards.iter().map(u32::to_string).collect();
        eprintln!(
            "warning: no node answered for memory shard(s) {}: their matches are missing",
            shards.join(",")
        );
    }
    if client.json {
        print_json("tolmach.v1.SearchResponse", &response)
    } else {
        print(&search_table(&text, &response))
    }
}
