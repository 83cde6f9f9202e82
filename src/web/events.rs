//! `GET /api/events`: the termbase's change feed (`app::changes`, the feed `Termbase.Watch`
//! serves) as server-sent events, for a browser's `EventSource` (its contract is in `api.rs`).
//!
//! Each event's `id:` is the store revision to resume after, so a browser that reconnects
//! sends it back as `Last-Event-ID` and gets exactly what it missed. The concepts of a
//! snapshot carry no `id:`: a snapshot cut short must start again, and only its
//! `snapshot_end` is a point to resume from. `Last-Event-ID` takes precedence over the
//! query's `after` and `snapshot`, which describe the first connection.

use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::Code;

use super::access::Admitted;
use super::api::concept_json;
use super::error::ApiError;
use super::Web;
use crate::app::changes::{ChangeEvent, Subscription};
use crate::app::AppError;
use crate::service::requests;

/// The request header a reconnecting `EventSource` sends.
const LAST_EVENT_ID: &str = "last-event-id";

/// The query of `GET /api/events`.
#[derive(Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    snapshot: bool,
    #[serde(default)]
    after: u64,
    /// Comma-separated collection names; empty = every one the caller sees.
    #[serde(default)]
    collections: String,
    #[serde(default)]
    bookmark_seconds: u32,
}

/// Opens the stream: refused as JSON before it starts (a bad or too old token, a busy
/// server, a collection out of scope), then events until the server stops or the feed fails,
/// which is sent as a last `error` event.
pub async fn events(
    State(web): State<Web>,
    Admitted(caller): Admitted,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::InvalidArgument, rejection.body_text()))?;
    let resume = match headers.get(LAST_EVENT_ID) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|id| id.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid("Last-Event-ID", "is not a revision sent by this server")
                })?,
        ),
    };
    let subscription = Subscription {
        after: resume.unwrap_or(query.after),
        snapshot: resume.is_none() && query.snapshot,
        collections: query
            .collections
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect(),
        bookmark_interval_seconds: query.bookmark_seconds,
    };
    let token = if resume.is_some() {
        "Last-Event-ID"
    } else {
        "after"
    };
    let refused = |error: AppError| {
        ApiError::from(error)
            .rename_field("after_revision", token)
            .rename_field("bookmark_interval_seconds", "bookmark_seconds")
    };
    let subscription = requests::watch(&caller, subscription).map_err(refused)?;
    let stream = web.changes.subscribe(subscription).map_err(refused)?;
    let events = ReceiverStream::new(stream.into_receiver()).map(|event| {
        Ok(match event {
            Ok(event) => sse_event(event),
            Err(error) => Event::default()
                .event("error")
                .data(ApiError::from(error).to_json()),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// One change as an SSE event: `event:` its kind, `id:` its revision (except inside a
/// snapshot), `data:` the change in JSON.
fn sse_event(event: ChangeEvent) -> Event {
    let revision = event.revision();
    let name = event.name();
    let resumable = !matches!(event, ChangeEvent::SnapshotConcept { .. });
    let data = match event {
        ChangeEvent::ConceptUpserted {
            written,
            concept,
            changed,
        } => json!({
            "revision": revision,
            "time_ms": written.time_ms,
            "author": written.author,
            "concept": concept_json(&concept, &[]),
            "concept_revision": concept.revision,
            "changed": changed,
        }),
        ChangeEvent::ConceptDeleted {
            written,
            id,
            collection,
            concept_revision,
        } => json!({
            "revision": revision,
            "time_ms": written.time_ms,
            "author": written.author,
            "id": id,
            "collection": collection,
            "concept_revision": concept_revision,
        }),
        ChangeEvent::CollectionUpserted {
            written,
            collection,
        } => json!({
            "revision": revision,
            "time_ms": written.time_ms,
            "author": written.author,
            "name": collection.name,
            "priority": collection.priority,
            "description": collection.description,
        }),
        ChangeEvent::CollectionDeleted {
            written,
            name,
            concepts,
        } => json!({
            "revision": revision,
            "time_ms": written.time_ms,
            "author": written.author,
            "name": name,
            "deleted_concepts": concepts,
        }),
        ChangeEvent::SnapshotConcept { concept, .. } => json!({
            "revision": revision,
            "concept": concept_json(&concept, &[]),
            "concept_revision": concept.revision,
        }),
        ChangeEvent::SnapshotEnd { .. } | ChangeEvent::Bookmark { .. } => {
            json!({ "revision": revision })
        }
    };
    let event = Event::default().event(name).data(data.to_string());
    if resumable {
        event.id(revision.to_string())
    } else {
        event
    }
}
