//! `tolmach watch`: the termbase's changes as they are written, one line per event (or one
//! line of proto3 JSON with `--json`), until the server stops or the reader goes away.

use std::io::Write as _;

use anyhow::Result;
use clap::Args;
use tolmach::service::proto;

use super::render::{to_json, watch_line};
use super::{connect, ClientArgs};

/// What `tolmach watch` takes.
#[derive(Args)]
pub struct WatchArgs {
    /// Resume after this revision (the first number of the last line seen); default: from
    /// now on.
    #[arg(long, value_name = "REVISION", default_value_t = 0)]
    after: u64,
    /// Start with every concept (as of a revision R), then `snapshot_end` at R.
    #[arg(long)]
    snapshot: bool,
    /// Only this collection; repeat for more. Default: every collection the key may read.
    #[arg(long = "collection", value_name = "NAME")]
    collections: Vec<String>,
    /// Seconds of quiet after which a bookmark line is printed (1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    bookmark_interval: u32,
    #[command(flatten)]
    client: ClientArgs,
}

/// Prints the events of a Watch stream as they come.
pub async fn run(args: WatchArgs) -> Result<()> {
    let request = proto::WatchRequest {
        after_revision: args.after,
        snapshot: args.snapshot,
        collections: args.collections,
        bookmark_interval_seconds: args.bookmark_interval,
    };
    let mut events = connect(&args.client)
        .await?
        .watch(request)
        .await?
        .into_inner();
    while let Some(event) = events.message().await? {
        let line = if args.client.json {
            format!("{}\n", to_json("tolmach.v1.WatchEvent", &event)?)
        } else {
            watch_line(&event)
        };
        let mut out = std::io::stdout().lock();
        match out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            // The reader went away (`| head`): done.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}
