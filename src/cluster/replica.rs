//! The replica: this node's reader of the replicated log. It reads the stream in order (an
//! ordered consumer, which JetStream's client recreates at the right sequence after a gap or
//! a lost connection) from the entry after the last one applied, applies each entry through
//! the application's write path and hands the outcome to the write of this node that
//! published it, if any.
//!
//! An entry the application refuses (a concept not found, a revision conflict, an id of
//! another collection) is refused alike on every node, so it is done with. A fault of this
//! node (its store, its memory index) or an entry it cannot read (written by a newer build)
//! stops the replica instead: skipping the entry would make this node differ from the
//! others. The node then answers writes `UNAVAILABLE`, stays behind
//! (reads with a minimum revision say so), and a restart resumes from the last entry applied.
//!
//! An import's chunks write nothing when they pass; its commit entry reads them back from
//! the stream by sequence, one at a time, stages them and commits them here, so a node that
//! restarts between the chunks and the commit loses nothing, and an import whose commit
//! entry never came (its node died while publishing) is absent everywhere.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::stream::Stream;
use async_nats::jetstream::Message;
use tokio::sync::watch;
use tokio_stream::StreamExt;

use super::log::{decode, Waiting};
use crate::app::commands::{Command, Outcome};
use crate::app::{App, AppError};
use crate::auth::KeyRing;
use crate::store::{Staged, Store};

/// The pause before reading the stream again after the connection or the consumer failed.
const REREAD_PAUSE: Duration = Duration::from_millis(500);

/// How often a chunk is asked for before the replica gives up on it (half a second apart:
/// longer than a leader election takes).
const CHUNK_TRIES: u32 = 60;

/// Applies `stream` to `app` from the entry after `applied`, for as long as the task runs.
pub async fn run(
    app: App,
    keys: Arc<KeyRing>,
    store: Store,
    stream: Stream,
    waiting: Arc<Waiting>,
    applied: watch::Sender<u64>,
) {
    let node = Node {
        app: &app,
        keys: &keys,
        store: &store,
        stream: &stream,
    };
    loop {
        let start = *applied.borrow() + 1;
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                ..Default::default()
            })
            .await;
        let messages = match consumer {
            Ok(consumer) => consumer.messages().await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        let mut messages = match messages {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(error, start, "cannot read the replicated log; trying again");
                tokio::time::sleep(REREAD_PAUSE).await;
                continue;
            }
        };
        while let Some(message) = messages.next().await {
            let message = match message {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(%error, "reading the replicated log failed; reading again");
                    break;
                }
            };
            if let Err(fault) = apply(&node, &waiting, &applied, &message).await {
                tracing::error!(
                    %fault,
                    "this node stopped applying the replicated log; restart it once the \
                     fault is repaired"
                );
                waiting.stop(&fault.to_string());
                return;
            }
        }
        tokio::time::sleep(REREAD_PAUSE).await;
    }
}

/// What an entry is applied to.
struct Node<'a> {
    app: &'a App,
    keys: &'a KeyRing,
    store: &'a Store,
    stream: &'a Stream,
}

/// Applies one entry, unless applied already; an `Err` is a fault of this node.
async fn apply(
    node: &Node<'_>,
    waiting: &Waiting,
    applied: &watch::Sender<u64>,
    message: &Message,
) -> Result<(), AppError> {
    let sequence = message
        .info()
        .map_err(|error| AppError::Internal {
            what: "reading the replicated log",
            detail: format!("an entry without its stream sequence: {error}"),
        })?
        .stream_sequence;
    let next = *applied.borrow() + 1;
    if sequence < next {
        return Ok(());
    }
    // Entries this node never applied are gone from the stream (its limits, or a purge):
    // applying the rest would make this node differ from the others.
    if sequence > next {
        return Err(AppError::Internal {
            what: "reading the replicated log",
            detail: lost_entries(next, sequence),
        });
    }
    // An entry this build cannot read (a newer build's, or damaged) stops the replica:
    // guessing could make this node differ from the others.
    let command = decode(&message.payload).map_err(|why| AppError::Internal {
        what: "reading the replicated log",
        detail: format!("entry {sequence}: {why}"),
    })?;
    let outcome = match command {
        Command::Import(import) => {
            let imports = node.app.imports.applying(sequence, import.author.clone());
            let chunks = chunks(node.stream, import.chunks.clone());
            imports
                .apply_replicated(import, chunks)
                .await
                .map(Outcome::Imported)
        }
        Command::PutKey { record, audit } => {
            node.keys.apply(record, audit).await.map(|()| Outcome::Done)
        }
        command => node.app.apply(sequence, command).await,
    };
    if let Err(error) = &outcome {
        if error.is_node_fault() {
            return outcome.map(drop);
        }
    }
    // A refusal that did not reach a commit recorded nothing: mark it done here.
    if node.store.replicated()? < sequence {
        node.store.mark_replicated(sequence)?;
    }
    applied.send_replace(sequence);
    let id = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(async_nats::header::NATS_MESSAGE_ID))
        .map(|id| id.as_str().to_owned());
    if let Some(id) = id {
        waiting.answer(&id, outcome);
    }
    Ok(())
}

/// The entries of an import's chunks, read from the log one chunk at a time, in order: an
/// import's entries never need to be held all at once.
fn chunks(
    stream: &Stream,
    sequences: Vec<u64>,
) -> impl tokio_stream::Stream<Item = Result<Vec<Staged>, AppError>> + Unpin + '_ {
    Box::pin(
        tokio_stream::iter(sequences).then(move |sequence| async move {
            let unreadable = |detail: String| AppError::Internal {
                what: "reading an import's chunk from the replicated log",
                detail: format!("entry {sequence}: {detail}"),
            };
            // The stream's leader answers; while one is elected, ask again.
            let mut tries = 0;
            let message = loop {
                match stream.get_raw_message(sequence).await {
                    Ok(message) => break message,
                    Err(error) if tries < CHUNK_TRIES => {
                        tries += 1;
                        tracing::warn!(%error, sequence, "an import's chunk is not readable yet");
                        tokio::time::sleep(REREAD_PAUSE).await;
                    }
                    Err(error) => return Err(unreadable(error.to_string())),
                }
            };
            match decode(&message.payload).map_err(unreadable)? {
                Command::ImportChunk { entries } => Ok(entries),
                _ => Err(unreadable("not an import's chunk".to_owned())),
            }
        }),
    )
}

/// Why a node cannot go on when the stream no longer holds entries `first` to `next - 1`.
pub fn lost_entries(first: u64, next: u64) -> String {
    format!(
        "the log no longer holds entries {first} to {}, which this node has not applied: \
         start it on a copy of another node's data directory (taken while that node was \
         stopped), which resumes from what that node had applied",
        next - 1
    )
}
