//! The live change feed of the termbase, for any transport: gRPC's `Termbase.Watch` converts
//! its events to proto, and a web endpoint (server-sent events) can serve the same feed.
//!
//! # The API
//!
//! [`Changes::subscribe`] takes a [`Subscription`] (a resume token, whether to start with a
//! snapshot, the collections to see, the bookmark interval) and answers a [`ChangeStream`]
//! of [`ChangeEvent`]s, or refuses at once:
//!
//! - [`AppError::ChangesCompacted`] when the token is older than the oldest change the store
//!   still keeps (the client must start again with a snapshot; never a silent gap);
//! - [`AppError::Invalid`] naming `after_revision` when the token is beyond the current
//!   revision, or `bookmark_interval_seconds` when the interval is out of bounds;
//! - [`AppError::Busy`] when [`Limits::watch`](super::Limits::watch) streams are open.
//!
//! Every event carries a store revision: a client that remembers the revision of the last
//! event it applied resumes after it with no gap and no duplicate. A stream that falls so far
//! behind that compaction removed changes it has not read yet ends with
//! [`AppError::ChangesCompacted`]; a server shutting down ends every stream cleanly (the
//! stream simply ends).
//!
//! # How it works
//!
//! Every termbase write appends its change records to the store in its own transaction
//! (`store::ChangeRecord`, numbered by the store revision). After the write path has
//! published a write to the term index (step 3 of [`super::writes`]), it calls
//! `Changes::published`, which sends the new revision on a `tokio::sync::watch` channel
//! and trims the log to the retention. Each stream is a task of its own that reads the log by
//! range, up to the published revision, a page at a time on the blocking pool, and sends the
//! events it wants through a small bounded channel: a slow client holds one page of events,
//! never the log, and loses nothing, since the records wait in the store.
//!
//! # Why a snapshot and the events after it add up to the server's state
//!
//! The snapshot notes the published revision R *before* it reads any concept, then reads the
//! concepts page by page while writes go on. A concept it reads is as stored at R or later;
//! every write after R is then sent as an event, in order, each upsert with the concept as
//! that revision stored it. For any concept, the last write to it, if after R, is an event
//! the client applies after the snapshot's copy (a delete removes it, an upsert replaces it
//! whole); if the last write was at R or before, the snapshot read exactly that state. So a
//! client that applies the snapshot, then the events in order (replacing or removing by id,
//! removing a deleted collection's concepts), ends equal to the server, whatever it read in
//! between. Applying an event twice is harmless for the same reason: each carries the whole
//! state of what it names.

use std::time::Duration;

use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};
use tokio::time::Instant;

use super::work::{self, Admission, Heavy};
use super::AppError;
use crate::model::{Collection, Concept, Invalid};
use crate::store::{ChangeKind, ChangeRecord, Store};

/// Records read from the log, and concepts read for a snapshot, per page.
const PAGE: usize = 256;

/// Events a stream holds for a slow client before its task waits.
const STREAM_BUFFER: usize = 64;

/// The bookmark interval when a subscription asks for none.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// The shortest and longest bookmark interval a subscription may ask for, in seconds.
pub const BOOKMARK_SECONDS: std::ops::RangeInclusive<u32> = 1..=3600;

/// How many change records the store keeps by default.
pub const DEFAULT_RETENTION: u64 = 100_000;

/// Who wrote a change, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The store revision of the write: the token to resume after.
    pub revision: u64,
    /// When, in ms since the epoch.
    pub time_ms: i64,
    /// The writing key's name; empty on an open server and for the shipped glossary.
    pub author: String,
}

/// One event of a change stream. Every event carries the store revision to resume after:
/// the write's, the snapshot's, or how far a bookmark has read.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeEvent {
    /// A concept created or replaced: the whole concept as this write stored it.
    ConceptUpserted {
        /// The write.
        written: Written,
        /// The concept, with its own revision.
        concept: Concept,
        /// What differs from its previous revision (see `store::ChangeKind`).
        changed: Vec<String>,
    },
    /// A concept deleted, or moved into a collection the stream does not see.
    ConceptDeleted {
        /// The write.
        written: Written,
        /// Its id.
        id: String,
        /// The collection it was in.
        collection: String,
        /// The concept's revision when it went.
        concept_revision: u64,
    },
    /// A collection created or updated.
    CollectionUpserted {
        /// The write.
        written: Written,
        /// The collection as stored.
        collection: Collection,
    },
    /// A collection deleted with every concept in it.
    CollectionDeleted {
        /// The write.
        written: Written,
        /// Its name.
        name: String,
        /// How many concepts went with it.
        concepts: u64,
    },
    /// One concept of the snapshot, as stored at `revision` or later. Resume only from
    /// [`ChangeEvent::SnapshotEnd`] on: a snapshot cut short must be started again.
    SnapshotConcept {
        /// The snapshot's revision.
        revision: u64,
        /// The concept.
        concept: Concept,
    },
    /// The snapshot is complete; the changes after `revision` follow.
    SnapshotEnd {
        /// The snapshot's revision.
        revision: u64,
    },
    /// Nothing the stream shows changed up to `revision`: sent when the stream was quiet for
    /// its bookmark interval, so that an idle (or narrowly filtered) client's token advances.
    Bookmark {
        /// The revision read up to.
        revision: u64,
    },
}

impl ChangeEvent {
    /// The store revision to resume after once this event is applied.
    pub fn revision(&self) -> u64 {
        match self {
            ChangeEvent::ConceptUpserted { written, .. }
            | ChangeEvent::ConceptDeleted { written, .. }
            | ChangeEvent::CollectionUpserted { written, .. }
            | ChangeEvent::CollectionDeleted { written, .. } => written.revision,
            ChangeEvent::SnapshotConcept { revision, .. }
            | ChangeEvent::SnapshotEnd { revision }
            | ChangeEvent::Bookmark { revision } => *revision,
        }
    }

    /// The event's kind in snake case (`concept_upserted`, …), e.g. for an SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            ChangeEvent::ConceptUpserted { .. } => "concept_upserted",
            ChangeEvent::ConceptDeleted { .. } => "concept_deleted",
            ChangeEvent::CollectionUpserted { .. } => "collection_upserted",
            ChangeEvent::CollectionDeleted { .. } => "collection_deleted",
            ChangeEvent::SnapshotConcept { .. } => "snapshot_concept",
            ChangeEvent::SnapshotEnd { .. } => "snapshot_end",
            ChangeEvent::Bookmark { .. } => "bookmark",
        }
    }
}

/// What a client asks of the feed.
#[derive(Clone, Debug, Default)]
pub struct Subscription {
    /// The resume token: only changes with a revision above it. 0 (without a snapshot)
    /// starts from now. Ignored with `snapshot`.
    pub after: u64,
    /// First every concept the stream sees, as of a revision R, then
    /// [`ChangeEvent::SnapshotEnd`] at R, then every change after R.
    pub snapshot: bool,
    /// Only these collections; empty = every one. The caller narrows it to what it may
    /// read before subscribing (`auth::Caller::readable_collections`).
    pub collections: Vec<String>,
    /// Seconds of quiet after which a bookmark is sent; 0 = 30 s; at most 3600.
    pub bookmark_interval_seconds: u32,
}

impl Subscription {
    fn sees(&self, collection: &str) -> bool {
        self.collections.is_empty() || self.collections.iter().any(|c| c == collection)
    }
}

/// The published revision, and whether the server is shutting down.
#[derive(Clone, Copy, Debug)]
struct Published {
    revision: u64,
    closed: bool,
}

/// The change feed of one server: the revision the write path last published, the store the
/// streams read from, the retention of the log. Cheap to clone.
#[derive(Clone)]
pub struct Changes {
    store: Store,
    published: watch::Sender<Published>,
    retention: u64,
    admission: Admission,
}

impl Changes {
    /// The feed of `store`, which keeps the last `retention` change records (at least one);
    /// streams are admitted by `admission` ([`Heavy::Watch`]).
    pub fn new(store: Store, retention: u64, admission: Admission) -> Changes {
        let (published, _) = watch::channel(Published {
            revision: store.revision(),
            closed: false,
        });
        Changes {
            store,
            published,
            retention: retention.max(1),
            admission,
        }
    }

    /// Called by the write path once a termbase write is durable and published (or failed
    /// part way, in which case what it committed is published), with the store revision its
    /// commit reached: wakes the streams, then trims the log. Later writes may have committed
    /// already, but they are neither durable nor published yet, so the streams must not read
    /// up to the store's own revision.
    pub(super) async fn published(&self, revision: u64) {
        self.published.send_if_modified(|published| {
            let newer = revision > published.revision;
            published.revision = published.revision.max(revision);
            newer
        });
        let (store, retention) = (self.store.clone(), self.retention);
        match work::run("change log compaction", move || {
            store.trim_changes(retention)
        })
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "the change log could not be trimmed"),
            Err(error) => tracing::error!(%error, "the change log compaction failed"),
        }
    }

    /// Ends every stream (each simply ends) and refuses new ones: the server is stopping.
    pub fn close(&self) {
        self.published
            .send_modify(|published| published.closed = true);
    }

    /// The revision of the last write published to the streams.
    pub fn revision(&self) -> u64 {
        self.published.borrow().revision
    }

    /// Opens a stream of the changes `subscription` asks for; see the module docs for what
    /// it sends and when it refuses.
    pub fn subscribe(&self, subscription: Subscription) -> Result<ChangeStream, AppError> {
        let bookmark_every = match subscription.bookmark_interval_seconds {
            0 => DEFAULT_BOOKMARK_INTERVAL,
            seconds if BOOKMARK_SECONDS.contains(&seconds) => {
                Duration::from_secs(u64::from(seconds))
            }
            seconds => {
                return Err(Invalid::field(
                    "bookmark_interval_seconds",
                    format!(
                        "is {seconds}; give 0 for 30 s, or {} to {} seconds",
                        BOOKMARK_SECONDS.start(),
                        BOOKMARK_SECONDS.end()
                    ),
                )
                .into())
            }
        };
        let current = self.revision();
        let start = match (subscription.snapshot, subscription.after) {
            (true, _) => Start::Snapshot,
            (false, 0) => Start::After(current),
            (false, after) if after > current => {
                return Err(Invalid::field(
                    "after_revision",
                    format!("is {after}, beyond the current revision {current}"),
                )
                .into())
            }
            (false, after) => {
                let oldest = self.store.oldest_change()?;
                if after + 1 < oldest {
                    return Err(AppError::ChangesCompacted { after, oldest });
                }
                Start::After(after)
            }
        };
        let permit = self.admission.admit(Heavy::Watch)?;
        let (events, receiver) = mpsc::channel(STREAM_BUFFER);
        let stream = Stream {
            store: self.store.clone(),
            published: self.published.subscribe(),
            subscription,
            bookmark_every,
            events,
            last_sent: Instant::now(),
            _permit: permit,
        };
        tokio::spawn(stream.run(start));
        Ok(ChangeStream { events: receiver })
    }
}

/// Where a stream starts.
enum Start {
    /// With a snapshot.
    Snapshot,
    /// After this revision.
    After(u64),
}

/// The events of one subscription, in order; ends when the server stops, or with an error
/// (a compaction that overtook the stream, a failed read). Dropping it ends the stream's
/// task.
pub struct ChangeStream {
    events: mpsc::Receiver<Result<ChangeEvent, AppError>>,
}

impl ChangeStream {
    /// The next event; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<Result<ChangeEvent, AppError>> {
        self.events.recv().await
    }

    /// The events as a receiver, e.g. for `tokio_stream::wrappers::ReceiverStream`.
    pub fn into_receiver(self) -> mpsc::Receiver<Result<ChangeEvent, AppError>> {
        self.events
    }
}

/// The task behind one [`ChangeStream`].
struct Stream {
    store: Store,
    published: watch::Receiver<Published>,
    subscription: Subscription,
    bookmark_every: Duration,
    events: mpsc::Sender<Result<ChangeEvent, AppError>>,
    /// When the last event went out, for bookmarks.
    last_sent: Instant,
    /// The stream's place among [`Limits::watch`](super::Limits::watch).
    _permit: OwnedSemaphorePermit,
}

/// Why a stream's task stops.
enum Stop {
    /// The client went away or the server is stopping: end quietly.
    Quiet,
    /// End the stream with this error.
    Failed(AppError),
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Stop {
        Stop::Failed(error)
    }
}

impl Stream {
    async fn run(mut self, start: Start) {
        if let Err(Stop::Failed(error)) = self.serve(start).await {
            let _ = self.events.send(Err(error)).await;
        }
    }

    async fn serve(&mut self, start: Start) -> Result<(), Stop> {
        let mut position = match start {
            Start::Snapshot => self.snapshot().await?,
            Start::After(after) => after,
        };
        loop {
            let Published { revision, closed } = *self.published.borrow_and_update();
            if closed {
                return Err(Stop::Quiet);
            }
            while position < revision {
                position = self.changes(position, revision).await?;
            }
            let bookmark_at = self.last_sent + self.bookmark_every;
            tokio::select! {
                changed = self.published.changed() => {
                    if changed.is_err() {
                        return Err(Stop::Quiet);
                    }
                }
                () = tokio::time::sleep_until(bookmark_at) => {
                    self.send(ChangeEvent::Bookmark { revision: position }).await?;
                }
                () = self.events.closed() => return Err(Stop::Quiet),
            }
        }
    }

    /// Sends every concept the stream sees as of the published revision R (noted before the
    /// first read), then the snapshot's end; answers R.
    async fn snapshot(&mut self) -> Result<u64, Stop> {
        let revision = self.published.borrow().revision;
        let mut after: Option<String> = None;
        loop {
            if self.published.borrow().closed {
                return Err(Stop::Quiet);
            }
            let store = self.store.clone();
            let subscription = self.subscription.clone();
            let from = after.clone();
            let page = work::run("change feed snapshot", move || {
                let mut last = None;
                let mut concepts = Vec::new();
                for concept in store.concepts_after(from.as_deref()).take(PAGE) {
                    let concept = concept?;
                    last = Some(concept.id.clone());
                    if subscription.sees(&concept.collection) {
                        concepts.push(concept);
                    }
                }
                Ok::<_, AppError>((concepts, last))
            })
            .await??;
            let (concepts, last) = page;
            for concept in concepts {
                self.send(ChangeEvent::SnapshotConcept { revision, concept })
                    .await?;
            }
            match last {
                Some(id) => after = Some(id),
                None => break,
            }
        }
        self.send(ChangeEvent::SnapshotEnd { revision }).await?;
        Ok(revision)
    }

    /// Sends the events of the next page of records after `position`, up to `until`;
    /// answers the revision read up to.
    async fn changes(&mut self, position: u64, until: u64) -> Result<u64, Stop> {
        let store = self.store.clone();
        let subscription = self.subscription.clone();
        let page = work::run("change feed read", move || {
            let records = store.changes_between(position, until, PAGE)?;
            // Revisions are without gaps: a record missing at the start was trimmed.
            if records.first().map(|r| r.revision) != Some(position + 1) {
                return Err(AppError::ChangesCompacted {
                    after: position,
                    oldest: store.oldest_change()?,
                });
            }
            let last = records.last().map_or(position, |r| r.revision);
            let mut events = Vec::new();
            for record in records {
                events.extend(event(&store, &subscription, record)?);
            }
            Ok((events, last))
        })
        .await??;
        let (events, last) = page;
        for event in events {
            self.send(event).await?;
        }
        Ok(last)
    }

    async fn send(&mut self, event: ChangeEvent) -> Result<(), Stop> {
        self.events.send(Ok(event)).await.map_err(|_| Stop::Quiet)?;
        self.last_sent = Instant::now();
        Ok(())
    }
}

/// The event `record` makes for `subscription`: `None` when it concerns a collection the
/// subscription does not see, or a concept revision that a later write has overwritten in
/// history (a concept deleted and created again); that later write is an event of its own.
fn event(
    store: &Store,
    subscription: &Subscription,
    record: ChangeRecord,
) -> Result<Option<ChangeEvent>, AppError> {
    let written = Written {
        revision: record.revision,
        time_ms: record.time_ms,
        author: record.author,
    };
    Ok(match record.what {
        ChangeKind::ConceptUpserted {
            id,
            collection,
            concept_revision,
            changed,
            moved_from,
        } => {
            if subscription.sees(&collection) {
                store
                    .concept_at(&id, concept_revision)?
                    .filter(|concept| concept.updated_ms == written.time_ms)
                    .map(|concept| ChangeEvent::ConceptUpserted {
                        written,
                        concept,
                        changed,
                    })
            } else if !moved_from.is_empty() && subscription.sees(&moved_from) {
                // Moved out of sight: gone, as far as this stream is concerned.
                Some(ChangeEvent::ConceptDeleted {
                    written,
                    id,
                    collection: moved_from,
                    concept_revision,
                })
            } else {
                None
            }
        }
        ChangeKind::ConceptDeleted {
            id,
            collection,
            concept_revision,
        } => subscription
            .sees(&collection)
            .then_some(ChangeEvent::ConceptDeleted {
                written,
                id,
                collection,
                concept_revision,
            }),
        ChangeKind::CollectionUpserted { collection } => subscription
            .sees(&collection.name)
            .then_some(ChangeEvent::CollectionUpserted {
                written,
                collection,
            }),
        ChangeKind::CollectionDeleted { name, concepts } => {
            subscription
                .sees(&name)
                .then_some(ChangeEvent::CollectionDeleted {
                    written,
                    name,
                    concepts,
                })
        }
    })
}
