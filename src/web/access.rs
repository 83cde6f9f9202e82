//! What stands in front of each JSON route, as the access layer and the transport stand in
//! front of each RPC: the route's RPC (`rpc::of_route`) gives the role a caller needs, the
//! largest body taken and, for a unary RPC, the server's deadline.
//!
//! - [`Admitted`]: the caller, from `Authorization: Bearer <key>` (or `x-api-key`), else the
//!   session cookie, checked by the same `auth::admit`/`auth::authorize` as a gRPC call;
//! - [`guarded`]: a route's body bound (axum's `DefaultBodyLimit`, answered 413) and
//!   deadline (answered 504; dropping the handler stops its blocking work, as for an RPC);
//! - [`JsonBody`]: a JSON body, refused unless sent as `Content-Type: application/json`.
//!
//! Cross-site request forgery: every state-changing route takes a [`JsonBody`], and a page of
//! another site cannot send `application/json` without a CORS preflight, which only the
//! origins given with `--cors-origin` pass; a plain form can send only form types. With the
//! cookie `SameSite=Strict` as well, a forged request carries no session at all. `DELETE
//! /api/session` has no body, but no form can send a DELETE either, and a cross-origin one
//! needs the preflight too.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde::de::DeserializeOwned;
use tonic::Code;

use super::error::ApiError;
use super::session;
use super::Web;
use crate::app::{now_ms, AppError};
use crate::auth::{self, Caller};
use crate::rpc::{self, Rpc};

/// The verified caller of a JSON route, whose role covers the route's RPC.
pub struct Admitted(pub Caller);

impl FromRequestParts<Web> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Admitted, ApiError> {
        let rpc = rpc::of_route(parts.uri.path());
        let method = method_name(rpc);
        let key = auth::sent_key(&parts.headers);
        if key.is_some() || web.keys.is_open() {
            return Ok(Admitted(auth::admit(&web.keys, key, method, rpc.role)?));
        }
        let Some(caller) = session_caller(parts, web) else {
            return Err(AppError::Unauthenticated {
                reason: "log in with an API key (POST /api/session), or send \
                         `Authorization: Bearer <key>`"
                    .into(),
            }
            .into());
        };
        Ok(Admitted(auth::authorize(caller, method, rpc.role)?))
    }
}

/// The caller of the session cookie `parts` carries, while the session lasts.
pub fn session_caller(parts: &Parts, web: &Web) -> Option<Caller> {
    let id = session_id(parts)?;
    web.sessions.caller(id, &web.keys, now_ms())
}

/// The session id of the cookie `parts` carries.
pub fn session_id(parts: &Parts) -> Option<&str> {
    session::from_cookies(
        parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
}

/// The method's name for messages: `Recognize`.
fn method_name(rpc: &Rpc) -> &'static str {
    rpc.name().rsplit('/').next().unwrap_or("this route")
}

/// `route` with its RPC's body bound and, for a unary RPC, the server's deadline `deadline`.
pub fn guarded(route: &str, router: MethodRouter<Web>, deadline: Duration) -> MethodRouter<Web> {
    let rpc = rpc::of_route(route);
    let router = router.layer(DefaultBodyLimit::max(rpc.max_request_bytes));
    if !rpc.unary {
        return router;
    }
    router.layer(middleware::from_fn_with_state(
        (deadline, method_name(rpc)),
        within,
    ))
}

/// Answers `DEADLINE_EXCEEDED` (504) once `deadline` has passed; the handler's future is
/// dropped, which stops the blocking work behind it.
async fn within(
    State((deadline, method)): State<(Duration, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            Code::DeadlineExceeded,
            format!(
                "{method} did not finish within its deadline of {} ms; the server stopped its work",
                deadline.as_millis()
            ),
        )
        .into_response(),
    }
}

/// A JSON request body of type `T`. Refused with 415 unless its type is
/// `application/json` (see the module docs on forgery), with 413 over the route's bound and
/// with 400 when it is not a `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody<T>, ApiError> {
        let route = rpc::of_route(request.uri().path());
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(body_refused(&rejection, route)),
        }
    }
}

fn body_refused(rejection: &JsonRejection, rpc: &Rpc) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            Code::ResourceExhausted,
            format!(
                "the request body is larger than {} bytes, the limit of {}",
                rpc.max_request_bytes,
                method_name(rpc)
            ),
        )
        .with_http_status(StatusCode::PAYLOAD_TOO_LARGE),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            Code::InvalidArgument,
            "send the request body as `Content-Type: application/json`",
        )
        .with_http_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        _ => ApiError::new(Code::InvalidArgument, rejection.body_text()),
    }
}
