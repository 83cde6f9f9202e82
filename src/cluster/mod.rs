//! Cluster mode (`serve --cluster nats://…`): several nodes, each with its own sled store and
//! indexes, share one replicated log, a NATS JetStream stream. sled alone stays the default;
//! nothing here runs without `--cluster`.
//!
//! - **Writes** (`log.rs`): the node that takes a write checks it as a single server would,
//!   fixes its inputs as an [`app::commands::Command`](crate::app::commands::Command) and
//!   publishes it to the stream with a random message id (JetStream drops a repeated id, so
//!   a publish retried after a lost acknowledgement is stored once). It answers once
//!   JetStream acknowledged the entry **and** this node applied it, with what its own
//!   application gave.
//! - **Replication** (`replica.rs`): every node reads the stream in order from the entry after
//!   the last one it applied and applies each through the ordinary write path, which records
//!   the entry's sequence: a termbase write in its own transaction (`Store::applying`),
//!   any other right after the write's commit, under the same turn and flush
//!   (`Store::mark_replicated`). A restarted node resumes there; a new node reads the stream
//!   from its start. Every node applies the same entries in the same order to the same
//!   starting state, so stores, revisions and change feeds agree.
//! - **Reads** are local. The stream sequence a node has applied is its cluster revision: it
//!   rides on every gRPC answer as the `tolmach-revision` header, and a call carrying
//!   `tolmach-min-revision` waits (boundedly) until the node got there
//!   (`transport::revision`). Health answers `NOT_SERVING` until the node has applied every
//!   entry the stream held when it joined.
//!
//! - **Memory shards** (`shards.rs`): units belong to one of a fixed number of shards; a node
//!   may index only some (`--hold-shards`) and asks the nodes holding the others through NATS
//!   requests when it searches, merging their answers exactly (`app::shards`). Every node
//!   still stores every unit in its sled; only the in-memory index, the part that outgrows a
//!   machine first, is split.
//!
//! An import goes through the log as chunks of its entries and one commit entry that names
//! them (`app::import::Imports::commit`); a replica applies the commit by reading the chunks
//! back from the stream. A key's record goes through the log too, applied by every node's
//! key ring.

mod log;
mod replica;
mod shards;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, stream::StorageType, stream::Stream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::commands::Command;
use crate::app::writes::Author;
use crate::app::{now_ms, App, AppError};
use crate::auth::KeyRing;
use crate::index::memory::Partition;
use crate::model::{Collection, Concept};
use crate::store::{Store, StoreError};
use log::{Log, Waiting};
use sha2::{Digest, Sha256};

/// The stream's name when none is given.
pub const DEFAULT_STREAM: &str = "tolmach";

/// How long JetStream remembers a message id: a publish retried within it is stored once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long joining waits for the NATS server to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long joining waits for the stream to be created or read (a new JetStream cluster
/// elects its leaders first).
const STREAM_WAIT: Duration = Duration::from_secs(30);

/// Glossary entries being appended at once when a new cluster is given its glossary.
const SEED_IN_FLIGHT: usize = 32;

/// How long loading the glossary into a new cluster keeps asking a log that is not ready.
const SEED_WAIT: Duration = Duration::from_secs(120);

/// Opens (creating if missing) the stream `settings` describe; answers it with its first
/// and last sequences.
async fn open_stream(
    jetstream: &jetstream::Context,
    settings: &jetstream::stream::Config,
) -> Result<(Stream, u64, u64), String> {
    let mut stream = jetstream
        .get_or_create_stream(settings.clone())
        .await
        .map_err(|error| error.to_string())?;
    let state = stream
        .info()
        .await
        .map_err(|error| error.to_string())?
        .state
        .clone();
    Ok((stream, state.first_sequence, state.last_sequence))
}

/// Where the cluster's log lives.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The NATS server(s), `nats://127.0.0.1:4222` (comma-separated for several).
    pub url: String,
    /// The JetStream stream holding the log; created when missing.
    pub stream: String,
    /// How many JetStream servers keep each entry (3 in a three-server cluster).
    pub replicas: usize,
    /// The memory's shards, and those this node holds (every node of a cluster has the same
    /// count).
    pub partition: Partition,
}

/// Why a node could not join its cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The NATS server did not answer.
    #[error("cannot reach the NATS server at {url}: {detail}")]
    Connect {
        /// Where.
        url: String,
        /// What the client said.
        detail: String,
    },
    /// The stream could not be created or read.
    #[error("the JetStream stream {stream:?} could not be opened: {detail}")]
    Stream {
        /// Its name.
        stream: String,
        /// What the server said.
        detail: String,
    },
    /// The local store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The shipped glossary could not be loaded into a new cluster.
    #[error("the glossary could not be loaded through the cluster's log: {0}")]
    Seed(String),
    /// The stream was created for another shard count than this node's.
    #[error(
        "the cluster's memory has {stream} shards (stream {name:?}), this node was started with {node}"
    )]
    ShardCount {
        /// The stream's name.
        name: String,
        /// The count the stream was created with.
        stream: u32,
        /// This node's count.
        node: u32,
    },
}

/// A node's membership: the replica applying the log, and how far it got.
pub struct Cluster {
    applied: watch::Receiver<u64>,
    joined_at: u64,
    log: Arc<Log>,
    replica: JoinHandle<()>,
    /// Serves this node's memory shards to the other nodes.
    shards: JoinHandle<()>,
}

impl Cluster {
    /// Joins the cluster `config` names: connects, opens (or creates) the stream, puts the
    /// log in front of the writes of `app` and of the key ring `keys`, and starts applying
    /// the stream from the entry after the last one `store` applied.
    pub async fn join(
        config: &ClusterConfig,
        app: &App,
        keys: Arc<KeyRing>,
        store: Store,
    ) -> Result<Cluster, ClusterError> {
        let connect = |detail: String| ClusterError::Connect {
            url: config.url.clone(),
            detail,
        };
        let servers: Vec<&str> = config.url.split(',').map(str::trim).collect();
        let client = tokio::time::timeout(CONNECT_TIMEOUT, async_nats::connect(servers))
            .await
            .map_err(|_| connect(format!("no answer within {CONNECT_TIMEOUT:?}")))?
            .map_err(|error| connect(error.to_string()))?;
        let jetstream = jetstream::new(client.clone());
        let subject = format!("{}.writes", config.stream);
        let shard_count = config.partition.count();
        let settings = jetstream::stream::Config {
            name: config.stream.clone(),
            description: Some(describe(shard_count)),
            subjects: vec![subject.clone()],
            num_replicas: config.replicas,
            storage: StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            max_message_size: log::MAX_ENTRY_BYTES as i32,
            ..Default::default()
        };
        // A JetStream cluster that has just started answers only once it elected a leader.
        let started = Instant::now();
        let (stream, first, joined_at) = loop {
            match open_stream(&jetstream, &settings).await {
                Ok(opened) => break opened,
                Err(detail) if started.elapsed() < STREAM_WAIT => {
                    tracing::info!(detail, "the cluster's stream is not available yet");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(detail) => {
                    return Err(ClusterError::Stream {
                        stream: config.stream.clone(),
                        detail,
                    })
                }
            }
        };
        if let Some(stream_count) = stream
            .cached_info()
            .config
            .description
            .as_deref()
            .and_then(described_count)
            .filter(|&count| count != shard_count)
        {
            return Err(ClusterError::ShardCount {
                name: config.stream.clone(),
                stream: stream_count,
                node: shard_count,
            });
        }
        let applied_before = store.replicated()?;
        if joined_at > applied_before && first > applied_before + 1 {
            return Err(ClusterError::Stream {
                stream: config.stream.clone(),
                detail: replica::lost_entries(applied_before + 1, first),
            });
        }
        let (applied, watching) = watch::channel(applied_before);
        let waiting = Arc::new(Waiting::default());
        let log = Arc::new(Log::new(jetstream, subject, Arc::clone(&waiting)));
        app.install_log(log.clone());
        keys.install_log(log.clone());
        let replica = tokio::spawn(replica::run(
            app.clone(),
            keys,
            store,
            stream,
            waiting,
            applied,
        ));
        if !config.partition.holds_all() {
            app.memory
                .install_peers(Arc::new(shards::NatsShardPeers::new(
                    client.clone(),
                    config.stream.clone(),
                    shard_count,
                    watching.clone(),
                )));
        }
        let shards = tokio::spawn(shards::serve(
            client,
            config.stream.clone(),
            config.partition.clone(),
            app.memory.clone(),
            watching.clone(),
            caught_up(watching.clone(), joined_at),
        ));
        tracing::info!(
            url = config.url,
            stream = config.stream,
            applied = applied_before,
            log = joined_at,
            memory = %config.partition,
            "joined the cluster"
        );
        Ok(Cluster {
            applied: watching,
            joined_at,
            log,
            replica,
            shards,
        })
    }

    /// The sequence of the last log entry this node applied, as it changes.
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.clone()
    }

    /// Completes once this node has applied every entry the log held when it joined (or at
    /// once if the replica stopped; its fault is logged).
    pub fn caught_up(&self) -> impl Future<Output = ()> + Send + 'static {
        caught_up(self.applied.clone(), self.joined_at)
    }

    /// Whether the log was empty when this node joined: a new cluster, which this node may
    /// have to load the shipped glossary into ([`seed`](Self::seed)).
    pub fn is_new(&self) -> bool {
        self.joined_at == 0
    }

    /// Loads a glossary into a new cluster through the log: `collection`, then each of
    /// `concepts`, every entry under a message id naming it, so that nodes starting a new
    /// cluster together store it once (JetStream drops a repeated id); answers once the log
    /// holds them, and [`caught_up`](Self::caught_up) then waits until this node applied them.
    /// Every node holds the glossary with the same times and revisions, as any other write.
    pub async fn seed(
        &mut self,
        collection: Collection,
        concepts: Vec<Concept>,
    ) -> Result<(), ClusterError> {
        let failed = |error: AppError| ClusterError::Seed(error.to_string());
        let (author, time_ms) = (Author(String::new()), now_ms());
        let key = |kind: &str, name: &str| {
            let digest = Sha256::digest(name.as_bytes());
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("seed-{kind}-{hex}")
        };
        let mut last = patiently(
            Arc::clone(&self.log),
            Command::UpsertCollection {
                author: author.clone(),
                time_ms,
                collection: collection.clone(),
            },
            key("collection", &collection.name),
        )
        .await
        .map_err(failed)?;
        // The concepts are independent: several appends are in flight at once.
        let sequence = |joined: Result<Result<u64, AppError>, tokio::task::JoinError>| {
            joined
                .map_err(|error| ClusterError::Seed(error.to_string()))?
                .map_err(failed)
        };
        let mut appending: tokio::task::JoinSet<Result<u64, AppError>> = Default::default();
        for concept in concepts {
            if appending.len() >= SEED_IN_FLIGHT {
                if let Some(joined) = appending.join_next().await {
                    last = last.max(sequence(joined)?);
                }
            }
            let id = key("concept", &concept.id);
            let command = Command::UpsertConcept {
                author: author.clone(),
                time_ms,
                concept,
                expected_revision: None,
                move_from_other_collection: false,
            };
            appending.spawn(patiently(Arc::clone(&self.log), command, id));
        }
        while let Some(joined) = appending.join_next().await {
            last = last.max(sequence(joined)?);
        }
        // Caught up means having applied the glossary too.
        self.joined_at = self.joined_at.max(last);
        Ok(())
    }

    /// Stops applying the log and serving shards (at shutdown).
    pub fn leave(&self) {
        self.replica.abort();
        self.shards.abort();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Appends `command` under `key`, asking again while the log is unavailable, for up to
/// [`SEED_WAIT`]: a stream that has just been created can refuse entries for a few seconds
/// while its servers elect a leader, and a repeated key is stored once.
async fn patiently(log: Arc<Log>, command: Command, key: String) -> Result<u64, AppError> {
    let started = Instant::now();
    loop {
        match log.append_keyed(command.clone(), key.clone()).await {
            Err(AppError::LogUnavailable { detail }) if started.elapsed() < SEED_WAIT => {
                tracing::info!(
                    detail,
                    "the new cluster's log is not ready for the glossary yet"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            appended => return appended,
        }
    }
}

/// Completes once `applied` reaches `target` (or at once if the replica stopped).
async fn caught_up(mut applied: watch::Receiver<u64>, target: u64) {
    let _ = applied.wait_for(|&sequence| sequence >= target).await;
}

/// The stream's description, which records the memory's shard count for every node to check.
fn describe(shards: u32) -> String {
    format!("Tolmach replicated log; memory shards: {shards}")
}

/// The shard count a stream's description records.
fn described_count(description: &str) -> Option<u32> {
    description
        .rsplit_once("memory shards: ")?
        .1
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_count_is_read_back_from_the_description() {
        assert_eq!(described_count(&describe(16)), Some(16));
        assert_eq!(described_count("a stream made by hand"), None);
    }
}
