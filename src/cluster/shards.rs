//! Memory shards over NATS: the node-to-node searches of a memory split into shards.
//!
//! A node serves each shard it holds on the subject `<stream>.shards.<count>.<shard>`, in a
//! queue group of the same name, so that NATS hands each question to one live holder of the
//! shard (and answers "no responders" at once when there is none). A node asks a shard it
//! lacks with a NATS request on that subject ([`NatsShardPeers`]); the answer covers every
//! shard the answering node holds (`app::shards`). Nodes start serving once they have caught
//! up with the log and loaded their memory index, so a node still starting is never asked.
//!
//! A question carries the cluster revision of the asking node: the answering node waits (up
//! to [`REVISION_WAIT`]) until it has applied as much, so an answer is never older than what
//! the asking node would have answered itself. Questions and answers are one format byte,
//! [`MESSAGE_FORMAT`], then postcard.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_stream::{StreamExt, StreamMap};

use crate::app::memory::Memory;
use crate::app::shards::{Asked, ShardAnswer, ShardPeers, ShardQuery, Unanswered};
use crate::index::memory::Partition;

/// The format of a question or answer this build writes and reads.
pub const MESSAGE_FORMAT: u8 = 1;

/// How long one question waits for its answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// How long an answering node waits to reach the asking node's revision.
const REVISION_WAIT: Duration = Duration::from_secs(2);

/// A question to the holders of a shard.
#[derive(Serialize, Deserialize)]
struct Question {
    /// The revision the answer must reflect at least.
    revision: u64,
    query: ShardQuery,
}

/// The subject a shard is served on.
fn subject(stream: &str, count: u32, shard: u32) -> String {
    format!("{stream}.shards.{count}.{shard}")
}

fn encode<T: Serialize>(value: &T) -> Result<Bytes, String> {
    postcard::to_extend(value, vec![MESSAGE_FORMAT])
        .map(Bytes::from)
        .map_err(|error| error.to_string())
}

fn decode<T: for<'de> Deserialize<'de>>(message: &[u8]) -> Result<T, String> {
    match message.split_first() {
        Some((&MESSAGE_FORMAT, body)) => postcard::from_bytes(body).map_err(|e| e.to_string()),
        Some((format, _)) => Err(format!(
            "message format {format} is not this build's ({MESSAGE_FORMAT})"
        )),
        None => Err("an empty message".to_owned()),
    }
}

/// Asks the nodes holding a shard through NATS requests.
pub struct NatsShardPeers {
    client: Client,
    stream: String,
    count: u32,
    applied: watch::Receiver<u64>,
}

impl NatsShardPeers {
    /// Peers of a cluster on `client` whose log is `stream` and whose memory has `count`
    /// shards; questions carry this node's revision from `applied`.
    pub fn new(
        client: Client,
        stream: String,
        count: u32,
        applied: watch::Receiver<u64>,
    ) -> NatsShardPeers {
        NatsShardPeers {
            client,
            stream,
            count,
            applied,
        }
    }
}

impl ShardPeers for NatsShardPeers {
    fn ask(&self, shard: u32, query: ShardQuery) -> Asked {
        let client = self.client.clone();
        let subject = subject(&self.stream, self.count, shard);
        let question = Question {
            revision: *self.applied.borrow(),
            query,
        };
        Box::pin(async move {
            let payload = encode(&question).map_err(Unanswered::Refused)?;
            let request = async_nats::Request::new()
                .payload(payload)
                .timeout(Some(ASK_TIMEOUT));
            let reply = client
                .send_request(subject, request)
                .await
                .map_err(|error| match error.kind() {
                    RequestErrorKind::NoResponders => Unanswered::NoNode,
                    RequestErrorKind::TimedOut => Unanswered::Refused("no answer in time".into()),
                    _ => Unanswered::Refused(error.to_string()),
                })?;
            decode::<Result<ShardAnswer, String>>(&reply.payload)
                .map_err(Unanswered::Refused)?
                .map_err(Unanswered::Refused)
        })
    }
}

/// Serves the shards `partition` holds to the other nodes until the connection closes: once
/// this node has applied the log up to `caught_up` and its memory index is loaded.
pub async fn serve(
    client: Client,
    stream: String,
    partition: Partition,
    memory: Memory,
    applied: watch::Receiver<u64>,
    caught_up: impl std::future::Future<Output = ()>,
) {
    caught_up.await;
    if let Err(error) = memory.readiness().wait().await {
        tracing::warn!(%error, "memory shards are not served: the memory index is unavailable");
        return;
    }
    let mut questions = StreamMap::new();
    for &shard in partition.held() {
        let subject = subject(&stream, partition.count(), shard);
        match client.queue_subscribe(subject.clone(), subject).await {
            Ok(subscription) => {
                questions.insert(shard, subscription);
            }
            Err(error) => {
                tracing::warn!(shard, %error, "a memory shard is not served to the other nodes");
            }
        }
    }
    tracing::info!(%partition, "serving memory shards to the other nodes");
    while let Some((_, message)) = questions.next().await {
        let Some(reply) = message.reply else {
            continue;
        };
        let (client, memory, applied) = (client.clone(), memory.clone(), applied.clone());
        tokio::spawn(async move {
            let answer = answer(&memory, applied, &message.payload).await;
            let max = client.server_info().max_payload;
            let encoded = encode(&answer).and_then(|bytes| {
                if bytes.len() > max {
                    encode(&Err::<ShardAnswer, String>(format!(
                        "the answer is {} bytes, more than the NATS server's limit of {max}",
                        bytes.len()
                    )))
                } else {
                    Ok(bytes)
                }
            });
            match encoded {
                Ok(bytes) => {
                    if let Err(error) = client.publish(reply, bytes).await {
                        tracing::debug!(%error, "a shard's answer was not sent");
                    }
                }
                Err(error) => tracing::warn!(error, "a shard's answer could not be encoded"),
            }
        });
    }
}

/// This node's answer to one question, or why there is none.
async fn answer(
    memory: &Memory,
    mut applied: watch::Receiver<u64>,
    question: &[u8],
) -> Result<ShardAnswer, String> {
    let question: Question = decode(question)?;
    let reached = tokio::time::timeout(
        REVISION_WAIT,
        applied.wait_for(|&applied| applied >= question.revision),
    )
    .await
    .is_ok_and(|reached| reached.is_ok());
    if !reached {
        return Err(format!(
            "this node is behind revision {} (at {})",
            question.revision,
            *applied.borrow()
        ));
    }
    memory
        .answer(question.query)
        .await
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_another_format_is_refused() {
        let encoded = encode(&Err::<ShardAnswer, String>("x".into())).unwrap_or_default();
        assert_eq!(encoded.first(), Some(&MESSAGE_FORMAT));
        assert!(decode::<Result<ShardAnswer, String>>(&encoded).is_ok());
        let mut foreign = encoded.to_vec();
        foreign[0] = MESSAGE_FORMAT + 1;
        assert!(decode::<Result<ShardAnswer, String>>(&foreign).is_err());
        assert!(decode::<Result<ShardAnswer, String>>(&[]).is_err());
    }
}
