//! `Termbase.Watch` in proto: the request made a [`Subscription`] (its fields checked by the
//! change feed itself, so that every transport refuses alike), the feed's events made
//! `WatchEvent`s. What the feed sends and when is [`crate::app::changes`]'s.

use std::pin::Pin;

use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Status;

use super::convert::{concept_to_proto, timestamp};
use super::proto::{self, watch_event::Event};
use crate::app::changes::{ChangeEvent, ChangeStream, Subscription, Written};

/// The stream a Watch call answers.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<proto::WatchEvent, Status>> + Send>>;

/// The subscription a Watch request asks for; `requests::watch` then narrows its collections
/// to what the caller may read.
pub fn subscription(request: proto::WatchRequest) -> Subscription {
    Subscription {
        after: request.after_revision,
        snapshot: request.snapshot,
        collections: request.collections,
        bookmark_interval_seconds: request.bookmark_interval_seconds,
    }
}

/// The feed's stream as Watch answers it.
pub fn watch_stream(changes: ChangeStream) -> WatchStream {
    let events = ReceiverStream::new(changes.into_receiver());
    Box::pin(events.map(|event| event.map(event_to_proto).map_err(Status::from)))
}

/// One event in proto.
fn event_to_proto(event: ChangeEvent) -> proto::WatchEvent {
    let revision = event.revision();
    let (written, event) = match event {
        ChangeEvent::ConceptUpserted {
            written,
            concept,
            changed,
        } => {
            let concept = proto::Concept {
                updated_by: written.author.clone(),
                ..concept_to_proto(&concept)
            };
            let upserted = proto::WatchConceptUpserted {
                concept: Some(concept),
                changed_fields: changed,
            };
            (Some(written), Event::ConceptUpserted(upserted))
        }
        ChangeEvent::ConceptDeleted {
            written,
            id,
            collection,
            concept_revision,
        } => {
            let deleted = proto::WatchConceptDeleted {
                id,
                collection,
                concept_revision,
            };
            (Some(written), Event::ConceptDeleted(deleted))
        }
        ChangeEvent::CollectionUpserted {
            written,
            collection,
        } => {
            let collection = proto::Collection {
                name: collection.name,
                priority: collection.priority,
                description: collection.description,
            };
            (Some(written), Event::CollectionUpserted(collection))
        }
        ChangeEvent::CollectionDeleted {
            written,
            name,
            concepts,
        } => {
            let deleted = proto::WatchCollectionDeleted {
                name,
                deleted_concepts: concepts,
            };
            (Some(written), Event::CollectionDeleted(deleted))
        }
        ChangeEvent::SnapshotConcept { concept, .. } => {
            (None, Event::SnapshotConcept(concept_to_proto(&concept)))
        }
        ChangeEvent::SnapshotEnd { .. } => (None, Event::SnapshotEnd(proto::WatchSnapshotEnd {})),
        ChangeEvent::Bookmark { .. } => (None, Event::Bookmark(proto::WatchBookmark {})),
    };
    let (time, author) = written.map_or((None, String::new()), |w: Written| {
        (timestamp(w.time_ms), w.author)
    });
    proto::WatchEvent {
        revision,
        time,
        author,
        event: Some(event),
    }
}
