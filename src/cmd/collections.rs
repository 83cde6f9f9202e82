//! `tolmach collections` and `tolmach collection set`: the termbase collections, their
//! priorities and sizes.

use anyhow::Result;
use clap::{Args, Subcommand};
use tolmach::service::proto::{self, termbase_client::TermbaseClient};

use super::render::{collections_table, print, print_json};
use super::{connect, ClientArgs};

/// What `tolmach collections` takes.
#[derive(Args)]
pub struct CollectionsArgs {
    #[command(flatten)]
    client: ClientArgs,
}

/// What `tolmach collection` does.
#[derive(Subcommand)]
pub enum CollectionCommand {
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

/// Lists the collections with their sizes.
pub async fn list(args: CollectionsArgs) -> Result<()> {
    let CollectionsArgs { client } = args;
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

/// Runs a `tolmach collection` action.
pub async fn change(action: CollectionCommand) -> Result<()> {
    let CollectionCommand::Set {
        name,
        priority,
        description,
        client,
    } = action;
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

/// How many concepts each collection holds, counted over one pass of ListConcepts.
async fn concept_counts(
    termbase: &mut TermbaseClient<super::Connection>,
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
