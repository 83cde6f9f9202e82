//! The writing side of the replicated log: a command encoded as one stream entry, published
//! with a random message id (retried under the same id, which JetStream stores once), and
//! the caller woken with its outcome when this node's replica has applied that entry.
//!
//! An entry is one format byte, [`ENTRY_FORMAT`], then the command in postcard; a node
//! that meets another format stops applying rather than guess.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::jetstream::context::Context;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tokio::sync::oneshot;

use crate::app::commands::{Appended, Command, Outcome, Submitted, WriteLog};
use crate::app::AppError;

/// The format of an entry this build writes and reads.
pub const ENTRY_FORMAT: u8 = 1;

/// The largest entry: NATS's default maximum payload (1 MiB) less room for headers.
pub const MAX_ENTRY_BYTES: usize = 1024 * 1024 - 4096;

/// How often a publish is tried before the write is answered `UNAVAILABLE`: enough to ride
/// out a stream leader's election (a few seconds; each try waits for JetStream's ack).
const PUBLISH_TRIES: u32 = 4;

/// The pause between two tries.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// The writes of this node waiting for their entry to be applied, by message id.
#[derive(Default)]
pub struct Waiting {
    state: Mutex<WaitingState>,
}

#[derive(Default)]
struct WaitingState {
    answers: HashMap<String, oneshot::Sender<Result<Outcome, AppError>>>,
    /// Set once the replica stopped: no write of this node can be applied any more.
    stopped: Option<String>,
}

impl Waiting {
    fn state(&self) -> MutexGuard<'_, WaitingState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the entry with message `id`; refused with why once the replica stopped.
    fn register(self: &Arc<Self>, id: &str) -> Result<Pending, String> {
        let (answer, answered) = oneshot::channel();
        let mut state = self.state();
        if let Some(why) = &state.stopped {
            return Err(why.clone());
        }
        state.answers.insert(id.to_owned(), answer);
        Ok(Pending {
            waiting: Arc::clone(self),
            id: id.to_owned(),
            answered: Some(answered),
        })
    }

    /// Hands the outcome of entry `id` to the write of this node waiting for it, if any.
    pub fn answer(&self, id: &str, outcome: Result<Outcome, AppError>) {
        if let Some(answer) = self.state().answers.remove(id) {
            let _ = answer.send(outcome);
        }
    }

    /// The replica stopped for `why`: every waiting write and every later one is answered
    /// `UNAVAILABLE`.
    pub fn stop(&self, why: &str) {
        let mut state = self.state();
        state.stopped = Some(why.to_owned());
        for (_, answer) in state.answers.drain() {
            let _ = answer.send(Err(AppError::LogUnavailable {
                detail: format!("is no longer applied on this node: {why}"),
            }));
        }
    }
}

/// One write waiting for its entry; dropped (the client went away), it stops waiting.
struct Pending {
    waiting: Arc<Waiting>,
    id: String,
    answered: Option<oneshot::Receiver<Result<Outcome, AppError>>>,
}

impl Pending {
    async fn outcome(mut self) -> Result<Outcome, AppError> {
        let answered = self.answered.take().ok_or_else(|| AppError::Internal {
            what: "a replicated write",
            detail: "waited for twice".to_owned(),
        })?;
        answered.await.unwrap_or_else(|_| {
            Err(AppError::LogUnavailable {
                detail: "stopped before this node applied the write".to_owned(),
            })
        })
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.waiting.state().answers.remove(&self.id);
    }
}

/// The replicated log as the application sees it ([`WriteLog`]).
pub struct Log {
    jetstream: Context,
    subject: String,
    waiting: Arc<Waiting>,
}

impl Log {
    /// Publishes to `subject` of `jetstream`; answers through `waiting`.
    pub fn new(jetstream: Context, subject: String, waiting: Arc<Waiting>) -> Log {
        Log {
            jetstream,
            subject,
            waiting,
        }
    }
}

impl Log {
    /// Appends `command` under message id `key` without waiting for its application: nodes
    /// appending the same key within the stream's duplicate window store one entry. Answers
    /// the sequence of that entry.
    pub fn append_keyed(&self, command: Command, key: String) -> Appended {
        let (jetstream, subject) = (self.jetstream.clone(), self.subject.clone());
        Box::pin(async move {
            let entry = encode(&command)?;
            publish(&jetstream, &subject, &key, entry).await
        })
    }
}

impl WriteLog for Log {
    fn append(&self, command: Command) -> Appended {
        match message_id() {
            Ok(id) => self.append_keyed(command, id),
            Err(error) => Box::pin(async move { Err(error) }),
        }
    }

    fn submit(&self, command: Command) -> Submitted {
        let (jetstream, subject, waiting) = (
            self.jetstream.clone(),
            self.subject.clone(),
            Arc::clone(&self.waiting),
        );
        Box::pin(async move {
            let entry = encode(&command)?;
            let id = message_id()?;
            let pending = waiting
                .register(&id)
                .map_err(|why| AppError::LogUnavailable {
                    detail: format!("is not applied on this node: {why}"),
                })?;
            publish(&jetstream, &subject, &id, entry).await?;
            pending.outcome().await
        })
    }
}

/// The entry of `command`, refused when larger than one entry may be.
pub fn encode(command: &Command) -> Result<Bytes, AppError> {
    let entry =
        postcard::to_extend(command, vec![ENTRY_FORMAT]).map_err(|error| AppError::Internal {
            what: "encoding a replicated write",
            detail: error.to_string(),
        })?;
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(AppError::WriteTooLarge {
            bytes: entry.len(),
            limit: MAX_ENTRY_BYTES,
        });
    }
    Ok(Bytes::from(entry))
}

/// The command in `entry`, or why it cannot be read.
pub fn decode(entry: &[u8]) -> Result<Command, String> {
    match entry.split_first() {
        Some((&ENTRY_FORMAT, command)) => postcard::from_bytes(command).map_err(|e| e.to_string()),
        Some((format, _)) => Err(format!(
            "entry format {format} is not this build's ({ENTRY_FORMAT}): a newer Tolmach wrote it"
        )),
        None => Err("the entry is empty".to_owned()),
    }
}

/// A fresh message id: 128 random bits in hex, unique across nodes and restarts.
fn message_id() -> Result<String, AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| AppError::Internal {
        what: "a replicated write's id",
        detail: error.to_string(),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Publishes `entry` under message id `id` until JetStream acknowledges it, at most
/// [`PUBLISH_TRIES`] times; answers the sequence it was stored at.
async fn publish(
    jetstream: &Context,
    subject: &str,
    id: &str,
    entry: Bytes,
) -> Result<u64, AppError> {
    let mut last_error = String::new();
    for attempt in 0..PUBLISH_TRIES {
        if attempt > 0 {
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        let message = PublishMessage::build()
            .message_id(id)
            .payload(entry.clone());
        let acknowledged = match jetstream.send_publish(subject.to_owned(), message).await {
            Ok(ack) => ack.await,
            Err(error) => {
                last_error = error.to_string();
                continue;
            }
        };
        match acknowledged {
            Ok(ack) => return Ok(ack.sequence),
            Err(error) => last_error = error.to_string(),
        }
        tracing::warn!(
            attempt,
            error = last_error,
            "a replicated write was not acknowledged; trying again"
        );
    }
    Err(AppError::LogUnavailable {
        detail: format!("did not acknowledge the write after {PUBLISH_TRIES} tries: {last_error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::writes::Author;

    #[test]
    fn an_entry_reads_back_as_its_command_and_a_foreign_format_is_refused() {
        let command = Command::DeleteConcept {
            author: Author("editor".to_owned()),
            time_ms: 1_700_000_000_000,
            id: "sco-charter".to_owned(),
        };
        let entry = encode(&command).unwrap();
        assert_eq!(entry[0], ENTRY_FORMAT);
        assert_eq!(decode(&entry).unwrap(), command);
        let mut foreign = entry.to_vec();
        foreign[0] = ENTRY_FORMAT + 1;
        assert!(decode(&foreign).unwrap_err().contains("newer Tolmach"));
        assert!(decode(&[]).is_err());
        assert!(
            decode(&entry[..entry.len() - 1]).is_err(),
            "a cut entry is refused"
        );
    }

    #[test]
    fn a_write_larger_than_an_entry_is_refused_with_its_size() {
        let command = Command::DeleteUnits {
            author: Author::default(),
            memory: "news".to_owned(),
            ids: vec!["x".repeat(1000); 1100],
        };
        match encode(&command) {
            Err(AppError::WriteTooLarge { bytes, limit }) => {
                assert!(bytes > limit);
                assert_eq!(limit, MAX_ENTRY_BYTES);
            }
            other => panic!("expected WriteTooLarge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stopped_replica_answers_waiting_and_later_writes_unavailable() {
        let waiting = Arc::new(Waiting::default());
        let pending = waiting.register("a").unwrap();
        waiting.stop("the store failed");
        assert!(matches!(
            pending.outcome().await,
            Err(AppError::LogUnavailable { .. })
        ));
        assert!(waiting.register("b").is_err());
    }
}
