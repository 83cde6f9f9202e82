//! Searches over a partitioned memory (cluster mode): a node's index holds the units of some
//! shards ([`Partition`]); the others are asked of the nodes that hold them, through
//! [`ShardPeers`], and every answer is merged into the one a node holding every shard would
//! give ([`merge_matches`], [`merge_concordance`]). A shard no node answers for is named in
//! the reply instead of holding it up.
//!
//! Shards are asked one at a time, lowest first, and an answer covers every shard its node
//! holds: with nodes holding blocks of shards, a search costs one question per block rather
//! than one per shard.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::index::memory::{
    merge_concordance, merge_matches, ConcordanceHit, MemoryMatch, MemoryQuery, Partition,
};
use crate::model::Lang;

/// How long a search waits, in all, for the nodes holding the shards it lacks; the shards
/// not answered by then are reported missing.
pub const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a shard is asked again after a node's refusal (overloaded, behind): another
/// node holding it may answer.
const TRIES: usize = 3;

/// A concordance request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConcordanceQuery {
    /// The phrase.
    pub text: String,
    /// Its language.
    pub lang: Lang,
    /// Memories in priority order; empty = all, by name.
    pub memories: Vec<String>,
    /// Most hits.
    pub limit: usize,
}

/// What one node is asked about its shards.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ShardQuery {
    /// A fuzzy search.
    Search(MemoryQuery),
    /// A concordance search.
    Concordance(ConcordanceQuery),
}

/// What a node found in its shards.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ShardHits {
    /// A search's first `limit` matches.
    Search(Vec<MemoryMatch>),
    /// A concordance's first `limit` hits.
    Concordance(Vec<ConcordanceHit>),
}

/// One node's answer: its hits, over every shard it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardAnswer {
    /// The shards the answering node holds; its hits are the best of all of them.
    pub held: Vec<u32>,
    /// The hits.
    pub hits: ShardHits,
}

/// Why a shard was not answered for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// No node holding it is reachable: asking again will not help now.
    NoNode,
    /// A node holding it refused or failed (overloaded, behind, a fault): another may answer.
    Refused(String),
}

/// A future of [`ShardPeers::ask`].
pub type Asked = Pin<Box<dyn Future<Output = Result<ShardAnswer, Unanswered>> + Send>>;

/// The nodes holding the shards this node lacks (cluster mode).
pub trait ShardPeers: Send + Sync {
    /// Asks one node holding `shard` for its answer to `query`.
    fn ask(&self, shard: u32, query: ShardQuery) -> Asked;
}

/// Hits, with the shards that could not be searched.
#[derive(Clone, Debug, Default)]
pub struct Sharded<T> {
    /// The hits of every shard searched.
    pub hits: Vec<T>,
    /// Shards no node answered for, ascending: their units are missing from `hits`.
    pub missing: Vec<u32>,
}

/// The answers of the nodes holding the shards `partition` lacks, and the shards none answered
/// for within [`GATHER_TIMEOUT`].
pub async fn gather(
    peers: &dyn ShardPeers,
    partition: &Partition,
    query: &ShardQuery,
) -> (Vec<ShardHits>, Vec<u32>) {
    let deadline = tokio::time::Instant::now() + GATHER_TIMEOUT;
    let mut pending: BTreeSet<u32> = partition.not_held().into_iter().collect();
    let (mut answers, mut missing) = (Vec::new(), Vec::new());
    while let Some(shard) = pending.pop_first() {
        let mut tries = 0;
        let answer = loop {
            tries += 1;
            match tokio::time::timeout_at(deadline, peers.ask(shard, query.clone())).await {
                Ok(Ok(answer)) => break Some(answer),
                Ok(Err(Unanswered::Refused(reason))) if tries < TRIES => {
                    tracing::debug!(
                        shard,
                        reason,
                        "a node refused a shard's search; asking again"
                    );
                }
                Ok(Err(why)) => {
                    tracing::warn!(shard, ?why, "no node answered for a memory shard");
                    break None;
                }
                Err(_) => {
                    tracing::warn!(shard, "no node answered for a memory shard in time");
                    break None;
                }
            }
        };
        match answer {
            Some(answer) => {
                for shard in &answer.held {
                    pending.remove(shard);
                }
                answers.push(answer.hits);
            }
            None => missing.push(shard),
        }
    }
    missing.sort_unstable();
    (answers, missing)
}

/// This node's matches merged with the other nodes' answers.
pub fn merge_search(
    query: &MemoryQuery,
    local: Vec<MemoryMatch>,
    remote: Vec<ShardHits>,
) -> Vec<MemoryMatch> {
    let remote = remote.into_iter().filter_map(|hits| match hits {
        ShardHits::Search(matches) => Some(matches),
        ShardHits::Concordance(_) => None,
    });
    merge_matches(query, std::iter::once(local).chain(remote))
}

/// This node's concordance hits merged with the other nodes' answers.
pub fn merge_concordances(
    query: &ConcordanceQuery,
    local: Vec<ConcordanceHit>,
    remote: Vec<ShardHits>,
) -> Vec<ConcordanceHit> {
    let remote = remote.into_iter().filter_map(|hits| match hits {
        ShardHits::Concordance(hits) => Some(hits),
        ShardHits::Search(_) => None,
    });
    merge_concordance(
        &query.memories,
        query.limit,
        std::iter::once(local).chain(remote),
    )
}
