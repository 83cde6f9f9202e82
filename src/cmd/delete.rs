//! `tolmach delete`: removes a whole termbase collection or a whole translation memory, all
//! at once and durably, on a running server.

use anyhow::Result;
use clap::Args;
use tolmach::service::proto;

use super::render::{print, print_json};
use super::{connect, memory_client, ClientArgs};

/// What `tolmach delete` takes: exactly one of a collection and a memory.
#[derive(Args)]
pub struct DeleteArgs {
    /// The collection to delete with all its concepts (their history stays).
    #[arg(long, conflicts_with = "memory", required_unless_present = "memory")]
    collection: Option<String>,
    /// The memory to delete with all its units.
    #[arg(long)]
    memory: Option<String>,
    /// Also delete the shipped glossary's collection, which is not reloaded on restart.
    #[arg(long, requires = "collection")]
    force: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Deletes what the arguments name and says how much went.
pub async fn run(args: DeleteArgs) -> Result<()> {
    let DeleteArgs {
        collection,
        memory,
        force,
        client,
    } = args;
    if let Some(name) = collection {
        let response = connect(&client)
            .await?
            .delete_collection(proto::DeleteCollectionRequest {
                name: name.clone(),
                force,
            })
            .await?
            .into_inner();
        if client.json {
            return print_json("tolmach.v1.DeleteCollectionResponse", &response);
        }
        print(&format!(
            "deleted collection {name}: {} concepts\n",
            response.deleted_concepts
        ))
    } else {
        let name = memory.unwrap_or_default();
        let response = memory_client(&client)
            .await?
            .delete_memory(proto::DeleteMemoryRequest {
                memory: name.clone(),
            })
            .await?
            .into_inner();
        if client.json {
            return print_json("tolmach.v1.DeleteMemoryResponse", &response);
        }
        print(&format!(
            "deleted memory {name}: {} units\n",
            response.deleted_units
        ))
    }
}
