//! The web layer: the page, the JSON API and the page's login sessions, served on the gRPC
//! port over HTTP/1.1 and HTTP/2 beside native gRPC and grpc-web (`server.rs` merges this
//! router with the services'). It owns the HTTP routes that are not gRPC and CORS for pages
//! of other origins; it knows axum and HTTP, and nothing of proto.
//!
//! - `page`: the page's files, compiled in, open to everyone, with their security and cache
//!   headers;
//! - `session`: login sessions (a cookie standing for an API key);
//! - `access`: the caller of a JSON route, its role, body bound and deadline, all read from
//!   the route's RPC in `rpc.rs`, so a route is guarded exactly as its RPC;
//! - `api`: the JSON routes; its header is the contract the page is written against;
//! - `events`: the termbase's change feed as server-sent events (`/api/events`);
//! - `error`: JSON errors, made from the gRPC status the one mapping of application errors
//!   gives (`service/status.rs`).
//!
//! Handlers call the application (`app/`) with the request checks the gRPC services use
//! (`service::requests`), never a service over the network; heavy work runs where the
//! application runs it, under the same permits.

mod access;
mod api;
mod error;
mod events;
mod page;
mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::changes::Changes;
use crate::app::memory::Memory;
use crate::app::review::Review;
use crate::app::termbase::Termbase;
use crate::auth::KeyRing;
use session::Sessions;

/// What the web layer's handlers use. Cheap to clone.
#[derive(Clone)]
pub struct Web {
    termbase: Termbase,
    memory: Memory,
    review: Review,
    changes: Changes,
    keys: Arc<KeyRing>,
    sessions: Arc<Sessions>,
    /// Whether the server speaks TLS, so that the session cookie is `Secure`.
    secure: bool,
    /// The deadline of a JSON route whose RPC is unary.
    deadline: Duration,
}

impl Web {
    /// The web layer over the application's `termbase`, `memory`, `review` and change feed
    /// `changes`, admitting callers by `keys`; `secure` under TLS; `deadline` as the server's
    /// unary calls have.
    pub fn new(
        termbase: Termbase,
        memory: Memory,
        review: Review,
        changes: Changes,
        keys: Arc<KeyRing>,
        secure: bool,
        deadline: Duration,
    ) -> Web {
        Web {
            termbase,
            memory,
            review,
            changes,
            keys,
            sessions: Arc::default(),
            secure,
            deadline,
        }
    }

    /// The page's and the JSON API's routes.
    pub fn router(self) -> Router {
        Router::new()
            .merge(page::routes())
            .merge(api::routes(&self))
            .with_state(self)
    }
}

/// Why a `--cors-origin` cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--cors-origin {origin:?} is not an origin like https://cms.example.org")]
pub struct BadOrigin {
    /// The value given.
    pub origin: String,
}

/// Request headers a grpc-web or JSON call from another origin may send.
const ALLOWED_HEADERS: [&str; 6] = [
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "authorization",
    "x-api-key",
];

/// Response headers a page of another origin may read: grpc-web's status in the headers of
/// an answer without a body.
const EXPOSED_HEADERS: [&str; 3] = ["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// CORS for pages of `origins` (`https://cms.example.org`): preflights answered, the
/// grpc-web and key headers allowed, grpc-web's status headers exposed. Credentials are not
/// allowed: a page of another origin calls with an API key, never with the session cookie.
/// `None` when no origin is given: browsers then refuse every call from another origin.
pub fn cors(origins: &[String]) -> Result<Option<CorsLayer>, BadOrigin> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|origin| {
            let trimmed = origin.trim().trim_end_matches('/');
            let shaped = trimmed.starts_with("https://") || trimmed.starts_with("http://");
            HeaderValue::from_str(trimmed)
                .ok()
                .filter(|_| shaped)
                .ok_or_else(|| BadOrigin {
                    origin: origin.clone(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
            .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
            .max_age(PREFLIGHT_MAX_AGE),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_takes_origins_and_names_a_value_that_is_none() {
        assert!(cors(&[]).unwrap().is_none());
        let origins = [
            "https://cms.example.org".to_owned(),
            "http://127.0.0.1:8080/".to_owned(),
        ];
        assert!(cors(&origins).unwrap().is_some());
        for bad in ["cms.example.org", "https://bad\norigin", ""] {
            let error = cors(&[bad.to_owned()]).unwrap_err();
            assert_eq!(error.origin, bad);
        }
    }
}
